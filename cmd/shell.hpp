// The pieces of the shared shell that cmd::main puts together: the registered subcommands and
// the making of their Env.
#pragma once

#include "run.hpp"

#include <memory>
#include <string>

namespace cmd {

// What add_command registered for one subcommand.
struct Registered
{
  std::string name;
  Traits traits;
  Handler handler;
  std::shared_ptr<Common> common;
};

// Return what add_command registered for `sub`.
const Registered& registered(const CLI::App* sub);

// Add every subcommand to `app` (cmd/main.cpp).
void register_all(CLI::App& app);

// Send the command's logs where --log and --log-format say, at `level` (as its config and
// --cron and --verbose make it: core::log_level_for).
void setup_logging(const Env& env, const std::string& level);

// Return where the config and --state put the state: the file, or the database ([STATE] url,
// checked, with the password [STATE] password_file holds); a config error otherwise.
core::Result<state::Location> state_location(const Env& env);

// Make `env` ready for its command: load the config, set up logging, set the deadline and, if
// the command needs it, open the state file and make the drivers.
core::Result<void> prepare(Env& env, const Traits& traits);

} // namespace cmd
