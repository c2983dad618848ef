// Result<T>: tl::expected (Debian's libexpected-dev) carrying core::Error.
#pragma once

#include "core/error.hpp"

#include <tl/expected.hpp>

namespace core {

template <class T> using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorKind kind, std::string message, std::string service = {})
{
  return tl::make_unexpected(make_error(kind, std::move(message), std::move(service)));
}

inline tl::unexpected<Error> fail(Error error)
{
  return tl::make_unexpected(std::move(error));
}

} // namespace core

#define SCLMAN_CONCAT_(a, b) a##b
#define SCLMAN_CONCAT(a, b) SCLMAN_CONCAT_(a, b)

// Return the error of `expr` from the enclosing function (ccache's TRY).
#define TRY(expr)                                                                                  \
  do {                                                                                             \
    auto&& try_result_ = (expr);                                                                   \
    if (!try_result_) {                                                                            \
      return tl::make_unexpected(std::move(try_result_).error());                                  \
    }                                                                                              \
  } while (false)

#define TRY_ASSIGN_IMPL_(tmp, lhs, expr)                                                           \
  auto tmp = (expr);                                                                               \
  if (!tmp) {                                                                                      \
    return tl::make_unexpected(std::move(tmp).error());                                            \
  }                                                                                                \
  lhs = std::move(*tmp)

// Declare or assign `lhs` from the value of `expr`, or return its error.
#define TRY_ASSIGN(lhs, expr) TRY_ASSIGN_IMPL_(SCLMAN_CONCAT(try_tmp_, __LINE__), lhs, expr)
