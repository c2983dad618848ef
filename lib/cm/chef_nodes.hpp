// Chef nodes as sclman reads and writes them: registration, membership
// (normal.sclman.in_service), placement, and the address the LB's search sees. Pure: no I/O.
#pragma once

#include "core/clock.hpp"
#include "core/endpoint.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace cm {

// Return whether `node` has run chef-client once (automatic.ohai_time is set).
bool chef_node_registered(const nlohmann::json& node);

// Return whether `node` has registered at `host` with sclman's port attribute `port`.
bool chef_node_registered_at(const nlohmann::json& node, const std::string& host, int port);

// Write on `node` what a first chef-client run at `host` would (automatic.ipaddress and
// ohai_time at `now` ms) and sclman's port attribute; parts that are not objects are replaced.
void chef_node_register(nlohmann::json& node, const std::string& host, int port, core::Millis now);

// Set normal.sclman.in_service of `node`; return false if it already had that value.
bool chef_node_set_in_service(nlohmann::json& node, bool in_service);

// Return the node's name, or "" if it has none.
std::string chef_node_name(const nlohmann::json& node);

// Return the cluster sclman recorded on the node (normal.sclman.cluster), or "".
std::string chef_node_cluster(const nlohmann::json& node);

// Return when sclman created the node (normal.sclman.created_at, epoch ms), or 0.
core::Millis chef_node_created_at(const nlohmann::json& node);

// Return whether the node is in environment `environment` with run list `run_list`.
bool chef_node_placed(const nlohmann::json& node,
                      const std::string& environment,
                      const std::vector<std::string>& run_list);

// Return the search query for the in-service web nodes of `cluster`.
std::string chef_search_query(const std::string& web_role, const std::string& cluster);

// Return the endpoint of a node as the LB's recipe sees it: automatic.ipaddress and
// normal.sclman.port (80 if unset), parsed by core::Endpoint (the node is written by the VM, so
// untrusted); nullopt if the node has no ipaddress yet. An ipaddress or port that does not
// parse is an error whose message names the attribute and quotes the value escaped.
core::Result<std::optional<core::Endpoint>> chef_node_address(const nlohmann::json& node);

} // namespace cm
