#include "scale.hpp"

#include "changes.hpp"
#include "core/log.hpp"
#include "engine/decisions.hpp"
#include "engine/manual.hpp"
#include "policy/policy.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace cmd {

namespace {

bool settling(const std::vector<state::Instance>& instances)
{
  for (const auto& i : instances) {
    if (i.state == state::InstanceState::draining || i.state == state::InstanceState::deleting) {
      return true;
    }
  }
  return false;
}

// Show what the run would do to the cluster's instances (--dry-run); add it to `entry`'s
// instances.
core::Result<void> show_plan(Env& env, const state::Cluster& c, Direction direction,
                             nlohmann::json& entry)
{
  TRY_ASSIGN(const auto instances, env.store->instances(c.id));
  const int live = engine::live_web(instances);
  auto& planned = entry["instances"];
  if (direction == Direction::out && live < c.desired) {
    if (!env.common.json) {
      out(fmt::format("would add {} web instances to '{}'", c.desired - live, c.name));
    }
    for (int n = live; n < c.desired; ++n) {
      planned.push_back(instance_change(std::nullopt, state::Role::web, std::nullopt,
                                        state::InstanceState::requested));
    }
  } else if (direction == Direction::in && live > c.desired) {
    if (!env.common.json) {
      out(fmt::format("would drain {} web instances of '{}'", live - c.desired, c.name));
    }
    // Which ones is the victim policy's choice when the run comes.
    for (int n = c.desired; n < live; ++n) {
      planned.push_back(instance_change(std::nullopt, state::Role::web,
                                        state::InstanceState::in_service,
                                        state::InstanceState::draining));
    }
  }
  for (const auto& i : instances) {
    if (i.state != state::InstanceState::in_service) {
      if (!env.common.json) {
        out(fmt::format("would advance '{}' from {}", i.name, state::to_string(i.state)));
      }
      planned.push_back(instance_change(i.name, i.role, i.state, std::nullopt));
    }
  }
  return {};
}

// Apply the decision to `c`'s desired size, then advance its instances.
core::Result<void> scale_cluster(Env& env, state::Cluster& c, Direction direction,
                                 const ScaleOptions& o, nlohmann::json& entries)
{
  auto& entry = entries.emplace_back(nlohmann::json{{"cluster", c.name},
                                                    {"desired_before", c.desired},
                                                    {"desired_after", c.desired},
                                                    {"instances", nlohmann::json::array()}});
  TRY_ASSIGN(const auto before, env.store->instances(c.id, true));
  TRY_ASSIGN(const auto policy, policy::policy_from_json(c.policy));
  engine::TakeOptions take;
  take.action = direction == Direction::out ? state::DecisionAction::scale_out
                                            : state::DecisionAction::scale_in;
  take.to = o.to;
  take.force = o.force;
  take.ttl = core::Millis(env.config.manager.decision_ttl) * 1000;
  // A size given by hand is stored only once carried out (engine::act_by_hand).
  take.write = env.dry_run() == DryRun::no && !o.to;
  TRY_ASSIGN(const auto to, engine::take_decision(*env.store, c, policy, take, env.clock.now()));
  const bool by_hand = o.to && to && *to != c.desired;
  std::string forced_policy;  // the policy with its bound moved to the size (--force)
  if (by_hand && o.force) {
    TRY_ASSIGN(const auto wide, engine::widened(policy, *to, env.config.manager.max_instances));
    if (wide) {
      forced_policy = policy::to_json(*wide);
      if (!env.common.cron && !env.common.json) {
        out(fmt::format("{}: --force moves the policy to [min {}, max {}]", c.name,
                        wide->min_size, wide->max_size));
      }
    }
  }
  if (to && *to != c.desired) {
    spdlog::info("{}.apply cluster={} from={} to={}", env.command, c.name, c.desired, *to);
    if (env.dry_run() == DryRun::no && !by_hand) {
      TRY(env.store->set_desired(c.id, *to));
    }
    if (!env.common.cron && !env.common.json) {
      out(fmt::format("{}: desired {} -> {}", c.name, c.desired, *to));
    }
    if (env.dry_run() == DryRun::yes || !by_hand) {
      c.desired = *to;
    }
  }
  if (env.dry_run() == DryRun::yes) {
    entry["desired_after"] = c.desired;
    return show_plan(env, c, direction, entry);
  }
  auto step = direction == Direction::out ? engine::Step::grow : engine::Step::shrink;
  auto act = [&](engine::Engine& engine) -> core::Result<void> {
    auto done = engine.reconcile(c, step);
    while (done && o.wait && direction == Direction::in && !engine.out_of_time()) {
      TRY_ASSIGN(const auto instances, env.store->instances(c.id));
      if (!settling(instances)) {
        break;
      }
      env.clock.sleep_for(500);
      done = engine.reconcile(c, step);
    }
    return done;
  };
  auto make = [&] { return env.engine_for(c); };
  core::Result<void> done;
  if (by_hand) {
    done = engine::act_by_hand(*env.store, c, {take.action, *to, o.source, forced_policy}, make,
                               act);
  } else {
    TRY_ASSIGN(auto engine, make());
    done = act(engine);
  }
  // What the run changed, also when it failed part way (then the error follows on stderr).
  TRY_ASSIGN(const auto now, env.store->find_cluster(c.name));
  TRY_ASSIGN(const auto after, env.store->instances(c.id, true));
  entry["desired_after"] = now ? now->desired : c.desired;
  entry["instances"] = instance_changes(before, after);
  if (!done && done.error().kind == core::ErrorKind::upstream_transient) {
    spdlog::warn("{}.incomplete cluster={} error={}", env.command, c.name,
                 core::log_quote(done.error().message));
  }
  return done;
}

} // namespace

core::Result<void> run_scale(Env& env, Direction direction, const ScaleOptions& o)
{
  TRY_ASSIGN(auto clusters, env.select_clusters(o.cluster));
  if (o.to && o.cluster.empty()) {
    return core::fail(core::ErrorKind::usage, "--to needs --cluster");
  }
  if (o.force && !o.to) {
    return core::fail(core::ErrorKind::usage, "--force needs --to");
  }
  std::erase_if(clusters, [](const state::Cluster& c) { return !state::is_live(c.status); });
  auto entries = nlohmann::json::array();
  TRY_ASSIGN(const auto skipped,
             engine::for_each_locked(
               env.locker(), clusters,
               [&](state::Cluster& c) { return scale_cluster(env, c, direction, o, entries); },
               {core::ErrorKind::upstream_transient}));
  if (env.common.json) {
    out(envelope(env.command, env.common.dry_run, {{"clusters", entries}}).dump(2));
  }
  if (skipped) {
    return tl::make_unexpected(*skipped);
  }
  return {};
}

} // namespace cmd
