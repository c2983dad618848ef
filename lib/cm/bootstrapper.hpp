// Configuration management: what turns a booted server into a web server or an LB.
// One interface, one implementation per tool (local, chef, cloud-init).
#pragma once

#include "core/instance_ref.hpp"
#include "core/result.hpp"

#include <optional>
#include <set>
#include <string>

namespace cm {

class Bootstrapper
{
public:
  virtual ~Bootstrapper() = default;
  // Return the user data the provider passes to the new server (may be empty).
  virtual core::Result<std::string> user_data(const core::InstanceRef& instance) = 0;
  // Configure the server, or check on a configuration under way; return true once converged.
  virtual core::Result<bool> bootstrap(const core::InstanceRef& instance) = 0;
  // Return true if the configured service still runs (a crashed service is false).
  virtual core::Result<bool> running(const core::InstanceRef& instance) = 0;
  // Say whether the instance may receive traffic (a Chef attribute); may do nothing.
  virtual core::Result<void> set_in_service(const core::InstanceRef& instance, bool in_service) = 0;
  // Remove what bootstrap registered (a Chef node and client); absent is success.
  virtual core::Result<void> decommission(const core::InstanceRef& instance) = 0;

  // Make what a cluster's instances share (a Chef environment) and check what they need (the
  // roles of the run lists); idempotent.
  virtual core::Result<void> prepare_cluster(const std::string& /*cluster*/) { return {}; }
  // Remove what prepare_cluster made, once the cluster's instances are gone; absent is success.
  virtual core::Result<void> retire_cluster(const std::string& /*cluster*/) { return {}; }
  // Return the seconds an instance must stay out of service before it may be deleted (the LB's
  // convergence time), at least; 0 if the bootstrapper needs none.
  virtual int drain_seconds() const { return 0; }
  // Delete registrations of `cluster` whose instance is not in `live`; return how many.
  virtual core::Result<int> remove_orphans(const std::string& /*cluster*/,
                                           const std::set<std::string>& /*live*/)
  {
    return 0;
  }
  // Return why a booting instance is overdue (its node never registered within the deadline),
  // or nothing.
  virtual core::Result<std::optional<std::string>>
  registration_overdue(const core::InstanceRef& /*instance*/)
  {
    return std::optional<std::string>{};
  }
};

// A bootstrapper that wraps another one, `inner` (may be null), and hands it every call it does
// not override: the wrappers that configure an LB their own way (Octavia, an LB server over SSH)
// leave web instances and the cluster-wide steps to the cluster's own bootstrapper. A null inner
// has nothing to do: no user data, converged, running.
class ForwardingBootstrapper : public Bootstrapper
{
public:
  explicit ForwardingBootstrapper(Bootstrapper* inner) : m_inner(inner) {}

  core::Result<std::string> user_data(const core::InstanceRef& instance) override
  {
    return m_inner ? m_inner->user_data(instance) : core::Result<std::string>(std::string());
  }
  core::Result<bool> bootstrap(const core::InstanceRef& instance) override
  {
    return m_inner ? m_inner->bootstrap(instance) : core::Result<bool>(true);
  }
  core::Result<bool> running(const core::InstanceRef& instance) override
  {
    return m_inner ? m_inner->running(instance) : core::Result<bool>(true);
  }
  core::Result<void> set_in_service(const core::InstanceRef& instance, bool in_service) override
  {
    return m_inner ? m_inner->set_in_service(instance, in_service) : core::Result<void>();
  }
  core::Result<void> decommission(const core::InstanceRef& instance) override
  {
    return m_inner ? m_inner->decommission(instance) : core::Result<void>();
  }
  core::Result<void> prepare_cluster(const std::string& cluster) override
  {
    return m_inner ? m_inner->prepare_cluster(cluster) : core::Result<void>();
  }
  core::Result<void> retire_cluster(const std::string& cluster) override
  {
    return m_inner ? m_inner->retire_cluster(cluster) : core::Result<void>();
  }
  int drain_seconds() const override { return m_inner ? m_inner->drain_seconds() : 0; }
  core::Result<int> remove_orphans(const std::string& cluster,
                                   const std::set<std::string>& live) override
  {
    return m_inner ? m_inner->remove_orphans(cluster, live) : core::Result<int>(0);
  }
  core::Result<std::optional<std::string>>
  registration_overdue(const core::InstanceRef& instance) override
  {
    return m_inner ? m_inner->registration_overdue(instance)
                   : core::Result<std::optional<std::string>>(std::optional<std::string>{});
  }

private:
  Bootstrapper* m_inner;
};

} // namespace cm
