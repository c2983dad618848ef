#include "cm/chef.hpp"

#include "cm/local.hpp"
#include "core/file.hpp"
#include "core/log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <regex>

namespace cm {

using core::ErrorKind;
using core::fail;
using nlohmann::json;

std::vector<std::string> parse_run_list(std::string_view text)
{
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) {
      item.remove_prefix(1);
    }
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      out.emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::vector<std::string> roles_of(const std::vector<std::string>& run_list)
{
  std::vector<std::string> out;
  for (const auto& item : run_list) {
    if (item.rfind("role[", 0) == 0 && item.size() > 6 && item.back() == ']') {
      out.push_back(item.substr(5, item.size() - 6));
    }
  }
  return out;
}

core::Result<ChefBootstrapperSettings> chef_settings(const ChefConfig& c)
{
  ChefBootstrapperSettings s;
  s.lb_run_list = parse_run_list(c.lb_run_list);
  s.web_run_list = parse_run_list(c.web_run_list);
  s.drain_seconds = c.drain_seconds;
  s.register_timeout = c.register_timeout;
  if (roles_of(s.web_run_list).empty()) {
    return fail(ErrorKind::config,
                fmt::format("[CHEF] web_run_list '{}' names no role: the LB finds web nodes "
                            "by their role",
                            c.web_run_list));
  }
  if (c.validation_client_name.empty() != c.validation_key.empty()) {
    return fail(ErrorKind::config,
                "[CHEF] validation_client_name and validation_key go together: set both or "
                "neither");
  }
  if (!c.validation_key.empty()) {
    // Checked like the client key (owner-only file), then kept as text for the user data.
    TRY(ChefKey::from_file(c.validation_key, c.perms));
    s.validation_name = c.validation_client_name;
    s.validation_key = core::read_file(c.validation_key).value_or(std::string());
  }
  return s;
}

ChefBootstrapper::ChefBootstrapper(ChefClient& chef,
                                   core::Clock& clock,
                                   ChefBootstrapperSettings settings,
                                   Bootstrapper* local)
  : m_chef(chef), m_clock(clock), m_settings(std::move(settings)), m_local(local)
{
}

core::Result<std::optional<json>> ChefBootstrapper::get_node(const std::string& name)
{
  TRY_ASSIGN(auto node, m_chef.get("/nodes/" + name));
  if (node && !node->is_object()) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("chef server answered GET '/nodes/{}' with a {}, not a node object",
                            name,
                            node->type_name()),
                k_chef_service);
  }
  return node;
}

std::string ChefBootstrapper::web_role() const
{
  const auto roles = roles_of(m_settings.web_run_list);
  return roles.empty() ? std::string("web") : roles.front();
}

core::Result<void> ChefBootstrapper::prepare_cluster(const std::string& cluster)
{
  if (m_prepared.count(cluster)) {
    return {};
  }
  // Roles first: a cluster that cannot work leaves nothing behind on the server.
  for (const auto* list : {&m_settings.lb_run_list, &m_settings.web_run_list}) {
    for (const auto& role : roles_of(*list)) {
      TRY_ASSIGN(const auto found, m_chef.get("/roles/" + role));
      if (!found) {
        return fail(ErrorKind::config,
                    fmt::format("role '{}' does not exist on chef server '{}' (named by [CHEF] "
                                "{}_run_list): upload it first, e.g. knife role from file "
                                "etc/chef/roles/{}.json",
                                role,
                                m_chef.options().url,
                                list == &m_settings.lb_run_list ? "lb" : "web",
                                role),
                    k_chef_service);
      }
    }
  }
  TRY_ASSIGN(const auto env, m_chef.get("/environments/" + cluster));
  if (!env) {
    const json body = {
      {"name", cluster},
      {"json_class", "Chef::Environment"},
      {"chef_type", "environment"},
      {"description", fmt::format("sclman cluster {}", cluster)},
      {"default_attributes", {{"sclman", {{"cluster", cluster}}}}},
      {"override_attributes", json::object()},
      {"cookbook_versions", json::object()},
    };
    auto made = m_chef.create("/environments", body);
    if (!made && made.error().http_status != 409) {
      return fail(made.error());
    }
    spdlog::info("chef.environment_created cluster={}", cluster);
  }
  m_prepared.insert(cluster);
  return {};
}

core::Result<void> ChefBootstrapper::retire_cluster(const std::string& cluster)
{
  TRY_ASSIGN(const bool deleted, m_chef.remove("/environments/" + cluster));
  spdlog::info("chef.environment_deleted cluster={} existed={}", cluster, deleted);
  m_prepared.erase(cluster);
  return {};
}

core::Result<std::string> ChefBootstrapper::ensure_client_key(const core::InstanceRef& i)
{
  auto made = m_chef.create("/clients", json{{"name", i.name}, {"admin", false}});
  if (!made && made.error().http_status == 409) {
    // A run died after creating the client: its key is lost with it, so make a new one.
    TRY_ASSIGN(made, m_chef.put("/clients/" + i.name,
                                json{{"name", i.name}, {"private_key", true}})
                       .and_then([&](std::optional<json> j) -> core::Result<json> {
                         if (!j) {
                           return fail(ErrorKind::upstream_transient,
                                       fmt::format("chef client '{}' vanished while its key was "
                                                   "renewed",
                                                   i.name),
                                       k_chef_service);
                         }
                         return *j;
                       }));
    spdlog::info("chef.client_key_renewed cluster={} client={}", i.cluster, i.name);
  } else if (!made) {
    return fail(made.error());
  } else {
    spdlog::info("chef.client_created cluster={} client={}", i.cluster, i.name);
  }
  return chef_client_key(*made, i.name);
}

core::Result<json> ChefBootstrapper::ensure_node(const core::InstanceRef& i)
{
  const auto path = "/nodes/" + i.name;
  TRY_ASSIGN(auto found, get_node(i.name));
  const auto& run_list = i.role == core::Role::lb ? m_settings.lb_run_list : m_settings.web_run_list;
  if (found) {
    // A node left by an earlier run (or made by the VM): make sure it is in the cluster's
    // environment with the role's run list.
    auto node = std::move(*found);
    if (!chef_node_placed(node, i.cluster, run_list)) {
      node["chef_environment"] = i.cluster;
      node["run_list"] = run_list;
      TRY(m_chef.put(path, node));
    }
    return node;
  }
  json node = {
    {"name", i.name},
    {"json_class", "Chef::Node"},
    {"chef_type", "node"},
    {"chef_environment", i.cluster},
    {"run_list", run_list},
    {"normal",
     {{"sclman",
       {{"cluster", i.cluster},
        {"role", core::to_string(i.role)},
        {"in_service", false},
        {"created_at", m_clock.now()}}}}},
    {"default", json::object()},
    {"override", json::object()},
    {"automatic", json::object()},
  };
  auto made = m_chef.create("/nodes", node);
  if (!made && made.error().http_status == 409) {
    TRY_ASSIGN(auto again, get_node(i.name));
    if (again) {
      return *again;
    }
  } else if (!made) {
    return fail(made.error());
  }
  spdlog::info("chef.node_created cluster={} node={} environment={}", i.cluster, i.name,
               i.cluster);
  return node;
}

core::Result<std::string> ChefBootstrapper::user_data(const core::InstanceRef& i)
{
  TRY(prepare_cluster(i.cluster));
  ChefUserData d;
  d.server_url = m_chef.options().url;
  d.node_name = i.name;
  d.environment = i.cluster;
  d.run_list = i.role == core::Role::lb ? m_settings.lb_run_list : m_settings.web_run_list;
  d.cluster = i.cluster;
  d.role = core::to_string(i.role);
  if (m_settings.validation_name.empty()) {
    TRY_ASSIGN(d.client_key, ensure_client_key(i));
  } else {
    d.validation_name = m_settings.validation_name;
    d.validation_key = m_settings.validation_key;
  }
  TRY(ensure_node(i));
  return render_chef_user_data(d);
}

core::Result<bool> ChefBootstrapper::bootstrap(const core::InstanceRef& i)
{
  TRY_ASSIGN(auto node, ensure_node(i));
  if (!m_local) {
    if (chef_node_registered(node)) {
      return true;
    }
    TRY_ASSIGN(const auto late, registration_overdue(i));
    if (late) {
      return fail(ErrorKind::upstream_rejected, *late, k_chef_service);
    }
    return false;
  }
  TRY_ASSIGN(const bool up, m_local->bootstrap(i));
  if (!up) {
    return false;
  }
  // No chef-client runs on the local provider: write what its first run would (the
  // automatic attributes the LB's search reads) and the port the instance listens on.
  TRY_ASSIGN(const auto endpoint, instance_endpoint(i));
  const auto host = endpoint.ip();
  const int port = endpoint.port();
  if (!chef_node_registered_at(node, host, port)) {
    chef_node_register(node, host, port, m_clock.now());
    TRY_ASSIGN(const auto put, m_chef.put("/nodes/" + i.name, node));
    if (!put) {
      return fail(ErrorKind::upstream_transient,
                  fmt::format("chef node '{}' vanished while it registered", i.name),
                  k_chef_service);
    }
    spdlog::info("chef.node_registered cluster={} node={} address={}", i.cluster, i.name,
                 i.address);
  }
  return true;
}

core::Result<bool> ChefBootstrapper::running(const core::InstanceRef& i)
{
  return m_local ? m_local->running(i) : core::Result<bool>(true);
}

core::Result<void> ChefBootstrapper::set_in_service(const core::InstanceRef& i, bool in_service)
{
  const auto path = "/nodes/" + i.name;
  TRY_ASSIGN(auto node, get_node(i.name));
  if (!node) {
    if (!in_service) {
      return {};  // gone: out of every search already
    }
    return fail(ErrorKind::upstream_rejected,
                fmt::format("cannot put '{}' in service: chef node not found", i.name),
                k_chef_service);
  }
  if (!chef_node_set_in_service(*node, in_service)) {
    return {};
  }
  TRY(m_chef.put(path, *node));
  spdlog::info("chef.in_service cluster={} node={} value={}", i.cluster, i.name, in_service);
  return {};
}

core::Result<void> ChefBootstrapper::decommission(const core::InstanceRef& i)
{
  TRY_ASSIGN(const bool node, m_chef.remove("/nodes/" + i.name));
  TRY_ASSIGN(const bool client, m_chef.remove("/clients/" + i.name));
  spdlog::info("chef.decommissioned cluster={} node={} node_existed={} client_existed={}",
               i.cluster, i.name, node, client);
  if (m_local) {
    TRY(m_local->decommission(i));
  }
  return {};
}

core::Result<int> ChefBootstrapper::remove_orphans(const std::string& cluster,
                                                   const std::set<std::string>& live)
{
  int removed = 0;
  TRY_ASSIGN(const auto nodes, m_chef.get("/environments/" + cluster + "/nodes"));
  if (nodes) {
    for (const auto& name : chef_listing_names(*nodes)) {
      if (live.count(name)) {
        continue;
      }
      // Only what sclman made: the node carries its cluster attribute.
      TRY_ASSIGN(const auto node, m_chef.get("/nodes/" + name));
      if (!node || chef_node_cluster(*node) != cluster) {
        continue;
      }
      TRY(m_chef.remove("/nodes/" + name));
      TRY(m_chef.remove("/clients/" + name));
      spdlog::info("gc.chef_orphan_node cluster={} node={}", cluster, name);
      ++removed;
    }
  }
  TRY_ASSIGN(const auto clients, m_chef.get("/clients"));
  if (clients) {
    // Clients carry no attributes: sclman's are named <cluster>-(lb|web)-<serial>.
    const std::regex mine(cluster + "-(lb|web)-[0-9]+");
    for (const auto& name : chef_listing_names(*clients)) {
      if (live.count(name) || !std::regex_match(name, mine)) {
        continue;
      }
      TRY_ASSIGN(const auto node, m_chef.get("/nodes/" + name));
      if (node) {
        continue;  // a node outside the environment: not ours to judge
      }
      TRY(m_chef.remove("/clients/" + name));
      spdlog::info("gc.chef_orphan_client cluster={} client={}", cluster, name);
      ++removed;
    }
  }
  return removed;
}

core::Result<std::optional<std::string>>
ChefBootstrapper::registration_overdue(const core::InstanceRef& i)
{
  TRY_ASSIGN(auto node, get_node(i.name));
  if (!node || chef_node_registered(*node)) {
    return std::optional<std::string>{};
  }
  const auto created = chef_node_created_at(*node);
  const auto age_s = (m_clock.now() - created) / 1000;
  if (created == 0 || age_s <= m_settings.register_timeout) {
    return std::optional<std::string>{};
  }
  return std::optional<std::string>{
    fmt::format("chef node '{}' did not register within {} s (check cloud-init and chef-client "
                "on the server)",
                i.name,
                m_settings.register_timeout)};
}

} // namespace cm
