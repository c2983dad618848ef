// Scheduled min/max changes: cron expressions evaluated in a time zone, without I/O (the zone is
// a fixed offset or a POSIX TZ rule, so no tz database is read).
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"
#include "policy/policy.hpp"

#include <string_view>

namespace policy {

// The size bounds in force at some time, and the schedule entry that set them (if any).
struct Bounds
{
  int min_size = 1;
  int max_size = 10;
  const ScheduleEntry* entry = nullptr;
  Millis since = 0;  // when `entry` last fired
};

// Return nothing if `cron` is a valid five-field cron expression, else a usage error.
core::Result<void> validate_cron(std::string_view cron);

// Return nothing if `tz` is "UTC", a fixed offset ("+02:00", "-0530") or a POSIX TZ rule
// ("CET-1CEST,M3.5.0,M10.5.0/3"), else a usage error.
core::Result<void> validate_tz(std::string_view tz);

// Return the offset of local time from UTC in seconds in zone `tz` at `utc` (0 if invalid).
int utc_offset_s(std::string_view tz, Millis utc);

// Return true if the minute starting at `utc` matches `cron` in zone `tz`.
bool cron_matches(std::string_view cron, std::string_view tz, Millis utc);

// Return the bounds in force at `now`: those of the schedule entry that fired last within the
// past eight days, else the config's min and max.
Bounds bounds_at(const PolicyConfig& config, Millis now);

// Return the widest bounds `config` can ever put in force: the lowest min and the highest max of
// the config and its schedule entries. A desired size outside them cannot have come from the
// policy.
Bounds size_range(const PolicyConfig& config);

// Return nothing if no bound of `config` (its max, any schedule entry's) is above `ceiling`
// ([MANAGER] man_max_instances), else a usage error naming the bound.
core::Result<void> check_ceiling(const PolicyConfig& config, int ceiling);

} // namespace policy
