#include "run.hpp"

#include "core/exit_code.hpp"
#include "core/file.hpp"
#include "core/log.hpp"
#include "report/textfile.hpp"
#include "shell.hpp"
#include "state/migrate.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#ifndef SCLMAN_VERSION
#define SCLMAN_VERSION "0.0.0"
#endif
#ifndef SCLMAN_BUILD
#define SCLMAN_BUILD "unknown"
#endif

namespace cmd {

namespace {

// Print the one error line of a failed run.
void report(const std::string& command, const core::Error& e)
{
  std::fprintf(stderr, "sclman %s: error: %s\n", command.c_str(), e.message.c_str());
}

} // namespace

engine::Locker Env::locker()
{
  // A lock older than three deadlines belongs to a run that cannot still be acting.
  return engine::Locker{&*store, core::Millis(config.manager.run_deadline) * 3000, command};
}

core::Result<state::LockGuard> Env::lock_cluster(const std::string& name)
{
  return engine::lock_cluster(locker(), name);
}

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
  auto written = report::textfile_of(store).and_then([&](const std::string& text) {
    return core::write_file_atomic(env.common.metrics_file, text);
  });
  if (!written) {
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
  const auto& reg = registered(app.get_subcommands().front());
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
    const int code = core::run_exit_code(e.kind, env.common.cron);
    if (code == core::exit_code::ok) {
      spdlog::info("run.skipped reason={}", core::log_quote(e.message));
    } else {
      report(env.command, e);
    }
    finish_run(env, code, code == core::exit_code::ok ? nullptr : &e, started);
    return code;
  } catch (const std::exception& e) {
    const auto error =
      core::make_error(core::ErrorKind::internal, fmt::format("internal error: {}", e.what()));
    report(env.command, error);
    finish_run(env, core::exit_code::internal, &error, started);
    return core::exit_code::internal;
  }
}

} // namespace cmd
