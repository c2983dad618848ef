#include "policy/schedule.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_schedule {

namespace {

// 2024-01-15T12:00:00Z, a Monday.
constexpr policy::Millis k_mon_noon = 1'705'320'000'000;
constexpr policy::Millis k_hour = 3'600'000;
constexpr policy::Millis k_day = 24 * k_hour;

} // namespace

TEST_CASE("cron expressions match minutes in their time zone", "[schedule]")
{
  struct Row
  {
    const char* cron;
    const char* tz;
    policy::Millis utc;
    bool match;
  };
  const std::vector<Row> rows{
    {"0 12 * * *", "UTC", k_mon_noon, true},
    {"0 12 * * *", "UTC", k_mon_noon + 60'000, false},
    {"0 13 * * *", "+01:00", k_mon_noon, true},
    {"30 17 * * *", "+0530", k_mon_noon, true},
    {"0 7 * * 1", "-05:00", k_mon_noon, true},
    {"0 7 * * 2-5", "-05:00", k_mon_noon, false},
    {"*/15 * * * *", "UTC", k_mon_noon + 45 * 60'000, true},
    {"*/15 * * * *", "UTC", k_mon_noon + 50 * 60'000, false},
    {"0 12 15 * *", "UTC", k_mon_noon, true},
    {"0 12 1 * 1", "UTC", k_mon_noon, true},  // either day field matches (Vixie cron)
    {"0 12 1 * 0", "UTC", k_mon_noon, false},
    {"0 12 * 1 7", "UTC", k_mon_noon - k_day, true},  // 7 is Sunday
    {"0 13 * * *", "CET-1CEST,M3.5.0,M10.5.0/3", k_mon_noon, true},
    {"0 14 * * *", "CET-1CEST,M3.5.0,M10.5.0/3", k_mon_noon + 182 * k_day, true},  // July
  };
  for (const auto& r : rows) {
    INFO(r.cron << " " << r.tz << " " << r.utc);
    CHECK(policy::cron_matches(r.cron, r.tz, r.utc) == r.match);
  }
}

TEST_CASE("POSIX TZ rules switch at the documented instants", "[schedule]")
{
  const char* cet = "CET-1CEST,M3.5.0,M10.5.0/3";
  // 2024: summer time from 31 March 01:00Z to 27 October 01:00Z.
  const policy::Millis spring = 1'711'846'800'000;  // 2024-03-31T01:00:00Z
  const policy::Millis autumn = 1'729'990'800'000;  // 2024-10-27T01:00:00Z
  CHECK(policy::utc_offset_s(cet, spring - 1000) == 3600);
  CHECK(policy::utc_offset_s(cet, spring) == 7200);
  CHECK(policy::utc_offset_s(cet, autumn - 1000) == 7200);
  CHECK(policy::utc_offset_s(cet, autumn) == 3600);
  // Southern hemisphere: AEST-10AEDT,M10.1.0,M4.1.0/3 is in summer time in January.
  CHECK(policy::utc_offset_s("AEST-10AEDT,M10.1.0,M4.1.0/3", k_mon_noon) == 11 * 3600);
  CHECK(policy::utc_offset_s("AEST-10AEDT,M10.1.0,M4.1.0/3", k_mon_noon + 182 * k_day)
        == 10 * 3600);
  CHECK(policy::utc_offset_s("<+03>-3", k_mon_noon) == 3 * 3600);
}

TEST_CASE("bad cron expressions and zones are usage errors", "[schedule]")
{
  for (const char* cron : {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *",
                           "* * 0 * *", "* * * 13 *", "* * * * 8", "5-1 * * * *", "*/0 * * * *",
                           "a * * * *"}) {
    INFO(cron);
    const auto r = policy::validate_cron(cron);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == core::ErrorKind::usage);
  }
  for (const char* tz : {"Europe/Paris", "+25:00", "CET-1CEST", "CET-1CEST,J60,J300", "X1"}) {
    INFO(tz);
    CHECK_FALSE(policy::validate_tz(tz));
  }
  for (const char* tz : {"UTC", "+02:00", "-0330", "EST5", "CET-1CEST,M3.5.0,M10.5.0/3"}) {
    INFO(tz);
    CHECK(policy::validate_tz(tz));
  }
}

TEST_CASE("the latest schedule entry to fire sets the bounds", "[schedule]")
{
  policy::PolicyConfig c;
  c.min_size = 1;
  c.max_size = 10;
  c.schedule.push_back(policy::ScheduleEntry{"0 8 * * 1-5", "UTC", 4, 20});
  c.schedule.push_back(policy::ScheduleEntry{"0 18 * * *", "UTC", 1, 10});
  auto b = policy::bounds_at(c, k_mon_noon);
  CHECK(b.min_size == 4);
  CHECK(b.max_size == 20);
  REQUIRE(b.entry == &c.schedule[0]);
  CHECK(b.since == k_mon_noon - 4 * k_hour);
  b = policy::bounds_at(c, k_mon_noon + 7 * k_hour);
  CHECK(b.min_size == 1);
  CHECK(b.entry == &c.schedule[1]);
  c.schedule.clear();
  b = policy::bounds_at(c, k_mon_noon);
  CHECK(b.min_size == 1);
  CHECK(b.entry == nullptr);
}

} // namespace unit_test_schedule
