#include "cloud/openstack_cluster.hpp"

#include "core/file.hpp"
#include "core/log.hpp"
#include "http/curl_transport.hpp"
#include "local/instance_dir.hpp"
#include "local/nginx.hpp"
#include "local/nginx_config.hpp"

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

std::optional<core::Role> role_of(const std::string& name)
{
  const auto last = name.rfind('-');
  if (last == std::string::npos || last == 0) {
    return std::nullopt;
  }
  const auto before = name.rfind('-', last - 1);
  if (before == std::string::npos) {
    return std::nullopt;
  }
  return core::parse_role(std::string_view(name).substr(before + 1, last - before - 1));
}

core::Result<Server> OpenStackClusterProvider::create(const ServerSpec& spec)
{
  return spec.role == core::Role::lb ? m_lb.create(spec) : m_web.create(spec);
}

core::Result<std::optional<Server>> OpenStackClusterProvider::find(const std::string& name)
{
  return role_of(name) == core::Role::lb ? m_lb.find(name) : m_web.find(name);
}

core::Result<std::optional<Server>>
OpenStackClusterProvider::find_instance(const core::InstanceRef& instance)
{
  return instance.role == core::Role::lb ? m_lb.find_instance(instance) : m_web.find_instance(instance);
}

core::Result<void> OpenStackClusterProvider::remove(const core::InstanceRef& instance)
{
  return instance.role == core::Role::lb ? m_lb.remove(instance) : m_web.remove(instance);
}

core::Result<std::vector<Server>> OpenStackClusterProvider::list()
{
  return m_web.list();
}

core::Result<std::optional<core::IpAddress>>
OpenStackClusterProvider::public_address(const core::InstanceRef& instance,
                                         const std::string& network)
{
  return instance.role == core::Role::lb ? m_lb.public_address(instance, network)
                                         : m_web.public_address(instance, network);
}

core::Result<void> OpenStackClusterProvider::retire_cluster(const std::string& cluster)
{
  return m_web.retire_cluster(cluster);
}

StandInProvider::StandInProvider(Provider& nova, std::string root, std::string nginx,
                                 core::Clock& clock)
  : m_nova(nova), m_root(std::move(root)), m_nginx(std::move(nginx)), m_clock(clock)
{
}

core::Result<Server> StandInProvider::map(Server server)
{
  if (server.status != ServerStatus::active) {
    return server;
  }
  TRY_ASSIGN(const fs::path dir, local::instance_dir(m_root, server.name));
  const auto file = dir / "stand_in.json";
  std::optional<core::Endpoint> stand_in;
  if (std::ifstream in(file); in) {
    try {
      auto recorded = local::recorded_endpoint(nlohmann::json::parse(in).at("port"),
                                               file.string());
      if (recorded) {
        stand_in = *recorded;
      } else {
        spdlog::warn("openstack.stand_in_bad server={} error={}", server.name,
                     core::log_quote(recorded.error().message));
      }
    } catch (const nlohmann::json::exception&) {
      stand_in.reset();  // unreadable: a new port is recorded
    }
  }
  if (!stand_in) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return fail(ErrorKind::state,
                  fmt::format("cannot create '{}': {}", dir.string(), ec.message()));
    }
    TRY_ASSIGN(const int port, local::free_port());
    const auto nova_address = address_text(server);
    const nlohmann::json j = {{"port", port}, {"nova_id", server.id},
                              {"nova_address", nova_address}};
    TRY(core::write_file_atomic(file.string(), j.dump() + "\n"));
    spdlog::info("openstack.stand_in server={} nova_address={} stand_in=127.0.0.1:{}",
                 server.name, nova_address, port);
    TRY_ASSIGN(stand_in, local::recorded_endpoint(port, file.string()));
  }
  server.address = stand_in;
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
  TRY_ASSIGN(const auto dir, local::instance_dir(m_root, instance.name));
  TRY(local::Nginx(m_nginx, dir, m_clock).stop(10'000));
  std::error_code ec;
  fs::remove_all(dir, ec);
  return {};
}

core::Result<std::vector<Server>> StandInProvider::list()
{
  return m_nova.list();  // Nova's view: gc compares names, not addresses
}

core::Result<std::optional<core::IpAddress>>
StandInProvider::public_address(const core::InstanceRef& instance, const std::string& network)
{
  return m_nova.public_address(instance, network);
}

core::Result<void> StandInProvider::retire_cluster(const std::string& cluster)
{
  return m_nova.retire_cluster(cluster);
}


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
  const auto& oc = m_config.section<OpenStackConfig>();
  TRY_ASSIGN(auto credentials,
             openstack::resolve_credentials(
               oc, os_cloud, [](const char* n) { return std::getenv(n); }, m_config.perms));
  Cloud c;
  if (!credentials.cacert.empty() || credentials.verify || !credentials.cert.empty()
      || !credentials.key.empty()) {
    http::TlsOptions tls{m_config.tls.ca_bundle, m_config.tls.insecure == "yes", {}, {}};
    if (!credentials.cacert.empty()) {
      tls.ca_bundle = credentials.cacert;
    }
    if (credentials.verify) {
      tls.insecure = !*credentials.verify;
    }
    if (!credentials.key.empty() && credentials.cert.empty()) {
      return core::fail(core::ErrorKind::config,
                        fmt::format("{} gives a TLS client key without its certificate (cert)",
                                    credentials.source));
    }
    tls.client_cert = credentials.cert;
    tls.client_key = credentials.key;
    // The private key (in the certificate's file when no key is given) is checked as the
    // Chef key is: its owner's alone.
    if (!tls.client_cert.empty()) {
      TRY(core::check_file_mode(tls.client_key.empty() ? tls.client_cert : tls.client_key,
                                "TLS client key", 077, m_config.perms));
    }
    c.http = std::make_unique<http::CurlTransport>(tls);
  }
  c.pin = CloudPin{column, openstack::pinned_auth_url(credentials),
                   openstack::pinned_project(credentials)};
  if (!credentials.cloud.empty()) {
    c.pin.column = "openstack:" + credentials.cloud;
  }
  OpenStackOptions o;
  o.credentials = std::move(credentials);
  o.networks = split_list(oc.network);
  o.key_name = oc.key_name;
  o.security_groups = split_list(oc.security_groups);
  o.web_port = oc.web_port;
  o.token_cache = oc.token_cache.empty() ? m_state_dir + "/openstack-token.json" : oc.token_cache;
  o.timeout_ms = oc.request_timeout_ms;
  o.deadline = m_deadline;
  c.nova = std::make_unique<OpenStackProvider>(c.http ? *c.http : m_http, m_clock, std::move(o));
  Provider* web = c.nova.get();
  if (oc.stand_in == "yes") {
    c.stand_in = std::make_unique<StandInProvider>(*c.nova, m_state_dir + "/instances",
                                                   m_config.section<local::NginxConfig>().nginx,
                                                   m_clock);
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

core::Result<Provider*> OpenStackDrivers::web(const std::string& column)
{
  TRY_ASSIGN(auto* c, cloud(column));
  return c->stand_in ? static_cast<Provider*>(c->stand_in.get())
                     : static_cast<Provider*>(c->nova.get());
}

core::Result<CloudPin> OpenStackDrivers::pin(const std::string& column)
{
  TRY_ASSIGN(auto* c, cloud(column));
  return c->pin;
}

core::Result<void> OpenStackDrivers::check_pin(const std::string& cluster, const CloudPin& pin)
{
  const std::string name = pin.column.size() > 10 ? pin.column.substr(10) : std::string();
  const auto what = name.empty() ? std::string("its cloud") : fmt::format("cloud '{}'", name);
  auto c = cloud(pin.column);
  if (!c) {
    auto e = c.error();
    e.message = fmt::format("cluster '{}' was created on {}: {}", cluster, what, e.message);
    return tl::make_unexpected(e);
  }
  if (pin.auth_url.empty() && pin.project.empty()) {
    return {};
  }
  const auto& now = (*c)->pin;
  if (now.auth_url != pin.auth_url || now.project != pin.project) {
    return core::fail(core::ErrorKind::config,
                      fmt::format("cluster '{}' was created on {} (Keystone '{}', project '{}'), "
                                  "which is now Keystone '{}', project '{}': restore that cloud "
                                  "(clouds.yaml, OS_*, [OPENSTACK]) to act on the cluster",
                                  cluster, what, pin.auth_url, pin.project, now.auth_url,
                                  now.project));
  }
  return {};
}

bool OpenStackDrivers::stand_in() const
{
  return m_config.section<OpenStackConfig>().stand_in == "yes";
}

} // namespace cloud
