#include "core/operating.hpp"

#include <array>
#include <utility>

namespace core {

namespace {

constexpr std::array<std::pair<Operating, const char*>, 6> k_names = {{
  {Operating::online, "ONLINE"},
  {Operating::offline, "OFFLINE"},
  {Operating::degraded, "DEGRADED"},
  {Operating::error, "ERROR"},
  {Operating::no_monitor, "NO_MONITOR"},
  {Operating::draining, "DRAINING"},
}};

} // namespace

const char* to_string(Operating o)
{
  for (const auto& [v, name] : k_names) {
    if (v == o) {
      return name;
    }
  }
  return "?";
}

std::optional<Operating> parse_operating(std::string_view name)
{
  for (const auto& [v, text] : k_names) {
    if (name == text) {
      return v;
    }
  }
  return std::nullopt;
}

} // namespace core
