// The Chef server API client and the chef bootstrapper: one Chef environment per cluster, one
// Chef client and node per instance (validatorless: the API returns the client key, passed to
// the VM as cloud-init user data), membership as the node attribute normal.sclman.in_service.
#pragma once

#include "cm/bootstrapper.hpp"
#include "cm/chef_sign.hpp"
#include "core/clock.hpp"
#include "cm/chef_config.hpp"
#include "http/transport.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cm {

struct ChefServerOptions
{
  std::string url;      // http(s)://host[:port][/organizations/ORG]
  std::string user_id;  // client or user name
  ChefSignVersion version = ChefSignVersion::v1_3;
  long timeout_ms = 10000;  // per request
  core::Millis deadline = 0;  // steady-clock ms after which transient failures are not retried
};

// Return the error for a Chef API answer that is not a success (the one place statuses map to
// error kinds): 401/403 auth (clock skew named as such), 429 and 5xx transient, other 4xx
// rejected. `what` names the request ("GET '/nodes/x'").
core::Error chef_status_error(const http::HttpResponse& response,
                              const std::string& what,
                              const std::string& user_id);

// --- Pure readers of Chef server answers (no I/O; fuzzed by tests/fuzz/fuzz_chef.cpp). Each
// takes JSON of any shape: what the server sent decides nothing but the result. ------------

// Return the JSON of an answer body ({} when empty); upstream_rejected naming `what` when the
// body is not JSON.
core::Result<nlohmann::json> parse_chef_body(std::string_view body, const std::string& what);

struct ChefSearchPage
{
  std::vector<nlohmann::json> rows;
  long total = 0;
};

// Return the rows and total of one page of a /search/node answer ({"total":N,"start":S,
// "rows":[...]}); upstream_rejected naming `query` when it has another shape.
core::Result<ChefSearchPage> parse_chef_search_page(const nlohmann::json& answer,
                                                    const std::string& query);

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

// Return the private key of a POST /clients or PUT /clients/NAME answer; upstream_rejected
// naming `client` when there is none.
core::Result<std::string> chef_client_key(const nlohmann::json& answer, const std::string& client);

// Return the names of a listing answer (GET /clients, /environments/E/nodes: {"name":"url"}).
std::vector<std::string> chef_listing_names(const nlohmann::json& listing);

// Return the text of a Chef error body ({"error": [..]} or {"error": ".."}), at most 200
// characters; the raw body if it is not JSON.
std::string chef_error_text(std::string_view body);

class ChefClient
{
public:
  ChefClient(http::HttpTransport& http, core::Clock& clock, ChefKey key, ChefServerOptions options);

  // Return the object at `path` (below the server URL, e.g. "/nodes/web-1"), or nothing on 404.
  core::Result<std::optional<nlohmann::json>> get(const std::string& path);
  // Create an object: POST `body` to `path`. A duplicate (409) is an upstream_rejected error
  // with http_status 409.
  core::Result<nlohmann::json> create(const std::string& path, const nlohmann::json& body);
  // Replace the object at `path`; nothing on 404.
  core::Result<std::optional<nlohmann::json>> put(const std::string& path,
                                                  const nlohmann::json& body);
  // Delete the object at `path`; return false if it was already gone (404).
  core::Result<bool> remove(const std::string& path);
  // Return every node matching the Solr-style `query`.
  core::Result<std::vector<nlohmann::json>> search_nodes(const std::string& query);

  const ChefServerOptions& options() const { return m_options; }

  // Return the full URL and the signed path of `path` below the server URL.
  static std::pair<std::string, std::string> resolve(const std::string& server_url,
                                                     const std::string& path);

private:
  // Send one request, retrying transient failures with backoff until the deadline.
  core::Result<http::HttpResponse> send(const std::string& method,
                                        const std::string& path,
                                        const std::string& body);

  http::HttpTransport& m_http;
  core::Clock& m_clock;
  ChefKey m_key;
  ChefServerOptions m_options;
};

// What the VM's cloud-init needs for its first chef-client run.
struct ChefUserData
{
  std::string server_url;
  std::string node_name;
  std::string environment;
  std::vector<std::string> run_list;
  std::string client_key;       // validatorless: the node's own client key (PEM)
  std::string validation_name;  // classic: the validator the VM registers through
  std::string validation_key;   // classic: the validator's key (PEM)
  std::string cluster;
  std::string role;
};

// Return the #cloud-config document (cloud-init's `chef` module, the client key written to
// /etc/chef/client.pem with mode 0600 by `write_files`). It holds a secret: never log it.
std::string render_chef_user_data(const ChefUserData& data);

// Return the run list items of a [CHEF] *_run_list value ("role[web], recipe[x]").
std::vector<std::string> parse_run_list(std::string_view text);

// Return the roles named in a run list ("role[web]" -> "web").
std::vector<std::string> roles_of(const std::vector<std::string>& run_list);

// Return the search query for the in-service web nodes of `cluster`.
std::string chef_search_query(const std::string& web_role, const std::string& cluster);

// Return "host:port" of a node as the LB's recipe sees it: automatic.ipaddress and
// normal.sclman.port (80 if unset); empty if the node has no ipaddress.
std::string chef_node_address(const nlohmann::json& node);

struct ChefBootstrapperSettings
{
  std::vector<std::string> lb_run_list;
  std::vector<std::string> web_run_list;
  int drain_seconds = 30;
  int register_timeout = 600;
  std::string validation_name;  // optional, with validation_key
  std::string validation_key;   // PEM
};

// Return the settings from [CHEF], reading the validation key if one is configured.
core::Result<ChefBootstrapperSettings> chef_settings(const ChefConfig& config);

class ChefBootstrapper final : public Bootstrapper
{
public:
  // `local`, if set, starts the service on the local provider, where no chef-client runs:
  // sclman then registers the node itself (automatic.ipaddress, normal.sclman.port).
  ChefBootstrapper(ChefClient& chef,
                   core::Clock& clock,
                   ChefBootstrapperSettings settings,
                   Bootstrapper* local);

  core::Result<std::string> user_data(const core::InstanceRef& instance) override;
  core::Result<bool> bootstrap(const core::InstanceRef& instance) override;
  core::Result<bool> running(const core::InstanceRef& instance) override;
  core::Result<void> set_in_service(const core::InstanceRef& instance, bool in_service) override;
  core::Result<void> decommission(const core::InstanceRef& instance) override;
  core::Result<void> prepare_cluster(const std::string& cluster) override;
  core::Result<void> retire_cluster(const std::string& cluster) override;
  int drain_seconds() const override { return m_settings.drain_seconds; }
  core::Result<int> remove_orphans(const std::string& cluster,
                                   const std::set<std::string>& live) override;
  core::Result<std::optional<std::string>>
  registration_overdue(const core::InstanceRef& instance) override;

  // Return the role web nodes are searched by (the first role of web_run_list).
  std::string web_role() const;

private:
  // GET /nodes/NAME: nothing on 404, an error if the answer is not a JSON object.
  core::Result<std::optional<nlohmann::json>> get_node(const std::string& name);
  core::Result<nlohmann::json> ensure_node(const core::InstanceRef& instance);
  core::Result<std::string> ensure_client_key(const core::InstanceRef& instance);

  ChefClient& m_chef;
  core::Clock& m_clock;
  ChefBootstrapperSettings m_settings;
  Bootstrapper* m_local;
  std::set<std::string> m_prepared;
};

} // namespace cm
