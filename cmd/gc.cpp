// cmd/gc.cpp: `sclman gc`: prune old samples and decisions, expire stale decisions, clean up
// failed instances, finish interrupted deletes, and repair orphans both ways (lib/engine/gc).
#include "changes.hpp"
#include "engine/gc.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace cmd {

namespace {

struct GcOptions
{
  std::string cluster;
  bool clear_failures = false;
};

core::Result<void> run_gc(Env& env, const GcOptions& o)
{
  TRY_ASSIGN(auto clusters, env.select_clusters(o.cluster));
  engine::GcOptions g;
  g.clear_failures = o.clear_failures;
  g.dry_run = env.dry_run() == DryRun::yes;
  g.sweep_orphans = o.cluster.empty();
  g.retention = core::Millis(env.config.manager.retention_days) * 86'400'000;
  g.decision_ttl = core::Millis(env.config.manager.decision_ttl) * 1000;
  // A lock older than three deadlines belongs to a run that cannot still be acting.
  g.lock_stale = core::Millis(env.config.manager.run_deadline) * 3000;
  const auto locker = env.locker();
  g.tick = locker.tick;
  g.host = locker.host;
  g.deadline = env.deadline;
  g.engine_for = [&env](const state::Cluster& c) { return env.engine_for(c); };
  TRY_ASSIGN(const auto report,
             engine::collect_garbage(*env.store, *env.drivers, env.clock, clusters, g));
  if (!env.common.json) {
    for (const auto& line : report.would_delete) {
      out("would delete " + line);
    }
  }
  const auto& counts = report.counts;
  spdlog::info("gc.done samples_pruned={} decisions_pruned={} serve_pruned={} decisions_expired={} "
               "instances_cleaned={} orphan_servers={} orphan_processes={} orphan_addresses={} "
               "never_registered={} orphan_registrations={}",
               counts.samples,
               counts.decisions_pruned,
               counts.serve_pruned,
               counts.decisions_expired,
               counts.instances_cleaned,
               counts.orphan_servers,
               counts.orphan_processes,
               counts.orphan_addresses,
               counts.never_registered,
               counts.orphan_registrations);
  if (env.common.json) {
    out(envelope(env.command, g.dry_run, {{"samples_pruned", counts.samples},
                       {"decisions_pruned", counts.decisions_pruned},
                       {"serve_pruned", counts.serve_pruned},
                       {"decisions_expired", counts.decisions_expired},
                       {"instances_cleaned", counts.instances_cleaned},
                       {"orphan_servers", counts.orphan_servers},
                       {"orphan_processes", counts.orphan_processes},
                       {"orphan_addresses", counts.orphan_addresses},
                       {"never_registered", counts.never_registered},
                       {"orphan_registrations", counts.orphan_registrations},
                       {"would_delete", report.would_delete}})
          .dump(2));
  }
  if (report.busy) {
    return tl::make_unexpected(*report.busy);
  }
  return {};
}

} // namespace

void register_gc(CLI::App& app)
{
  auto o = std::make_shared<GcOptions>();
  auto* sub = add_command(app, "gc",
                          "Prune history, clean up failed instances, repair orphans",
                          Traits{true, true, Needs::state},
                          [o](Env& env) { return run_gc(env, *o); });
  sub->add_option("--cluster", o->cluster, "Only this cluster (no orphan scan)");
  sub->add_flag("--clear-failures", o->clear_failures,
                "Reset the failed-action count so scaling resumes");
}

} // namespace cmd
