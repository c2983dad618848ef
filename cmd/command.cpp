// The common flags every subcommand gets, the registry main() dispatches from, option checks and
// output.
#include "shell.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <map>

namespace cmd {

namespace {

std::map<const CLI::App*, Registered>& registry()
{
  static std::map<const CLI::App*, Registered> r;
  return r;
}

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

const Registered& registered(const CLI::App* sub)
{
  return registry().at(sub);
}

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
  sub->add_flag("--insecure-perms", common->insecure_perms,
                "Use a config or key file that others may read (a warning each run)");
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
  if (traits.reports || traits.acts) {
    sub->add_flag("--json", common->json, "Print JSON for scripts");
  }
  registry()[sub] = Registered{name, traits, std::move(handler), common};
  return sub;
}

namespace {
thread_local std::string* t_capture = nullptr;
} // namespace

CaptureOut::CaptureOut(std::string& into) : m_previous(t_capture)
{
  t_capture = &into;
}

CaptureOut::~CaptureOut()
{
  t_capture = m_previous;
}

void out(const std::string& text)
{
  if (t_capture) {
    *t_capture += text;
    if (text.empty() || text.back() != '\n') {
      *t_capture += '\n';
    }
    return;
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (text.empty() || text.back() != '\n') {
    std::fputc('\n', stdout);
  }
}

} // namespace cmd
