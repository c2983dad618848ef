#include "engine/engine.hpp"

#include "cloud/openstack.hpp"
#include "core/endpoint.hpp"
#include "core/failpoint.hpp"
#include "core/log.hpp"
#include "engine/journal.hpp"
#include "engine/victims.hpp"
#include "metrics/stub_status.hpp"
#include "policy/schedule.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <limits>
#include <set>

namespace engine {

using core::ErrorKind;
using core::fail;
using core::Result;
using state::Cluster;
using state::Instance;
using state::InstanceState;
using state::Role;

namespace {

// Errors after which the run cannot go on for any instance.
bool fatal(const core::Error& e)
{
  return e.kind == ErrorKind::config || e.kind == ErrorKind::state
         || e.kind == ErrorKind::internal || e.kind == ErrorKind::usage;
}

bool relevant(Step step, const Instance& i)
{
  if (i.role == state::Role::lb) {
    return state::is_booting(i.state) || i.state == InstanceState::deleting;
  }
  switch (step) {
  case Step::grow:
    return state::is_booting(i.state);
  case Step::shrink:
    return i.state == InstanceState::draining || i.state == InstanceState::deleting;
  case Step::all:
    return i.state != InstanceState::gone && i.state != InstanceState::error
           && i.state != InstanceState::in_service;
  }
  return false;
}

// Return the name of the cluster's Nova server group, "" if it has none.
std::string group_of(const Cluster& cluster)
{
  return cluster.server_group.empty() ? std::string() : cloud::server_group_name(cluster.name);
}

} // namespace

std::map<std::string, int> live_web_by_zone(const std::vector<Instance>& all)
{
  std::map<std::string, int> live;
  for (const auto& i : all) {
    if (state::is_live_web(i)) {
      ++live[i.availability_zone];
    }
  }
  return live;
}

std::string next_zone(const std::vector<std::string>& zones, const std::vector<Instance>& all)
{
  auto live = live_web_by_zone(all);
  std::string best;
  int fewest = std::numeric_limits<int>::max();
  for (const auto& z : zones) {
    if (live[z] < fewest) {
      fewest = live[z];
      best = z;
    }
  }
  return best;
}

int live_web(const std::vector<Instance>& instances)
{
  return static_cast<int>(std::count_if(instances.begin(), instances.end(), state::is_live_web));
}

Engine::Engine(state::Store& store, Drivers drivers, Options options)
  : m_store(store), m_drivers(drivers), m_options(std::move(options))
{
}

bool Engine::out_of_time() const
{
  return m_options.deadline > 0 && core::steady_now() > m_options.deadline;
}

core::InstanceRef Engine::ref(const Cluster& cluster, const Instance& i)
{
  return core::InstanceRef{cluster.name, i.name, i.role, i.address, i.cloud_id};
}

Result<std::optional<Instance>> Engine::lb_instance(const Cluster& cluster)
{
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  for (auto& i : all) {
    if (i.role == state::Role::lb && i.state != InstanceState::error) {
      return std::optional<Instance>{i};
    }
  }
  return std::optional<Instance>{};
}

Result<void> Engine::count_failure(Cluster& cluster, Instance& i, const std::string& why)
{
  TRY(m_store.transition(i, InstanceState::error, why));
  cluster.failures += 1;
  TRY(m_store.set_failures(cluster.id, cluster.failures));
  spdlog::error("instance.failed cluster={} instance={} failures={} reason={}",
                cluster.name,
                i.name,
                cluster.failures,
                core::log_quote(why));
  return {};
}

Result<void> Engine::sync_lb(Cluster& cluster)
{
  // A run whose cluster lock was taken over (it was stopped past the lock's staleness) applies
  // nothing: the balancer is the new holder's to set.
  TRY(m_store.check_cluster_fence(cluster.name));
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  const Instance* lb = nullptr;
  std::vector<lb::Backend> backends;
  std::vector<state::RejectedBackend> rejected;
  for (const auto& i : all) {
    if (i.role == state::Role::lb && i.state == InstanceState::in_service) {
      lb = &i;
    } else if (i.role == state::Role::web && i.state == InstanceState::in_service
               && !i.unhealthy_since) {
      // The stored address came from the provider (or a hand-edited state file): only a parsed
      // endpoint reaches the balancer.
      auto endpoint = core::Endpoint::parse(i.address);
      if (!endpoint) {
        rejected.push_back({i.name, endpoint.error().message});
        continue;
      }
      backends.push_back({i.name, *endpoint});
    }
  }
  if (!lb) {
    return record_rejected(cluster, rejected);
  }
  TRY_ASSIGN(const auto applied, m_drivers.balancer->apply(ref(cluster, *lb), backends));
  for (const auto& r : applied.rejected) {
    rejected.push_back({r.name, r.reason});
  }
  TRY(record_lb_status(all, applied.members));
  const auto ids = applied.ids.value_or(lb::BalancerIds{});
  if (ids.listener != lb->lb_listener_id || ids.pool != lb->lb_pool_id) {
    TRY(m_store.set_balancer_ids(lb->id, ids.listener, ids.pool));
  }
  return record_rejected(cluster, rejected);
}

Result<void> Engine::ensure_public_address(const Cluster& cluster)
{
  if (cluster.floating_network.empty()) {
    return {};
  }
  TRY_ASSIGN(const auto lb, lb_instance(cluster));
  if (!lb || lb->state != InstanceState::in_service || lb->public_address) {
    return {};
  }
  auto got = journaled(m_store, {cluster.name, lb->name, "floating_ip"}, [&] {
    return m_drivers.provider->public_address(ref(cluster, *lb), cluster.floating_network);
  });
  if (!got) {
    if (fatal(got.error())) {
      return tl::make_unexpected(got.error());
    }
    // The cluster serves at its LB's own address meanwhile: scaling goes on.
    spdlog::error("lb.public_address_failed cluster={} instance={} network={} error={} "
                  "hint=\"the next run tries again\"",
                  cluster.name, lb->name, core::log_quote(cluster.floating_network),
                  core::log_quote(got.error().message));
    return {};
  }
  const auto& address = *got;
  if (!address) {
    return {};
  }
  TRY(m_store.set_public_address(lb->id, *address));
  spdlog::info("lb.public_address cluster={} instance={} address={} network={}", cluster.name,
               lb->name, address->to_string(), core::log_quote(cluster.floating_network));
  return {};
}

Result<void> Engine::record_lb_status(const std::vector<Instance>& all,
                                      const std::vector<lb::MemberView>& members)
{
  for (const auto& i : all) {
    if (i.role != state::Role::web || i.state == InstanceState::gone) {
      continue;
    }
    std::optional<core::Operating> status;
    for (const auto& m : members) {
      if (m.name == i.name) {
        status = m.status;
      }
    }
    if (status != i.lb_status) {
      TRY(m_store.set_lb_status(i.id, status));
    }
  }
  return {};
}

Result<void> Engine::record_rejected(const Cluster& cluster,
                                     const std::vector<state::RejectedBackend>& rejected)
{
  TRY_ASSIGN(const auto before, m_store.rejected(cluster.id));
  for (const auto& r : rejected) {
    // Every tick while the value stays bad: an error, so cron mails it.
    spdlog::error("lb.rejected cluster={} node={} reason={}", cluster.name,
                  core::log_quote(core::printable(r.name)),
                  core::log_quote(core::printable(r.reason, 300)));
  }
  for (const auto& b : before) {
    const bool still = std::any_of(rejected.begin(), rejected.end(),
                                   [&](const auto& r) { return r.name == b.name; });
    if (!still) {
      spdlog::info("lb.accepted cluster={} node={}", cluster.name, core::log_quote(b.name));
    }
  }
  return m_store.replace_rejected(cluster.id, rejected);
}

Result<void> Engine::clamp_desired(Cluster& cluster)
{
  auto policy = policy::policy_from_json(cluster.policy);
  if (!policy) {
    return fail(ErrorKind::state, fmt::format("table 'clusters' row {} has an invalid policy: {}",
                                              cluster.id, policy.error().message));
  }
  const auto range = policy::size_range(*policy);
  const int hi = std::min(range.max_size, m_options.max_instances);
  const int lo = std::min(range.min_size, hi);
  const int size = std::clamp(cluster.desired, lo, hi);
  if (size != cluster.desired) {
    spdlog::error("cluster.desired_out_of_bounds cluster={} stored={} min={} max={} "
                  "acting_on={}",
                  cluster.name, cluster.desired, lo, hi, size);
    cluster.desired = size;
  }
  return {};
}

Result<int> Engine::fill_to_desired(Cluster& cluster, const RolloutStep& rollout)
{
  if (!state::is_live(cluster.status)) {
    return 0;
  }
  TRY(clamp_desired(cluster));
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  const bool has_lb = std::any_of(all.begin(), all.end(), [](const Instance& i) {
    return i.role == state::Role::lb && state::counts_toward_size(i.state);
  });
  int added = 0;
  if (!has_lb) {
    Instance lb;
    lb.cluster_id = cluster.id;
    lb.role = state::Role::lb;
    lb.image = cluster.image;
    lb.flavor = cluster.flavor;
    lb.server_group = group_of(cluster);
    TRY(m_store.insert_instance(lb, cluster.name));
    spdlog::info("instance.requested cluster={} instance={} role=lb", cluster.name, lb.name);
    ++added;
  }
  int missing = cluster.desired + rollout.surge - live_web(all);
  if (missing <= 0) {
    return added;
  }
  // A rollout's surge is new instances: only what the desired size lacks is taken back from
  // those draining.
  const int lacking = std::clamp(cluster.desired - live_web(all), 0, missing);
  TRY_ASSIGN(const int reclaimed, reclaim_draining(cluster, all, lacking, rollout));
  missing -= reclaimed;
  if (missing <= 0) {
    return added;
  }
  if (cluster.failures >= m_options.failure_budget) {
    spdlog::error("scale_out.stopped cluster={} failures={} hint=\"run sclman gc "
                  "--clear-failures after fixing the cause\"",
                  cluster.name,
                  cluster.failures);
    return added;
  }
  const int batch = std::min(missing, m_options.request_batch);
  if (batch < missing) {
    spdlog::info("scale_out.batch cluster={} requested={} left_for_next_run={}", cluster.name,
                 batch, missing - batch);
  }
  for (int k = 0; k < batch; ++k) {
    if (out_of_time()) {
      spdlog::warn("scale_out.deadline cluster={} requested={} left_for_next_run={}",
                   cluster.name, k, missing - k);
      break;
    }
    Instance web;
    web.cluster_id = cluster.id;
    web.role = state::Role::web;
    web.image = cluster.image;
    web.flavor = cluster.flavor;
    web.server_group = group_of(cluster);
    web.availability_zone = next_zone(cluster.availability_zones, all);
    TRY(m_store.insert_instance(web, cluster.name));
    spdlog::info("instance.requested cluster={} instance={} role=web{}", cluster.name, web.name,
                 web.availability_zone.empty()
                   ? std::string()
                   : " zone=" + core::log_quote(web.availability_zone));
    all.push_back(web);
    ++added;
  }
  return added;
}

Result<int> Engine::reclaim_draining(Cluster& cluster, std::vector<Instance>& all, int wanted,
                                     const RolloutStep& rollout)
{
  std::vector<Instance*> draining;
  for (auto& i : all) {
    if (i.role == state::Role::web && i.state == InstanceState::draining
        && !(rollout.rollout && state::replaced_by(i, *rollout.rollout))) {
      draining.push_back(&i);
    }
  }
  // The latest drained first: the fewest of its connections have gone elsewhere.
  std::sort(draining.begin(), draining.end(), [](const Instance* a, const Instance* b) {
    return a->state_since > b->state_since;
  });
  int reclaimed = 0;
  for (Instance* i : draining) {
    if (reclaimed >= wanted || out_of_time()) {
      break;
    }
    TRY_ASSIGN(const bool up, m_drivers.bootstrapper->running(ref(cluster, *i)));
    // It may have been drained for failing its checks: one now, unless the balancer checks.
    const auto why = !up || m_drivers.balancer->checks_members() ? std::string()
                                                                  : in_service_check(*i);
    if (!up || !why.empty()) {
      spdlog::info("instance.not_reclaimed cluster={} instance={} error={}", cluster.name,
                   i->name, core::log_quote(up ? why : "its service does not run"));
      continue;
    }
    TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, *i), true));
    TRY(m_store.transition(*i, InstanceState::in_service));
    spdlog::info("instance.reclaimed cluster={} instance={} hint=\"draining, taken back into "
                 "service instead of a new boot\"",
                 cluster.name, i->name);
    ++reclaimed;
  }
  if (reclaimed > 0) {
    TRY(sync_lb(cluster));
  }
  return reclaimed;
}

Result<std::vector<std::string>> Engine::drain_excess(Cluster& cluster, const RolloutStep& rollout)
{
  TRY(clamp_desired(cluster));
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  int excess = live_web(all) - cluster.desired - rollout.surge;
  std::vector<std::string> victims;
  if (excess <= 0) {
    return victims;
  }
  TRY_ASSIGN(const auto policy, policy::policy_from_json(cluster.policy));
  const auto victim_policy = policy::victim_named(policy.victim).value_or(policy::Victim::newest);
  std::vector<VictimCandidate> candidates;  // protected from scale-in: never victims
  for (auto& i : all) {
    if (state::is_live_web(i) && !i.protected_from_scale_in) {
      candidates.push_back({&i, std::nullopt, std::nullopt});
    }
  }
  if (static_cast<int>(candidates.size()) < excess) {
    // As AWS does: the desired size stays; the protected instances stay until unprotected.
    // Info, not a warning: each cron run would mail it while the operator's choice holds.
    spdlog::info("scale_in.protected cluster={} desired={} unprotected={} protected={} "
                 "hint=\"sclman unprotect lets the next run drain them\"",
                 cluster.name, cluster.desired, candidates.size(),
                 fmt::join(state::protected_web(all), ","));
  }
  if (victim_policy == policy::Victim::least_busy) {
    TRY(measure_busy(cluster, candidates, core::Millis(policy.stale_s) * 1000));
  }
  auto ranked =
    rank_victims(victim_policy, std::move(candidates), {cluster.image, cluster.flavor});
  if (!cluster.availability_zones.empty()) {
    ranked = balance_zones(std::move(ranked), live_web_by_zone(all));
  }
  if (rollout.rollout) {
    // A rollout's excess is its old instances: they go first, in the policy's order.
    const auto& r = *rollout.rollout;
    std::stable_partition(ranked.begin(), ranked.end(),
                          [&](const Victim& v) { return state::replaced_by(*v.instance, r); });
    for (auto& v : ranked) {
      if (state::replaced_by(*v.instance, r)) {
        v.reason = fmt::format("replaced by rollout {}; {}", r.id, v.reason);
      }
    }
  }
  for (const auto& v : ranked) {
    Instance* i = v.instance;
    if (excess-- <= 0) {
      break;
    }
    if (out_of_time()) {
      spdlog::warn("scale_in.deadline cluster={} drained={} hint=\"the next run drains the "
                   "rest\"",
                   cluster.name, victims.size());
      break;
    }
    TRY(drain_victim(cluster, *i, policy::to_string(victim_policy), v.reason));
    victims.push_back(i->name);
  }
  TRY(sync_lb(cluster));
  return victims;
}

Result<void> Engine::drain_chosen(Cluster& cluster, const std::string& name,
                                  const std::string& why)
{
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  const auto it = std::find_if(all.begin(), all.end(), [&](const Instance& i) {
    return i.name == name && state::is_live_web(i);
  });
  if (it == all.end()) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("'{}' is not a web instance of '{}' booting or in service",
                                  name, cluster.name));
  }
  TRY(drain_victim(cluster, *it, "by hand", why));
  return sync_lb(cluster);
}

Result<void> Engine::drain_victim(Cluster& cluster, Instance& i, const std::string& victim_policy,
                                  const std::string& why)
{
  if (state::is_booting(i.state)) {
    TRY(m_store.transition(i, InstanceState::deleting));
  } else {
    TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), false));
    TRY(m_store.transition(i, InstanceState::draining));
  }
  TRY(m_store.insert_victim(cluster.id, {0, i.name, victim_policy, why}));
  SCLMAN_FAILPOINT_TRY("drain.before_lb");
  spdlog::info("instance.draining cluster={} instance={} victim_policy={} why={}", cluster.name,
               i.name, victim_policy, core::log_quote(why));
  return {};
}

Result<bool> Engine::advance(Cluster& cluster, Instance& i)
{
  using Advance = Result<bool> (Engine::*)(Cluster&, Instance&);
  static constexpr std::array<Advance, 9> k_steps = {
    &Engine::advance_requested,     // requested
    &Engine::advance_building,      // building
    &Engine::advance_active,        // active
    &Engine::advance_bootstrapping, // bootstrapping
    &Engine::stay,                  // in_service
    &Engine::advance_draining,      // draining
    &Engine::advance_deleting,      // deleting
    &Engine::stay,                  // gone
    &Engine::stay,                  // error
  };
  return (this->*k_steps[static_cast<size_t>(i.state)])(cluster, i);
}

bool Engine::timed_out(const Instance& i) const
{
  return m_store.now() - i.state_since > core::Millis(m_options.boot_timeout) * 1000;
}

Result<bool> Engine::stay(Cluster&, Instance&)
{
  return false;
}

Result<bool> Engine::advance_requested(Cluster& cluster, Instance& i)
{
  // A server an earlier run's create left behind (accepted, not recorded: a run killed, or
  // a create of unknown outcome) keeps the user data it boots with; new user data would
  // lock it out (for chef, a new client key replaces the one it carries). create() below
  // finds it by name.
  TRY_ASSIGN(const auto existing, m_drivers.provider->find(i.name));
  std::string user_data;
  if (!existing) {
    TRY_ASSIGN(user_data, m_drivers.bootstrapper->user_data(ref(cluster, i)));
  } else {
    spdlog::info("instance.server_exists cluster={} instance={} id={}", cluster.name, i.name,
                 existing->id);
  }
  cloud::ServerSpec spec;
  spec.name = i.name;
  spec.cluster = cluster.name;
  spec.role = i.role;
  // What the row was requested with (older rows have the cluster's).
  spec.flavor = i.flavor.empty() ? cluster.flavor : i.flavor;
  spec.image = i.image.empty() ? cluster.image : i.image;
  spec.network = cluster.network;
  spec.server_group = cluster.server_group;
  spec.availability_zone = i.availability_zone;
  spec.user_data = std::move(user_data);
  if (i.role == Role::lb) {
    spec.port = cluster.lb_port.value_or(0);
    spec.listen = cluster.lb_listen;
    spec.floating_network = cluster.floating_network;
  }
  auto server = journaled(
    m_store, {cluster.name, i.name, "create_server"},
    [&]() -> Result<cloud::Server> {
      SCLMAN_FAILPOINT_TRY("create_server.before");
      TRY(m_store.check_cluster_fence(cluster.name));
      auto created = m_drivers.provider->create(spec);
      SCLMAN_FAILPOINT("create_server.after");
      return created;
    },
    [](const auto& created) { return created->id; });
  if (!server) {
    if (server.error().kind == ErrorKind::upstream_rejected) {
      TRY(count_failure(cluster, i, server.error().message));
      return true;
    }
    return tl::make_unexpected(server.error());
  }
  i.cloud_id = server->id;
  i.address = cloud::address_text(*server);
  if (server->status == cloud::ServerStatus::error) {
    TRY(count_failure(cluster, i, server->fault));
    return true;
  }
  TRY(m_store.transition(i,
                         server->status == cloud::ServerStatus::active ? InstanceState::active
                                                                      : InstanceState::building));
  if (i.role == Role::lb && !cluster.lb_port && server->address) {
    cluster.lb_port = server->address->port();
    TRY(m_store.set_lb_port(cluster.id, *cluster.lb_port));
  }
  spdlog::info("instance.created cluster={} instance={} id={} address={}",
               cluster.name,
               i.name,
               i.cloud_id,
               i.address);
  return true;
}

Result<bool> Engine::advance_building(Cluster& cluster, Instance& i)
{
  TRY_ASSIGN(auto server, m_drivers.provider->find_instance(ref(cluster, i)));
  if (!server) {
    TRY(count_failure(cluster, i, "server vanished while building"));
    return true;
  }
  if (server->status == cloud::ServerStatus::error) {
    TRY(count_failure(cluster, i, server->fault));
    return true;
  }
  if (server->status == cloud::ServerStatus::active) {
    i.address = cloud::address_text(*server);
    TRY(m_store.transition(i, InstanceState::active));
    return true;
  }
  if (timed_out(i)) {
    TRY(count_failure(cluster, i, "server stuck in BUILD past the boot timeout"));
    return true;
  }
  return false;
}

Result<bool> Engine::advance_active(Cluster&, Instance& i)
{
  TRY(m_store.transition(i, InstanceState::bootstrapping));
  return true;
}

Result<bool> Engine::advance_bootstrapping(Cluster& cluster, Instance& i)
{
  const bool late = timed_out(i);
  auto done = journaled(m_store, {cluster.name, i.name, "bootstrap"}, [&]() -> Result<bool> {
    SCLMAN_FAILPOINT_TRY("bootstrap.before");
    TRY(m_store.check_cluster_fence(cluster.name));
    auto booted = m_drivers.bootstrapper->bootstrap(ref(cluster, i));
    SCLMAN_FAILPOINT("bootstrap.after");
    return booted;
  });
  if (!done) {
    if (fatal(done.error())) {
      return tl::make_unexpected(done.error());
    }
    if (late || done.error().kind == ErrorKind::upstream_rejected) {
      TRY(count_failure(cluster, i, done.error().message));
      return true;
    }
    return tl::make_unexpected(done.error());
  }
  TRY_ASSIGN(const bool healthy, *done ? health_ok(i) : Result<bool>(false));
  if (!healthy) {
    if (late) {
      TRY(count_failure(cluster, i, "no healthy answer within the boot timeout"));
      return true;
    }
    return false;
  }
  if (i.role == Role::web) {
    TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), true));
  }
  auto synced = journaled(m_store, {cluster.name, i.name, "lb_add"}, [&]() -> Result<void> {
    TRY(m_store.transition(i, InstanceState::in_service));
    SCLMAN_FAILPOINT("lb_add.before");
    if (cluster.failures != 0) {
      cluster.failures = 0;
      TRY(m_store.set_failures(cluster.id, 0));
    }
    auto lb_synced = sync_lb(cluster);
    SCLMAN_FAILPOINT("lb_add.after");
    return lb_synced;
  });
  spdlog::info("instance.in_service cluster={} instance={} address={}",
               cluster.name,
               i.name,
               i.address);
  if (!synced) {
    return tl::make_unexpected(synced.error());
  }
  return true;
}

std::optional<metrics::Connections> Engine::connections_of(const Instance& i)
{
  const auto endpoint = core::Endpoint::parse(i.address);
  if (!endpoint) {
    return std::nullopt;
  }
  auto c = metrics::probe_connections(*m_drivers.http, *endpoint, m_options.health.timeout_ms);
  if (!c) {
    spdlog::debug("instance.connections_unknown instance={} error={}", i.name,
                  core::log_quote(c.error().message));
    return std::nullopt;
  }
  return *c;
}

Result<void> Engine::measure_busy(const Cluster& cluster, std::vector<VictimCandidate>& candidates,
                                  core::Millis max_age_ms)
{
  TRY_ASSIGN(const auto samples, m_store.samples_since(cluster.id, m_store.now() - max_age_ms));
  for (auto& c : candidates) {
    if (c.instance->state != InstanceState::in_service) {
      continue;
    }
    if (const auto open = connections_of(*c.instance)) {
      c.connections = open->open;
    }
    for (const auto& s : samples) {  // oldest first: the last one with a value wins
      if (s.instance_id == c.instance->id && s.value) {
        c.load = *s.value;
      }
    }
  }
  return {};
}

Result<bool> Engine::advance_draining(Cluster& cluster, Instance& i)
{
  // The balancer's own delay (chef-search: until the LB's chef-client has run), and the
  // longest a drain waits for the instance's requests to end.
  const int settle = m_drivers.bootstrapper->drain_seconds();
  const int deadline = std::max(m_options.drain_seconds, settle);
  const core::Millis drained_for = m_store.now() - i.state_since;
  if (drained_for < core::Millis(settle) * 1000) {
    return false;
  }
  // Never delete what the LB still forwards to.
  TRY_ASSIGN(const auto lb, lb_instance(cluster));
  if (lb) {
    TRY_ASSIGN(const auto backends, m_drivers.balancer->current(ref(cluster, *lb)));
    const auto endpoint = core::Endpoint::parse(i.address);
    if (endpoint && std::find(backends.begin(), backends.end(), *endpoint) != backends.end()) {
      // Still listed (a run died before the LB was told): take it out now and let the drain
      // period start again from here.
      TRY(sync_lb(cluster));
      TRY(m_store.transition(i, InstanceState::draining));
      return true;
    }
  }
  if (drained_for < core::Millis(deadline) * 1000) {
    const auto c = connections_of(i);
    if (!c || c->in_flight > 0) {
      // Busy, or it does not say: wait for the next run, or the deadline.
      const std::optional<int> now_busy =
        c ? std::optional<int>(static_cast<int>(std::min<std::int64_t>(c->in_flight, INT32_MAX)))
          : std::nullopt;
      if (now_busy != i.connections || now_busy) {
        i.connections = now_busy;
        i.connections_at = m_store.now();
        TRY(m_store.update_instance(i));
      }
      return false;
    }
    spdlog::info("instance.drained cluster={} instance={} after_ms={} hint=\"idle: no request "
                 "in flight\"",
                 cluster.name, i.name, drained_for);
  } else {
    spdlog::info("instance.drained cluster={} instance={} after_ms={} in_flight={} "
                 "hint=\"the drain deadline (man_drain_seconds) passed\"",
                 cluster.name, i.name, drained_for,
                 i.connections ? std::to_string(*i.connections) : std::string("unknown"));
  }
  TRY(m_store.transition(i, InstanceState::deleting));
  return true;
}

Result<bool> Engine::advance_deleting(Cluster& cluster, Instance& i)
{
  TRY(journaled(m_store, {cluster.name, i.name, "delete_server"}, [&]() -> Result<void> {
    SCLMAN_FAILPOINT("delete_server.before");
    if (auto ours = m_store.check_cluster_fence(cluster.name); !ours) {
      return ours;
    }
    auto removed = m_drivers.bootstrapper->decommission(ref(cluster, i));
    if (removed) {
      removed = m_drivers.provider->remove(ref(cluster, i));
    }
    SCLMAN_FAILPOINT("delete_server.after");
    return removed;
  }));
  TRY(m_store.transition(i, InstanceState::gone));
  spdlog::info("instance.deleted cluster={} instance={}", cluster.name, i.name);
  return true;
}

Result<void> Engine::destroy(Cluster& cluster, Instance& i)
{
  if (i.state == InstanceState::gone) {
    return {};
  }
  if (i.state != InstanceState::deleting) {
    TRY(m_store.transition(i, InstanceState::deleting));
    i.error.clear();
  }
  if (i.role == state::Role::web) {
    TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), false));
    TRY(sync_lb(cluster));
  }
  TRY(advance(cluster, i));
  return {};
}

Result<void> Engine::take_back(Cluster& cluster,
                               const std::map<std::int64_t, InstanceState>& before)
{
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  for (auto& i : all) {
    const auto was = before.find(i.id);
    if (i.role != Role::web || i.state == InstanceState::error) {
      continue;
    }
    if (was == before.end()) {
      spdlog::info("instance.taken_back cluster={} instance={} state={}", cluster.name, i.name,
                   state::to_string(i.state));
      if (i.state == InstanceState::requested && i.cloud_id.empty()) {
        // No server was made (one of unknown outcome is an orphan for gc).
        TRY(m_store.transition(i, InstanceState::gone));
      } else {
        TRY(destroy(cluster, i));
      }
    } else if (was->second == InstanceState::in_service && i.state == InstanceState::draining) {
      spdlog::info("instance.back_in_service cluster={} instance={}", cluster.name, i.name);
      TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), true));
      TRY(m_store.transition(i, InstanceState::in_service));
    } else if (was->second == InstanceState::draining && i.state == InstanceState::in_service) {
      spdlog::info("instance.drains_again cluster={} instance={}", cluster.name, i.name);
      TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), false));
      TRY(m_store.transition(i, InstanceState::draining));
    }
  }
  return sync_lb(cluster);
}

Result<void> Engine::reconcile(Cluster& cluster, Step step)
{
  TRY_ASSIGN(const auto interrupted, m_store.interrupt_pending(cluster.name));
  for (const auto& j : interrupted) {
    spdlog::warn("journal.interrupted cluster={} instance={} op={} since={}",
                 j.cluster,
                 j.instance,
                 j.op,
                 j.ts);
  }
  TRY(check_health(cluster, step != Step::shrink));
  TRY_ASSIGN(const auto rollout, step_rollout(cluster));
  if (step != Step::shrink) {
    TRY(fill_to_desired(cluster, rollout));
  }
  if (step != Step::grow) {
    TRY(drain_excess(cluster, rollout));
  }
  std::optional<core::Error> first_error;
  std::set<std::int64_t> failed;
  bool progress = true;
  while (progress && !out_of_time()) {
    progress = false;
    TRY_ASSIGN(auto all, m_store.instances(cluster.id));
    for (auto& i : all) {
      if (!relevant(step, i) || failed.count(i.id) || out_of_time()) {
        continue;
      }
      auto moved = advance(cluster, i);
      if (!moved) {
        if (fatal(moved.error())) {
          return tl::make_unexpected(moved.error());
        }
        spdlog::warn("instance.retry_later cluster={} instance={} state={} error={}",
                     cluster.name,
                     i.name,
                     state::to_string(i.state),
                     core::log_quote(moved.error().message));
        failed.insert(i.id);
        if (!first_error) {
          first_error = moved.error();
        }
        continue;
      }
      progress = progress || *moved;
    }
  }
  TRY(sync_lb(cluster));
  TRY(ensure_public_address(cluster));
  if (cluster.status == state::ClusterStatus::creating) {
    TRY_ASSIGN(auto all, m_store.instances(cluster.id));
    const bool lb_up = std::any_of(all.begin(), all.end(), [](const Instance& i) {
      return i.role == state::Role::lb && i.state == InstanceState::in_service;
    });
    const auto serving = std::count_if(all.begin(), all.end(), [](const Instance& i) {
      return i.role == state::Role::web && i.state == InstanceState::in_service;
    });
    if (lb_up && serving >= cluster.desired) {
      cluster.status = state::ClusterStatus::active;
      TRY(m_store.set_cluster_status(cluster.id, cluster.status));
      spdlog::info("cluster.active cluster={} size={}", cluster.name, serving);
    }
  }
  if (first_error) {
    return tl::make_unexpected(*first_error);
  }
  return {};
}

} // namespace engine
