#include "engine/locked.hpp"

#include "core/log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace engine {

std::uint64_t rendezvous_rank(std::string_view host, std::string_view cluster)
{
  std::uint64_t h = 14695981039346656037ULL;
  const auto mix = [&h](std::string_view text) {
    for (const char ch : text) {
      h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ULL;
    }
  };
  mix(host);
  mix(std::string_view("\0", 1));
  mix(cluster);
  // SplitMix64's finalizer: names that differ in their last byte rank far apart.
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

core::Result<state::LockGuard> lock_cluster(const Locker& locker, const std::string& name)
{
  auto lock = state::cluster_lock_name(name);
  TRY(locker.store->lock(lock, locker.stale));
  return state::LockGuard(*locker.store, std::move(lock));
}

core::Result<std::optional<core::Error>>
for_each_locked(const Locker& locker, std::vector<state::Cluster>& clusters,
                const std::function<core::Result<void>(state::Cluster&)>& fn,
                std::initializer_list<core::ErrorKind> deferred,
                state::LockSet* keep)
{
  std::optional<core::Error> first;
  // The cron chain's steps: this host's clusters of the tick, claimed at once (Locker::tick).
  std::vector<std::string> first_hosts;
  std::vector<std::optional<state::TickClaim>> claims;
  std::int64_t slot = 0;
  if (locker.tick > 0) {
    TRY_ASSIGN(auto hosts, locker.store->tick_hosts(locker.host,
                                                    locker.store->now() - 3 * locker.tick));
    if (hosts.empty()) {
      hosts.push_back(locker.host);
    }
    // A host ranked first claims the cluster's tick; another one only finishes a tick it
    // claimed before it saw the host that now ranks first.
    std::vector<std::pair<std::string, bool>> wanted;
    for (const auto& c : clusters) {
      first_hosts.push_back(*std::max_element(
        hosts.begin(), hosts.end(), [&](const std::string& a, const std::string& b) {
          return std::pair(rendezvous_rank(a, c.name), std::string_view(a))
                 < std::pair(rendezvous_rank(b, c.name), std::string_view(b));
        }));
      wanted.emplace_back(c.name, first_hosts.back() == locker.host);
    }
    slot = locker.store->now() / locker.tick;
    TRY_ASSIGN(claims, locker.store->claim_ticks(wanted, slot, locker.host));
  }
  // The clusters' locks, all taken in one transaction (one commit for the step, not one a
  // cluster) and held until every cluster is done. Where that fails (the database's write
  // lock not had within its wait, a lost connection), each one is taken on its own right
  // before its turn, as before: those that fail again are skipped.
  std::vector<std::size_t> mine;
  std::vector<std::string> names;
  for (std::size_t k = 0; k < clusters.size(); ++k) {
    if (locker.tick > 0) {
      const auto& claim = claims[k];
      if (!claim || claim->slot != slot || claim->host != locker.host) {
        const auto why = claim && (first_hosts[k] == locker.host || claim->slot >= slot)
                           ? fmt::format("tick {} is host '{}'s", claim->slot, claim->host)
                           : fmt::format("host '{}' ranks first for it", first_hosts[k]);
        spdlog::debug("{}.skipped cluster={} reason={}", locker.command, clusters[k].name,
                      core::log_quote(why));
        continue;
      }
    }
    mine.push_back(k);
    names.push_back(state::cluster_lock_name(clusters[k].name));
  }
  auto taken = locker.store->lock_many(names, locker.stale);
  if (!taken) {
    spdlog::info("{}.locks_one_by_one error={}", locker.command,
                 core::log_quote(taken.error().message));
  }
  state::LockSet held(*locker.store);
  state::LockSet& locks = keep ? *keep : held;
  // Every lock taken is in `locks` at once: an error that ends the loop early releases those
  // of the clusters it did not reach too.
  for (std::size_t j = 0; taken && j < mine.size(); ++j) {
    if ((*taken)[j]) {
      locks.add(names[j]);
    }
  }
  for (std::size_t j = 0; j < mine.size(); ++j) {
    auto& c = clusters[mine[j]];
    auto lock = taken ? std::move((*taken)[j]) : locker.store->lock(names[j], locker.stale);
    if (!lock) {
      spdlog::debug("{}.skipped cluster={} reason={}", locker.command, c.name,
                    core::log_quote(lock.error().message));
      if (!first) {
        first = lock.error();
      }
      continue;
    }
    if (!taken) {
      locks.add(names[j]);
    }
    auto done = fn(c);
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
