// Pure parsers and helpers for the OpenStack APIs sclman uses: Keystone v3 tokens and catalogs,
// Nova servers, flavors, Glance images and the error bodies of each. No I/O: tested on strings.
#pragma once

#include "core/clock.hpp"
#include "core/endpoint.hpp"
#include "core/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cloud::openstack {

struct Endpoint
{
  std::string type;       // compute, image, identity
  std::string interface;  // public, internal, admin
  std::string region;     // region_id (or region)
  std::string url;
};

struct Token
{
  std::string value;            // X-Subject-Token
  core::Millis expires_at = 0;  // epoch ms
  std::string project_id;
  std::vector<Endpoint> catalog;
};

// One of a server's addresses, parsed where the answer is read: Nova's "addr" is never kept as
// text.
struct Address
{
  std::optional<core::IpAddress> ip;  // nothing when "addr" is no IP literal
  std::string error;                  // then why, the value escaped (core::printable)
  int version = 4;
  std::string type;  // fixed or floating
};

struct NovaServer
{
  std::string id;
  std::string name;
  std::string status;  // BUILD, ACTIVE, ERROR, DELETED, ...
  std::string task_state;
  std::vector<std::string> tags;
  std::map<std::string, std::string> metadata;
  std::map<std::string, std::vector<Address>> addresses;  // network name -> addresses
  std::string fault;  // fault.message when status is ERROR
  core::Millis created = 0;
};

struct Named
{
  std::string id;
  std::string name;
};

// Return the token in `subject_token` (the X-Subject-Token header) with the expiry, project and
// catalog of the body of POST /v3/auth/tokens.
core::Result<Token> parse_token(std::string_view subject_token, std::string_view body);

// Return the URL of the catalog entry of service `type` and `interface` in `region` (any region
// when empty); an error names what is missing.
core::Result<std::string> find_endpoint(const std::vector<Endpoint>& catalog,
                                        const std::string& type,
                                        const std::string& interface,
                                        const std::string& region);

// Return the servers of a Nova list body ({"servers":[...]}, from /servers/detail).
core::Result<std::vector<NovaServer>> parse_servers(std::string_view body);

// Return the server of a Nova body {"server":{...}}.
core::Result<NovaServer> parse_server(std::string_view body);

// Return the id of the server a Nova create answer ({"server":{"id":...}}) names.
core::Result<std::string> parse_created_id(std::string_view body);

// Return the flavors ({"flavors":[...]}) or images ({"images":[...]}) of a list body.
core::Result<std::vector<Named>> parse_named_list(std::string_view body, const std::string& key);

// Return the id of the one entry whose id or name is `wanted`; an error when there is none
// or more than one with that name (`what` is "flavor" or "image").
core::Result<std::string> pick_one(const std::vector<Named>& items,
                                   const std::string& wanted,
                                   const std::string& what);

// Return the human message of an error body of Nova, Keystone, Glance or their middleware,
// or a short excerpt of the body.
std::string error_message(std::string_view body);

// Return seconds from a Retry-After header (delta-seconds only), or nothing.
std::optional<int> parse_retry_after(std::string_view value);

// Return epoch ms of an ISO 8601 UTC time ("2024-01-02T03:04:05.000000Z", "...Z" or no zone).
std::optional<core::Millis> parse_iso8601(std::string_view text);

// Return an anchored, escaped regular expression matching exactly `name` (Nova's ?name= is
// a regular expression).
std::string exact_name_regex(const std::string& name);

// Return the first fixed IPv4 address of `server` on `network`, or on any network when
// `network` is empty; nothing when it has none yet. A fixed v4 entry whose "addr" is no IPv4
// literal (a host name, an injection, an IPv6 address) is an upstream_rejected error naming the
// server: it is not skipped for the next one.
core::Result<std::optional<core::IpAddress>> fixed_address(const NovaServer& server,
                                                           const std::string& network);

// A Neutron floating IP, parsed: its id (core::validate_object_id), its address (an IP
// literal), the port it is attached to (an id, or nothing when detached) and its tags.
struct FloatingIp
{
  std::string id;
  core::IpAddress address;
  std::optional<std::string> port_id;
  std::vector<std::string> tags;
};

// Return the floating IPs of a Neutron list body ({"floatingips":[...]}); an entry whose id,
// address or port id does not parse is an upstream_rejected error naming it (escaped).
core::Result<std::vector<FloatingIp>> parse_floating_ips(std::string_view body);

// Return the floating IP of a Neutron body {"floatingip":{...}}, as above.
core::Result<FloatingIp> parse_floating_ip(std::string_view body);

// A Nova server group, parsed: id (core::validate_object_id), name, policies, member ids.
struct ServerGroup
{
  std::string id;
  std::string name;
  std::vector<std::string> policies;
  std::vector<std::string> members;
};

// Return the server groups of a Nova list body ({"server_groups":[...]}); an id that does not
// parse is an upstream_rejected error.
core::Result<std::vector<ServerGroup>> parse_server_groups(std::string_view body);

// Return the server group of a Nova body {"server_group":{...}}, as above.
core::Result<ServerGroup> parse_server_group(std::string_view body);

// Return the ids of the ports of a Neutron list body ({"ports":[...]}), each checked as an id.
core::Result<std::vector<std::string>> parse_port_ids(std::string_view body);

// A Neutron port, parsed: its id (core::validate_object_id) and tags.
struct Port
{
  std::string id;
  std::vector<std::string> tags;
};

// Return the ports of a Neutron list body ({"ports":[...]}); an id that does not parse is an
// upstream_rejected error.
core::Result<std::vector<Port>> parse_ports(std::string_view body);

// Return the port of a Neutron body {"port":{...}}, as above.
core::Result<Port> parse_port(std::string_view body);

// Return the network id of a Neutron body {"subnet":{...}}, checked as an id.
core::Result<std::string> parse_subnet_network(std::string_view body);

} // namespace cloud::openstack
