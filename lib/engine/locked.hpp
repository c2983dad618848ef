// Cluster locks: one run at a time acts on a cluster; a run that finds a cluster locked skips
// it and says so.
#pragma once

#include "core/error.hpp"
#include "core/result.hpp"
#include "state/store.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engine {

// Who takes cluster locks in a run, and when a held lock is stale.
struct Locker
{
  state::Store* store = nullptr;
  core::Millis stale = 0;  // a lock older than this belongs to a run that cannot still act
  std::string command;     // names the `<command>.skipped` log line
  // The cron chain's steps (--cron) share the clusters of each tick between the hosts of one
  // database: with `tick` > 0, this host (`host`, Store::host_id) notes that it runs, and acts
  // on a cluster only when it ranks first for it among the hosts seen in the last three ticks
  // (rendezvous_rank) and has claimed it for the current slot of `tick` ms
  // (Store::claim_ticks); the others' clusters are left to them. A host whose chain stopped
  // drops out of the ranking three ticks later, and the others take its share.
  core::Millis tick = 0;
  std::string host;
};

// Rank of host `host` for cluster `cluster` (FNV-1a of both, mixed): the same on every host, so that
// the hosts agree on each cluster's first host without talking, and one host more or less moves
// only its own share of the clusters.
std::uint64_t rendezvous_rank(std::string_view host, std::string_view cluster);

// Take the lock of cluster `name`; busy with the holder's pid and host if another run has it.
core::Result<state::LockGuard> lock_cluster(const Locker& locker, const std::string& name);

// Call `fn` on each of `clusters` holding its lock. A cluster whose lock another run holds is
// skipped (logged as `<command>.skipped`), as is one another host claimed for this tick (see
// Locker::tick; that skip is not an error); so is the rest of a cluster whose `fn` fails with
// an error of a kind in `deferred`. Any other error of `fn` is returned at once. Return the
// first skip's error, or nothing if none. The locks are taken together before the first `fn`
// (Store::lock_many) and released together after the last; with `keep`, they stay held there
// after the loop.
core::Result<std::optional<core::Error>>
for_each_locked(const Locker& locker, std::vector<state::Cluster>& clusters,
                const std::function<core::Result<void>(state::Cluster&)>& fn,
                std::initializer_list<core::ErrorKind> deferred = {},
                state::LockSet* keep = nullptr);

} // namespace engine
