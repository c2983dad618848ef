// Floating IPs (Neutron) of the OpenStack provider: the public address of a cluster whose LB is
// a server (the server balancer). A floating IP is found by its port before one is made (a run
// that died after the POST, or a POST of unknown outcome, makes none twice), tagged `sclman`
// and `sclman:cluster=NAME`, deleted with its LB server, and swept by gc once no port holds it.
#include "cloud/openstack.hpp"

#include "core/log.hpp"
#include "http/encoding.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace cloud {

namespace os = openstack;
using core::ErrorKind;
using core::fail;

namespace {

bool has(const std::vector<std::string>& tags, const std::string& tag)
{
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

} // namespace

core::Result<std::vector<std::string>> OpenStackProvider::server_ports(const std::string& server_id)
{
  TRY_ASSIGN(const auto r, call({"GET", "network",
                                 "/v2.0/ports?device_id=" + http::url_encode(server_id), "",
                                 true}));
  if (r.status == 404) {
    return std::vector<std::string>{};
  }
  return os::parse_port_ids(r.body);
}

core::Result<std::optional<std::vector<os::FloatingIp>>>
OpenStackProvider::floating_ips_on(const std::string& port)
{
  TRY_ASSIGN(const auto r, call({"GET", "network",
                                 "/v2.0/floatingips?port_id=" + http::url_encode(port), "",
                                 true}));
  if (r.status == 404) {
    return std::optional<std::vector<os::FloatingIp>>{};
  }
  TRY_ASSIGN(auto found, os::parse_floating_ips(r.body));
  return std::optional<std::vector<os::FloatingIp>>{std::move(found)};
}

core::Result<std::optional<core::IpAddress>>
OpenStackProvider::public_address(const core::InstanceRef& instance, const std::string& network)
{
  std::string server_id = instance.cloud_id;
  if (server_id.empty()) {
    TRY_ASSIGN(const auto server, find_instance(instance));
    if (!server) {
      return fail(ErrorKind::upstream_transient,
                  fmt::format("no server {} to give a floating IP", instance.name), "nova");
    }
    server_id = server->id;
  }
  TRY_ASSIGN(const auto ports, server_ports(server_id));
  if (ports.empty()) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("server {} has no port yet for its floating IP", instance.name),
                "neutron");
  }
  TRY_ASSIGN(const auto address, floating_ip_for_port(ports.front(), instance, network));
  return std::optional<core::IpAddress>{address};
}

core::Result<core::IpAddress> OpenStackProvider::floating_ip_for_port(
  const std::string& port, const core::InstanceRef& instance, const std::string& network)
{
  TRY_ASSIGN(const auto found, floating_ips_on(port));
  if (!found) {
    return fail(ErrorKind::config,
                "the cloud has no floating IPs (Neutron without its router extension): "
                "create the cluster without --floating-network",
                "neutron");
  }
  std::optional<os::FloatingIp> fip;
  if (!found->empty()) {
    fip = found->front();
  } else {
    TRY_ASSIGN(const auto network_id, resolve_network(network));
    const nlohmann::json body = {
      {"floatingip",
       {{"floating_network_id", network_id},
        {"port_id", port},
        {"description", fmt::format("sclman LB {} of cluster {}", instance.name,
                                    instance.cluster)}}}};
    // Not resent blindly: the next run finds what an unanswered POST made by its port.
    TRY_ASSIGN(const auto made, call({"POST", "network", "/v2.0/floatingips", body.dump(),
                                      false}));
    TRY_ASSIGN(fip, os::parse_floating_ip(made.body));
    spdlog::info("openstack.floating_ip_created instance={} address={} id={}", instance.name,
                 fip->address.to_string(), fip->id);
  }
  if (!has(fip->tags, k_sclman_tag) || !has(fip->tags, cluster_tag(instance.cluster))) {
    const nlohmann::json tags = {{"tags", {k_sclman_tag, cluster_tag(instance.cluster)}}};
    TRY(call({"PUT", "network", "/v2.0/floatingips/" + fip->id + "/tags", tags.dump(), true}));
  }
  return fip->address;
}

core::Result<std::string> OpenStackProvider::subnet_network(const std::string& subnet_id)
{
  TRY_ASSIGN(const auto r, call({"GET", "network",
                                 "/v2.0/subnets/" + http::url_encode(subnet_id), "", true}));
  if (r.status == 404) {
    return fail(ErrorKind::config, fmt::format("neutron has no subnet {}", subnet_id),
                "neutron");
  }
  return os::parse_subnet_network(r.body);
}

core::Result<std::vector<os::Port>> OpenStackProvider::ports_named(const std::string& name)
{
  TRY_ASSIGN(const auto r, call({"GET", "network",
                                 "/v2.0/ports?name=" + http::url_encode(name), "", true}));
  if (r.status == 404) {
    return std::vector<os::Port>{};
  }
  return os::parse_ports(r.body);
}

core::Result<std::string> OpenStackProvider::ensure_port(const std::string& name,
                                                         const std::string& cluster,
                                                         const std::string& network_id,
                                                         const std::string& subnet_id)
{
  TRY_ASSIGN(const auto named, ports_named(name));
  std::optional<std::string> id;
  for (const auto& p : named) {
    if (has(p.tags, k_sclman_tag)) {
      id = p.id;
    }
  }
  if (!id && !named.empty()) {
    // Made by a run that died before it tagged it (names are the cluster's own).
    id = named.front().id;
    spdlog::info("openstack.port_adopted name={} id={}", name, *id);
  }
  if (!id) {
    nlohmann::json port = {{"name", name}, {"network_id", network_id},
                           {"description", fmt::format("sclman VIP of {} of cluster {}", name,
                                                       cluster)}};
    if (!subnet_id.empty()) {
      port["fixed_ips"] = nlohmann::json::array({{{"subnet_id", subnet_id}}});
    }
    // Not resent blindly: the next run finds by name what an unanswered POST made.
    TRY_ASSIGN(const auto made, call({"POST", "network", "/v2.0/ports",
                                      nlohmann::json{{"port", port}}.dump(), false}));
    TRY_ASSIGN(const auto parsed, os::parse_port(made.body));
    id = parsed.id;
    spdlog::info("openstack.port_created name={} id={}", name, *id);
  }
  const nlohmann::json tags = {{"tags", {k_sclman_tag, cluster_tag(cluster)}}};
  TRY(call({"PUT", "network", "/v2.0/ports/" + *id + "/tags", tags.dump(), true}));
  return *id;
}

core::Result<int> OpenStackProvider::release_port(const std::string& name)
{
  TRY_ASSIGN(const bool neutron, offers("network"));
  if (!neutron) {
    return 0;
  }
  TRY_ASSIGN(const auto named, ports_named(name));
  int released = 0;
  for (const auto& p : named) {
    if (!has(p.tags, k_sclman_tag)) {
      continue;  // not made by sclman: left to its owner
    }
    TRY_ASSIGN(const auto n, release_floating_ips_on(p.id, "port=" + name));
    released += n;
    TRY(call({"DELETE", "network", "/v2.0/ports/" + p.id, "", true}));
    spdlog::info("openstack.port_deleted name={} id={}", name, p.id);
  }
  return released;
}

core::Result<int> OpenStackProvider::release_floating_ips(const core::InstanceRef& instance)
{
  if (instance.cloud_id.empty()) {
    return 0;
  }
  TRY_ASSIGN(const auto ports, server_ports(instance.cloud_id));
  int released = 0;
  for (const auto& port : ports) {
    TRY_ASSIGN(const auto n, release_floating_ips_on(port, "instance=" + instance.name));
    released += n;
  }
  return released;
}

core::Result<int> OpenStackProvider::release_floating_ips_on(const std::string& port,
                                                            const std::string& owner)
{
  TRY_ASSIGN(const auto found, floating_ips_on(port));
  int released = 0;
  for (const auto& f : found.value_or(std::vector<os::FloatingIp>{})) {
    if (!has(f.tags, k_sclman_tag)) {
      continue;  // not made by sclman: left to its owner
    }
    TRY(call({"DELETE", "network", "/v2.0/floatingips/" + f.id, "", true}));
    spdlog::info("openstack.floating_ip_deleted {} address={} id={}", owner,
                 f.address.to_string(), f.id);
    ++released;
  }
  return released;
}

core::Result<int> OpenStackProvider::remove_orphan_addresses(bool dry_run)
{
  TRY_ASSIGN(const bool neutron, offers("network"));
  if (!neutron) {
    return 0;
  }
  TRY_ASSIGN(const auto r, call({"GET", "network",
                                 std::string("/v2.0/floatingips?tags=") + k_sclman_tag, "", true}));
  if (r.status == 404) {
    return 0;
  }
  TRY_ASSIGN(const auto found, os::parse_floating_ips(r.body));
  int strays = 0;
  for (const auto& f : found) {
    const bool clustered = std::any_of(f.tags.begin(), f.tags.end(), [](const std::string& t) {
      return t.rfind(cluster_tag(""), 0) == 0;
    });
    // Held by a port: its LB server still exists (the server sweep judges that server).
    if (f.port_id || !clustered || !has(f.tags, k_sclman_tag)) {
      continue;
    }
    ++strays;
    if (dry_run) {
      spdlog::info("gc.would_delete_floating_ip address={} id={}", f.address.to_string(), f.id);
      continue;
    }
    TRY(call({"DELETE", "network", "/v2.0/floatingips/" + f.id, "", true}));
    spdlog::info("gc.orphan_floating_ip address={} id={} hint=\"no port holds it: its LB server "
                 "is gone\"",
                 f.address.to_string(), f.id);
  }
  return strays;
}

} // namespace cloud
