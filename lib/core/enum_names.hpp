// An enum's names as one table: to_string and parse read the same rows, so they cannot drift.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace core {

template <typename E, std::size_t N>
using EnumNames = std::array<std::pair<E, const char*>, N>;

// Return the name of `v` in `names`, "?" if it has none.
template <typename E, std::size_t N>
constexpr const char* name_of(const EnumNames<E, N>& names, E v)
{
  for (const auto& [value, name] : names) {
    if (value == v) {
      return name;
    }
  }
  return "?";
}

// Return the value named exactly `text` in `names`, or nothing.
template <typename E, std::size_t N>
constexpr std::optional<E> value_of(const EnumNames<E, N>& names, std::string_view text)
{
  for (const auto& [value, name] : names) {
    if (text == name) {
      return value;
    }
  }
  return std::nullopt;
}

} // namespace core
