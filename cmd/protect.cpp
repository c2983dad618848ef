// cmd/protect.cpp: `sclman protect CLUSTER INSTANCE` and `sclman unprotect CLUSTER INSTANCE`:
// a protected web instance is never a scale-in victim.
#include "changes.hpp"
#include "core/names.hpp"
#include "engine/manual.hpp"
#include "run.hpp"

#include <fmt/format.h>

namespace cmd {

namespace {

struct ProtectTarget
{
  std::string cluster;
  std::string instance;
};

core::Result<void> run_protect(Env& env, const ProtectTarget& t, bool protect)
{
  TRY(core::validate_cluster_name(t.cluster));
  TRY(core::validate_instance_name(t.instance));
  TRY_ASSIGN(auto lock, env.lock_cluster(t.cluster));
  TRY_ASSIGN(const auto cluster, env.store->find_cluster(t.cluster));
  if (!cluster || cluster->status == state::ClusterStatus::deleted) {
    return core::fail(core::ErrorKind::usage, fmt::format("no cluster named '{}'", t.cluster));
  }
  const char* what = protect ? "protected from scale-in" : "not protected from scale-in";
  const bool dry = env.dry_run() == DryRun::yes;
  TRY_ASSIGN(const bool changed,
             engine::set_protection(*env.store, *cluster, t.instance, protect, !dry));
  if (env.common.json) {
    out(envelope(env.command, dry,
                 {{"cluster", t.cluster},
                  {"instance", t.instance},
                  {"protected", protect},
                  {"changed", changed}})
          .dump(2));
    return {};
  }
  out(fmt::format("'{}' {} {}", t.instance,
                  changed ? (dry ? "would be" : "is now") : "was already", what));
  return {};
}

void add_protect(CLI::App& app, const char* name, const char* help, bool protect)
{
  auto t = std::make_shared<ProtectTarget>();
  auto* sub = add_command(app, name, help, Traits{true, false, Needs::state},
                          [t, protect](Env& env) { return run_protect(env, *t, protect); });
  sub->add_option("cluster", t->cluster, "Cluster name")->required();
  sub->add_option("instance", t->instance, "Web instance name, as status shows it")->required();
}

} // namespace

void register_protect(CLI::App& app)
{
  add_protect(app, "protect", "Protect a web instance from scale-in: never a victim", true);
  add_protect(app, "unprotect", "Lift an instance's protection from scale-in", false);
}

} // namespace cmd
