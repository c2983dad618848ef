// Inside the API: a request being answered, and the table of routes (api.cpp dispatches,
// routes_read.cpp and routes_actions.cpp answer).
#pragma once

#include "serve/api.hpp"
#include "state/store.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace serve::detail {

// One request being answered by a route.
struct Call
{
  Api& api;
  const Request& request;
  std::vector<std::string> params;  // the path segments "{name}" matched, in order
  std::optional<state::Token> token;  // who asks (nothing on a route anyone may call)
  state::Store* store = nullptr;      // opened read-only, or for writing on a writing route
  int status = 0;         // the HTTP status of the error the route fails with, if not its kind's
  std::map<std::string, std::string> headers;  // headers of that error response (Retry-After)
  std::string audit_detail;           // what the audit row says the request did
  std::string audit_token;            // who the audit row names when no API token asked

  // Return the decision source of this caller: "api:TOKEN".
  std::string source() const;
  // Return the live cluster named by the path's {name}; a usage error (status 404) if none.
  core::Result<state::Cluster> cluster();
  // Return query parameter `key` as an integer in [lo, hi], `fallback` when absent; a usage
  // error names the parameter (its text is never echoed raw).
  core::Result<int> int_param(const std::string& key, int lo, int hi, int fallback) const;
  // Return true if query flag `key` is "1" or "true"; a usage error for another value.
  core::Result<bool> flag_param(const std::string& key) const;
};

using Handler = std::function<core::Result<Response>(Call&)>;

struct Route
{
  RouteInfo info;
  bool writes = false;  // opens the state file for writing and goes to the audit table
  Handler handler;
};

// Resize cluster `c` to `to` for the caller of `call`: checked as scale-out/scale-in --to,
// then a pending decision (202) or, with `now`, carried out at once (200); the answer as JSON.
// `force` (with `now`, and a token that may force) moves the policy's bound with the size.
core::Result<Response> resize_cluster(Call& call, const state::Cluster& c, int to, bool now,
                                      bool force = false);

// Remove web instance `instance` of `c` for the caller of `call`, as `sclman remove` does
// (?force=1, with a token that may force: below the minimum too); the answer carries the
// decision and the run as JSON.
core::Result<Response> remove_instance(Call& call, const state::Cluster& c,
                                       const std::string& instance);

// Replace web instance `instance` of `c` for the caller of `call`, as `sclman replace --instance`
// does: the rollout starts (202) and the chain carries it on; the answer carries it as JSON.
core::Result<Response> replace_instance(Call& call, const state::Cluster& c,
                                        const std::string& instance);

// Return a response with `body` as JSON.
Response json_response(int status, const nlohmann::json& body);

// The routes of routes_read.cpp (GET) and routes_actions.cpp (POST), and of the seed's
// /counters.json and /lbmembers.json.
std::vector<Route> read_routes();
std::vector<Route> action_routes();
std::vector<Route> receiver_routes();
std::vector<Route> ui_routes();

} // namespace serve::detail
