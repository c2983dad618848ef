// cmd/simulate.cpp: `sclman simulate`: replay a trace through the policy code `decide` runs and
// print the elasticity metrics, optionally next to the reference peers and the oracle.
#include "policy/simulate.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace cmd {

namespace {

struct Options
{
  std::string trace;
  double capacity = 0;
  int boot_delay = 180;
  int tick = 60;
  int min = 1;
  int max = 100'000;
  std::vector<std::string> policies;
  bool compare = false;
  std::string series;
  std::string start;  // ISO-8601 time of the trace's t = 0
};

// Return the ms since the epoch of an ISO-8601 time: 2026-11-27, 2026-11-27T08:00,
// 2026-11-27T08:00:30 with Z, +HH:MM, -HHMM or nothing (UTC) after the time.
core::Result<core::Millis> parse_start(const std::string& text)
{
  const auto bad = [&text]() {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("invalid --start '{}': expected an ISO-8601 time such as "
                                  "2026-11-27T08:00:00Z",
                                  text));
  };
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed)
        != 3
      || consumed != 10) {
    return bad();
  }
  std::string rest = text.substr(10);
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != ' ') {
      return bad();
    }
    int n = 0;
    if (std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) != 2 || n != 5) {
      return bad();
    }
    rest = rest.substr(1 + 5);
    if (rest.size() >= 3 && rest[0] == ':') {
      if (std::sscanf(rest.c_str() + 1, "%2d%n", &tm.tm_sec, &n) != 1 || n != 2) {
        return bad();
      }
      rest = rest.substr(3);
    }
  }
  long offset_s = 0;
  if (rest == "Z" || rest.empty()) {
    offset_s = 0;
  } else if (rest[0] == '+' || rest[0] == '-') {
    int hh = 0;
    int mm = 0;
    int n = 0;
    if ((std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5)
        && (std::sscanf(rest.c_str() + 1, "%2d%2d%n", &hh, &mm, &n) != 2 || n != 4)) {
      return bad();
    }
    if (size_t(n) + 1 != rest.size() || hh > 23 || mm > 59) {
      return bad();
    }
    offset_s = (rest[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
  } else {
    return bad();
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23
      || tm.tm_min > 59 || tm.tm_sec > 59 || tm.tm_year < 1970) {
    return bad();
  }
  const int mday = tm.tm_mday;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm);
  if (tm.tm_mday != mday) {
    return bad();  // timegm normalised a day the month does not have (2026-02-30)
  }
  const auto ms = (core::Millis(t) - offset_s) * 1000;
  if (ms < 0) {
    return bad();
  }
  return ms;
}

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

// Write one CSV row per tick: time, rate, demand, then supply and billed size of each run.
core::Result<void> write_series(const std::string& path,
                                const std::vector<double>& rates,
                                const std::vector<policy::SimResult>& results)
{
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("cannot write series '{}': {}", path, std::strerror(errno)));
  }
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
  if (!f.flush()) {
    return core::fail(core::ErrorKind::usage, fmt::format("cannot write series '{}'", path));
  }
  return {};
}

core::Result<void> run_simulate(Env& env, const Options& o)
{
  TRY_ASSIGN(const auto text, read_file(o.trace, "trace"));
  TRY_ASSIGN(const auto trace, policy::parse_trace(text, o.trace));
  TRY_ASSIGN(const auto rates, policy::tick_rates(trace, o.tick));
  policy::SimOptions so;
  so.capacity = o.capacity;
  so.boot_delay_s = o.boot_delay;
  so.tick_s = o.tick;
  so.min_size = o.min;
  so.max_size = o.max;
  if (!o.start.empty()) {
    TRY_ASSIGN(so.start_ms, parse_start(o.start));
  }

  std::vector<std::pair<std::string, policy::PolicyConfig>> runs;
  for (const auto& arg : o.policies.empty() ? std::vector<std::string>{"predictive"} : o.policies) {
    std::string spec = arg;
    if (!spec.empty() && spec.front() == '@') {
      TRY_ASSIGN(spec, read_file(spec.substr(1), "policy file"));
    }
    TRY_ASSIGN(auto run, policy::policy_arg(spec));
    runs.push_back(std::move(run));
  }
  if (o.compare) {
    for (auto& peer : policy::compare_peers()) {
      runs.push_back(std::move(peer));
    }
  }
  std::vector<policy::SimResult> results;
  for (const auto& [name, config] : runs) {
    TRY_ASSIGN(auto r, policy::simulate(rates, config, so, name));
    results.push_back(std::move(r));
  }
  if (o.compare) {
    results.push_back(policy::oracle(rates, so));
  }
  if (!o.series.empty()) {
    TRY(write_series(o.series, rates, results));
  }
  if (env.common.json) {
    auto report = nlohmann::json::array();
    for (const auto& r : results) {
      auto j = nlohmann::json::parse(policy::result_json(r, so));
      if (!o.start.empty()) {
        j["start"] = o.start;
      }
      report.push_back(std::move(j));
    }
    out(report.dump(2));
  } else {
    out(fmt::format("trace {}: {} ticks of {} s, capacity {}, boot delay {} s", o.trace,
                    rates.size(), o.tick, o.capacity, o.boot_delay));
    out(policy::results_table(results));
  }
  return {};
}

} // namespace

void register_simulate(CLI::App& app)
{
  auto o = std::make_shared<Options>();
  auto* sub = add_command(app, "simulate", "Replay a load trace through a policy and measure it",
                          Traits{false, true, Needs::nothing},
                          [o](Env& env) { return run_simulate(env, *o); });
  sub->add_option("--trace", o->trace, "CSV trace: t_seconds,requests_per_second")->required();
  sub->add_option("--capacity", o->capacity, "Requests per second one instance serves")
    ->required()
    ->check(greater_than_zero());
  sub->add_option("--boot-delay", o->boot_delay, "Seconds from launch to in service")
    ->required()
    ->check(zero_or_more());
  sub->add_option("--tick", o->tick, "Seconds between decisions; the trace is averaged per tick")
    ->capture_default_str()
    ->check(greater_than_zero());
  sub->add_option("--policy", o->policies,
                  "A preset (threshold, step, target, hpa, target-tracking, predictive), a JSON "
                  "policy or @FILE; repeatable; default predictive");
  sub->add_flag("--compare", o->compare,
                "Also run the original threshold rule, HPA defaults, AWS target tracking and "
                "the oracle");
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
