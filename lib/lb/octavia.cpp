#include "lb/octavia.hpp"

#include "core/log.hpp"
#include "http/encoding.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace lb {

using core::ErrorKind;
using core::fail;
using core::Result;
using nlohmann::json;
namespace oc = octavia;

namespace {

constexpr const char* k_base = "/v2/lbaas";
constexpr core::Millis k_poll_ms = 500;  // between two looks at a PENDING_* load balancer
constexpr int k_conflicts = 20;          // 409s one change waits out before giving up

json tags_of(const std::string& cluster)
{
  return json::array({"sclman", "sclman:cluster=" + cluster});
}

std::string tag_query(const std::string& cluster)
{
  return "tags=" + http::url_encode("sclman:cluster=" + cluster);
}

bool has_tag(const oc::LoadBalancer& lb, const std::string& tag)
{
  return std::find(lb.tags.begin(), lb.tags.end(), tag) != lb.tags.end();
}

Result<std::string> expected_codes(std::string_view v)
{
  // Octavia's forms: 200, 200-204, 200,202,301.
  const bool ok = !v.empty() && v.size() <= 64
                  && v.find_first_not_of("0123456789,-") == std::string_view::npos;
  if (!ok) {
    return core::bad_value(v, "HTTP codes such as 200, 200-204 or 200,301");
  }
  return std::string(v);
}

Result<std::string> id_value(std::string_view v)
{
  auto id = oc::parse_id(v);
  if (!id) {
    return core::bad_value(v, "an OpenStack id");
  }
  return id;
}

} // namespace

std::vector<core::KeyDef> octavia_keys()
{
  using O = OctaviaConfig;
  return {
    {"OCTAVIA", "vip_subnet_id", core::set_with(&O::vip_subnet_id, id_value)},
    {"OCTAVIA", "vip_network_id", core::set_with(&O::vip_network_id, id_value)},
    {"OCTAVIA", "listener_port", core::int_in(&O::listener_port, 1, 65535)},
    {"OCTAVIA", "health_path", core::url_path(&O::health_path)},
    {"OCTAVIA", "expected_codes", core::set_with(&O::expected_codes, expected_codes)},
    {"OCTAVIA", "health_delay", core::int_in(&O::health_delay, 1, 3600)},
    {"OCTAVIA", "health_timeout", core::int_in(&O::health_timeout, 1, 3600)},
    {"OCTAVIA", "health_max_retries", core::int_in(&O::health_max_retries, 1, 10)},
    {"OCTAVIA", "active_timeout", core::int_in(&O::active_timeout, 1, 3600)},
  };
}

namespace octavia {

bool is_immutable(const core::Error& e)
{
  return e.http_status == 409
         && (e.message.find("is immutable and cannot be updated") != std::string::npos
             || e.message.find("Invalid state PENDING_") != std::string::npos);
}

std::string loadbalancer_body(const std::string& name, const std::string& cluster,
                              const OctaviaConfig& config, const std::string& vip_port)
{
  json lb = {{"name", name}, {"tags", tags_of(cluster)},
             {"description", "sclman cluster " + cluster}};
  if (!vip_port.empty()) {
    lb["vip_port_id"] = vip_port;  // Octavia takes the network and address from the port
  } else if (!config.vip_subnet_id.empty()) {
    lb["vip_subnet_id"] = config.vip_subnet_id;
  } else {
    lb["vip_network_id"] = config.vip_network_id;
  }
  return json{{"loadbalancer", lb}}.dump();
}

std::string member_body(const std::string& name, const std::string& cluster,
                        const core::Endpoint& endpoint)
{
  return json{{"member",
               {{"name", name},
                {"address", endpoint.ip()},
                {"protocol_port", endpoint.port()},
                {"weight", 1},
                {"tags", tags_of(cluster)}}}}
    .dump();
}

} // namespace octavia

OctaviaClient::OctaviaClient(oc::Api api, core::Clock& clock, OctaviaConfig config,
                             core::Millis deadline)
  : m_api(std::move(api)), m_clock(clock), m_config(std::move(config)), m_deadline(deadline)
{
}

bool OctaviaClient::time_left(core::Millis wait) const
{
  return m_deadline == 0 || m_clock.steady() + wait < m_deadline;
}

Result<std::optional<oc::LoadBalancer>> OctaviaClient::loadbalancer(const std::string& id)
{
  TRY_ASSIGN(const auto r, m_api({"GET", fmt::format("{}/loadbalancers/{}", k_base, id), "", true}));
  if (r.status == 404) {
    return std::optional<oc::LoadBalancer>{};
  }
  TRY_ASSIGN(auto lb, oc::parse_loadbalancer(r.body));
  if (lb.provisioning == oc::Provisioning::deleted) {
    return std::optional<oc::LoadBalancer>{};
  }
  return std::optional<oc::LoadBalancer>{std::move(lb)};
}

Result<std::optional<oc::LoadBalancer>>
OctaviaClient::find_loadbalancer(const std::string& name, const std::string& cluster)
{
  TRY_ASSIGN(const auto r,
             m_api({"GET",
                    fmt::format("{}/loadbalancers?name={}&{}", k_base, http::url_encode(name),
                                cluster.empty() ? std::string("tags=sclman")
                                                : tag_query(cluster)),
                    "", true}));
  if (r.status == 404) {
    return fail(ErrorKind::upstream_rejected, "octavia answered 404 to the load balancer list",
                "octavia");
  }
  TRY_ASSIGN(const auto all, oc::parse_loadbalancers(r.body));
  for (const auto& lb : all) {
    // The filters are Octavia's: compare again.
    if (lb.name == name
        && has_tag(lb, cluster.empty() ? std::string("sclman") : "sclman:cluster=" + cluster)
        && lb.provisioning != oc::Provisioning::deleted
        && lb.provisioning != oc::Provisioning::pending_delete) {
      return std::optional<oc::LoadBalancer>{lb};
    }
  }
  return std::optional<oc::LoadBalancer>{};
}

Result<std::vector<oc::LoadBalancer>> OctaviaClient::tagged()
{
  TRY_ASSIGN(const auto r, m_api({"GET", fmt::format("{}/loadbalancers?tags=sclman", k_base), "",
                                  true}));
  if (r.status == 404) {
    return fail(ErrorKind::upstream_rejected, "octavia answered 404 to the load balancer list",
                "octavia");
  }
  TRY_ASSIGN(auto all, oc::parse_loadbalancers(r.body));
  std::erase_if(all, [](const oc::LoadBalancer& lb) { return !has_tag(lb, "sclman"); });
  return all;
}

Result<oc::LoadBalancer> OctaviaClient::ensure_loadbalancer(const std::string& name,
                                                            const std::string& cluster,
                                                            const VipPort& vip_port)
{
  if (m_config.vip_subnet_id.empty() && m_config.vip_network_id.empty()) {
    return fail(ErrorKind::config,
                "the octavia balancer needs [OCTAVIA] vip_subnet_id or vip_network_id");
  }
  TRY_ASSIGN(auto found, find_loadbalancer(name, cluster));
  if (found) {
    return *found;
  }
  std::string port;
  if (vip_port) {
    TRY_ASSIGN(port, vip_port(m_config));
  }
  // Not retried as such: a POST of unknown outcome is looked up by name by the next run.
  TRY_ASSIGN(const auto r, m_api({"POST", fmt::format("{}/loadbalancers", k_base),
                                  oc::loadbalancer_body(name, cluster, m_config, port), false}));
  TRY_ASSIGN(auto lb, oc::parse_loadbalancer(r.body));
  spdlog::info("octavia.lb_created cluster={} lb={} id={}", cluster, name, lb.id);
  return lb;
}

Result<oc::LoadBalancer> OctaviaClient::wait_active(const std::string& id)
{
  const auto until = m_clock.steady() + core::Millis(m_config.active_timeout) * 1000;
  for (;;) {
    TRY_ASSIGN(const auto lb, loadbalancer(id));
    if (!lb) {
      return fail(ErrorKind::upstream_rejected,
                  fmt::format("octavia load balancer '{}' is gone", id), "octavia");
    }
    if (lb->provisioning == oc::Provisioning::active) {
      return *lb;
    }
    if (lb->provisioning == oc::Provisioning::error) {
      return fail(ErrorKind::upstream_rejected,
                  fmt::format("octavia load balancer '{}' is in ERROR", id), "octavia");
    }
    if (!time_left(k_poll_ms) || m_clock.steady() + k_poll_ms > until) {
      return fail(ErrorKind::upstream_transient,
                  fmt::format("octavia load balancer '{}' is still {}", id,
                              oc::to_string(lb->provisioning)),
                  "octavia");
    }
    m_clock.sleep_for(k_poll_ms);
  }
}

Result<http::HttpResponse> OctaviaClient::change(const std::string& lb_id, const oc::Call& call,
                                                 const std::function<Result<bool>()>& recheck)
{
  for (int conflicts = 0;; ++conflicts) {
    auto r = m_api(call);
    if (r || !oc::is_immutable(r.error()) || conflicts >= k_conflicts) {
      return r;
    }
    spdlog::info("octavia.busy lb={} method={} hint=\"waiting for ACTIVE, then again\"", lb_id,
                 call.method);
    TRY(wait_active(lb_id));
    TRY_ASSIGN(const bool done, recheck());
    if (done) {
      return http::HttpResponse{200, {}, {}};
    }
  }
}

Result<std::optional<oc::Object>> OctaviaClient::find_object(const std::string& collection,
                                                             const std::string& name,
                                                             const std::string& cluster)
{
  TRY_ASSIGN(const auto r, m_api({"GET",
                                  fmt::format("{}/{}?name={}&{}", k_base, collection,
                                              http::url_encode(name), tag_query(cluster)),
                                  "", true}));
  if (r.status == 404) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("octavia answered 404 to the {} list", collection), "octavia");
  }
  TRY_ASSIGN(const auto all, oc::parse_objects(r.body, collection));
  for (const auto& o : all) {
    if (o.name == name && o.provisioning != oc::Provisioning::deleted
        && o.provisioning != oc::Provisioning::pending_delete) {
      return std::optional<oc::Object>{o};
    }
  }
  return std::optional<oc::Object>{};
}

Result<std::string> OctaviaClient::ensure_object(const std::string& lb_id,
                                                 const std::string& collection,
                                                 const std::string& key, const std::string& name,
                                                 const std::string& cluster,
                                                 const std::string& body)
{
  TRY_ASSIGN(const auto found, find_object(collection, name, cluster));
  if (found) {
    return found->id;
  }
  std::optional<std::string> id;
  auto recheck = [&]() -> Result<bool> {
    TRY_ASSIGN(const auto again, find_object(collection, name, cluster));
    if (again) {
      id = again->id;
    }
    return again.has_value();
  };
  TRY_ASSIGN(const auto r, change(lb_id, {"POST", fmt::format("{}/{}", k_base, collection), body,
                                          false},
                                  recheck));
  if (!id) {
    TRY_ASSIGN(const auto made, oc::parse_object(r.body, key));
    id = made.id;
  }
  spdlog::info("octavia.{}_created cluster={} name={} id={}", key, cluster, name, *id);
  return *id;
}

Result<std::string> OctaviaClient::ensure_pool(const oc::LoadBalancer& lb,
                                               const std::string& cluster)
{
  const auto tags = tags_of(cluster);
  TRY_ASSIGN(const auto listener,
             ensure_object(lb.id, "listeners", "listener", lb.name + "-http", cluster,
                           json{{"listener",
                                 {{"name", lb.name + "-http"},
                                  {"protocol", "HTTP"},
                                  {"protocol_port", m_config.listener_port},
                                  {"loadbalancer_id", lb.id},
                                  {"tags", tags}}}}
                             .dump()));
  TRY_ASSIGN(const auto pool,
             ensure_object(lb.id, "pools", "pool", lb.name + "-pool", cluster,
                           json{{"pool",
                                 {{"name", lb.name + "-pool"},
                                  {"protocol", "HTTP"},
                                  {"lb_algorithm", "ROUND_ROBIN"},
                                  {"listener_id", listener},
                                  {"tags", tags}}}}
                             .dump()));
  TRY(ensure_object(lb.id, "healthmonitors", "healthmonitor", lb.name + "-hm", cluster,
                    json{{"healthmonitor",
                          {{"name", lb.name + "-hm"},
                           {"pool_id", pool},
                           {"type", "HTTP"},
                           {"delay", m_config.health_delay},
                           {"timeout", m_config.health_timeout},
                           {"max_retries", m_config.health_max_retries},
                           {"max_retries_down", m_config.health_max_retries},
                           {"http_method", "GET"},
                           {"url_path", m_config.health_path},
                           {"expected_codes", m_config.expected_codes},
                           {"tags", tags}}}}
                      .dump()));
  TRY(wait_active(lb.id));
  return pool;
}

Result<std::optional<std::string>> OctaviaClient::find_id(const std::string& collection,
                                                          const std::string& name,
                                                          const std::string& cluster)
{
  TRY_ASSIGN(const auto found, find_object(collection, name, cluster));
  if (!found) {
    return std::optional<std::string>{};
  }
  return std::optional<std::string>{found->id};
}

Result<std::optional<std::string>> OctaviaClient::find_pool(const std::string& lb_name,
                                                            const std::string& cluster)
{
  return find_id("pools", lb_name + "-pool", cluster);
}

Result<std::optional<std::string>> OctaviaClient::find_listener(const std::string& lb_name,
                                                                const std::string& cluster)
{
  return find_id("listeners", lb_name + "-http", cluster);
}

Result<std::vector<oc::Member>> OctaviaClient::members(const std::string& pool)
{
  TRY_ASSIGN(const auto r,
             m_api({"GET", fmt::format("{}/pools/{}/members", k_base, pool), "", true}));
  if (r.status == 404) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("octavia pool '{}' is gone", pool), "octavia");
  }
  return oc::parse_members(r.body);
}

Result<void> OctaviaClient::add_member(const std::string& lb_id, const std::string& pool,
                                       const std::string& name, const std::string& cluster,
                                       const core::Endpoint& endpoint)
{
  // Never a member twice: every try, the first and each after a 409 or an unknown outcome,
  // looks for it by name first.
  auto present = [&]() -> Result<bool> {
    TRY_ASSIGN(const auto all, members(pool));
    return std::any_of(all.begin(), all.end(), [&](const oc::Member& m) {
      return m.name == name && m.provisioning != oc::Provisioning::pending_delete;
    });
  };
  TRY_ASSIGN(const bool there, present());
  if (there) {
    return {};
  }
  TRY(change(lb_id,
             {"POST", fmt::format("{}/pools/{}/members", k_base, pool),
              oc::member_body(name, cluster, endpoint), false},
             present));
  spdlog::info("octavia.member_added cluster={} member={} address={}", cluster, name,
               endpoint.to_string());
  // In service once Octavia has taken it to its amphorae (the LB ACTIVE again), not before.
  TRY(wait_active(lb_id));
  return {};
}

Result<void> OctaviaClient::set_weight(const std::string& lb_id, const std::string& pool,
                                       const std::string& member, int weight)
{
  const auto path = fmt::format("{}/pools/{}/members/{}", k_base, pool, member);
  TRY_ASSIGN(const auto r, change(lb_id,
                                  {"PUT", path, json{{"member", {{"weight", weight}}}}.dump(),
                                   true},
                                  [] { return Result<bool>(false); }));
  if (r.status == 404) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("octavia member '{}' is gone", member), "octavia");
  }
  // Octavia takes the weight to its amphorae while the LB is PENDING_UPDATE: only once it is
  // ACTIVE again does no new connection reach a drained member (weight 0), and may a drain that
  // finds it idle end (Engine::advance_draining).
  TRY(wait_active(lb_id));
  return {};
}

Result<void> OctaviaClient::delete_member(const std::string& lb_id, const std::string& pool,
                                          const std::string& member)
{
  const auto path = fmt::format("{}/pools/{}/members/{}", k_base, pool, member);
  // A DELETE that found the LB busy is sent again: gone by then is just as good (404).
  TRY_ASSIGN(const auto r,
             change(lb_id, {"DELETE", path, "", true}, [] { return Result<bool>(false); }));
  if (r.status != 404) {
    // Octavia lists the member (PENDING_DELETE) until the LB is ACTIVE again.
    TRY(wait_active(lb_id));
  }
  return {};
}

Result<void> OctaviaClient::delete_loadbalancer(const std::string& id)
{
  TRY_ASSIGN(const auto lb, loadbalancer(id));
  if (!lb) {
    return {};
  }
  if (lb->provisioning != oc::Provisioning::pending_delete) {
    TRY(change(id,
               {"DELETE", fmt::format("{}/loadbalancers/{}?cascade=true", k_base, id), "", true},
               [] { return Result<bool>(false); }));
  }
  for (;;) {
    TRY_ASSIGN(const auto still, loadbalancer(id));
    if (!still) {
      spdlog::info("octavia.lb_deleted id={}", id);
      return {};
    }
    if (still->provisioning == oc::Provisioning::error) {
      return fail(ErrorKind::upstream_rejected,
                  fmt::format("octavia load balancer '{}' went to ERROR while deleted", id),
                  "octavia");
    }
    if (!time_left(k_poll_ms)) {
      return fail(ErrorKind::upstream_transient,
                  fmt::format("octavia load balancer '{}' is still {} after its delete", id,
                              oc::to_string(still->provisioning)),
                  "octavia");
    }
    m_clock.sleep_for(k_poll_ms);
  }
}

Result<Applied> OctaviaBalancer::apply(const core::InstanceRef& lb,
                                       const std::vector<Backend>& backends)
{
  TRY_ASSIGN(const auto pool, m_client.find_pool(lb.name, lb.cluster));
  if (!pool) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("octavia load balancer '{}' has no pool yet", lb.name), "octavia");
  }
  TRY_ASSIGN(const auto members, m_client.members(*pool));
  Applied applied;
  TRY_ASSIGN(const auto listener, m_client.find_listener(lb.name, lb.cluster));
  if (listener) {
    applied.ids = BalancerIds{*listener, *pool};
  }
  for (const auto& m : members) {
    if (m.endpoint) {
      applied.members.push_back({m.name, m.operating});
    }
  }
  for (const auto& b : backends) {
    const auto m = std::find_if(members.begin(), members.end(),
                                [&](const oc::Member& x) { return x.name == b.name; });
    if (m == members.end()) {
      // New, or lost by Octavia: added (again).
      TRY(m_client.add_member(lb.cloud_id, *pool, b.name, lb.cluster, b.endpoint));
    } else if (m->endpoint != b.endpoint) {
      // Its address changed (or never parsed): the member is made again.
      TRY(m_client.delete_member(lb.cloud_id, *pool, m->id));
      TRY(m_client.add_member(lb.cloud_id, *pool, b.name, lb.cluster, b.endpoint));
    } else if (m->weight == 0) {
      TRY(m_client.set_weight(lb.cloud_id, *pool, m->id, 1));
      spdlog::info("octavia.member_back cluster={} member={}", lb.cluster, b.name);
    }
  }
  for (const auto& m : members) {
    const bool wanted = std::any_of(backends.begin(), backends.end(),
                                    [&](const Backend& b) { return b.name == m.name; });
    if (wanted) {
      continue;
    }
    if (!m.endpoint) {
      spdlog::error("octavia.member_unreadable cluster={} member={} error={}", lb.cluster,
                    core::log_quote(core::printable(m.name)),
                    core::log_quote(core::printable(m.error, 300)));
      TRY(m_client.delete_member(lb.cloud_id, *pool, m.id));
    } else if (m.weight > 0) {
      // Drained: no new connection goes to it; deleted with its instance, after the drain.
      TRY(m_client.set_weight(lb.cloud_id, *pool, m.id, 0));
      spdlog::info("octavia.member_drained cluster={} member={}", lb.cluster,
                   core::log_quote(core::printable(m.name)));
    }
  }
  return applied;
}

Result<std::vector<core::Endpoint>> OctaviaBalancer::current(const core::InstanceRef& lb)
{
  TRY_ASSIGN(const auto pool, m_client.find_pool(lb.name, lb.cluster));
  std::vector<core::Endpoint> out;
  if (!pool) {
    return out;
  }
  TRY_ASSIGN(const auto members, m_client.members(*pool));
  for (const auto& m : members) {
    if (m.endpoint && m.weight > 0) {
      out.push_back(*m.endpoint);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string OctaviaBalancer::health_path() const
{
  return {};
}

Result<void> OctaviaBalancer::remove_member(const core::InstanceRef& web)
{
  TRY_ASSIGN(const auto lbs, m_client.tagged());
  for (const auto& lb : lbs) {
    if (!has_tag(lb, "sclman:cluster=" + web.cluster)) {
      continue;
    }
    TRY_ASSIGN(const auto pool, m_client.find_pool(lb.name, web.cluster));
    if (!pool) {
      continue;
    }
    TRY_ASSIGN(const auto members, m_client.members(*pool));
    for (const auto& m : members) {
      if (m.name == web.name) {
        TRY(m_client.delete_member(lb.id, *pool, m.id));
        spdlog::info("octavia.member_deleted cluster={} member={}", web.cluster, web.name);
      }
    }
  }
  return {};
}

} // namespace lb
