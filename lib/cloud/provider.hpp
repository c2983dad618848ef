// Where instances run. One interface, one implementation per vendor (local, openstack).
#pragma once

#include "core/clock.hpp"
#include "core/endpoint.hpp"
#include "core/instance_ref.hpp"
#include "core/result.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cloud {

struct ServerSpec
{
  std::string name;     // deterministic, unique: the key for idempotent creates
  std::string cluster;  // tag sclman:cluster
  core::Role role = core::Role::web;  // tag sclman:role
  std::string flavor;
  std::string image;
  std::string network;
  std::string user_data;
  int port = 0;  // local provider: the port to listen on, 0 for a free one
  std::optional<core::IpAddress> listen;  // local provider: the address, nothing for 127.0.0.1
  // OpenStack: the policy of the cluster's server group ("anti-affinity",
  // "soft-anti-affinity"), empty for none.
  std::string server_group;
  // OpenStack: the availability zone to create it in, empty for the cloud's choice.
  std::string availability_zone;
  // An LB with a floating IP from this external network (empty: none). An Octavia LB then gets
  // a VIP port that sclman makes, so that the floating IP has a Neutron port to sit on.
  std::string floating_network;
};

enum class ServerStatus { building, active, error };

struct Server
{
  std::string id;
  std::string name;
  std::string cluster;
  core::Role role = core::Role::web;
  ServerStatus status = ServerStatus::building;
  // Where it answers, parsed by the driver at entry (a cloud's address that is no IP literal
  // makes the server an error naming it); nothing until it has one.
  std::optional<core::Endpoint> address;
  std::string fault;    // why it is in error
  // The cloud says it runs, but its address was refused (`fault` says why): an error for a
  // server on its way into service; one in service keeps the address parsed when it entered.
  bool address_refused = false;
  core::Millis created = 0;  // when the cloud made it (wall-clock ms), 0 if it does not say
};

// Return the address of `server` as the state file stores it ("" when it has none).
inline std::string address_text(const Server& server)
{
  return server.address ? server.address->to_string() : std::string();
}

class Provider
{
public:
  virtual ~Provider() = default;
  // Create the server, or return the one that already has spec.name and sclman's tags.
  virtual core::Result<Server> create(const ServerSpec& spec) = 0;
  // Return the server with sclman's tags named `name`, or nothing.
  virtual core::Result<std::optional<Server>> find(const std::string& name) = 0;
  // Return the server of `instance`: the one with its recorded cloud id if it has one (a
  // namesake, such as a create sent twice, is not it), else as find(instance.name).
  virtual core::Result<std::optional<Server>> find_instance(const core::InstanceRef& instance)
  {
    return find(instance.name);
  }
  // Delete the server and return once the cloud no longer has it; one already gone is success;
  // a delete accepted but not finished within the run is an upstream_transient error.
  virtual core::Result<void> remove(const core::InstanceRef& instance) = 0;
  // Return every server that carries sclman's tags (for gc).
  virtual core::Result<std::vector<Server>> list() = 0;
  // Give the server of `instance` an address from the external network `network` (a floating
  // IP, tagged for its cluster), or return the one it has; nothing if this provider gives none
  // (create-cluster refuses --floating-network for such a cluster).
  virtual core::Result<std::optional<core::IpAddress>>
  public_address(const core::InstanceRef& instance, const std::string& network)
  {
    (void)instance;
    (void)network;
    return std::optional<core::IpAddress>{};
  }
  // Remove what the cluster's servers shared (a Nova server group), once they are gone; absent
  // is success.
  virtual core::Result<void> retire_cluster(const std::string& cluster)
  {
    (void)cluster;
    return {};
  }
  // Delete the public addresses (floating IPs) this provider gave to servers that are gone;
  // with `dry_run` only count them. Return how many there were. gc calls it after remove_strays.
  virtual core::Result<int> remove_orphan_addresses(bool dry_run)
  {
    (void)dry_run;
    return 0;
  }
  // Remove what this provider leaves behind besides its servers (a process without its
  // server) whose instance is not among `live` names; with `dry_run` only count it. Return how
  // many there were. gc calls it after the orphan servers are gone.
  virtual core::Result<int> remove_strays(const std::set<std::string>& live, bool dry_run)
  {
    (void)live;
    (void)dry_run;
    return 0;
  }
};

} // namespace cloud
