#include "lb/octavia_parse.hpp"

#include "core/enum_names.hpp"
#include "core/log.hpp"
#include "core/time.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <type_traits>
#include <utility>

namespace lb::octavia {

using core::ErrorKind;
using core::fail;
using core::Result;
using nlohmann::json;

namespace {

constexpr core::EnumNames<Provisioning, 6> k_provisioning = {{
  {Provisioning::active, "ACTIVE"},
  {Provisioning::pending_create, "PENDING_CREATE"},
  {Provisioning::pending_update, "PENDING_UPDATE"},
  {Provisioning::pending_delete, "PENDING_DELETE"},
  {Provisioning::deleted, "DELETED"},
  {Provisioning::error, "ERROR"},
}};


tl::unexpected<core::Error> malformed(const std::string& what, const std::string& why)
{
  return fail(ErrorKind::upstream_transient,
              fmt::format("malformed octavia {}: {}", what, why), "octavia");
}

Result<json> parse_json(std::string_view body, const std::string& what)
{
  try {
    return json::parse(body);
  } catch (const json::exception&) {
    return malformed(what, "not JSON");
  }
}

// Return the string `key` of `j`; missing or another type is an error.
Result<std::string> field(const json& j, const char* key, const std::string& what)
{
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return malformed(what, fmt::format("'{}' missing or not a string", key));
  }
  return it->get<std::string>();
}

// Return the string `key` of `j`, "" when it is missing or null; another type is an error.
Result<std::string> optional_field(const json& j, const char* key, const std::string& what)
{
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return malformed(what, fmt::format("'{}' is not a string", key));
  }
  return it->get<std::string>();
}

// Return the integer `key` of `j` within [lo, hi].
Result<int> int_field(const json& j, const char* key, int lo, int hi, const std::string& what)
{
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    return malformed(what, fmt::format("'{}' missing or not an integer", key));
  }
  const auto v = it->get<std::int64_t>();
  if (v < lo || v > hi) {
    return malformed(what, fmt::format("'{}' is {}, not {} to {}", key, v, lo, hi));
  }
  return static_cast<int>(v);
}

Result<std::string> id_field(const json& j, const std::string& what)
{
  TRY_ASSIGN(const auto text, field(j, "id", what));
  auto id = parse_id(text);
  if (!id) {
    return malformed(what, id.error().message);
  }
  return *id;
}

Result<std::string> name_field(const json& j, const std::string& what)
{
  // A name is only compared with the names sclman gives: any string will do, none is kept.
  return optional_field(j, "name", what);
}

Result<Provisioning> provisioning_field(const json& j, const std::string& what)
{
  TRY_ASSIGN(const auto text, field(j, "provisioning_status", what));
  return parse_provisioning(text);
}

Result<Operating> operating_field(const json& j, const std::string& what)
{
  TRY_ASSIGN(const auto text, field(j, "operating_status", what));
  return parse_operating(text);
}

Result<const json*> member_of(const json& j, const std::string& key, json::value_t type)
{
  const auto it = j.is_object() ? j.find(key) : j.end();
  if (it == j.end() || it->type() != type) {
    return malformed(key, fmt::format("no '{}' {}", key,
                                      type == json::value_t::array ? "list" : "object"));
  }
  return &*it;
}

Result<LoadBalancer> loadbalancer_from(const json& j)
{
  const std::string what = "loadbalancer";
  if (!j.is_object()) {
    return malformed(what, "not an object");
  }
  LoadBalancer out;
  TRY_ASSIGN(out.id, id_field(j, what));
  TRY_ASSIGN(out.name, name_field(j, what));
  TRY_ASSIGN(out.provisioning, provisioning_field(j, what));
  TRY_ASSIGN(out.operating, operating_field(j, what));
  TRY_ASSIGN(const auto vip, optional_field(j, "vip_address", what));
  if (!vip.empty()) {
    auto ip = core::IpAddress::parse(vip);
    if (!ip) {
      return malformed(what, fmt::format("load balancer '{}' vip_address: {}", out.id,
                                         ip.error().message));
    }
    out.vip = *ip;
  }
  TRY_ASSIGN(const auto vip_port, optional_field(j, "vip_port_id", what));
  if (!vip_port.empty()) {
    auto id = parse_id(vip_port);
    if (!id) {
      return malformed(what, fmt::format("load balancer '{}' vip_port_id: {}", out.id,
                                         id.error().message));
    }
    out.vip_port = *id;
  }
  if (const auto t = j.find("tags"); t != j.end() && !t->is_null()) {
    if (!t->is_array()) {
      return malformed(what, "'tags' is not a list");
    }
    for (const auto& tag : *t) {
      if (!tag.is_string()) {
        return malformed(what, "a tag is not a string");
      }
      out.tags.push_back(tag.get<std::string>());
    }
  }
  TRY_ASSIGN(const auto created, optional_field(j, "created_at", what));
  if (!created.empty()) {
    out.created = core::parse_iso8601(created).value_or(0);
  }
  return out;
}

Result<Object> object_from(const json& j, const std::string& what)
{
  if (!j.is_object()) {
    return malformed(what, "not an object");
  }
  Object out;
  TRY_ASSIGN(out.id, id_field(j, what));
  TRY_ASSIGN(out.name, name_field(j, what));
  TRY_ASSIGN(out.provisioning, provisioning_field(j, what));
  return out;
}

Result<Member> member_from(const json& j)
{
  const std::string what = "member";
  if (!j.is_object()) {
    return malformed(what, "not an object");
  }
  Member out;
  TRY_ASSIGN(out.id, id_field(j, what));
  TRY_ASSIGN(out.name, name_field(j, what));
  TRY_ASSIGN(out.weight, int_field(j, "weight", 0, 256, what));
  TRY_ASSIGN(out.provisioning, provisioning_field(j, what));
  TRY_ASSIGN(out.operating, operating_field(j, what));
  // The address and port are the member's only use: when they do not parse the member is kept
  // with the reason, for the balancer to delete it.
  const auto address = j.find("address");
  const auto port = j.find("protocol_port");
  if (address == j.end() || !address->is_string()) {
    out.error = "'address' missing or not a string";
  } else if (port == j.end() || !port->is_number_integer()) {
    out.error = "'protocol_port' missing or not an integer";
  } else if (auto e = core::Endpoint::from_ip(address->get<std::string>(),
                                              port->get<std::int64_t>());
             !e) {
    out.error = e.error().message;
  } else {
    out.endpoint = *e;
  }
  return out;
}

} // namespace

Result<Provisioning> parse_provisioning(std::string_view text)
{
  if (const auto p = core::value_of(k_provisioning, text)) {
    return *p;
  }
  return malformed("provisioning_status", fmt::format("unknown '{}'", core::printable(text)));
}

Result<Operating> parse_operating(std::string_view text)
{
  if (const auto o = core::parse_operating(text)) {
    return *o;
  }
  return malformed("operating_status", fmt::format("unknown '{}'", core::printable(text)));
}

const char* to_string(Provisioning p)
{
  return core::name_of(k_provisioning, p);
}


bool is_pending(Provisioning p)
{
  return p == Provisioning::pending_create || p == Provisioning::pending_update
         || p == Provisioning::pending_delete;
}

Result<std::string> parse_id(std::string_view text)
{
  const bool ok = !text.empty() && text.size() <= 64
                  && text.find_first_not_of("0123456789abcdefABCDEF-") == std::string_view::npos;
  if (!ok) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("invalid octavia id '{}'", core::printable(text)), "octavia");
  }
  return std::string(text);
}

namespace {

// Return the objects of the list under `key` of answer `body`, each read by `from`.
template <typename From>
auto list_of(std::string_view body, const std::string& key, From from)
  -> Result<std::vector<typename std::invoke_result_t<From, const json&>::value_type>>
{
  TRY_ASSIGN(const auto j, parse_json(body, key));
  TRY_ASSIGN(const auto* list, member_of(j, key, json::value_t::array));
  std::vector<typename std::invoke_result_t<From, const json&>::value_type> out;
  for (const auto& item : *list) {
    TRY_ASSIGN(auto one, from(item));
    out.push_back(std::move(one));
  }
  return out;
}

} // namespace

Result<LoadBalancer> parse_loadbalancer(std::string_view body)
{
  TRY_ASSIGN(const auto j, parse_json(body, "loadbalancer"));
  TRY_ASSIGN(const auto* lb, member_of(j, "loadbalancer", json::value_t::object));
  return loadbalancer_from(*lb);
}

Result<std::vector<LoadBalancer>> parse_loadbalancers(std::string_view body)
{
  return list_of(body, "loadbalancers", [](const json& lb) { return loadbalancer_from(lb); });
}

Result<Object> parse_object(std::string_view body, const std::string& key)
{
  TRY_ASSIGN(const auto j, parse_json(body, key));
  TRY_ASSIGN(const auto* o, member_of(j, key, json::value_t::object));
  return object_from(*o, key);
}

Result<std::vector<Object>> parse_objects(std::string_view body, const std::string& key)
{
  return list_of(body, key, [&key](const json& o) { return object_from(o, key); });
}

Result<Member> parse_member(std::string_view body)
{
  TRY_ASSIGN(const auto j, parse_json(body, "member"));
  TRY_ASSIGN(const auto* m, member_of(j, "member", json::value_t::object));
  return member_from(*m);
}

Result<std::vector<Member>> parse_members(std::string_view body)
{
  return list_of(body, "members", [](const json& m) { return member_from(m); });
}

} // namespace lb::octavia
