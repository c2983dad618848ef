// cmd/report.cpp: `sclman report --output DIR`: the static dashboard (index.html with SVG charts
// of load, size and decisions over the last day, members, last decisions) and status.json and
// history.json beside it, written atomically; cron regenerates it each minute.
#include "core/file.hpp"
#include "report/dashboard.hpp"
#include "run.hpp"
#include "views.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>

namespace cmd {

namespace {

struct Options
{
  std::string output;
  int hours = 24;
};

core::Result<report::ClusterView> view_of(state::Store& store, const state::Cluster& c,
                                          const nlohmann::json& status, core::Millis since)
{
  report::ClusterView v;
  v.name = c.name;
  v.status = state::to_string(c.status);
  v.lb_address = status["lb_address"].get<std::string>();
  v.policy = status["policy"].value("kind", "?");
  v.size = status["size"].get<int>();
  v.desired = c.desired;
  v.min = status["min"].get<int>();
  v.max = status["max"].get<int>();
  TRY_ASSIGN(const auto samples, store.samples_since(c.id, since));
  // One point per poll: the mean of the present values, and how many instances were polled.
  std::map<core::Millis, std::pair<double, int>> load;
  std::map<core::Millis, int> polled;
  for (const auto& s : samples) {
    ++polled[s.ts];
    if (s.value) {
      load[s.ts].first += *s.value;
      load[s.ts].second += 1;
    }
  }
  for (const auto& [ts, sum] : load) {
    v.load.push_back({ts, sum.first / sum.second});
  }
  for (const auto& [ts, n] : polled) {
    v.size_history.push_back({ts, static_cast<double>(n)});
  }
  TRY_ASSIGN(const auto decisions, store.decisions(c.id, 10'000));
  for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
    if (it->ts >= since) {
      v.decisions.push_back(
        {it->ts, policy::to_string(it->action), it->from_size, it->to_size, it->reason,
         state::to_string(it->status)});
    }
  }
  for (const auto& i : status["instances"]) {
    v.members.push_back({i["name"].get<std::string>(), i["role"].get<std::string>(),
                         i["address"].get<std::string>(), i["state"].get<std::string>(),
                         i["age_seconds"].get<core::Millis>() * 1000, i.value("error", "")});
  }
  return v;
}

nlohmann::json history_json(const report::ClusterView& v)
{
  nlohmann::json load = nlohmann::json::array();
  for (const auto& p : v.load) {
    load.push_back({p.ts, p.value});
  }
  nlohmann::json size = nlohmann::json::array();
  for (const auto& p : v.size_history) {
    size.push_back({p.ts, p.value});
  }
  nlohmann::json decisions = nlohmann::json::array();
  for (const auto& d : v.decisions) {
    if (d.action != "hold") {
      decisions.push_back({{"ts", d.ts}, {"action", d.action}, {"from", d.from}, {"to", d.to},
                           {"reason", d.reason}, {"status", d.status}});
    }
  }
  return {{"name", v.name}, {"load", load}, {"size", size}, {"decisions", decisions}};
}

core::Result<void> run_report(Env& env, const Options& o)
{
  if (o.output.empty()) {
    return core::fail(core::ErrorKind::usage, "--output DIR is required");
  }
  if (o.hours < 1 || o.hours > 24 * 31) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--hours {} must be from 1 to {}", o.hours, 24 * 31));
  }
  std::error_code ec;
  std::filesystem::create_directories(o.output, ec);
  if (ec) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("cannot create '{}': {}", o.output, ec.message()));
  }
  const auto now = env.clock.now();
  const core::Millis window = core::Millis(o.hours) * 3'600'000;
  TRY_ASSIGN(const auto clusters, env.store->clusters());
  nlohmann::json status = nlohmann::json::array();
  nlohmann::json history = nlohmann::json::array();
  std::vector<report::ClusterView> views;
  for (const auto& c : clusters) {
    TRY_ASSIGN(auto s, cluster_json(*env.store, c, false));
    TRY_ASSIGN(auto v, view_of(*env.store, c, s, now - window));
    history.push_back(history_json(v));
    status.push_back(std::move(s));
    views.push_back(std::move(v));
  }
  if (env.dry_run() == DryRun::yes) {
    out(fmt::format("would write index.html, status.json and history.json for {} clusters to '{}'",
                    views.size(), o.output));
    return {};
  }
  TRY(core::write_file_atomic(o.output + "/status.json", status.dump(2) + "\n"));
  TRY(core::write_file_atomic(o.output + "/history.json",
                               nlohmann::json{{"generated", now}, {"clusters", history}}.dump()
                                 + "\n"));
  // The charts start at the oldest data within the window, so a young cluster fills them.
  core::Millis from = now;
  for (const auto& v : views) {
    if (!v.load.empty()) {
      from = std::min(from, v.load.front().ts);
    }
    if (!v.decisions.empty()) {
      from = std::min(from, v.decisions.front().ts);
    }
  }
  from = std::max(now - window, from - (now - from) / 20 - 1000);
  TRY(core::write_file_atomic(o.output + "/index.html", report::render_html(views, from, now)));
  spdlog::info("report.written dir={} clusters={}", o.output, views.size());
  return {};
}

} // namespace

void register_report(CLI::App& app)
{
  auto o = std::make_shared<Options>();
  auto* sub = add_command(app, "report",
                          "Write the static dashboard and status.json/history.json to a directory",
                          Traits{true, false, Needs::read_state},
                          [o](Env& env) { return run_report(env, *o); });
  sub->add_option("-o,--output", o->output, "Directory to write (created if missing)")->required();
  sub->add_option("--hours", o->hours, "Hours of history in the charts (default 24)");
}

} // namespace cmd
