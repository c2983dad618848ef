#include "policy/simulate.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_simulate {

namespace {

std::string csv(int step, const std::vector<double>& rates)
{
  std::string out = "t_seconds,requests_per_second\n";
  for (size_t i = 0; i < rates.size(); ++i) {
    out += std::to_string(int(i) * step) + "," + std::to_string(rates[i]) + "\n";
  }
  return out;
}

policy::PolicyConfig hpa_exact()
{
  // The HPA rule with no tolerance, stabilization or rate limit: desired = ceil(load / 100 %).
  auto c = *policy::preset("hpa");
  c.target = 100;
  c.tolerance_out = 0;
  c.tolerance_in = 0;
  c.down_stabilization_s = 0;
  c.up_limit_percent = 1000;
  return c;
}

} // namespace

TEST_CASE("parses a trace and keeps its step", "[simulate]")
{
  const auto t = policy::parse_trace("t_seconds,requests_per_second\r\n0,1.5\r\n60,2\r\n120,0\r\n",
                                     "t.csv");
  REQUIRE(t);
  CHECK(t->step_s == 60);
  CHECK(t->rates == std::vector<double>{1.5, 2, 0});
}

TEST_CASE("bad trace files get an error naming the file, line and fault", "[simulate]")
{
  const std::vector<std::pair<std::string, std::string>> rows{
    {"0,1\n60,2\n", "line 1: missing header"},
    {"", "line 1: missing header"},
    {"time,rate\n0,1\n", "line 1: missing header"},
    {"t_seconds,requests_per_second\n0,1\n60,2\n60,3\n", "line 4: time does not increase"},
    {"t_seconds,requests_per_second\n0,1\n60,2\n30,3\n", "line 4: time does not increase"},
    {"t_seconds,requests_per_second\n0,1\n60,-2\n", "line 3: negative rate -2"},
    {"t_seconds,requests_per_second\n0,1\n60,2\n180,3\n", "line 4: irregular step: 120 s"},
    {"t_seconds,requests_per_second\n0,1\n60,two\n", "line 3: not a number"},
    {"t_seconds,requests_per_second\n0,1\n60\n", "line 3: expected two fields"},
    {"t_seconds,requests_per_second\n0,1,2\n", "line 2: expected two fields"},
    {"t_seconds,requests_per_second\n0,nan\n60,1\n", "line 2: not a number"},
    {"t_seconds,requests_per_second\n0.5,1\n60,1\n", "line 2: time 0.5 is not a whole second"},
    {"t_seconds,requests_per_second\n0,1\n", "at least two rows"},
    // Rates whose demand in instances leaves the range of int.
    {"t_seconds,requests_per_second\n0,1\n60,1e12\n",
     "line 3: rate 1000000000000 is above 1000000000 requests per second"},
    {"t_seconds,requests_per_second\n0,1e308\n60,1\n", "line 2: rate 1e+308 is above"},
  };
  for (const auto& [text, message] : rows) {
    INFO(text);
    const auto t = policy::parse_trace(text, "bad.csv");
    REQUIRE_FALSE(t);
    CHECK(t.error().kind == core::ErrorKind::usage);
    CHECK_THAT(t.error().message, Catch::StartsWith("invalid trace 'bad.csv' "));
    CHECK_THAT(t.error().message, Catch::Contains(message));
  }
}

TEST_CASE("averages the trace per tick whatever its step", "[simulate]")
{
  SECTION("finer step: means of 60 one-second rows")
  {
    policy::Trace t{1, std::vector<double>(150, 0.0)};
    for (size_t i = 0; i < 150; ++i) {
      t.rates[i] = i < 60 ? 1.0 : 4.0;
    }
    const auto r = policy::tick_rates(t, 60);
    REQUIRE(r);
    CHECK(*r == std::vector<double>{1.0, 4.0});  // the partial third tick is dropped
  }
  SECTION("coarser step: each hour's rate holds for its minutes")
  {
    const auto r = policy::tick_rates(policy::Trace{3600, {10, 20}}, 60);
    REQUIRE(r);
    REQUIRE(r->size() == 120);
    CHECK((*r)[59] == 10);
    CHECK((*r)[60] == 20);
  }
  SECTION("ticks across step boundaries are weighted")
  {
    const auto r = policy::tick_rates(policy::Trace{40, {10, 20, 30}}, 60);
    REQUIRE(r);
    CHECK(*r == std::vector<double>{(10 * 40 + 20 * 20) / 60.0, (20 * 20 + 30 * 40) / 60.0});
  }
  SECTION("a trace shorter than a tick")
  {
    const auto r = policy::tick_rates(policy::Trace{1, {1, 2}}, 60);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("shorter than one tick"));
  }
}

TEST_CASE("measures supply against demand as the SPEC RG metrics define", "[simulate]")
{
  // D 1 2 2 1 0, S 1 1 2 2 1: under at t1 (1/2), over at t3 (1/1) and t4 (no demand: tau only).
  const auto r = policy::measure({1, 2, 2, 1, 0}, {1, 1, 2, 2, 1}, {1, 2, 2, 2, 1}, 3, 60);
  CHECK(r.theta_u == Approx(100.0 * 0.5 / 4));
  CHECK(r.theta_o == Approx(100.0 * 1.0 / 4));
  CHECK(r.tau_u == Approx(20));
  CHECK(r.tau_o == Approx(40));
  // dS 0 + 0 - against dD + 0 - -: they differ at t1, t2 and t3.
  CHECK(r.instability == Approx(75));
  CHECK(r.changes == 3);
  CHECK(r.instance_minutes == Approx(8));
  CHECK(r.oracle_minutes == Approx(6));
  CHECK(r.cost_vs_oracle == Approx(8.0 / 6));
}

TEST_CASE("simulate reproduces a hand-computed replay", "[simulate]")
{
  // C = 10 req/s, boot 120 s, ticks of 60 s. D = 1 1 3 3 3 3 3 1.
  // t2: 300 % on 1 -> 3 (two launched at 180 s, in service from the tick starting at 300 s).
  // t3, t4: S = 1 (under), billed 3; t5, t6: S = 3; t7: 33 % on 3 -> 1, removed at 480 s.
  const auto trace = policy::parse_trace(csv(60, {10, 10, 30, 30, 30, 30, 30, 10}), "tiny.csv");
  REQUIRE(trace);
  const auto rates = policy::tick_rates(*trace, 60);
  REQUIRE(rates);
  policy::SimOptions o;
  o.capacity = 10;
  o.boot_delay_s = 120;
  const auto r = policy::simulate(*rates, hpa_exact(), o, "hpa");
  REQUIRE(r);
  CHECK(r->demand == std::vector<int>{1, 1, 3, 3, 3, 3, 3, 1});
  CHECK(r->supply == std::vector<int>{1, 1, 1, 1, 1, 3, 3, 3});
  CHECK(r->billed == std::vector<int>{1, 1, 1, 3, 3, 3, 3, 3});
  CHECK(r->tau_u == Approx(100.0 * 3 / 8));
  CHECK(r->theta_u == Approx(100.0 * (3 * 2.0 / 3) / 8));
  CHECK(r->tau_o == Approx(100.0 / 8));
  CHECK(r->theta_o == Approx(100.0 * 2 / 8));
  CHECK(r->instability == Approx(100.0 * 3 / 7));
  CHECK(r->changes == 2);
  CHECK(r->instance_minutes == Approx(18));
  CHECK(r->cost_vs_oracle == Approx(1.0));
  const auto j = nlohmann::json::parse(policy::result_json(*r, o));
  for (const char* key : {"policy", "theta_U", "theta_O", "tau_U", "tau_O", "instability",
                          "changes", "instance_minutes", "cost_vs_oracle"}) {
    CHECK(j.contains(key));
  }
  CHECK(j["policy"] == "hpa");
}

TEST_CASE("a scale-out during a drain takes the draining instances back (the reclaim rule)",
          "[simulate]")
{
  // C = 10 req/s, boot 120 s, drain 180 s, ticks of 60 s. D = 3 3 1 3 3 3.
  // t2: 33 % on 3 -> 1 at 180 s: two drain until 360 s (billed, not serving).
  // t3: 300 % on 1 -> 3 at 240 s. Reclaim: both back, serving from t4, nothing launched.
  // Without: two launched, serving from the tick starting at 360 s (after t5); the drained two
  // stay billed until 360 s.
  const auto trace = policy::parse_trace(csv(60, {30, 30, 10, 30, 30, 30}), "dip.csv");
  REQUIRE(trace);
  const auto rates = policy::tick_rates(*trace, 60);
  REQUIRE(rates);
  policy::SimOptions o;
  o.capacity = 10;
  o.boot_delay_s = 120;
  o.drain_s = 180;
  const auto with = policy::simulate(*rates, hpa_exact(), o, "hpa");
  REQUIRE(with);
  CHECK(with->demand == std::vector<int>{3, 3, 1, 3, 3, 3});
  CHECK(with->supply == std::vector<int>{3, 3, 3, 1, 3, 3});
  CHECK(with->billed == std::vector<int>{3, 3, 3, 3, 3, 3});
  CHECK(with->reclaimed == 2);
  CHECK(with->boots == 0);
  CHECK(with->tau_u == Approx(100.0 / 6));
  CHECK(with->instance_minutes == Approx(18));
  o.reclaim = false;
  const auto without = policy::simulate(*rates, hpa_exact(), o, "hpa");
  REQUIRE(without);
  CHECK(without->supply == std::vector<int>{3, 3, 3, 1, 1, 1});
  CHECK(without->billed == std::vector<int>{3, 3, 3, 3, 5, 5});
  CHECK(without->reclaimed == 0);
  CHECK(without->boots == 2);
  CHECK(without->tau_u == Approx(100.0 * 3 / 6));
  CHECK(without->instance_minutes == Approx(22));
  CHECK(policy::reclaim_savings(*with, *without)
        == "reclaim, hpa: 2 draining instances taken back; boots 2 -> 0, tau_U 50.00% -> "
           "16.67%, theta_U 33.33% -> 11.11%, instance-minutes 22 -> 18 (without -> with)");
  // No drain: victims leave at once, nothing to take back.
  o.drain_s = 0;
  o.reclaim = true;
  const auto at_once = policy::simulate(*rates, hpa_exact(), o, "hpa");
  REQUIRE(at_once);
  CHECK(at_once->reclaimed == 0);
  CHECK(at_once->boots == 2);
  CHECK(at_once->billed == std::vector<int>{3, 3, 3, 1, 3, 3});
}

TEST_CASE("the oracle is supply equal to demand", "[simulate]")
{
  policy::SimOptions o;
  o.capacity = 10;
  const auto r = policy::oracle({5, 25, 25, 0}, o);
  CHECK(r.cost_vs_oracle == 1);
  CHECK(r.tau_u == 0);
  CHECK(r.tau_o == 0);
  CHECK(r.instability == 0);
  CHECK(r.changes == 2);
  CHECK(r.oracle_minutes == 7);
}

TEST_CASE("simulate and decide give the same decision for the same history", "[simulate][scenario]")
{
  std::vector<double> rates;
  for (int i = 0; i < 600; ++i) {
    rates.push_back(200 + 150 * std::sin(i / 40.0) + (i % 7) * 10);
  }
  policy::SimOptions o;
  o.capacity = 50;
  for (const char* name : {"threshold", "step", "hpa", "target-tracking", "predictive"}) {
    INFO(name);
    auto c = *policy::preset(name);
    int checked = 0;
    int mismatched = 0;
    o.on_decision = [&](const policy::History& h, const policy::PolicyConfig& config,
                        policy::Millis now, const policy::Decision& d) {
      // What `decide` would get from the state file: the same ticks, sizes and actions, and
      // not the replay's memo (the predictive model the replay advances tick by tick).
      auto fresh = h;
      fresh.memo.reset();
      const auto again = policy::decide(fresh, config, now);
      ++checked;
      if (again.to != d.to || again.reason != d.reason) {
        ++mismatched;
      }
    };
    const auto r = policy::simulate(rates, c, o, name);
    REQUIRE(r);
    CHECK(checked == 600);
    CHECK(mismatched == 0);
  }
}

TEST_CASE("compare runs the original rule, HPA, target tracking", "[simulate]")
{
  const auto peers = policy::compare_peers();
  REQUIRE(peers.size() == 3);
  CHECK(peers[0].first == "threshold");
  CHECK(peers[1].first == "hpa");
  CHECK(peers[2].first == "target-tracking");
}

TEST_CASE("policy arguments are presets or JSON", "[simulate]")
{
  auto p = policy::policy_arg("hpa");
  REQUIRE(p);
  CHECK(p->first == "hpa");
  CHECK(p->second.kind == policy::Kind::target);
  p = policy::policy_arg(R"({"preset":"target-tracking","target":70})");
  REQUIRE(p);
  CHECK(p->first == "target-tracking");
  CHECK(p->second.target == 70);
  p = policy::policy_arg("nonsense");
  REQUIRE_FALSE(p);
  CHECK(p.error().kind == core::ErrorKind::usage);
}

TEST_CASE("predictive keeps under-provisioning rare on a daily pattern", "[simulate][scenario]")
{
  // Three days of a smooth daily cycle with a steep morning ramp, one-minute ticks.
  std::vector<double> rates;
  for (int i = 0; i < 3 * 1440; ++i) {
    const double hour = (i % 1440) / 60.0;
    const double ramp = hour < 8 ? 0 : hour < 9 ? (hour - 8) : hour < 20 ? 1 : 0;
    rates.push_back(100 + 900 * ramp);
  }
  policy::SimOptions o;
  o.capacity = 50;
  const auto r = policy::simulate(rates, *policy::preset("predictive"), o, "predictive");
  REQUIRE(r);
  CHECK(r->tau_u <= 1.0);
  CHECK(r->cost_vs_oracle < 1.5);
}

TEST_CASE("the demand of the largest load saturates instead of overflowing", "[simulate]")
{
  // 1e9 requests per second at a capacity of 1e-6 is 1e15 instances: more than an int holds.
  const auto d = policy::demand_of({policy::k_max_load, 0.0, 250.0}, 1e-6);
  REQUIRE(d.size() == 3);
  CHECK(d[0] == std::numeric_limits<int>::max());
  CHECK(d[1] == 0);
  CHECK(d[2] == 250'000'000);
  CHECK(policy::demand_of({200.0000001}, 200.0) == std::vector<int>{1});
}

TEST_CASE("the hpa peer syncs every 15 s within a tick and its rate limit compounds",
          "[simulate]")
{
  // One instance at its target, then 16 times the load for good.
  auto c = *policy::preset("hpa");
  c.target = 100;
  const std::vector<double> rates = {100, 1600, 1600, 1600, 1600, 1600, 1600, 1600};
  policy::SimOptions o;
  o.capacity = 100;
  o.boot_delay_s = 60;
  SECTION("once per tick: double or four more (max(2, 1 + 4) = 5) a minute")
  {
    const auto r = *policy::simulate(rates, c, o, "hpa");
    CHECK(r.sync_s == 60);
    CHECK(r.billed[2] == 5);
    CHECK(r.billed[3] == 10);
    CHECK(r.billed[4] == 16);
  }
  SECTION("four syncs a minute: 5, 10, 16 within the tick the load came")
  {
    o.sync_s = 15;
    const auto r = *policy::simulate(rates, c, o, "hpa");
    CHECK(r.sync_s == 15);
    CHECK(r.billed[2] == 16);
    // Booted 60 s after the decisions in the tick ending at 120 s: all serve from the tick at
    // 180 s.
    CHECK(r.supply[2] == 1);
    CHECK(r.supply[3] == 16);
  }
  SECTION("simulate_runs gives the hpa runs their sync, the others decide once a tick")
  {
    auto runs = *policy::simulate_runs(rates, {{"hpa", c}, {"target", c}}, o,
                                       policy::Compare::no);
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].sync_s == 15);
    CHECK(runs[0].billed[2] == 16);
    CHECK(runs[1].sync_s == 60);
    CHECK(runs[1].billed[2] == 5);
    o.hpa_sync_s = 0;
    runs = *policy::simulate_runs(rates, {{"hpa", c}}, o, policy::Compare::no);
    CHECK(runs[0].sync_s == 60);
  }
  SECTION("a sync period must divide the tick")
  {
    o.sync_s = 25;
    const auto r = policy::simulate(rates, c, o, "hpa");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "a sync period of 25 s does not divide the tick of 60 s");
  }
}

TEST_CASE("the sweep grids and their names", "[simulate]")
{
  CHECK(policy::sweep_grid("hpa")->size() == 14 * 6 * 3);
  CHECK(policy::sweep_grid("target-tracking")->size() == 14 * 3);
  // predictive: its margin only, its defaults among them, every one a valid policy.
  const auto predictive = policy::sweep_grid("predictive");
  REQUIRE(predictive);
  CHECK(predictive->size() == 3 * 2);
  const auto defaults = *policy::preset("predictive");
  int same = 0;
  for (const auto& c : *predictive) {
    CHECK(c.kind == policy::Kind::predictive);
    CHECK(c.quantile_low <= c.quantile);
    CHECK(policy::validate(c));
    auto margin_only = c;
    margin_only.quantile_low = defaults.quantile_low;
    margin_only.quantile = defaults.quantile;
    CHECK(margin_only == defaults);
    same += c == defaults ? 1 : 0;
  }
  CHECK(same == 1);
  const auto bad = policy::sweep_grid("threshold");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message
        == "cannot sweep 'threshold': sweep hpa, target-tracking or predictive");
}

TEST_CASE("a sweep tries the peer's grid and keeps its cheapest run within the tau_U budget",
          "[simulate][scenario]")
{
  // A ramp up and down, twice.
  std::vector<double> rates;
  for (int k = 0; k < 40; ++k) {
    rates.push_back(100 + 40.0 * (k % 20 < 10 ? k % 20 : 20 - k % 20));
  }
  policy::SimOptions o;
  o.capacity = 100;
  o.boot_delay_s = 60;
  // The same search by hand, each configuration synced as simulate_runs syncs hpa.
  std::vector<policy::SimResult> by_hand;
  const auto grid = policy::sweep_grid("hpa");
  for (const auto& c : *grid) {
    by_hand.push_back(policy::simulate_runs(rates, {{"hpa", c}}, o, policy::Compare::no)->front());
    CHECK(by_hand.back().sync_s == 15);
  }
  std::optional<policy::SweepResult> tight;
  for (const double budget : {0.0, 20.0}) {
    const auto s = *policy::sweep(rates, "hpa", budget, o);
    CHECK(s.tried == 252);
    int held = 0;
    std::optional<double> cheapest;
    for (const auto& r : by_hand) {
      if (r.tau_u <= budget) {
        ++held;
        cheapest = std::min(cheapest.value_or(r.instance_minutes), r.instance_minutes);
      }
    }
    CHECK(s.held == held);
    REQUIRE(bool(s.best) == bool(cheapest));
    if (s.best) {
      CHECK(s.best->instance_minutes == *cheapest);
      CHECK(s.best->tau_u <= budget);
    }
    if (!tight) {
      tight = s;
      continue;
    }
    // A larger budget holds at least as many, never costlier.
    CHECK(s.held > tight->held);
    if (tight->best) {
      CHECK(s.best->instance_minutes <= tight->best->instance_minutes);
    }
  }
}

} // namespace unit_test_simulate

TEST_CASE("a sweep of predictive's margin finds one that holds a budget its defaults miss",
          "[simulate][scenario]")
{
  // 12 hours at about 3 instances, and every 90 minutes a jump to 2.4 times the load within
  // 4 minutes, held 20: faster than the 5 minutes an instance boots.
  std::vector<double> rates;
  for (int k = 0; k < 720; ++k) {
    double rate = 300 * (1 + 0.06 * std::sin(k * 1.7) + 0.04 * std::sin(k * 0.37));
    const int phase = k % 90;
    if (phase >= 60 && phase < 64) {
      rate *= 1 + 0.35 * (phase - 59);
    } else if (phase >= 64 && phase < 84) {
      rate *= 2.4;
    }
    rates.push_back(rate);
  }
  policy::SimOptions o;
  o.capacity = 100;
  o.boot_delay_s = 300;
  const double budget = 2.5;
  const auto defaults =
    policy::simulate_runs(rates, {{"predictive", *policy::preset("predictive")}}, o,
                          policy::Compare::no)
      ->front();
  CHECK(defaults.tau_u > budget);
  const auto swept = policy::sweep(rates, "predictive", budget, o);
  REQUIRE(swept);
  const auto& s = *swept;
  CHECK(s.tried == 6);
  REQUIRE(s.best);
  CHECK(s.best->policy == "predictive-tuned");
  CHECK(s.best->tau_u <= budget);
  // The cheapest of the grid within the budget, replayed one by one.
  std::optional<double> cheapest;
  const auto grid = policy::sweep_grid("predictive");
  for (const auto& c : *grid) {
    const auto r = policy::simulate_runs(rates, {{"predictive", c}}, o, policy::Compare::no);
    if (r->front().tau_u <= budget) {
      cheapest = std::min(cheapest.value_or(r->front().instance_minutes),
                          r->front().instance_minutes);
    }
  }
  REQUIRE(cheapest);
  CHECK(s.best->instance_minutes == *cheapest);
  const auto chosen = *policy::policy_from_json(s.best->config);
  CHECK(chosen.quantile == 0.99);
  INFO("defaults " << defaults.tau_u << " % " << defaults.instance_minutes << ", tuned "
                   << s.best->tau_u << " % " << s.best->instance_minutes);
  CHECK(s.held < s.tried);
}
