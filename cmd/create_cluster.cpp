// cmd/create_cluster.cpp: `sclman create-cluster NAME --web N`: an LB and N web instances.
#include "changes.hpp"
#include "core/failpoint.hpp"
#include "core/names.hpp"
#include "engine/create.hpp"
#include "engine/drivers.hpp"
#include "policy/policy.hpp"
#include "policy/schedule.hpp"
#include "report/views.hpp"
#include "actions.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace cmd {

namespace {

struct CreateClusterOptions
{
  std::string name;
  int web = 0;
  std::optional<int> min;
  std::optional<int> max;
  std::optional<int> sensitivity;
  std::optional<double> high;
  std::optional<double> low;
  std::optional<int> cooldown;
  bool keep_failed = false;
  std::vector<std::string> health;  // --health KEY=VALUE: the cluster's own [HEALTH] keys
  engine::DriverChoice drivers;
};

core::Result<policy::PolicyConfig> policy_from(const CreateClusterOptions& o,
                                               const core::Config& config)
{
  policy::PolicyConfig p;
  p.kind = policy::Kind::threshold;
  p.min_size = o.min.value_or(o.web);
  p.max_size = o.max.value_or(std::max(config.manager.max_size, std::max(o.web, p.min_size)));
  p.sensitivity = o.sensitivity.value_or(config.manager.sensitivity);
  p.high = o.high.value_or(config.manager.high_load);
  p.low = o.low.value_or(config.manager.low_load);
  p.cooldown_s = o.cooldown.value_or(config.manager.cooldown);
  TRY(policy::validate(p));
  TRY(policy::check_ceiling(p, config.manager.max_instances));
  if (o.web < p.min_size || o.web > p.max_size) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--web {} is outside [min {}, max {}]", o.web, p.min_size,
                                  p.max_size));
  }
  return p;
}

core::Result<void> run_create_cluster(Env& env, const CreateClusterOptions& o)
{
  TRY(core::validate_cluster_name(o.name));
  if (o.web < 1) {
    return core::fail(core::ErrorKind::usage, fmt::format("--web {} must be at least 1", o.web));
  }
  TRY_ASSIGN(const auto policy, policy_from(o, env.config));
  TRY_ASSIGN(const auto fresh_cluster, env.drivers->new_cluster(env.config, o.drivers));
  TRY_ASSIGN(const auto health, engine::health_lines(env.config, o.health));
  TRY_ASSIGN(auto lock, env.lock_cluster(o.name));
  TRY_ASSIGN(auto existing, env.store->find_cluster(o.name));
  if (existing && !engine::resumable(*existing)) {
    return core::fail(core::ErrorKind::usage, fmt::format("cluster '{}' already exists", o.name));
  }
  if (env.dry_run() == DryRun::yes && env.common.json) {
    // The view of the cluster as it would be made: no instance yet.
    auto planned = existing ? *existing : fresh_cluster;
    if (!existing) {
      planned.name = o.name;
      planned.policy = policy::to_json(policy);
      planned.desired = o.web;
      planned.health = health;
      planned.status = state::ClusterStatus::creating;
    }
    TRY_ASSIGN(auto view, report::cluster_json(*env.store, planned, false));
    out(envelope(env.command, true, view).dump(2));
    return {};
  }
  if (env.dry_run() == DryRun::yes) {
    out(fmt::format("would {} cluster '{}': 1 lb ({}) and {} web instances on {}, policy {}",
                    existing ? "finish creating" : "create",
                    o.name, existing ? existing->balancer : fresh_cluster.balancer,
                    o.web,
                    fresh_cluster.provider.substr(0, fresh_cluster.provider.find(':')),
                    policy::to_json(policy)));
    return {};
  }
  state::Cluster cluster;
  if (existing) {
    cluster = *existing;
    spdlog::info("create_cluster.resume cluster={} was={}", o.name, to_string(cluster.status));
    cluster.status = state::ClusterStatus::creating;
    TRY(env.store->set_cluster_status(cluster.id, cluster.status));
  } else {
    cluster = fresh_cluster;
    TRY(env.drivers->pin_cloud(cluster));
    cluster.name = o.name;
    cluster.policy = policy::to_json(policy);
    cluster.desired = o.web;
    cluster.health = health;
    cluster.status = state::ClusterStatus::creating;
  }
  // What the instances share (the bootstrapper's per-cluster setup) before any row.
  TRY_ASSIGN(auto drivers, env.drivers->for_cluster(cluster));
  TRY(drivers.bootstrapper->prepare_cluster(cluster.name));
  if (!existing) {
    TRY_ASSIGN(cluster.id, env.store->insert_cluster(cluster));
    SCLMAN_FAILPOINT("create_cluster.after_insert");
    spdlog::info("create_cluster.created cluster={} web={} min={} max={}", o.name, o.web,
                 policy.min_size, policy.max_size);
  }
  TRY_ASSIGN(auto engine, env.engine_for(cluster));
  if (auto done = engine.reconcile(cluster, engine::Step::grow); !done) {
    return tl::make_unexpected(engine::fail_creation(
      *env.store, engine, drivers, cluster, done.error(),
      o.keep_failed ? engine::KeepFailed::yes : engine::KeepFailed::no));
  }
  TRY_ASSIGN(auto fresh, env.store->find_cluster(o.name));
  TRY_ASSIGN(auto view, report::cluster_json(*env.store, *fresh, false));
  if (env.common.json) {
    out(envelope(env.command, false, view).dump(2));
  } else {
    out(report::clusters_table(nlohmann::json::array({view}), true));
  }
  if (fresh->status != state::ClusterStatus::active) {
    return core::fail(core::ErrorKind::upstream_transient,
                      fmt::format("cluster '{}' is not fully up yet: scale-out runs will finish it",
                                  o.name));
  }
  return {};
}

} // namespace

core::Result<void> create_cluster(Env& env, const CreateRequest& r)
{
  CreateClusterOptions o;
  o.name = r.name;
  o.web = r.web;
  o.min = r.min;
  o.max = r.max;
  return run_create_cluster(env, o);
}

void register_create_cluster(CLI::App& app)
{
  auto o = std::make_shared<CreateClusterOptions>();
  auto* sub = add_command(app, "create-cluster", "Create a cluster: one LB and N web instances",
                          Traits{true, true, Needs::state},
                          [o](Env& env) { return run_create_cluster(env, *o); });
  sub->add_option("name", o->name, "Cluster name, ^[a-z][a-z0-9-]{0,30}$")->required();
  sub->add_option("--web", o->web, "Web instances to start with")->required();
  sub->add_option("--min", o->min, "Never fewer web instances (default: --web)");
  sub->add_option("--max", o->max, "Never more web instances (default: [MANAGER] man_max)");
  sub->add_option("--lb-port", o->drivers.lb_port, "Port of the local LB (default: a free one)")
    ->check(CLI::Range(1, 65535));
  sub->add_flag("--allow-wildcard", o->drivers.allow_wildcard, "--listen may be 0.0.0.0 or ::");
  sub->add_option("--sensitivity", o->sensitivity, "Consecutive polls before acting");
  sub->add_option("--high", o->high, "Per-instance load above which a poll is high");
  sub->add_option("--low", o->low, "Per-instance load below which a poll is calm");
  sub->add_option("--cooldown", o->cooldown, "Seconds after an action before the next");
  sub->add_flag("--keep-failed", o->keep_failed, "If the create fails, keep what it made");
  sub->add_option("--health", o->health, "KEY=VALUE: this cluster's [HEALTH] key (repeatable)");
  for (const auto& [flag, field] : engine::choice_options()) {
    sub->add_option(flag, o->drivers.*field, engine::option_help(flag));
  }
}

} // namespace cmd
