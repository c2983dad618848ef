// cmd/delete_cluster.cpp: `sclman delete-cluster NAME`: stop the LB gracefully, delete every
// instance, and mark the cluster deleted. Re-running it finishes an interrupted delete.
#include "changes.hpp"
#include "core/failpoint.hpp"
#include "core/names.hpp"
#include "actions.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace cmd {

namespace {

core::Result<void> run_delete_cluster(Env& env, const std::string& name)
{
  TRY(core::validate_cluster_name(name));
  TRY_ASSIGN(auto lock, env.lock_cluster(name));
  TRY_ASSIGN(auto found, env.store->find_cluster(name));
  if (!found) {
    return core::fail(core::ErrorKind::usage, fmt::format("no cluster named '{}'", name));
  }
  auto cluster = *found;
  TRY_ASSIGN(auto instances, env.store->instances(cluster.id));
  if (env.dry_run() == DryRun::yes) {
    if (env.common.json) {
      auto planned = nlohmann::json::array();
      for (const auto& i : instances) {
        planned.push_back(instance_change(i.name, i.role, i.state, state::InstanceState::gone));
      }
      out(envelope(env.command, true,
                   {{"cluster", name}, {"status", "deleted"}, {"instances", planned}})
            .dump(2));
      return {};
    }
    out(fmt::format("would delete cluster '{}' and its {} instances", name, instances.size()));
    return {};
  }
  TRY_ASSIGN(const auto before, env.store->instances(cluster.id, true));
  // The drivers first: a cluster whose cloud is gone stays as it is (a config error).
  TRY_ASSIGN(auto engine, env.engine_for(cluster));
  if (cluster.status != state::ClusterStatus::deleting) {
    cluster.status = state::ClusterStatus::deleting;
    TRY(env.store->set_cluster_status(cluster.id, cluster.status));
  }
  // A rollout of the cluster ends with it.
  TRY_ASSIGN(auto rollout, env.store->running_rollout(cluster.id));
  if (rollout) {
    TRY(env.store->end_rollout(*rollout, state::RolloutStatus::cancelled, "cluster deleted"));
  }
  TRY(env.store->interrupt_pending(cluster.name));
  // The LB first: its graceful stop finishes the requests in flight, then nothing reaches
  // the web instances any more.
  for (const auto role : {state::Role::lb, state::Role::web}) {
    for (auto& i : instances) {
      if (i.role != role) {
        continue;
      }
      if (engine.out_of_time()) {
        return core::fail(core::ErrorKind::upstream_transient,
                          fmt::format("cluster '{}' is still being deleted at the run's deadline: "
                                      "run delete-cluster again, or gc finishes it",
                                      name));
      }
      TRY(engine.destroy(cluster, i));
      SCLMAN_FAILPOINT("delete_cluster.after_instance");
    }
  }
  // What the instances shared (the bootstrapper's per-cluster setup) goes last, once they are
  // gone.
  TRY_ASSIGN(auto drivers, env.drivers->for_cluster(cluster));
  TRY(engine::retire_cluster(drivers, cluster.name));
  SCLMAN_FAILPOINT("delete_cluster.before_mark");
  TRY(env.store->set_cluster_status(cluster.id, state::ClusterStatus::deleted));
  spdlog::info("delete_cluster.deleted cluster={} instances={}", name, instances.size());
  if (env.common.json) {
    TRY_ASSIGN(const auto after, env.store->instances(cluster.id, true));
    out(envelope(env.command, false,
                 {{"cluster", name},
                  {"status", "deleted"},
                  {"instances", instance_changes(before, after)}})
          .dump(2));
    return {};
  }
  out(fmt::format("deleted cluster '{}' ({} instances)", name, instances.size()));
  return {};
}

} // namespace

core::Result<void> delete_cluster(Env& env, const std::string& name)
{
  return run_delete_cluster(env, name);
}

void register_delete_cluster(CLI::App& app)
{
  auto name = std::make_shared<std::string>();
  auto* sub = add_command(app, "delete-cluster", "Delete a cluster and all its instances",
                          Traits{true, false, Needs::state},
                          [name](Env& env) { return run_delete_cluster(env, *name); });
  sub->add_option("name", *name, "Cluster name")->required();
}

} // namespace cmd
