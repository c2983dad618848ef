#include "engine/manual.hpp"

#include "core/log.hpp"
#include "engine/decisions.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>

namespace engine {

core::Result<std::map<std::int64_t, state::InstanceState>> instance_states(state::Store& store,
                                                                          std::int64_t cluster_id)
{
  TRY_ASSIGN(const auto instances, store.instances(cluster_id, true));
  std::map<std::int64_t, state::InstanceState> states;
  for (const auto& i : instances) {
    states[i.id] = i.state;
  }
  return states;
}

core::Result<void> act_by_hand(state::Store& store, state::Cluster& cluster,
                               const ByHand& by_hand, const MakeEngine& make, const Act& act)
{
  const int from = cluster.desired;
  // Decided now, done once `act` returns: the victims it chooses fall after the decision
  // (why --json gives each decision the victims chosen from its time on).
  const auto decided_at = store.now();
  TRY_ASSIGN(const auto was, instance_states(store, cluster.id));
  const auto old_policy = cluster.policy;
  if (!by_hand.policy.empty()) {
    cluster.policy = by_hand.policy;  // the engine keeps the size within the moved bound
  }
  auto engine = make();
  cluster.desired = by_hand.to;
  auto done = engine ? act(*engine) : core::Result<void>(tl::make_unexpected(engine.error()));
  state::DecisionRow row;
  row.cluster_id = cluster.id;
  row.ts = decided_at;
  row.action = by_hand.action;
  row.from_size = from;
  row.to_size = by_hand.to;
  row.reason = "manual";
  row.source = by_hand.source;
  row.inputs = "{}";
  row.done_at = store.now();
  if (done) {
    row.status = state::DecisionStatus::done;
    if (!by_hand.policy.empty()) {
      TRY(store.set_policy(cluster.id, by_hand.policy));
      spdlog::warn("manual.forced cluster={} to={} policy={}", cluster.name, by_hand.to,
                   by_hand.policy);
      row.reason = "manual (forced: the policy's bound moved)";
    }
    TRY(store.set_desired(cluster.id, by_hand.to));
    TRY(store.supersede_pending(cluster.id));
    TRY(store.insert_decision(row));
    return {};
  }
  cluster.desired = from;
  cluster.policy = old_policy;
  row.status = state::DecisionStatus::failed;
  row.error = done.error().message;
  spdlog::error("manual.failed cluster={} action={} from={} to={} error={}", cluster.name,
                policy::to_string(by_hand.action), from, by_hand.to,
                core::log_quote(row.error));
  if (engine) {
    // What cannot be undone now (a server that will not delete) is left to later runs; the
    // run's own error is the one reported.
    if (auto back = engine->take_back(cluster, was); !back) {
      spdlog::error("manual.take_back_failed cluster={} error={}", cluster.name,
                    core::log_quote(back.error().message));
    }
  }
  TRY(store.insert_decision(row));
  return done;
}

namespace {

// Return web instance `name` among `instances` of `cluster`; a usage error if there is none, or
// if it is the LB ("only web instances `what`").
core::Result<std::vector<state::Instance>::const_iterator>
web_instance_named(const std::vector<state::Instance>& instances, const state::Cluster& cluster,
                   const std::string& name, std::string_view what)
{
  const auto it = std::find_if(instances.begin(), instances.end(),
                               [&](const state::Instance& i) { return i.name == name; });
  if (it == instances.end()) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("cluster '{}' has no instance '{}'", cluster.name, name));
  }
  if (it->role != state::Role::web) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("'{}' is the load balancer: only web instances {}", name,
                                  what));
  }
  return it;
}

} // namespace

core::Result<void> check_member(state::Store& store, const state::Cluster& cluster,
                                const std::string& name, std::string_view what)
{
  TRY_ASSIGN(const auto instances, store.instances(cluster.id));
  TRY_ASSIGN(const auto it, web_instance_named(instances, cluster, name,
                                               fmt::format("can be {} (delete-cluster removes "
                                                           "the whole cluster)",
                                                           what)));
  if (!state::is_live_web(*it)) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("'{}' is {}: only an instance booting or in service can be {}",
                                  name, state::to_string(it->state), what));
  }
  if (it->protected_from_scale_in) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("'{}' is protected from scale-in: sclman unprotect {} {} "
                                  "first",
                                  name, cluster.name, name));
  }
  return {};
}

core::Result<void> remove_member(state::Store& store, state::Cluster& cluster,
                                 const std::string& name, const std::string& source,
                                 const MakeEngine& make, bool write, bool force)
{
  TRY(check_member(store, cluster, name, "removed"));
  TRY_ASSIGN(const auto policy, policy::policy_from_json(cluster.policy));
  const int to = cluster.desired - 1;
  std::string forced_policy;
  if (to < policy.min_size && (!force || to < 0)) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("removing '{}' would take cluster '{}' to {}, below its "
                                  "minimum {} (set-policy --min lowers it)",
                                  name, cluster.name, to, policy.min_size));
  }
  if (to < policy.min_size) {
    TRY_ASSIGN(const auto wide, widened(policy, to, std::numeric_limits<int>::max()));
    forced_policy = policy::to_json(*wide);
  }
  if (!write) {
    return {};
  }
  const auto why = fmt::format("removed by hand ({})", source);
  return act_by_hand(store, cluster, {state::DecisionAction::scale_in, to, source, forced_policy},
                     make, [&](Engine& e) { return e.drain_chosen(cluster, name, why); });
}

core::Result<bool> set_protection(state::Store& store, const state::Cluster& cluster,
                                  const std::string& name, bool protect, bool write)
{
  TRY_ASSIGN(const auto instances, store.instances(cluster.id, true));
  TRY_ASSIGN(const auto it, web_instance_named(instances, cluster, name, "are scale-in victims"));
  if (protect && !state::counts_toward_size(it->state)) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("'{}' is {}: only an instance that is booting or in service "
                                  "can be protected",
                                  name, state::to_string(it->state)));
  }
  if (it->protected_from_scale_in == protect) {
    return false;
  }
  if (!write) {
    return true;
  }
  TRY(store.set_protected(it->id, protect));
  spdlog::info("instance.{} cluster={} instance={}", protect ? "protected" : "unprotected",
               cluster.name, name);
  return true;
}

} // namespace engine
