// Cluster locks: one run at a time acts on a cluster; a run that finds a cluster locked skips
// it and says so.
#pragma once

#include "core/error.hpp"
#include "core/result.hpp"
#include "state/store.hpp"

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace engine {

// Who takes cluster locks in a run, and when a held lock is stale.
struct Locker
{
  state::Store* store = nullptr;
  core::Millis stale = 0;  // a lock older than this belongs to a run that cannot still act
  std::string command;     // names the `<command>.skipped` log line
};

// Take the lock of cluster `name`; busy with the holder's pid and host if another run has it.
core::Result<state::LockGuard> lock_cluster(const Locker& locker, const std::string& name);

// Call `fn` on each of `clusters` holding its lock. A cluster whose lock another run holds is
// skipped (logged as `<command>.skipped`); so is the rest of a cluster whose `fn` fails with
// an error of a kind in `deferred`. Any other error of `fn` is returned at once. Return the
// first skip's error, or nothing if none. With `keep`, the locks stay held there after the
// loop instead of being released after each `fn`.
core::Result<std::optional<core::Error>>
for_each_locked(const Locker& locker, std::vector<state::Cluster>& clusters,
                const std::function<core::Result<void>(state::Cluster&)>& fn,
                std::initializer_list<core::ErrorKind> deferred = {},
                std::vector<state::LockGuard>* keep = nullptr);

} // namespace engine
