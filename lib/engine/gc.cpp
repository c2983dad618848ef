#include "engine/gc.hpp"

#include "core/failpoint.hpp"
#include "core/log.hpp"
#include "engine/journal.hpp"
#include "engine/locked.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <set>

namespace engine {

using core::Result;
using state::Cluster;
using state::InstanceState;

namespace {

// Return true (and log where gc stopped) once the run's deadline has passed: what is left
// waits for the next run.
bool out_of_time(const GcOptions& o, std::string_view where)
{
  if (o.deadline == 0 || core::steady_now() <= o.deadline) {
    return false;
  }
  spdlog::warn("gc.deadline at={} hint=\"the next run goes on\"", where);
  return true;
}

Locker locker(state::Store& store, const GcOptions& o)
{
  return Locker{&store, o.lock_stale, "gc", o.tick, o.host};
}

// Mark booting instances whose registration never came within the deadline as error (the
// cleanup below then deletes them).
Result<void> check_registrations(state::Store& store, Cluster& c, cm::Bootstrapper& b,
                                 const GcOptions& o, GcCounts& counts)
{
  TRY_ASSIGN(auto instances, store.instances(c.id));
  for (auto& i : instances) {
    if (i.state != InstanceState::active && i.state != InstanceState::bootstrapping) {
      continue;
    }
    if (out_of_time(o, "registrations")) {
      break;
    }
    TRY_ASSIGN(const auto late, b.registration_overdue(Engine::ref(c, i)));
    if (late) {
      TRY(store.transition(i, InstanceState::error, *late));
      spdlog::warn("gc.never_registered cluster={} instance={}", c.name, i.name);
      ++counts.never_registered;
    }
  }
  return {};
}

Result<void> clean_cluster(state::Store& store, DriverSet& set, Cluster& c, const GcOptions& o,
                           GcReport& report)
{
  auto& counts = report.counts;
  if (o.clear_failures && c.failures != 0) {
    spdlog::info("gc.failures_cleared cluster={} failures={}", c.name, c.failures);
    if (!o.dry_run) {
      TRY(store.set_failures(c.id, 0));
    }
  }
  if (o.dry_run) {
    TRY_ASSIGN(const auto instances, store.instances(c.id));
    for (const auto& i : instances) {
      if (i.state == InstanceState::error || c.status == state::ClusterStatus::deleting) {
        report.would_delete.push_back(
          fmt::format("instance '{}' ({})", i.name, state::to_string(i.state)));
      }
    }
    return {};
  }
  TRY_ASSIGN(auto engine, o.engine_for(c));
  TRY(engine.check_health(c, false));
  if (state::is_live(c.status)) {
    // What the balancer lost (an Octavia member deleted behind sclman's back) comes back.
    TRY(engine.sync_lb(c));
  }
  TRY_ASSIGN(auto drivers, set.for_cluster(c));
  TRY(check_registrations(store, c, *drivers.bootstrapper, o, counts));
  TRY_ASSIGN(auto instances, store.instances(c.id));
  for (auto& i : instances) {
    if (i.state == InstanceState::error || c.status == state::ClusterStatus::deleting) {
      if (out_of_time(o, "cleanup")) {
        return {};  // the cluster is finished (and marked deleted) by a later run
      }
      spdlog::info("gc.instance_cleanup cluster={} instance={} state={} error={}",
                   c.name,
                   i.name,
                   state::to_string(i.state),
                   core::log_quote(i.error));
      const auto error = i.error;
      TRY(engine.destroy(c, i));
      SCLMAN_FAILPOINT("gc_cleanup.after_destroy");
      if (!error.empty()) {
        i.error = error;  // keep why it failed, for the operator
        TRY(store.update_instance(i));
      }
      ++counts.instances_cleaned;
    }
  }
  TRY_ASSIGN(const auto remaining, store.instances(c.id));
  std::set<std::string> live;
  for (const auto& i : remaining) {
    live.insert(i.name);
  }
  TRY_ASSIGN(const int orphans, drivers.bootstrapper->remove_orphans(c.name, live));
  counts.orphan_registrations += orphans;
  if (c.status == state::ClusterStatus::deleting) {
    TRY(retire_cluster(drivers, c.name));
    TRY(store.set_cluster_status(c.id, state::ClusterStatus::deleted));
    spdlog::info("gc.cluster_deleted cluster={}", c.name);
  }
  return {};
}

// Return whether `s` is an orphan that may be deleted now (logging why not otherwise).
bool deletable(const cloud::Server& s, const std::map<std::string, std::string>& known,
               const OrphanSweep& sweep, core::Millis now)
{
  if (const auto it = known.find(s.name);
      it != known.end() && (!sweep.by_id || it->second.empty() || it->second == s.id)) {
    return false;
  }
  if (s.cluster.empty()) {
    spdlog::warn("gc.untagged_left_alone server={} id={}", s.name, s.id);
    return false;
  }
  if (sweep.grace > 0 && (s.created == 0 || now - s.created < sweep.grace)) {
    spdlog::info("gc.orphan_in_grace cluster={} server={} id={}", s.cluster, s.name, s.id);
    return false;
  }
  return true;
}

} // namespace

Result<void> sweep_orphans(state::Store& store, core::Clock& clock,
                           const std::vector<OrphanSweep>& sweeps, const GcOptions& o,
                           GcCounts& counts)
{
  // Live instance name -> the id of its server ("" until a create answered).
  std::map<std::string, std::string> known;
  std::set<std::string> live;
  TRY_ASSIGN(const auto clusters, store.clusters());
  for (const auto& c : clusters) {
    TRY_ASSIGN(const auto instances, store.instances(c.id));
    for (const auto& i : instances) {
      if (i.state != InstanceState::gone) {
        known[i.name] = i.cloud_id;
      }
    }
  }
  TRY_ASSIGN(const auto names, store.live_instance_names());
  live.insert(names.begin(), names.end());
  for (const auto& name : names) {
    known.emplace(name, "");  // an instance of a cluster clusters() leaves out
  }
  const auto now = clock.now();
  for (const auto& sweep : sweeps) {
    TRY_ASSIGN(const auto servers, sweep.provider->list());
    for (const auto& s : servers) {
      if (!deletable(s, known, sweep, now)) {
        continue;
      }
      if (out_of_time(o, "orphans")) {
        return {};
      }
      // Only the cluster's lock holder may touch its servers.
      auto guard = lock_cluster(locker(store, o), s.cluster);
      if (!guard) {
        continue;
      }
      spdlog::info("gc.orphan_server cluster={} server={} id={}", s.cluster, s.name, s.id);
      ++counts.orphan_servers;
      if (o.dry_run) {
        continue;
      }
      TRY(journaled(store, {s.cluster, s.name, "delete_orphan"}, [&]() -> Result<void> {
        SCLMAN_FAILPOINT("gc_orphan.before");
        if (auto ours = store.check_cluster_fence(s.cluster); !ours) {
          return ours;
        }
        return sweep.provider->remove(
          core::InstanceRef{s.cluster, s.name, s.role, cloud::address_text(s), s.id});
      }));
    }
    TRY_ASSIGN(const int strays, sweep.provider->remove_strays(live, o.dry_run));
    counts.orphan_processes += strays;
    TRY_ASSIGN(const int addresses, sweep.provider->remove_orphan_addresses(o.dry_run));
    counts.orphan_addresses += addresses;
  }
  return {};
}

Result<GcReport> collect_garbage(state::Store& store, DriverSet& drivers, core::Clock& clock,
                                 std::vector<Cluster> clusters, const GcOptions& o)
{
  GcReport report;
  auto& counts = report.counts;
  const auto now = clock.now();
  if (!o.dry_run) {
    TRY_ASSIGN(counts.samples, store.prune_samples(now - o.retention));
    TRY_ASSIGN(counts.decisions_pruned, store.prune_decisions(now - o.retention));
    TRY_ASSIGN(counts.serve_pruned, store.prune_serve(now - o.retention));
    TRY_ASSIGN(counts.decisions_expired, store.expire_decisions(now - o.decision_ttl));
    TRY(store.prune_tick_claims(now - 86'400'000));
  }
  TRY_ASSIGN(report.busy, for_each_locked(locker(store, o), clusters, [&](Cluster& c) {
    return clean_cluster(store, drivers, c, o, report);
  }));
  if (o.sweep_orphans) {
    TRY_ASSIGN(const auto sweeps, drivers.orphan_sweeps(clusters));
    TRY(sweep_orphans(store, clock, sweeps, o, counts));
  }
  return report;
}

} // namespace engine
