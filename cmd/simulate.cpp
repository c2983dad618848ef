// cmd/simulate.cpp: `sclman simulate`: replay a trace through the policy code `decide` runs and
// print the elasticity metrics, optionally next to the reference peers and the oracle.
#include "core/time.hpp"
#include "policy/simulate.hpp"
#include "replay.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cmd {

namespace {

struct SimulateOptions
{
  std::string trace;
  std::string cluster;  // replay this cluster's polls instead of a trace
  int days = 7;
  double capacity = 0;
  int boot_delay = 180;
  int drain = 0;
  bool no_reclaim = false;
  int tick = 60;
  int hpa_sync = 15;
  int min = 1;
  int max = 100'000;
  std::vector<std::string> policies;
  bool compare = false;
  std::vector<std::string> sweeps;
  double budget = 1.0;
  std::string series;
  std::string start;  // ISO-8601 time of the trace's t = 0
};

core::Result<std::string> read_file(const std::string& path, const char* what)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("cannot read {} '{}': {}", what, path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

core::Result<void> write_series(const std::string& path, const std::string& text)
{
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("cannot write series '{}': {}", path, std::strerror(errno)));
  }
  if (!(f << text).flush()) {
    return core::fail(core::ErrorKind::usage, fmt::format("cannot write series '{}'", path));
  }
  return {};
}

core::Result<void> run_simulate(Env& env, const SimulateOptions& o)
{
  if (o.trace.empty() == o.cluster.empty()) {
    return core::fail(core::ErrorKind::usage, "give one of --trace FILE and --cluster NAME");
  }
  policy::Trace trace;
  std::optional<ClusterReplay> replay;
  double capacity = o.capacity;
  if (!o.cluster.empty()) {
    TRY_ASSIGN(replay, cluster_replay(env, o.cluster, o.days, o.capacity));
    trace = replay->trace;
    capacity = replay->capacity;
  } else {
    if (!(o.capacity > 0)) {
      return core::fail(core::ErrorKind::usage, "--capacity is needed with --trace");
    }
    TRY_ASSIGN(const auto text, read_file(o.trace, "trace"));
    TRY_ASSIGN(trace, policy::parse_trace(text, o.trace));
  }
  TRY_ASSIGN(const auto rates, policy::tick_rates(trace, o.tick));
  policy::SimOptions so;
  so.capacity = capacity;
  so.boot_delay_s = o.boot_delay;
  so.drain_s = o.drain;
  so.reclaim = !o.no_reclaim;
  so.tick_s = o.tick;
  so.hpa_sync_s = o.hpa_sync;
  so.min_size = o.min;
  so.max_size = o.max;
  // A progress line on a terminal (a year of minutes is a few seconds per run, a sweep hundreds
  // of runs): redrawn at most five times a second, erased when the run ends.
  if (!env.common.cron && isatty(STDERR_FILENO) == 1) {
    so.on_progress = [last = std::chrono::steady_clock::time_point{}](
                       const std::string& name, size_t done, size_t total) mutable {
      if (done >= total) {
        std::fputs("\r\033[K", stderr);
        return;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::milliseconds(200)) {
        return;
      }
      last = now;
      std::fputs(fmt::format("\rsimulate: {}: {} of {} ticks ({} %)\033[K", name, done, total,
                             100 * done / total)
                   .c_str(),
                 stderr);
      std::fflush(stderr);
    };
  }
  if (!o.start.empty()) {
    const auto start = core::parse_iso8601(o.start);
    if (!start) {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("invalid --start '{}': expected an ISO-8601 time such as "
                                    "2026-11-27T08:00:00Z",
                                    o.start));
    }
    so.start_ms = *start;
  } else if (replay) {
    // The cluster's first poll, so that its schedule fires when it did.
    so.start_ms = replay->from;
  }
  std::vector<std::pair<std::string, policy::PolicyConfig>> runs;
  if (replay) {
    // The cluster's own policy first, in percent of the capacity as simulate's policies are.
    runs.emplace_back("current", replay->policy);
  }
  const auto defaults = replay ? std::vector<std::string>{} : std::vector<std::string>{"predictive"};
  for (const auto& arg : o.policies.empty() ? defaults : o.policies) {
    std::string spec = arg;
    if (!spec.empty() && spec.front() == '@') {
      TRY_ASSIGN(spec, read_file(spec.substr(1), "policy file"));
    }
    TRY_ASSIGN(auto run, policy::policy_arg(spec));
    runs.push_back(std::move(run));
  }
  const auto compare = o.compare ? policy::Compare::yes : policy::Compare::no;
  TRY_ASSIGN(const auto results, policy::simulate_runs(rates, runs, so, compare));
  // What the reclaim rule saves: the same runs with every scale-out booting new instances.
  std::vector<policy::SimResult> without;
  if (so.drain_s > 0 && so.reclaim) {
    auto off = so;
    off.reclaim = false;
    TRY_ASSIGN(without, policy::simulate_runs(rates, runs, off, compare));
  }
  if (!o.series.empty()) {
    TRY(write_series(o.series, policy::series_csv(rates, results)));
  }
  // Each swept peer's cheapest configuration within the budget, from the trace read once.
  std::vector<policy::SweepResult> sweeps;
  for (const auto& peer : o.sweeps) {
    TRY_ASSIGN(auto s, policy::sweep(rates, peer, o.budget, so));
    sweeps.push_back(std::move(s));
  }
  const auto sweep_json = [](const policy::SweepResult& s) {
    return nlohmann::json{
      {"peer", s.peer}, {"budget_tau_U", s.budget}, {"tried", s.tried}, {"held", s.held}};
  };
  if (env.common.json) {
    auto report = nlohmann::json::array();
    for (const auto& r : results) {
      auto j = nlohmann::json::parse(policy::result_json(r, so));
      if (!o.start.empty()) {
        j["start"] = o.start;
      }
      if (replay) {
        j["cluster"] = replay->cluster;
      }
      const auto k = report.size();
      if (k < without.size() && r.policy != "oracle") {
        auto w = nlohmann::json::parse(policy::result_json(without[k], so));
        j["without_reclaim"] = {{"boots", w["boots"]},          {"tau_U", w["tau_U"]},
                                {"theta_U", w["theta_U"]},      {"tau_O", w["tau_O"]},
                                {"instance_minutes", w["instance_minutes"]}};
      }
      report.push_back(std::move(j));
    }
    for (const auto& s : sweeps) {
      auto j = s.best ? nlohmann::json::parse(policy::result_json(*s.best, so))
                      : nlohmann::json{{"policy", s.peer + "-tuned"}};
      j["sweep"] = sweep_json(s);
      report.push_back(std::move(j));
    }
    out(report.dump(2));
  } else {
    const auto source =
      replay ? fmt::format("cluster {} ({} to {}, its policy {} as current)", replay->cluster,
                           core::iso8601_utc(replay->from), core::iso8601_utc(replay->to),
                           policy::to_string(replay->stored.kind))
             : "trace " + o.trace;
    out(fmt::format("{}: {} ticks of {} s, capacity {}, boot delay {} s, drain {} s{}; "
                    "hpa syncs every {} s",
                    source, rates.size(), o.tick, capacity, o.boot_delay, o.drain,
                    o.drain > 0 && o.no_reclaim ? " (no reclaim)" : "",
                    o.hpa_sync > 0 && o.hpa_sync < o.tick ? o.hpa_sync : o.tick));
    out(policy::results_table(results));
    for (size_t k = 0; k < without.size(); ++k) {
      if (results[k].policy == "oracle") {
        continue;
      }
      out(policy::reclaim_savings(results[k], without[k]));
    }
    for (const auto& s : sweeps) {
      if (!s.best) {
        out(fmt::format("sweep {}: none of {} configurations holds tau_U <= {}%", s.peer,
                        s.tried, s.budget));
        continue;
      }
      out(fmt::format("sweep {}: {} of {} configurations hold tau_U <= {}%; the cheapest: {}",
                      s.peer, s.held, s.tried, s.budget, s.best->config));
      out(policy::results_table({*s.best}));
    }
  }
  return {};
}

} // namespace

void register_simulate(CLI::App& app)
{
  auto o = std::make_shared<SimulateOptions>();
  auto* sub = add_command(app, "simulate", "Replay a load trace through a policy and measure it",
                          Traits{false, true, Needs::nothing},
                          [o](Env& env) { return run_simulate(env, *o); });
  sub->add_option("--trace", o->trace, "CSV trace: t_seconds,requests_per_second");
  sub->add_option("--cluster", o->cluster,
                  "Replay this cluster's recorded load instead of a trace, through its own "
                  "policy (current) and any --policy");
  sub->add_option("--days", o->days, "Days of the cluster's history to replay (default 7)")
    ->check(CLI::Range(1, 366));
  sub->add_option("--capacity", o->capacity,
                  "Load one instance serves (requests per second of a trace; the cluster's "
                  "metric with --cluster, default its predictive capacity)")
    ->check(greater_than_zero());
  sub->add_option("--boot-delay", o->boot_delay, "Seconds from launch to in service")
    ->required()
    ->check(zero_or_more());
  sub->add_option("--drain", o->drain,
                  "Seconds a scale-in victim drains (billed, not serving) before it is removed; "
                  "with it, also report what the reclaim rule saves")
    ->capture_default_str()
    ->check(zero_or_more());
  sub->add_flag("--no-reclaim", o->no_reclaim,
                "Scale-outs boot new instances even while others drain");
  sub->add_option("--tick", o->tick, "Seconds between decisions; the trace is averaged per tick")
    ->capture_default_str()
    ->check(greater_than_zero());
  sub->add_option("--hpa-sync", o->hpa_sync,
                  "Seconds between the syncs of runs of the hpa preset within a tick, as "
                  "Kubernetes' controller syncs (0: once per tick)")
    ->capture_default_str()
    ->check(zero_or_more());
  sub->add_option("--policy", o->policies,
                  "A preset (threshold, step, target, hpa, target-tracking, predictive), a JSON "
                  "policy or @FILE; repeatable; default predictive");
  sub->add_flag("--compare", o->compare,
                "Also run the original threshold rule, HPA defaults, AWS target tracking and "
                "the oracle");
  sub->add_option("--sweep", o->sweeps,
                  "Also tune this policy (hpa, target-tracking, predictive; repeatable) over its "
                  "grid and report its cheapest configuration that holds the tau_U budget")
    ->check(CLI::IsMember({"hpa", "target-tracking", "predictive"}));
  sub->add_option("--budget", o->budget, "The tau_U budget of --sweep, percent (default 1)")
    ->check(CLI::Range(0.0, 100.0));
  sub->add_option("--series", o->series,
                  "Write per-tick rate, demand, supply and billed size of each run to this CSV");
  sub->add_option("--min", o->min, "Smallest size, for every policy of the run")
    ->capture_default_str()
    ->check(greater_than_zero());
  sub->add_option("--max", o->max, "Largest size, for every policy of the run")
    ->capture_default_str()
    ->check(greater_than_zero());
  sub->add_option("--start", o->start,
                  "ISO-8601 time of the trace's t=0, for scheduled min/max (default "
                  "1970-01-01T00:00:00Z)");
}

} // namespace cmd
