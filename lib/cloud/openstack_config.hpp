// [OPENSTACK]: credentials and how servers are made.
#pragma once

#include "core/config.hpp"

#include <string>
#include <vector>

namespace cloud {

// OpenStack credentials when neither --os-cloud, OS_CLOUD nor OS_AUTH_URL name them, and how
// servers are made. Keys mirror the OS_* variables of an openrc file.
struct OpenStackConfig
{
  std::string cloud;          // an entry of clouds.yaml (overridden by OS_CLOUD, --os-cloud)
  std::string auth_url;       // Keystone, e.g. https://keystone.example:5000/v3
  std::string auth_type = "password";  // password or v3applicationcredential
  std::string username;
  std::string password;       // never logged
  std::string user_domain_name = "Default";
  std::string project_name;
  std::string project_domain_name = "Default";
  std::string application_credential_id;
  std::string application_credential_secret;  // never logged
  std::string region_name;    // empty: the first endpoint of the right interface
  std::string interface = "public";  // catalog interface: public, internal or admin
  std::string network;        // network name (or id) of the servers; its fixed address is used
  // External network (name or id) of an LB server's floating IP: the default of
  // create-cluster --floating-network; empty for none.
  std::string floating_network;
  // Policy of the Nova server group of a new cluster's servers: the default of create-cluster
  // --server-group; none, anti-affinity or soft-anti-affinity.
  std::string server_group = "none";
  // Availability zones a new cluster's web servers spread over: the default of create-cluster
  // --availability-zones; none: Nova picks.
  std::vector<std::string> availability_zones;
  std::string key_name;       // key pair injected into new servers (optional)
  std::string security_groups;  // comma-separated security group names (optional)
  int web_port = 80;          // port of the web service on each server
  std::string stand_in = "no";  // yes: tests only, a local nginx stands in for each server
  int orphan_grace = 600;     // seconds before gc deletes a tagged server the state does not know
  int request_timeout_ms = 30000;  // timeout of one API request
  std::string token_cache;    // 0600 token cache; empty: openstack-token.json beside the state
};

// Return the keys of [OPENSTACK].
std::vector<core::KeyDef> openstack_keys();

} // namespace cloud
