#include "policy/policy.hpp"

#include "policy_test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_policy {

using namespace policy_test;
using policy::Action;

namespace {

policy::PolicyConfig make(const char* name)
{
  auto c = policy::preset(name);
  REQUIRE(c);
  return *c;
}

struct Row
{
  const char* what;
  int desired;
  std::vector<std::optional<double>> values;
  Action action;
  int to;
  const char* reason;
};

void check_table(const policy::PolicyConfig& config, const std::vector<Row>& rows)
{
  for (const auto& r : rows) {
    INFO(r.what);
    const auto d = policy::decide(history(r.desired, r.values), config, k_now);
    CHECK(d.action == r.action);
    CHECK(d.from == r.desired);
    CHECK(d.to == r.to);
    CHECK(d.reason == r.reason);
  }
}

} // namespace

// ---- threshold ----

TEST_CASE("threshold scales by one after sensitivity polls beyond a mark", "[policy]")
{
  auto c = make("threshold");  // sensitivity 3, high 50, low 10
  c.max_size = 5;
  check_table(c,
              {
                {"three high polls", 2, {60, 70, 80}, Action::scale_out, 3, "load_above_high"},
                {"two high polls are not enough", 2, {20, 70, 80}, Action::hold, 2,
                 "load_within_band"},
                {"three low polls", 3, {5, 1, 0}, Action::scale_in, 2, "load_below_low"},
                {"too few polls", 2, {90, 90}, Action::hold, 2, "insufficient_history"},
                {"a missing poll", 2, {90, std::nullopt, 90}, Action::hold, 2,
                 "missing_samples"},
                {"at max", 5, {90, 90, 90}, Action::hold, 5, "at_max"},
                {"at min", 1, {1, 1, 1}, Action::hold, 1, "at_min"},
                {"below min is corrected first", 0, {}, Action::scale_out, 1, "below_min"},
                {"above max is corrected first", 7, {}, Action::scale_in, 5, "above_max"},
              });
}

TEST_CASE("threshold counts only polls since the last action and honours the cooldown",
          "[policy]")
{
  auto c = make("threshold");
  auto h = history(2, {90, 90, 90, 90});
  SECTION("in cooldown")
  {
    h.actions.push_back(policy::PastAction{k_now - 60'000, 1, 2});
    const auto d = policy::decide(h, c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "cooldown");
  }
  SECTION("after the cooldown, polls before the action do not count")
  {
    h.actions.push_back(policy::PastAction{k_now - 100'000, 1, 2});
    c.cooldown_s = 60;
    const auto d = policy::decide(h, c, k_now);
    CHECK(d.reason == "insufficient_history");
  }
}

// ---- step ----

TEST_CASE("step applies the band that holds the breach", "[policy]")
{
  auto c = make("step");
  c.max_size = 100;
  c.cooldown_s = 0;
  c.sensitivity = 2;
  c.high = 60;
  c.low = 20;
  c.steps_out = {{0.0, 20.0, 1}, {20.0, std::nullopt, 3}};
  c.steps_in = {{-10.0, 0.0, -1}, {std::nullopt, -10.0, -2}};
  check_table(c, {
                   {"small breach", 4, {70, 70}, Action::scale_out, 5, "load_above_high"},
                   {"lower bound is inclusive above", 4, {80, 80}, Action::scale_out, 7,
                    "load_above_high"},
                   {"large breach", 4, {70, 95}, Action::scale_out, 7, "load_above_high"},
                   {"one poll is not an alarm", 4, {50, 95}, Action::hold, 4,
                    "load_within_band"},
                   {"small drop", 4, {15, 15}, Action::scale_in, 3, "load_below_low"},
                   {"upper bound is inclusive below", 4, {10, 10}, Action::scale_in, 2,
                    "load_below_low"},
                   {"large drop", 4, {5, 5}, Action::scale_in, 2, "load_below_low"},
                 });
}

TEST_CASE("step percent adjustments round as AWS does", "[policy]")
{
  auto c = make("step");
  c.max_size = 100;
  c.cooldown_s = 0;
  c.sensitivity = 1;
  c.adjustment = "percent";
  c.steps_out = {{0.0, std::nullopt, 50}};
  c.steps_in = {{std::nullopt, 0.0, -30}};
  check_table(c, {
                   {"50 % of 10 is 5", 10, {90}, Action::scale_out, 15, "load_above_high"},
                   {"50 % of 5 is 2.5, truncated", 5, {90}, Action::scale_out, 7,
                    "load_above_high"},
                   {"50 % of 1 is 0.5, at least 1", 1, {90}, Action::scale_out, 2,
                    "load_above_high"},
                   {"-30 % of 10 is -3", 10, {1}, Action::scale_in, 7, "load_below_low"},
                 });
  c.min_adjustment = 4;
  check_table(c, {{"minimum magnitude", 5, {90}, Action::scale_out, 9, "load_above_high"}});
  c.adjustment = "exact";
  c.steps_out = {{0.0, std::nullopt, 12}};
  check_table(c, {{"exact capacity", 5, {90}, Action::scale_out, 12, "load_above_high"}});
}

// ---- target (HPA) ----

TEST_CASE("target follows the HPA examples of the Kubernetes documentation", "[policy]")
{
  auto c = make("hpa");
  c.max_size = 100;
  c.target = 100;
  c.down_stabilization_s = 0;
  // desiredReplicas = ceil[currentReplicas * (currentMetricValue / desiredMetricValue)]
  check_table(c, {
                   {"200m against 100m doubles", 4, {200}, Action::scale_out, 8,
                    "metric_above_target"},
                   {"50m against 100m halves", 4, {50}, Action::scale_in, 2,
                    "metric_below_target"},
                   {"ratio 1.05 is within the 0.1 tolerance", 4, {105}, Action::hold, 4,
                    "within_tolerance"},
                   {"ratio 0.91 is within the 0.1 tolerance", 4, {91}, Action::hold, 4,
                    "within_tolerance"},
                   {"ratio 1.2 on 3 replicas", 3, {120}, Action::scale_out, 4,
                    "metric_above_target"},
                   {"single instance", 1, {250}, Action::scale_out, 3, "metric_above_target"},
                   {"zero load goes to min", 4, {0}, Action::scale_in, 1, "metric_below_target"},
                 });
}

TEST_CASE("target limits scale-up to max(100 %, 4 pods) per period by default", "[policy]")
{
  // The HPA walkthrough: 1 replica at 305 % against a 50 % target recommends 7 replicas; the
  // default behaviour lets one period add at most max(1 * 2, 1 + 4) = 5.
  auto c = make("hpa");
  c.max_size = 100;
  c.target = 50;
  const auto d = policy::decide(history(1, {305}), c, k_now);
  CHECK(input(d, "recommendation") == 7);
  CHECK(d.to == 5);
  CHECK(clamped(d, "rate_limit"));
  SECTION("additions earlier in the period count against the limit")
  {
    c.limit_period_s = 600;
    auto h = history(5, {305});
    h.actions.push_back(policy::PastAction{k_now - 120'000, 1, 5});
    const auto d2 = policy::decide(h, c, k_now);
    CHECK(d2.to == 5);
    CHECK(d2.reason == "rate_limit");
  }
}

TEST_CASE("target keeps the highest recommendation of the scale-down window", "[policy]")
{
  auto c = make("hpa");  // 300 s down stabilization
  c.max_size = 100;
  c.target = 100;
  SECTION("a busy poll two minutes ago holds the size")
  {
    const auto d = policy::decide(history(4, {100, 100, 100, 30}), c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "stabilization");
    CHECK(clamped(d, "stabilization"));
  }
  SECTION("the window takes the highest, not the newest")
  {
    const auto d = policy::decide(history(4, {20, 75, 50, 30}), c, k_now);
    CHECK(d.to == 3);  // ceil(4 * 0.75)
  }
  SECTION("polls older than the window do not count")
  {
    const auto d = policy::decide(history(4, {100, 100, 10, 10, 10, 10, 10, 10}), c, k_now);
    CHECK(d.to == 1);
  }
}

TEST_CASE("target tracking preset needs 3 polls above and 15 below", "[policy]")
{
  auto c = make("target-tracking");
  c.max_size = 100;
  check_table(c, {
                   {"three polls above", 2, {60, 60, 100}, Action::scale_out, 4,
                    "metric_above_target"},
                   {"two polls above", 2, {40, 60, 100}, Action::hold, 2,
                    "insufficient_datapoints"},
                   {"fourteen polls below", 4,
                    {50, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20},
                    Action::hold, 4, "insufficient_datapoints"},
                 });
  std::vector<std::optional<double>> low(15, 20.0);
  check_table(c, {{"fifteen polls below", 4, low, Action::scale_in, 2, "metric_below_target"}});
}

// ---- common rules ----

TEST_CASE("every policy holds on missing, stale or warming-up data", "[policy]")
{
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const char* name : {"threshold", "step", "hpa", "target-tracking", "predictive"}) {
    INFO(name);
    auto c = make(name);
    c.warmup_s = 300;
    auto d = policy::decide(history(3, {90, 90, std::nullopt}), c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "missing_samples");
    CHECK(d.why.dropped_missing == 3);

    d = policy::decide(history(3, {}), c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "stale_samples");

    d = policy::decide(history(3, {90, 90, 90}, k_now - 600'000), c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "stale_samples");
    CHECK(d.why.stale);

    auto warming = history(2, {90, 90, 90});
    for (auto& t : warming.ticks) {
      for (auto& s : t.samples) {
        s.in_service_since = k_now - 120'000;
      }
    }
    d = policy::decide(warming, c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "warming_up");
    CHECK(d.why.dropped_warmup == 2);

    // NaN and negative values are rejected as if missing.
    d = policy::decide(history(2, {nan, -5.0, -5.0}), c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "missing_samples");
  }
}

TEST_CASE("warm-up leaves young instances out of the metric", "[policy]")
{
  auto c = make("hpa");
  c.max_size = 100;
  c.target = 100;
  c.warmup_s = 300;
  auto h = history(4, {180});
  h.ticks.back().samples[3].value = 0.0;  // a new instance still idle
  h.ticks.back().samples[3].in_service_since = k_now - 60'000;
  const auto d = policy::decide(h, c, k_now);
  CHECK(d.why.samples_used == 3);
  CHECK(d.why.dropped_warmup == 1);
  CHECK(input(d, "metric") == Approx(180));
  CHECK(d.to == 6);  // ceil(3 * 180 / 100)
}

TEST_CASE("scale-in never happens on partly missing data, scale-out may", "[policy]")
{
  auto c = make("hpa");
  c.max_size = 100;
  c.target = 100;
  c.down_stabilization_s = 0;
  auto low = history(4, {10});
  low.ticks.back().samples[0].value.reset();
  auto d = policy::decide(low, c, k_now);
  CHECK(d.action == Action::hold);
  CHECK(d.reason == "missing_samples");
  CHECK(clamped(d, "missing_data"));
  c.up_limit_percent = 1000;
  auto high = history(4, {300});
  high.ticks.back().samples[0].value.reset();
  d = policy::decide(high, c, k_now);
  CHECK(d.action == Action::scale_out);
  CHECK(d.to == 9);  // ceil(3 * 300 / 100); the missing one counts as idle, as in HPA
}

TEST_CASE("cooldowns and the flap budget stop size changes", "[policy]")
{
  auto c = make("hpa");
  c.max_size = 100;
  c.target = 100;
  c.down_stabilization_s = 0;
  SECTION("scale-in cooldown")
  {
    c.scale_in_cooldown_s = 300;
    auto h = history(4, {10});
    h.actions.push_back(policy::PastAction{k_now - 120'000, 2, 4});
    const auto d = policy::decide(h, c, k_now);
    CHECK(d.reason == "cooldown");
    auto busy = history(4, {300});
    busy.actions = h.actions;
    CHECK(policy::decide(busy, c, k_now).action == Action::scale_out);
  }
  SECTION("flap budget")
  {
    c.flap_budget = 2;
    auto h = history(4, {300});
    h.actions.push_back(policy::PastAction{k_now - 3'000'000, 2, 3});
    h.actions.push_back(policy::PastAction{k_now - 1'000'000, 3, 4});
    auto d = policy::decide(h, c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "flap_budget");
    h.actions.front().ts = k_now - 3'700'000;  // out of the rolling hour
    d = policy::decide(h, c, k_now);
    CHECK(d.action == Action::scale_out);
  }
}

TEST_CASE("a schedule raises the bounds while it is in force", "[policy]")
{
  auto c = make("hpa");
  c.target = 100;
  c.max_size = 20;
  // At 08:00 +01:00 on weekdays min becomes 6; at 20:00 it goes back to 1.
  c.schedule.push_back(policy::ScheduleEntry{"0 8 * * 1-5", "+01:00", 6, 20});
  c.schedule.push_back(policy::ScheduleEntry{"0 20 * * *", "+01:00", 1, 20});
  REQUIRE(policy::validate(c));
  const policy::Millis wed_0800 = 1'700'035'200'000 - 3'600'000;  // Wed 2023-11-15T07:00Z
  auto d = policy::decide(history(2, {100}, wed_0800), c, wed_0800);
  CHECK(d.to == 6);
  CHECK(d.reason == "below_min");
  const policy::Millis wed_2100 = wed_0800 + 13 * 3'600'000;  // 20:00Z = 21:00 +01:00
  d = policy::decide(history(2, {100}, wed_2100), c, wed_2100);
  CHECK(d.action == Action::hold);
  CHECK(input(d, "min") == 1);
}

// ---- predictive ----

TEST_CASE("predictive reacts with a fixed margin until it has enough past forecasts", "[policy]")
{
  auto c = make("predictive");
  c.max_size = 100;
  const auto d = policy::decide(history(2, {150, 150, 150}), c, k_now);
  CHECK(d.why.rule == "reactive_fallback");
  CHECK(d.to == 5);  // 2 instances at 150 % = 3 instances of load, at 60 %
}

TEST_CASE("predictive's fallback scales in no lower than the highest load it has seen",
          "[policy]")
{
  // On/off traffic in a cluster's first minutes: a surge of 4.4 instances' worth (55 % on 8),
  // then seven calm minutes, longer than the 300 s hold. Shrinking to the calm would meet the
  // next surge short; the fallback holds the peak of its lookback.
  auto c = make("predictive");
  c.max_size = 100;
  const auto d = policy::decide(history(8, {0, 0, 55, 0, 0, 0, 0, 0, 0, 0}), c, k_now);
  CHECK(d.why.rule == "reactive_fallback");
  CHECK(d.to == 5);
  CHECK(input(d, "seen_peak") == Approx(4.4));
}

TEST_CASE("predictive boots capacity before a daily surge arrives", "[policy]")
{
  auto c = make("predictive");
  c.max_size = 100;
  c.seasons_s = {86400};
  c.lookback_s = 86400;  // yesterday's surge shows which forecaster saw it coming
  // Two days and a bit of one-minute polls: 2 instances of load, 8 from 12:00 to 13:00 each day.
  // Decide at 11:57 on the third day, three minutes before the surge.
  const policy::Millis day = 86'400'000;
  const policy::Millis start = k_now - 2 * day - 717 * k_minute;
  policy::History h;
  h.desired = 3;
  h.in_service = 3;
  for (policy::Millis ts = start; ts <= k_now; ts += k_minute) {
    const auto minute_of_day = ((ts - start) / k_minute) % 1440;
    const double load = minute_of_day >= 720 && minute_of_day < 780 ? 8.0 : 2.0;
    h.ticks.push_back(tick(ts, 3, load * 100 / 3));
  }
  const auto d = policy::decide(h, c, k_now);
  INFO(policy::explain_text(d));
  CHECK(d.action == Action::scale_out);
  CHECK(d.to >= 8);
  CHECK_THAT(d.why.rule, Catch::StartsWith("forecast_season_86400s"));
  SECTION("without the season, the memory of recurring surges sees it coming")
  {
    c.seasons_s = {};
    const auto recalled = policy::decide(h, c, k_now);
    CHECK(recalled.to >= 8);
    CHECK_THAT(recalled.why.rule, Catch::EndsWith("+recurrence"));
  }
}

namespace {

// Return a history of one-minute polls of 3 instances from `days` days and 717 minutes before
// k_now up to k_now (11:57 of the last day, counting days from the first poll): a load of 2
// instances, and 8 from minute 720 to 780 of each day for which `surge(day)` is true.
template <typename Surge>
policy::History surge_days(int days, Surge surge)
{
  const policy::Millis day = 86'400'000;
  const policy::Millis start = k_now - days * day - 717 * k_minute;
  policy::History h;
  h.desired = 3;
  h.in_service = 3;
  for (policy::Millis ts = start; ts <= k_now; ts += k_minute) {
    const auto minute = (ts - start) / k_minute;
    const bool on = surge(int(minute / 1440)) && minute % 1440 >= 720 && minute % 1440 < 780;
    h.ticks.push_back(tick(ts, 3, (on ? 8.0 : 2.0) * 100 / 3));
  }
  return h;
}

} // namespace

TEST_CASE("predictive remembers a surge that recurs at the same time of day", "[policy]")
{
  // No seasonal forecaster, a short lookback: only the memory of recurring surges knows that
  // 12:00 brings 4 times the load. Three minutes before it, it scales out to the surge.
  auto c = make("predictive");
  c.max_size = 100;
  c.seasons_s = {};
  c.lookback_s = 3600;
  const auto every_day = surge_days(3, [](int) { return true; });
  auto d = policy::decide(every_day, c, k_now);
  INFO(policy::explain_text(d));
  CHECK(d.action == Action::scale_out);
  CHECK(d.to >= 8);
  CHECK_THAT(d.why.rule, Catch::EndsWith("+recurrence"));
  CHECK(input(d, "recurrence_growth") == Approx(4.0));
  // why says what it saw on each day.
  const auto text = policy::explain_text(d);
  CHECK_THAT(text, Catch::Contains("forecast: recurrence: x4.00 from load 2.00 expected"));
  CHECK_THAT(text, Catch::Contains("1 d ago x4.00 (surge), 2 d ago x4.00 (surge), 3 d ago x4.00 "
                                   "(surge)"));

  SECTION("two of the last three days make a recurrence, one does not")
  {
    const auto two = surge_days(3, [](int day) { return day != 1; });
    d = policy::decide(two, c, k_now);
    CHECK(d.to >= 8);
    const auto one = surge_days(3, [](int day) { return day == 2; });
    d = policy::decide(one, c, k_now);
    INFO(policy::explain_text(d));
    CHECK(d.to < 8);
    CHECK(std::isnan(input(d, "recurrence_growth")));
    CHECK_THAT(policy::explain_text(d), Catch::Contains("forecast: recurrence: none"));
  }
  SECTION("a rise of less than one instance is no surge, however steep")
  {
    // 0.2 instances of load, 0.8 in the surge: x4, but not one instance more.
    auto small = every_day;
    for (auto& t : small.ticks) {
      for (auto& s : t.samples) {
        *s.value /= 10;
      }
    }
    d = policy::decide(small, c, k_now);
    CHECK(std::isnan(input(d, "recurrence_growth")));
  }
  SECTION("with no surge on any day, nothing changes")
  {
    const auto flat = surge_days(3, [](int) { return false; });
    d = policy::decide(flat, c, k_now);
    CHECK(std::isnan(input(d, "recurrence_growth")));
    CHECK_THAT(d.why.rule, !Catch::EndsWith("+recurrence"));
  }
}

TEST_CASE("predictive remembers a surge that recurs on the same day of the week", "[policy]")
{
  // A surge on day 0 and day 7 only (lags 14 and 7 days from day 14): not daily, but weekly.
  auto c = make("predictive");
  c.max_size = 100;
  c.seasons_s = {};
  c.lookback_s = 3600;
  auto d = policy::decide(surge_days(14, [](int day) { return day % 7 == 0; }), c, k_now);
  INFO(policy::explain_text(d));
  CHECK(d.to >= 8);
  CHECK_THAT(d.why.rule, Catch::EndsWith("+recurrence"));
  // In one of the two weeks only: no recurrence.
  d = policy::decide(surge_days(14, [](int day) { return day == 7; }), c, k_now);
  CHECK(d.to < 8);
}

TEST_CASE("predictive's margin rises at once after a miss and relaxes over hours", "[policy]")
{
  // Six hours of polls of 4 instances at 50 % of capacity; `misses` of them, at the given ages
  // in minutes, were over capacity (120 %). The quantile: quantile_low (0.6) with no miss;
  // quantile (0.95) once the age-weighted share of misses reaches under_budget (0.5 %); up to
  // 0.97 at four times the budget.
  auto c = make("predictive");
  c.max_size = 100;
  const auto quantile_with = [&](std::vector<int> ages) {
    std::vector<std::optional<double>> values(360, 50.0);
    for (int age : ages) {
      values[values.size() - 1 - size_t(age)] = 120.0;
    }
    const auto d = policy::decide(history(4, values), c, k_now);
    INFO(policy::explain_text(d));
    CHECK_THAT(policy::explain_text(d), Catch::Contains("forecast: margin: quantile"));
    return input(d, "quantile");
  };
  CHECK(quantile_with({}) == Approx(0.6));
  // One miss a minute ago: its weight is ~1 of ~152 (a half-life of 2 h): 0.65 %, past the
  // budget at once. (Counted over the 6 h lookback unweighted it was 0.28 %: quantile 0.79.)
  const double fresh = quantile_with({1});
  CHECK(fresh >= 0.95);
  // The same miss 4 h ago weighs a quarter: the quantile has come most of the way back down.
  const double old = quantile_with({240});
  CHECK(old > 0.6);
  CHECK(old < 0.75);
  // Misses in a row: past four times the budget it covers up to 0.97 of past errors.
  CHECK(quantile_with({1, 2, 3, 4, 5}) == Approx(0.97));
  CHECK(quantile_with({1, 2}) > fresh);
}


namespace {

// Return true if `a` and `b` are the same decision, input for input (NaN equal to NaN).
bool same_decision(const policy::Decision& a, const policy::Decision& b)
{
  if (a.to != b.to || a.reason != b.reason || a.why.rule != b.why.rule
      || a.why.rejected != b.why.rejected || a.inputs.size() != b.inputs.size()) {
    return false;
  }
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const auto& [na, va] = a.inputs[i];
    const auto& [nb, vb] = b.inputs[i];
    if (na != nb || !(va == vb || (std::isnan(va) && std::isnan(vb)))) {
      return false;
    }
  }
  return true;
}

} // namespace

TEST_CASE("predictive: a replay's memo gives decide's decision, input for input", "[policy]")
{
  // A replay keeps the model in the history's memo and feeds it the new polls; decide builds it
  // from the history. Over a day and a half of polls with an hourly season, missing samples, a
  // two-hour gap, half-minute polls and the oldest polls dropped as a replay drops them, every
  // decision of the one must be the other's.
  auto c = make("predictive");
  c.max_size = 1000;
  c.seasons_s = {3600, 7200};
  c.lookback_s = 5400;
  c.horizon_s = 300;
  policy::History h;
  h.memo = policy::make_memo();
  h.desired = 4;
  h.in_service = 4;
  policy::Millis ts = k_now;
  int checked = 0;
  int mismatched = 0;
  int forecasts = 0;
  for (int i = 0; i < 2200; ++i) {
    if (i == 1500) {
      ts += 120 * k_minute;  // nothing polled for two hours
    }
    ts += i % 97 < 10 ? k_minute / 2 : k_minute;
    const double phase = double(ts % 3'600'000) / 3'600'000;
    const double load = 3 + 2 * std::sin(6.283 * phase) + (i % 13 == 0 ? 4 : 0) + (i % 5) * 0.3;
    std::optional<double> value = load * 100 / h.desired;
    if (i % 41 == 0) {
      value.reset();
    }
    h.ticks.push_back(tick(ts, h.desired, value));
    if (h.ticks.front().ts < ts - policy::history_window(c) - 300 * k_minute) {
      h.ticks.erase(h.ticks.begin(), h.ticks.begin() + 200);
    }
    // Decide at the poll, or a little after it.
    const policy::Millis now = ts + (i % 7 == 0 ? 20'000 : 0);
    const auto with_memo = policy::decide(h, c, now);
    auto fresh = h;
    fresh.memo.reset();
    const auto without = policy::decide(fresh, c, now);
    ++checked;
    if (!same_decision(with_memo, without)) {
      ++mismatched;
      UNSCOPED_INFO("poll " << i << ": memo " << policy::explain_text(with_memo) << "\nfresh "
                            << policy::explain_text(without));
    }
    forecasts += with_memo.why.rule.rfind("forecast_", 0) == 0 ? 1 : 0;
    h.desired = std::clamp(with_memo.to, 1, 1000);
    h.in_service = h.desired;
  }
  CHECK(checked == 2200);
  CHECK(mismatched == 0);
  CHECK(forecasts > 1500);  // the forecasters, not only the reactive fallback, were compared

  SECTION("a memo built with another policy, or an earlier time, starts afresh")
  {
    auto other = c;
    other.quantile = 0.99;
    auto fresh = h;
    fresh.memo.reset();
    CHECK(same_decision(policy::decide(h, other, ts), policy::decide(fresh, other, ts)));
    const auto earlier = ts - 30 * k_minute;
    auto older = fresh;
    while (older.ticks.back().ts > earlier) {
      older.ticks.pop_back();
    }
    older.memo = h.memo;
    auto older_fresh = older;
    older_fresh.memo.reset();
    CHECK(same_decision(policy::decide(older, c, earlier), policy::decide(older_fresh, c, earlier)));
  }
}

TEST_CASE("predictive never provisions below the load it sees", "[policy]")
{
  auto c = make("predictive");
  c.max_size = 100;
  std::vector<std::optional<double>> values(200, 100.0);
  values.back() = 400.0;  // a jump: 4 instances' worth on 4 instances
  const auto d = policy::decide(history(4, values), c, k_now);
  CHECK(d.to >= 16);
}

TEST_CASE("predictive forecasts from a recent mean when single polls are noisy", "[policy]")
{
  // Small request counts: one instance's worth of load plus noise of up to +-0.8 instance, from
  // a fixed pseudo-random sequence. A single poll is a poor base; the mean of recent polls is
  // better, and the policy learns that from its own past errors.
  struct Row
  {
    unsigned seed;
    double level;
  };
  const std::vector<Row> rows{{1, 1.5}, {7, 1.5}, {42, 2.5}, {99, 3.0}};
  for (const auto& row : rows) {
    INFO("seed " << row.seed << " level " << row.level);
    auto c = make("predictive");
    c.max_size = 100;
    c.seasons_s = {};
    unsigned x = row.seed;
    std::vector<std::optional<double>> values;
    for (int i = 0; i < 400; ++i) {
      x = x * 1103515245u + 12345u;
      const double noise = double((x >> 16) % 1601) / 1000.0 - 0.8;
      values.push_back((row.level + noise) * 100 / 4);  // 4 instances share the load
    }
    const auto d = policy::decide(history(4, values), c, k_now);
    INFO(policy::explain_text(d));
    CHECK_THAT(d.why.rule, Catch::StartsWith("forecast_mean_"));
  }
}

TEST_CASE("predictive weighs a count-noise error model that grows with the square root of load",
          "[policy]")
{
  auto c = make("predictive");
  c.max_size = 100;
  c.seasons_s = {};
  std::vector<std::optional<double>> values;
  for (int i = 0; i < 200; ++i) {
    values.push_back(i % 2 == 0 ? 150.0 : 250.0);
  }
  const auto d = policy::decide(history(2, values), c, k_now);
  INFO(policy::explain_text(d));
  bool weighed = d.why.rule.find("+sqrt") != std::string::npos;
  for (const auto& r : d.why.rejected) {
    weighed = weighed || r.find("+sqrt") != std::string::npos;
  }
  CHECK(weighed);
}

TEST_CASE("predictive scales in sooner when a scale-in covers only the lead poll", "[policy]")
{
  // 3 instances; the load alternates around a level just under 2 instances. Covering the
  // horizon's peak from the recent peak counts the noise twice and keeps the third instance;
  // covering the lead poll from the recent peak (scale_in_cover "lead") counts it once.
  struct Row
  {
    double level;
    double noise;
    const char* cover;
    int to;
  };
  const std::vector<Row> rows{
    {1.80, 0.03, "peak", 2}, {1.80, 0.03, "lead", 2},  // little noise: both scale in
    {1.80, 0.08, "peak", 3}, {1.80, 0.08, "lead", 2},
    {1.85, 0.05, "peak", 3}, {1.85, 0.05, "lead", 2},
  };
  for (const auto& row : rows) {
    INFO("level " << row.level << " noise " << row.noise << " cover " << row.cover);
    auto c = make("predictive");
    c.max_size = 100;
    c.seasons_s = {};
    c.scale_in_cover = row.cover;
    std::vector<std::optional<double>> values;
    for (int i = 0; i < 200; ++i) {
      values.push_back((row.level + (i % 2 == 0 ? row.noise : -row.noise)) * 100 / 3);
    }
    const auto d = policy::decide(history(3, values), c, k_now);
    INFO(policy::explain_text(d));
    CHECK(d.to == row.to);
  }
}

// ---- configuration ----

TEST_CASE("every preset survives a JSON round trip", "[policy]")
{
  for (const auto& name : policy::preset_names()) {
    INFO(name);
    auto c = make(name.c_str());
    c.schedule.push_back(policy::ScheduleEntry{"*/5 * * * *", "CET-1CEST,M3.5.0,M10.5.0/3", 2, 9});
    REQUIRE(policy::validate(c));
    const auto back = policy::policy_from_json(policy::to_json(c));
    REQUIRE(back);
    CHECK(policy::to_json(*back) == policy::to_json(c));
  }
}

TEST_CASE("policy JSON takes the defaults of its kind or preset", "[policy]")
{
  auto c = policy::policy_from_json(R"({"kind":"target","min":2,"max":30})");
  REQUIRE(c);
  CHECK(c->target == 80);
  CHECK(c->cooldown_s == 0);
  c = policy::policy_from_json(R"({"preset":"target-tracking","target":60,"max":30})");
  REQUIRE(c);
  CHECK(c->kind == policy::Kind::target);
  CHECK(c->target == 60);
  CHECK(c->in_datapoints == 15);
  c = policy::policy_from_json(R"({"min":1,"max":10,"sensitivity":3,"high":50,"low":10})");
  REQUIRE(c);
  CHECK(c->kind == policy::Kind::threshold);
}

TEST_CASE("bad policies are rejected with the offending value", "[policy]")
{
  const std::vector<std::pair<const char*, const char*>> rows{
    {R"({"kind":"magic"})", "unknown policy 'magic'"},
    {R"({"colour":"red"})", "unknown policy key 'colour'"},
    {R"({"min":5,"max":2})", "min 5 is greater than max 2"},
    {R"({"kind":"target","target":0})", "target 0 must be above 0"},
    {R"({"kind":"step","adjustment":"double"})", "unknown adjustment 'double'"},
    {R"({"kind":"step","steps_out":[{"lower":-5,"upper":null,"change":1}]})",
     "a steps_out band must lie above its threshold"},
    {R"({"kind":"predictive","quantile":2})", "quantile 2 must be in [0.5, 1]"},
    {R"({"kind":"predictive","scale_in_cover":"valley"})", "unknown scale_in_cover 'valley'"},
    {R"({"schedule":[{"cron":"61 * * * *","min":1,"max":2}]})", "invalid cron minute field '61'"},
    {R"({"schedule":[{"cron":"* * * * *","tz":"Mars/Olympus","min":1,"max":2}]})",
     "invalid time zone 'Mars/Olympus'"},
    {R"({"min":"one"})", "key 'min': \"one\" is not an integer"},
    {"[1,2]", "invalid policy JSON: not an object"},
    // Regression (fuzz_policy_json with UBSan halting): get<int> of 1.2e67 was undefined
    // behaviour; 5000000000 wrapped into another int.
    {R"({"kind":"threshold","min":12222222222222222222222222222222222222222222222222222222222222222222,"max":4})",
     "min 12222222222222222222222222222222222222222222222222222222222222222222 must be at most 2147483647"},
    {R"({"max":5000000000})", "max 5000000000 must be at most 2147483647"},
    {R"({"cooldown":-1e300})", "cooldown -1e300 must be at least 0"},
    {R"({"sensitivity":2.5})", "key 'sensitivity': 2.5 is not an integer"},
    {R"({"schedule":[{"cron":"* * * * *","min":1e300,"max":2}]})",
     "schedule[0].min 1e300 must be at most 2147483647"},
    {R"({"warmup":true})", "key 'warmup': true is not an integer"},
  };
  for (const auto& [text, message] : rows) {
    INFO(text);
    const auto c = policy::policy_from_json(text);
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == core::ErrorKind::config);
    CHECK_THAT(c.error().message, Catch::Contains(message));
  }
}

TEST_CASE("integral policy values written as floats without a fraction are accepted", "[policy]")
{
  const auto c = policy::policy_from_json(R"({"min":2.0,"max":4,"sensitivity":3.0})");
  REQUIRE(c);
  CHECK(c->min_size == 2);
  CHECK(c->sensitivity == 3);
}

TEST_CASE("history ranges stay within the window and cover the seasonal lags", "[policy]")
{
  for (const auto& name : policy::preset_names()) {
    INFO(name);
    const auto c = make(name.c_str());
    const auto window = policy::history_window(c);
    const auto ranges = policy::history_ranges(c);
    REQUIRE_FALSE(ranges.empty());
    for (const auto& r : ranges) {
      CHECK(r.from_ms <= window);
      CHECK(r.to_ms <= r.from_ms);
    }
    CHECK(ranges.back().to_ms == 0);
  }
  // Predictive reads the recent past, its two seasonal lags (1 and 7 days) and the lags of the
  // memory of recurring surges (1, 2, 3, 7 and 14 days): each lag's polls from two before it to
  // the horizon after it.
  const auto c = make("predictive");
  CHECK(policy::history_window(c) > 14 * 86'400'000LL);
  const auto ranges = policy::history_ranges(c);
  CHECK(ranges.size() == 8);
  const policy::Millis horizon = policy::Millis(policy::horizon_s(c)) * 1000;
  for (int days : {1, 2, 3, 7, 14}) {
    INFO(days);
    const policy::Millis lag = days * 86'400'000LL;
    CHECK(std::any_of(ranges.begin(), ranges.end(), [&](const policy::HistoryRange& r) {
      return r.from_ms >= lag + 2 * k_minute && r.to_ms <= lag - horizon;
    }));
  }
}

TEST_CASE("a decision explains itself in JSON and text", "[policy]")
{
  auto c = make("hpa");
  c.max_size = 6;
  c.target = 50;
  const auto d = policy::decide(history(2, {300}), c, k_now);
  CHECK(d.to == 6);
  const auto j = nlohmann::json::parse(policy::decision_json(d));
  CHECK(j["action"] == "scale_out");
  CHECK(j["rule"] == "target");
  CHECK(j["proposed"] == 6);  // ceil(2 * 300 / 50) = 12 is rate limited to 6 first
  CHECK(j["samples"]["used"] == 2);
  CHECK(j["clamps"][0]["name"] == "rate_limit");
  CHECK(j["inputs"]["recommendation"] == 12);
  const auto text = policy::explain_text(d);
  CHECK_THAT(text, Catch::Contains("scale_out 2 -> 6"));
  CHECK_THAT(text, Catch::Contains("clamp rate_limit: 12 -> 6"));
}

TEST_CASE("predictive guards: a table of histories at the edges of each guard", "[policy]")
{
  // Each row kills a mutant of a guard of propose_predictive that the other cases let live
  // (found by mutating each guard in turn). The load of poll i of n, in per-instance percent:
  enum class Shape { flat, alternating, falling, last_polls_double };
  const auto load = [](Shape s, int i, int n, double level) {
    switch (s) {
    case Shape::flat:
      return level;
    case Shape::alternating:
      return i % 2 ? level * 0.8 : level * 1.2;
    case Shape::falling:
      return level * (1.5 - double(i) / n);
    case Shape::last_polls_double:
      return i > n - 5 ? level * 2 : level;
    }
    return level;
  };
  struct Guard
  {
    const char* what;
    int polls;
    Shape shape;
    int desired;
    double level;
    int to;
    const char* reason;
    const char* rule;
  };
  const std::vector<Guard> rows{
    // 61 polls give exactly k_min_residuals (60) past forecasts: enough for a forecaster
    // (kills `size() <= k_min_residuals`); of candidates with equal loss the first wins (kills
    // `k.cost <= best->cost`).
    {"exactly 60 past forecasts", 61, Shape::flat, 1, 100, 1, "forecast_within_capacity",
     "forecast_naive*ratio"},
    // The load now (3 instances' worth at 300 % on 2) sets the floor of the scale-out even where
    // the forecast of a falling load is lower (kills dropping `max(..., ceil_int(load))`).
    {"never below the load now", 61, Shape::falling, 2, 300, 4, "forecast_above_capacity",
     "forecast_naive*ratio"},
    // The last polls at 100 % of one instance are not over capacity (kills `>=` for `>` in
    // counting under-provisioned polls).
    {"a poll at capacity is not under-provisioned", 61, Shape::last_polls_double, 1, 50, 1,
     "forecast_within_capacity", "forecast_naive*ratio"},
    // Need == desired holds both ways (kills `>=` for `>` on scale-out, `<=` for `<` on
    // scale-in).
    {"need equal to desired holds", 58, Shape::flat, 2, 50, 2, "forecast_within_capacity",
     "reactive_fallback"},
    // Loads below the floor count as the floor in ratios (kills dropping k_load_floor).
    {"loads below the floor", 61, Shape::alternating, 1, 50, 1, "forecast_within_capacity",
     "forecast_naive+excess"},
  };
  auto c = make("predictive");
  c.max_size = 1000;
  c.seasons_s = {};
  for (const auto& r : rows) {
    INFO(r.what);
    std::vector<std::optional<double>> values;
    for (int i = 0; i < r.polls; ++i) {
      values.push_back(load(r.shape, i, r.polls, r.level));
    }
    const auto d = policy::decide(history(r.desired, values), c, k_now);
    INFO(policy::explain_text(d));
    CHECK(d.to == r.to);
    CHECK(d.reason == r.reason);
    CHECK(d.why.rule == r.rule);
  }
}

TEST_CASE("a poll whose samples are stale holds with the reason stale, never scales in", "[policy]")
{
  for (const char* name : {"threshold", "step", "hpa", "target-tracking", "predictive"}) {
    INFO(name);
    auto c = make(name);
    c.down_stabilization_s = 0;
    // Low load on every poll: the rule would scale in.
    auto h = history(4, {1, 1, 1, 1});
    for (auto& s : h.ticks.back().samples) {
      s.value.reset();
      s.missing = policy::Missing::stale;
    }
    auto d = policy::decide(h, c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "stale_samples");
    REQUIRE_FALSE(d.why.samples.empty());
    CHECK(d.why.samples[0].use == "stale");

    // One stale sample among fresh low ones: a scale-in is clamped, and the reason says stale.
    auto partly = history(4, {1, 1, 1, 1});
    partly.ticks.back().samples[0].value.reset();
    partly.ticks.back().samples[0].missing = policy::Missing::stale;
    d = policy::decide(partly, c, k_now);
    CHECK(d.action != Action::scale_in);
  }
}

TEST_CASE("a stale poll before the newest holds threshold and step with the reason stale",
          "[policy]")
{
  for (const char* name : {"threshold", "step", "hpa", "target-tracking", "predictive"}) {
    INFO(name);
    auto c = make(name);
    // High load on every poll; the one before the newest has only stale samples.
    auto h = history(2, {90, 90, 90, 90});
    auto gap = h;
    for (auto& s : h.ticks[h.ticks.size() - 2].samples) {
      s.value.reset();
      s.missing = policy::Missing::stale;
    }
    for (auto& s : gap.ticks[gap.ticks.size() - 2].samples) {
      s.value.reset();
      s.missing = policy::Missing::no_value;
    }
    const auto d = policy::decide(h, c, k_now);
    const auto missing = policy::decide(gap, c, k_now);
    CHECK(d.reason != "missing_samples");  // no rule calls stale data missing
    if (std::string(name) == "threshold" || std::string(name) == "step") {
      CHECK(d.action == Action::hold);
      CHECK(d.reason == "stale_samples");
      CHECK(missing.action == Action::hold);
      CHECK(missing.reason == "missing_samples");  // a poll without values is still missing
    }
  }
}

TEST_CASE("loads out of range are rejected and no size overflows an int", "[policy]")
{
  for (const char* name : {"threshold", "step", "hpa", "target-tracking", "predictive"}) {
    INFO(name);
    auto c = make(name);
    // 1e300 and 1e10 per instance (a state file written by anything): rejected as if missing.
    auto d = policy::decide(history(3, {1e300, 1e10}), c, k_now);
    CHECK(d.action == Action::hold);
    CHECK(d.reason == "missing_samples");
    // The largest load is used, and its size is clamped to max, never a wrapped negative.
    d = policy::decide(history(3, {policy::k_max_load}), c, k_now);
    CHECK(d.to >= 3);
    CHECK(d.to <= c.max_size);
  }
  CHECK(policy::load_in_range(0));
  CHECK(policy::load_in_range(1e9));
  CHECK_FALSE(policy::load_in_range(1e9 + 1));
  CHECK_FALSE(policy::load_in_range(-0.5));
  CHECK(policy::missing_named("stale") == policy::Missing::stale);
  CHECK(policy::missing_named("out_of_range") == policy::Missing::out_of_range);
  CHECK_FALSE(policy::missing_named("fresh"));
}

} // namespace unit_test_policy
