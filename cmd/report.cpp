// cmd/report.cpp: `sclman report --output DIR`: the static dashboard (index.html: whether the
// chain runs and succeeds; per cluster SVG charts of load against the policy's lines and of the
// instances in service, desired and booting, with the decisions, over the last day; members,
// last decisions) and status.json and history.json beside it, written atomically; cron
// regenerates it each minute.
#include "changes.hpp"
#include "core/file.hpp"
#include "report/site.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace cmd {

namespace {

struct ReportOptions
{
  std::string output;
  int hours = 24;
};

core::Result<void> run_report(Env& env, const ReportOptions& o)
{
  if (o.output.empty()) {
    return core::fail(core::ErrorKind::usage, "--output DIR is required");
  }
  if (o.hours < 1 || o.hours > 24 * 31) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--hours {} must be from 1 to {}", o.hours, 24 * 31));
  }
  report::SiteOptions site_options;
  site_options.window = core::Millis(o.hours) * 3'600'000;
  site_options.failure_budget = env.config.manager.failure_budget;
  TRY_ASSIGN(const auto site, report::assemble_site(*env.store, env.clock.now(), site_options));
  const auto summary = [&] {
    out(envelope(env.command, env.common.dry_run,
                 {{"output", o.output},
                  {"clusters", site.clusters},
                  {"files", {"index.html", "status.json", "history.json"}}})
          .dump(2));
  };
  if (env.dry_run() == DryRun::yes) {
    if (env.common.json) {
      summary();
      return {};
    }
    out(fmt::format("would write index.html, status.json and history.json for {} clusters to '{}'",
                    site.clusters, o.output));
    return {};
  }
  std::error_code ec;
  std::filesystem::create_directories(o.output, ec);
  if (ec) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("cannot create '{}': {}", o.output, ec.message()));
  }
  TRY(core::write_file_atomic(o.output + "/status.json", site.status.dump(2) + "\n"));
  TRY(core::write_file_atomic(o.output + "/history.json", site.history.dump() + "\n"));
  TRY(core::write_file_atomic(o.output + "/index.html", site.html));
  spdlog::info("report.written dir={} clusters={}", o.output, site.clusters);
  if (env.common.json) {
    summary();
  }
  return {};
}

} // namespace

void register_report(CLI::App& app)
{
  auto o = std::make_shared<ReportOptions>();
  auto* sub = add_command(app, "report",
                          "Write the static dashboard and status.json/history.json to a directory",
                          Traits{true, false, Needs::read_state},
                          [o](Env& env) { return run_report(env, *o); });
  sub->add_option("-o,--output", o->output, "Directory to write (created if missing)")->required();
  sub->add_option("--hours", o->hours, "Hours of history in the charts (default 24)");
}

} // namespace cmd
