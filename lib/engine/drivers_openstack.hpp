// How an OpenStack cluster's instances are configured: the one place that joins a cloud
// provider (lib/cloud) with the bootstrappers (lib/cm), so neither includes the other.
#pragma once

#include "cloud/provider.hpp"
#include "cm/bootstrapper.hpp"

namespace engine {

// Wraps the cluster's bootstrappers for an OpenStack cluster. Two do the work:
// - `here` configures what runs on the sclman host: the LB (unless `lb_on_nova`: the server
//   balancer's LB is a Nova server like the web servers), and each server's stand-in
//   (stand_in = yes). For Chef this is the bootstrapper that, like on the local
//   provider, starts nginx and registers the node itself (no chef-client runs here).
// - `remote` configures a Nova server, or nothing (nullptr) when its image and user data
//   do that alone: for Chef the bootstrapper that waits for the VM's own chef-client to
//   register the node (the user data carries the Chef bootstrap).
// A Nova server counts as running only while Nova still has it ACTIVE (a server deleted or
// failed behind sclman's back is noticed). Cluster-wide work (environment, orphans, drain time)
// goes to `here`.
class OpenStackBootstrapper final : public cm::Bootstrapper
{
public:
  OpenStackBootstrapper(cloud::Provider& web, cm::Bootstrapper& here, cm::Bootstrapper* remote,
                        bool stand_in, bool lb_on_nova);

  core::Result<std::string> user_data(const core::InstanceRef& instance) override;
  core::Result<bool> bootstrap(const core::InstanceRef& instance) override;
  core::Result<bool> running(const core::InstanceRef& instance) override;
  core::Result<void> set_in_service(const core::InstanceRef& instance, bool in_service) override;
  core::Result<void> decommission(const core::InstanceRef& instance) override;
  core::Result<void> prepare_cluster(const std::string& cluster) override;
  core::Result<void> retire_cluster(const std::string& cluster) override;
  int drain_seconds() const override;
  core::Result<int> remove_orphans(const std::string& cluster,
                                   const std::set<std::string>& live) override;
  core::Result<std::optional<std::string>>
  registration_overdue(const core::InstanceRef& instance) override;

private:
  // Return the bootstrapper of `instance`, or nullptr if nothing configures it.
  cm::Bootstrapper* pick(const core::InstanceRef& instance) const;

  cloud::Provider& m_web;
  cm::Bootstrapper& m_here;
  cm::Bootstrapper* m_remote;
  bool m_stand_in;
  bool m_lb_on_nova;
};

} // namespace engine
