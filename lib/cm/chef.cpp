#include "cm/chef.hpp"

#include "cm/local.hpp"
#include "core/file.hpp"
#include "core/log.hpp"
#include "http/encoding.hpp"
#include "http/retry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>

namespace cm {

using core::ErrorKind;
using core::fail;
using nlohmann::json;

namespace {

constexpr const char* k_service = "chef";

bool transient(const core::Error& e)
{
  return e.kind == ErrorKind::upstream_transient;
}

// Return the member `key` of `j` if `j` is an object that has it, else nullptr. Every reader of
// a server answer goes through this: the answer may have any shape.
const json* member(const json& j, const char* key)
{
  if (!j.is_object()) {
    return nullptr;
  }
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string string_at(const json& j, const char* key)
{
  const auto* m = member(j, key);
  return m && m->is_string() ? m->get<std::string>() : std::string();
}

const json* sclman_of(const json& node)
{
  const auto* normal = member(node, "normal");
  return normal ? member(*normal, "sclman") : nullptr;
}

// Return normal.sclman of `node`, made an object (and `node` one) if it is not.
json& sclman_attrs(json& node)
{
  if (!node.is_object()) {
    node = json::object();
  }
  if (!node.contains("normal") || !node["normal"].is_object()) {
    node["normal"] = json::object();
  }
  auto& s = node["normal"]["sclman"];
  if (!s.is_object()) {
    s = json::object();
  }
  return s;
}

} // namespace

core::Result<json> parse_chef_body(std::string_view body, const std::string& what)
{
  if (body.empty()) {
    return json::object();
  }
  try {
    return json::parse(body);
  } catch (const json::exception&) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("cannot parse the chef server's answer to {}", what), k_service);
  }
}

core::Result<ChefSearchPage> parse_chef_search_page(const json& answer, const std::string& query)
{
  const auto* rows = member(answer, "rows");
  const auto* total = member(answer, "total");
  if (!rows || !rows->is_array() || (total && !total->is_number_integer())) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("cannot parse the chef search for '{}'", query), k_service);
  }
  ChefSearchPage out;
  out.rows.assign(rows->begin(), rows->end());
  out.total = total ? static_cast<long>(total->get<std::int64_t>()) : 0;
  return out;
}

bool chef_node_registered(const json& node)
{
  const auto* automatic = member(node, "automatic");
  return automatic && member(*automatic, "ohai_time");
}

bool chef_node_registered_at(const json& node, const std::string& host, int port)
{
  if (!chef_node_registered(node) || string_at(node["automatic"], "ipaddress") != host) {
    return false;
  }
  const auto* s = sclman_of(node);
  const auto* p = s ? member(*s, "port") : nullptr;
  return p && p->is_number_integer() && p->get<std::int64_t>() == port;
}

void chef_node_register(json& node, const std::string& host, int port, core::Millis now)
{
  sclman_attrs(node)["port"] = port;
  if (!node["automatic"].is_object()) {
    node["automatic"] = json::object();
  }
  node["automatic"]["ipaddress"] = host;
  node["automatic"]["ohai_time"] = static_cast<double>(now) / 1000.0;
}

bool chef_node_set_in_service(json& node, bool in_service)
{
  auto& attrs = sclman_attrs(node);
  if (attrs.contains("in_service") && attrs["in_service"] == in_service) {
    return false;
  }
  attrs["in_service"] = in_service;
  return true;
}

std::string chef_node_name(const json& node)
{
  return string_at(node, "name");
}

std::string chef_node_cluster(const json& node)
{
  const auto* s = sclman_of(node);
  return s ? string_at(*s, "cluster") : std::string();
}

core::Millis chef_node_created_at(const json& node)
{
  const auto* s = sclman_of(node);
  const auto* c = s ? member(*s, "created_at") : nullptr;
  return c && c->is_number_integer() ? c->get<core::Millis>() : 0;
}

bool chef_node_placed(const json& node,
                      const std::string& environment,
                      const std::vector<std::string>& run_list)
{
  const auto* r = member(node, "run_list");
  return string_at(node, "chef_environment") == environment && r && *r == json(run_list);
}

core::Result<std::string> chef_client_key(const json& answer, const std::string& client)
{
  if (!answer.contains("private_key") || !answer["private_key"].is_string()) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("chef server returned no key for client '{}'", client), k_service);
  }
  return answer["private_key"].get<std::string>();
}

std::vector<std::string> chef_listing_names(const json& listing)
{
  std::vector<std::string> names;
  if (listing.is_object()) {
    for (const auto& [name, url] : listing.items()) {
      names.push_back(name);
    }
  }
  return names;
}

std::string chef_error_text(std::string_view body)
{
  std::string text;
  try {
    const auto j = json::parse(body);
    const auto& e = j.at("error");
    if (e.is_array()) {
      for (const auto& item : e) {
        text += (text.empty() ? "" : "; ") + (item.is_string() ? item.get<std::string>()
                                                               : item.dump());
      }
    } else {
      text = e.is_string() ? e.get<std::string>() : e.dump();
    }
  } catch (const json::exception&) {
    text = std::string(body);
  }
  if (text.size() > 200) {
    text = text.substr(0, 200) + "...";
  }
  return text;
}

core::Error chef_status_error(const http::HttpResponse& r,
                              const std::string& what,
                              const std::string& user_id)
{
  const auto text = chef_error_text(r.body);
  core::Error e;
  e.service = k_service;
  e.http_status = static_cast<int>(r.status);
  if (r.status == 401) {
    e.kind = ErrorKind::upstream_auth;
    if (text.find("clock") != std::string::npos) {
      e.message = fmt::format("chef server refused the time of {}: check this machine's clock "
                              "(it must be within the server's time slew): {}",
                              what,
                              text);
    } else {
      e.message = fmt::format("chef server refused the signature of '{}' for {}: check [CHEF] "
                              "client_name and client_key: {}",
                              user_id,
                              what,
                              text);
    }
  } else if (r.status == 403) {
    e.kind = ErrorKind::upstream_auth;
    e.message = fmt::format("chef server forbids '{}' {}: {}", user_id, what, text);
  } else if (r.status == 429 || r.status >= 500) {
    e.kind = ErrorKind::upstream_transient;
    e.message = fmt::format("chef server failed {} (HTTP {}): {}", what, r.status, text);
    if (const auto after = http::parse_retry_after(r.header("retry-after"))) {
      e.retry_after = std::chrono::seconds(*after);
    }
  } else if (r.status == 409) {
    e.kind = ErrorKind::upstream_rejected;
    e.message = fmt::format("cannot {}: already exists ({})", what, text);
  } else {
    e.kind = ErrorKind::upstream_rejected;
    e.message = fmt::format("chef server rejected {} (HTTP {}): {}", what, r.status, text);
  }
  return e;
}

ChefClient::ChefClient(http::HttpTransport& http,
                       core::Clock& clock,
                       ChefKey key,
                       ChefServerOptions options)
  : m_http(http), m_clock(clock), m_key(std::move(key)), m_options(std::move(options))
{
  while (!m_options.url.empty() && m_options.url.back() == '/') {
    m_options.url.pop_back();
  }
}

std::pair<std::string, std::string> ChefClient::resolve(const std::string& server_url,
                                                        const std::string& path)
{
  std::string base = server_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  // The path part of the server URL (/organizations/ORG) is part of what is signed.
  std::string prefix;
  if (const auto scheme = base.find("://"); scheme != std::string::npos) {
    if (const auto slash = base.find('/', scheme + 3); slash != std::string::npos) {
      prefix = base.substr(slash);
    }
  }
  return {base + path, prefix + path};
}

core::Result<http::HttpResponse> ChefClient::send(const std::string& method,
                                                  const std::string& path,
                                                  const std::string& body)
{
  const auto [url, signed_path] = resolve(m_options.url, path);
  const auto what = fmt::format("{} '{}'", method, chef_signed_path(signed_path));
  // Equal jitter from 250 ms up to 4 s, as long as the run's deadline allows (no deadline: no
  // retry), so that the copies of sclman a failure hit at once do not retry in step.
  http::Backoff backoff({.attempts = 0,
                         .first_backoff = 250,
                         .max_backoff = 4000,
                         .longest_wait = 0,
                         .deadline = m_options.deadline,
                         .deadline_margin = 100,
                         .retry_without_deadline = false});
  for (int attempt = 1;; ++attempt) {
    ChefSignInput in;
    in.method = method;
    in.path = signed_path;
    in.body = body;
    in.user_id = m_options.user_id;
    in.time = m_clock.now();
    in.version = m_options.version;
    TRY_ASSIGN(auto headers, chef_sign(m_key, in));
    http::HttpRequest request;
    request.method = method;
    request.url = url;
    request.body = body;
    request.headers = std::move(headers);
    request.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", "application/json");
    }
    request.timeout_ms = m_options.timeout_ms;
    const auto start = core::steady_now();
    if (m_options.deadline > 0) {
      request.timeout_ms = std::clamp<long>(m_options.deadline - start, 100, m_options.timeout_ms);
    }
    auto response = m_http.send(request);
    core::Error error;
    if (response) {
      spdlog::debug("chef.http method={} path={} status={} ms={}",
                    method,
                    chef_signed_path(signed_path),
                    response->status,
                    core::steady_now() - start);
      if (response->status < 400 || response->status == 404 || response->status == 409) {
        return response;
      }
      error = chef_status_error(*response, what, m_options.user_id);
    } else {
      error = response.error();
      error.service = k_service;
      error.message = fmt::format("cannot reach chef server for {}: {}", what, error.message);
    }
    if (!transient(error)) {
      return fail(error);
    }
    const auto wait = backoff.next(attempt, error.retry_after, m_clock.steady());
    if (!wait) {
      error.message += fmt::format(" (after {} attempts)", attempt);
      return fail(error);
    }
    spdlog::warn("chef.retry attempt={} wait_ms={} error={}",
                 attempt,
                 *wait,
                 core::log_quote(error.message));
    m_clock.sleep_for(*wait);
  }
}

core::Result<std::optional<json>> ChefClient::get(const std::string& path)
{
  TRY_ASSIGN(const auto r, send("GET", path, ""));
  if (r.status == 404) {
    return std::optional<json>{};
  }
  if (r.status >= 300) {
    return fail(chef_status_error(r, fmt::format("GET '{}'", path), m_options.user_id));
  }
  TRY_ASSIGN(auto j, parse_chef_body(r.body, fmt::format("GET '{}'", path)));
  return std::optional<json>{std::move(j)};
}

core::Result<json> ChefClient::create(const std::string& path, const json& body)
{
  const auto what = fmt::format("POST '{}'", path);
  TRY_ASSIGN(const auto r, send("POST", path, body.dump()));
  if (r.status >= 300) {
    return fail(chef_status_error(r, what, m_options.user_id));
  }
  return parse_chef_body(r.body, what);
}

core::Result<std::optional<json>> ChefClient::put(const std::string& path, const json& body)
{
  const auto what = fmt::format("PUT '{}'", path);
  TRY_ASSIGN(const auto r, send("PUT", path, body.dump()));
  if (r.status == 404) {
    return std::optional<json>{};
  }
  if (r.status >= 300) {
    return fail(chef_status_error(r, what, m_options.user_id));
  }
  TRY_ASSIGN(auto j, parse_chef_body(r.body, what));
  return std::optional<json>{std::move(j)};
}

core::Result<bool> ChefClient::remove(const std::string& path)
{
  TRY_ASSIGN(const auto r, send("DELETE", path, ""));
  if (r.status == 404) {
    return false;
  }
  if (r.status >= 300) {
    return fail(chef_status_error(r, fmt::format("DELETE '{}'", path), m_options.user_id));
  }
  return true;
}

core::Result<std::vector<json>> ChefClient::search_nodes(const std::string& query)
{
  std::vector<json> rows;
  constexpr int k_page = 1000;
  for (int start = 0;; start += k_page) {
    const auto path = fmt::format("/search/node?q={}&start={}&rows={}", http::url_encode(query),
                                  start, k_page);
    TRY_ASSIGN(const auto found, get(path));
    if (!found) {
      return fail(ErrorKind::upstream_rejected, "chef server has no node search index",
                  k_service);
    }
    TRY_ASSIGN(auto page, parse_chef_search_page(*found, query));
    const bool last = page.rows.empty();
    for (auto& row : page.rows) {
      rows.push_back(std::move(row));
    }
    if (last || static_cast<long>(rows.size()) >= page.total) {
      return rows;
    }
  }
}

// --- user data -----------------------------------------------------------------------------

namespace {

// A YAML scalar: JSON's double-quoted strings are valid YAML.
std::string yaml_string(const std::string& s)
{
  return json(s).dump();
}

void yaml_block(std::string& out, const std::string& indent, const std::string& text)
{
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    out += indent + line + "\n";
  }
}

} // namespace

std::string render_chef_user_data(const ChefUserData& d)
{
  std::string out = "#cloud-config\n";
  out += fmt::format("# sclman: Chef node '{}' of cluster '{}' ({}). The first chef-client run\n"
                     "# registers as that node; this document holds a private key.\n",
                     d.node_name,
                     d.cluster,
                     d.role);
  if (!d.client_key.empty()) {
    out += "write_files:\n";
    out += "  - path: /etc/chef/client.pem\n";
    out += "    owner: root:root\n";
    out += "    permissions: '0600'\n";
    out += "    content: |\n";
    yaml_block(out, "      ", d.client_key);
  }
  out += "chef:\n";
  out += "  install_type: omnibus\n";
  out += "  force_install: false\n";
  out += "  server_url: " + yaml_string(d.server_url) + "\n";
  out += "  node_name: " + yaml_string(d.node_name) + "\n";
  out += "  environment: " + yaml_string(d.environment) + "\n";
  if (!d.validation_name.empty()) {
    out += "  validation_name: " + yaml_string(d.validation_name) + "\n";
    out += "  validation_cert: |\n";
    yaml_block(out, "    ", d.validation_key);
  }
  out += "  run_list:\n";
  for (const auto& item : d.run_list) {
    out += "    - " + yaml_string(item) + "\n";
  }
  out += "  initial_attributes:\n";
  out += "    sclman:\n";
  out += "      cluster: " + yaml_string(d.cluster) + "\n";
  out += "      role: " + yaml_string(d.role) + "\n";
  out += "  exec: true\n";
  return out;
}

std::vector<std::string> parse_run_list(std::string_view text)
{
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) {
      item.remove_prefix(1);
    }
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      out.emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::vector<std::string> roles_of(const std::vector<std::string>& run_list)
{
  std::vector<std::string> out;
  for (const auto& item : run_list) {
    if (item.rfind("role[", 0) == 0 && item.size() > 6 && item.back() == ']') {
      out.push_back(item.substr(5, item.size() - 6));
    }
  }
  return out;
}

std::string chef_search_query(const std::string& web_role, const std::string& cluster)
{
  return fmt::format("role:{} AND chef_environment:{} AND sclman_in_service:true", web_role,
                     cluster);
}

std::string chef_node_address(const json& node)
{
  const auto* automatic = member(node, "automatic");
  const auto ip = automatic ? string_at(*automatic, "ipaddress") : std::string();
  if (ip.empty()) {
    return {};
  }
  std::int64_t port = 80;
  const auto* s = sclman_of(node);
  if (const auto* p = s ? member(*s, "port") : nullptr; p && p->is_number_integer()) {
    port = p->get<std::int64_t>();
  }
  if (port < 1 || port > 65535) {
    return {};  // no address to forward to
  }
  return fmt::format("{}:{}", ip, port);
}

// --- the bootstrapper ------------------------------------------------------------------------

core::Result<ChefBootstrapperSettings> chef_settings(const ChefConfig& c)
{
  ChefBootstrapperSettings s;
  s.lb_run_list = parse_run_list(c.lb_run_list);
  s.web_run_list = parse_run_list(c.web_run_list);
  s.drain_seconds = c.drain_seconds;
  s.register_timeout = c.register_timeout;
  if (roles_of(s.web_run_list).empty()) {
    return fail(ErrorKind::config,
                fmt::format("[CHEF] web_run_list '{}' names no role: the LB finds web nodes "
                            "by their role",
                            c.web_run_list));
  }
  if (c.validation_client_name.empty() != c.validation_key.empty()) {
    return fail(ErrorKind::config,
                "[CHEF] validation_client_name and validation_key go together: set both or "
                "neither");
  }
  if (!c.validation_key.empty()) {
    // Checked like the client key (owner-only file), then kept as text for the user data.
    TRY(ChefKey::from_file(c.validation_key));
    s.validation_name = c.validation_client_name;
    s.validation_key = core::read_file(c.validation_key).value_or(std::string());
  }
  return s;
}

ChefBootstrapper::ChefBootstrapper(ChefClient& chef,
                                   core::Clock& clock,
                                   ChefBootstrapperSettings settings,
                                   Bootstrapper* local)
  : m_chef(chef), m_clock(clock), m_settings(std::move(settings)), m_local(local)
{
}

core::Result<std::optional<json>> ChefBootstrapper::get_node(const std::string& name)
{
  TRY_ASSIGN(auto node, m_chef.get("/nodes/" + name));
  if (node && !node->is_object()) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("chef server answered GET '/nodes/{}' with a {}, not a node object",
                            name,
                            node->type_name()),
                k_service);
  }
  return node;
}

std::string ChefBootstrapper::web_role() const
{
  const auto roles = roles_of(m_settings.web_run_list);
  return roles.empty() ? std::string("web") : roles.front();
}

core::Result<void> ChefBootstrapper::prepare_cluster(const std::string& cluster)
{
  if (m_prepared.count(cluster)) {
    return {};
  }
  // Roles first: a cluster that cannot work leaves nothing behind on the server.
  for (const auto* list : {&m_settings.lb_run_list, &m_settings.web_run_list}) {
    for (const auto& role : roles_of(*list)) {
      TRY_ASSIGN(const auto found, m_chef.get("/roles/" + role));
      if (!found) {
        return fail(ErrorKind::config,
                    fmt::format("role '{}' does not exist on chef server '{}' (named by [CHEF] "
                                "{}_run_list): upload it first, e.g. knife role from file "
                                "etc/chef/roles/{}.json",
                                role,
                                m_chef.options().url,
                                list == &m_settings.lb_run_list ? "lb" : "web",
                                role),
                    k_service);
      }
    }
  }
  TRY_ASSIGN(const auto env, m_chef.get("/environments/" + cluster));
  if (!env) {
    const json body = {
      {"name", cluster},
      {"json_class", "Chef::Environment"},
      {"chef_type", "environment"},
      {"description", fmt::format("sclman cluster {}", cluster)},
      {"default_attributes", {{"sclman", {{"cluster", cluster}}}}},
      {"override_attributes", json::object()},
      {"cookbook_versions", json::object()},
    };
    auto made = m_chef.create("/environments", body);
    if (!made && made.error().http_status != 409) {
      return fail(made.error());
    }
    spdlog::info("chef.environment_created cluster={}", cluster);
  }
  m_prepared.insert(cluster);
  return {};
}

core::Result<void> ChefBootstrapper::retire_cluster(const std::string& cluster)
{
  TRY_ASSIGN(const bool deleted, m_chef.remove("/environments/" + cluster));
  spdlog::info("chef.environment_deleted cluster={} existed={}", cluster, deleted);
  m_prepared.erase(cluster);
  return {};
}

core::Result<std::string> ChefBootstrapper::ensure_client_key(const core::InstanceRef& i)
{
  auto made = m_chef.create("/clients", json{{"name", i.name}, {"admin", false}});
  if (!made && made.error().http_status == 409) {
    // A run died after creating the client: its key is lost with it, so make a new one.
    TRY_ASSIGN(made, m_chef.put("/clients/" + i.name,
                                json{{"name", i.name}, {"private_key", true}})
                       .and_then([&](std::optional<json> j) -> core::Result<json> {
                         if (!j) {
                           return fail(ErrorKind::upstream_transient,
                                       fmt::format("chef client '{}' vanished while its key was "
                                                   "renewed",
                                                   i.name),
                                       k_service);
                         }
                         return *j;
                       }));
    spdlog::info("chef.client_key_renewed cluster={} client={}", i.cluster, i.name);
  } else if (!made) {
    return fail(made.error());
  } else {
    spdlog::info("chef.client_created cluster={} client={}", i.cluster, i.name);
  }
  return chef_client_key(*made, i.name);
}

core::Result<json> ChefBootstrapper::ensure_node(const core::InstanceRef& i)
{
  const auto path = "/nodes/" + i.name;
  TRY_ASSIGN(auto found, get_node(i.name));
  const auto& run_list = i.role == "lb" ? m_settings.lb_run_list : m_settings.web_run_list;
  if (found) {
    // A node left by an earlier run (or made by the VM): make sure it is in the cluster's
    // environment with the role's run list.
    auto node = std::move(*found);
    if (!chef_node_placed(node, i.cluster, run_list)) {
      node["chef_environment"] = i.cluster;
      node["run_list"] = run_list;
      TRY(m_chef.put(path, node));
    }
    return node;
  }
  json node = {
    {"name", i.name},
    {"json_class", "Chef::Node"},
    {"chef_type", "node"},
    {"chef_environment", i.cluster},
    {"run_list", run_list},
    {"normal",
     {{"sclman",
       {{"cluster", i.cluster},
        {"role", i.role},
        {"in_service", false},
        {"created_at", m_clock.now()}}}}},
    {"default", json::object()},
    {"override", json::object()},
    {"automatic", json::object()},
  };
  auto made = m_chef.create("/nodes", node);
  if (!made && made.error().http_status == 409) {
    TRY_ASSIGN(auto again, get_node(i.name));
    if (again) {
      return *again;
    }
  } else if (!made) {
    return fail(made.error());
  }
  spdlog::info("chef.node_created cluster={} node={} environment={}", i.cluster, i.name,
               i.cluster);
  return node;
}

core::Result<std::string> ChefBootstrapper::user_data(const core::InstanceRef& i)
{
  TRY(prepare_cluster(i.cluster));
  ChefUserData d;
  d.server_url = m_chef.options().url;
  d.node_name = i.name;
  d.environment = i.cluster;
  d.run_list = i.role == "lb" ? m_settings.lb_run_list : m_settings.web_run_list;
  d.cluster = i.cluster;
  d.role = i.role;
  if (m_settings.validation_name.empty()) {
    TRY_ASSIGN(d.client_key, ensure_client_key(i));
  } else {
    d.validation_name = m_settings.validation_name;
    d.validation_key = m_settings.validation_key;
  }
  TRY(ensure_node(i));
  return render_chef_user_data(d);
}

core::Result<bool> ChefBootstrapper::bootstrap(const core::InstanceRef& i)
{
  TRY_ASSIGN(auto node, ensure_node(i));
  if (!m_local) {
    if (chef_node_registered(node)) {
      return true;
    }
    TRY_ASSIGN(const auto late, registration_overdue(i));
    if (late) {
      return fail(ErrorKind::upstream_rejected, *late, k_service);
    }
    return false;
  }
  TRY_ASSIGN(const bool up, m_local->bootstrap(i));
  if (!up) {
    return false;
  }
  // No chef-client runs on the local provider: write what its first run would (the
  // automatic attributes the LB's search reads) and the port the instance listens on.
  TRY_ASSIGN(const auto endpoint, instance_endpoint(i));
  const auto& host = endpoint.host;
  const int port = *endpoint.port;
  if (!chef_node_registered_at(node, host, port)) {
    chef_node_register(node, host, port, m_clock.now());
    TRY_ASSIGN(const auto put, m_chef.put("/nodes/" + i.name, node));
    if (!put) {
      return fail(ErrorKind::upstream_transient,
                  fmt::format("chef node '{}' vanished while it registered", i.name), k_service);
    }
    spdlog::info("chef.node_registered cluster={} node={} address={}", i.cluster, i.name,
                 i.address);
  }
  return true;
}

core::Result<bool> ChefBootstrapper::running(const core::InstanceRef& i)
{
  return m_local ? m_local->running(i) : core::Result<bool>(true);
}

core::Result<void> ChefBootstrapper::set_in_service(const core::InstanceRef& i, bool in_service)
{
  const auto path = "/nodes/" + i.name;
  TRY_ASSIGN(auto node, get_node(i.name));
  if (!node) {
    if (!in_service) {
      return {};  // gone: out of every search already
    }
    return fail(ErrorKind::upstream_rejected,
                fmt::format("cannot put '{}' in service: chef node not found", i.name), k_service);
  }
  if (!chef_node_set_in_service(*node, in_service)) {
    return {};
  }
  TRY(m_chef.put(path, *node));
  spdlog::info("chef.in_service cluster={} node={} value={}", i.cluster, i.name, in_service);
  return {};
}

core::Result<void> ChefBootstrapper::decommission(const core::InstanceRef& i)
{
  TRY_ASSIGN(const bool node, m_chef.remove("/nodes/" + i.name));
  TRY_ASSIGN(const bool client, m_chef.remove("/clients/" + i.name));
  spdlog::info("chef.decommissioned cluster={} node={} node_existed={} client_existed={}",
               i.cluster, i.name, node, client);
  if (m_local) {
    TRY(m_local->decommission(i));
  }
  return {};
}

core::Result<int> ChefBootstrapper::remove_orphans(const std::string& cluster,
                                                   const std::set<std::string>& live)
{
  int removed = 0;
  TRY_ASSIGN(const auto nodes, m_chef.get("/environments/" + cluster + "/nodes"));
  if (nodes) {
    for (const auto& name : chef_listing_names(*nodes)) {
      if (live.count(name)) {
        continue;
      }
      // Only what sclman made: the node carries its cluster attribute.
      TRY_ASSIGN(const auto node, m_chef.get("/nodes/" + name));
      if (!node || chef_node_cluster(*node) != cluster) {
        continue;
      }
      TRY(m_chef.remove("/nodes/" + name));
      TRY(m_chef.remove("/clients/" + name));
      spdlog::info("gc.chef_orphan_node cluster={} node={}", cluster, name);
      ++removed;
    }
  }
  TRY_ASSIGN(const auto clients, m_chef.get("/clients"));
  if (clients) {
    // Clients carry no attributes: sclman's are named <cluster>-(lb|web)-<serial>.
    const std::regex mine(cluster + "-(lb|web)-[0-9]+");
    for (const auto& name : chef_listing_names(*clients)) {
      if (live.count(name) || !std::regex_match(name, mine)) {
        continue;
      }
      TRY_ASSIGN(const auto node, m_chef.get("/nodes/" + name));
      if (node) {
        continue;  // a node outside the environment: not ours to judge
      }
      TRY(m_chef.remove("/clients/" + name));
      spdlog::info("gc.chef_orphan_client cluster={} client={}", cluster, name);
      ++removed;
    }
  }
  return removed;
}

core::Result<std::optional<std::string>>
ChefBootstrapper::registration_overdue(const core::InstanceRef& i)
{
  TRY_ASSIGN(auto node, get_node(i.name));
  if (!node || chef_node_registered(*node)) {
    return std::optional<std::string>{};
  }
  const auto created = chef_node_created_at(*node);
  const auto age_s = (m_clock.now() - created) / 1000;
  if (created == 0 || age_s <= m_settings.register_timeout) {
    return std::optional<std::string>{};
  }
  return std::optional<std::string>{
    fmt::format("chef node '{}' did not register within {} s (check cloud-init and chef-client "
                "on the server)",
                i.name,
                m_settings.register_timeout)};
}

} // namespace cm
