// The OpenStack provider: web servers are Nova servers, authenticated through Keystone v3.
//
// Nova is called with microversion 2.52 (k_compute_microversion): the lowest that accepts
// `tags` in the create body; everything else used (required `networks` 2.37, `?tags=` filter
// 2.26, `fault` of failed servers) exists there, so any cloud since Queens (2018) answers it.
// Every server sclman makes carries the tags `sclman`, `sclman:cluster=NAME`,
// `sclman:role=ROLE` and the same as metadata `sclman:cluster`, `sclman:role`.
#pragma once

#include "cloud/openstack_auth.hpp"
#include "cloud/openstack_parse.hpp"
#include "cloud/provider.hpp"
#include "core/clock.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cloud {

inline constexpr const char* k_compute_microversion = "2.52";

// The tags of what sclman makes in the cloud (servers, floating IPs): `sclman`, and
// cluster_tag(NAME), `sclman:cluster=NAME`.
inline constexpr const char* k_sclman_tag = "sclman";
std::string cluster_tag(const std::string& cluster);
// The name of the cluster's Nova server group (create-cluster --server-group): sclman-NAME.
std::string server_group_name(const std::string& cluster);

struct OpenStackOptions
{
  openstack::Credentials credentials;
  std::vector<std::string> networks;  // names or ids; the first one's fixed address is used
  std::string key_name;
  std::vector<std::string> security_groups;
  int web_port = 80;
  std::string token_cache;  // 0600 file; empty: no cache
  long timeout_ms = 30000;
  core::Millis deadline = 0;  // steady-clock ms after which no retry starts; 0: none
};

class OpenStackProvider final : public Provider
{
public:
  OpenStackProvider(http::HttpTransport& http, core::Clock& clock, OpenStackOptions options);

  core::Result<Server> create(const ServerSpec& spec) override;
  core::Result<std::optional<Server>> find(const std::string& name) override;
  core::Result<std::optional<Server>> find_instance(const core::InstanceRef& instance) override;
  core::Result<void> remove(const core::InstanceRef& instance) override;
  core::Result<std::vector<Server>> list() override;
  // A floating IP on the server's port (lib/cloud/openstack_fip.cpp).
  core::Result<std::optional<core::IpAddress>>
  public_address(const core::InstanceRef& instance, const std::string& network) override;
  // Delete the floating IPs tagged `sclman` and a cluster that no port holds any more (their
  // LB server is gone).
  core::Result<int> remove_orphan_addresses(bool dry_run) override;
  // Delete the cluster's server groups (lib/cloud/openstack_fip.cpp).
  core::Result<void> retire_cluster(const std::string& cluster) override;

  // Return the address of the floating IP on port `port`: the one it has, else one made from
  // external network `network` for `instance` (not resent blindly), tagged for its cluster.
  core::Result<core::IpAddress> floating_ip_for_port(const std::string& port,
                                                     const core::InstanceRef& instance,
                                                     const std::string& network);
  // Return the id of the port named `name` that sclman made for `cluster` on `network_id`
  // (with a fixed IP on `subnet_id` when given): found by name, else made; tagged `sclman` and
  // the cluster. An Octavia LB with a floating IP gets its VIP port this way.
  core::Result<std::string> ensure_port(const std::string& name, const std::string& cluster,
                                        const std::string& network_id,
                                        const std::string& subnet_id);
  // Delete the port named `name` if sclman tagged it, with the floating IPs sclman tagged on
  // it (a floating IP outlives its port); return how many floating IPs. Nothing without
  // Neutron.
  core::Result<int> release_port(const std::string& name);
  // Return the network id of subnet `subnet_id`.
  core::Result<std::string> subnet_network(const std::string& subnet_id);

  // Return every server carrying the `sclman` tag, as Nova reports it (for gc's grace period).
  core::Result<std::vector<openstack::NovaServer>> tagged_servers();

  // Return the provider's view of a Nova server (status, fault, address on the network).
  Server to_server(const openstack::NovaServer& s) const;

  struct Call
  {
    std::string method = "GET";
    std::string service;  // catalog type: compute, image, network, load-balancer
    std::string path;     // below the endpoint
    std::string body;
    bool retry = true;    // may be sent again after a 5xx or a timeout
  };

  // Send `c` to the catalog endpoint of `c.service` with the cloud's token (one new token after
  // a 401), retrying transient failures when `c.retry` (within the deadline); return the answer
  // when it is below 400 or 404, else the error of openstack_error.
  core::Result<http::HttpResponse> call(const Call& c);

  // Return true if the cloud's catalog (of the token) has an endpoint of service type `service`
  // for the configured interface and region.
  core::Result<bool> offers(const std::string& service);

private:
  core::Result<openstack::Token> token();
  core::Result<openstack::Token> authenticate();
  void forget_token();
  core::Result<std::string> resolve_flavor(const std::string& wanted);
  core::Result<std::string> resolve_image(const std::string& wanted);
  core::Result<std::string> resolve_network(const std::string& wanted);
  // Return the ids of the ports of server `server_id` (Neutron).
  core::Result<std::vector<std::string>> server_ports(const std::string& server_id);
  // Return the floating IPs on port `port`, or nothing if the cloud has none (Neutron without
  // its router extension answers 404).
  core::Result<std::optional<std::vector<openstack::FloatingIp>>>
  floating_ips_on(const std::string& port);
  // Delete the floating IPs tagged `sclman` on the ports of `instance`'s server (before it is
  // deleted: a floating IP outlives its port); return how many.
  core::Result<int> release_floating_ips(const core::InstanceRef& instance);
  // Delete the floating IPs tagged `sclman` on port `port` (logged with `owner`,
  // "instance=NAME" or "port=NAME"); return how many (none in a cloud without floating IPs).
  core::Result<int> release_floating_ips_on(const std::string& port, const std::string& owner);
  // Return the id of the cluster's server group sclman-CLUSTER with `policy`, made if missing.
  core::Result<std::string> ensure_server_group(const std::string& cluster,
                                                const std::string& policy);
  // Return the cluster's server groups (the name sclman-CLUSTER), oldest id first.
  core::Result<std::vector<openstack::ServerGroup>> server_groups(const std::string& cluster);
  core::Result<std::vector<openstack::NovaServer>> servers_named(const std::string& name);
  core::Result<std::vector<openstack::Port>> ports_named(const std::string& name);
  core::Result<std::string> post_server(const ServerSpec& spec);
  // Return the server named spec.name if sclman made it for spec's cluster and role; an error if
  // someone else's server has that name.
  core::Result<std::optional<Server>> find_own(const ServerSpec& spec);
  // After a POST whose outcome is unknown (`e`), look for the server for one request timeout;
  // return it, nothing if it never appeared (lost: send again), or `e` if the run's deadline
  // comes first.
  core::Result<std::optional<Server>> await_unknown_create(const ServerSpec& spec, core::Error e);
  core::Result<void> wait_deleted(const std::string& name, const std::string& id);
  bool time_left(core::Millis delay_ms) const;
  // Wait `delay_ms` on the injected clock.
  void pause(core::Millis delay_ms) const;
  // Return the backoff of one call: k_attempts tries from `first` ms with jitter, within the
  // deadline; a Retry-After is the wait.
  http::Backoff backoff(core::Millis first) const;

  http::HttpTransport& m_http;
  core::Clock& m_clock;
  OpenStackOptions m_options;
  std::optional<openstack::Token> m_token;
  std::map<std::string, std::string> m_resolved;  // "flavor:NAME" -> id, for this run
};

// Return true if a failed create may still have been accepted by Nova (no answer, or a 500, 502
// or 504), so that sending it again could make a second server.
bool create_outcome_unknown(const core::Error& e);

// Return the error for an unsuccessful answer of `service` to `what` (STYLE.md §5, with one
// difference: a 403 over quota is upstream_rejected, since retrying cannot help until an
// operator raises the quota).
core::Error openstack_error(const std::string& service,
                            const std::string& what,
                            const http::HttpResponse& response);

} // namespace cloud
