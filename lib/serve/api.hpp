// The HTTP API of `sclman serve`, apart from any HTTP library: a request in, a response out.
// cmd/serve.cpp carries requests between it and cpp-httplib; the unit tests call it directly.
//
// Every request opens the state file itself (SQLite in WAL mode: reads go on while a chain run
// writes). A request is authenticated by its bearer token (sclman token create) and allowed by
// the token's role; a refused one, and every one that changes something, goes to the audit
// table with the token's name. Errors are JSON objects {"error": {"kind", "message",
// "exit_code"}} whose kind and exit code are the command line's for the same error.
#pragma once

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "state/location.hpp"
#include "state/model.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace serve {

struct Request
{
  std::string method;  // GET, POST, ...
  std::string path;    // without the query
  std::multimap<std::string, std::string> query;  // decoded
  std::string authorization;  // the Authorization header, "" if none
  std::string idempotency_key;  // the Idempotency-Key header, "" if none
  std::string cookie;           // the Cookie header, "" if none (the pages' session)
  std::string content_type;
  std::string body;
};

struct Response
{
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

// Who may call a route: anyone, a token with at least this role, (receiver) the token of the
// webhook receiver the path names, or (session) a page's session cookie: those two the route
// checks itself.
enum class Need { anyone, viewer, operator_, admin, receiver, session };

// A route of the API, as /v1/openapi.json documents it ("{name}" matches one path segment).
struct RouteInfo
{
  std::string method;
  std::string pattern;
  Need need = Need::viewer;
};

// What the API needs from the command line's code: the actions that run now (?now=1) as the
// command that does them runs, under the same cluster lock, with the same errors.
// What a request asks to create (POST /v1/clusters) or to change of a policy.
struct CreateSpec
{
  std::string name;
  int web = 0;
  std::optional<int> min;
  std::optional<int> max;
};
struct PolicySpec
{
  std::string policy;  // a preset, "" to keep the kind
  std::optional<int> min;
  std::optional<int> max;
};

struct Actions
{
  // Carry out size `to` on cluster `cluster` as `sclman scale-out|scale-in --cluster C --to N
  // [--force]` (`action` says which) does, recording decision source `source`; return what the
  // command prints with --json.
  std::function<core::Result<nlohmann::json>(const std::string& cluster,
                                             state::DecisionAction action, int to,
                                             const std::string& source, bool force)>
    resize_now;
  // create-cluster, delete-cluster and set-policy as the command line runs them.
  std::function<core::Result<nlohmann::json>(const CreateSpec&)> create_now;
  std::function<core::Result<nlohmann::json>(const std::string& cluster)> delete_now;
  std::function<core::Result<nlohmann::json>(const std::string& cluster, const PolicySpec&)>
    set_policy_now;
  // remove CLUSTER INSTANCE [--force], the decision's source `source`.
  std::function<core::Result<nlohmann::json>(const std::string& cluster,
                                             const std::string& instance,
                                             const std::string& source, bool force)>
    remove_now;
  // replace CLUSTER --instance INSTANCE: the rollout of that instance starts.
  std::function<core::Result<nlohmann::json>(const std::string& cluster,
                                             const std::string& instance)>
    replace_now;
};

struct ApiOptions
{
  state::Location state;  // where each request opens the state (Store::location())
  core::Config config;
  Actions actions;
  core::Clock* clock = nullptr;  // the state file's time (a test's); nothing: the system's
  bool tls = false;              // served over HTTPS: the session cookie is Secure
};

class Api
{
public:
  explicit Api(ApiOptions options);

  // Answer `request`. Never throws: an unexpected error is a 500 with kind internal.
  Response handle(const Request& request);

  // Return every route of the JSON API (not the pages under /ui), for the OpenAPI document's
  // test.
  static std::vector<RouteInfo> routes();

  const ApiOptions& options() const { return m_options; }
  core::Clock& clock() { return m_options.clock ? *m_options.clock : m_clock; }

private:
  ApiOptions m_options;
  core::SystemClock m_clock;
};

// Return the OpenAPI 3 document served at /v1/openapi.json (lib/serve/openapi.json).
std::string_view openapi_document();

// Return the HTTP status of an error of `kind` (usage 400, busy 409, state 500, ...).
int http_status(core::ErrorKind kind);

// Return the JSON error body for `error` at HTTP status `status`.
std::string error_body(const core::Error& error);

} // namespace serve
