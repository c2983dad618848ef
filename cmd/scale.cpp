#include "scale.hpp"

#include "core/log.hpp"
#include "policy/policy.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace cmd {

namespace {

state::DecisionAction action_of(Direction d)
{
  return d == Direction::out ? state::DecisionAction::scale_out : state::DecisionAction::scale_in;
}

// Apply a pending decision (or --to) to the cluster's desired size; return the new size or
// nothing when there is nothing to apply.
core::Result<std::optional<int>> take_decision(Env& env,
                                               state::Cluster& c,
                                               Direction direction,
                                               const ScaleOptions& o,
                                               const policy::PolicyConfig& policy)
{
  const auto now = env.clock.now();
  if (o.to) {
    const int to = *o.to;
    if (to < policy.min_size || to > policy.max_size) {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("--to {} is outside [min {}, max {}] of cluster '{}'", to,
                                    policy.min_size, policy.max_size, c.name));
    }
    if ((direction == Direction::out && to < c.desired)
        || (direction == Direction::in && to > c.desired)) {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("--to {} would scale cluster '{}' the other way (desired {})",
                                    to, c.name, c.desired));
    }
    if (to == c.desired) {
      return std::optional<int>{};
    }
    state::DecisionRow row;
    row.cluster_id = c.id;
    row.ts = now;
    row.action = action_of(direction);
    row.from_size = c.desired;
    row.to_size = to;
    row.reason = "manual";
    row.inputs = "{}";
    row.status = state::DecisionStatus::done;
    row.done_at = now;
    if (env.dry_run() == DryRun::no) {
      TRY(env.store->supersede_pending(c.id));
      TRY(env.store->insert_decision(row));
    }
    return std::optional<int>{to};
  }
  TRY_ASSIGN(auto pending, env.store->pending_decision(c.id));
  if (!pending || pending->action != action_of(direction)) {
    return std::optional<int>{};
  }
  if (now - pending->ts > core::Millis(env.config.manager.decision_ttl) * 1000) {
    spdlog::warn("decision.expired cluster={} id={} age_s={}", c.name, pending->id,
                 (now - pending->ts) / 1000);
    if (env.dry_run() == DryRun::no) {
      TRY(env.store->set_decision_status(pending->id, state::DecisionStatus::expired));
    }
    return std::optional<int>{};
  }
  const int to = std::clamp(pending->to_size, policy.min_size, policy.max_size);
  if (env.dry_run() == DryRun::no) {
    TRY(env.store->set_decision_status(pending->id, state::DecisionStatus::done));
  }
  return std::optional<int>{to};
}

bool settling(const std::vector<state::Instance>& instances)
{
  for (const auto& i : instances) {
    if (i.state == state::InstanceState::draining || i.state == state::InstanceState::deleting) {
      return true;
    }
  }
  return false;
}

} // namespace

core::Result<void> run_scale(Env& env, Direction direction, const ScaleOptions& o)
{
  TRY_ASSIGN(auto clusters, env.select_clusters(o.cluster));
  if (o.to && o.cluster.empty()) {
    return core::fail(core::ErrorKind::usage, "--to needs --cluster");
  }
  std::optional<core::Error> first_error;
  for (auto& c : clusters) {
    if (!state::is_live(c.status)) {
      continue;
    }
    auto lock = env.lock_cluster(c.name);
    if (!lock) {
      if (!first_error) {
        first_error = lock.error();
      }
      continue;
    }
    TRY_ASSIGN(const auto policy, policy::policy_from_json(c.policy));
    TRY_ASSIGN(const auto to, take_decision(env, c, direction, o, policy));
    if (to && *to != c.desired) {
      spdlog::info("{}.apply cluster={} from={} to={}", env.command, c.name, c.desired, *to);
      if (env.dry_run() == DryRun::no) {
        TRY(env.store->set_desired(c.id, *to));
      }
      if (!env.common.cron) {
        out(fmt::format("{}: desired {} -> {}", c.name, c.desired, *to));
      }
      c.desired = *to;
    }
    if (env.dry_run() == DryRun::yes) {
      TRY_ASSIGN(const auto instances, env.store->instances(c.id));
      const int live = engine::live_web(instances);
      if (direction == Direction::out && live < c.desired) {
        out(fmt::format("would add {} web instances to '{}'", c.desired - live, c.name));
      } else if (direction == Direction::in && live > c.desired) {
        out(fmt::format("would drain {} web instances of '{}'", live - c.desired, c.name));
      }
      for (const auto& i : instances) {
        if (i.state != state::InstanceState::in_service) {
          out(fmt::format("would advance '{}' from {}", i.name, state::to_string(i.state)));
        }
      }
      continue;
    }
    TRY_ASSIGN(auto engine, env.engine_for(c));
    auto step = direction == Direction::out ? engine::Step::grow : engine::Step::shrink;
    auto done = engine.reconcile(c, step);
    while (done && o.wait && direction == Direction::in && !engine.out_of_time()) {
      TRY_ASSIGN(const auto instances, env.store->instances(c.id));
      if (!settling(instances)) {
        break;
      }
      env.clock.sleep_for(500);
      done = engine.reconcile(c, step);
    }
    if (!done) {
      if (done.error().kind != core::ErrorKind::upstream_transient) {
        return done;
      }
      spdlog::warn("{}.incomplete cluster={} error={}", env.command, c.name,
                   core::log_quote(done.error().message));
      if (!first_error) {
        first_error = done.error();
      }
    }
  }
  if (first_error) {
    return tl::make_unexpected(*first_error);
  }
  return {};
}

} // namespace cmd
