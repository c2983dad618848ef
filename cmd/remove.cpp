// cmd/remove.cpp: `sclman remove CLUSTER INSTANCE`: take one web instance out by hand. It is
// drained at once (out of the LB) and the desired size goes down by one; the chain's scale-in
// deletes it once drained. Recorded as a decision (scale_in, source manual, or api:TOKEN when
// sclman serve runs it); a run that fails changes nothing but that decision.
#include "actions.hpp"
#include "changes.hpp"
#include "core/names.hpp"
#include "engine/manual.hpp"
#include "run.hpp"

#include <fmt/format.h>

namespace cmd {

namespace {

struct RemoveTarget
{
  std::string cluster;
  std::string instance;
  bool force = false;
};

} // namespace

core::Result<void> remove_member(Env& env, const std::string& cluster_name,
                                 const std::string& instance, const std::string& source,
                                 bool force)
{
  TRY(core::validate_cluster_name(cluster_name));
  TRY(core::validate_instance_name(instance));
  TRY_ASSIGN(auto lock, env.lock_cluster(cluster_name));
  TRY_ASSIGN(auto found, env.store->find_cluster(cluster_name));
  if (!found || found->status != state::ClusterStatus::active) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("no active cluster named '{}'", cluster_name));
  }
  auto cluster = *found;
  const int before = cluster.desired;
  const bool dry = env.dry_run() == DryRun::yes;
  TRY_ASSIGN(const auto was, env.store->instances(cluster.id, true));
  TRY(engine::remove_member(*env.store, cluster, instance, source,
                            [&] { return env.engine_for(cluster); }, !dry, force));
  if (env.common.json) {
    TRY_ASSIGN(const auto now, env.store->instances(cluster.id, true));
    out(envelope(env.command, dry,
                 {{"cluster", cluster.name},
                  {"instance", instance},
                  {"desired_before", before},
                  {"desired_after", dry ? before - 1 : cluster.desired},
                  {"instances", instance_changes(was, now)}})
          .dump(2));
    return {};
  }
  out(fmt::format("{} '{}' from '{}': desired {} -> {}; the chain's scale-in deletes it once "
                  "drained",
                  dry ? "would remove" : "removed", instance, cluster.name, before, before - 1));
  return {};
}

void register_remove(CLI::App& app)
{
  auto t = std::make_shared<RemoveTarget>();
  auto* sub = add_command(app, "remove", "Drain one web instance now and lower the desired size "
                                         "by one (scale-in deletes it once drained)",
                          Traits{true, true, Needs::state}, [t](Env& env) {
                            return remove_member(env, t->cluster, t->instance,
                                                 std::string(state::k_source_manual), t->force);
                          });
  sub->add_option("cluster", t->cluster, "Cluster name")->required();
  sub->add_option("instance", t->instance, "Web instance name, as status shows it")->required();
  sub->add_flag("--force", t->force,
                "Below the policy's minimum: lower it by one with the size (stored once the run "
                "succeeds)");
}

} // namespace cmd
