// The making of a command's Env, and what it offers commands: their engine and their clusters.
#include "shell.hpp"

#include "core/file.hpp"
#include "core/log.hpp"
#include "core/names.hpp"
#include "core/privileges.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

namespace cmd {

void setup_logging(const Env& env, const std::string& level)
{
  core::setup_logging(env.command,
                      core::log_level_for(level, env.common.cron, env.common.verbose),
                      env.common.log == "syslog" ? core::LogTarget::syslog
                                                 : core::LogTarget::stderr_text,
                      env.common.log_format == "json" ? core::LogFormat::json
                                                      : core::LogFormat::text);
}

core::Result<state::Location> state_location(const Env& env)
{
  state::Location where;
  where.path = core::resolve_state_path(env.common.state_path, env.config);
  where.url = env.config.state.url;
  if (where.url.empty()) {
    return where;
  }
  TRY(state::check_database_url(where.url));
  if (const auto& file = env.config.state.password_file; !file.empty()) {
    const auto perms = env.common.insecure_perms ? core::Perms::insecure : core::Perms::strict;
    TRY(core::check_file_mode(file, "[STATE] password_file", 077, perms));
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      return core::fail(core::ErrorKind::config,
                        fmt::format("cannot read [STATE] password_file '{}'", file));
    }
    TRY_ASSIGN(where.password, state::parse_password_file(text.str(), file));
  }
  return where;
}

core::Result<void> prepare(Env& env, const Traits& traits)
{
  // The config's own warnings (--insecure-perms) go where and as the run's logs go.
  setup_logging(env, "info");
  TRY_ASSIGN(env.config,
             core::load_config(env.common.config_path, env.common.insecure_perms
                                                         ? core::Perms::insecure
                                                         : core::Perms::strict));
  setup_logging(env, env.config.log.level);
  env.deadline = core::steady_now() + core::Millis(env.config.manager.run_deadline) * 1000;
  if (traits.needs == Needs::nothing) {
    return {};
  }
  TRY_ASSIGN(const auto where, state_location(env));
  TRY_ASSIGN(const auto became, core::become_state_owner(where.path));
  if (became) {
    spdlog::debug("run.user user={} reason=\"owns the state directory\"", *became);
  }
  TRY_ASSIGN(auto store,
             state::Store::open(where, env.clock,
                                traits.needs == Needs::read_state ? state::Access::read_only
                                                                  : state::Access::read_write));
  env.store.emplace(std::move(store));
  TRY_ASSIGN(const auto owner, env.store->identity());
  TRY_ASSIGN(env.drivers,
             engine::DriverSet::make(env.config, env.store->directory(), owner, env.clock));
  return {};
}

core::Result<engine::Engine> Env::engine_for(const state::Cluster& cluster)
{
  TRY_ASSIGN(auto drivers_of, drivers->for_cluster(cluster));
  engine::Options o;
  o.deadline = deadline;
  o.drain_seconds = config.manager.drain_seconds;
  o.boot_timeout = config.manager.boot_timeout;
  o.health_timeout_ms = config.local.health_timeout_ms;
  TRY_ASSIGN(const auto h, core::health_over(config.health, cluster.health));
  o.health = {h.path, h.interval * 1000LL, h.timeout * 1000, h.healthy_threshold,
              h.unhealthy_threshold, h.grace * 1000LL};
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

} // namespace cmd
