// The Chef server API client: signed requests, the mapping of statuses to error kinds, and
// retries of transient failures; with the pure readers of its answers.
#pragma once

#include "cm/chef_sign.hpp"
#include "core/clock.hpp"
#include "http/transport.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cm {

// The service that errors from the Chef server name (core::Error::service).
inline constexpr const char* k_chef_service = "chef";

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

} // namespace cm
