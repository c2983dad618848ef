// [CHEF]: the Chef server the chef bootstrapper and the chef-search balancer use.
#pragma once

#include "core/config.hpp"

#include <string>
#include <vector>

namespace cm {

struct ChefConfig
{
  std::string server_url;              // Chef server, with /organizations/ORG for Chef Infra Server
  std::string client_name;             // the API client or user sclman signs requests as
  std::string client_key;              // its private key (a file only its owner may read)
  core::Perms perms = core::Perms::strict;  // not a key: the run's --insecure-perms
  std::string validation_client_name;  // optional: VMs register through this validator instead
  std::string validation_key;          // optional: the validator's key, put into user data
  std::string sign_version = "1.3";    // request signing protocol: 1.3 (SHA-256) or 1.0
  std::string lb_run_list = "role[lb]";    // run list of LB nodes, comma-separated
  std::string web_run_list = "role[web]";  // run list of web nodes, comma-separated
  int drain_seconds = 30;              // seconds the LB's chef-client needs to drop a node
  int register_timeout = 600;          // seconds a new node may take to register (first run)
  int request_timeout_ms = 10000;      // timeout of one Chef API request
};

// Return the keys of [CHEF].
std::vector<core::KeyDef> chef_keys();

} // namespace cm
