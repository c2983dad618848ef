// The explanation of a decision (`sclman why`): each sample with what became of it, clamp
// details, the schedule in force, and the JSON that the state file keeps, read back.
#include "policy/policy.hpp"
#include "policy_test_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_explain {

using namespace policy_test;

namespace {

policy::PolicyConfig make(const char* name)
{
  return *policy::preset(name);
}

} // namespace

TEST_CASE("each sample of the newest poll is listed as used or dropped with its reason",
          "[policy][explain]")
{
  auto c = make("threshold");
  c.warmup_s = 300;
  auto h = history(4, {60, 60, 60});
  auto& newest = h.ticks.back().samples;
  newest[1].in_service_since = k_now - 40'000;  // 40 s in service: warming up
  newest[2].value = std::nullopt;               // no value
  newest[3].value = -3;                         // rejected
  const auto d = policy::decide(h, c, k_now);
  REQUIRE(d.why.samples.size() == 4);
  CHECK(d.why.samples[0].use == "used");
  CHECK(d.why.samples[0].value == 60);
  CHECK(d.why.samples[0].detail.empty());
  CHECK(d.why.samples[1].use == "warmup");
  CHECK(d.why.samples[1].detail == "in service 40 s, warm-up 300 s");
  CHECK(d.why.samples[2].use == "missing");
  CHECK(d.why.samples[3].use == "rejected");
  CHECK_THAT(d.why.samples[3].detail, Catch::Contains("value -3 is not a finite number >= 0"));
  CHECK(d.why.samples_used == 1);
  CHECK(d.why.dropped_warmup == 1);
  CHECK(d.why.dropped_missing == 2);
  CHECK(d.why.poll_ts == k_now);
  CHECK(d.why.last_sample_ts == k_now);
}

TEST_CASE("a poll without samples says when the last samples came", "[policy][explain]")
{
  auto c = make("threshold");
  auto h = history(2, {60, 60});
  h.ticks.push_back(policy::Tick{k_now + 5 * k_minute, {}});  // what the loader appends
  const auto d = policy::decide(h, c, k_now + 5 * k_minute);
  CHECK(d.why.rule == "missing_data");
  CHECK(d.why.samples.empty());
  CHECK(d.why.last_sample_ts == k_now);
  CHECK_THAT(policy::explain_text(d),
             Catch::Contains("no sample in the newest poll; the last ones are from "
                             "2023-11-14T22:13:20Z (300 s before it, stale after 180 s)"));
}

TEST_CASE("cooldown and flap budget clamps say what the limit was", "[policy][explain]")
{
  auto c = make("hpa");
  c.target = 50;
  c.cooldown_s = 120;
  auto h = history(2, {200});
  h.actions.push_back(policy::PastAction{k_now - 30'000, 1, 2});
  auto d = policy::decide(h, c, k_now);
  REQUIRE(clamped(d, "cooldown"));
  CHECK(d.why.clamps.back().detail == "scale-out cooldown 120 s, last action 30 s ago");
  c.cooldown_s = 0;
  c.flap_budget = 1;
  d = policy::decide(h, c, k_now);
  REQUIRE(clamped(d, "flap_budget"));
  CHECK(d.why.clamps.back().detail == "1 size changes in the last hour, budget 1");
}

TEST_CASE("bounds set by a schedule name the schedule entry", "[policy][explain]")
{
  auto c = make("hpa");
  c.target = 100;
  c.max_size = 20;
  c.schedule.push_back(policy::ScheduleEntry{"0 8 * * 1-5", "+01:00", 6, 20});
  const policy::Millis wed_0800 = 1'700'035'200'000 - 3'600'000;  // Wed 2023-11-15T07:00Z
  const auto d = policy::decide(history(2, {100}, wed_0800), c, wed_0800);
  REQUIRE(d.why.schedule);
  CHECK(d.why.schedule->cron == "0 8 * * 1-5");
  CHECK(d.why.schedule_since == wed_0800);
  REQUIRE(clamped(d, "min"));
  CHECK(d.why.clamps.front().detail == "min 6 set by schedule '0 8 * * 1-5' (+01:00)");
  const auto text = policy::explain_text(d);
  CHECK_THAT(text, Catch::Contains("schedule: '0 8 * * 1-5' (+01:00) min 6 max 20, since "
                                   "2023-11-15T07:00:00Z"));
  // Without a schedule in force there is none in the explanation.
  CHECK_FALSE(policy::decide(history(2, {100}), make("hpa"), k_now).why.schedule);
}

TEST_CASE("the stored explanation reads back into the same decision", "[policy][explain]")
{
  auto c = make("hpa");
  c.target = 50;
  c.max_size = 6;
  c.warmup_s = 300;
  c.schedule.push_back(policy::ScheduleEntry{"* * * * *", "UTC", 1, 6});
  auto h = history(2, {300, 300});
  h.ticks.back().samples.push_back(policy::InstanceSample{"web-3", 10.0, k_now - 1000});
  const auto d = policy::decide(h, c, k_now);
  const auto text = policy::decision_json(d);
  const auto j = nlohmann::json::parse(text);
  CHECK(j["samples"]["list"].size() == 3);
  CHECK(j["samples"]["list"][2]["use"] == "warmup");
  CHECK(j["schedule"]["cron"] == "* * * * *");
  const auto back = policy::decision_from_json(text);
  REQUIRE(back);
  CHECK(policy::decision_json(*back) == text);
  const auto again = policy::explain_text(*back);
  CHECK_THAT(again, Catch::Contains("web-3"));
  CHECK_THAT(again, Catch::Contains("warmup: in service 1 s, warm-up 300 s"));
  CHECK_THAT(again, Catch::Contains("clamp rate_limit"));
  // An explanation from before sample lists and schedules still reads.
  const auto old = policy::decision_from_json(
    R"({"action":"scale_out","from":1,"to":2,"reason":"load_above_high","rule":"threshold_high"})");
  REQUIRE(old);
  CHECK(old->to == 2);
  CHECK(old->why.rule == "threshold_high");
  CHECK_FALSE(policy::decision_from_json("[1]"));
  // A stored row is hostile until read: forecast lines that are not a list of strings are an
  // error, not a crash or lines made up.
  for (const char* bad : {R"({"forecast":5})", R"({"forecast":[1,2]})", R"({"forecast":"x"})",
                          R"({"forecast":{"a":"b"}})"}) {
    INFO(bad);
    CHECK_FALSE(policy::decision_from_json(bad));
  }
}

TEST_CASE("a predictive decision's forecast lines read back from the state file", "[policy][explain]")
{
  auto c = make("predictive");
  c.max_size = 100;
  std::vector<std::optional<double>> values(200, 50.0);
  const auto d = policy::decide(history(4, values), c, k_now);
  REQUIRE(d.why.forecast.size() == 2);
  const auto back = policy::decision_from_json(policy::decision_json(d));
  REQUIRE(back);
  CHECK(back->why.forecast == d.why.forecast);
  CHECK_THAT(policy::explain_text(*back), Catch::Contains("  forecast: margin: quantile"));
  CHECK_THAT(policy::explain_text(*back), Catch::Contains("  forecast: recurrence: none"));
}

TEST_CASE("rate limit and stabilization clamps say what the limit was", "[policy][explain]")
{
  auto c = make("hpa");
  c.target = 50;
  auto d = policy::decide(history(2, {300}), c, k_now);
  REQUIRE(clamped(d, "rate_limit"));
  CHECK(d.why.clamps.front().detail == "up at most max(100 %, 4) per 15 s from 2");
  // Load fell: 4 instances at 10 % want 1, but a poll 2 minutes ago wanted 8.
  d = policy::decide(history(4, {100, 100, 10}), c, k_now);
  REQUIRE(clamped(d, "stabilization"));
  CHECK(d.why.clamps.front().detail == "highest recommendation of the last 300 s is 8");
}

} // namespace unit_test_explain
