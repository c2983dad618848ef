#include "replay.hpp"
#include "shell.hpp"

#include "core/names.hpp"
#include "engine/history.hpp"

#include <fmt/format.h>

namespace cmd {

core::Result<ClusterReplay> cluster_replay(Env& env, const std::string& name, int days,
                                           double capacity)
{
  if (days < 1 || days > 366) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--days {} must be from 1 to 366", days));
  }
  if (!env.store) {
    TRY_ASSIGN(const auto where, state_location(env));
    TRY_ASSIGN(auto store, state::Store::open(where, env.clock, state::Access::read_only));
    env.store.emplace(std::move(store));
  }
  TRY_ASSIGN(const auto clusters, env.select_clusters(name));
  const auto& c = clusters.front();
  ClusterReplay r;
  r.cluster = c.name;
  r.cluster_id = c.id;
  TRY_ASSIGN(r.stored, policy::policy_from_json(c.policy));
  r.capacity = capacity;
  if (r.capacity <= 0) {
    if (r.stored.kind != policy::Kind::predictive) {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("--capacity is needed: the policy of '{}' ({}) does not say "
                                    "how much load one instance carries",
                                    c.name, policy::to_string(r.stored.kind)));
    }
    r.capacity = r.stored.capacity;
  }
  r.policy = policy::scale_metric(r.stored, 100.0 / r.capacity);
  const core::Millis now = env.clock.now();
  TRY_ASSIGN(const auto totals,
             engine::poll_totals(*env.store, c, now - core::Millis(days) * 86'400'000, now));
  if (totals.size() < 2) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("cluster '{}' has {} polls with a value in the last {} days: "
                                  "nothing to replay",
                                  c.name, totals.size(), days));
  }
  r.from = totals.front().first;
  r.to = totals.back().first;
  r.trace = policy::trace_of_polls(totals);
  return r;
}

} // namespace cmd
