#include "engine/history.hpp"
#include "policy/simulate.hpp"
#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <set>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_history {

namespace {

using state_test::FixedClock;
using state_test::TempDir;

constexpr core::Millis k_minute = 60'000;
constexpr core::Millis k_day = 86'400'000;

// A cluster named shop with `config` and desired size `desired`, stored in `store`.
state::Cluster make_cluster(state::Store& store, const policy::PolicyConfig& config, int desired)
{
  state::Cluster c;
  c.name = "shop";
  c.policy = policy::to_json(config);
  c.desired = desired;
  c.id = *store.insert_cluster(c);
  return c;
}

// A web instance of `c` in state `s`, in service since `since` (none if 0).
state::Instance make_instance(state::Store& store, const state::Cluster& c, state::InstanceState s,
                              core::Millis since)
{
  state::Instance i;
  i.cluster_id = c.id;
  i.role = state::Role::web;
  REQUIRE(store.insert_instance(i, c.name));
  i.state = s;
  if (since > 0) {
    i.in_service_since = since;
  }
  REQUIRE(store.update_instance(i));
  return i;
}

// The history the loader gave before it read spans: every sample of the whole window.
policy::History whole_window(state::Store& store, const state::Cluster& c,
                             const policy::PolicyConfig& config, core::Millis now)
{
  auto h = *engine::load_history(store, c, config, now, 180'000, 300);
  h.ticks.clear();
  const auto samples = *store.samples_since(c.id, now - policy::history_window(config));
  std::map<std::int64_t, core::Millis> since;
  const auto instances = *store.instances(c.id, true);
  for (const auto& i : instances) {
    since[i.id] = i.in_service_since.value_or(0);
  }
  for (const auto& s : samples) {
    if (h.ticks.empty() || h.ticks.back().ts != s.ts) {
      h.ticks.push_back(policy::Tick{s.ts, {}});
    }
    h.ticks.back().samples.push_back(policy::InstanceSample{"", s.value, since[s.instance_id]});
  }
  return h;
}

bool same_decision(const policy::Decision& a, const policy::Decision& b)
{
  return a.to == b.to && a.reason == b.reason && a.why.rule == b.why.rule
         && a.why.proposed == b.why.proposed && a.inputs == b.inputs;
}

} // namespace

TEST_CASE("spans are the policy's history ranges, absolute, sorted and merged", "[engine]")
{
  const core::Millis now = 10 * k_day;
  const auto threshold = *policy::preset("threshold");
  const auto one = engine::spans(threshold, now);
  REQUIRE(one.size() == 1);
  CHECK(one[0].first == now - policy::history_window(threshold));
  CHECK(one[0].second >= now);  // open at the top
  auto predictive = *policy::preset("predictive");
  // The recent past, and the lags of 1, 2, 3, 7 and 14 days (the seasons of 1 and 7 days and
  // the memory of recurring surges at those lags overlap: one span each).
  const auto six = engine::spans(predictive, now);
  CHECK(six.size() == 6);
  for (size_t k = 1; k < six.size(); ++k) {
    CHECK(six[k - 1].second < six[k].first);
  }
  // Seasons shorter than the recent past overlap it: the recurrence's lags stay.
  predictive.seasons_s = {3600};
  CHECK(engine::spans(predictive, now).size() == 6);
  predictive.seasons_s = {3600, 2 * 86400};
  CHECK(engine::spans(predictive, now).size() == 6);
}

TEST_CASE("the predictive policy decides the same on its spans as on its whole window",
          "[engine][scenario]")
{
  TempDir dir;
  FixedClock clock;
  auto store = *state_test::open_store((dir.path / "s.db").string(), clock);
  auto config = *policy::preset("predictive");
  config.max_size = 50;
  const core::Millis end = clock.t;
  auto c = make_cluster(store, config, 3);
  std::vector<state::Instance> web;
  for (int k = 0; k < 3; ++k) {
    web.push_back(make_instance(store, c, state::InstanceState::in_service, end - 10 * k_day));
  }
  // Eight and a half days of polls each minute: a daily wave, a weekly bump and some noise.
  std::vector<state::Sample> samples;
  const core::Millis first = end - 8 * k_day - k_day / 2;
  for (core::Millis ts = first; ts <= end; ts += k_minute) {
    const double day = 2 * std::numbers::pi * double(ts % k_day) / double(k_day);
    const double week = (ts / k_day) % 7 == 3 ? 20 : 0;
    for (size_t k = 0; k < web.size(); ++k) {
      const double v = 60 + 35 * std::sin(day) + week + double((ts / k_minute + core::Millis(k)) % 7) * 2;
      samples.push_back(state::Sample{web[k].id, c.id, ts, v, std::nullopt});
    }
  }
  REQUIRE(store.insert_samples(samples));
  int checked = 0;
  for (core::Millis now = end; now >= end - 5 * 37 * k_minute; now -= 37 * k_minute) {
    INFO("now " << now);
    // What the file held at `now`: no poll after it.
    auto drop = state::Stmt::prepare(store.db(), "DELETE FROM load_samples WHERE ts > ?");
    REQUIRE(drop);
    drop->bind(1, now);
    REQUIRE(drop->run());
    const auto spans = *engine::load_history(store, c, config, now, 180'000, 300);
    const auto whole = whole_window(store, c, config, now);
    CHECK(spans.ticks.size() * 3 < whole.ticks.size());
    const auto a = policy::decide(spans, config, now);
    const auto b = policy::decide(whole, config, now);
    INFO("spans " << policy::decision_json(a));
    INFO("whole " << policy::decision_json(b));
    CHECK(same_decision(a, b));
    CHECK(a.why.rule.rfind("forecast_", 0) == 0);  // the seasons were there to be used
    ++checked;
  }
  CHECK(checked == 6);
}

TEST_CASE("decide on the state file makes the decision simulate made from the same history",
          "[engine][scenario]")
{
  std::vector<double> rates;
  for (int i = 0; i < 400; ++i) {
    rates.push_back(200 + 150 * std::sin(i / 30.0) + (i % 7) * 10);
  }
  policy::SimOptions o;
  o.capacity = 50;
  o.boot_delay_s = 120;
  o.start_ms = 1'700'000'000'000;
  for (const char* name : {"threshold", "step", "hpa", "target-tracking", "predictive"}) {
    INFO(name);
    auto c = *policy::preset(name);
    if (c.kind == policy::Kind::threshold || c.kind == policy::Kind::step) {
      c.high = 80;
      c.low = 40;
      c.sensitivity = 2;
    }
    int checked = 0;
    int mismatched = 0;
    o.on_decision = [&](const policy::History& h, const policy::PolicyConfig& config,
                        policy::Millis now, const policy::Decision& d) {
      if ((now - o.start_ms) / k_minute % 23 != 0) {
        return;  // every 23rd tick: a state file per check is not free
      }
      TempDir dir;
      FixedClock clock;
      clock.t = now;
      auto store = *state_test::open_store((dir.path / "s.db").string(), clock);
      auto cluster = make_cluster(store, config, h.desired);
      // The instances: those that reported in the newest poll are in service; the rest of the
      // in-service count and the booting ones have no samples; older ones are gone.
      std::map<std::string, std::int64_t> ids;
      std::map<std::string, core::Millis> since;
      for (const auto& t : h.ticks) {
        for (const auto& s : t.samples) {
          since[s.instance] = s.in_service_since;
        }
      }
      std::set<std::string> newest;
      for (const auto& s : h.ticks.back().samples) {
        newest.insert(s.instance);
      }
      for (const auto& [instance, ready] : since) {
        const auto state = newest.count(instance) ? state::InstanceState::in_service
                                                  : state::InstanceState::gone;
        ids[instance] = make_instance(store, cluster, state, ready).id;
      }
      for (int k = int(newest.size()); k < h.in_service; ++k) {
        make_instance(store, cluster, state::InstanceState::in_service, now);
      }
      for (int k = 0; k < h.booting; ++k) {
        make_instance(store, cluster, state::InstanceState::building, 0);
      }
      std::vector<state::Sample> samples;
      for (const auto& t : h.ticks) {
        for (const auto& s : t.samples) {
          samples.push_back(state::Sample{ids[s.instance], cluster.id, t.ts, s.value, std::nullopt});
        }
      }
      REQUIRE(store.insert_samples(samples));
      for (const auto& a : h.actions) {
        state::DecisionRow row;
        row.cluster_id = cluster.id;
        row.ts = a.ts;
        row.action = a.to > a.from ? state::DecisionAction::scale_out
                                    : state::DecisionAction::scale_in;
        row.from_size = a.from;
        row.to_size = a.to;
        row.reason = "test";
        row.inputs = "{}";
        row.status = state::DecisionStatus::done;
        row.done_at = a.ts;
        REQUIRE(store.insert_decision(row));
      }
      const auto loaded = engine::load_history(store, cluster, config, now, 180'000, 300);
      REQUIRE(loaded);
      CHECK(loaded->in_service == h.in_service);
      CHECK(loaded->booting == h.booting);
      const auto again = policy::decide(*loaded, config, now);
      ++checked;
      if (!same_decision(again, d)) {
        ++mismatched;
        UNSCOPED_INFO("tick " << (now - o.start_ms) / k_minute << ": simulate " << d.to << " "
                              << d.reason << ", decide " << again.to << " " << again.reason);
      }
    };
    const auto r = policy::simulate(rates, c, o, name);
    REQUIRE(r);
    CHECK(checked == 17);
    CHECK(r->changes > 0);
    CHECK(mismatched == 0);
  }
}

TEST_CASE("the boot time is measured on the cluster's web instances that came into service, "
          "newest launch first",
          "[engine]")
{
  std::vector<state::Instance> instances;
  const auto add = [&](state::Role role, core::Millis created, std::optional<core::Millis> served) {
    state::Instance i;
    i.id = std::int64_t(instances.size()) + 1;
    i.role = role;
    i.created_at = created;
    i.in_service_since = served;
    instances.push_back(i);
  };
  // Four web instances that booted in 10 s, launched long ago; an LB that took 500 s; one
  // still booting.
  for (int k = 0; k < 4; ++k) {
    add(state::Role::web, 1'000'000 + k, 1'000'000 + k + 10'000);
  }
  add(state::Role::lb, 900'000, 1'400'000);
  add(state::Role::web, 5'000'000, std::nullopt);
  auto b = engine::boot_time(instances, 300);
  CHECK(b.source == "prior");
  CHECK(b.samples == 4);
  // A fifth, the newest, took 70 s: measured now, and the longest of five is the p90.
  add(state::Role::web, 4'000'000, 4'070'000);
  b = engine::boot_time(instances, 300);
  CHECK(b.source == "measured");
  CHECK(b.seconds == 70);
  // Times that cannot be true (a corrupt row) are left out, whatever their difference.
  add(state::Role::web, std::numeric_limits<core::Millis>::min(),
      std::numeric_limits<core::Millis>::max());
  add(state::Role::web, std::numeric_limits<core::Millis>::max(),
      std::numeric_limits<core::Millis>::min());
  b = engine::boot_time(instances, 300);
  CHECK(b.samples == 5);
  CHECK(b.seconds == 70);
  // Twenty newer ones of 20 s push the old ones out of the newest twenty.
  for (int k = 0; k < 20; ++k) {
    add(state::Role::web, 6'000'000 + k, 6'000'000 + k + 20'000);
  }
  CHECK(engine::boot_time(instances, 300).seconds == 20);
}

TEST_CASE("a replay sums each poll's load within its span and leaves out polls after it",
          "[engine]")
{
  state_test::ShopState shop;
  const core::Millis now = shop.clock.t;
  std::vector<std::int64_t> ids;
  for (int k = 0; k < 2; ++k) {
    state::Instance i;
    i.cluster_id = shop.cluster.id;
    i.role = state::Role::web;
    REQUIRE(shop.store->insert_instance(i, shop.cluster.name));
    ids.push_back(i.id);
  }
  const auto far = std::numeric_limits<core::Millis>::max() - 1;
  REQUIRE(shop.store->insert_samples({
    {ids[0], shop.cluster.id, now - 10 * 60'000, 99.0, std::nullopt},  // before the span
    {ids[0], shop.cluster.id, now - 2 * 60'000, 10.0, std::nullopt},
    {ids[1], shop.cluster.id, now - 2 * 60'000, 30.0, std::nullopt},
    {ids[0], shop.cluster.id, now - 60'000, 40.0, std::nullopt},
    {ids[1], shop.cluster.id, now - 60'000, std::nullopt, std::nullopt},  // missing: the mean
    {ids[0], shop.cluster.id, far, 50.0, std::nullopt},  // a corrupt or clock-stepped row
  }));
  const auto totals = *engine::poll_totals(*shop.store, shop.cluster, now - 5 * 60'000, now);
  REQUIRE(totals.size() == 2);
  CHECK(totals[0] == std::pair<core::Millis, double>{now - 2 * 60'000, 40.0});
  CHECK(totals[1] == std::pair<core::Millis, double>{now - 60'000, 80.0});
  // The trace of a far-future poll would have 1.5e14 minutes: it is never asked for.
  CHECK(policy::trace_of_polls(totals).rates == std::vector<double>{40.0, 80.0});
}

TEST_CASE("the history carries the chain's poll period: a predictive horizon from the boot time "
          "covers one poll of it",
          "[engine]")
{
  TempDir dir;
  FixedClock clock;
  auto store = *state_test::open_store((dir.path / "s.db").string(), clock);
  const auto config = *policy::preset("predictive");
  REQUIRE(config.horizon_s == 0);  // left to the boot time
  const auto c = make_cluster(store, config, 1);
  make_instance(store, c, state::InstanceState::in_service, clock.t - k_minute);
  // Fewer than five instances measured: the prior of 300 s is the boot time.
  for (const auto& [poll_s, horizon_s] : {std::pair{60, 360}, std::pair{15, 315}, std::pair{10, 310}}) {
    INFO("poll " << poll_s);
    const auto h = *engine::load_history(store, c, config, clock.t, 180'000, 300, poll_s);
    REQUIRE(h.boot);
    CHECK(h.boot->seconds == 300);
    CHECK(h.boot->poll_s == poll_s);
    CHECK(policy::with_boot_time(config, *h.boot).horizon_s == horizon_s);
  }
  // Without a period given, a minute (one cron tick).
  CHECK(engine::load_history(store, c, config, clock.t, 180'000, 300)->boot->poll_s == 60);
}

} // namespace unit_test_history
