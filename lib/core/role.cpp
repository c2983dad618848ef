#include "core/role.hpp"

namespace core {

const char* to_string(Role r)
{
  return r == Role::lb ? "lb" : "web";
}

std::optional<Role> parse_role(std::string_view name)
{
  if (name == "lb") {
    return Role::lb;
  }
  if (name == "web") {
    return Role::web;
  }
  return std::nullopt;
}

} // namespace core
