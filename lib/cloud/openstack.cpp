#include "cloud/openstack.hpp"

#include "core/log.hpp"
#include "http/encoding.hpp"
#include "http/retry.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace cloud {

std::string cluster_tag(const std::string& cluster)
{
  return "sclman:cluster=" + cluster;
}

std::string server_group_name(const std::string& cluster)
{
  return "sclman-" + cluster;
}

using core::ErrorKind;
using core::fail;
using nlohmann::json;
namespace os = openstack;

namespace {

constexpr core::Millis k_token_margin_ms = 5 * 60 * 1000;  // renew this long before expiry
constexpr int k_attempts = 4;                               // tries of one retryable call
constexpr core::Millis k_delete_wait_ms = 30'000;  // how long remove() waits for a 404
constexpr core::Millis k_unknown_poll_ms = 500;    // look-ups after a create of unknown outcome

std::string tokens_url(std::string url)
{
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  if (url.size() < 3 || url.substr(url.size() - 3) != "/v3") {
    url += "/v3";
  }
  return url + "/auth/tokens";
}

json token_to_json(const os::Token& t)
{
  json catalog = json::array();
  for (const auto& e : t.catalog) {
    catalog.push_back({{"type", e.type}, {"interface", e.interface}, {"region", e.region},
                       {"url", e.url}});
  }
  return {{"token", t.value}, {"expires_at", t.expires_at}, {"project_id", t.project_id},
          {"catalog", catalog}};
}

std::optional<os::Token> token_from_json(const json& j)
{
  try {
    os::Token t;
    t.value = j.at("token").get<std::string>();
    t.expires_at = j.at("expires_at").get<core::Millis>();
    t.project_id = j.value("project_id", "");
    for (const auto& e : j.at("catalog")) {
      t.catalog.push_back(os::Endpoint{e.at("type").get<std::string>(),
                                       e.at("interface").get<std::string>(),
                                       e.at("region").get<std::string>(),
                                       e.at("url").get<std::string>()});
    }
    return t;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

json read_cache(const std::string& path)
{
  std::ifstream in(path);
  if (!in) {
    return json::object();
  }
  try {
    auto j = json::parse(in);
    return j.is_object() ? j : json::object();
  } catch (const json::exception&) {
    return json::object();
  }
}

// Write `j` to `path` readable by its owner only, atomically.
void write_cache(const std::string& path, const json& j)
{
  const auto tmp = fmt::format("{}.tmp.{}", path, getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    spdlog::warn("openstack.token_cache_unwritable path={} error={}", path,
                 core::log_quote(std::strerror(errno)));
    return;
  }
  const auto text = j.dump();
  const bool ok = ::fchmod(fd, 0600) == 0
                  && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    spdlog::warn("openstack.token_cache_unwritable path={}", path);
  }
}

bool has_tag(const os::NovaServer& s, const std::string& tag)
{
  return std::find(s.tags.begin(), s.tags.end(), tag) != s.tags.end();
}

std::string tag_value(const os::NovaServer& s, const std::string& prefix)
{
  for (const auto& t : s.tags) {
    if (t.rfind(prefix, 0) == 0) {
      return t.substr(prefix.size());
    }
  }
  const auto key = prefix.substr(0, prefix.size() - 1);  // "sclman:cluster"
  const auto it = s.metadata.find(key);
  return it == s.metadata.end() ? std::string() : it->second;
}

// Return the server's role tag, parsed: a server whose tag names no role is not sclman's.
std::optional<core::Role> role_tag(const os::NovaServer& s)
{
  return core::parse_role(tag_value(s, "sclman:role="));
}

// Return true for a server sclman made: the sclman tag and a role it knows.
bool is_own(const os::NovaServer& s)
{
  return has_tag(s, k_sclman_tag) && role_tag(s).has_value();
}

bool looks_like_uuid(const std::string& s)
{
  if (s.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

} // namespace

core::Error openstack_error(const std::string& service,
                            const std::string& what,
                            const http::HttpResponse& r)
{
  const auto message = os::error_message(r.body);
  const auto status = static_cast<int>(r.status);
  core::Error e;
  e.service = service;
  e.http_status = status;
  e.message = fmt::format("{}: {} {} ({})", what, service, status, message);
  const auto retry_after = os::parse_retry_after(r.header("retry-after"));
  if (retry_after) {
    e.retry_after = std::chrono::seconds(*retry_after);
  }
  const bool quota = message.find("uota") != std::string::npos;
  if (status == 401) {
    e.kind = ErrorKind::upstream_auth;
  } else if (status == 403) {
    e.kind = quota ? ErrorKind::upstream_rejected : ErrorKind::upstream_auth;
    if (quota) {
      e.message = fmt::format("{}: quota exceeded ({})", what, message);
    }
  } else if (status == 429 || status >= 500 || (status == 413 && retry_after)) {
    e.kind = ErrorKind::upstream_transient;
  } else {
    e.kind = ErrorKind::upstream_rejected;
  }
  return e;
}

OpenStackProvider::OpenStackProvider(http::HttpTransport& http,
                                     core::Clock& clock,
                                     OpenStackOptions options)
  : m_http(http), m_clock(clock), m_options(std::move(options))
{
}

bool OpenStackProvider::time_left(core::Millis delay_ms) const
{
  return m_options.deadline == 0 || m_clock.steady() + delay_ms < m_options.deadline;
}

void OpenStackProvider::pause(core::Millis delay_ms) const
{
  m_clock.sleep_for(delay_ms);
}

http::Backoff OpenStackProvider::backoff(core::Millis first) const
{
  return http::Backoff({.attempts = k_attempts,
                        .first_backoff = first,
                        .max_backoff = 0,
                        .longest_wait = 0,
                        .deadline = m_options.deadline,
                        .deadline_margin = 0,
                        .retry_without_deadline = true,
                        .retry_after_is_wait = true});
}

core::Result<os::Token> OpenStackProvider::token()
{
  const auto now = m_clock.now();
  if (m_token && m_token->expires_at - now > k_token_margin_ms) {
    return *m_token;
  }
  const auto key = os::identity_key(m_options.credentials);
  if (!m_options.token_cache.empty()) {
    const auto cache = read_cache(m_options.token_cache);
    if (const auto it = cache.find(key); it != cache.end()) {
      if (auto t = token_from_json(*it); t && t->expires_at - now > k_token_margin_ms) {
        spdlog::debug("openstack.token_reused expires_in_s={}", (t->expires_at - now) / 1000);
        m_token = *t;
        return *m_token;
      }
    }
  }
  return authenticate();
}

core::Result<os::Token> OpenStackProvider::authenticate()
{
  const auto& c = m_options.credentials;
  http::HttpRequest request;
  request.method = "POST";
  request.url = tokens_url(c.auth_url);
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = os::auth_request_body(c);
  request.timeout_ms = m_options.timeout_ms;
  auto delays = backoff(500);
  for (int attempt = 1;; ++attempt) {
    auto response = m_http.send(request);
    std::optional<core::Error> error;
    if (!response) {
      error = response.error();
      error->service = "keystone";
    } else if (response->status == 201 || response->status == 200) {
      TRY_ASSIGN(auto t, os::parse_token(response->header("x-subject-token"), response->body));
      spdlog::info("openstack.authenticated source={} expires_in_s={}",
                   core::log_quote(c.source), (t.expires_at - m_clock.now()) / 1000);
      m_token = t;
      if (!m_options.token_cache.empty()) {
        auto cache = read_cache(m_options.token_cache);
        cache[os::identity_key(c)] = token_to_json(t);
        write_cache(m_options.token_cache, cache);
      }
      return t;
    } else {
      error = openstack_error("keystone",
                              fmt::format("cannot authenticate at '{}'",
                                          http::redact_url(request.url)),
                              *response);
      if (response->status == 401) {
        error->message += fmt::format(" (credentials from {})", c.source);
      }
    }
    if (error->kind != ErrorKind::upstream_transient) {
      return fail(*error);
    }
    const auto wait = delays.next(attempt, error->retry_after, m_clock.steady());
    if (!wait) {
      return fail(*error);
    }
    spdlog::warn("openstack.retry service=keystone attempt={} wait_ms={} error={}", attempt,
                 *wait, core::log_quote(error->message));
    pause(*wait);
  }
}

void OpenStackProvider::forget_token()
{
  m_token.reset();
  if (m_options.token_cache.empty()) {
    return;
  }
  auto cache = read_cache(m_options.token_cache);
  if (cache.erase(os::identity_key(m_options.credentials)) > 0) {
    write_cache(m_options.token_cache, cache);
  }
}

core::Result<bool> OpenStackProvider::offers(const std::string& service)
{
  TRY_ASSIGN(const auto t, token());
  return os::find_endpoint(t.catalog, service, m_options.credentials.interface,
                           m_options.credentials.region_name)
    .has_value();
}

core::Result<http::HttpResponse> OpenStackProvider::call(const Call& c)
{
  bool reauthenticated = false;
  auto delays = backoff(500);
  for (int attempt = 1;; ++attempt) {
    TRY_ASSIGN(const auto t, token());
    TRY_ASSIGN(const auto base,
               os::find_endpoint(t.catalog, c.service, m_options.credentials.interface,
                                 m_options.credentials.region_name));
    http::HttpRequest request;
    request.method = c.method;
    request.url = base + c.path;
    request.body = c.body;
    request.timeout_ms = m_options.timeout_ms;
    request.headers = {{"X-Auth-Token", t.value}, {"Accept", "application/json"}};
    if (!c.body.empty()) {
      request.headers.emplace_back("Content-Type", "application/json");
    }
    if (c.service == "compute") {
      request.headers.emplace_back("OpenStack-API-Version",
                                   fmt::format("compute {}", k_compute_microversion));
      request.headers.emplace_back("X-OpenStack-Nova-API-Version", k_compute_microversion);
    }
    const auto started = core::steady_now();
    auto response = m_http.send(request);
    std::optional<core::Error> error;
    if (!response) {
      error = response.error();
      error->service = c.service;
    } else {
      spdlog::debug("http method={} url={} status={} ms={}", c.method,
                    http::redact_url(request.url), response->status,
                    core::steady_now() - started);
      if (response->status == 401 && !reauthenticated) {
        // The token was revoked or expired early: one new token, then give up.
        spdlog::info("openstack.reauthenticate service={}", c.service);
        forget_token();
        reauthenticated = true;
        --attempt;
        continue;
      }
      if (response->status < 400) {
        return response;
      }
      if (response->status == 404) {
        return response;  // the caller decides what missing means
      }
      error = openstack_error(c.service,
                              fmt::format("{} {}", c.method, http::redact_url(request.url)),
                              *response);
      if (c.method == "DELETE" && response->status == 409) {
        error->kind = ErrorKind::upstream_transient;  // a task state that will pass
      }
    }
    if (error->kind != ErrorKind::upstream_transient || !c.retry) {
      return fail(*error);
    }
    const auto wait = delays.next(attempt, error->retry_after, m_clock.steady());
    if (!wait) {
      return fail(*error);
    }
    spdlog::warn("openstack.retry service={} attempt={} wait_ms={} error={}", c.service, attempt,
                 *wait, core::log_quote(error->message));
    pause(*wait);
  }
}

Server OpenStackProvider::to_server(const os::NovaServer& s) const
{
  Server out;
  out.id = s.id;
  out.name = s.name;
  out.cluster = tag_value(s, "sclman:cluster=");
  out.role = role_tag(s).value_or(core::Role::web);  // callers keep only is_own servers
  out.created = s.created;
  const std::string network = m_options.networks.empty() ? "" : m_options.networks.front();
  const auto fixed = os::fixed_address(s, looks_like_uuid(network) ? "" : network);
  if (s.status == "ACTIVE") {
    // The address is parsed (fixed_address) before anything uses it; one that does not parse
    // makes the server an error naming it, never an address kept as text.
    out.address_refused = true;
    if (!fixed) {
      out.status = ServerStatus::error;
      out.fault = fixed.error().message;
    } else if (!*fixed) {
      out.status = ServerStatus::error;
      out.fault = fmt::format("server '{}' is ACTIVE without a fixed address on network '{}'",
                              s.name, network);
    } else if (auto endpoint = core::Endpoint::from_ip(**fixed, m_options.web_port); !endpoint) {
      out.status = ServerStatus::error;
      out.fault = fmt::format("server '{}' has no address: {}", s.name, endpoint.error().message);
    } else {
      out.address_refused = false;
      out.status = ServerStatus::active;
      out.address = *endpoint;
    }
  } else if (s.status == "BUILD" || s.status == "REBUILD") {
    out.status = ServerStatus::building;
  } else if (s.status == "ERROR") {
    out.status = ServerStatus::error;
    out.fault = s.fault.empty() ? std::string("server is in ERROR (no fault given)")
                                : fmt::format("server is in ERROR: {}", s.fault);
  } else {
    out.status = ServerStatus::error;
    out.fault = fmt::format("server status is {}", s.status);
  }
  return out;
}

core::Result<std::vector<os::NovaServer>> OpenStackProvider::servers_named(const std::string& name)
{
  // ?name= is a regular expression: anchor and escape it, then compare exactly.
  TRY_ASSIGN(const auto r,
             call({"GET", "compute",
                   "/servers/detail?name=" + http::url_encode(os::exact_name_regex(name)), "",
                   true}));
  if (r.status == 404) {
    return fail(ErrorKind::upstream_rejected, "nova answered 404 to the server list", "nova");
  }
  TRY_ASSIGN(auto all, os::parse_servers(r.body));
  std::vector<os::NovaServer> out;
  for (auto& s : all) {
    if (s.name == name && s.status != "DELETED") {
      out.push_back(std::move(s));
    }
  }
  return out;
}

core::Result<std::optional<Server>> OpenStackProvider::find(const std::string& name)
{
  TRY_ASSIGN(const auto servers, servers_named(name));
  for (const auto& s : servers) {
    if (is_own(s)) {
      return std::optional<Server>{to_server(s)};
    }
  }
  return std::optional<Server>{};
}

core::Result<std::optional<Server>> OpenStackProvider::find_instance(const core::InstanceRef& i)
{
  if (i.cloud_id.empty()) {
    return find(i.name);
  }
  TRY_ASSIGN(const auto r, call({"GET", "compute", "/servers/" + i.cloud_id, "", true}));
  if (r.status == 404) {
    return std::optional<Server>{};
  }
  TRY_ASSIGN(const auto s, os::parse_server(r.body));
  if (s.status == "DELETED" || s.status == "SOFT_DELETED" || !is_own(s)) {
    return std::optional<Server>{};
  }
  return std::optional<Server>{to_server(s)};
}

core::Result<std::string> OpenStackProvider::resolve_flavor(const std::string& wanted)
{
  const auto key = "flavor:" + wanted;
  if (auto it = m_resolved.find(key); it != m_resolved.end()) {
    return it->second;
  }
  TRY_ASSIGN(const auto r, call({"GET", "compute", "/flavors", "", true}));
  TRY_ASSIGN(const auto items, os::parse_named_list(r.body, "flavors"));
  auto id = os::pick_one(items, wanted, "flavor");
  if (!id) {
    auto e = id.error();
    e.service = "nova";
    return fail(e);
  }
  m_resolved[key] = *id;
  return *id;
}

core::Result<std::string> OpenStackProvider::resolve_image(const std::string& wanted)
{
  const auto key = "image:" + wanted;
  if (auto it = m_resolved.find(key); it != m_resolved.end()) {
    return it->second;
  }
  // Nova's image proxy is gone after 2.35: ask Glance.
  TRY_ASSIGN(const auto r,
             call({"GET", "image", "/v2/images?limit=1000&name=" + http::url_encode(wanted), "",
                   true}));
  TRY_ASSIGN(auto items, os::parse_named_list(r.body, "images"));
  if (items.empty() && looks_like_uuid(wanted)) {
    TRY_ASSIGN(const auto byid, call({"GET", "image", "/v2/images/" + wanted, "", true}));
    if (byid.status == 200) {
      items.push_back(os::Named{wanted, ""});
    }
  }
  auto id = os::pick_one(items, wanted, "image");
  if (!id) {
    auto e = id.error();
    e.service = "glance";
    return fail(e);
  }
  m_resolved[key] = *id;
  return *id;
}

core::Result<std::string> OpenStackProvider::resolve_network(const std::string& wanted)
{
  const auto key = "network:" + wanted;
  if (auto it = m_resolved.find(key); it != m_resolved.end()) {
    return it->second;
  }
  if (looks_like_uuid(wanted)) {
    return wanted;
  }
  TRY_ASSIGN(const auto r,
             call({"GET", "network", "/v2.0/networks?name=" + http::url_encode(wanted), "",
                   true}));
  TRY_ASSIGN(const auto items, os::parse_named_list(r.body, "networks"));
  auto id = os::pick_one(items, wanted, "network");
  if (!id) {
    auto e = id.error();
    e.service = "neutron";
    return fail(e);
  }
  m_resolved[key] = *id;
  return *id;
}

core::Result<std::string> OpenStackProvider::post_server(const ServerSpec& spec)
{
  if (spec.flavor.empty() || spec.image.empty()) {
    return fail(ErrorKind::config,
                fmt::format("cannot create server '{}': no flavor or image set", spec.name));
  }
  TRY_ASSIGN(const auto flavor, resolve_flavor(spec.flavor));
  TRY_ASSIGN(const auto image, resolve_image(spec.image));
  std::vector<std::string> networks = m_options.networks;
  if (!spec.network.empty()) {
    networks = {spec.network};
  }
  json nets = json::array();
  for (const auto& n : networks) {
    TRY_ASSIGN(const auto id, resolve_network(n));
    nets.push_back({{"uuid", id}});
  }
  json server = {
    {"name", spec.name},
    {"flavorRef", flavor},
    {"imageRef", image},
    // Required from 2.37; "auto" lets Nova pick (or make) the project's network.
    {"networks", nets.empty() ? json("auto") : nets},
    {"metadata", {{"sclman:cluster", spec.cluster}, {"sclman:role", core::to_string(spec.role)}}},
    {"tags",
     {k_sclman_tag, cluster_tag(spec.cluster),
      fmt::format("sclman:role={}", core::to_string(spec.role))}},
  };
  if (!m_options.key_name.empty()) {
    server["key_name"] = m_options.key_name;
  }
  if (!spec.availability_zone.empty()) {
    server["availability_zone"] = spec.availability_zone;
  }
  if (!m_options.security_groups.empty()) {
    json groups = json::array();
    for (const auto& g : m_options.security_groups) {
      groups.push_back({{"name", g}});
    }
    server["security_groups"] = groups;
  }
  if (!spec.user_data.empty()) {
    auto encoded = http::base64(spec.user_data);
    if (encoded.size() > 65535) {
      return fail(ErrorKind::upstream_rejected,
                  fmt::format("cannot create server '{}': user data is {} bytes base64-encoded, "
                              "nova takes at most 65535",
                              spec.name, encoded.size()),
                  "nova");
    }
    server["user_data"] = std::move(encoded);
  }
  json body = {{"server", std::move(server)}};
  if (!spec.server_group.empty()) {
    TRY_ASSIGN(const auto group, ensure_server_group(spec.cluster, spec.server_group));
    body["os:scheduler_hints"] = {{"group", group}};
  }
  // Not retried blindly: a timeout may hide an accepted create; create() looks up first.
  TRY_ASSIGN(const auto r,
             call({"POST", "compute", "/servers", body.dump(), false}));
  if (r.status == 404) {
    return fail(openstack_error("nova", fmt::format("cannot create server '{}'", spec.name), r));
  }
  return os::parse_created_id(r.body);
}

core::Result<std::optional<Server>> OpenStackProvider::find_own(const ServerSpec& spec)
{
  TRY_ASSIGN(const auto same_name, servers_named(spec.name));
  for (const auto& s : same_name) {
    const auto server = to_server(s);
    if (!is_own(s) || server.cluster != spec.cluster || role_tag(s) != spec.role) {
      return fail(ErrorKind::upstream_rejected,
                  fmt::format("cannot create server '{}': a server sclman did not make for "
                              "this cluster has that name (id {})",
                              spec.name, s.id),
                  "nova");
    }
    spdlog::info("openstack.server_found server={} id={} status={}", spec.name, s.id, s.status);
    return std::optional<Server>{server};
  }
  return std::optional<Server>{};
}

bool create_outcome_unknown(const core::Error& e)
{
  // No answer at all (a reset or a timeout after the request went out), or a gateway's or
  // Nova's own 5xx: Nova may have accepted the create. 429, 413 and 503 say it did not act.
  return e.http_status == 0 || e.http_status == 500 || e.http_status == 502
         || e.http_status == 504;
}

core::Result<Server> OpenStackProvider::create(const ServerSpec& spec)
{
  auto delays = backoff(1000);
  for (int attempt = 1;; ++attempt) {
    TRY_ASSIGN(const auto found, find_own(spec));
    if (found) {
      return *found;
    }
    auto id = post_server(spec);
    if (id) {
      spdlog::info("openstack.server_created server={} id={}", spec.name, *id);
      Server out;
      out.id = *id;
      out.name = spec.name;
      out.cluster = spec.cluster;
      out.role = spec.role;
      out.status = ServerStatus::building;
      return out;
    }
    auto e = id.error();
    if (e.kind != ErrorKind::upstream_transient || attempt >= k_attempts) {
      e.message = fmt::format("cannot create server '{}': {}", spec.name, e.message);
      return fail(e);
    }
    if (create_outcome_unknown(e)) {
      // Nova may still be working on a create the client gave up on: an immediate look-up
      // misses it and a second POST makes a duplicate. Look for it for as long as one request
      // may take; only then is it lost and may be sent again.
      TRY_ASSIGN(const auto late, await_unknown_create(spec, e));
      if (late) {
        return *late;
      }
      continue;  // the loop's look-up comes first, as always
    }
    const auto wait = delays.next(attempt, e.retry_after, m_clock.steady());
    if (!wait) {
      e.message = fmt::format("cannot create server '{}': {}", spec.name, e.message);
      return fail(e);
    }
    spdlog::warn("openstack.retry service=nova op=create server={} attempt={} wait_ms={} "
                 "error={}",
                 spec.name, attempt, *wait, core::log_quote(e.message));
    pause(*wait);
  }
}

core::Result<std::optional<Server>> OpenStackProvider::await_unknown_create(const ServerSpec& spec,
                                                                           core::Error e)
{
  const core::Millis until = m_clock.steady() + m_options.timeout_ms;
  spdlog::warn("openstack.create_unknown server={} wait_ms={} error={}", spec.name,
               m_options.timeout_ms, core::log_quote(e.message));
  while (m_clock.steady() < until) {
    const core::Millis step = std::min<core::Millis>(k_unknown_poll_ms, until - m_clock.steady());
    if (!time_left(step)) {
      // The deadline comes first: the next run looks it up before it sends anything.
      e.message = fmt::format("cannot create server '{}': {} (nova may have accepted it: the "
                              "next run looks for it first)",
                              spec.name, e.message);
      return fail(e);
    }
    pause(step);
    TRY_ASSIGN(auto found, find_own(spec));
    if (found) {
      return found;
    }
  }
  spdlog::warn("openstack.create_lost server={} waited_ms={}", spec.name, m_options.timeout_ms);
  return std::optional<Server>{};
}

core::Result<void> OpenStackProvider::remove(const core::InstanceRef& instance)
{
  if (instance.role == core::Role::lb) {
    // An LB server's floating IP would outlive it (gc sweeps it if this is not reached).
    TRY(release_floating_ips(instance));
  }
  std::vector<std::string> ids;
  if (!instance.cloud_id.empty()) {
    ids.push_back(instance.cloud_id);
  } else {
    TRY_ASSIGN(const auto servers, servers_named(instance.name));
    for (const auto& s : servers) {
      if (has_tag(s, k_sclman_tag)) {
        ids.push_back(s.id);
      }
    }
  }
  for (const auto& id : ids) {
    TRY_ASSIGN(const auto r, call({"DELETE", "compute", "/servers/" + id, "", true}));
    spdlog::info("openstack.server_deleting server={} id={} status={}", instance.name, id,
                 r.status == 404 ? "already_gone" : "accepted");
    if (r.status != 404) {
      TRY(wait_deleted(instance.name, id));
    }
  }
  return {};
}

core::Result<void> OpenStackProvider::wait_deleted(const std::string& name, const std::string& id)
{
  // A 204 only means Nova accepted the delete: the compute service may still fail it and leave
  // the server in ERROR (seen with SQLite behind Nova: "database is locked"). The server is gone
  // only once Nova answers 404 (or DELETED); until then the instance stays `deleting` and a
  // later run sends the DELETE again.
  const core::Millis until = m_clock.steady() + k_delete_wait_ms;
  int redeletes = 0;
  os::NovaServer last;
  for (core::Millis delay = 500;; delay = std::min<core::Millis>(delay * 2, 2000)) {
    TRY_ASSIGN(const auto r, call({"GET", "compute", "/servers/" + id, "", true}));
    if (r.status == 404) {
      spdlog::info("openstack.server_deleted server={} id={}", name, id);
      return {};
    }
    TRY_ASSIGN(last, os::parse_server(r.body));
    if (last.status == "DELETED" || last.status == "SOFT_DELETED") {
      spdlog::info("openstack.server_deleted server={} id={} status={}", name, id, last.status);
      return {};
    }
    if (last.task_state.empty() && redeletes < 2) {
      // No delete under way (it failed, e.g. ERROR): ask again.
      spdlog::warn("openstack.delete_again server={} id={} status={} fault={}", name, id,
                   last.status, core::log_quote(last.fault));
      ++redeletes;
      TRY(call({"DELETE", "compute", "/servers/" + id, "", true}));
    }
    if (m_clock.steady() + delay > until || !time_left(delay)) {
      break;
    }
    pause(delay);
  }
  return fail(ErrorKind::upstream_transient,
              fmt::format("server '{}' ({}) still exists after its delete (status {}, task state "
                          "'{}'{}): the next run asks again",
                          name, id, last.status, last.task_state,
                          last.fault.empty() ? "" : ", fault: " + last.fault),
              "nova");
}

core::Result<std::vector<os::NovaServer>> OpenStackProvider::tagged_servers()
{
  std::vector<os::NovaServer> out;
  std::string marker;
  for (int page = 0; page < 100; ++page) {
    std::string path = "/servers/detail?limit=200&tags=" + std::string(k_sclman_tag);
    if (!marker.empty()) {
      path += "&marker=" + marker;
    }
    TRY_ASSIGN(const auto r, call({"GET", "compute", path, "", true}));
    TRY_ASSIGN(auto servers, os::parse_servers(r.body));
    if (servers.empty()) {
      break;
    }
    marker = servers.back().id;
    const bool full = servers.size() >= 200;
    for (auto& s : servers) {
      // Never trust a server-side filter for deciding what to delete: check the tag here.
      if (is_own(s) && s.status != "DELETED") {
        out.push_back(std::move(s));
      }
    }
    if (!full) {
      break;
    }
  }
  return out;
}

core::Result<std::vector<Server>> OpenStackProvider::list()
{
  TRY_ASSIGN(const auto servers, tagged_servers());
  std::vector<Server> out;
  for (const auto& s : servers) {
    out.push_back(to_server(s));
  }
  return out;
}

} // namespace cloud
