// `sclman simulate`: replay a request-rate trace through the policy code that `decide` runs, and
// measure the result with the SPEC Research Group elasticity metrics (as in BUNGEE). Pure: the
// caller reads the trace file.
#pragma once

#include "core/result.hpp"
#include "policy/policy.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

// A request-rate trace: rates[i] is the mean rate over [i * step_s, (i + 1) * step_s).
struct Trace
{
  int step_s = 0;
  std::vector<double> rates;
};

// Return the trace in CSV `text` (header `t_seconds,requests_per_second`, then rows at a fixed
// step); `origin` names it in errors. A missing header, bad numbers, time that does not increase,
// an irregular step and negative rates are usage errors naming the line.
core::Result<Trace> parse_trace(std::string_view text, const std::string& origin);

// Return the mean rate of each `tick_s` interval of `trace`, reading the trace as constant over
// each of its steps; a partial last tick is dropped.
core::Result<std::vector<double>> tick_rates(const Trace& trace, int tick_s);

// How many ticks a replay goes between two calls of SimOptions::on_progress.
constexpr size_t k_progress_ticks = 4096;

struct SimOptions
{
  double capacity = 0;     // requests per second one instance serves (C)
  int boot_delay_s = 180;  // from launch (billed) to in service
  int tick_s = 60;         // the decision period; the trace is averaged per tick
  int min_size = 1;        // replace the policy's bounds: the trace decides the size
  int max_size = 100'000;
  // The wall-clock time of the trace's t = 0 (ms since the epoch): scheduled min/max changes
  // and anything else that reads the time see the trace at that date.
  Millis start_ms = 0;
  // Scale-in: in-service victims drain this long (billed, serving nothing) before they are
  // removed; 0: removed at once. Booting victims are cancelled at once either way.
  int drain_s = 0;
  // The reclaim rule (engine::fill_to_desired): a scale-out first takes draining instances back
  // into service (the latest drained first; booted, they serve from the next tick), then
  // launches only what is still missing.
  bool reclaim = true;
  // How often the policy decides within a tick, in seconds (0, or the tick or more: once, at the
  // tick's end); it must divide the tick. Each decision sees the tick's poll, and what it
  // launches boots from then.
  int sync_s = 0;
  // The sync period simulate_runs gives the runs named "hpa" (the preset, alone or in JSON): the
  // Kubernetes HPA controller syncs every 15 s (--horizontal-pod-autoscaler-sync-period), so its
  // rate limit (double, or 4 more, per 15 s) compounds four times in a minute.
  int hpa_sync_s = 15;
  // Called with every decision and what it was made from (tests compare it with decide()).
  std::function<void(const History&, const PolicyConfig&, Millis, const Decision&)> on_decision;
  // Called every k_progress_ticks ticks and after the last one with the run's name, the ticks
  // replayed and their number (simulate draws a progress line with it on a terminal).
  std::function<void(const std::string&, size_t, size_t)> on_progress;
};

// The metrics of one run. Percentages are 0 to 100.
struct SimResult
{
  std::string policy;
  std::string config;  // the policy as JSON ("" for the oracle)
  int ticks = 0;
  int sync_s = 0;          // seconds between its decisions (the tick without syncs)
  double theta_u = 0;      // mean of max(D - S, 0) / D over ticks with D > 0
  double theta_o = 0;      // mean of max(S - D, 0) / D over ticks with D > 0
  double tau_u = 0;        // share of ticks with S < D
  double tau_o = 0;        // share of ticks with S > D
  double instability = 0;  // share of tick pairs where sgn(dS) != sgn(dD)
  int changes = 0;         // size changes the policy made
  int boots = 0;           // instances launched after the start
  int reclaimed = 0;       // draining instances taken back instead of a launch
  double instance_minutes = 0;  // billed: from launch to removal
  double oracle_minutes = 0;    // sum of D
  double cost_vs_oracle = 0;    // instance_minutes / oracle_minutes (1 = the oracle)
  std::vector<int> demand;   // D per tick
  std::vector<int> supply;   // S per tick
  std::vector<int> billed;   // instances billed per tick
};

// Return the demand of each tick: ceil(rate / capacity) instances.
std::vector<int> demand_of(const std::vector<double>& rates, double capacity);

// Return the metrics of `supply` against `demand` with `billed` instances per tick.
SimResult measure(std::vector<int> demand,
                  std::vector<int> supply,
                  std::vector<int> billed,
                  int changes,
                  int tick_s);

// Return the result of replaying per-tick `rates` through `config`, named `name`. The policy sees,
// once per tick, the utilisation of each instance in service in percent of `capacity` and the
// size it asked for; it returns the desired size. New instances are billed at once and serve
// from the first tick that starts `boot_delay_s` after launch; scale-in cancels booting
// instances first, then drains the youngest in service for `drain_s` (billed until removed),
// which a scale-out takes back first with `reclaim`.
core::Result<SimResult> simulate(const std::vector<double>& rates,
                                 const PolicyConfig& config,
                                 const SimOptions& options,
                                 const std::string& name);

// Return the oracle: supply equals demand every tick, with no boot time.
SimResult oracle(const std::vector<double>& rates, const SimOptions& options);

// Return the reference peers of `--compare`: the original threshold rule, HPA with its defaults
// and AWS-style target tracking, by name.
std::vector<std::pair<std::string, PolicyConfig>> compare_peers();

// Return the policy named by `arg`: a preset name or a JSON object (see policy_from_json), with
// the name to show for it.
core::Result<std::pair<std::string, PolicyConfig>> policy_arg(std::string_view arg);

enum class Compare { no, yes };

// Return the results of replaying `rates` through each of `runs` (name and policy), then, with
// `compare`, through the reference peers of compare_peers() and the oracle. Runs named "hpa"
// sync every options.hpa_sync_s.
core::Result<std::vector<SimResult>>
simulate_runs(const std::vector<double>& rates,
              std::vector<std::pair<std::string, PolicyConfig>> runs,
              const SimOptions& options,
              Compare compare);

// Return `config` with every key that holds a value of the metric (high, low, the step bands,
// target, capacity) multiplied by `factor`: a cluster's policy, in its metric's units, in percent
// of an instance's capacity C (what simulate's policies see) with 100 / C, and back with C / 100.
PolicyConfig scale_metric(PolicyConfig config, double factor);

// Return a trace of one minute steps from a cluster's polls at `ts` with `totals` (the summed
// load of its instances, oldest first): each minute from the first poll's takes the total of its
// last poll, or the one before it when it had none.
Trace trace_of_polls(const std::vector<std::pair<Millis, double>>& totals);

// Return the configurations `simulate --sweep PEER` tries, each named PEER: for "hpa" (synced
// as simulate_runs syncs it) target 30, 35, ..., 95 x down_stabilization 0, 60, 120, 180, 300,
// 600 s x tolerance 0, 0.05, 0.1 (252); for "target-tracking" target 30, ..., 95 x
// scale_in_cooldown 0, 60, 300 s (42), the knobs AWS lets users set; for "predictive" its margin,
// quantile_low 0.6, 0.8, 0.95 x quantile 0.95, 0.99 (6). Other names are usage errors.
core::Result<std::vector<PolicyConfig>> sweep_grid(std::string_view peer);

// What a sweep found: how many configurations it tried and held the budget, and the cheapest
// of those (fewest instance-minutes; nothing if none held it).
struct SweepResult
{
  std::string peer;
  double budget = 0;  // tau_U, percent
  int tried = 0;
  int held = 0;
  std::optional<SimResult> best;
};

// Return the sweep of `peer` over its grid on `rates`: each configuration replayed as
// simulate_runs replays it, the cheapest with tau_U <= `budget` percent kept, named PEER-tuned.
core::Result<SweepResult> sweep(const std::vector<double>& rates,
                                std::string_view peer,
                                double budget,
                                const SimOptions& options);

// Return the per-tick CSV `simulate --series` writes: a header, then for each tick its index,
// rate and demand, then the supply and billed size of each of `results`.
std::string series_csv(const std::vector<double>& rates, const std::vector<SimResult>& results);

// Return one JSON object text with the keys policy, theta_U, theta_O, tau_U, tau_O,
// instability, changes, instance_minutes, oracle_minutes, cost_vs_oracle, ticks and config.
std::string result_json(const SimResult& result, const SimOptions& options);

// Return one line for people: what the reclaim rule saved in `with` (reclaim on) against
// `without` (the same run, reclaim off): boots, under-provisioned time and instance-minutes.
std::string reclaim_savings(const SimResult& with, const SimResult& without);

// Return a table of results for people, one line per policy.
std::string results_table(const std::vector<SimResult>& results);

} // namespace policy
