// gc: prune old samples and decisions, expire stale decisions, clean up failed instances,
// finish interrupted deletes, and repair orphans both ways (servers without an instance, and
// registrations without an instance), through the drivers of the registry.
#pragma once

#include "core/clock.hpp"
#include "engine/drivers.hpp"
#include "engine/engine.hpp"
#include "state/store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace engine {

struct GcOptions
{
  bool clear_failures = false;  // reset each cluster's failed-action count
  bool dry_run = false;         // count and report, change nothing
  bool sweep_orphans = true;    // false with --cluster: no orphan scan
  core::Millis retention = 0;     // samples and decisions older than this go
  core::Millis decision_ttl = 0;  // pending decisions older than this expire
  core::Millis lock_stale = 0;    // a cluster lock older than this belongs to no live run
  core::Millis tick = 0;          // the cron chain's tick, shared between hosts (Locker::tick)
  std::string host;               // this host in tick claims (Store::host_id)
  core::Millis deadline = 0;      // steady-clock ms after which no new delete starts (0: none)
  // Return the engine that checks and destroys the instances of a cluster.
  std::function<core::Result<Engine>(const state::Cluster&)> engine_for;
};

struct GcCounts
{
  int samples = 0;
  int decisions_pruned = 0;
  int serve_pruned = 0;  // sclman serve's deliveries, audit rows and holds
  int decisions_expired = 0;
  int instances_cleaned = 0;
  int orphan_servers = 0;
  int orphan_processes = 0;
  int orphan_addresses = 0;  // floating IPs of LB servers that are gone
  int never_registered = 0;
  int orphan_registrations = 0;  // CM registrations without an instance
};

struct GcReport
{
  GcCounts counts;
  std::vector<std::string> would_delete;  // dry run: "instance 'NAME' (STATE)"
  std::optional<core::Error> busy;        // a cluster another run held (the others went on)
};

// Collect the garbage of `clusters` (and, with sweep_orphans, the orphans of every provider of
// the registry that `all_clusters` or the config use).
core::Result<GcReport> collect_garbage(state::Store& store, DriverSet& drivers,
                                       core::Clock& clock,
                                       std::vector<state::Cluster> clusters,
                                       const GcOptions& options);

// Delete the servers of `sweeps` that no live instance owns (after a sweep's grace, and under
// the lock of the server's cluster), then each provider's strays. A server without a cluster
// tag is never touched; a second server with a live instance's name (a create sent twice) is
// an orphan: the instance owns only the server whose id it recorded. The journal gets the
// intent before each delete.
core::Result<void> sweep_orphans(state::Store& store, core::Clock& clock,
                                 const std::vector<OrphanSweep>& sweeps,
                                 const GcOptions& options, GcCounts& counts);

} // namespace engine
