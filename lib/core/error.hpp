// The one error type of sclman: a kind that maps to an exit code, and a message.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace core {

enum class ErrorKind {
  usage,
  config,
  state,
  upstream_transient,
  upstream_auth,
  upstream_rejected,
  busy,
  internal,
};

struct Error
{
  ErrorKind kind = ErrorKind::internal;
  // Lowercase, failure first, subject in quotes, no final full stop.
  std::string message;
  // The service that failed (as its driver names it), empty for local errors.
  std::string service;
  int http_status = 0;
  std::optional<std::chrono::seconds> retry_after;
};

// Return the name of `kind` as used in logs and JSON ("upstream_transient").
const char* to_string(ErrorKind kind);

inline Error make_error(ErrorKind kind, std::string message, std::string service = {})
{
  return Error{kind, std::move(message), std::move(service), 0, std::nullopt};
}

} // namespace core
