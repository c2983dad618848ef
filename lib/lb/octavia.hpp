// The Octavia balancer: a cluster's LB is an Octavia v2 load balancer (on [OCTAVIA]
// vip_subnet_id or vip_network_id) with one HTTP listener, one ROUND_ROBIN pool and an HTTP
// health monitor; its members are the cluster's in-service web instances. Everything sclman
// makes is named after the LB instance (NAME, NAME-http, NAME-pool, NAME-hm; a member after its
// web instance) and tagged `sclman` and `sclman:cluster=CLUSTER`; a create looks the name up
// first, so a create sent twice (or a run that died) makes nothing twice.
//
// Octavia refuses any change while the LB is PENDING_* (409 "... is immutable and cannot be
// updated."): each change waits for ACTIVE (polled within the run's deadline) and is sent again,
// after looking again for what it would create.
#pragma once

#include "core/clock.hpp"
#include "core/config.hpp"
#include "http/transport.hpp"
#include "lb/balancer.hpp"
#include "lb/octavia_parse.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lb {

// [OCTAVIA]: where the load balancers go and how their members are checked.
struct OctaviaConfig
{
  std::string vip_subnet_id;   // the VIP's subnet (one of these two must be set)
  std::string vip_network_id;  // or its network
  int listener_port = 80;      // the VIP's HTTP port
  std::string health_path = "/";      // the health monitor's GET
  std::string expected_codes = "200"; // what it counts as healthy: 200, 200-204, 200,301
  int health_delay = 5;        // seconds between checks
  int health_timeout = 3;      // seconds a check may take
  int health_max_retries = 3;  // successes before a member is ONLINE (and failures before ERROR)
  int active_timeout = 120;    // seconds a run waits for the LB to leave PENDING_*
};

// Return the keys of [OCTAVIA].
std::vector<core::KeyDef> octavia_keys();

namespace octavia {

// One call below the catalog's `load-balancer` endpoint, sent with the cloud's token
// (retry: may be sent again after a 5xx, 429 or timeout). 404 comes back as a response; any
// other 4xx and 5xx as the error openstack_error makes (its http_status set).
struct Call
{
  std::string method = "GET";
  std::string path;  // "/v2/lbaas/loadbalancers"
  std::string body;
  bool retry = true;
};
using Api = std::function<core::Result<http::HttpResponse>(const Call&)>;

// Return true if `e` is Octavia's 409 for a load balancer that is busy (PENDING_*).
bool is_immutable(const core::Error& e);

// Return the body of the POST of each object (pure, for the tests).
// `vip_port`: the id of a port sclman made for the VIP (empty: Octavia makes one on the
// configured subnet or network).
std::string loadbalancer_body(const std::string& name, const std::string& cluster,
                              const OctaviaConfig& config, const std::string& vip_port = {});
std::string member_body(const std::string& name, const std::string& cluster,
                        const core::Endpoint& endpoint);

} // namespace octavia

// Octavia v2 as sclman uses it. Waits on the injected clock, never past `deadline`.
class OctaviaClient
{
public:
  OctaviaClient(octavia::Api api, core::Clock& clock, OctaviaConfig config, core::Millis deadline);

  // Return the id of the VIP port for a new load balancer, given [OCTAVIA] (nullptr: none).
  using VipPort = std::function<core::Result<std::string>(const OctaviaConfig&)>;
  // Return the load balancer named `name` tagged for `cluster`, made if there is none (on the
  // port `vip_port` gives, when given).
  core::Result<octavia::LoadBalancer> ensure_loadbalancer(const std::string& name,
                                                          const std::string& cluster,
                                                          const VipPort& vip_port = nullptr);
  // Return the load balancer `id`, or nothing once Octavia no longer has it.
  core::Result<std::optional<octavia::LoadBalancer>> loadbalancer(const std::string& id);
  // Return the load balancer named `name` tagged for `cluster` (any cluster's when empty), or
  // nothing.
  core::Result<std::optional<octavia::LoadBalancer>> find_loadbalancer(const std::string& name,
                                                                       const std::string& cluster);
  // Return every load balancer tagged `sclman`.
  core::Result<std::vector<octavia::LoadBalancer>> tagged();
  // Wait until load balancer `id` is ACTIVE and return it; ERROR or gone is upstream_rejected,
  // still PENDING_* at the deadline or after active_timeout upstream_transient.
  core::Result<octavia::LoadBalancer> wait_active(const std::string& id);
  // Make the listener, pool and health monitor of load balancer `lb` (named `name`), each
  // only if it is missing; return the pool's id once the LB is ACTIVE.
  core::Result<std::string> ensure_pool(const octavia::LoadBalancer& lb, const std::string& cluster);
  // Return the id of the pool of the load balancer named `lb_name`, or nothing.
  core::Result<std::optional<std::string>> find_pool(const std::string& lb_name,
                                                     const std::string& cluster);
  // Return the id of the listener of the load balancer named `lb_name`, or nothing.
  core::Result<std::optional<std::string>> find_listener(const std::string& lb_name,
                                                         const std::string& cluster);
  // Return the members of pool `pool`.
  core::Result<std::vector<octavia::Member>> members(const std::string& pool);
  // The member changes below return once Octavia has applied them (the LB ACTIVE again), or
  // fail as wait_active does.
  // Add member `name` at `endpoint` unless the pool has a member of that name.
  core::Result<void> add_member(const std::string& lb_id, const std::string& pool,
                                const std::string& name, const std::string& cluster,
                                const core::Endpoint& endpoint);
  // Set member `member`'s weight.
  core::Result<void> set_weight(const std::string& lb_id, const std::string& pool,
                                const std::string& member, int weight);
  // Delete member `member` (gone already is success).
  core::Result<void> delete_member(const std::string& lb_id, const std::string& pool,
                                   const std::string& member);
  // Delete load balancer `id` with everything in it (?cascade=true) and return once Octavia
  // answers 404; gone already is success; still there at the deadline is upstream_transient.
  core::Result<void> delete_loadbalancer(const std::string& id);

  const OctaviaConfig& config() const { return m_config; }

private:
  // Send a change of load balancer `lb_id`: a 409 while it is busy waits for ACTIVE and sends
  // it again after `recheck` (which returns true when the change is already there); an answer
  // that is neither 409 nor success is the error.
  core::Result<http::HttpResponse> change(const std::string& lb_id, const octavia::Call& call,
                                          const std::function<core::Result<bool>()>& recheck);
  // Return the object `name` tagged for `cluster` of `collection` (listeners, pools,
  // healthmonitors), or nothing.
  core::Result<std::optional<octavia::Object>> find_object(const std::string& collection,
                                                           const std::string& name,
                                                           const std::string& cluster);
  // Return the id of find_object's object, or nothing.
  core::Result<std::optional<std::string>> find_id(const std::string& collection,
                                                   const std::string& name,
                                                   const std::string& cluster);
  // Return the id of object `name` of `collection` (listeners, pools, healthmonitors), made
  // with `body` if it is missing.
  core::Result<std::string> ensure_object(const std::string& lb_id, const std::string& collection,
                                          const std::string& key, const std::string& name,
                                          const std::string& cluster, const std::string& body);
  bool time_left(core::Millis wait) const;

  octavia::Api m_api;
  core::Clock& m_clock;
  OctaviaConfig m_config;
  core::Millis m_deadline;
};

// The balancer: the members of the LB's pool are exactly the backends. A member no longer
// among them gets weight 0 (drained: Octavia sends it no new connection) and is deleted only
// when its instance is deleted (remove_member, after the drain); one that comes back gets
// weight 1 again; one Octavia lost is added again.
class OctaviaBalancer final : public Balancer
{
public:
  explicit OctaviaBalancer(OctaviaClient& client) : m_client(client) {}

  core::Result<Applied> apply(const core::InstanceRef& lb,
                              const std::vector<Backend>& backends) override;
  // Return the members with a weight above 0.
  core::Result<std::vector<core::Endpoint>> current(const core::InstanceRef& lb) override;
  // Return "": Octavia's health monitor checks the members, nothing probes the VIP.
  std::string health_path() const override;
  // Return true: the health monitor checks the members (ERROR: failed its retries).
  bool checks_members() const override { return true; }
  // Delete the member of web instance `web` from its cluster's pool (nothing if there is none).
  core::Result<void> remove_member(const core::InstanceRef& web);

private:
  OctaviaClient& m_client;
};

} // namespace lb
