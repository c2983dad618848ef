// How an OpenStack cluster is put together: its web servers are Nova servers, its LB is the
// nginx balancer on the sclman host (a local instance) in front of their addresses.
//
// Stand-in mode ([OPENSTACK] stand_in = yes) exists for tests against Nova's fake virt driver,
// whose servers run nothing: each web server that Nova reports ACTIVE gets a local nginx on
// 127.0.0.1 standing in for it, and that is the address the LB and health checks use. Nova's
// own state (BUILD, ACTIVE, ERROR, deleted) still decides everything else.
#pragma once

#include "cloud/openstack.hpp"
#include "core/config.hpp"

#include <map>
#include <memory>

namespace cloud {

// Routes the LB to `lb` (local) and web servers to `web` (Nova, or its stand-in wrapper).
class OpenStackClusterProvider final : public Provider
{
public:
  OpenStackClusterProvider(Provider& lb, Provider& web) : m_lb(lb), m_web(web) {}

  core::Result<Server> create(const ServerSpec& spec) override;
  core::Result<std::optional<Server>> find(const std::string& name) override;
  core::Result<std::optional<Server>> find_instance(const core::InstanceRef& instance) override;
  core::Result<void> remove(const core::InstanceRef& instance) override;
  core::Result<std::vector<Server>> list() override;
  core::Result<std::optional<core::IpAddress>>
  public_address(const core::InstanceRef& instance, const std::string& network) override;
  core::Result<void> retire_cluster(const std::string& cluster) override;

private:
  Provider& m_lb;
  Provider& m_web;
};

// Wraps the Nova provider: an ACTIVE server's address becomes 127.0.0.1:PORT of its stand-in
// (the port is kept in <root>/<name>/stand_in.json); remove() also stops the stand-in.
class StandInProvider final : public Provider
{
public:
  StandInProvider(Provider& nova, std::string root, std::string nginx, core::Clock& clock);

  core::Result<Server> create(const ServerSpec& spec) override;
  core::Result<std::optional<Server>> find(const std::string& name) override;
  core::Result<std::optional<Server>> find_instance(const core::InstanceRef& instance) override;
  core::Result<void> remove(const core::InstanceRef& instance) override;
  core::Result<std::vector<Server>> list() override;
  // Nova's: the floating IP is on the server's port (nothing forwards it to the stand-in).
  core::Result<std::optional<core::IpAddress>>
  public_address(const core::InstanceRef& instance, const std::string& network) override;
  core::Result<void> retire_cluster(const std::string& cluster) override;

private:
  core::Result<Server> map(Server server);

  Provider& m_nova;
  std::string m_root;
  std::string m_nginx;
  core::Clock& m_clock;
};

// The OpenStack providers of one run, made on first use by a cluster on OpenStack: one Nova
// provider per cloud, and the wrappers above.
// What a cluster records of its cloud when it is created (the state's provider, cloud_auth_url
// and cloud_project columns), so that later runs act on that cloud or on none.
struct CloudPin
{
  std::string column;    // "openstack", or "openstack:NAME" for a clouds.yaml cloud
  std::string auth_url;  // openstack::pinned_auth_url
  std::string project;   // openstack::pinned_project
};

class OpenStackDrivers
{
public:
  // `local` is the provider of LBs; stand-ins live below `state_dir`/instances.
  OpenStackDrivers(http::HttpTransport& http, core::Clock& clock, const core::Config& config,
                   std::string state_dir, Provider& local);

  // Return the Nova provider for a cluster's provider column ("openstack" or
  // "openstack:CLOUD"), authenticating lazily (nothing is sent here).
  core::Result<OpenStackProvider*> nova(const std::string& column);
  // Return the provider of a cluster on OpenStack (LB local, web servers on Nova).
  core::Result<Provider*> provider(const std::string& column);
  // Return the provider of a cluster's web servers: Nova, or its stand-in wrapper.
  core::Result<Provider*> web(const std::string& column);
  // Return true if web servers have local stand-ins ([OPENSTACK] stand_in = yes).
  bool stand_in() const;
  // Return what a new cluster on `column` records of its cloud: the clouds.yaml cloud chosen
  // now (the column's, else OS_CLOUD, else [OPENSTACK] cloud) becomes part of the column.
  core::Result<CloudPin> pin(const std::string& column);
  // Check that `pin.column` still resolves to the cloud that cluster `cluster` recorded: a
  // config error naming the cluster otherwise (its cloud gone from clouds.yaml, or now another
  // Keystone or project), never the default cloud. An empty pin (older clusters) checks only
  // that the column resolves.
  core::Result<void> check_pin(const std::string& cluster, const CloudPin& pin);

private:
  struct Cloud
  {
    // Its own HTTPS settings (clouds.yaml cacert, verify, cert, key; OS_CACERT...), or none:
    // then the transport of every other driver ([TLS] of sclman.conf).
    std::unique_ptr<http::HttpTransport> http;
    std::unique_ptr<OpenStackProvider> nova;
    std::unique_ptr<StandInProvider> stand_in;
    std::unique_ptr<OpenStackClusterProvider> cluster;
    CloudPin pin;  // what the column resolved to
  };
  core::Result<Cloud*> cloud(const std::string& column);

  http::HttpTransport& m_http;
  core::Clock& m_clock;
  core::Config m_config;
  std::string m_state_dir;
  Provider& m_local;
  core::Millis m_deadline;
  std::map<std::string, Cloud> m_clouds;
};

// Return true if a cluster's provider column names OpenStack ("openstack", "openstack:CLOUD").
bool is_openstack_provider(const std::string& column);

// Return the role of a deterministic instance name <cluster>-<role>-<serial>, or nothing.
std::optional<core::Role> role_of(const std::string& name);

} // namespace cloud
