// libFuzzer target: Octavia v2 answers (a load balancer and the list of them, a listener, pool
// or health monitor and their lists, a member and the member list) never crash the parsers. What
// they accept holds what octavia_parse.hpp promises: an id of 1 to 64 of [0-9a-zA-Z-], statuses
// within their enums, a VIP and a member endpoint that render to text parsing back to
// themselves, a weight of 0 to 256, and a member with either an endpoint or the reason it has
// none. What they refuse is an upstream_transient error in printable ASCII. The same bytes go
// through the status and id readers alone.
#include "lb/octavia_parse.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace oc = lb::octavia;

namespace {

void check_printable(const std::string& text)
{
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      std::abort();
    }
  }
}

// A refusal is an escaped, transient error; an answer is read below.
template <typename T>
bool accepted(const core::Result<T>& parsed)
{
  if (!parsed) {
    if (parsed.error().kind != core::ErrorKind::upstream_transient) {
      std::abort();
    }
    check_printable(parsed.error().message);
  }
  return parsed.has_value();
}

void check_id(const std::string& id)
{
  if (id.empty() || id.size() > 64
      || id.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-")
           != std::string::npos) {
    std::abort();
  }
}

// A status names one of its enum's values, reads back as itself, and is pending exactly when
// its name says so.
void check_status(oc::Provisioning p)
{
  const std::string name = oc::to_string(p);
  const auto again = oc::parse_provisioning(name);
  if (!again || *again != p || oc::is_pending(p) != (name.rfind("PENDING_", 0) == 0)) {
    std::abort();
  }
}

void check_status(oc::Operating o)
{
  const auto again = oc::parse_operating(oc::to_string(o));
  if (!again || *again != o) {
    std::abort();
  }
}

void check(const oc::LoadBalancer& lb)
{
  check_id(lb.id);
  check_status(lb.provisioning);
  check_status(lb.operating);
  if (lb.vip) {
    const auto again = core::IpAddress::parse(lb.vip->to_string());
    if (!again || *again != *lb.vip) {
      std::abort();
    }
  }
  if (lb.created < 0) {
    std::abort();
  }
}

void check(const oc::Object& object)
{
  check_id(object.id);
  check_status(object.provisioning);
}

void check(const oc::Member& member)
{
  check_id(member.id);
  check_status(member.provisioning);
  check_status(member.operating);
  if (member.weight < 0 || member.weight > 256) {
    std::abort();
  }
  // Either an endpoint and no reason, or no endpoint and the reason, escaped.
  if (member.endpoint.has_value() == !member.error.empty()) {
    std::abort();
  }
  check_printable(member.error);
  if (member.endpoint) {
    const auto again = core::Endpoint::parse(member.endpoint->to_string());
    if (member.endpoint->port() == 0 || !again || *again != *member.endpoint) {
      std::abort();
    }
  }
}

template <typename T>
void check_one(const core::Result<T>& parsed)
{
  if (accepted(parsed)) {
    check(*parsed);
  }
}

template <typename T>
void check_all(const core::Result<std::vector<T>>& parsed)
{
  if (accepted(parsed)) {
    for (const auto& one : *parsed) {
      check(one);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  check_one(oc::parse_loadbalancer(body));
  check_all(oc::parse_loadbalancers(body));
  for (const char* key : {"listener", "pool", "healthmonitor"}) {
    check_one(oc::parse_object(body, key));
    check_all(oc::parse_objects(body, std::string(key) + "s"));
  }
  check_one(oc::parse_member(body));
  check_all(oc::parse_members(body));
  // The readers of one value: what they accept is the text itself.
  if (const auto p = oc::parse_provisioning(body); accepted(p) && oc::to_string(*p) != body) {
    std::abort();
  }
  if (const auto o = oc::parse_operating(body); accepted(o) && oc::to_string(*o) != body) {
    std::abort();
  }
  if (const auto id = oc::parse_id(body); accepted(id)) {
    check_id(*id);
    if (*id != body) {
      std::abort();
    }
  }
  return 0;
}
