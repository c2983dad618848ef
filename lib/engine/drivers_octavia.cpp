#include "engine/drivers_octavia.hpp"

#include "core/log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace engine {

using core::ErrorKind;
using core::fail;
using core::Result;
namespace oc = lb::octavia;

cloud::Server OctaviaLbProvider::to_server(const oc::LoadBalancer& lb) const
{
  cloud::Server s;
  s.id = lb.id;
  s.name = lb.name;
  s.role = core::Role::lb;
  s.created = lb.created;
  const std::string prefix = "sclman:cluster=";
  for (const auto& tag : lb.tags) {
    if (tag.rfind(prefix, 0) == 0) {
      s.cluster = tag.substr(prefix.size());
    }
  }
  switch (lb.provisioning) {
  case oc::Provisioning::active:
    if (!lb.vip) {
      s.status = cloud::ServerStatus::error;
      s.fault = fmt::format("load balancer '{}' is ACTIVE without a VIP", lb.name);
    } else if (auto e = core::Endpoint::from_ip(*lb.vip, m_client.config().listener_port); !e) {
      s.status = cloud::ServerStatus::error;
      s.fault = e.error().message;
    } else {
      s.status = cloud::ServerStatus::active;
      s.address = *e;
    }
    break;
  case oc::Provisioning::error:
    s.status = cloud::ServerStatus::error;
    s.fault = fmt::format("octavia load balancer '{}' is in ERROR", lb.name);
    break;
  default:
    s.status = cloud::ServerStatus::building;
  }
  return s;
}

Result<cloud::Server> OctaviaLbProvider::settled(const oc::LoadBalancer& lb)
{
  if (!oc::is_pending(lb.provisioning)) {
    return to_server(lb);
  }
  // A new load balancer is ACTIVE within seconds: wait for it here (within the run's deadline)
  // rather than leave it to the next run. Still pending then, it stays building.
  auto active = m_client.wait_active(lb.id);
  if (!active) {
    if (active.error().kind == ErrorKind::upstream_transient) {
      spdlog::info("octavia.lb_pending lb={} id={} error={}", lb.name, lb.id,
                   core::log_quote(active.error().message));
      return to_server(lb);
    }
    return tl::make_unexpected(active.error());
  }
  return to_server(*active);
}

namespace {

// The name of the VIP port sclman makes for load balancer `lb` (one with a floating IP).
std::string vip_port_name(const std::string& lb)
{
  return lb + "-vip";
}

} // namespace

Result<cloud::Server> OctaviaLbProvider::create(const cloud::ServerSpec& spec)
{
  lb::OctaviaClient::VipPort vip_port;
  if (!spec.floating_network.empty()) {
    // A port of sclman's own: Octavia takes its network and address (vip_port_id) and never
    // deletes it, so the floating IP's port is sclman's to make and to remove.
    vip_port = [&](const lb::OctaviaConfig& config) -> Result<std::string> {
      std::string network = config.vip_network_id;
      if (network.empty()) {
        TRY_ASSIGN(network, m_neutron.subnet_network(config.vip_subnet_id));
      }
      return m_neutron.ensure_port(vip_port_name(spec.name), spec.cluster, network,
                                   config.vip_subnet_id);
    };
  }
  TRY_ASSIGN(const auto lb, m_client.ensure_loadbalancer(spec.name, spec.cluster, vip_port));
  return settled(lb);
}

Result<std::optional<core::IpAddress>>
OctaviaLbProvider::public_address(const core::InstanceRef& instance, const std::string& network)
{
  TRY_ASSIGN(const auto lb, instance.cloud_id.empty()
                              ? m_client.find_loadbalancer(instance.name, instance.cluster)
                              : m_client.loadbalancer(instance.cloud_id));
  if (!lb || lb->vip_port.empty()) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("load balancer {} has no VIP port yet for its floating IP",
                            instance.name),
                "octavia");
  }
  TRY_ASSIGN(const auto address, m_neutron.floating_ip_for_port(lb->vip_port, instance, network));
  return std::optional<core::IpAddress>{address};
}

Result<std::optional<cloud::Server>> OctaviaLbProvider::find(const std::string& name)
{
  TRY_ASSIGN(const auto lb, m_client.find_loadbalancer(name, ""));
  if (!lb) {
    return std::optional<cloud::Server>{};
  }
  return std::optional<cloud::Server>{to_server(*lb)};
}

Result<std::optional<cloud::Server>>
OctaviaLbProvider::find_instance(const core::InstanceRef& instance)
{
  if (instance.cloud_id.empty()) {
    return find(instance.name);
  }
  TRY_ASSIGN(const auto lb, m_client.loadbalancer(instance.cloud_id));
  if (!lb) {
    return std::optional<cloud::Server>{};
  }
  TRY_ASSIGN(auto server, settled(*lb));
  return std::optional<cloud::Server>{std::move(server)};
}

Result<void> OctaviaLbProvider::remove(const core::InstanceRef& instance)
{
  std::string id = instance.cloud_id;
  if (id.empty()) {
    TRY_ASSIGN(const auto found, find(instance.name));
    if (found) {
      id = found->id;
    }
  }
  if (!id.empty()) {
    TRY(m_client.delete_loadbalancer(id));
  }
  // Octavia leaves a VIP port it did not make: sclman's goes once the load balancer is gone,
  // with the floating IP on it (also when a run died between the two).
  TRY(m_neutron.release_port(vip_port_name(instance.name)));
  return {};
}

Result<std::vector<cloud::Server>> OctaviaLbProvider::list()
{
  TRY_ASSIGN(const auto all, m_client.tagged());
  std::vector<cloud::Server> out;
  for (const auto& lb : all) {
    if (lb.provisioning != oc::Provisioning::pending_delete) {
      out.push_back(to_server(lb));
    }
  }
  return out;
}

Result<std::string> OctaviaBootstrapper::user_data(const core::InstanceRef& instance)
{
  return instance.role == core::Role::lb ? Result<std::string>(std::string())
                                         : ForwardingBootstrapper::user_data(instance);
}

Result<bool> OctaviaBootstrapper::bootstrap(const core::InstanceRef& instance)
{
  if (instance.role != core::Role::lb) {
    return ForwardingBootstrapper::bootstrap(instance);
  }
  TRY_ASSIGN(const auto lb, m_client.loadbalancer(instance.cloud_id));
  if (!lb) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("octavia load balancer '{}' ({}) is gone", instance.name,
                            instance.cloud_id),
                "octavia");
  }
  TRY(m_client.ensure_pool(*lb, instance.cluster));
  return true;
}

Result<bool> OctaviaBootstrapper::running(const core::InstanceRef& instance)
{
  if (instance.role != core::Role::lb) {
    return ForwardingBootstrapper::running(instance);
  }
  TRY_ASSIGN(const auto lb, m_client.loadbalancer(instance.cloud_id));
  if (!lb || lb->provisioning == oc::Provisioning::error) {
    spdlog::warn("octavia.lb_lost cluster={} lb={} status={}", instance.cluster, instance.name,
                 lb ? oc::to_string(lb->provisioning) : "absent");
    return false;
  }
  return true;
}

Result<void> OctaviaBootstrapper::set_in_service(const core::InstanceRef& instance,
                                                 bool in_service)
{
  if (instance.role == core::Role::lb) {
    return {};
  }
  return ForwardingBootstrapper::set_in_service(instance, in_service);
}

Result<void> OctaviaBootstrapper::decommission(const core::InstanceRef& instance)
{
  if (instance.role == core::Role::lb) {
    return {};
  }
  TRY(m_balancer.remove_member(instance));
  return ForwardingBootstrapper::decommission(instance);
}

} // namespace engine
