// Calendar arithmetic on UTC times (ms or seconds since the epoch), with C++20 <chrono>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// A UTC time split into its calendar fields.
struct CivilTime
{
  std::int64_t year = 1970;
  int month = 1;    // 1-12
  int day = 1;      // 1-31
  int weekday = 4;  // 0 = Sunday
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// Return the calendar fields of `seconds` since the epoch (a negative time counts backwards).
CivilTime civil_from_seconds(std::int64_t seconds);

// Return the days since 1970-01-01 of the civil date y-m-d.
std::int64_t days_from_civil(std::int64_t y, int m, int d);

// Return the number of days of month `m` (1-12) of year `y`.
int days_in_month(std::int64_t y, int m);

// Return a time (ms since the epoch) in UTC as ISO 8601 to the second: "2026-11-27T06:19:09Z".
std::string iso8601_utc(std::int64_t ms);

// The latest time a source may stamp a sample with: 9999-12-31T23:59:59Z, in seconds.
inline constexpr std::int64_t k_last_epoch_second = 253'402'300'799;

// Return a time a source gives in seconds since the epoch (fractions are kept to the ms) as ms,
// or nothing when it is no such time: not finite, before 1970-01-01, or after
// k_last_epoch_second (converting 1e300 as is would overflow).
std::optional<std::int64_t> epoch_seconds_to_ms(double seconds);

// Return the ms since the epoch of an ISO-8601 time from 1970 on: 2026-11-27, 2026-11-27T08:00,
// 2026-11-27T08:00:30 (a space for the T too), then Z, +HH:MM, -HHMM or nothing (UTC); nothing
// for any other text or a day the month does not have.
std::optional<std::int64_t> parse_iso8601(std::string_view text);

} // namespace core
