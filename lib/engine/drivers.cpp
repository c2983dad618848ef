#include "engine/drivers.hpp"

#include "cloud/local.hpp"
#include "cloud/openstack_config.hpp"
#include "cm/chef_config.hpp"
#include "cm/local.hpp"
#include "core/log.hpp"
#include "core/names.hpp"
#include "engine/drivers_openstack.hpp"
#include "http/curl_transport.hpp"
#include "lb/chef_search.hpp"
#include "lb/nginx.hpp"
#include "lb/ssh_push.hpp"
#include "local/instance_dir.hpp"
#include "local/nginx_config.hpp"
#include "metrics/prometheus.hpp"
#include "metrics/prometheus_config.hpp"
#include "metrics/sensu.hpp"
#include "metrics/sensu_config.hpp"
#include "serve/config.hpp"
#include "metrics/stub_status.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include <unistd.h>

namespace engine {

using core::ErrorKind;
using core::fail;
using core::Result;
using state::Cluster;

namespace {

// Return an attach function that sets `field` of Drivers from `get` (a DriverSet member).
template <class T, class Get>
auto attach_with(T* Drivers::*field, Get get)
{
  return [field, get](DriverSet& set, const Cluster&, Drivers& d) -> Result<void> {
    TRY_ASSIGN(d.*field, get(set));
    return {};
  };
}

template <class T>
auto attach_member(T* Drivers::*field, std::unique_ptr<T> DriverSet::*member)
{
  return attach_with(field, [member](DriverSet& set) -> Result<T*> {
    return (set.*member).get();
  });
}

template <class T, class U>
auto attach_owned(T* Drivers::*field, std::unique_ptr<U> DriverSet::*member)
{
  return attach_with(field, [member](DriverSet& set) -> Result<T*> {
    return static_cast<T*>((set.*member).get());
  });
}

// Return what cluster `c` recorded of its cloud.
cloud::CloudPin pin_of(const Cluster& c)
{
  return cloud::CloudPin{c.provider, c.cloud_auth_url, c.cloud_project};
}

Result<void> attach_openstack(DriverSet& set, const Cluster& c, Drivers& d)
{
  TRY(set.openstack->check_pin(c.name, pin_of(c)));
  // The LB runs here (nginx or chef-search: configured as on the local provider) or, with the
  // server balancer, is a Nova server like the web servers.
  const bool lb_on_nova = c.balancer == "server";
  if (lb_on_nova) {
    TRY_ASSIGN(d.provider, set.openstack->web(c.provider));
  } else {
    TRY_ASSIGN(d.provider, set.openstack->provider(c.provider));
  }
  // A Nova server is configured by its own chef-client (the user data), or by its image alone;
  // a stand-in is configured here.
  cm::Bootstrapper* remote = nullptr;
  cm::Bootstrapper* here = d.bootstrapper;
  if (c.bootstrapper == "chef") {
    TRY_ASSIGN(remote, set.chef_remote());
  } else if (lb_on_nova) {
    // An image-only LB server: sclman pushes its upstream list over SSH.
    remote = set.ssh_bootstrapper(nullptr);
    here = set.ssh_bootstrapper(here);
  }
  TRY_ASSIGN(d.bootstrapper, set.openstack_bootstrapper(c.provider, *here, remote, lb_on_nova));
  return {};
}

Result<void> sweep_local(DriverSet& set, const std::vector<Cluster>&,
                         std::vector<OrphanSweep>& out)
{
  out.push_back(OrphanSweep{set.local_provider.get(), 0, false});
  return {};
}

Result<void> sweep_openstack(DriverSet& set, const std::vector<Cluster>& clusters,
                             std::vector<OrphanSweep>& out)
{
  const auto grace = set.openstack_grace();
  std::set<std::string> columns;
  for (const auto& c : clusters) {
    if (cloud::is_openstack_provider(c.provider)) {
      // A cluster whose cloud is gone or changed stops gc here: its orphans cannot be told.
      TRY(set.openstack->check_pin(c.name, pin_of(c)));
      columns.insert(c.provider);
    }
  }
  if (set.default_provider() == "openstack") {
    columns.insert("openstack");
  }
  for (const auto& column : columns) {
    TRY_ASSIGN(auto* nova, set.openstack->nova(column));
    out.push_back(OrphanSweep{nova, grace, true});
  }
  return {};
}

// Return the provider column of the cloud whose Octavia serves cluster `c`: its own cloud on
// OpenStack, else the default one.
std::string octavia_column(const Cluster& c)
{
  return cloud::is_openstack_provider(c.provider) ? c.provider : std::string("openstack");
}

Result<void> attach_octavia(DriverSet& set, const Cluster& c, Drivers& d)
{
  TRY_ASSIGN(auto* o, set.octavia(octavia_column(c)));
  d.balancer = o->balancer.get();
  return {};
}

// The LB instance is the Octavia load balancer: its provider and bootstrapper are Octavia's,
// the web instances keep the cluster's.
Result<void> wrap_octavia(DriverSet& set, const Cluster& c, Drivers& d)
{
  TRY_ASSIGN(auto* o, set.octavia(octavia_column(c)));
  auto& slot = o->wrapped[{d.provider, d.bootstrapper}];
  if (!slot.first) {
    slot.first = std::make_unique<cloud::OpenStackClusterProvider>(*o->lbs, *d.provider);
    slot.second = std::make_unique<OctaviaBootstrapper>(*d.bootstrapper, *o->client, *o->balancer);
  }
  d.provider = slot.first.get();
  d.bootstrapper = slot.second.get();
  return {};
}

Result<void> octavia_ready(const core::Config& config)
{
  const auto& o = config.section<lb::OctaviaConfig>();
  if (o.vip_subnet_id.empty() && o.vip_network_id.empty()) {
    return fail(ErrorKind::config,
                "the octavia balancer needs [OCTAVIA] vip_subnet_id or vip_network_id");
  }
  return {};
}

// [LB] driver = auto: Octavia for a cluster on OpenStack whose catalog has load-balancer.
Result<bool> octavia_offered(DriverSet& set, const std::string& provider_column)
{
  if (!cloud::is_openstack_provider(provider_column)) {
    return false;
  }
  TRY_ASSIGN(auto* nova, set.openstack->nova(provider_column));
  return nova->offers("load-balancer");
}

// gc: the load balancers tagged `sclman` of every cloud a cluster's Octavia is on, or of the
// default cloud when [OCTAVIA] is configured.
Result<void> sweep_octavia(DriverSet& set, const std::vector<Cluster>& clusters,
                           std::vector<OrphanSweep>& out)
{
  std::set<std::string> columns;
  for (const auto& c : clusters) {
    if (c.balancer == "octavia") {
      columns.insert(octavia_column(c));
    }
  }
  if (set.octavia_configured()) {
    columns.insert("openstack");
  }
  for (const auto& column : columns) {
    TRY_ASSIGN(auto* o, set.octavia(column));
    out.push_back(OrphanSweep{o->lbs.get(), set.openstack_grace(), true});
  }
  return {};
}

// The LB server's balancer: its own chef-client's Chef search, or sclman's push over SSH.
Result<void> attach_server(DriverSet& set, const Cluster& c, Drivers& d)
{
  if (c.bootstrapper == "chef") {
    TRY_ASSIGN(d.balancer, set.chef_server());
  } else {
    d.balancer = set.ssh_push();
  }
  return {};
}

std::vector<DriverRow> make_registry()
{
  using K = DriverKind;
  std::vector<DriverRow> rows;
  auto add = [&rows](DriverRow row) { rows.push_back(std::move(row)); };
  add({K::provider, "local", {"LOCAL"}, "nginx processes on 127.0.0.1", "", "", false,
       attach_owned(&Drivers::provider, &DriverSet::local_provider), sweep_local,
       nullptr, nullptr, nullptr, ""});
  add({K::provider, "openstack", {"OPENSTACK"}, "Nova servers", "", "", true,
       attach_openstack, sweep_openstack, nullptr, nullptr, nullptr, ""});
  add({K::bootstrapper, "local", {"LOCAL"}, "starts nginx on the instance", "", "", false,
       attach_owned(&Drivers::bootstrapper, &DriverSet::local_bootstrapper),
       nullptr, nullptr, nullptr, nullptr, ""});
  add({K::bootstrapper, "chef", {"CHEF"}, "a Chef environment, client and node", "", "", false,
       attach_with(&Drivers::bootstrapper, [](DriverSet& s) { return s.chef_here(); }),
       nullptr, nullptr, nullptr, nullptr, ""});
  add({K::balancer, "nginx", {"LOCAL"}, "renders the upstream list", "", "", false,
       attach_owned(&Drivers::balancer, &DriverSet::nginx_balancer),
       nullptr, nullptr, nullptr, nullptr, ""});
  add({K::balancer, "chef-search", {"CHEF"}, "the Chef search for in-service web nodes", "chef",
       "membership is a Chef node attribute", false,
       attach_with(&Drivers::balancer, [](DriverSet& s) { return s.chef_search(); }),
       nullptr, nullptr, nullptr, nullptr, ""});
  add({K::balancer, "octavia", {"OCTAVIA", "OPENSTACK"},
       "an Octavia load balancer (OpenStack's cloud of the cluster, else the default one)", "",
       "", false, attach_octavia, sweep_octavia, wrap_octavia, octavia_ready, octavia_offered, ""});
  // The LB server is a Nova server of the cluster (gc sweeps it with the web servers).
  add({K::balancer, "server", {"OPENSTACK", "CHEF", "SSH"},
       "a Nova server of role lb: with chef, its chef-client renders the Chef search; else "
       "sclman pushes its upstream list over SSH (OpenStack)",
       "", "", false, attach_server, nullptr, nullptr, nullptr, nullptr, "openstack"});
  add({K::metrics, "stub_status", {"LOCAL", "METRICS"}, "each web nginx's request rate", "", "",
       false, attach_member(&Drivers::metrics, &DriverSet::stub_status),
       nullptr, nullptr, nullptr, nullptr, ""});
  add({K::metrics, "prometheus", {"PROMETHEUS"}, "one PromQL query", "", "", false,
       attach_member(&Drivers::metrics, &DriverSet::prometheus),
       nullptr, nullptr, nullptr, nullptr, ""});
  add({K::metrics, "sensu", {"SENSU"}, "Sensu Core 1.x check results", "", "", false,
       attach_member(&Drivers::metrics, &DriverSet::sensu), nullptr, nullptr, nullptr, nullptr,
       ""});
  add({K::metrics, "sensu_go", {"SENSU", "SENSU_GO"}, "Sensu Go entities or events", "", "",
       false, attach_member(&Drivers::metrics, &DriverSet::sensu_go),
       nullptr, nullptr, nullptr, nullptr, ""});
  return rows;
}

} // namespace

const std::vector<DriverRow>& registry()
{
  static const std::vector<DriverRow> rows = make_registry();
  return rows;
}

const DriverRow* find_driver(DriverKind kind, const std::string& column)
{
  for (const auto& row : registry()) {
    if (row.kind == kind
        && (column == row.name || (row.clouds && column.rfind(row.name + ":", 0) == 0))) {
      return &row;
    }
  }
  return nullptr;
}

std::vector<std::string> driver_names(DriverKind kind)
{
  std::vector<std::string> names;
  for (const auto& row : registry()) {
    if (row.kind == kind) {
      names.push_back(row.name);
    }
  }
  return names;
}

std::string or_default(DriverKind kind, const std::string& name)
{
  return name.empty() ? driver_names(kind).front() : name;
}

std::string driver_choices(DriverKind kind)
{
  const auto names = driver_names(kind);
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    text += i == 0 ? "" : (i + 1 == names.size() ? " or " : ", ");
    text += names[i];
  }
  return text;
}

const char* kind_word(DriverKind kind)
{
  switch (kind) {
  case DriverKind::provider:
    return "provider";
  case DriverKind::bootstrapper:
    return "bootstrapper";
  case DriverKind::balancer:
    return "balancer";
  case DriverKind::metrics:
    return "metrics source";
  }
  return "driver";
}

std::string option_help(const std::string& option)
{
  using K = DriverKind;
  if (option == "--provider") {
    return "Where instances run (default: man_provider)";
  }
  if (option == "--bootstrapper") {
    return fmt::format("What configures instances: {} (default: {})",
                       driver_choices(K::bootstrapper), or_default(K::bootstrapper, ""));
  }
  if (option == "--balancer") {
    return fmt::format("The load balancer: {} (default: [LB] driver; auto: octavia where "
                       "the cloud offers it, else {})",
                       driver_choices(K::balancer), or_default(K::balancer, ""));
  }
  if (option == "--metrics") {
    return fmt::format("Where load comes from: {} (default: [METRICS] source)",
                       driver_choices(K::metrics));
  }
  if (option == "--os-cloud") {
    return "OpenStack: the clouds.yaml cloud (default: OS_CLOUD, OS_*, [OPENSTACK])";
  }
  if (option == "--flavor") {
    return "OpenStack: flavor name or id (default: man_flavor)";
  }
  if (option == "--image") {
    return "OpenStack: image name or id (default: man_image)";
  }
  if (option == "--network") {
    return "OpenStack: network name or id (default: [OPENSTACK] network)";
  }
  if (option == "--listen") {
    return "LB on this host: ADDR:PORT it listens on (default: 127.0.0.1, local provider only)";
  }
  if (option == "--server-group") {
    return "OpenStack: none, anti-affinity or soft-anti-affinity: a Nova server group for the "
           "cluster's servers (default: [OPENSTACK] server_group)";
  }
  if (option == "--availability-zones") {
    return "OpenStack: Z1,Z2,...: availability zones its web servers spread over evenly "
           "(default: [OPENSTACK] availability_zones)";
  }
  if (option == "--floating-network") {
    return "LB server or Octavia: the external network of its floating IP, the cluster's "
           "public address (default: [OPENSTACK] floating_network)";
  }
  return {};
}

const std::vector<std::pair<const char*, std::string DriverChoice::*>>& choice_options()
{
  using C = DriverChoice;
  static const std::vector<std::pair<const char*, std::string C::*>> options = {
    {"--provider", &C::provider}, {"--bootstrapper", &C::bootstrapper},
    {"--balancer", &C::balancer}, {"--metrics", &C::metrics},
    {"--os-cloud", &C::os_cloud}, {"--flavor", &C::flavor},
    {"--image", &C::image},       {"--network", &C::network},
    {"--listen", &C::listen},     {"--floating-network", &C::floating_network},
    {"--server-group", &C::server_group}, {"--availability-zones", &C::availability_zones},
  };
  return options;
}

core::Result<void> retire_cluster(const Drivers& drivers, const std::string& cluster)
{
  TRY(drivers.bootstrapper->retire_cluster(cluster));
  return drivers.provider->retire_cluster(cluster);
}

bool lb_on_this_host(const std::string& name)
{
  return name == "nginx" || name == "chef-search";
}

namespace {

// Set the address and port `cluster`'s LB listens on from create-cluster's --listen, --lb-port
// and --allow-wildcard. 127.0.0.1, the default, is reached from this host alone: only the local
// provider's clusters, all on this host, get it without asking.
Result<void> set_listen(const DriverChoice& choice, const std::string& provider, Cluster& c)
{
  c.lb_port = choice.lb_port;
  if (choice.listen.empty()) {
    if (choice.allow_wildcard) {
      return fail(ErrorKind::usage, "--allow-wildcard needs --listen");
    }
    if (provider != "local" && lb_on_this_host(c.balancer)) {
      return fail(ErrorKind::usage,
                  fmt::format("the LB of a cluster on {} is an nginx on this host (--balancer "
                              "{}): --listen ADDR:PORT says where clients reach it "
                              "(127.0.0.1:PORT for this host alone)",
                              provider, c.balancer));
    }
    return {};
  }
  if (!lb_on_this_host(c.balancer)) {
    return fail(ErrorKind::usage, fmt::format("--listen is for an LB on this host, not "
                                              "--balancer {}", c.balancer));
  }
  std::optional<int> port;
  std::optional<core::IpAddress> ip;
  if (auto endpoint = core::Endpoint::parse(choice.listen)) {
    ip = endpoint->address();
    port = endpoint->port();
  } else if (auto bare = core::IpAddress::parse(choice.listen)) {
    ip = *bare;
  } else {
    return fail(ErrorKind::usage, fmt::format("--listen: {} (ADDR:PORT, [V6]:PORT or ADDR)",
                                              endpoint.error().message));
  }
  if (port && choice.lb_port) {
    return fail(ErrorKind::usage, "--listen ADDR:PORT and --lb-port both give the port");
  }
  if (ip->is_any() && !choice.allow_wildcard) {
    return fail(ErrorKind::usage,
                fmt::format("--listen {} is every address of this host: add --allow-wildcard "
                            "if that is meant",
                            ip->to_string()));
  }
  c.lb_listen = ip;
  if (port) {
    c.lb_port = port;
  }
  return {};
}

// Return the provider `choice` names, else [MANAGER] man_provider.
std::string provider_of(const core::Config& config, const DriverChoice& choice)
{
  return choice.provider.empty() ? config.manager.provider : choice.provider;
}

// Return the provider column of a new cluster: PROVIDER, or PROVIDER:CLOUD with --os-cloud.
std::string provider_column(const core::Config& config, const DriverChoice& choice)
{
  const auto provider = provider_of(config, choice);
  return choice.os_cloud.empty() ? provider : provider + ":" + choice.os_cloud;
}

} // namespace

Result<Cluster> new_cluster(const core::Config& config, const DriverChoice& choice)
{
  const auto& os_cloud = choice.os_cloud;
  const auto provider = provider_of(config, choice);
  const auto metrics = or_default(DriverKind::metrics,
                                  choice.metrics.empty() ? config.metrics.source : choice.metrics);
  const auto bootstrapper = or_default(DriverKind::bootstrapper, choice.bootstrapper);
  const auto& lb_driver = config.section<LbConfig>().driver;
  const auto balancer = or_default(DriverKind::balancer,
                                   !choice.balancer.empty() ? choice.balancer
                                   : lb_driver == "auto"    ? std::string()
                                                            : lb_driver);
  auto unknown = [](DriverKind kind, const std::string& name) {
    return fail(ErrorKind::usage, fmt::format("unknown {} '{}' ({})", kind_word(kind), name,
                                              driver_choices(kind)));
  };
  auto exact = [](DriverKind kind, const std::string& name) {
    const auto* row = find_driver(kind, name);
    return row && row->name == name ? row : nullptr;
  };
  const auto* p = exact(DriverKind::provider, provider);
  if (!p) {
    return unknown(DriverKind::provider, provider);
  }
  if (!os_cloud.empty() && !p->clouds) {
    std::string with;
    for (const auto& row : registry()) {
      if (row.kind == DriverKind::provider && row.clouds) {
        with += (with.empty() ? "" : " or ") + row.name;
      }
    }
    return fail(ErrorKind::usage, fmt::format("--os-cloud needs --provider {}", with));
  }
  if (!exact(DriverKind::metrics, metrics)) {
    return unknown(DriverKind::metrics, metrics);
  }
  if (!exact(DriverKind::bootstrapper, bootstrapper)) {
    return unknown(DriverKind::bootstrapper, bootstrapper);
  }
  const auto* b = exact(DriverKind::balancer, balancer);
  if (!b) {
    return unknown(DriverKind::balancer, balancer);
  }
  if (!b->needs_bootstrapper.empty() && b->needs_bootstrapper != bootstrapper) {
    return fail(ErrorKind::usage, fmt::format("--balancer {} needs --bootstrapper {} ({})",
                                              balancer, b->needs_bootstrapper, b->needs_why));
  }
  if (!b->needs_provider.empty() && b->needs_provider != p->name) {
    return fail(ErrorKind::usage, fmt::format("--balancer {} needs --provider {} (its LB is a "
                                              "server of that provider)",
                                              balancer, b->needs_provider));
  }
  for (const auto* row : {p, b}) {
    if (row->ready) {
      TRY(row->ready(config));
    }
  }
  // Every cluster's web instances (and LB, unless Octavia's) are local nginx processes or
  // their stand-ins, whatever its provider.
  const auto& nginx = config.section<local::NginxConfig>().nginx;
  if (access(nginx.c_str(), X_OK) != 0) {
    return fail(ErrorKind::config, fmt::format("cannot run nginx '{}' ([LOCAL] nginx)", nginx));
  }
  Cluster c;
  // The cloud is part of the provider column, so every later run uses the same one.
  c.provider = provider_column(config, choice);
  c.bootstrapper = bootstrapper;
  c.balancer = balancer;
  c.metrics = metrics;
  c.flavor = choice.flavor.empty() ? config.manager.flavor : choice.flavor;
  c.image = choice.image.empty() ? config.manager.image : choice.image;
  c.network = choice.network;
  TRY(set_listen(choice, p->name, c));
  // A floating IP is given to a port in the cloud: the LB server's, or the Octavia VIP's.
  if (!choice.floating_network.empty() && balancer != "server" && balancer != "octavia") {
    return fail(ErrorKind::usage, fmt::format("--floating-network is for --balancer server or "
                                              "octavia (an LB in the cloud), not --balancer {}",
                                              balancer));
  }
  // A Nova server group for the cluster's servers.
  const auto& group = !choice.server_group.empty()
                        ? choice.server_group
                        : config.section<cloud::OpenStackConfig>().server_group;
  if (group != "none" && group != "anti-affinity" && group != "soft-anti-affinity") {
    return fail(ErrorKind::usage, fmt::format("--server-group '{}': none, anti-affinity or "
                                              "soft-anti-affinity",
                                              core::printable(group, 40)));
  }
  if (group != "none") {
    if (p->name != "openstack") {
      if (!choice.server_group.empty()) {
        return fail(ErrorKind::usage, "--server-group is for --provider openstack");
      }
    } else {
      c.server_group = group;
    }
  }
  // The availability zones its web servers spread over.
  if (!choice.availability_zones.empty()) {
    if (p->name != "openstack") {
      return fail(ErrorKind::usage, "--availability-zones is for --provider openstack");
    }
    TRY_ASSIGN(c.availability_zones, core::parse_zone_list(choice.availability_zones));
    if (c.availability_zones.empty()) {
      return fail(ErrorKind::usage, "--availability-zones: no zone given");
    }
  } else if (p->name == "openstack") {
    c.availability_zones = config.section<cloud::OpenStackConfig>().availability_zones;
  }
  if (balancer == "server" || balancer == "octavia") {
    c.floating_network = !choice.floating_network.empty()
                           ? choice.floating_network
                           : config.section<cloud::OpenStackConfig>().floating_network;
    if (!core::is_printable(c.floating_network, 255)) {
      return fail(ErrorKind::usage, fmt::format("--floating-network '{}': not a network name "
                                                "or id",
                                                core::printable(c.floating_network, 40)));
    }
  }
  return c;
}

const std::vector<DriverSection>& driver_sections()
{
  static const std::vector<DriverSection> sections = {
    {"LOCAL", local::nginx_keys},
    {"PROMETHEUS", metrics::prometheus_keys},
    {"SENSU", metrics::sensu_keys},
    {"SENSU_GO", metrics::sensu_go_keys},
    {"OPENSTACK", cloud::openstack_keys},
    {"CHEF", cm::chef_keys},
    {"OCTAVIA", lb::octavia_keys},
    {"SSH", cm::ssh_keys},
    {"SERVE", serve::serve_keys},
  };
  return sections;
}

Result<std::unique_ptr<DriverSet>>
DriverSet::make(const core::Config& config, const std::string& state_dir,
                const std::string& owner, core::Clock& clock)
{
  const auto& nginx = config.section<local::NginxConfig>().nginx;
  const auto& sensu = config.section<metrics::SensuConfig>();
  auto set = std::make_unique<DriverSet>();
  TRY_ASSIGN(set->m_local_root, local::instances_root(config.local.instances_dir, state_dir));
  set->http = std::make_unique<http::CurlTransport>(
    http::TlsOptions{config.tls.ca_bundle, config.tls.insecure == "yes", {}, {}});
  set->local_provider =
    std::make_unique<cloud::LocalProvider>(set->m_local_root, nginx, owner, clock);
  set->local_bootstrapper = std::make_unique<cm::LocalBootstrapper>(
    set->m_local_root, nginx, config.local.worker_connections, clock);
  set->nginx_balancer = std::make_unique<lb::NginxBalancer>(set->m_local_root, nginx, clock);
  // Sends nothing until a cluster on OpenStack asks for its drivers.
  set->openstack = std::make_unique<cloud::OpenStackDrivers>(*set->http, clock, config, state_dir,
                                                             *set->local_provider);
  set->stub_status = std::make_unique<metrics::StubStatusSource>(
    *set->http, clock, config.local.health_timeout_ms, config.metrics.parallel);
  // Making a source sends nothing: the ones no cluster uses cost nothing.
  set->prometheus = std::make_unique<metrics::PrometheusSource>(
    *set->http, config.section<metrics::PrometheusConfig>());
  set->sensu = std::make_unique<metrics::SensuSource>(*set->http, sensu);
  set->sensu_go = std::make_unique<metrics::SensuGoSource>(
    *set->http, sensu, config.section<metrics::SensuGoConfig>());
  set->m_chef_config = config.section<cm::ChefConfig>();
  set->m_chef_config.perms = config.perms;
  set->m_default_provider = config.manager.provider;
  set->m_openstack_grace =
    core::Millis(config.section<cloud::OpenStackConfig>().orphan_grace) * 1000;
  set->m_octavia_config = config.section<lb::OctaviaConfig>();
  set->m_ssh_config = config.section<cm::SshConfig>();
  set->m_web_port = config.section<cloud::OpenStackConfig>().web_port;
  set->m_clock = &clock;
  set->m_deadline = core::steady_now() + core::Millis(config.manager.run_deadline) * 1000;
  return set;
}

Result<void> DriverSet::make_chef()
{
  if (chef) {
    return {};
  }
  const auto& c = m_chef_config;
  if (c.server_url.empty() || c.client_name.empty() || c.client_key.empty()) {
    return fail(ErrorKind::config,
                "the chef bootstrapper needs [CHEF] server_url, client_name and client_key");
  }
  TRY_ASSIGN(auto key, cm::ChefKey::from_file(c.client_key, c.perms));
  TRY_ASSIGN(auto settings, cm::chef_settings(c));
  cm::ChefServerOptions o;
  o.url = c.server_url;
  o.user_id = c.client_name;
  o.version = cm::parse_sign_version(c.sign_version).value_or(cm::ChefSignVersion::v1_3);
  o.timeout_ms = c.request_timeout_ms;
  o.deadline = m_deadline;
  chef = std::make_unique<cm::ChefClient>(*http, *m_clock, std::move(key), o);
  chef_remote_bootstrapper = std::make_unique<cm::ChefBootstrapper>(*chef, *m_clock, settings,
                                                                    nullptr);
  auto bootstrapper = std::make_unique<cm::ChefBootstrapper>(*chef, *m_clock, std::move(settings),
                                                             local_bootstrapper.get());
  chef_search_balancer = std::make_unique<lb::ChefSearchBalancer>(*chef, bootstrapper->web_role(),
                                                                  nginx_balancer.get());
  chef_server_balancer = std::make_unique<lb::ChefSearchBalancer>(*chef, bootstrapper->web_role(),
                                                                  nullptr);
  chef_bootstrapper = std::move(bootstrapper);
  return {};
}

Result<cm::Bootstrapper*> DriverSet::chef_here()
{
  TRY(make_chef());
  return chef_bootstrapper.get();
}

Result<cm::Bootstrapper*> DriverSet::chef_remote()
{
  TRY(make_chef());
  return chef_remote_bootstrapper.get();
}

Result<lb::Balancer*> DriverSet::chef_search()
{
  TRY(make_chef());
  return chef_search_balancer.get();
}

Result<lb::Balancer*> DriverSet::chef_server()
{
  TRY(make_chef());
  // A stand-in runs nothing of its own: sclman does what the LB server's chef-client would.
  return openstack->stand_in() ? chef_search_balancer.get() : chef_server_balancer.get();
}

lb::Balancer* DriverSet::ssh_push()
{
  if (!m_ssh_balancer) {
    m_ssh_channel = std::make_unique<cm::SshChannel>(m_ssh_config, m_local_root);
    m_ssh_balancer = std::make_unique<lb::SshPushBalancer>(*m_ssh_channel);
  }
  return m_ssh_balancer.get();
}

cm::Bootstrapper* DriverSet::ssh_bootstrapper(cm::Bootstrapper* inner)
{
  ssh_push();
  auto& slot = m_ssh_bootstrappers[inner];
  if (!slot) {
    slot = std::make_unique<cm::SshLbBootstrapper>(*m_ssh_channel, inner, m_web_port);
  }
  return slot.get();
}

bool DriverSet::octavia_configured() const
{
  return !m_octavia_config.vip_subnet_id.empty() || !m_octavia_config.vip_network_id.empty();
}

Result<OctaviaDrivers*> DriverSet::octavia(const std::string& column)
{
  auto& slot = m_octavia[column];
  if (!slot) {
    TRY_ASSIGN(auto* nova, openstack->nova(column));
    auto o = std::make_unique<OctaviaDrivers>();
    o->client = std::make_unique<lb::OctaviaClient>(
      [nova](const lb::octavia::Call& c) {
        return nova->call({c.method, "load-balancer", c.path, c.body, c.retry});
      },
      *m_clock, m_octavia_config, m_deadline);
    o->balancer = std::make_unique<lb::OctaviaBalancer>(*o->client);
    o->lbs = std::make_unique<OctaviaLbProvider>(*o->client, *nova);
    slot = std::move(o);
  }
  return slot.get();
}

Result<cm::Bootstrapper*> DriverSet::openstack_bootstrapper(const std::string& column,
                                                            cm::Bootstrapper& here,
                                                            cm::Bootstrapper* remote,
                                                            bool lb_on_nova)
{
  TRY_ASSIGN(auto* web, openstack->web(column));
  auto& slot = m_openstack_bootstrappers[{column, &here, remote, lb_on_nova}];
  if (!slot) {
    slot = std::make_unique<OpenStackBootstrapper>(*web, here, remote, openstack->stand_in(),
                                                   lb_on_nova);
  }
  return slot.get();
}

Result<Cluster> DriverSet::new_cluster(const core::Config& config, DriverChoice choice)
{
  // --listen is where an LB on this host listens: auto then means the registry's first.
  if (choice.balancer.empty() && choice.listen.empty()
      && config.section<LbConfig>().driver == "auto") {
    const auto provider = provider_of(config, choice);
    const auto column = provider_column(config, choice);
    for (const auto& row : registry()) {
      if (row.kind != DriverKind::balancer || !row.offered) {
        continue;
      }
      TRY_ASSIGN(const bool offered, row.offered(*this, column));
      if (!offered) {
        continue;
      }
      spdlog::info("create_cluster.balancer_auto provider={} balancer={}", column, row.name);
      if (row.ready) {
        if (auto ready = row.ready(config); !ready) {
          auto e = ready.error();
          e.message += fmt::format(" ([LB] driver = auto chose {}, which {}'s cloud offers; "
                                   "--balancer or [LB] driver chooses another)",
                                   row.name, provider);
          return tl::make_unexpected(e);
        }
      }
      choice.balancer = row.name;
      break;
    }
  }
  return engine::new_cluster(config, choice);
}

Result<void> DriverSet::pin_cloud(Cluster& c)
{
  if (!cloud::is_openstack_provider(c.provider)) {
    return {};
  }
  TRY_ASSIGN(const auto pin, openstack->pin(c.provider));
  c.provider = pin.column;
  c.cloud_auth_url = pin.auth_url;
  c.cloud_project = pin.project;
  return {};
}

Result<std::vector<OrphanSweep>> DriverSet::orphan_sweeps(const std::vector<Cluster>& clusters)
{
  std::vector<OrphanSweep> out;
  for (const auto& row : registry()) {
    if (row.sweeps) {
      TRY(row.sweeps(*this, clusters, out));
    }
  }
  return out;
}

Result<Drivers> DriverSet::for_cluster(const Cluster& c)
{
  const std::pair<DriverKind, const std::string*> columns[] = {
    {DriverKind::provider, &c.provider},
    {DriverKind::bootstrapper, &c.bootstrapper},
    {DriverKind::balancer, &c.balancer},
    {DriverKind::metrics, &c.metrics},
  };
  const DriverRow* rows[4] = {};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto [kind, column] = columns[i];
    rows[i] = find_driver(kind, *column);
    if (rows[i] && !rows[i]->needs_bootstrapper.empty()
        && rows[i]->needs_bootstrapper != c.bootstrapper) {
      rows[i] = nullptr;
    }
    if (!rows[i]) {
      return fail(ErrorKind::config, fmt::format("unknown {} '{}' for cluster '{}'",
                                                 kind_word(kind), *column, c.name));
    }
  }
  Drivers d;
  d.http = http.get();
  // The provider last: it may wrap the bootstrapper.
  const std::size_t order[] = {1, 2, 3, 0};
  for (const auto i : order) {
    TRY(rows[i]->attach(*this, c, d));
  }
  for (const auto* row : rows) {
    if (row->wrap) {
      TRY(row->wrap(*this, c, d));
    }
  }
  return d;
}

} // namespace engine

namespace core {

std::vector<KeyDef> driver_keys()
{
  using engine::DriverKind;
  // The keys of core's sections whose values name drivers.
  std::vector<KeyDef> keys = {
    {"MANAGER", "man_provider",
     one_of(&ManagerConfig::provider, engine::driver_names(DriverKind::provider))},
    {"METRICS", "source",
     one_of(&MetricsConfig::source, engine::driver_names(DriverKind::metrics))},
    {"LB", "driver", one_of(&engine::LbConfig::driver, [] {
       auto names = engine::driver_names(DriverKind::balancer);
       names.insert(names.begin(), "auto");
       return names;
     }())},
  };
  for (const auto& section : engine::driver_sections()) {
    for (auto& key : section.keys()) {
      keys.push_back(std::move(key));
    }
  }
  return keys;
}

} // namespace core
