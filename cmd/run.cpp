#include "run.hpp"

#include "core/exit_code.hpp"
#include "core/file.hpp"
#include "core/log.hpp"
#include "report/textfile.hpp"
#include "shell.hpp"
#include "state/migrate.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <ranges>
#include <set>
#include <vector>

#ifndef SCLMAN_VERSION
#define SCLMAN_VERSION "0.0.0"
#endif
#ifndef SCLMAN_BUILD
#define SCLMAN_BUILD "unknown"
#endif

namespace cmd {

namespace {

// Report the error a run ends with (exit status `code`): one line on stderr, and the same as a
// log event run.failed where logs go elsewhere (syslog); with --log-format json the event
// alone, as a JSON line on stderr.
void report(const Env& env, const core::Error& e, int code)
{
  const bool json = env.common.log_format == "json";
  const bool syslog = env.common.log == "syslog";
  if (json || syslog) {
    spdlog::error("run.failed exit_code={} kind={} error={}", code, core::to_string(e.kind),
                  core::log_quote(e.message));
  }
  if (!json || syslog) {
    std::fprintf(stderr, "sclman %s: error: %s\n", env.command.c_str(), e.message.c_str());
  }
}

// Return the number of single-character edits that turn `a` into `b`.
std::size_t edit_distance(const std::string& a, const std::string& b)
{
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const auto above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The arguments without the program name, with the common options given before the command
// (`sclman --config F status`) moved after it, where each command takes them: as git, both
// places work.
std::vector<std::string> arguments(int argc, char** argv)
{
  static const std::set<std::string> with_value = {"--config", "--state", "--log", "--log-format",
                                                   "--metrics-file"};
  static const std::set<std::string> flags = {"--cron", "--dry-run", "--json", "--verbose",
                                              "--insecure-perms"};
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> moved;
  std::size_t k = 0;
  while (k < args.size()) {
    const auto& a = args[k];
    if (with_value.count(a.substr(0, a.find('=')))) {
      moved.push_back(a);
      if (a.find('=') == std::string::npos && k + 1 < args.size()) {
        moved.push_back(args[++k]);
      }
    } else if (flags.count(a)
               || (a.size() >= 2 && a[0] == '-' && a.find_first_not_of('v', 1) == std::string::npos)) {
      moved.push_back(a);
    } else {
      break;
    }
    ++k;
  }
  if (moved.empty() || k >= args.size() || args[k].starts_with("-")) {
    return args;
  }
  std::vector<std::string> out{args[k]};
  out.insert(out.end(), moved.begin(), moved.end());
  out.insert(out.end(), args.begin() + static_cast<std::ptrdiff_t>(k) + 1, args.end());
  return out;
}

// Return why `args` names no command of `app` ("unknown command 'x'; did you mean ...?"), or ""
// when its first argument is a command, an alias or an option (CLI11 handles those).
std::string unknown_command(CLI::App& app, const std::vector<std::string>& args)
{
  if (args.empty() || args.front().starts_with("-")) {
    return {};
  }
  const auto& given = args.front();
  std::vector<std::string> close;
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    auto names = sub->get_aliases();
    names.push_back(sub->get_name());
    for (const auto& n : names) {
      if (n == given) {
        return {};
      }
    }
    const auto& name = sub->get_name();
    if (edit_distance(given, name) <= 2 || (given.size() >= 3 && name.starts_with(given))) {
      close.push_back(name);
    }
  }
  auto why = fmt::format("unknown command '{}'", core::printable(given, 40));
  if (close.empty()) {
    return why + " (sclman --help lists the commands)";
  }
  return fmt::format("{}; did you mean {}?", why,
                     fmt::join(close | std::views::transform([](const std::string& n) {
                                 return "'" + n + "'";
                               }),
                               " or "));
}

} // namespace

engine::Locker Env::locker()
{
  // A lock older than three deadlines belongs to a run that cannot still be acting.
  engine::Locker locker{&*store, core::Millis(config.manager.run_deadline) * 3000, command, 0,
                        {}};
  if (common.cron && !common.dry_run) {
    // The chain's steps: the hosts of one database share each tick's clusters.
    locker.tick = 60'000 / config.manager.ticks_per_minute;
    locker.host = store->host_id();
  }
  return locker;
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
  if (env.common.dry_run) {
    return;
  }
  const state::RunRecord run{env.command, env.clock.now(), exit_code,
                             core::steady_now() - started, std::nullopt};
  core::Result<std::string> text;
  if (env.store) {
    auto& store = *env.store;
    // A read-only run (status, why, report) leaves the state file as it was.
    core::Result<void> recorded;
    if (store.access() == state::Access::read_write) {
      recorded = store.record_run(run);
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
    text = report::textfile_of(store);
  } else {
    if (env.common.metrics_file.empty()) {
      return;
    }
    // Ended before the state file was open (a config error): this command's lines of the
    // textfile say so, the rest stays as the last run that could open it wrote it.
    text = report::merge_run(core::read_file(env.common.metrics_file).value_or(""), run);
  }
  auto written = text.and_then([&](const std::string& t) {
    return core::write_file_atomic(env.common.metrics_file, t);
  });
  if (!written) {
    spdlog::warn("run.metrics_not_written file={} error={}", env.common.metrics_file,
                 core::log_quote(written.error().message));
  }
}

} // namespace

int main(int argc, char** argv)
{
  CLI::App app{"sclman: autoscale web clusters from cron", "sclman"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       fmt::format("sclman {} (build {}, state schema {})",
                                   SCLMAN_VERSION,
                                   SCLMAN_BUILD,
                                   state::latest_schema_version()));
  register_all(app);
  auto args = arguments(argc, argv);
  if (const auto why = unknown_command(app, args); !why.empty()) {
    std::fprintf(stderr, "sclman: error: %s\n", why.c_str());
    return core::exit_code::usage;
  }
  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
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
  // Until the config says the level: so that an error loading it is logged as asked.
  setup_logging(env, "info");
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
      report(env, e, code);
    }
    finish_run(env, code, code == core::exit_code::ok ? nullptr : &e, started);
    return code;
  } catch (const std::exception& e) {
    const auto error =
      core::make_error(core::ErrorKind::internal, fmt::format("internal error: {}", e.what()));
    report(env, error, core::exit_code::internal);
    finish_run(env, core::exit_code::internal, &error, started);
    return core::exit_code::internal;
  }
}

} // namespace cmd
