#include "engine/engine.hpp"

#include "cloud/local.hpp"
#include "cm/local.hpp"
#include "core/failpoint.hpp"
#include "core/host_port.hpp"
#include "core/log.hpp"
#include "http/curl_transport.hpp"
#include "lb/chef_search.hpp"
#include "lb/nginx.hpp"
#include "metrics/prometheus.hpp"
#include "metrics/sensu.hpp"
#include "metrics/stub_status.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace engine {

using core::ErrorKind;
using core::fail;
using core::Result;
using state::Cluster;
using state::Instance;
using state::InstanceState;

namespace {

// Errors after which the run cannot go on for any instance.
bool fatal(const core::Error& e)
{
  return e.kind == ErrorKind::config || e.kind == ErrorKind::state
         || e.kind == ErrorKind::internal || e.kind == ErrorKind::usage;
}

bool relevant(Step step, const Instance& i)
{
  if (i.role == "lb") {
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

} // namespace

int live_web(const std::vector<Instance>& instances)
{
  return static_cast<int>(std::count_if(instances.begin(), instances.end(), [](const auto& i) {
    return i.role == "web" && state::counts_toward_size(i.state);
  }));
}

Result<std::unique_ptr<DriverSet>>
DriverSet::make(const core::Config& config, const std::string& state_dir, core::Clock& clock)
{
  auto set = std::make_unique<DriverSet>();
  set->m_local_root = state_dir + "/instances";
  set->http = std::make_unique<http::CurlTransport>(
    http::TlsOptions{config.tls.ca_bundle, config.tls.insecure == "yes"});
  set->local_provider = std::make_unique<cloud::LocalProvider>(set->m_local_root,
                                                               config.local.nginx);
  set->local_bootstrapper = std::make_unique<cm::LocalBootstrapper>(
    set->m_local_root, config.local.nginx, config.local.worker_connections);
  set->nginx_balancer = std::make_unique<lb::NginxBalancer>(set->m_local_root,
                                                            config.local.nginx);
  // Sends nothing until a cluster on OpenStack asks for its drivers.
  set->openstack = std::make_unique<cloud::OpenStackDrivers>(*set->http, clock, config, state_dir,
                                                             *set->local_provider);
  set->stub_status = std::make_unique<metrics::StubStatusSource>(
    *set->http, clock, config.local.health_timeout_ms, config.metrics.parallel);
  // Making a source sends nothing: the ones no cluster uses cost nothing.
  set->prometheus = std::make_unique<metrics::PrometheusSource>(*set->http, config.prometheus);
  set->sensu = std::make_unique<metrics::SensuSource>(*set->http, config.sensu);
  set->sensu_go = std::make_unique<metrics::SensuGoSource>(*set->http, config.sensu,
                                                           config.sensu_go);
  set->m_chef_config = config.chef;
  set->m_clock = &clock;
  set->m_deadline = core::steady_now() + core::Millis(config.manager.run_deadline) * 1000;
  return set;
}

Result<void> DriverSet::make_chef()
{
  if (chef) {
    return {};
  }
  const auto& c = m_chef_config;
  if (c.server_url.empty() || c.client_name.empty() || c.client_key.empty()) {
    return fail(ErrorKind::config,
                "the chef bootstrapper needs [CHEF] server_url, client_name and client_key");
  }
  TRY_ASSIGN(auto key, cm::ChefKey::from_file(c.client_key));
  TRY_ASSIGN(auto settings, cm::chef_settings(c));
  cm::ChefServerOptions o;
  o.url = c.server_url;
  o.user_id = c.client_name;
  o.version = cm::parse_sign_version(c.sign_version).value_or(cm::ChefSignVersion::v1_3);
  o.timeout_ms = c.request_timeout_ms;
  o.deadline = m_deadline;
  chef = std::make_unique<cm::ChefClient>(*http, *m_clock, std::move(key), o);
  chef_remote_bootstrapper = std::make_unique<cm::ChefBootstrapper>(*chef, *m_clock, settings,
                                                                    nullptr);
  auto bootstrapper = std::make_unique<cm::ChefBootstrapper>(*chef, *m_clock, std::move(settings),
                                                             local_bootstrapper.get());
  chef_search_balancer = std::make_unique<lb::ChefSearchBalancer>(*chef, bootstrapper->web_role(),
                                                                  *nginx_balancer);
  chef_bootstrapper = std::move(bootstrapper);
  return {};
}

Result<Drivers> DriverSet::for_cluster(const Cluster& c)
{
  auto unknown = [&](const char* what, const std::string& value) {
    return fail(ErrorKind::config,
                fmt::format("unknown {} '{}' for cluster '{}'", what, value, c.name));
  };
  Drivers d;
  d.http = http.get();
  const bool on_openstack = cloud::is_openstack_provider(c.provider);
  if (c.provider != "local" && !on_openstack) {
    return unknown("provider", c.provider);
  }
  d.provider = local_provider.get();
  if (c.bootstrapper == "local") {
    d.bootstrapper = local_bootstrapper.get();
  } else if (c.bootstrapper == "chef") {
    TRY(make_chef());
    d.bootstrapper = chef_bootstrapper.get();
  } else {
    return unknown("bootstrapper", c.bootstrapper);
  }
  if (c.balancer == "nginx") {
    d.balancer = nginx_balancer.get();
  } else if (c.balancer == "chef-search" && c.bootstrapper == "chef") {
    d.balancer = chef_search_balancer.get();
  } else {
    return unknown("balancer", c.balancer);
  }
  if (c.metrics == "stub_status") {
    d.metrics = stub_status.get();
  } else if (c.metrics == "prometheus") {
    d.metrics = prometheus.get();
  } else if (c.metrics == "sensu") {
    d.metrics = sensu.get();
  } else if (c.metrics == "sensu_go") {
    d.metrics = sensu_go.get();
  } else {
    return unknown("metrics source", c.metrics);
  }
  if (on_openstack) {
    TRY_ASSIGN(d.provider, openstack->provider(c.provider));
    // The LB (and stand-ins) run here, configured as on the local provider; a Nova server is
    // configured by its own chef-client (the user data), or by its image alone.
    cm::Bootstrapper* remote = c.bootstrapper == "chef" ? chef_remote_bootstrapper.get() : nullptr;
    TRY_ASSIGN(d.bootstrapper, openstack->bootstrapper(c.provider, *d.bootstrapper, remote));
  }
  return d;
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
    if (i.role == "lb" && i.state != InstanceState::error) {
      return std::optional<Instance>{i};
    }
  }
  return std::optional<Instance>{};
}

Result<bool> Engine::health_ok(const Instance& i)
{
  http::HttpRequest request;
  request.url = fmt::format("http://{}{}", i.address, i.role == "lb" ? "/nginx_status" : "/");
  request.timeout_ms = m_options.health_timeout_ms;
  auto response = m_drivers.http->send(request);
  if (!response) {
    spdlog::debug("health.failed instance={} error={}", i.name,
                  core::log_quote(response.error().message));
    return false;
  }
  return response->status == 200;
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
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  const Instance* lb = nullptr;
  std::vector<core::InstanceRef> backends;
  for (const auto& i : all) {
    if (i.role == "lb" && i.state == InstanceState::in_service) {
      lb = &i;
    } else if (i.role == "web" && i.state == InstanceState::in_service) {
      backends.push_back(ref(cluster, i));
    }
  }
  if (!lb) {
    return {};
  }
  return m_drivers.balancer->apply(ref(cluster, *lb), backends);
}

Result<int> Engine::check_health(Cluster& cluster)
{
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  int failed = 0;
  for (auto& i : all) {
    if (i.state != InstanceState::in_service) {
      continue;
    }
    TRY_ASSIGN(const bool running, m_drivers.bootstrapper->running(ref(cluster, i)));
    if (running) {
      continue;
    }
    if (i.role == "lb") {
      // The LB's address is the cluster's address: bring it back in place.
      spdlog::warn("lb.restart cluster={} instance={}", cluster.name, i.name);
      TRY_ASSIGN(const auto jid, m_store.begin_intent(cluster.name, i.name, "restart_lb"));
      auto done = m_drivers.bootstrapper->bootstrap(ref(cluster, i));
      TRY(m_store.finish_intent(jid, done.has_value(), done ? "" : done.error().message));
      if (!done) {
        return tl::make_unexpected(done.error());
      }
      continue;
    }
    TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), false));
    TRY(m_store.transition(i, InstanceState::error, "service is not running"));
    spdlog::warn("instance.dead cluster={} instance={} address={}",
                 cluster.name,
                 i.name,
                 i.address);
    ++failed;
  }
  if (failed > 0) {
    TRY(sync_lb(cluster));
  }
  return failed;
}

Result<int> Engine::fill_to_desired(Cluster& cluster)
{
  if (cluster.status == "deleting" || cluster.status == "deleted") {
    return 0;
  }
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  const bool has_lb = std::any_of(all.begin(), all.end(), [](const Instance& i) {
    return i.role == "lb" && state::counts_toward_size(i.state);
  });
  int added = 0;
  if (!has_lb) {
    Instance lb;
    lb.cluster_id = cluster.id;
    lb.role = "lb";
    TRY(m_store.insert_instance(lb, cluster.name));
    spdlog::info("instance.requested cluster={} instance={} role=lb", cluster.name, lb.name);
    ++added;
  }
  const int missing = cluster.desired - live_web(all);
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
  for (int k = 0; k < missing; ++k) {
    Instance web;
    web.cluster_id = cluster.id;
    web.role = "web";
    TRY(m_store.insert_instance(web, cluster.name));
    spdlog::info("instance.requested cluster={} instance={} role=web", cluster.name, web.name);
    ++added;
  }
  return added;
}

Result<std::vector<std::string>> Engine::drain_excess(Cluster& cluster)
{
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  int excess = live_web(all) - cluster.desired;
  std::vector<std::string> victims;
  if (excess <= 0) {
    return victims;
  }
  std::vector<Instance*> candidates;
  for (auto& i : all) {
    if (i.role == "web" && state::counts_toward_size(i.state)) {
      candidates.push_back(&i);
    }
  }
  // Booting instances first (they serve nothing yet), then the newest in service.
  std::sort(candidates.begin(), candidates.end(), [](const Instance* a, const Instance* b) {
    const bool a_boot = state::is_booting(a->state);
    const bool b_boot = state::is_booting(b->state);
    if (a_boot != b_boot) {
      return a_boot;
    }
    return a->serial > b->serial;
  });
  for (Instance* i : candidates) {
    if (excess-- <= 0) {
      break;
    }
    if (state::is_booting(i->state)) {
      TRY(m_store.transition(*i, InstanceState::deleting));
    } else {
      TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, *i), false));
      TRY(m_store.transition(*i, InstanceState::draining));
    }
    SCLMAN_FAILPOINT("drain.before_lb");
    spdlog::info("instance.draining cluster={} instance={}", cluster.name, i->name);
    victims.push_back(i->name);
  }
  TRY(sync_lb(cluster));
  return victims;
}

Result<bool> Engine::advance(Cluster& cluster, Instance& i)
{
  const auto now = m_store.now();
  const bool timed_out = now - i.state_since > core::Millis(m_options.boot_timeout) * 1000;
  switch (i.state) {
  case InstanceState::requested: {
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
    spec.flavor = cluster.flavor;
    spec.image = cluster.image;
    spec.network = cluster.network;
    spec.user_data = std::move(user_data);
    if (i.role == "lb" && cluster.lb_port) {
      spec.port = *cluster.lb_port;
    }
    TRY_ASSIGN(const auto jid, m_store.begin_intent(cluster.name, i.name, "create_server"));
    SCLMAN_FAILPOINT("create_server.before");
    auto server = m_drivers.provider->create(spec);
    SCLMAN_FAILPOINT("create_server.after");
    TRY(m_store.finish_intent(jid, server.has_value(), server ? server->id : server.error().message));
    if (!server) {
      if (server.error().kind == ErrorKind::upstream_rejected) {
        TRY(count_failure(cluster, i, server.error().message));
        return true;
      }
      return tl::make_unexpected(server.error());
    }
    i.cloud_id = server->id;
    i.address = server->address;
    if (server->status == cloud::ServerStatus::error) {
      TRY(count_failure(cluster, i, server->fault));
      return true;
    }
    TRY(m_store.transition(i,
                           server->status == cloud::ServerStatus::active ? InstanceState::active
                                                                        : InstanceState::building));
    if (i.role == "lb" && !cluster.lb_port) {
      const auto address = core::parse_host_port(i.address);
      if (address && address->port) {
        cluster.lb_port = *address->port;
        TRY(m_store.set_lb_port(cluster.id, *cluster.lb_port));
      }
    }
    spdlog::info("instance.created cluster={} instance={} id={} address={}",
                 cluster.name,
                 i.name,
                 i.cloud_id,
                 i.address);
    return true;
  }
  case InstanceState::building: {
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
      i.address = server->address;
      TRY(m_store.transition(i, InstanceState::active));
      return true;
    }
    if (timed_out) {
      TRY(count_failure(cluster, i, "server stuck in BUILD past the boot timeout"));
      return true;
    }
    return false;
  }
  case InstanceState::active:
    TRY(m_store.transition(i, InstanceState::bootstrapping));
    return true;
  case InstanceState::bootstrapping: {
    TRY_ASSIGN(const auto jid, m_store.begin_intent(cluster.name, i.name, "bootstrap"));
    SCLMAN_FAILPOINT("bootstrap.before");
    auto done = m_drivers.bootstrapper->bootstrap(ref(cluster, i));
    SCLMAN_FAILPOINT("bootstrap.after");
    TRY(m_store.finish_intent(jid, done.has_value(), done ? "" : done.error().message));
    if (!done) {
      if (fatal(done.error())) {
        return tl::make_unexpected(done.error());
      }
      if (timed_out || done.error().kind == ErrorKind::upstream_rejected) {
        TRY(count_failure(cluster, i, done.error().message));
        return true;
      }
      return tl::make_unexpected(done.error());
    }
    TRY_ASSIGN(const bool healthy, *done ? health_ok(i) : Result<bool>(false));
    if (!healthy) {
      if (timed_out) {
        TRY(count_failure(cluster, i, "no healthy answer within the boot timeout"));
        return true;
      }
      return false;
    }
    if (i.role == "web") {
      TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), true));
    }
    TRY_ASSIGN(const auto lb_jid, m_store.begin_intent(cluster.name, i.name, "lb_add"));
    TRY(m_store.transition(i, InstanceState::in_service));
    SCLMAN_FAILPOINT("lb_add.before");
    if (cluster.failures != 0) {
      cluster.failures = 0;
      TRY(m_store.set_failures(cluster.id, 0));
    }
    auto synced = sync_lb(cluster);
    SCLMAN_FAILPOINT("lb_add.after");
    TRY(m_store.finish_intent(lb_jid, synced.has_value(), synced ? "" : synced.error().message));
    spdlog::info("instance.in_service cluster={} instance={} address={}",
                 cluster.name,
                 i.name,
                 i.address);
    if (!synced) {
      return tl::make_unexpected(synced.error());
    }
    return true;
  }
  case InstanceState::draining: {
    const int drain = std::max(m_options.drain_seconds, m_drivers.bootstrapper->drain_seconds());
    if (now - i.state_since < core::Millis(drain) * 1000) {
      return false;
    }
    // Never delete what the LB still forwards to.
    TRY_ASSIGN(const auto lb, lb_instance(cluster));
    if (lb) {
      TRY_ASSIGN(const auto backends, m_drivers.balancer->current(ref(cluster, *lb)));
      if (std::find(backends.begin(), backends.end(), i.address) != backends.end()) {
        // Still listed (a run died before the LB was told): take it out now and let the drain
        // period start again from here.
        TRY(sync_lb(cluster));
        TRY(m_store.transition(i, InstanceState::draining));
        return true;
      }
    }
    TRY(m_store.transition(i, InstanceState::deleting));
    return true;
  }
  case InstanceState::deleting: {
    TRY_ASSIGN(const auto jid, m_store.begin_intent(cluster.name, i.name, "delete_server"));
    SCLMAN_FAILPOINT("delete_server.before");
    auto removed = m_drivers.bootstrapper->decommission(ref(cluster, i));
    if (removed) {
      removed = m_drivers.provider->remove(ref(cluster, i));
    }
    SCLMAN_FAILPOINT("delete_server.after");
    TRY(m_store.finish_intent(jid, removed.has_value(), removed ? "" : removed.error().message));
    if (!removed) {
      return tl::make_unexpected(removed.error());
    }
    TRY(m_store.transition(i, InstanceState::gone));
    spdlog::info("instance.deleted cluster={} instance={}", cluster.name, i.name);
    return true;
  }
  case InstanceState::in_service:
  case InstanceState::gone:
  case InstanceState::error:
    return false;
  }
  return false;
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
  if (i.role == "web") {
    TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), false));
    TRY(sync_lb(cluster));
  }
  TRY(advance(cluster, i));
  return {};
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
  TRY(check_health(cluster));
  if (step != Step::shrink) {
    TRY(fill_to_desired(cluster));
  }
  if (step != Step::grow) {
    TRY(drain_excess(cluster));
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
  if (cluster.status == "creating") {
    TRY_ASSIGN(auto all, m_store.instances(cluster.id));
    const bool lb_up = std::any_of(all.begin(), all.end(), [](const Instance& i) {
      return i.role == "lb" && i.state == InstanceState::in_service;
    });
    const auto serving = std::count_if(all.begin(), all.end(), [](const Instance& i) {
      return i.role == "web" && i.state == InstanceState::in_service;
    });
    if (lb_up && serving >= cluster.desired) {
      cluster.status = "active";
      TRY(m_store.set_cluster_status(cluster.id, "active"));
      spdlog::info("cluster.active cluster={} size={}", cluster.name, serving);
    }
  }
  if (first_error) {
    return tl::make_unexpected(*first_error);
  }
  return {};
}

} // namespace engine
