#include "core/time.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <ctime>
#include <limits>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_time {

TEST_CASE("civil_from_seconds agrees with gmtime_r from 1901 to 2200", "[core][time]")
{
  // An odd step, so that every hour, minute, weekday and month day comes up.
  const std::int64_t step = 7 * 86'400 + 3'601 + 17 * 60;
  for (std::int64_t s = -2'100'000'000; s < 7'260'000'000; s += step) {
    const auto t = static_cast<std::time_t>(s);
    std::tm tm{};
    REQUIRE(gmtime_r(&t, &tm));
    const auto c = core::civil_from_seconds(s);
    INFO(s);
    REQUIRE(c.year == tm.tm_year + 1900);
    REQUIRE(c.month == tm.tm_mon + 1);
    REQUIRE(c.day == tm.tm_mday);
    REQUIRE(c.weekday == tm.tm_wday);
    REQUIRE(c.hour == tm.tm_hour);
    REQUIRE(c.minute == tm.tm_min);
    REQUIRE(c.second == tm.tm_sec);
    REQUIRE(core::days_from_civil(c.year, c.month, c.day) * 86'400 + c.hour * 3600
              + c.minute * 60 + c.second
            == s);
  }
}

TEST_CASE("days_in_month knows leap years", "[core][time]")
{
  CHECK(core::days_in_month(2024, 2) == 29);
  CHECK(core::days_in_month(2026, 2) == 28);
  CHECK(core::days_in_month(2000, 2) == 29);
  CHECK(core::days_in_month(1900, 2) == 28);
  CHECK(core::days_in_month(2026, 4) == 30);
  CHECK(core::days_in_month(2026, 12) == 31);
}

TEST_CASE("iso8601_utc formats to the second", "[core][time]")
{
  CHECK(core::iso8601_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(core::iso8601_utc(1'764'224'349'999) == "2025-11-27T06:19:09Z");
  CHECK(core::days_from_civil(1970, 1, 1) == 0);
  CHECK(core::civil_from_seconds(-1).year == 1969);
}

TEST_CASE("epoch_seconds_to_ms keeps ms and refuses times no clock shows", "[core][time]")
{
  CHECK(core::epoch_seconds_to_ms(1795714078.21) == 1'795'714'078'210);
  CHECK(core::epoch_seconds_to_ms(0) == 0);
  CHECK(core::epoch_seconds_to_ms(double(core::k_last_epoch_second))
        == core::k_last_epoch_second * 1000);
  // Hostile values: none reaches an integer conversion.
  CHECK_FALSE(core::epoch_seconds_to_ms(-1));
  CHECK_FALSE(core::epoch_seconds_to_ms(double(core::k_last_epoch_second) + 1));
  CHECK_FALSE(core::epoch_seconds_to_ms(1e300));
  CHECK_FALSE(core::epoch_seconds_to_ms(std::numeric_limits<double>::quiet_NaN()));
  CHECK_FALSE(core::epoch_seconds_to_ms(std::numeric_limits<double>::infinity()));
  CHECK_FALSE(core::epoch_seconds_to_ms(-std::numeric_limits<double>::infinity()));
}

TEST_CASE("parse_iso8601 reads dates, times and offsets and refuses anything else",
          "[core][time]")
{
  const std::int64_t t = 1'764'230'400'000;  // 2025-11-27T08:00:00Z
  CHECK(core::parse_iso8601("2025-11-27T08:00:00Z") == t);
  CHECK(core::parse_iso8601("2025-11-27T08:00Z") == t);
  CHECK(core::parse_iso8601("2025-11-27 08:00") == t);
  CHECK(core::parse_iso8601("2025-11-27T08:00:30") == t + 30'000);
  CHECK(core::parse_iso8601("2025-11-27T09:30:00+01:30") == t);
  CHECK(core::parse_iso8601("2025-11-27T07:00:00-0100") == t);
  CHECK(core::parse_iso8601("2025-11-27") == t - 8 * 3'600'000);
  CHECK(core::parse_iso8601("1970-01-01T00:00:00Z") == 0);
  CHECK(core::parse_iso8601("2024-02-29") == 1'709'164'800'000);
  for (const char* bad :
       {"", "2025", "2025-11", "2025-11-27T", "2025-11-27T8:00", "2025-11-27T08:00:0",
        "2025-11-27X08:00", "2025-11-27T08:00:00ZZ", "2025-11-27T08:00+1", "2025-11-27T08:00+24:00",
        "2025-11-27T08:00+01:60", "2025-13-01", "2025-00-10", "2025-02-29", "2025-02-30",
        "2025-04-31", "2025-11-27T24:00", "2025-11-27T23:60", "2025-11-27T23:59:60",
        "1969-12-31T23:59:59Z", "1970-01-01T00:30+01:00", "99999-01-01", "+2025-11-27",
        "2025-11-27T08:00:00 Z", "2025-11-27\n", "now"}) {
    INFO(bad);
    CHECK_FALSE(core::parse_iso8601(bad));
  }
}

} // namespace unit_test_time
