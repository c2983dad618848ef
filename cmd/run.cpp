#include "run.hpp"

#include "core/exit_code.hpp"
#include "core/file.hpp"
#include "report/textfile.hpp"
#include "views.hpp"
#include "core/log.hpp"
#include "core/names.hpp"
#include "state/migrate.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#ifndef SCLMAN_VERSION
#define SCLMAN_VERSION "0.0.0"
#endif
#ifndef SCLMAN_BUILD
#define SCLMAN_BUILD "unknown"
#endif

namespace cmd {

namespace {

struct Registered
{
  std::string name;
  Traits traits;
  Handler handler;
  std::shared_ptr<Common> common;
};

std::map<const CLI::App*, Registered>& registry()
{
  static std::map<const CLI::App*, Registered> r;
  return r;
}

// Print the one error line of a failed run.
void report(const std::string& command, const core::Error& e)
{
  std::fprintf(stderr, "sclman %s: error: %s\n", command.c_str(), e.message.c_str());
}

core::Result<void> prepare(Env& env, const Traits& traits)
{
  TRY_ASSIGN(env.config, core::load_config(env.common.config_path));
  std::string level = env.config.log.level;
  if (env.common.cron && (level == "info" || level == "debug" || level == "trace")) {
    level = "warn";  // quiet runs: cron mails only what needs an operator
  }
  if (env.common.verbose == 1) {
    level = "debug";
  } else if (env.common.verbose > 1) {
    level = "trace";
  }
  core::setup_logging(env.command,
                      level,
                      env.common.log == "syslog" ? core::LogTarget::syslog
                                                 : core::LogTarget::stderr_text,
                      env.common.log_format == "json" ? core::LogFormat::json
                                                      : core::LogFormat::text);
  env.deadline = core::steady_now() + core::Millis(env.config.manager.run_deadline) * 1000;
  if (traits.needs == Needs::nothing) {
    return {};
  }
  const auto path = core::resolve_state_path(env.common.state_path, env.config);
  TRY_ASSIGN(auto store,
             state::Store::open(path, env.clock,
                                traits.needs == Needs::read_state ? state::Access::read_only
                                                                  : state::Access::read_write));
  env.store.emplace(std::move(store));
  TRY_ASSIGN(const auto owner, env.store->identity());
  TRY_ASSIGN(env.drivers,
             engine::DriverSet::make(env.config, env.store->directory(), owner, env.clock));
  return {};
}

} // namespace

core::Result<state::LockGuard> Env::lock_cluster(const std::string& name)
{
  // A lock older than three deadlines belongs to a run that cannot still be acting.
  const core::Millis stale = core::Millis(config.manager.run_deadline) * 3000;
  TRY(store->lock("cluster:" + name, stale));
  return state::LockGuard(*store, "cluster:" + name);
}

core::Result<std::optional<core::Error>>
Env::for_each_locked(std::vector<state::Cluster>& clusters,
                     const std::function<core::Result<void>(state::Cluster&)>& fn,
                     std::initializer_list<core::ErrorKind> deferred,
                     std::vector<state::LockGuard>* keep)
{
  std::optional<core::Error> first;
  for (auto& c : clusters) {
    auto lock = lock_cluster(c.name);
    if (!lock) {
      spdlog::debug("{}.skipped cluster={} reason={}", command, c.name,
                    core::log_quote(lock.error().message));
      if (!first) {
        first = lock.error();
      }
      continue;
    }
    auto done = fn(c);
    if (keep) {
      keep->push_back(std::move(*lock));
    }
    if (done) {
      continue;
    }
    if (std::find(deferred.begin(), deferred.end(), done.error().kind) == deferred.end()) {
      return tl::make_unexpected(done.error());
    }
    if (!first) {
      first = done.error();
    }
  }
  return first;
}

core::Result<engine::Engine> Env::engine_for(const state::Cluster& cluster)
{
  TRY_ASSIGN(auto drivers_of, drivers->for_cluster(cluster));
  engine::Options o;
  o.deadline = deadline;
  o.drain_seconds = config.manager.drain_seconds;
  o.boot_timeout = config.manager.boot_timeout;
  o.health_timeout_ms = config.local.health_timeout_ms;
  o.failure_budget = config.manager.failure_budget;
  o.max_instances = config.manager.max_instances;
  o.flavor = cluster.flavor;
  o.image = cluster.image;
  return engine::Engine(*store, drivers_of, o);
}

core::Result<std::vector<state::Cluster>> Env::select_clusters(const std::string& only)
{
  if (only.empty()) {
    return store->clusters();
  }
  TRY(core::validate_cluster_name(only));
  TRY_ASSIGN(auto found, store->find_cluster(only));
  if (!found) {
    return core::fail(core::ErrorKind::usage, fmt::format("no cluster named '{}'", only));
  }
  return std::vector<state::Cluster>{*found};
}

namespace {

CLI::Validator number_check(const char* name, bool zero_allowed)
{
  return CLI::Validator(
    [zero_allowed](std::string& text) -> std::string {
      double value = 0;
      if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value)) {
        return fmt::format("'{}' is not a number", text);
      }
      if (value < 0 || (value == 0 && !zero_allowed)) {
        return fmt::format("{} is not {} 0", text,
                           zero_allowed ? "greater than or equal to" : "greater than");
      }
      return {};
    },
    name, name);
}

// An explicitly empty path (`--state "$UNSET"`) is a mistake, never "use the default": a
// script with an unset variable must not act on the production state.
CLI::Validator non_empty_path()
{
  return CLI::Validator(
    [](std::string& text) -> std::string {
      return text.empty() ? "an empty path is not allowed (omit the option for the default)"
                          : std::string();
    },
    "PATH", "PATH");
}

} // namespace

CLI::Validator greater_than_zero()
{
  return number_check("POSITIVE", false);
}

CLI::Validator zero_or_more()
{
  return number_check("NONNEGATIVE", true);
}

CLI::App* add_command(CLI::App& app,
                      const std::string& name,
                      const std::string& description,
                      Traits traits,
                      Handler handler)
{
  auto* sub = app.add_subcommand(name, description);
  auto common = std::make_shared<Common>();
  sub->add_option("--config", common->config_path, "Config file (else $SCLMAN_CONFIG, else "
                                                    "/etc/sclman/sclman.conf)")
    ->check(non_empty_path());
  sub->add_option("--state", common->state_path, "State file (else the config's, else the "
                                                  "default)")
    ->check(non_empty_path());
  sub->add_flag("--cron", common->cron, "Quiet run for cron: a held lock exits 0");
  sub->add_flag("-v,--verbose", common->verbose, "More log lines (-vv for trace)");
  sub->add_option("--log", common->log, "Where logs go: stderr (default) or syslog")
    ->check(CLI::IsMember({"stderr", "syslog"}));
  sub->add_option("--log-format", common->log_format, "Log lines as text (default) or json")
    ->check(CLI::IsMember({"text", "json"}));
  sub->add_option("--metrics-file", common->metrics_file,
                  "Write a node_exporter textfile with this run's outcome and sclman's counters")
    ->check(non_empty_path());
  if (traits.acts) {
    sub->add_flag("-n,--dry-run", common->dry_run, "Show what would be done, change nothing");
  }
  if (traits.reports) {
    sub->add_flag("--json", common->json, "Print JSON for scripts");
  }
  registry()[sub] = Registered{name, traits, std::move(handler), common};
  return sub;
}

void out(const std::string& text)
{
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (text.empty() || text.back() != '\n') {
    std::fputc('\n', stdout);
  }
}

void register_all(CLI::App& app);

namespace {

// Record how the run ended in the state file and, with --metrics-file, write the textfile.
// Failures here are logged, never change the run's exit status.
void finish_run(Env& env, int exit_code, const core::Error* error, core::Millis started)
{
  if (!env.store || env.common.dry_run) {
    return;
  }
  auto& store = *env.store;
  // A read-only run (status, why, report) leaves the state file as it was.
  core::Result<void> recorded;
  if (store.access() == state::Access::read_write) {
    recorded = store.record_run(state::RunRecord{
      env.command, env.clock.now(), exit_code, core::steady_now() - started});
  }
  if (recorded && error && store.access() == state::Access::read_write) {
    recorded = store.bump_counter("sclman_errors_total",
                                  fmt::format("command=\"{}\",kind=\"{}\"", env.command,
                                              core::to_string(error->kind)));
  }
  if (!recorded) {
    spdlog::warn("run.not_recorded error={}", core::log_quote(recorded.error().message));
    return;
  }
  if (env.common.metrics_file.empty()) {
    return;
  }
  auto write = [&]() -> core::Result<void> {
    TRY_ASSIGN(const auto counters, store.counters());
    TRY_ASSIGN(const auto runs, store.runs());
    TRY_ASSIGN(const auto clusters, store.clusters());
    std::vector<report::ClusterGauge> gauges;
    for (const auto& c : clusters) {
      TRY_ASSIGN(const auto view, cluster_json(store, c, false));
      gauges.push_back({c.name, view["size"].get<int>(), c.desired, view["min"].get<int>(),
                        view["max"].get<int>()});
    }
    return core::write_file_atomic(env.common.metrics_file,
                                    report::render_textfile(counters, runs, gauges));
  };
  if (auto written = write(); !written) {
    spdlog::warn("run.metrics_not_written file={} error={}", env.common.metrics_file,
                 core::log_quote(written.error().message));
  }
}

} // namespace

int main(int argc, char** argv)
{
  CLI::App app{"sclman: autoscale web clusters from cron"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       fmt::format("sclman {} (build {}, state schema {})",
                                   SCLMAN_VERSION,
                                   SCLMAN_BUILD,
                                   state::latest_schema_version()));
  register_all(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << app.version() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string prefix = "sclman";
    for (const auto* sub : app.get_subcommands()) {
      prefix += " " + sub->get_name();
    }
    std::fprintf(stderr, "%s: error: %s\n", prefix.c_str(), e.what());
    return core::exit_code::usage;
  }
  const CLI::App* chosen = app.get_subcommands().front();
  auto& reg = registry().at(chosen);
  Env env;
  env.command = reg.name;
  env.common = *reg.common;
  const auto started = core::steady_now();
  try {
    auto result = prepare(env, reg.traits);
    if (result) {
      result = reg.handler(env);
    }
    if (result) {
      finish_run(env, core::exit_code::ok, nullptr, started);
      return core::exit_code::ok;
    }
    const auto& e = result.error();
    if (e.kind == core::ErrorKind::busy && env.common.cron) {
      spdlog::info("run.skipped reason={}", core::log_quote(e.message));
      finish_run(env, core::exit_code::ok, nullptr, started);
      return core::exit_code::ok;
    }
    report(env.command, e);
    finish_run(env, core::to_exit_code(e.kind), &e, started);
    return core::to_exit_code(e.kind);
  } catch (const std::exception& e) {
    const auto error =
      core::make_error(core::ErrorKind::internal, fmt::format("internal error: {}", e.what()));
    report(env.command, error);
    finish_run(env, core::exit_code::internal, &error, started);
    return core::exit_code::internal;
  }
}

} // namespace cmd
