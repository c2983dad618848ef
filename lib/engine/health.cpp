// Health: is an instance serving? The bootstrap's check (health_ok: its page answers 200) and
// the in-service checks of every tick ([HEALTH]): a dead service, or a web instance whose HTTP
// check fails unhealthy_threshold times in a row, leaves the balancer.
#include "engine/engine.hpp"

#include "core/endpoint.hpp"
#include "core/log.hpp"
#include "engine/journal.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace engine {

using core::Result;
using state::Cluster;
using state::Instance;
using state::InstanceState;

std::string Engine::http_check(const Instance& i, const std::string& path, int timeout_ms,
                               int* status)
{
  // The stored address came from the provider (or a hand-edited state file): only a parsed
  // endpoint is requested.
  const auto endpoint = core::Endpoint::parse(i.address);
  if (!endpoint) {
    return endpoint.error().message;
  }
  http::HttpRequest request;
  request.url = fmt::format("http://{}{}", endpoint->to_string(), path);
  request.timeout_ms = timeout_ms;
  auto response = m_drivers.http->send(request);
  if (!response) {
    return response.error().message;
  }
  *status = static_cast<int>(response->status);
  return {};
}

Result<bool> Engine::health_ok(const Instance& i)
{
  if (i.role == state::Role::lb && m_drivers.balancer->health_path().empty()) {
    // A balancer with no page to probe (Octavia): its bootstrap waited for it to serve.
    return true;
  }
  int status = 0;
  const auto why = http_check(i, i.role == state::Role::lb ? m_drivers.balancer->health_path() : "/",
                              m_options.health_timeout_ms, &status);
  if (!why.empty()) {
    spdlog::debug("health.failed instance={} error={}", i.name, core::log_quote(why));
    return false;
  }
  return status == 200;
}

std::string Engine::in_service_check(const Instance& i)
{
  const auto& h = m_options.health;
  int status = 0;
  auto why = http_check(i, h.path, h.timeout_ms, &status);
  if (why.empty() && (status < 200 || status > 399)) {
    why = fmt::format("GET {} answered {}", h.path, status);
  }
  return why;
}

std::string Engine::checks_in_a_row(const Instance& i, int times, bool passing)
{
  std::string why;
  for (int k = 0; k < times; ++k) {
    if (k > 0) {
      m_store.clock().sleep_for(m_options.health.interval_ms);
    }
    why = in_service_check(i);
    if (why.empty() != passing) {
      return why;  // the row is broken
    }
  }
  return why;
}

std::string Engine::serving_verdict(const Instance& i, int times, bool passing)
{
  if (!m_drivers.balancer->checks_members()) {
    return checks_in_a_row(i, times, passing);
  }
  // The balancer's monitor has already counted its own retries: its last report decides. Only
  // ERROR fails; only ONLINE passes (OFFLINE, NO_MONITOR and no report yet leave it as it is).
  if (i.lb_status == core::Operating::error) {
    return "the balancer health monitor reports ERROR";
  }
  if (passing && i.lb_status != core::Operating::online) {
    return fmt::format("the balancer health monitor reports {}, not ONLINE",
                       i.lb_status ? core::to_string(*i.lb_status) : "nothing");
  }
  return {};
}

Result<bool> Engine::check_serving(Cluster& cluster, Instance& i, int& replaced)
{
  const auto& h = m_options.health;
  if (!i.unhealthy_since) {
    const auto why = serving_verdict(i, h.unhealthy_threshold, false);
    if (why.empty()) {
      return false;
    }
    // Out of the balancer first: a store that then fails leaves an instance the next run finds
    // healthy-looking and failing, and takes out again.
    TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), false));
    i.unhealthy_since = m_store.now();
    i.error = m_drivers.balancer->checks_members()
                ? why
                : fmt::format("{} health checks in a row failed: {}", h.unhealthy_threshold, why);
    TRY(m_store.update_instance(i));
    spdlog::warn("instance.unhealthy cluster={} instance={} reason={}", cluster.name, i.name,
                 core::log_quote(core::printable(why, 300)));
    return true;
  }
  const auto out_for = m_store.now() - *i.unhealthy_since;
  if (out_for >= h.grace_ms) {
    // Replaced: fill_to_desired asks for a new instance in this run, gc deletes this one.
    const auto why = fmt::format("unhealthy for {} s (grace {} s): {}", out_for / 1000,
                                 h.grace_ms / 1000, i.error);
    TRY(m_store.transition(i, InstanceState::error, why));
    spdlog::warn("instance.replace_unhealthy cluster={} instance={} out_for_s={}", cluster.name,
                 i.name, out_for / 1000);
    ++replaced;
    return true;
  }
  if (!serving_verdict(i, h.healthy_threshold, true).empty()) {
    return false;
  }
  TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), true));
  i.unhealthy_since.reset();
  i.error.clear();
  TRY(m_store.update_instance(i));
  spdlog::info("instance.healthy cluster={} instance={} passes={}", cluster.name, i.name,
               h.healthy_threshold);
  return true;
}

Result<int> Engine::check_health(Cluster& cluster, bool http)
{
  TRY_ASSIGN(auto all, m_store.instances(cluster.id));
  int failed = 0;
  bool lb_changed = false;
  for (auto& i : all) {
    if (i.state != InstanceState::in_service) {
      continue;
    }
    if (out_of_time()) {
      spdlog::warn("health.deadline cluster={} hint=\"the next run checks the rest\"",
                   cluster.name);
      break;
    }
    TRY_ASSIGN(const bool running, m_drivers.bootstrapper->running(ref(cluster, i)));
    if (running) {
      if (http && i.role == state::Role::web) {
        TRY_ASSIGN(const bool changed, check_serving(cluster, i, failed));
        lb_changed = lb_changed || changed;
      }
      continue;
    }
    if (i.role == state::Role::lb) {
      // The LB's address is the cluster's address: bring it back in place.
      spdlog::warn("lb.restart cluster={} instance={}", cluster.name, i.name);
      auto restarted =
        journaled(m_store, {cluster.name, i.name, "restart_lb"},
                  [&] { return m_drivers.bootstrapper->bootstrap(ref(cluster, i)); });
      if (!restarted && restarted.error().kind == core::ErrorKind::upstream_rejected) {
        // It cannot come back in place (an Octavia load balancer deleted behind sclman's
        // back, its VIP gone with it): fill_to_desired requests a new LB in this run, with a
        // new address; gc forgets this one.
        TRY(m_store.transition(i, InstanceState::error,
                               "load balancer lost: " + restarted.error().message));
        spdlog::error("lb.replaced cluster={} instance={} old_address={} reason={} "
                      "hint=\"the cluster's address changes: see sclman status\"",
                      cluster.name, i.name, i.address,
                      core::log_quote(core::printable(restarted.error().message, 300)));
        continue;
      }
      TRY(restarted);
      continue;
    }
    TRY(m_drivers.bootstrapper->set_in_service(ref(cluster, i), false));
    TRY(m_store.transition(i, InstanceState::error, "service is not running"));
    spdlog::warn("instance.dead cluster={} instance={} address={}",
                 cluster.name,
                 i.name,
                 i.address);
    ++failed;
    lb_changed = true;
  }
  if (lb_changed) {
    TRY(sync_lb(cluster));
  }
  return failed;
}

} // namespace engine
