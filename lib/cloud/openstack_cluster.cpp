#include "cloud/openstack_cluster.hpp"

#include "core/file.hpp"
#include "local/nginx.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace cloud {

namespace fs = std::filesystem;
using core::ErrorKind;
using core::fail;

std::string role_of(const std::string& name)
{
  const auto last = name.rfind('-');
  if (last == std::string::npos || last == 0) {
    return {};
  }
  const auto before = name.rfind('-', last - 1);
  if (before == std::string::npos) {
    return {};
  }
  return name.substr(before + 1, last - before - 1);
}

core::Result<Server> OpenStackClusterProvider::create(const ServerSpec& spec)
{
  return spec.role == "lb" ? m_lb.create(spec) : m_web.create(spec);
}

core::Result<std::optional<Server>> OpenStackClusterProvider::find(const std::string& name)
{
  return role_of(name) == "lb" ? m_lb.find(name) : m_web.find(name);
}

core::Result<std::optional<Server>>
OpenStackClusterProvider::find_instance(const core::InstanceRef& instance)
{
  return instance.role == "lb" ? m_lb.find_instance(instance) : m_web.find_instance(instance);
}

core::Result<void> OpenStackClusterProvider::remove(const core::InstanceRef& instance)
{
  return instance.role == "lb" ? m_lb.remove(instance) : m_web.remove(instance);
}

core::Result<std::vector<Server>> OpenStackClusterProvider::list()
{
  return m_web.list();
}

StandInProvider::StandInProvider(Provider& nova, std::string root, std::string nginx)
  : m_nova(nova), m_root(std::move(root)), m_nginx(std::move(nginx))
{
}

core::Result<Server> StandInProvider::map(Server server)
{
  if (server.status != ServerStatus::active) {
    return server;
  }
  const fs::path dir = fs::path(m_root) / server.name;
  const auto file = dir / "stand_in.json";
  int port = 0;
  if (std::ifstream in(file); in) {
    try {
      port = nlohmann::json::parse(in).at("port").get<int>();
    } catch (const nlohmann::json::exception&) {
      port = 0;
    }
  }
  if (port == 0) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return fail(ErrorKind::state,
                  fmt::format("cannot create '{}': {}", dir.string(), ec.message()));
    }
    TRY_ASSIGN(port, local::free_port());
    const nlohmann::json j = {{"port", port}, {"nova_id", server.id},
                              {"nova_address", server.address}};
    TRY(core::write_file_atomic(file.string(), j.dump() + "\n"));
    spdlog::info("openstack.stand_in server={} nova_address={} stand_in=127.0.0.1:{}",
                 server.name, server.address, port);
  }
  server.address = fmt::format("127.0.0.1:{}", port);
  return server;
}

core::Result<Server> StandInProvider::create(const ServerSpec& spec)
{
  TRY_ASSIGN(auto server, m_nova.create(spec));
  return map(std::move(server));
}

core::Result<std::optional<Server>> StandInProvider::find(const std::string& name)
{
  TRY_ASSIGN(auto server, m_nova.find(name));
  if (!server) {
    return server;
  }
  TRY_ASSIGN(auto mapped, map(std::move(*server)));
  return std::optional<Server>{std::move(mapped)};
}

core::Result<std::optional<Server>>
StandInProvider::find_instance(const core::InstanceRef& instance)
{
  TRY_ASSIGN(auto server, m_nova.find_instance(instance));
  if (!server) {
    return server;
  }
  TRY_ASSIGN(auto mapped, map(std::move(*server)));
  return std::optional<Server>{std::move(mapped)};
}

core::Result<void> StandInProvider::remove(const core::InstanceRef& instance)
{
  TRY(m_nova.remove(instance));
  const auto dir = fs::path(m_root) / instance.name;
  TRY(local::Nginx(m_nginx, dir.string()).stop(10'000));
  std::error_code ec;
  fs::remove_all(dir, ec);
  return {};
}

core::Result<std::vector<Server>> StandInProvider::list()
{
  return m_nova.list();  // Nova's view: gc compares names, not addresses
}

OpenStackBootstrapper::OpenStackBootstrapper(Provider& web,
                                             cm::Bootstrapper& here,
                                             cm::Bootstrapper* remote,
                                             bool stand_in)
  : m_web(web), m_here(here), m_remote(remote), m_stand_in(stand_in)
{
}

cm::Bootstrapper* OpenStackBootstrapper::pick(const core::InstanceRef& instance) const
{
  if (instance.role == "lb" || m_stand_in) {
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
  auto* b = pick(instance);
  return b ? b->bootstrap(instance) : core::Result<bool>(true);
}

core::Result<bool> OpenStackBootstrapper::running(const core::InstanceRef& instance)
{
  if (instance.role != "lb") {
    TRY_ASSIGN(const auto server, m_web.find_instance(instance));
    if (!server || server->status != ServerStatus::active) {
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

} // namespace cloud

namespace cloud {

namespace {

std::vector<std::string> split_list(const std::string& text)
{
  std::vector<std::string> out;
  std::string item;
  auto flush = [&] {
    const auto b = item.find_first_not_of(' ');
    const auto e = item.find_last_not_of(' ');
    if (b != std::string::npos) {
      out.push_back(item.substr(b, e - b + 1));
    }
    item.clear();
  };
  for (const char c : text) {
    if (c == ',') {
      flush();
    } else {
      item += c;
    }
  }
  flush();
  return out;
}

} // namespace

bool is_openstack_provider(const std::string& column)
{
  return column == "openstack" || column.rfind("openstack:", 0) == 0;
}

OpenStackDrivers::OpenStackDrivers(http::HttpTransport& http,
                                   core::Clock& clock,
                                   const core::Config& config,
                                   std::string state_dir,
                                   Provider& local)
  : m_http(http), m_clock(clock), m_config(config), m_state_dir(std::move(state_dir)),
    m_local(local),
    m_deadline(core::steady_now() + core::Millis(config.manager.run_deadline) * 1000)
{
}

core::Result<OpenStackDrivers::Cloud*> OpenStackDrivers::cloud(const std::string& column)
{
  if (auto it = m_clouds.find(column); it != m_clouds.end()) {
    return &it->second;
  }
  const std::string os_cloud = column.size() > 10 ? column.substr(10) : std::string();
  const auto& oc = m_config.openstack;
  TRY_ASSIGN(auto credentials,
             openstack::resolve_credentials(oc, os_cloud, [](const char* n) {
               return std::getenv(n);
             }));
  OpenStackOptions o;
  o.credentials = std::move(credentials);
  o.networks = split_list(oc.network);
  o.key_name = oc.key_name;
  o.security_groups = split_list(oc.security_groups);
  o.web_port = oc.web_port;
  o.token_cache = oc.token_cache.empty() ? m_state_dir + "/openstack-token.json" : oc.token_cache;
  o.timeout_ms = oc.request_timeout_ms;
  o.deadline = m_deadline;
  Cloud c;
  c.nova = std::make_unique<OpenStackProvider>(m_http, m_clock, std::move(o));
  Provider* web = c.nova.get();
  if (oc.stand_in == "yes") {
    c.stand_in = std::make_unique<StandInProvider>(*c.nova, m_state_dir + "/instances",
                                                   m_config.local.nginx);
    web = c.stand_in.get();
  }
  c.cluster = std::make_unique<OpenStackClusterProvider>(m_local, *web);
  auto [it, inserted] = m_clouds.emplace(column, std::move(c));
  return &it->second;
}

core::Result<OpenStackProvider*> OpenStackDrivers::nova(const std::string& column)
{
  TRY_ASSIGN(auto* c, cloud(column));
  return c->nova.get();
}

core::Result<Provider*> OpenStackDrivers::provider(const std::string& column)
{
  TRY_ASSIGN(auto* c, cloud(column));
  return static_cast<Provider*>(c->cluster.get());
}

core::Result<cm::Bootstrapper*> OpenStackDrivers::bootstrapper(const std::string& column,
                                                              cm::Bootstrapper& here,
                                                              cm::Bootstrapper* remote)
{
  TRY_ASSIGN(auto* c, cloud(column));
  auto& slot = c->bootstrappers[{&here, remote}];
  if (!slot) {
    Provider& web = c->stand_in ? static_cast<Provider&>(*c->stand_in)
                                : static_cast<Provider&>(*c->nova);
    slot = std::make_unique<OpenStackBootstrapper>(web, here, remote, c->stand_in != nullptr);
  }
  return static_cast<cm::Bootstrapper*>(slot.get());
}

} // namespace cloud
