// The role of an instance in its cluster, shared by the state file and every driver.
#pragma once

#include <optional>
#include <string_view>

namespace core {

enum class Role { lb, web };

// Return the role's name as stored, tagged and shown ("lb", "web").
const char* to_string(Role r);
// Return the role named `name`, or nothing: a tag or a row with another role is not sclman's.
std::optional<Role> parse_role(std::string_view name);

} // namespace core
