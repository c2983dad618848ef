// Validation of names that end up in LB config, file paths and cloud resource names.
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// Return nothing if `name` matches ^[a-z][a-z0-9-]{0,30}$, else a usage error naming it.
Result<void> validate_cluster_name(std::string_view name);

// Return nothing if `name` is an instance name as instance_name() makes them: a valid cluster
// name, "-lb-" or "-web-", and a serial from 1 without leading zeros; else a usage error naming
// it. Safe as one path component (no '/', '.', blank or control character).
Result<void> validate_instance_name(std::string_view name);

// Return nothing if `id` is a cloud object id as sclman keeps them (1 to 64 of [0-9A-Za-z-]:
// a cloud's UUIDs), else a usage error quoting it escaped.
Result<void> validate_object_id(std::string_view id);

// Return the deterministic name of instance number `serial` of `role` in `cluster`
// ("shop-web-3", "shop-lb-1").
std::string instance_name(std::string_view cluster, std::string_view role, long serial);

// The most availability zones a cluster spreads over.
inline constexpr std::size_t k_max_zones = 16;

// Parse a comma-separated list of availability zone names ("az-1, az-2"; blanks around names
// are dropped; "" is no zone): each 1 to 255 printable ASCII characters without a comma, no
// name twice, at most k_max_zones. A usage error names what is wrong.
Result<std::vector<std::string>> parse_zone_list(std::string_view list);

// Return `zones` as parse_zone_list reads them back ("az-1,az-2").
std::string zone_list_text(const std::vector<std::string>& zones);

// Return a duration as people read it in a table: "42s", "17m", "5h", "3d".
std::string human_age(std::int64_t ms);

} // namespace core
