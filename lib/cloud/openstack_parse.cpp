#include "cloud/openstack_parse.hpp"

#include "core/log.hpp"
#include "core/names.hpp"
#include "http/retry.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <ctime>

namespace cloud::openstack {

using core::ErrorKind;
using core::fail;
using nlohmann::json;

namespace {

std::string str(const json& j, const char* key)
{
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return {};
  }
  return it->get<std::string>();
}

tl::unexpected<core::Error> malformed(const char* what, const std::string& why)
{
  return fail(ErrorKind::upstream_transient, fmt::format("malformed {}: {}", what, why));
}

NovaServer server_from(const json& s)
{
  NovaServer out;
  out.id = str(s, "id");
  out.name = str(s, "name");
  out.status = str(s, "status");
  out.task_state = str(s, "OS-EXT-STS:task_state");
  if (const auto t = s.find("tags"); t != s.end() && t->is_array()) {
    for (const auto& tag : *t) {
      if (tag.is_string()) {
        out.tags.push_back(tag.get<std::string>());
      }
    }
  }
  if (const auto m = s.find("metadata"); m != s.end() && m->is_object()) {
    for (const auto& [k, v] : m->items()) {
      if (v.is_string()) {
        out.metadata[k] = v.get<std::string>();
      }
    }
  }
  if (const auto a = s.find("addresses"); a != s.end() && a->is_object()) {
    for (const auto& [net, list] : a->items()) {
      auto& dst = out.addresses[net];
      if (!list.is_array()) {
        continue;
      }
      for (const auto& e : list) {
        Address addr;
        auto ip = core::IpAddress::parse(str(e, "addr"));
        if (ip) {
          addr.ip = *ip;
        } else {
          addr.error = ip.error().message;
        }
        addr.version = e.value("version", 4);
        addr.type = str(e, "OS-EXT-IPS:type");
        dst.push_back(addr);
      }
    }
  }
  if (const auto f = s.find("fault"); f != s.end() && f->is_object()) {
    out.fault = str(*f, "message");
  }
  out.created = parse_iso8601(str(s, "created")).value_or(0);
  return out;
}

} // namespace

core::Result<Token> parse_token(std::string_view subject_token, std::string_view body)
{
  if (subject_token.empty()) {
    return malformed("keystone token answer", "no X-Subject-Token header");
  }
  try {
    const auto j = json::parse(body);
    const auto& t = j.at("token");
    Token out;
    out.value = std::string(subject_token);
    const auto expires = parse_iso8601(str(t, "expires_at"));
    if (!expires) {
      return malformed("keystone token answer", "no valid expires_at");
    }
    out.expires_at = *expires;
    if (const auto p = t.find("project"); p != t.end() && p->is_object()) {
      out.project_id = str(*p, "id");
    }
    if (const auto c = t.find("catalog"); c != t.end() && c->is_array()) {
      for (const auto& service : *c) {
        const auto type = str(service, "type");
        const auto eps = service.find("endpoints");
        if (eps == service.end() || !eps->is_array()) {
          continue;
        }
        for (const auto& e : *eps) {
          Endpoint ep;
          ep.type = type;
          ep.interface = str(e, "interface");
          ep.region = str(e, "region_id");
          if (ep.region.empty()) {
            ep.region = str(e, "region");
          }
          ep.url = str(e, "url");
          out.catalog.push_back(ep);
        }
      }
    }
    return out;
  } catch (const json::exception& e) {
    return malformed("keystone token answer", e.what());
  }
}

core::Result<std::string> find_endpoint(const std::vector<Endpoint>& catalog,
                                        const std::string& type,
                                        const std::string& interface,
                                        const std::string& region)
{
  bool type_seen = false;
  for (const auto& e : catalog) {
    if (e.type != type) {
      continue;
    }
    type_seen = true;
    if (e.interface == interface && (region.empty() || e.region == region) && !e.url.empty()) {
      std::string url = e.url;
      while (!url.empty() && url.back() == '/') {
        url.pop_back();
      }
      return url;
    }
  }
  if (!type_seen) {
    return fail(ErrorKind::config,
                fmt::format("no service of type '{}' in the keystone catalog", type),
                "keystone");
  }
  return fail(ErrorKind::config,
              fmt::format("no '{}' endpoint of service '{}'{} in the keystone catalog", interface,
                          type, region.empty() ? "" : fmt::format(" in region '{}'", region)),
              "keystone");
}

core::Result<std::vector<NovaServer>> parse_servers(std::string_view body)
{
  try {
    const auto j = json::parse(body);
    std::vector<NovaServer> out;
    for (const auto& s : j.at("servers")) {
      out.push_back(server_from(s));
    }
    return out;
  } catch (const json::exception& e) {
    return malformed("nova server list", e.what());
  }
}

core::Result<NovaServer> parse_server(std::string_view body)
{
  try {
    return server_from(json::parse(body).at("server"));
  } catch (const json::exception& e) {
    return malformed("nova server", e.what());
  }
}

core::Result<std::string> parse_created_id(std::string_view body)
{
  try {
    auto id = json::parse(body).at("server").at("id").get<std::string>();
    if (id.empty()) {
      return malformed("nova create answer", "empty id");
    }
    return id;
  } catch (const json::exception& e) {
    return malformed("nova create answer", e.what());
  }
}

core::Result<std::vector<Named>> parse_named_list(std::string_view body, const std::string& key)
{
  try {
    const auto j = json::parse(body);
    std::vector<Named> out;
    for (const auto& e : j.at(key)) {
      out.push_back(Named{str(e, "id"), str(e, "name")});
    }
    return out;
  } catch (const json::exception& e) {
    return malformed(key.c_str(), e.what());
  }
}

core::Result<std::string> pick_one(const std::vector<Named>& items,
                                   const std::string& wanted,
                                   const std::string& what)
{
  for (const auto& i : items) {
    if (i.id == wanted) {
      return i.id;
    }
  }
  std::vector<std::string> ids;
  for (const auto& i : items) {
    if (i.name == wanted) {
      ids.push_back(i.id);
    }
  }
  if (ids.empty()) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("no {} named '{}'", what, wanted));
  }
  if (ids.size() > 1) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("{} name '{}' is ambiguous: {} {}s have it ({}); give an id", what,
                            wanted, ids.size(), what, fmt::join(ids, ", ")));
  }
  return ids.front();
}

std::string error_message(std::string_view body)
{
  try {
    const auto j = json::parse(body);
    if (j.is_object()) {
      // Keystone: {"error":{"code","message","title"}}; middleware: {"message","code","title"};
      // Nova: {"<faultName>":{"code","message"}}.
      if (const auto e = j.find("error"); e != j.end() && e->is_object()) {
        if (auto m = str(*e, "message"); !m.empty()) {
          return m;
        }
      }
      if (auto m = str(j, "message"); !m.empty()) {
        return m;
      }
      // Octavia (WSME): {"faultcode", "faultstring", "debuginfo"}.
      if (auto m = str(j, "faultstring"); !m.empty()) {
        return m;
      }
      for (const auto& [name, v] : j.items()) {
        if (v.is_object()) {
          if (auto m = str(v, "message"); !m.empty()) {
            return m;
          }
        }
      }
    }
  } catch (const json::exception&) {
    // not JSON: an HTML page of a proxy, or plain text
  }
  std::string out;
  for (const char c : body.substr(0, 200)) {
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return out.empty() ? std::string("(empty body)") : out;
}

std::optional<int> parse_retry_after(std::string_view value)
{
  return http::parse_retry_after(value);
}

std::optional<core::Millis> parse_iso8601(std::string_view text)
{
  // YYYY-MM-DDTHH:MM:SS[.frac][Z|+00:00]
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != ' ')
      || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    const auto* b = text.data() + pos;
    auto [ptr, ec] = std::from_chars(b, b + len, v);
    if (ec != std::errc() || ptr != b + len) {
      return std::nullopt;
    }
    return v;
  };
  const auto y = num(0, 4);
  const auto mo = num(5, 2);
  const auto d = num(8, 2);
  const auto h = num(11, 2);
  const auto mi = num(14, 2);
  const auto s = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = *h;
  tm.tm_min = *mi;
  tm.tm_sec = *s;
  core::Millis ms = 0;
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) {
        ms = ms * 10 + (text[pos] - '0');
      }
      ++digits;
      ++pos;
    }
    for (; digits < 3; ++digits) {
      ms *= 10;
    }
  }
  const auto rest = text.substr(pos);
  if (!rest.empty() && rest != "Z" && rest != "+00:00" && rest != "+0000") {
    return std::nullopt;
  }
  return static_cast<core::Millis>(timegm(&tm)) * 1000 + ms;
}

std::string exact_name_regex(const std::string& name)
{
  std::string out = "^";
  for (const char c : name) {
    if (std::string_view(".^$*+?()[]{}|\\").find(c) != std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
  out += '$';
  return out;
}

core::Result<std::optional<core::IpAddress>> fixed_address(const NovaServer& server,
                                                           const std::string& network)
{
  for (const auto& [net, list] : server.addresses) {
    if (!network.empty() && net != network) {
      continue;
    }
    for (const auto& a : list) {
      if (a.version != 4 || (!a.type.empty() && a.type != "fixed")) {
        continue;
      }
      if (!a.ip) {
        return fail(ErrorKind::upstream_rejected,
                    fmt::format("server '{}' has a fixed address on network '{}' that sclman "
                                "refuses: {}",
                                core::printable(server.name), core::printable(net), a.error),
                    "nova");
      }
      if (a.ip->family() != core::IpAddress::Family::v4) {
        return fail(ErrorKind::upstream_rejected,
                    fmt::format("server '{}' has a version 4 address on network '{}' that is "
                                "IPv6: {}",
                                core::printable(server.name), core::printable(net),
                                a.ip->to_string()),
                    "nova");
      }
      return std::optional<core::IpAddress>(*a.ip);
    }
  }
  return std::optional<core::IpAddress>();
}

namespace {

// Return `j[key]` as an object id, or an error naming `what` and the `service` that sent it
// (the value escaped).
core::Result<std::string> object_id(const json& j, const char* key, const char* what,
                                    const char* service)
{
  const auto text = str(j, key);
  if (auto ok = core::validate_object_id(text); !ok) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("{} answered a {} whose {} is not an id: {}", service, what, key,
                            ok.error().message),
                service);
  }
  return text;
}

// Return the strings of the array `j[key]` (none if it is missing or no array).
std::vector<std::string> strings_of(const json& j, const char* key)
{
  std::vector<std::string> out;
  if (const auto it = j.find(key); it != j.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

// Return `of` applied to each entry of the array `key` of `body`; an answer of another shape
// is malformed `what`.
template <class Of>
auto list_of(std::string_view body, const char* key, const char* what, Of of)
  -> core::Result<std::vector<typename decltype(of(json()))::value_type>>
{
  try {
    const auto j = json::parse(body);
    std::vector<typename decltype(of(json()))::value_type> out;
    for (const auto& e : j.at(key)) {
      TRY_ASSIGN(auto item, of(e));
      out.push_back(std::move(item));
    }
    return out;
  } catch (const json::exception& e) {
    return malformed(what, e.what());
  }
}

// Return `of` applied to the object `key` of `body`, as above.
template <class Of>
auto object_of(std::string_view body, const char* key, const char* what, Of of) -> decltype(of(json()))
{
  try {
    return of(json::parse(body).at(key));
  } catch (const json::exception& e) {
    return malformed(what, e.what());
  }
}

core::Result<FloatingIp> floating_ip_of(const json& e)
{
  TRY_ASSIGN(auto id, object_id(e, "id", "floating IP", "neutron"));
  auto address = core::IpAddress::parse(str(e, "floating_ip_address"));
  if (!address) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("neutron answered floating IP {} with an address that is not an IP "
                            "literal: {}",
                            id, address.error().message),
                "neutron");
  }
  FloatingIp f{std::move(id), *address, std::nullopt, strings_of(e, "tags")};
  if (const auto it = e.find("port_id"); it != e.end() && !it->is_null()) {
    TRY_ASSIGN(f.port_id, object_id(e, "port_id", "floating IP", "neutron"));
  }
  return f;
}

core::Result<std::string> port_id_of(const json& e)
{
  return object_id(e, "id", "port", "neutron");
}

core::Result<Port> port_of(const json& e)
{
  TRY_ASSIGN(auto id, object_id(e, "id", "port", "neutron"));
  return Port{std::move(id), strings_of(e, "tags")};
}

core::Result<std::string> subnet_network_of(const json& e)
{
  return object_id(e, "network_id", "subnet", "neutron");
}

core::Result<ServerGroup> server_group_of(const json& e)
{
  TRY_ASSIGN(auto id, object_id(e, "id", "server group", "nova"));
  return ServerGroup{std::move(id), str(e, "name"), strings_of(e, "policies"),
                     strings_of(e, "members")};
}

} // namespace

core::Result<std::vector<FloatingIp>> parse_floating_ips(std::string_view body)
{
  return list_of(body, "floatingips", "floating IP list", floating_ip_of);
}

core::Result<FloatingIp> parse_floating_ip(std::string_view body)
{
  return object_of(body, "floatingip", "floating IP", floating_ip_of);
}

core::Result<std::vector<std::string>> parse_port_ids(std::string_view body)
{
  return list_of(body, "ports", "port list", port_id_of);
}

core::Result<std::vector<Port>> parse_ports(std::string_view body)
{
  return list_of(body, "ports", "port list", port_of);
}

core::Result<Port> parse_port(std::string_view body)
{
  return object_of(body, "port", "port", port_of);
}

core::Result<std::string> parse_subnet_network(std::string_view body)
{
  return object_of(body, "subnet", "subnet", subnet_network_of);
}

core::Result<std::vector<ServerGroup>> parse_server_groups(std::string_view body)
{
  return list_of(body, "server_groups", "server group list", server_group_of);
}

core::Result<ServerGroup> parse_server_group(std::string_view body)
{
  return object_of(body, "server_group", "server group", server_group_of);
}

} // namespace cloud::openstack
