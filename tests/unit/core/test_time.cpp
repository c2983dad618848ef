#include "core/time.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <ctime>
#include <limits>

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
