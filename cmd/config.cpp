// cmd/config.cpp: `sclman config get SECTION KEY`: a value of sclman.conf as sclman reads it (its
// default when the file does not set it), so that a script (cron/sclman-chain) uses the same
// validated value as the commands do instead of parsing the INI file itself.
#include "run.hpp"

namespace cmd {

namespace {

struct ConfigOptions
{
  std::string action;
  std::string section;
  std::string key;
};

core::Result<void> run_config(Env& env, const ConfigOptions& o)
{
  TRY_ASSIGN(const auto value, core::config_value(env.config, o.section, o.key));
  out(value);
  return {};
}

} // namespace

void register_config(CLI::App& app)
{
  auto o = std::make_shared<ConfigOptions>();
  auto* sub = add_command(app, "config", "Print a config value as sclman reads it (config get "
                                         "SECTION KEY)",
                          Traits{false, false, Needs::nothing},
                          [o](Env& env) { return run_config(env, *o); });
  sub->add_option("action", o->action, "get")->required()->check(CLI::IsMember({"get"}));
  sub->add_option("section", o->section, "The section, as in the file: MANAGER")->required();
  sub->add_option("key", o->key, "The key: man_ticks_per_minute")->required();
}

} // namespace cmd
