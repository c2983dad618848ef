// A rolling replacement (sclman replace), carried on by each run of the chain: the state of a
// rollout is its row (sql/0017) and the cluster's instances, so a run killed at any point
// leaves nothing the next one cannot go on from.
#include "core/failpoint.hpp"
#include "core/log.hpp"
#include "engine/engine.hpp"
#include "engine/victims.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace engine {

using core::Result;
using state::Cluster;
using state::Instance;
using state::InstanceState;

namespace {

// A web instance the rollout made: created since it started.
bool made_by(const Instance& i, const state::Rollout& r)
{
  return i.role == state::Role::web && i.serial > r.last_old_serial;
}

} // namespace

Result<RolloutStep> Engine::step_rollout(Cluster& cluster)
{
  if (cluster.status != state::ClusterStatus::active) {
    return RolloutStep{};
  }
  TRY_ASSIGN(auto found, m_store.running_rollout(cluster.id));
  if (!found) {
    return RolloutStep{};
  }
  auto& r = *found;
  TRY(clamp_desired(cluster));
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  // A new instance that failed (its boot, its bootstrap, or its health checks once in
  // service): the new image or flavor does not serve. Stop here, with the old ones serving.
  for (const auto& i : all) {
    if (made_by(i, r) && i.state == InstanceState::error) {
      const auto why = fmt::format("{} failed: {}", i.name, core::printable(i.error, 300));
      TRY(m_store.end_rollout(r, state::RolloutStatus::failed, why));
      cluster.image = r.from_image;
      cluster.flavor = r.from_flavor;
      spdlog::error("rollout.failed cluster={} rollout={} batch={} error={} hint=\"the cluster "
                    "creates its instances with image '{}' and flavor '{}' again; the instances "
                    "not yet replaced keep serving\"",
                    cluster.name, r.id, r.batches, core::log_quote(why),
                    core::printable(r.from_image, 64), core::printable(r.from_flavor, 64));
      return RolloutStep{};
    }
  }
  const int live = live_web(all);
  if (r.batch_started_at) {
    const bool waiting = std::any_of(all.begin(), all.end(), [&](const Instance& i) {
      return made_by(i, r)
             && (state::is_booting(i.state)
                 || (i.state == InstanceState::in_service && i.unhealthy_since));
    });
    if (waiting || live < cluster.desired + r.surge) {
      return RolloutStep{r, r.surge};
    }
    r.surge = 0;
    r.batch_started_at.reset();
    r.batch_ended_at = m_store.now();
    TRY(m_store.update_rollout(r));
    spdlog::info("rollout.batch_done cluster={} rollout={} batch={}", cluster.name, r.id,
                 r.batches);
    return RolloutStep{r, 0};
  }
  if (live > cluster.desired) {
    return RolloutStep{r, 0};  // the last batch's excess drains first
  }
  std::vector<std::string> kept;
  int left = 0;
  for (const auto& i : all) {
    if (state::replaced_by(i, r) && state::is_live_web(i)) {
      if (i.protected_from_scale_in) {
        kept.push_back(i.name);
      } else {
        ++left;
      }
    }
  }
  if (left == 0) {
    TRY(m_store.end_rollout(r, state::RolloutStatus::done));
    spdlog::info("rollout.done cluster={} rollout={} batches={} image={} flavor={}{}",
                 cluster.name, r.id, r.batches, core::log_quote(r.to_image),
                 core::log_quote(r.to_flavor),
                 kept.empty() ? std::string()
                              : fmt::format(" kept_protected={}", fmt::join(kept, ",")));
    return RolloutStep{};
  }
  if (r.batch_ended_at && m_store.now() < *r.batch_ended_at + core::Millis(r.pause_s) * 1000) {
    return RolloutStep{r, 0};
  }
  if (out_of_time()) {
    return RolloutStep{r, 0};
  }
  return start_batch(cluster, r, all);
}

Result<RolloutStep> Engine::start_batch(Cluster& cluster, state::Rollout& r,
                                        std::vector<Instance>& all)
{
  std::vector<VictimCandidate> old;
  int in_service = 0;
  for (auto& i : all) {
    if (i.role == state::Role::web && i.state == InstanceState::in_service && !i.unhealthy_since) {
      ++in_service;
    }
    if (state::replaced_by(i, r) && state::is_live_web(i) && !i.protected_from_scale_in) {
      old.push_back({&i, std::nullopt, std::nullopt});
    }
  }
  const int size = std::min<int>(r.batch, static_cast<int>(old.size()));
  // As many as fit under the cap boot first; the rest make room by draining first.
  const int surge = std::clamp(m_options.max_instances - cluster.desired, 0, size);
  int room = size - surge;
  TRY_ASSIGN(const auto policy, policy::policy_from_json(cluster.policy));
  const auto victim_policy = policy::victim_named(policy.victim).value_or(policy::Victim::newest);
  std::vector<Victim> first;
  for (auto& v : rank_victims(victim_policy, std::move(old), {cluster.image, cluster.flavor})) {
    if (room == 0) {
      break;
    }
    const bool serving = v.instance->state == InstanceState::in_service
                         && !v.instance->unhealthy_since;
    if (serving && in_service - 1 < r.min_in_service) {
      continue;
    }
    in_service -= serving ? 1 : 0;
    first.push_back(std::move(v));
    --room;
  }
  if (surge == 0 && first.empty()) {
    spdlog::warn("rollout.blocked cluster={} rollout={} in_service={} min_in_service={} "
                 "max_instances={} hint=\"no room to boot above the desired size, and draining "
                 "would leave fewer than min-in-service in service\"",
                 cluster.name, r.id, in_service, r.min_in_service, m_options.max_instances);
    return RolloutStep{r, 0};
  }
  ++r.batches;
  r.surge = surge;
  r.batch_started_at = m_store.now();
  TRY(m_store.update_rollout(r));
  spdlog::info("rollout.batch_started cluster={} rollout={} batch={} surge={} drained_first={} "
               "image={} flavor={}",
               cluster.name, r.id, r.batches, surge, first.size(), core::log_quote(r.to_image),
               core::log_quote(r.to_flavor));
  SCLMAN_FAILPOINT_TRY("rollout.batch_started");
  for (const auto& v : first) {
    TRY(drain_victim(cluster, *v.instance, policy::to_string(victim_policy),
                     fmt::format("replaced by rollout {} (no room above the desired size); {}",
                                 r.id, v.reason)));
  }
  if (!first.empty()) {
    TRY(sync_lb(cluster));
  }
  return RolloutStep{r, surge};
}

} // namespace engine
