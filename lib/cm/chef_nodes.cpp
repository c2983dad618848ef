#include "cm/chef_nodes.hpp"

#include "cm/chef_json.hpp"
#include "core/log.hpp"

#include <fmt/format.h>

namespace cm {

using nlohmann::json;
using chef_json::member;
using chef_json::string_at;

namespace {

const json* sclman_of(const json& node)
{
  const auto* normal = member(node, "normal");
  return normal ? member(*normal, "sclman") : nullptr;
}

// Return normal.sclman of `node`, made an object (and `node` one) if it is not.
json& sclman_attrs(json& node)
{
  if (!node.is_object()) {
    node = json::object();
  }
  if (!node.contains("normal") || !node["normal"].is_object()) {
    node["normal"] = json::object();
  }
  auto& s = node["normal"]["sclman"];
  if (!s.is_object()) {
    s = json::object();
  }
  return s;
}

} // namespace

bool chef_node_registered(const json& node)
{
  const auto* automatic = member(node, "automatic");
  return automatic && member(*automatic, "ohai_time");
}

bool chef_node_registered_at(const json& node, const std::string& host, int port)
{
  if (!chef_node_registered(node) || string_at(node["automatic"], "ipaddress") != host) {
    return false;
  }
  const auto* s = sclman_of(node);
  const auto* p = s ? member(*s, "port") : nullptr;
  return p && p->is_number_integer() && p->get<std::int64_t>() == port;
}

void chef_node_register(json& node, const std::string& host, int port, core::Millis now)
{
  sclman_attrs(node)["port"] = port;
  if (!node["automatic"].is_object()) {
    node["automatic"] = json::object();
  }
  node["automatic"]["ipaddress"] = host;
  node["automatic"]["ohai_time"] = static_cast<double>(now) / 1000.0;
}

bool chef_node_set_in_service(json& node, bool in_service)
{
  auto& attrs = sclman_attrs(node);
  if (attrs.contains("in_service") && attrs["in_service"] == in_service) {
    return false;
  }
  attrs["in_service"] = in_service;
  return true;
}

std::string chef_node_name(const json& node)
{
  return string_at(node, "name");
}

std::string chef_node_cluster(const json& node)
{
  const auto* s = sclman_of(node);
  return s ? string_at(*s, "cluster") : std::string();
}

core::Millis chef_node_created_at(const json& node)
{
  const auto* s = sclman_of(node);
  const auto* c = s ? member(*s, "created_at") : nullptr;
  return c && c->is_number_integer() ? c->get<core::Millis>() : 0;
}

bool chef_node_placed(const json& node,
                      const std::string& environment,
                      const std::vector<std::string>& run_list)
{
  const auto* r = member(node, "run_list");
  return string_at(node, "chef_environment") == environment && r && *r == json(run_list);
}

std::string chef_search_query(const std::string& web_role, const std::string& cluster)
{
  return fmt::format("role:{} AND chef_environment:{} AND sclman_in_service:true", web_role,
                     cluster);
}

core::Result<std::optional<core::Endpoint>> chef_node_address(const json& node)
{
  const auto* automatic = member(node, "automatic");
  const auto* ip = automatic ? member(*automatic, "ipaddress") : nullptr;
  if (!ip || ip->is_null() || (ip->is_string() && ip->get_ref<const std::string&>().empty())) {
    return std::nullopt;  // not registered yet: no address to forward to
  }
  if (!ip->is_string()) {
    return core::fail(core::ErrorKind::usage, fmt::format("automatic.ipaddress is not a string: {}",
                                                          core::printable(ip->dump())));
  }
  std::int64_t port = 80;
  const auto* s = sclman_of(node);
  if (const auto* p = s ? member(*s, "port") : nullptr; p && !p->is_null()) {
    if (!p->is_number_integer()) {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("normal.sclman.port is not an integer: {}",
                                    core::printable(p->dump())));
    }
    port = p->get<std::int64_t>();
  }
  auto endpoint = core::Endpoint::from_ip(ip->get_ref<const std::string&>(), port);
  if (!endpoint) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("automatic.ipaddress: {}", endpoint.error().message));
  }
  return std::optional<core::Endpoint>(*endpoint);
}

} // namespace cm
