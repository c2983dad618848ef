// cmd/recommend.cpp: `sclman recommend NAME`: replay the cluster's own recorded load (the last
// --days) through its current policy, the predictive defaults, and HPA, target tracking and
// predictive's margin tuned over their grids, with its bounds and its measured boot time, and
// print what each would have cost and missed, and the policy that would have done best within
// the tau_U budget with the set-policy command that applies it. A recommendation: nothing is
// changed.
#include "core/time.hpp"
#include "engine/history.hpp"
#include "replay.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <optional>

namespace cmd {

namespace {

struct RecommendOptions
{
  std::string cluster;
  int days = 7;
  double budget = 1.0;
  double capacity = 0;
  int boot_delay = -1;  // -1: measured on the cluster's instances
};

// Return `text` quoted for a POSIX shell.
std::string shell_quote(const std::string& text)
{
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// Return the set-policy command that switches `cluster` to `chosen` (in the metric's units),
// named by preset `preset`: the preset, then each key where `chosen` differs from it. Its bounds
// and schedule stay (set-policy --policy keeps them).
std::string set_policy_command(const std::string& cluster, const std::string& preset,
                               const policy::PolicyConfig& chosen)
{
  const auto base = nlohmann::json::parse(policy::to_json(*policy::preset(preset)));
  const auto want = nlohmann::json::parse(policy::to_json(chosen));
  std::string cmd = fmt::format("sclman set-policy {} --policy {}", cluster, preset);
  for (const auto& [key, value] : want.items()) {
    if (key == "min" || key == "max" || key == "schedule") {
      continue;
    }
    if (!base.contains(key) || base[key] != value) {
      cmd += " --set " + shell_quote(key + "=" + value.dump());
    }
  }
  return cmd;
}

core::Result<void> run_recommend(Env& env, const RecommendOptions& o)
{
  TRY_ASSIGN(const auto replay, cluster_replay(env, o.cluster, o.days, o.capacity));
  TRY_ASSIGN(const auto instances, env.store->instances(replay.cluster_id, true));
  auto boot = engine::boot_time(instances, env.config.manager.boot_timeout);
  if (o.boot_delay >= 0) {
    boot = policy::BootTime{o.boot_delay, "given", 0, "--boot-delay", 60};
  }
  TRY_ASSIGN(const auto rates, policy::tick_rates(replay.trace, 60));
  policy::SimOptions so;
  so.capacity = replay.capacity;
  so.boot_delay_s = boot.seconds;
  so.min_size = replay.stored.min_size;
  so.max_size = replay.stored.max_size;
  so.start_ms = replay.from;
  // Candidates: the current policy, the predictive defaults, and the peers and predictive's
  // margin tuned with hindsight;
  // `presets[k]` is the preset results[k] is a configuration of ("" for the current policy).
  TRY_ASSIGN(auto results,
             policy::simulate_runs(rates,
                                   {{"current", replay.policy},
                                    {"predictive", *policy::preset("predictive")}},
                                   so, policy::Compare::no));
  std::vector<std::string> presets = {"", "predictive"};
  std::vector<policy::SweepResult> sweeps;
  for (const char* peer : {"hpa", "target-tracking", "predictive"}) {
    TRY_ASSIGN(auto s, policy::sweep(rates, peer, o.budget, so));
    if (s.best) {
      results.push_back(*s.best);
      presets.emplace_back(peer);
    }
    sweeps.push_back(std::move(s));
  }
  // The cheapest within the budget; the current policy wins ties.
  std::optional<size_t> best;
  for (size_t k = 0; k < results.size(); ++k) {
    if (results[k].tau_u <= o.budget
        && (!best || results[k].instance_minutes < results[*best].instance_minutes)) {
      best = k;
    }
  }
  std::string command;
  nlohmann::json chosen = nullptr;
  if (best && results[*best].policy != "current") {
    const auto& r = results[*best];
    const auto& preset = presets[*best];
    TRY_ASSIGN(auto in_percent, policy::policy_from_json(r.config));
    auto in_units = policy::scale_metric(in_percent, replay.capacity / 100.0);
    // The replay resolved a horizon left to the boot time; the cluster keeps measuring its own.
    in_units.horizon_s = policy::preset(preset)->horizon_s;
    command = set_policy_command(replay.cluster, preset, in_units);
    chosen = nlohmann::json::parse(policy::to_json(in_units));
  }
  if (env.common.json) {
    auto runs = nlohmann::json::array();
    for (const auto& r : results) {
      runs.push_back(nlohmann::json::parse(policy::result_json(r, so)));
    }
    auto swept = nlohmann::json::array();
    for (const auto& s : sweeps) {
      swept.push_back({{"peer", s.peer}, {"tried", s.tried}, {"held", s.held}});
    }
    out(nlohmann::json{
      {"cluster", replay.cluster},
      {"from", replay.from},
      {"to", replay.to},
      {"ticks", rates.size()},
      {"capacity", replay.capacity},
      {"boot", {{"seconds", boot.seconds}, {"source", boot.source}, {"detail", boot.detail}}},
      {"budget_tau_U", o.budget},
      {"runs", runs},
      {"sweeps", swept},
      {"recommended", best ? nlohmann::json(results[*best].policy) : nlohmann::json(nullptr)},
      {"policy", chosen},
      {"command", command.empty() ? nlohmann::json(nullptr) : nlohmann::json(command)},
    }
          .dump(2));
    return {};
  }
  out(fmt::format("cluster {}: {} minutes of polls ({} to {}), capacity {} an instance, boot "
                  "time {} s ({}: {}), budget tau_U <= {}%",
                  replay.cluster, rates.size(), core::iso8601_utc(replay.from),
                  core::iso8601_utc(replay.to), replay.capacity, boot.seconds, boot.source,
                  boot.detail, o.budget));
  out(policy::results_table(results));
  for (const auto& s : sweeps) {
    out(fmt::format("{} tuned over {} configurations, {} within the budget", s.peer, s.tried,
                    s.held));
  }
  if (!best) {
    out(fmt::format("no policy held tau_U <= {}% on this history: nothing to recommend", o.budget));
  } else if (results[*best].policy == "current") {
    out("recommendation: keep the current policy (the cheapest within the budget)");
  } else {
    const auto& r = results[*best];
    const auto& current = results.front();
    out(fmt::format("recommendation: {}: {:.1f}% fewer instance-minutes than the current policy "
                    "({:.0f} against {:.0f}), tau_U {:.2f}% (current {:.2f}%). Not applied; to "
                    "apply it:",
                    r.policy,
                    current.instance_minutes > 0
                      ? 100.0 * (current.instance_minutes - r.instance_minutes)
                          / current.instance_minutes
                      : 0.0,
                    r.instance_minutes, current.instance_minutes, r.tau_u, current.tau_u));
    out("  " + command);
  }
  return {};
}

} // namespace

void register_recommend(CLI::App& app)
{
  auto o = std::make_shared<RecommendOptions>();
  auto* sub = add_command(app, "recommend",
                          "Replay a cluster's history through other policies and recommend the "
                          "cheapest within a tau_U budget (changes nothing)",
                          Traits{false, true, Needs::read_state},
                          [o](Env& env) { return run_recommend(env, *o); });
  sub->add_option("cluster", o->cluster, "The cluster")->required();
  sub->add_option("--days", o->days, "Days of its history to replay (default 7)")
    ->check(CLI::Range(1, 366));
  sub->add_option("--budget", o->budget, "The tau_U budget, percent (default 1)")
    ->check(CLI::Range(0.0, 100.0));
  sub->add_option("--capacity", o->capacity,
                  "Load one instance carries, in the metric's units (default: the predictive "
                  "policy's capacity)")
    ->check(CLI::PositiveNumber);
  sub->add_option("--boot-delay", o->boot_delay,
                  "Seconds from launch to in service (default: measured on its instances)")
    ->check(CLI::Range(0, 86400));
}

} // namespace cmd
