#include "engine/locked.hpp"

#include "core/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace engine {

core::Result<state::LockGuard> lock_cluster(const Locker& locker, const std::string& name)
{
  TRY(locker.store->lock("cluster:" + name, locker.stale));
  return state::LockGuard(*locker.store, "cluster:" + name);
}

core::Result<std::optional<core::Error>>
for_each_locked(const Locker& locker, std::vector<state::Cluster>& clusters,
                const std::function<core::Result<void>(state::Cluster&)>& fn,
                std::initializer_list<core::ErrorKind> deferred,
                std::vector<state::LockGuard>* keep)
{
  std::optional<core::Error> first;
  for (auto& c : clusters) {
    auto lock = lock_cluster(locker, c.name);
    if (!lock) {
      spdlog::debug("{}.skipped cluster={} reason={}", locker.command, c.name,
                    core::log_quote(lock.error().message));
      if (!first) {
        first = lock.error();
      }
      continue;
    }
    auto done = fn(c);
    if (keep) {
      keep->push_back(std::move(*lock));
    }
    if (done) {
      continue;
    }
    if (std::find(deferred.begin(), deferred.end(), done.error().kind) == deferred.end()) {
      return tl::make_unexpected(done.error());
    }
    if (!first) {
      first = done.error();
    }
  }
  return first;
}

} // namespace engine
