// Pure parsers of the Octavia v2 answers sclman reads (load balancers, listeners, pools,
// health monitors, members). Every value Octavia sends is untrusted: ids must look like ids,
// statuses are enums, addresses go through core::IpAddress / core::Endpoint, never kept as text.
#pragma once

#include "core/clock.hpp"
#include "core/endpoint.hpp"
#include "core/operating.hpp"
#include "core/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lb::octavia {

enum class Provisioning { active, pending_create, pending_update, pending_delete, deleted, error };

using core::Operating;
using core::to_string;  // of an Operating

// Return the provisioning_status of `text` (ACTIVE, PENDING_CREATE, ...); anything else is an
// upstream_transient error quoting it escaped.
core::Result<Provisioning> parse_provisioning(std::string_view text);
// Return the operating_status of `text` (ONLINE, OFFLINE, DEGRADED, ERROR, NO_MONITOR,
// DRAINING: core::parse_operating); anything else is an error quoting it escaped.
core::Result<Operating> parse_operating(std::string_view text);
// Return the name Octavia gives the status ("ACTIVE"; core::to_string names an Operating).
const char* to_string(Provisioning p);
// Return true for PENDING_CREATE, PENDING_UPDATE and PENDING_DELETE.
bool is_pending(Provisioning p);

// Check that `text` is an Octavia id (1 to 64 of [0-9a-zA-Z-]; Octavia's are UUIDs).
core::Result<std::string> parse_id(std::string_view text);

struct LoadBalancer
{
  std::string id;
  std::string name;
  Provisioning provisioning = Provisioning::pending_create;
  Operating operating = Operating::offline;
  std::optional<core::IpAddress> vip;  // nothing until Octavia has allocated one
  std::string vip_port;                // the VIP's Neutron port (an id), "" until it has one
  std::vector<std::string> tags;
  core::Millis created = 0;  // epoch ms of created_at, 0 if absent
};

// A listener, pool or health monitor: only what sclman matches on.
struct Object
{
  std::string id;
  std::string name;
  Provisioning provisioning = Provisioning::active;
};

struct Member
{
  std::string id;
  std::string name;
  // address and protocol_port, parsed; nothing when they do not parse (then `error` says why,
  // the value escaped): such a member is none of sclman's and is deleted, never forwarded to.
  std::optional<core::Endpoint> endpoint;
  std::string error;
  int weight = 1;           // 0 to 256
  Provisioning provisioning = Provisioning::active;
  Operating operating = Operating::no_monitor;
};

// Return the load balancer of {"loadbalancer": {...}}.
core::Result<LoadBalancer> parse_loadbalancer(std::string_view body);
// Return the load balancers of {"loadbalancers": [...]}.
core::Result<std::vector<LoadBalancer>> parse_loadbalancers(std::string_view body);
// Return the object of {"<key>": {...}} (key: listener, pool, healthmonitor).
core::Result<Object> parse_object(std::string_view body, const std::string& key);
// Return the objects of {"<key>": [...]} (key: listeners, pools, healthmonitors).
core::Result<std::vector<Object>> parse_objects(std::string_view body, const std::string& key);
// Return the member of {"member": {...}}.
core::Result<Member> parse_member(std::string_view body);
// Return the members of {"members": [...]}.
core::Result<std::vector<Member>> parse_members(std::string_view body);

} // namespace lb::octavia
