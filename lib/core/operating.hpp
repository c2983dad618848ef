// How a balancer sees a member it forwards to (its operating status), shared by the balancers
// that report one (Octavia's health monitor), the state file and `status`.
#pragma once

#include <optional>
#include <string_view>

namespace core {

enum class Operating { online, offline, degraded, error, no_monitor, draining };

// Return the status's name as the balancer says it and the state file stores it ("ONLINE",
// "NO_MONITOR").
const char* to_string(Operating o);
// Return the status named `name`, or nothing for any other text.
std::optional<Operating> parse_operating(std::string_view name);

} // namespace core
