#include "core/operating.hpp"

#include "core/enum_names.hpp"

namespace core {

namespace {

constexpr EnumNames<Operating, 6> k_names = {{
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
  return name_of(k_names, o);
}

std::optional<Operating> parse_operating(std::string_view name)
{
  return value_of(k_names, name);
}

} // namespace core
