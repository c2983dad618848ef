// Validation of names that end up in LB config, file paths and cloud resource names.
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

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

// Return a duration as people read it in a table: "42s", "17m", "5h", "3d".
std::string human_age(std::int64_t ms);

} // namespace core
