#include "engine/drivers_openstack.hpp"

#include "core/log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace engine {

OpenStackBootstrapper::OpenStackBootstrapper(cloud::Provider& web,
                                             cm::Bootstrapper& here,
                                             cm::Bootstrapper* remote,
                                             bool stand_in,
                                             bool lb_on_nova)
  : m_web(web), m_here(here), m_remote(remote), m_stand_in(stand_in), m_lb_on_nova(lb_on_nova)
{
}

cm::Bootstrapper* OpenStackBootstrapper::pick(const core::InstanceRef& instance) const
{
  if ((instance.role == core::Role::lb && !m_lb_on_nova) || m_stand_in) {
    return &m_here;
  }
  return m_remote;
}

core::Result<std::string> OpenStackBootstrapper::user_data(const core::InstanceRef& instance)
{
  // With stand-ins too: Nova gets the user data a real server would boot with.
  auto* b = pick(instance);
  return b ? b->user_data(instance) : core::Result<std::string>(std::string());
}

core::Result<bool> OpenStackBootstrapper::bootstrap(const core::InstanceRef& instance)
{
  if (instance.role == core::Role::lb && m_lb_on_nova) {
    // Also how a stopped LB is brought back in place: an LB server Nova lost cannot come
    // back there (its address went with it), so the engine makes a new one.
    TRY_ASSIGN(const auto server, m_web.find_instance(instance));
    if (!server || server->status == cloud::ServerStatus::error) {
      return core::fail(core::ErrorKind::upstream_rejected,
                        fmt::format("LB server {} is {} in Nova", instance.name,
                                    server ? "in ERROR" : "absent"),
                        "nova");
    }
    if (server->status != cloud::ServerStatus::active) {
      return false;  // rebooting: not up yet
    }
  }
  auto* b = pick(instance);
  return b ? b->bootstrap(instance) : core::Result<bool>(true);
}

core::Result<bool> OpenStackBootstrapper::running(const core::InstanceRef& instance)
{
  if (instance.role != core::Role::lb || m_lb_on_nova) {
    TRY_ASSIGN(const auto server, m_web.find_instance(instance));
    if (server && server->address_refused) {
      // Nova runs it, but its address now reads as something sclman refuses: the instance
      // keeps the address parsed when it entered service (the LB's config does not change),
      // and this is said every tick until Nova's answer is right again.
      spdlog::error("openstack.address_refused instance={} error={}", instance.name,
                    core::log_quote(core::printable(server->fault, 300)));
    } else if (!server || server->status != cloud::ServerStatus::active) {
      spdlog::warn("openstack.server_lost instance={} nova={}", instance.name,
                   !server ? std::string("absent") : server->fault);
      return false;
    }
  }
  auto* b = pick(instance);
  return b ? b->running(instance) : core::Result<bool>(true);
}

core::Result<void> OpenStackBootstrapper::set_in_service(const core::InstanceRef& instance,
                                                         bool in_service)
{
  auto* b = pick(instance);
  return b ? b->set_in_service(instance, in_service) : core::Result<void>();
}

core::Result<void> OpenStackBootstrapper::decommission(const core::InstanceRef& instance)
{
  auto* b = pick(instance);
  return b ? b->decommission(instance) : core::Result<void>();
}

core::Result<void> OpenStackBootstrapper::prepare_cluster(const std::string& cluster)
{
  return m_here.prepare_cluster(cluster);
}

core::Result<void> OpenStackBootstrapper::retire_cluster(const std::string& cluster)
{
  return m_here.retire_cluster(cluster);
}

int OpenStackBootstrapper::drain_seconds() const
{
  return std::max(m_here.drain_seconds(), m_remote ? m_remote->drain_seconds() : 0);
}

core::Result<int> OpenStackBootstrapper::remove_orphans(const std::string& cluster,
                                                        const std::set<std::string>& live)
{
  return m_here.remove_orphans(cluster, live);
}

core::Result<std::optional<std::string>>
OpenStackBootstrapper::registration_overdue(const core::InstanceRef& instance)
{
  auto* b = pick(instance);
  return b ? b->registration_overdue(instance)
           : core::Result<std::optional<std::string>>(std::optional<std::string>{});
}

} // namespace engine
