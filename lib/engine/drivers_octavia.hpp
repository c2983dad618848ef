// How a cluster whose balancer is Octavia is put together: the one place that joins the Octavia
// client (lib/lb) with the provider and bootstrapper interfaces (lib/cloud, lib/cm).
//
// The cluster's LB instance (role lb) is the Octavia load balancer itself, not an nginx on this
// host: creating it makes the load balancer (its id is the instance's cloud id, its VIP and
// listener port the instance's address, which status shows as the cluster's), bootstrapping it
// makes the listener, pool and health monitor, deleting it deletes the load balancer with
// ?cascade=true. Web instances stay with the cluster's own provider and bootstrapper; deleting
// one also deletes its member (drained to weight 0 by the balancer before).
#pragma once

#include "cloud/openstack.hpp"
#include "cloud/provider.hpp"
#include "cm/bootstrapper.hpp"
#include "lb/octavia.hpp"

#include <map>
#include <memory>
#include <utility>

namespace engine {

// The load balancers of one cloud as servers of role lb (for the cluster's LB instance and for
// gc's orphan sweep: list() returns every load balancer tagged `sclman`).
class OctaviaLbProvider final : public cloud::Provider
{
public:
  // `neutron`: the cloud's provider, whose Neutron holds an LB's VIP port and floating IP
  // when the cluster has a floating network.
  OctaviaLbProvider(lb::OctaviaClient& client, cloud::OpenStackProvider& neutron)
    : m_client(client), m_neutron(neutron)
  {
  }

  core::Result<cloud::Server> create(const cloud::ServerSpec& spec) override;
  core::Result<std::optional<cloud::Server>> find(const std::string& name) override;
  core::Result<std::optional<cloud::Server>>
  find_instance(const core::InstanceRef& instance) override;
  core::Result<void> remove(const core::InstanceRef& instance) override;
  core::Result<std::vector<cloud::Server>> list() override;
  // A floating IP on the VIP port sclman made for the load balancer (create-cluster
  // --floating-network): the cluster's public address.
  core::Result<std::optional<core::IpAddress>>
  public_address(const core::InstanceRef& instance, const std::string& network) override;

private:
  cloud::Server to_server(const lb::octavia::LoadBalancer& lb) const;
  // Return `lb` as a server once it is no longer PENDING_* (building if it still is at the
  // run's deadline or after [OCTAVIA] active_timeout).
  core::Result<cloud::Server> settled(const lb::octavia::LoadBalancer& lb);

  lb::OctaviaClient& m_client;
  cloud::OpenStackProvider& m_neutron;
};

// Wraps a cluster's bootstrapper: the LB instance is configured through Octavia (listener,
// pool, health monitor), and a deleted web instance loses its member; the rest is the cluster's
// own bootstrapper's.
class OctaviaBootstrapper final : public cm::ForwardingBootstrapper
{
public:
  OctaviaBootstrapper(cm::Bootstrapper& web, lb::OctaviaClient& client,
                      lb::OctaviaBalancer& balancer)
    : ForwardingBootstrapper(&web), m_client(client), m_balancer(balancer)
  {
  }

  core::Result<std::string> user_data(const core::InstanceRef& instance) override;
  core::Result<bool> bootstrap(const core::InstanceRef& instance) override;
  core::Result<bool> running(const core::InstanceRef& instance) override;
  core::Result<void> set_in_service(const core::InstanceRef& instance, bool in_service) override;
  core::Result<void> decommission(const core::InstanceRef& instance) override;

private:
  lb::OctaviaClient& m_client;
  lb::OctaviaBalancer& m_balancer;
};

// The Octavia drivers of one cloud, and the wrappers made for the clusters of a run.
struct OctaviaDrivers
{
  std::unique_ptr<lb::OctaviaClient> client;
  std::unique_ptr<lb::OctaviaBalancer> balancer;
  std::unique_ptr<OctaviaLbProvider> lbs;
  std::map<std::pair<cloud::Provider*, cm::Bootstrapper*>,
           std::pair<std::unique_ptr<cloud::Provider>, std::unique_ptr<cm::Bootstrapper>>>
    wrapped;
};

} // namespace engine
