#include "core/config.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <unistd.h>

namespace core {

namespace {

using Setter = std::function<Result<void>(Config&, std::string_view value)>;

struct KeyDef
{
  const char* section;
  const char* key;
  Setter set;
};

std::string_view trim(std::string_view s)
{
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

tl::unexpected<Error> bad_value(std::string_view value, const char* what)
{
  return fail(ErrorKind::config, fmt::format("invalid value '{}': expected {}", value, what));
}


template <class Group> Setter int_in(Group Config::*group, int Group::*field, int lo, int hi)
{
  return [=](Config& c, std::string_view v) -> Result<void> {
    int out = 0;
    const auto* end = v.data() + v.size();
    auto [ptr, ec] = std::from_chars(v.data(), end, out);
    if (ec != std::errc() || ptr != end || out < lo || out > hi) {
      return bad_value(v, fmt::format("an integer from {} to {}", lo, hi).c_str());
    }
    (c.*group).*field = out;
    return {};
  };
}

template <class Group>
Setter double_in(Group Config::*group, double Group::*field, double lo, double hi)
{
  return [=](Config& c, std::string_view v) -> Result<void> {
    std::string s(v);
    char* end = nullptr;
    errno = 0;
    const double out = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || errno != 0 || !std::isfinite(out)
        || out < lo || out > hi) {
      return bad_value(v, fmt::format("a number from {} to {}", lo, hi).c_str());
    }
    (c.*group).*field = out;
    return {};
  };
}

template <class Group>
Setter one_of(Group Config::*group,
              std::string Group::*field,
              std::vector<std::string> allowed)
{
  return [=](Config& c, std::string_view v) -> Result<void> {
    for (const auto& a : allowed) {
      if (v == a) {
        (c.*group).*field = std::string(v);
        return {};
      }
    }
    std::string list;
    for (const auto& a : allowed) {
      list += (list.empty() ? "" : ", ") + a;
    }
    return bad_value(v, fmt::format("one of {}", list).c_str());
  };
}

template <class Group> Setter text(Group Config::*group, std::string Group::*field)
{
  return [=](Config& c, std::string_view v) -> Result<void> {
    if (v.empty()) {
      return bad_value(v, "a non-empty value");
    }
    (c.*group).*field = std::string(v);
    return {};
  };
}

template <class Group> Setter path(Group Config::*group, std::string Group::*field)
{
  return [=](Config& c, std::string_view v) -> Result<void> {
    if (v.empty() || v[0] != '/') {
      return bad_value(v, "an absolute path");
    }
    (c.*group).*field = std::string(v);
    return {};
  };
}

// An http:// or https:// URL, kept without a trailing slash.
template <class Group> Setter url(Group Config::*group, std::string Group::*field)
{
  return [=](Config& c, std::string_view v) -> Result<void> {
    if (v.substr(0, 7) != "http://" && v.substr(0, 8) != "https://") {
      return bad_value(v, "an http:// or https:// URL");
    }
    while (!v.empty() && v.back() == '/') {
      v.remove_suffix(1);
    }
    (c.*group).*field = std::string(v);
    return {};
  };
}

// A secret: any non-empty value. Its value never appears in an error message.
template <class Group> Setter secret(Group Config::*group, std::string Group::*field)
{
  return [=](Config& c, std::string_view v) -> Result<void> {
    if (v.empty()) {
      return fail(ErrorKind::config, "invalid value: expected a non-empty secret");
    }
    (c.*group).*field = std::string(v);
    return {};
  };
}

// A Chef run list: comma-separated role[NAME] or recipe[NAME] items.
template <class Group> Setter run_list(Group Config::*group, std::string Group::*field)
{
  return [=](Config& c, std::string_view v) -> Result<void> {
    std::string_view rest = v;
    while (true) {
      const auto comma = rest.find(',');
      const auto item = trim(rest.substr(0, comma));
      const bool role = item.substr(0, 5) == "role[";
      const bool recipe = item.substr(0, 7) == "recipe[";
      if ((!role && !recipe) || item.back() != ']' || item.size() < (role ? 7u : 9u)) {
        return bad_value(v, "a run list such as 'role[web], recipe[base]'");
      }
      if (comma == std::string_view::npos) {
        break;
      }
      rest = rest.substr(comma + 1);
    }
    (c.*group).*field = std::string(v);
    return {};
  };
}

const std::vector<KeyDef>& key_defs()
{
  using C = Config;
  using M = ManagerConfig;
  using O = OpenStackConfig;
  static const std::vector<KeyDef> defs = {
    {"MANAGER", "man_provider", one_of(&C::manager, &M::provider, {"local", "openstack"})},
    {"MANAGER", "man_flavor", text(&C::manager, &M::flavor)},
    {"MANAGER", "man_image", text(&C::manager, &M::image)},
    {"MANAGER", "man_sensitivity", int_in(&C::manager, &M::sensitivity, 1, 1000)},
    {"MANAGER", "man_high_load", double_in(&C::manager, &M::high_load, 0.0, 1e12)},
    {"MANAGER", "man_low_load", double_in(&C::manager, &M::low_load, 0.0, 1e12)},
    {"MANAGER", "man_cooldown", int_in(&C::manager, &M::cooldown, 0, 86400)},
    {"MANAGER", "man_min", int_in(&C::manager, &M::min_size, 1, 1000)},
    {"MANAGER", "man_max", int_in(&C::manager, &M::max_size, 1, 1000)},
    {"MANAGER", "man_drain_seconds", int_in(&C::manager, &M::drain_seconds, 0, 3600)},
    {"MANAGER", "man_boot_timeout", int_in(&C::manager, &M::boot_timeout, 1, 86400)},
    {"MANAGER", "man_failure_budget", int_in(&C::manager, &M::failure_budget, 1, 1000)},
    {"MANAGER", "man_decision_ttl", int_in(&C::manager, &M::decision_ttl, 1, 86400)},
    {"MANAGER", "man_run_deadline", int_in(&C::manager, &M::run_deadline, 1, 3600)},
    {"MANAGER", "man_retention_days", int_in(&C::manager, &M::retention_days, 1, 3650)},
    {"STATE", "path", path(&C::state, &StateConfig::path)},
    {"LOCAL", "nginx", path(&C::local, &LocalConfig::nginx)},
    {"LOCAL", "health_timeout_ms", int_in(&C::local, &LocalConfig::health_timeout_ms, 1, 60000)},
    {"LOCAL",
     "worker_connections",
     int_in(&C::local, &LocalConfig::worker_connections, 16, 65536)},
    {"METRICS",
     "source",
     one_of(&C::metrics, &MetricsConfig::source, {"stub_status", "prometheus", "sensu", "sensu_go"})},
    {"METRICS", "max_age", int_in(&C::metrics, &MetricsConfig::max_age, 1, 86400)},
    {"METRICS", "parallel", int_in(&C::metrics, &MetricsConfig::parallel, 1, 1024)},
    {"PROMETHEUS", "url", url(&C::prometheus, &PrometheusConfig::url)},
    {"PROMETHEUS", "query", text(&C::prometheus, &PrometheusConfig::query)},
    {"PROMETHEUS", "label", text(&C::prometheus, &PrometheusConfig::label)},
    {"PROMETHEUS",
     "match",
     one_of(&C::prometheus, &PrometheusConfig::match, {"address", "host", "name"})},
    {"PROMETHEUS", "user", text(&C::prometheus, &PrometheusConfig::user)},
    {"PROMETHEUS", "password", secret(&C::prometheus, &PrometheusConfig::password)},
    {"PROMETHEUS", "bearer_token", secret(&C::prometheus, &PrometheusConfig::bearer_token)},
    {"PROMETHEUS", "timeout_ms", int_in(&C::prometheus, &PrometheusConfig::timeout_ms, 1, 600000)},
    {"SENSU", "url", url(&C::sensu, &SensuConfig::url)},
    {"SENSU", "user", text(&C::sensu, &SensuConfig::user)},
    {"SENSU", "password", secret(&C::sensu, &SensuConfig::password)},
    {"SENSU", "check", text(&C::sensu, &SensuConfig::check)},
    {"SENSU",
     "format",
     one_of(&C::sensu, &SensuConfig::format, {"auto", "nagios", "graphite", "check_load", "status"})},
    {"SENSU", "metric", text(&C::sensu, &SensuConfig::metric)},
    {"SENSU", "event_load", double_in(&C::sensu, &SensuConfig::event_load, 0.0, 1e12)},
    {"SENSU", "match", one_of(&C::sensu, &SensuConfig::match, {"name", "host"})},
    {"SENSU", "page_size", int_in(&C::sensu, &SensuConfig::page_size, 1, 100000)},
    {"SENSU", "timeout_ms", int_in(&C::sensu, &SensuConfig::timeout_ms, 1, 600000)},
    {"SENSU_GO", "url", url(&C::sensu_go, &SensuGoConfig::url)},
    {"SENSU_GO", "namespace", text(&C::sensu_go, &SensuGoConfig::ns)},
    {"SENSU_GO", "api_key", secret(&C::sensu_go, &SensuGoConfig::api_key)},
    {"OPENSTACK", "cloud", text(&C::openstack, &O::cloud)},
    {"OPENSTACK", "os_auth_url", url(&C::openstack, &O::auth_url)},
    {"OPENSTACK",
     "os_auth_type",
     one_of(&C::openstack, &O::auth_type, {"password", "v3applicationcredential"})},
    {"OPENSTACK", "os_username", text(&C::openstack, &O::username)},
    {"OPENSTACK", "os_password", secret(&C::openstack, &O::password)},
    {"OPENSTACK", "os_user_domain_name", text(&C::openstack, &O::user_domain_name)},
    {"OPENSTACK", "os_project_name", text(&C::openstack, &O::project_name)},
    {"OPENSTACK", "os_project_domain_name", text(&C::openstack, &O::project_domain_name)},
    {"OPENSTACK",
     "os_application_credential_id",
     text(&C::openstack, &O::application_credential_id)},
    {"OPENSTACK",
     "os_application_credential_secret",
     secret(&C::openstack, &O::application_credential_secret)},
    {"OPENSTACK", "os_region_name", text(&C::openstack, &O::region_name)},
    {"OPENSTACK",
     "os_interface",
     one_of(&C::openstack, &O::interface, {"public", "internal", "admin"})},
    {"OPENSTACK", "network", text(&C::openstack, &O::network)},
    {"OPENSTACK", "key_name", text(&C::openstack, &O::key_name)},
    {"OPENSTACK", "security_groups", text(&C::openstack, &O::security_groups)},
    {"OPENSTACK", "web_port", int_in(&C::openstack, &O::web_port, 1, 65535)},
    {"OPENSTACK", "stand_in", one_of(&C::openstack, &O::stand_in, {"no", "yes"})},
    {"OPENSTACK", "orphan_grace", int_in(&C::openstack, &O::orphan_grace, 0, 864000)},
    {"OPENSTACK",
     "request_timeout_ms",
     int_in(&C::openstack, &O::request_timeout_ms, 100, 600000)},
    {"OPENSTACK", "token_cache", path(&C::openstack, &O::token_cache)},
    {"CHEF", "server_url", url(&C::chef, &ChefConfig::server_url)},
    {"CHEF", "client_name", text(&C::chef, &ChefConfig::client_name)},
    {"CHEF", "client_key", path(&C::chef, &ChefConfig::client_key)},
    {"CHEF", "validation_client_name", text(&C::chef, &ChefConfig::validation_client_name)},
    {"CHEF", "validation_key", path(&C::chef, &ChefConfig::validation_key)},
    {"CHEF", "sign_version", one_of(&C::chef, &ChefConfig::sign_version, {"1.3", "1.0"})},
    {"CHEF", "lb_run_list", run_list(&C::chef, &ChefConfig::lb_run_list)},
    {"CHEF", "web_run_list", run_list(&C::chef, &ChefConfig::web_run_list)},
    {"CHEF", "drain_seconds", int_in(&C::chef, &ChefConfig::drain_seconds, 0, 86400)},
    {"CHEF", "register_timeout", int_in(&C::chef, &ChefConfig::register_timeout, 10, 86400)},
    {"CHEF",
     "request_timeout_ms",
     int_in(&C::chef, &ChefConfig::request_timeout_ms, 100, 600000)},
    {"TLS", "ca_bundle", path(&C::tls, &TlsConfig::ca_bundle)},
    {"TLS", "insecure", one_of(&C::tls, &TlsConfig::insecure, {"no", "yes"})},
    {"LOG",
     "level",
     one_of(&C::log, &LogConfig::level, {"trace", "debug", "info", "warn", "error", "off"})},
  };
  return defs;
}

bool known_section(std::string_view name)
{
  for (const auto& d : key_defs()) {
    if (name == d.section) {
      return true;
    }
  }
  return false;
}

} // namespace

Result<Config> parse_config(std::string_view text, const std::string& origin)
{
  Config config;
  config.source = origin;
  std::string section;
  std::istringstream in{std::string(text)};
  std::string raw;
  int lineno = 0;
  std::map<std::string, int> seen;  // "SECTION.key" -> the line that set it
  auto at = [&](const std::string& what) {
    return fail(ErrorKind::config, fmt::format("{}:{}: {}", origin, lineno, what));
  };
  while (std::getline(in, raw)) {
    ++lineno;
    const auto line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') {
      continue;
    }
    if (line.front() == '[') {
      if (line.back() != ']') {
        return at(fmt::format("malformed section header '{}'", line));
      }
      section = std::string(trim(line.substr(1, line.size() - 2)));
      if (!known_section(section)) {
        return at(fmt::format("unknown section '{}'", section));
      }
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      // The line itself is not shown: it may be a secret's (a password with a typo).
      return at("expected 'key = value' (the line is not shown: it may hold a secret)");
    }
    const auto key = trim(line.substr(0, eq));
    const auto value = trim(line.substr(eq + 1));
    if (section.empty()) {
      return at(fmt::format("key '{}' outside of any section", key));
    }
    const KeyDef* def = nullptr;
    for (const auto& d : key_defs()) {
      if (section == d.section && key == d.key) {
        def = &d;
        break;
      }
    }
    if (!def) {
      return at(fmt::format("unknown key '{}' in section [{}]", key, section));
    }
    const auto [first, fresh] = seen.emplace(section + "." + std::string(key), lineno);
    if (!fresh) {
      return at(fmt::format("key '{}' in section [{}] is already set on line {}", key, section,
                            first->second));
    }
    if (auto r = def->set(config, value); !r) {
      return at(fmt::format("key '{}': {}", key, r.error().message));
    }
  }
  if (config.manager.min_size > config.manager.max_size) {
    return fail(ErrorKind::config,
                fmt::format("{}: man_min {} is greater than man_max {}",
                            origin,
                            config.manager.min_size,
                            config.manager.max_size));
  }
  if (config.manager.low_load >= config.manager.high_load) {
    return fail(ErrorKind::config,
                fmt::format("{}: man_low_load {} must be below man_high_load {}",
                            origin,
                            config.manager.low_load,
                            config.manager.high_load));
  }
  return config;
}

Result<Config> load_config(const std::string& explicit_path)
{
  std::string path = explicit_path;
  bool must_exist = !path.empty();
  if (path.empty()) {
    if (const char* env = std::getenv("SCLMAN_CONFIG"); env && *env) {
      path = env;
      must_exist = true;
    } else {
      path = "/etc/sclman/sclman.conf";
    }
  }
  std::ifstream file(path);
  if (!file) {
    if (must_exist || access(path.c_str(), F_OK) == 0) {
      return fail(ErrorKind::config, fmt::format("cannot read config file '{}'", path));
    }
    return Config{};
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  return parse_config(buffer.str(), path);
}

std::string resolve_state_path(const std::string& explicit_path, const Config& config)
{
  if (!explicit_path.empty()) {
    return explicit_path;
  }
  if (!config.state.path.empty()) {
    return config.state.path;
  }
  if (geteuid() == 0) {
    return "/var/lib/sclman/sclman.db";
  }
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg == '/') {
    return std::string(xdg) + "/sclman/sclman.db";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/state/sclman/sclman.db";
}

std::vector<std::string> config_keys()
{
  std::vector<std::string> out;
  for (const auto& d : key_defs()) {
    out.push_back(std::string(d.section) + "." + d.key);
  }
  return out;
}

} // namespace core
