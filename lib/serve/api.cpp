#include "serve/api.hpp"

#include "core/exit_code.hpp"
#include "core/log.hpp"
#include "core/names.hpp"
#include "serve/routes.hpp"
#include "serve/token.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace serve {

using detail::Call;
using detail::Route;

namespace {

const char k_openapi[] =
#include "openapi.inc"
  ;

const std::vector<Route>& route_table()
{
  static const std::vector<Route> table = [] {
    std::vector<Route> t;
    t.push_back({{"GET", "/v1/openapi.json", Need::anyone}, false, [](Call&) {
                   Response r;
                   r.body = std::string(openapi_document());
                   return core::Result<Response>(std::move(r));
                 }});
    for (auto& r : detail::read_routes()) {
      t.push_back(std::move(r));
    }
    for (auto& r : detail::action_routes()) {
      t.push_back(std::move(r));
    }
    for (auto& r : detail::receiver_routes()) {
      t.push_back(std::move(r));
    }
    for (auto& r : detail::ui_routes()) {
      t.push_back(std::move(r));
    }
    return t;
  }();
  return table;
}

// Return true if `path` matches `pattern`, with the segments "{...}" matched in `params`.
bool match(std::string_view pattern, std::string_view path, std::vector<std::string>& params)
{
  params.clear();
  while (!pattern.empty() && !path.empty()) {
    if (pattern.front() != '/' || path.front() != '/') {
      return false;
    }
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const auto pe = pattern.find('/');
    const auto se = path.find('/');
    const auto want = pattern.substr(0, pe);
    const auto got = path.substr(0, se);
    if (want.starts_with('{')) {
      if (got.empty()) {
        return false;
      }
      params.emplace_back(got);
    } else if (want != got) {
      return false;
    }
    pattern.remove_prefix(want.size());
    path.remove_prefix(got.size());
  }
  return pattern.empty() && path.empty();
}

int rank(Need n)
{
  return static_cast<int>(n);
}

Need granted(state::TokenRole role)
{
  switch (role) {
  case state::TokenRole::viewer:
    return Need::viewer;
  case state::TokenRole::operator_:
    return Need::operator_;
  case state::TokenRole::admin:
    return Need::admin;
  }
  return Need::anyone;
}

const char* need_name(Need n)
{
  switch (n) {
  case Need::anyone:
    return "anyone";
  case Need::viewer:
    return "viewer";
  case Need::operator_:
    return "operator";
  case Need::admin:
    return "admin";
  case Need::receiver:
    return "receiver";
  case Need::session:
    return "session";
  }
  return "?";
}

core::Error error_of(core::ErrorKind kind, std::string message)
{
  return core::fail(kind, std::move(message)).value();
}

Response error_response(int status, const core::Error& e)
{
  Response r;
  r.status = status;
  r.body = error_body(e);
  return r;
}

} // namespace

std::string_view openapi_document()
{
  return k_openapi;
}

int http_status(core::ErrorKind kind)
{
  switch (kind) {
  case core::ErrorKind::usage:
    return 400;
  case core::ErrorKind::busy:
    return 409;
  case core::ErrorKind::upstream_transient:
    return 503;
  case core::ErrorKind::upstream_rejected:
  case core::ErrorKind::upstream_auth:
    return 502;
  case core::ErrorKind::config:
  case core::ErrorKind::state:
  case core::ErrorKind::internal:
    return 500;
  }
  return 500;
}

std::string error_body(const core::Error& e)
{
  return nlohmann::json{{"error",
                         {{"kind", core::to_string(e.kind)},
                          {"message", e.message},
                          {"exit_code", core::to_exit_code(e.kind)}}}}
    .dump();
}

Api::Api(ApiOptions options) : m_options(std::move(options)) {}

std::vector<RouteInfo> Api::routes()
{
  std::vector<RouteInfo> out;
  for (const auto& r : route_table()) {
    if (r.info.need != Need::session) {
      out.push_back(r.info);
    }
  }
  return out;
}

namespace {

// Answer `request` with the route `route` (its path matched, with `params`).
Response answer(Api& api, const Request& request, const Route& route,
                std::vector<std::string> params, std::string& token_name, std::string& detail)
{
  const auto& o = api.options();
  auto store = state::Store::open(o.state, api.clock(),
                                  route.writes ? state::Access::read_write
                                               : state::Access::read_only);
  if (!store) {
    return error_response(500, store.error());
  }
  Call call{api, request, std::move(params), std::nullopt, &*store, 0, {}, {}, {}};
  if (route.info.need != Need::anyone && route.info.need != Need::receiver
      && route.info.need != Need::session) {
    const auto bearer = bearer_token(request.authorization);
    std::optional<state::Token> token;
    if (bearer) {
      auto found = store->token_by_hash(token_hash(*bearer));
      if (!found) {
        return error_response(500, found.error());
      }
      token = std::move(*found);
    }
    if (!token) {
      auto r = error_response(
        401, error_of(core::ErrorKind::usage,
                         bearer || request.authorization.empty()
                           ? "this needs a valid token: Authorization: Bearer sclman_..."
                           : "the Authorization header is not a bearer token sclman made"));
      r.headers["WWW-Authenticate"] = "Bearer realm=\"sclman\"";
      detail = "no valid token";
      return r;
    }
    token_name = token->name;
    if (rank(granted(token->role)) < rank(route.info.need)) {
      detail = fmt::format("role {} needs {}", state::to_string(token->role),
                           need_name(route.info.need));
      return error_response(
        403, error_of(core::ErrorKind::usage,
                         fmt::format("token '{}' has role {}; this needs {}", token->name,
                                     state::to_string(token->role), need_name(route.info.need))));
    }
    call.token = std::move(token);
  }
  auto result = route.handler(call);
  detail = call.audit_detail;
  if (!call.audit_token.empty()) {
    token_name = call.audit_token;
  }
  if (!result) {
    detail = result.error().message;
    auto r = error_response(call.status ? call.status : http_status(result.error().kind),
                            result.error());
    r.headers = call.headers;
    return r;
  }
  return std::move(*result);
}

} // namespace

Response Api::handle(const Request& request)
{
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> params;
  const Route* route = nullptr;
  std::string allow;
  for (const auto& r : route_table()) {
    if (!match(r.info.pattern, request.path, params)) {
      continue;
    }
    allow += (allow.empty() ? "" : ", ") + r.info.method;
    if (r.info.method == request.method) {
      route = &r;
      break;
    }
  }
  Response response;
  std::string token_name;
  std::string detail;
  if (!route && allow.empty()) {
    response = error_response(404, error_of(core::ErrorKind::usage,
                                               "no such route (GET /v1/openapi.json lists them)"));
  } else if (!route) {
    response = error_response(405, error_of(core::ErrorKind::usage,
                                               fmt::format("this route takes {}", allow)));
    response.headers["Allow"] = allow;
  } else {
    try {
      response = answer(*this, request, *route, params, token_name, detail);
    } catch (const std::exception& e) {
      spdlog::error("serve.exception method={} path={} error={}", request.method,
                    core::log_quote(request.path), core::log_quote(e.what()));
      response = error_response(500, error_of(core::ErrorKind::internal,
                                                 "unexpected error (see the server's log)"));
    }
  }
  const bool refused = response.status == 401 || response.status == 403;
  if (route && (route->writes || refused)) {
    auto store = state::Store::open(m_options.state, clock(), state::Access::read_write);
    auto written = store ? store->insert_audit(state::AuditRow{0, 0, token_name, request.method,
                                                                request.path, response.status,
                                                                detail})
                         : core::Result<void>(tl::make_unexpected(store.error()));
    if (!written) {
      spdlog::error("serve.audit_failed method={} path={} error={}", request.method,
                    core::log_quote(request.path), core::log_quote(written.error().message));
    }
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
  const auto level = route && !route->writes && response.status < 400 ? spdlog::level::debug
                                                                       : spdlog::level::info;
  spdlog::log(level, "serve.request method={} path={} status={} token={} ms={}", request.method,
              core::log_quote(request.path), response.status,
              token_name.empty() ? "-" : token_name, ms);
  return response;
}

namespace detail {

std::string Call::source() const
{
  return token ? "api:" + token->name : "api:";
}

core::Result<state::Cluster> Call::cluster()
{
  const auto& name = params.at(0);
  if (auto valid = core::validate_cluster_name(name); !valid) {
    status = 404;
    return tl::make_unexpected(valid.error());
  }
  TRY_ASSIGN(auto c, store->find_cluster(name));
  if (!c || !state::is_live(c->status)) {
    status = 404;
    return core::fail(core::ErrorKind::usage, fmt::format("no cluster named '{}'", name));
  }
  return std::move(*c);
}

core::Result<int> Call::int_param(const std::string& key, int lo, int hi, int fallback) const
{
  const auto it = request.query.find(key);
  if (it == request.query.end()) {
    return fallback;
  }
  auto v = core::parse_int_in(it->second, lo, hi);
  if (!v) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("query parameter '{}': '{}' is not an integer from {} to {}",
                                  key, core::printable(it->second, 40), lo, hi));
  }
  return *v;
}

core::Result<bool> Call::flag_param(const std::string& key) const
{
  const auto it = request.query.find(key);
  if (it == request.query.end()) {
    return false;
  }
  if (it->second == "1" || it->second == "true") {
    return true;
  }
  if (it->second == "0" || it->second == "false") {
    return false;
  }
  return core::fail(core::ErrorKind::usage,
                    fmt::format("query parameter '{}': '{}' is not 1, true, 0 or false", key,
                                core::printable(it->second, 40)));
}

Response json_response(int status, const nlohmann::json& body)
{
  Response r;
  r.status = status;
  r.body = body.dump(2);
  return r;
}

} // namespace detail

} // namespace serve
