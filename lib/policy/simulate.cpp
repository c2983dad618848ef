#include "policy/simulate.hpp"

#include "policy/rule.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace policy {

namespace {

constexpr std::string_view k_header = "t_seconds,requests_per_second";

core::Result<Trace> bad_trace(const std::string& origin, size_t line, std::string what)
{
  return core::fail(core::ErrorKind::usage,
                    fmt::format("invalid trace '{}' line {}: {}", origin, line, what));
}

std::string_view trim(std::string_view s)
{
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

std::optional<double> to_double(std::string_view s)
{
  s = trim(s);
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

int sgn(int x)
{
  return (x > 0) - (x < 0);
}

// An instance of the replay: billed from launch, in service from `ready`.
struct SimInstance
{
  std::string name;
  Millis ready = 0;
  Millis leaves = 0;  // draining: when it is removed
};

} // namespace

core::Result<Trace> parse_trace(std::string_view text, const std::string& origin)
{
  Trace trace;
  size_t line_no = 0;
  size_t pos = 0;
  bool header = false;
  double first_t = 0;
  double prev_t = 0;
  size_t rows = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const auto line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (!header) {
      if (line != k_header) {
        return bad_trace(origin, line_no,
                         fmt::format("missing header: expected '{}'", k_header));
      }
      header = true;
      continue;
    }
    if (line.empty()) {
      continue;
    }
    const auto comma = line.find(',');
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos) {
      return bad_trace(origin, line_no, "expected two fields: t_seconds,requests_per_second");
    }
    const auto t = to_double(line.substr(0, comma));
    const auto rate = to_double(line.substr(comma + 1));
    if (!t || !rate || !std::isfinite(*t) || !std::isfinite(*rate)) {
      return bad_trace(origin, line_no, fmt::format("not a number in '{}'", line));
    }
    if (*t != std::floor(*t)) {
      return bad_trace(origin, line_no, fmt::format("time {} is not a whole second", *t));
    }
    if (*rate < 0) {
      return bad_trace(origin, line_no, fmt::format("negative rate {}", *rate));
    }
    // Refused rather than clamped: a clamped trace would measure another load than the file's.
    if (*rate > k_max_load) {
      return bad_trace(origin, line_no,
                       fmt::format("rate {} is above {} requests per second, the largest load "
                                   "sclman acts on",
                                   *rate, k_max_load));
    }
    if (rows > 0 && *t <= prev_t) {
      return bad_trace(origin, line_no,
                       fmt::format("time does not increase: {} after {}", *t, prev_t));
    }
    if (rows == 1) {
      const double step = *t - first_t;
      if (step > 1e6) {
        return bad_trace(origin, line_no, fmt::format("step {} s is too large", step));
      }
      trace.step_s = int(step);
    } else if (rows > 1 && *t - prev_t != trace.step_s) {
      return bad_trace(origin, line_no,
                       fmt::format("irregular step: {} s after {} s steps", *t - prev_t,
                                   trace.step_s));
    }
    if (rows == 0) {
      first_t = *t;
    }
    prev_t = *t;
    ++rows;
    trace.rates.push_back(*rate);
  }
  if (!header) {
    return bad_trace(origin, 1, fmt::format("missing header: expected '{}'", k_header));
  }
  if (rows < 2) {
    return bad_trace(origin, line_no, "a trace needs at least two rows to know its step");
  }
  return trace;
}

core::Result<std::vector<double>> tick_rates(const Trace& trace, int tick_s)
{
  if (tick_s < 1 || trace.step_s < 1) {
    return core::fail(core::ErrorKind::usage, fmt::format("tick {} s must be at least 1", tick_s));
  }
  const auto step = std::int64_t(trace.step_s);
  const auto tick = std::int64_t(tick_s);
  const std::int64_t duration = std::int64_t(trace.rates.size()) * step;
  const std::int64_t ticks = duration / tick;
  if (ticks < 1) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("trace of {} s is shorter than one tick of {} s", duration,
                                  tick_s));
  }
  std::vector<double> out;
  out.reserve(size_t(ticks));
  for (std::int64_t k = 0; k < ticks; ++k) {
    const std::int64_t from = k * tick;
    const std::int64_t to = from + tick;
    double requests = 0;
    for (std::int64_t i = from / step; i * step < to; ++i) {
      const std::int64_t overlap = std::min(to, (i + 1) * step) - std::max(from, i * step);
      requests += trace.rates[size_t(i)] * double(overlap);
    }
    out.push_back(requests / double(tick));
  }
  return out;
}

std::vector<int> demand_of(const std::vector<double>& rates, double capacity)
{
  std::vector<int> d;
  d.reserve(rates.size());
  for (double r : rates) {
    // ceil_int's epsilon keeps 200.0000001 / 200 (float noise in a mean) at one instance; it
    // saturates, so a tiny capacity cannot overflow the demand into a negative number.
    d.push_back(detail::ceil_int(r / capacity));
  }
  return d;
}

SimResult measure(std::vector<int> demand,
                  std::vector<int> supply,
                  std::vector<int> billed,
                  int changes,
                  int tick_s)
{
  SimResult r;
  const size_t n = demand.size();
  r.ticks = int(n);
  double under = 0;
  double over = 0;
  int with_demand = 0;
  int under_ticks = 0;
  int over_ticks = 0;
  double billed_sum = 0;
  double demand_sum = 0;
  for (size_t t = 0; t < n; ++t) {
    const int d = demand[t];
    const int s = supply[t];
    if (d > 0) {
      // theta is undefined without demand; such ticks still count in tau.
      under += double(std::max(d - s, 0)) / d;
      over += double(std::max(s - d, 0)) / d;
      ++with_demand;
    }
    under_ticks += s < d ? 1 : 0;
    over_ticks += s > d ? 1 : 0;
    billed_sum += billed[t];
    demand_sum += d;
  }
  int unstable = 0;
  for (size_t t = 1; t < n; ++t) {
    if (sgn(supply[t] - supply[t - 1]) != sgn(demand[t] - demand[t - 1])) {
      ++unstable;
    }
  }
  r.theta_u = with_demand > 0 ? 100.0 * under / with_demand : 0;
  r.theta_o = with_demand > 0 ? 100.0 * over / with_demand : 0;
  r.tau_u = n > 0 ? 100.0 * under_ticks / double(n) : 0;
  r.tau_o = n > 0 ? 100.0 * over_ticks / double(n) : 0;
  r.instability = n > 1 ? 100.0 * unstable / double(n - 1) : 0;
  r.changes = changes;
  r.instance_minutes = billed_sum * tick_s / 60.0;
  r.oracle_minutes = demand_sum * tick_s / 60.0;
  r.cost_vs_oracle = demand_sum > 0 ? billed_sum / demand_sum : 0;
  r.demand = std::move(demand);
  r.supply = std::move(supply);
  r.billed = std::move(billed);
  return r;
}

core::Result<SimResult> simulate(const std::vector<double>& rates,
                                 const PolicyConfig& policy_config,
                                 const SimOptions& o,
                                 const std::string& name)
{
  if (!(o.capacity > 0) || !std::isfinite(o.capacity)) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("capacity {} must be above 0", o.capacity));
  }
  if (o.boot_delay_s < 0 || o.tick_s < 1 || o.drain_s < 0) {
    return core::fail(core::ErrorKind::usage,
                      "boot delay and drain must not be negative, tick at least 1");
  }
  const int syncs = o.sync_s <= 0 || o.sync_s >= o.tick_s ? 1 : o.tick_s / o.sync_s;
  if (syncs > 1 && o.tick_s % o.sync_s != 0) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("a sync period of {} s does not divide the tick of {} s",
                                  o.sync_s, o.tick_s));
  }
  const Millis sync_ms = Millis(o.tick_s / syncs) * detail::k_ms;
  // A predictive horizon left to the boot time covers the boot delay and one tick.
  const BootTime boot{o.boot_delay_s, "given", 0, "simulate --boot-delay", o.tick_s};
  PolicyConfig config = with_boot_time(policy_config, boot);
  config.min_size = o.min_size;
  config.max_size = o.max_size;
  TRY(validate(config));

  const auto demand = demand_of(rates, o.capacity);
  const Millis tick_ms = Millis(o.tick_s) * detail::k_ms;
  const Millis boot_ms = Millis(o.boot_delay_s) * detail::k_ms;
  const Millis drain_ms = Millis(o.drain_s) * detail::k_ms;
  const Millis window = history_window(config);
  std::vector<int> supply;
  std::vector<int> billed;
  supply.reserve(rates.size());
  billed.reserve(rates.size());

  // Start at the size the first tick needs, all in service (and warm: since 0 means unknown).
  std::vector<SimInstance> alive;
  std::vector<SimInstance> draining;  // out of service, billed until `leaves`
  int launched = 0;
  int boots = 0;
  int reclaimed = 0;
  const int initial = std::clamp(demand.empty() ? 0 : demand[0], o.min_size, o.max_size);
  for (int i = 0; i < initial; ++i) {
    alive.push_back(SimInstance{fmt::format("i-{}", ++launched), 0});
  }
  History h;
  // The predictive rule keeps its model from one tick to the next instead of rebuilding it.
  h.memo = make_memo(false);
  int changes = 0;
  // The poll at `t`, where each instance that served the tick starting at `served_from` reports
  // `util`, and the decision on it, carried out at once: new instances serve from the first
  // tick that starts boot_delay after `t`.
  const auto decide_at = [&](Millis t, Millis served_from, double util) {
    // Gone by the decision: not there to reclaim.
    std::erase_if(draining, [&](const SimInstance& i) { return i.leaves <= t; });
    Tick tick;
    tick.ts = t;
    for (const auto& i : alive) {
      if (i.ready <= served_from) {
        tick.samples.push_back(InstanceSample{i.name, util, i.ready});
      }
    }
    h.ticks.push_back(std::move(tick));
    h.in_service = 0;
    for (const auto& i : alive) {
      h.in_service += i.ready <= t ? 1 : 0;
    }
    h.desired = int(alive.size());
    h.booting = h.desired - h.in_service;
    const auto d = decide(h, config, t);
    if (o.on_decision) {
      o.on_decision(h, config, t, d);
    }
    const int from = int(alive.size());
    if (d.to > from) {
      for (int i = from; i < d.to; ++i) {
        if (o.reclaim && !draining.empty()) {
          // The latest drained is at the back (drained in order); it serves from now on.
          alive.push_back(draining.back());
          draining.pop_back();
          ++reclaimed;
          continue;
        }
        alive.push_back(SimInstance{fmt::format("i-{}", ++launched), t + boot_ms});
        ++boots;
      }
    } else if (d.to < from) {
      // Cancel what is still booting first, then drain the youngest in service.
      std::stable_sort(alive.begin(), alive.end(),
                       [](const SimInstance& a, const SimInstance& b) { return a.ready < b.ready; });
      for (size_t i = size_t(std::max(d.to, 0)); i < alive.size(); ++i) {
        if (drain_ms > 0 && alive[i].ready <= t) {
          alive[i].leaves = t + drain_ms;
          draining.push_back(alive[i]);
        }
      }
      alive.resize(size_t(std::max(d.to, 0)));
    }
    if (d.to != from) {
      h.actions.push_back(PastAction{t, from, d.to});
      ++changes;
    }
  };
  for (size_t k = 0; k < rates.size(); ++k) {
    const Millis start = o.start_ms + Millis(k) * tick_ms;
    const Millis now = start + tick_ms;
    int in_service = 0;
    for (const auto& i : alive) {
      in_service += i.ready <= start ? 1 : 0;
    }
    supply.push_back(in_service);
    std::erase_if(draining, [&](const SimInstance& i) { return i.leaves <= start; });
    billed.push_back(int(alive.size() + draining.size()));

    // Drop what the policy does not read, in batches so the cost stays linear.
    if (!h.ticks.empty() && h.ticks.front().ts < now - window - 600 * tick_ms) {
      const auto keep = std::find_if(h.ticks.begin(), h.ticks.end(),
                                     [&](const Tick& t) { return t.ts >= now - window; });
      h.ticks.erase(h.ticks.begin(), keep);
      const auto keep_action = std::find_if(h.actions.begin(), h.actions.end(),
                                            [&](const PastAction& a) { return a.ts >= now - window; });
      h.actions.erase(h.actions.begin(), keep_action);
    }
    // Each instance that served the tick reports its utilisation, at each sync (once at the
    // tick's end without one): the tick's load is the same throughout.
    const double util = in_service > 0 ? 100.0 * rates[k] / (in_service * o.capacity) : 0.0;
    for (int j = 1; j <= syncs; ++j) {
      decide_at(start + Millis(j) * sync_ms, start, util);
    }
    if (o.on_progress && (k + 1) % k_progress_ticks == 0) {
      o.on_progress(name, k + 1, rates.size());
    }
  }
  if (o.on_progress) {
    o.on_progress(name, rates.size(), rates.size());
  }
  auto r = measure(demand, std::move(supply), std::move(billed), changes, o.tick_s);
  r.policy = name;
  r.config = to_json(config);
  r.boots = boots;
  r.reclaimed = reclaimed;
  r.sync_s = int(sync_ms / detail::k_ms);
  return r;
}

SimResult oracle(const std::vector<double>& rates, const SimOptions& o)
{
  auto d = demand_of(rates, o.capacity);
  int changes = 0;
  for (size_t t = 1; t < d.size(); ++t) {
    changes += d[t] != d[t - 1] ? 1 : 0;
  }
  auto r = measure(d, d, d, changes, o.tick_s);
  r.policy = "oracle";
  return r;
}

std::vector<std::pair<std::string, PolicyConfig>> compare_peers()
{
  std::vector<std::pair<std::string, PolicyConfig>> out;
  for (const char* name : {"threshold", "hpa", "target-tracking"}) {
    out.emplace_back(name, *preset(name));
  }
  return out;
}

core::Result<std::pair<std::string, PolicyConfig>> policy_arg(std::string_view arg)
{
  if (!arg.empty() && arg.front() == '{') {
    auto c = policy_from_json(arg);
    if (!c) {
      return core::fail(core::ErrorKind::usage, c.error().message);
    }
    std::string name = to_string(c->kind);
    try {
      const auto j = nlohmann::json::parse(arg);
      name = j.value("preset", name);
    } catch (const nlohmann::json::exception&) {
      // policy_from_json parsed it already
    }
    return std::pair{name, *c};
  }
  TRY_ASSIGN(auto c, preset(arg));
  return std::pair{std::string(arg), c};
}

std::string result_json(const SimResult& r, const SimOptions& o)
{
  nlohmann::json j = {
    {"policy", r.policy},
    {"theta_U", r.theta_u},
    {"theta_O", r.theta_o},
    {"tau_U", r.tau_u},
    {"tau_O", r.tau_o},
    {"instability", r.instability},
    {"changes", r.changes},
    {"boots", r.boots},
    {"reclaimed", r.reclaimed},
    {"instance_minutes", r.instance_minutes},
    {"oracle_minutes", r.oracle_minutes},
    {"cost_vs_oracle", r.cost_vs_oracle},
    {"ticks", r.ticks},
    {"sync", r.sync_s},
    {"capacity", o.capacity},
    {"boot_delay", o.boot_delay_s},
    {"drain", o.drain_s},
    {"reclaim", o.reclaim},
    {"tick", o.tick_s},
  };
  j["config"] = r.config.empty() ? nlohmann::json(nullptr) : nlohmann::json::parse(r.config);
  return j.dump();
}

std::string reclaim_savings(const SimResult& with, const SimResult& without)
{
  return fmt::format("reclaim, {}: {} draining instances taken back; boots {} -> {}, tau_U "
                     "{:.2f}% -> {:.2f}%, theta_U {:.2f}% -> {:.2f}%, instance-minutes {:.0f} -> "
                     "{:.0f} (without -> with)",
                     with.policy, with.reclaimed, without.boots, with.boots, without.tau_u,
                     with.tau_u, without.theta_u, with.theta_u, without.instance_minutes,
                     with.instance_minutes);
}

std::string results_table(const std::vector<SimResult>& results)
{
  std::string out = fmt::format("{:<22} {:>11} {:>7} {:>8} {:>7} {:>8} {:>8} {:>8} {:>12}\n",
                                "policy", "cost/oracle", "tau_U%", "theta_U%", "tau_O%",
                                "theta_O%", "instab%", "changes", "inst-min");
  for (const auto& r : results) {
    out += fmt::format("{:<22} {:>11.3f} {:>7.2f} {:>8.2f} {:>7.2f} {:>8.2f} {:>8.2f} {:>8} {:>12.0f}\n",
                       r.policy, r.cost_vs_oracle, r.tau_u, r.theta_u, r.tau_o, r.theta_o,
                       r.instability, r.changes, r.instance_minutes);
  }
  return out;
}

core::Result<std::vector<SimResult>>
simulate_runs(const std::vector<double>& rates,
              std::vector<std::pair<std::string, PolicyConfig>> runs,
              const SimOptions& options,
              Compare compare)
{
  if (compare == Compare::yes) {
    for (auto& peer : compare_peers()) {
      runs.push_back(std::move(peer));
    }
  }
  std::vector<SimResult> results;
  for (const auto& [name, config] : runs) {
    // HPA as Kubernetes runs it: its controller syncs every hpa_sync_s within each tick.
    SimOptions o = options;
    if (name == "hpa") {
      o.sync_s = options.hpa_sync_s;
    }
    TRY_ASSIGN(auto r, simulate(rates, config, o, name));
    results.push_back(std::move(r));
  }
  if (compare == Compare::yes) {
    results.push_back(oracle(rates, options));
  }
  return results;
}

PolicyConfig scale_metric(PolicyConfig c, double factor)
{
  c.high *= factor;
  c.low *= factor;
  for (auto* bands : {&c.steps_out, &c.steps_in}) {
    for (auto& b : *bands) {
      if (b.lower) {
        *b.lower *= factor;
      }
      if (b.upper) {
        *b.upper *= factor;
      }
    }
  }
  c.target *= factor;
  c.capacity *= factor;
  return c;
}

Trace trace_of_polls(const std::vector<std::pair<Millis, double>>& totals)
{
  constexpr Millis k_minute = 60'000;
  Trace t;
  t.step_s = 60;
  if (totals.empty()) {
    return t;
  }
  const Millis first = totals.front().first;
  double current = totals.front().second;
  size_t next = 0;
  for (Millis m = first; m <= totals.back().first; m += k_minute) {
    while (next < totals.size() && totals[next].first < m + k_minute) {
      current = totals[next++].second;
    }
    t.rates.push_back(current);
  }
  return t;
}

core::Result<std::vector<PolicyConfig>> sweep_grid(std::string_view peer)
{
  std::vector<PolicyConfig> grid;
  if (peer == "hpa") {
    const auto base = *preset("hpa");
    for (int target = 30; target <= 95; target += 5) {
      for (int window : {0, 60, 120, 180, 300, 600}) {
        for (double tolerance : {0.0, 0.05, 0.1}) {
          auto c = base;
          c.target = target;
          c.down_stabilization_s = window;
          c.tolerance_out = tolerance;
          c.tolerance_in = tolerance;
          grid.push_back(c);
        }
      }
    }
    return grid;
  }
  if (peer == "target-tracking") {
    const auto base = *preset("target-tracking");
    for (int target = 30; target <= 95; target += 5) {
      for (int cooldown : {0, 60, 300}) {
        auto c = base;
        c.target = target;
        c.scale_in_cooldown_s = cooldown;
        grid.push_back(c);
      }
    }
    return grid;
  }
  if (peer == "predictive") {
    // Its margin only: the share of past errors covered while the budget is unspent and at it.
    // Its defaults (0.6, 0.95) are one of them; the others spend less of the budget, for traffic
    // that jumps faster than an instance boots (docs/BENCHMARKS.md, "What perfect foresight
    // costs").
    const auto base = *preset("predictive");
    for (double low : {0.6, 0.8, 0.95}) {
      for (double high : {0.95, 0.99}) {
        auto c = base;
        c.quantile_low = low;
        c.quantile = high;
        grid.push_back(c);
      }
    }
    return grid;
  }
  return core::fail(core::ErrorKind::usage,
                    fmt::format("cannot sweep '{}': sweep hpa, target-tracking or predictive",
                                peer));
}

core::Result<SweepResult> sweep(const std::vector<double>& rates,
                                std::string_view peer,
                                double budget,
                                const SimOptions& options)
{
  TRY_ASSIGN(const auto grid, sweep_grid(peer));
  SweepResult out;
  out.peer = std::string(peer);
  out.budget = budget;
  for (const auto& c : grid) {
    TRY_ASSIGN(auto runs, simulate_runs(rates, {{out.peer, c}}, options, Compare::no));
    auto& r = runs.front();
    ++out.tried;
    if (r.tau_u > budget) {
      continue;
    }
    ++out.held;
    if (!out.best || r.instance_minutes < out.best->instance_minutes) {
      out.best = std::move(r);
    }
  }
  if (out.best) {
    out.best->policy = out.peer + "-tuned";
  }
  return out;
}

std::string series_csv(const std::vector<double>& rates, const std::vector<SimResult>& results)
{
  std::ostringstream f;
  f << "tick,rate,demand";
  for (const auto& r : results) {
    f << "," << r.policy << "_supply," << r.policy << "_billed";
  }
  f << "\n";
  for (size_t t = 0; t < rates.size(); ++t) {
    f << t << "," << rates[t] << "," << (results.empty() ? 0 : results[0].demand[t]);
    for (const auto& r : results) {
      f << "," << r.supply[t] << "," << r.billed[t];
    }
    f << "\n";
  }
  return f.str();
}

} // namespace policy
