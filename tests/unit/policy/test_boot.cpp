// The boot time of a cluster's instances and the predictive horizon it sets.
#include "policy/simulate.hpp"

#include "policy_test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_boot {

using policy_test::history;
using policy_test::input;
using policy_test::k_now;

namespace {

constexpr policy::Millis k_s = 1000;

} // namespace

TEST_CASE("the boot time is the prior until five instances were measured", "[policy]")
{
  const auto none = policy::estimate_boot_time({}, 300);
  CHECK(none.seconds == 300);
  CHECK(none.source == "prior");
  CHECK(none.samples == 0);
  const auto four = policy::estimate_boot_time({10 * k_s, 20 * k_s, 30 * k_s, 40 * k_s}, 300);
  CHECK(four.seconds == 300);
  CHECK(four.source == "prior");
  CHECK(four.samples == 4);
  CHECK(four.detail == "man_boot_timeout 300 s: 4 of the 5 instances needed measured");
  const auto five = policy::estimate_boot_time({10 * k_s, 20 * k_s, 30 * k_s, 40 * k_s, 50 * k_s},
                                               300);
  CHECK(five.source == "measured");
  CHECK(five.samples == 5);
  // The 90th percentile of five by nearest rank is the longest.
  CHECK(five.seconds == 50);
  CHECK(five.detail == "p90 of the last 5 instances' launch to in service");
}

TEST_CASE("the boot time is the 90th percentile of the newest twenty, rounded up", "[policy]")
{
  std::vector<policy::Millis> d;
  // Newest first: twenty of 1..20 s (plus 1 ms), then old slow boots that no longer count.
  for (int k = 1; k <= 20; ++k) {
    d.push_back(k * k_s + 1);
  }
  for (int k = 0; k < 10; ++k) {
    d.push_back(900 * k_s);
  }
  const auto b = policy::estimate_boot_time(d, 300);
  CHECK(b.samples == 20);
  // Rank ceil(0.9 * 20) = 18: 18.001 s, rounded up.
  CHECK(b.seconds == 19);
}

TEST_CASE("boot times that cannot be true are left out", "[policy]")
{
  // A clock step makes in service come before the launch, or a day after it.
  const std::vector<policy::Millis> d = {
    0, -5 * k_s, 86'400'001, std::numeric_limits<policy::Millis>::min(),
    std::numeric_limits<policy::Millis>::max(), 40 * k_s, 40 * k_s, 40 * k_s, 40 * k_s};
  const auto b = policy::estimate_boot_time(d, 300);
  CHECK(b.samples == 4);
  CHECK(b.source == "prior");
  CHECK(b.seconds == 300);
  auto with_one_more = d;
  with_one_more.push_back(45 * k_s);
  CHECK(policy::estimate_boot_time(with_one_more, 300).seconds == 45);
}

TEST_CASE("a predictive horizon left at 0 covers the boot time and one poll", "[policy]")
{
  auto c = *policy::preset("predictive");
  CHECK(c.horizon_s == 0);
  // Unresolved, it assumes the old default: 180 s of boot and a poll.
  CHECK(policy::horizon_s(c) == 240);
  policy::BootTime boot{245, "measured", 12, "", 60};
  CHECK(policy::with_boot_time(c, boot).horizon_s == 305);
  boot.poll_s = 15;
  CHECK(policy::with_boot_time(c, boot).horizon_s == 260);
  // Never below 240 s: a 45 s boot and a poll would be 105.
  boot = {45, "measured", 12, "", 60};
  CHECK(policy::with_boot_time(c, boot).horizon_s == 240);
  // The policy's own horizon stays, and other rules are untouched.
  c.horizon_s = 600;
  CHECK(policy::with_boot_time(c, boot).horizon_s == 600);
  auto hpa = *policy::preset("hpa");
  CHECK(policy::with_boot_time(hpa, boot).horizon_s == 0);
}

TEST_CASE("decide covers the history's boot time and why says where it came from", "[policy]")
{
  // Two hours of calm polls: the predictive rule has enough to forecast.
  std::vector<std::optional<double>> values(120, 40.0);
  auto h = history(2, values);
  auto c = *policy::preset("predictive");
  h.boot = policy::BootTime{300, "prior", 2, "man_boot_timeout 300 s: 2 of the 5 instances "
                                             "needed measured", 60};
  const auto d = policy::decide(h, c, k_now);
  CHECK(d.why.horizon_s == 360);
  REQUIRE(d.why.boot);
  CHECK(d.why.boot->source == "prior");
  CHECK(input(d, "horizon_s") == 360);
  const std::string line = "horizon: 360 s: boot time 300 s (prior: man_boot_timeout 300 s: 2 "
                           "of the 5 instances needed measured) + one poll (60 s), at least 240 s";
  CHECK_THAT(policy::explain_text(d), Catch::Contains(line));
  // Stored and read back for `why`.
  const auto back = policy::decision_from_json(policy::decision_json(d));
  REQUIRE(back);
  CHECK(back->why.horizon_s == 360);
  REQUIRE(back->why.boot);
  CHECK(back->why.boot->seconds == 300);
  CHECK_THAT(policy::explain_text(*back), Catch::Contains(line));

  SECTION("the policy's own horizon is said to be its own")
  {
    c.horizon_s = 900;
    const auto own = policy::decide(h, c, k_now);
    CHECK(own.why.horizon_s == 900);
    CHECK_FALSE(own.why.boot);
    CHECK_THAT(policy::explain_text(own), Catch::Contains("horizon: 900 s (the policy's horizon)"));
  }
  SECTION("other rules have no horizon")
  {
    const auto t = policy::decide(h, *policy::preset("hpa"), k_now);
    CHECK(t.why.horizon_s == 0);
    CHECK_THAT(policy::explain_text(t), !Catch::Contains("horizon"));
  }
}

TEST_CASE("simulate sets the predictive horizon from --boot-delay and one tick", "[simulate]")
{
  // Ramps that come back every 3 hours: how far ahead the rule looks changes when it scales.
  std::vector<double> rates;
  for (int k = 0; k < 24 * 60; ++k) {
    const double phase = std::fmod(k, 180.0);
    rates.push_back(200 + (phase < 30 ? 60 * phase : phase < 60 ? 1800 : 200));
  }
  policy::SimOptions o;
  o.capacity = 100;
  o.boot_delay_s = 300;
  const auto predictive = *policy::preset("predictive");
  auto explicit_horizon = [&](int s) {
    auto c = predictive;
    c.horizon_s = s;
    return *policy::simulate(rates, c, o, "p");
  };
  const auto from_boot = *policy::simulate(rates, predictive, o, "p");
  const auto h360 = explicit_horizon(360);
  const auto h240 = explicit_horizon(240);
  CHECK(from_boot.supply == h360.supply);
  CHECK(from_boot.billed == h360.billed);
  // The old fixed horizon (240 s) scales differently on this trace.
  CHECK(h240.supply != h360.supply);
}

} // namespace unit_test_boot
