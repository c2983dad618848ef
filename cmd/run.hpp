// The shell every subcommand shares: common flags, config, logging, the state file, locks,
// the deadline, and the mapping from core::Error to an exit code.
#pragma once

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "engine/engine.hpp"
#include "engine/locked.hpp"
#include "state/store.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace cmd {

enum class DryRun { no, yes };

// Flags every subcommand takes (some only where they make sense).
struct Common
{
  std::string config_path;
  std::string state_path;
  bool dry_run = false;
  bool cron = false;
  bool json = false;
  bool insecure_perms = false;  // use a config or key file others may read, with a warning
  int verbose = 0;
  std::string log = "stderr";       // stderr or syslog
  std::string log_format = "text";  // text or json
  std::string metrics_file;         // node_exporter textfile to write after the run
};

// What a command runs with. Made by cmd::run before the handler is called.
struct Env
{
  std::string command;
  Common common;
  core::Config config;
  core::SystemClock clock;
  std::optional<state::Store> store;
  std::unique_ptr<engine::DriverSet> drivers;
  core::Millis deadline = 0;  // steady-clock ms

  DryRun dry_run() const { return common.dry_run ? DryRun::yes : DryRun::no; }

  // Take the lock of cluster `name`; busy with the holder's pid and host if another run has it.
  core::Result<state::LockGuard> lock_cluster(const std::string& name);

  // Return how this run takes cluster locks (for engine::for_each_locked).
  engine::Locker locker();

  // Return the engine for `cluster`, with this run's deadline and the config's timings.
  core::Result<engine::Engine> engine_for(const state::Cluster& cluster);

  // Return the clusters named by `only` (all live ones when empty); a missing name is a usage
  // error.
  core::Result<std::vector<state::Cluster>> select_clusters(const std::string& only);
};

using Handler = std::function<core::Result<void>(Env&)>;

// What a subcommand does with the state file: nothing, only read it (opened read-only, so that a
// state file on a read-only file system can be read), or write it.
enum class Needs { nothing, read_state, state };

// Traits of a subcommand: which common flags it takes.
struct Traits
{
  bool acts = false;     // takes --dry-run
  bool reports = false;  // takes --json (so does every command that acts)
  Needs needs = Needs::state;
};

// Add subcommand `name` to `app` with the common flags its traits call for; the caller adds its
// own flags to the returned App and the handler runs when it is chosen.
CLI::App* add_command(CLI::App& app,
                      const std::string& name,
                      const std::string& description,
                      Traits traits,
                      Handler handler);

// Option checks whose errors read "--capacity: 0 is not greater than 0" (CLI11's own
// PositiveNumber prints its whole double range).
CLI::Validator greater_than_zero();
CLI::Validator zero_or_more();

// Parse argv, run the chosen subcommand, and return the process exit code.
int main(int argc, char** argv);

// Print `text` (a line or a JSON document) on stdout, or while a CaptureOut of this thread
// lives, append it to that CaptureOut's string.
void out(const std::string& text);

// Capture what out() prints on this thread while it lives (sclman serve runs a command's code
// for a request and answers with what it would have printed).
class CaptureOut
{
public:
  explicit CaptureOut(std::string& into);
  ~CaptureOut();
  CaptureOut(const CaptureOut&) = delete;
  CaptureOut& operator=(const CaptureOut&) = delete;

private:
  std::string* m_previous;
};

} // namespace cmd
