// The one place that knows the drivers by name: a registry (a table) of the providers,
// bootstrappers, balancers and metrics sources a cluster can name, each with the config
// sections it reads and how it is made. create-cluster's option checks and help, bash
// completion and the man page test read the table; DriverSet::for_cluster resolves a cluster's
// columns through it. Adding a driver is one folder below lib/ plus one row here.
#pragma once

#include "cloud/openstack_cluster.hpp"
#include "cloud/provider.hpp"
#include "core/clock.hpp"
#include "cm/bootstrapper.hpp"
#include "cm/chef.hpp"
#include "cm/chef_config.hpp"
#include "cm/ssh.hpp"
#include "core/config.hpp"
#include "http/transport.hpp"
#include "engine/drivers_octavia.hpp"
#include "lb/balancer.hpp"
#include "metrics/source.hpp"
#include "state/store.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace engine {

// The drivers one cluster uses.
struct Drivers
{
  cloud::Provider* provider = nullptr;
  cm::Bootstrapper* bootstrapper = nullptr;
  lb::Balancer* balancer = nullptr;
  metrics::MetricsSource* metrics = nullptr;
  http::HttpTransport* http = nullptr;
};

// Remove what the cluster's instances shared, once they are gone: the bootstrapper's setup (a
// Chef environment), then the provider's (a Nova server group). Absent is success.
core::Result<void> retire_cluster(const Drivers& drivers, const std::string& cluster);

// What a driver is, and the cluster column that names it.
enum class DriverKind { provider, bootstrapper, balancer, metrics };

class DriverSet;

// A provider whose tagged servers gc checks for orphans.
struct OrphanSweep
{
  cloud::Provider* provider = nullptr;
  core::Millis grace = 0;  // a server younger than this may be a create under way elsewhere
  bool by_id = false;      // an instance owns only the server whose id it recorded
};

// One row of the registry.
struct DriverRow
{
  DriverKind kind;
  std::string name;                   // the cluster column's value (and the option's)
  std::vector<std::string> sections;  // the config sections it reads
  std::string help;                   // what it is, for help texts
  // The bootstrapper it needs ("" for any): chef-search reads what the chef bootstrapper wrote.
  std::string needs_bootstrapper;
  std::string needs_why;  // why, for the message
  // True if the column may carry a cloud, NAME:CLOUD (create-cluster --os-cloud).
  bool clouds = false;
  // Set the driver of `cluster` in `drivers` (the bootstrapper, balancer and metrics source are
  // set before the provider, which may wrap the bootstrapper); made on first use.
  std::function<core::Result<void>(DriverSet&, const state::Cluster&, Drivers&)> attach;
  // Add what gc sweeps for orphans, given every cluster (nullptr: nothing).
  std::function<core::Result<void>(DriverSet&, const std::vector<state::Cluster>&,
                                   std::vector<OrphanSweep>&)>
    sweeps;
  // Change `drivers` once every driver of the cluster is set (nullptr: nothing): the octavia
  // balancer takes over the LB instance from the provider and bootstrapper.
  std::function<core::Result<void>(DriverSet&, const state::Cluster&, Drivers&)> wrap;
  // Check, before a new cluster is written, that what the driver needs is configured.
  std::function<core::Result<void>(const core::Config&)> ready;
  // A balancer: true if the cloud of a new cluster's provider column offers it, so that
  // `[LB] driver = auto` picks it (nullptr: auto never picks it, only the registry's first).
  std::function<core::Result<bool>(DriverSet&, const std::string& provider_column)> offered;
  // The provider it needs ("" for any): the server balancer's LB is a Nova server.
  std::string needs_provider;
};

// [LB]: the default of create-cluster --balancer, a balancer of the registry; `auto`: the first
// balancer the new cluster's cloud offers (Octavia on OpenStack when the catalog has
// load-balancer), else the registry's first (nginx on this host).
struct LbConfig
{
  std::string driver = "auto";
};

// A config section of drivers, and its keys (from the driver's folder).
struct DriverSection
{
  const char* name;
  std::vector<core::KeyDef> (*keys)();
};

// Return the config sections the drivers read besides core's (core::driver_keys() adds them to
// the config's keys, with man_provider and [METRICS] source checked against the registry).
const std::vector<DriverSection>& driver_sections();

// Return every driver, in the order help texts list them.
const std::vector<DriverRow>& registry();

// Return the row of the `kind` driver named by a cluster's column (NAME or NAME:CLOUD for a
// driver with clouds), or nullptr.
const DriverRow* find_driver(DriverKind kind, const std::string& column);

// Return the names of the `kind` drivers, in registry order.
std::vector<std::string> driver_names(DriverKind kind);

// Return `name`, or if it is empty the default `kind` driver (the registry's first).
std::string or_default(DriverKind kind, const std::string& name);

// Return the names of the `kind` drivers for a message: "a, b or c".
std::string driver_choices(DriverKind kind);

// Return the kind's word in messages: "provider", "bootstrapper", "balancer", "metrics source".
const char* kind_word(DriverKind kind);

// Return the help text of a create-cluster option that chooses or configures a driver
// ("--provider", "--os-cloud", "--flavor", ...), built from the registry.
std::string option_help(const std::string& option);

// What create-cluster's driver options chose; empty: the default.
struct DriverChoice
{
  std::string provider;      // default [MANAGER] man_provider
  std::string os_cloud;      // a cloud of a provider with clouds
  std::string bootstrapper;  // default the registry's first
  std::string balancer;      // default [LB] driver
  std::string metrics;       // default [METRICS] source, else the registry's first
  std::string flavor;        // default man_flavor
  std::string image;         // default man_image
  std::string network;
  // An LB on this host (lb_on_this_host): where it listens, "ADDR:PORT", "[V6]:PORT" or a bare
  // address for a free port; default 127.0.0.1, for the local provider only.
  std::string listen;
  std::optional<int> lb_port;   // --lb-port: the port alone
  bool allow_wildcard = false;  // --allow-wildcard: --listen may be 0.0.0.0 or ::
  // An LB in the cloud (the server balancer): the external network of its floating IP;
  // default [OPENSTACK] floating_network.
  std::string floating_network;
  // OpenStack: the policy of the cluster's server group (none, anti-affinity,
  // soft-anti-affinity); default [OPENSTACK] server_group.
  std::string server_group;
  // OpenStack: the availability zones its web servers spread over ("a,b,c"); default
  // [OPENSTACK] availability_zones.
  std::string availability_zones;
};

// Return true if the LB of balancer `name` is an nginx on this host (its address is --listen).
bool lb_on_this_host(const std::string& name);

// Return create-cluster's driver options and the DriverChoice field each sets.
const std::vector<std::pair<const char*, std::string DriverChoice::*>>& choice_options();

// Return the driver columns (provider, bootstrapper, balancer, metrics, flavor, image, network)
// of a new cluster from `choice` and the config's defaults, after checking, before anything
// is written, that the drivers exist and fit together (usage errors) and that what every
// cluster needs here can run (config errors).
core::Result<state::Cluster> new_cluster(const core::Config& config, const DriverChoice& choice);

// Owns the drivers a run may need, made from the config.
class DriverSet
{
public:
  // Return the drivers for `config`; local ones live below `state_dir`/instances, owned by the
  // state whose identity is `owner` (Store::identity).
  static core::Result<std::unique_ptr<DriverSet>>
  make(const core::Config& config, const std::string& state_dir, const std::string& owner,
       core::Clock& clock);

  // Return the drivers of `cluster` (by its provider, bootstrapper, balancer and metrics).
  core::Result<Drivers> for_cluster(const state::Cluster& cluster);

  // Return new_cluster(config, choice) with the balancer, when `choice` has none, from
  // [LB] driver; `auto` without --listen asks each balancer with `offered` (in registry order)
  // whether the cluster's cloud offers it (for OpenStack, a Keystone token: the catalog).
  core::Result<state::Cluster> new_cluster(const core::Config& config, DriverChoice choice);

  // Record in new `cluster` the cloud its provider resolves to now (name, Keystone URL and
  // project), which every later run then uses whatever OS_CLOUD says (nothing for providers
  // without clouds).
  core::Result<void> pin_cloud(state::Cluster& cluster);

  // Return what gc sweeps for orphans: every provider of the registry that `clusters` or the
  // config's default provider use.
  core::Result<std::vector<OrphanSweep>> orphan_sweeps(const std::vector<state::Cluster>& clusters);

  // Return [MANAGER] man_provider.
  const std::string& default_provider() const { return m_default_provider; }
  // Return [OPENSTACK] orphan_grace in ms.
  core::Millis openstack_grace() const { return m_openstack_grace; }

  // Return the local instance root (<state dir>/instances).
  const std::string& local_root() const { return m_local_root; }

  // Return the chef bootstrapper (made on first use: [CHEF] must be set then).
  core::Result<cm::Bootstrapper*> chef_here();
  // Return the bootstrapper of Nova servers whose own chef-client registers the node.
  core::Result<cm::Bootstrapper*> chef_remote();
  // Return the balancer that asks the Chef search for in-service web nodes.
  core::Result<lb::Balancer*> chef_search();
  // Return the balancer of an LB server (role lb on Nova) whose chef-client renders that
  // search itself; with stand-ins, sclman renders it into the LB's stand-in, as chef_search().
  core::Result<lb::Balancer*> chef_server();
  // Return the balancer of an LB server that sclman configures over SSH ([SSH]).
  lb::Balancer* ssh_push();
  // Return `inner` wrapped for an LB server configured over SSH, which serves on [OPENSTACK]
  // web_port (inner null: the LB is all it configures).
  cm::Bootstrapper* ssh_bootstrapper(cm::Bootstrapper* inner);
  // Return the Octavia drivers of the cloud of provider column `column` (the default cloud for
  // a provider without clouds), made on first use.
  core::Result<OctaviaDrivers*> octavia(const std::string& column);
  // Return true if [OCTAVIA] names a VIP subnet or network.
  bool octavia_configured() const;
  // Return `here` and `remote` wrapped for the servers of an OpenStack `column` (the web
  // servers, and the LB too when `lb_on_nova`).
  core::Result<cm::Bootstrapper*>
  openstack_bootstrapper(const std::string& column, cm::Bootstrapper& here,
                         cm::Bootstrapper* remote, bool lb_on_nova);

  std::unique_ptr<http::HttpTransport> http;
  std::unique_ptr<cloud::Provider> local_provider;
  std::unique_ptr<cm::Bootstrapper> local_bootstrapper;
  std::unique_ptr<lb::Balancer> nginx_balancer;
  std::unique_ptr<metrics::MetricsSource> stub_status;
  std::unique_ptr<metrics::MetricsSource> prometheus;  // [PROMETHEUS]
  std::unique_ptr<metrics::MetricsSource> sensu;       // Sensu Core 1.x, [SENSU]
  std::unique_ptr<metrics::MetricsSource> sensu_go;    // Sensu Go, [SENSU_GO] and [SENSU]

  // Used by clusters on OpenStack ([OPENSTACK], clouds.yaml or OS_*); authenticates lazily.
  std::unique_ptr<cloud::OpenStackDrivers> openstack;
  // Made on first use by a cluster whose bootstrapper is chef ([CHEF] must be set then).
  std::unique_ptr<cm::ChefClient> chef;
  // On this host (the local provider, an OpenStack cluster's LB and stand-ins): starts nginx too.
  std::unique_ptr<cm::Bootstrapper> chef_bootstrapper;
  // Nova servers: the VM's chef-client registers the node.
  std::unique_ptr<cm::Bootstrapper> chef_remote_bootstrapper;
  std::unique_ptr<lb::Balancer> chef_search_balancer;
  std::unique_ptr<lb::Balancer> chef_server_balancer;  // renders nothing: the LB server does

private:
  core::Result<void> make_chef();

  cm::SshConfig m_ssh_config;
  std::unique_ptr<cm::SshChannel> m_ssh_channel;
  std::unique_ptr<lb::Balancer> m_ssh_balancer;
  std::map<cm::Bootstrapper*, std::unique_ptr<cm::Bootstrapper>> m_ssh_bootstrappers;
  int m_web_port = 80;

  lb::OctaviaConfig m_octavia_config;
  std::map<std::string, std::unique_ptr<OctaviaDrivers>> m_octavia;

  std::string m_local_root;
  std::string m_default_provider;  // [MANAGER] man_provider
  core::Millis m_openstack_grace = 0;
  cm::ChefConfig m_chef_config;
  core::Clock* m_clock = nullptr;
  core::Millis m_deadline = 0;
  std::map<std::tuple<std::string, cm::Bootstrapper*, cm::Bootstrapper*, bool>,
           std::unique_ptr<cm::Bootstrapper>>
    m_openstack_bootstrappers;
};

} // namespace engine
