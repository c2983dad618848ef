#include "core/config.hpp"

#include "core/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <pwd.h>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace core {

std::string_view trim(std::string_view s)
{
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

tl::unexpected<Error> bad_value(std::string_view value, const std::string& what)
{
  return fail(ErrorKind::config, fmt::format("invalid value '{}': expected {}", value, what));
}

std::string show_number(double x)
{
  return fmt::format("{}", x);
}

std::string show_list(const std::vector<std::string>& items)
{
  std::string out;
  for (const auto& i : items) {
    out += (out.empty() ? "" : ", ") + i;
  }
  return out;
}

Result<int> parse_int_in(std::string_view v, int lo, int hi)
{
  int out = 0;
  const auto* end = v.data() + v.size();
  auto [ptr, ec] = std::from_chars(v.data(), end, out);
  if (ec != std::errc() || ptr != end || out < lo || out > hi) {
    return bad_value(v, fmt::format("an integer from {} to {}", lo, hi));
  }
  return out;
}

Result<double> parse_double_in(std::string_view v, double lo, double hi)
{
  std::string s(v);
  char* end = nullptr;
  errno = 0;
  const double out = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno != 0 || !std::isfinite(out) || out < lo
      || out > hi) {
    return bad_value(v, fmt::format("a number from {} to {}", lo, hi));
  }
  return out;
}

Result<std::string> parse_one_of(std::string_view v, const std::vector<std::string>& allowed)
{
  for (const auto& a : allowed) {
    if (v == a) {
      return std::string(v);
    }
  }
  std::string list;
  for (const auto& a : allowed) {
    list += (list.empty() ? "" : ", ") + a;
  }
  return bad_value(v, fmt::format("one of {}", list));
}

Result<std::string> parse_text(std::string_view v)
{
  if (v.empty()) {
    return bad_value(v, "a non-empty value");
  }
  return std::string(v);
}

Result<std::string> parse_path(std::string_view v)
{
  if (v.empty() || v[0] != '/') {
    return bad_value(v, "an absolute path");
  }
  return std::string(v);
}

Result<std::string> parse_url(std::string_view v)
{
  if (v.substr(0, 7) != "http://" && v.substr(0, 8) != "https://") {
    return bad_value(v, "an http:// or https:// URL");
  }
  while (!v.empty() && v.back() == '/') {
    v.remove_suffix(1);
  }
  return std::string(v);
}

// The path of an HTTP request sclman makes (a health check): it goes into a URL as it is.
Result<std::string> parse_url_path(std::string_view v)
{
  if (v.empty() || v.front() != '/' || v.size() > 255
      || std::any_of(v.begin(), v.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u <= ' ' || u >= 0x7f;
         })) {
    return bad_value(v, "a path starting with '/', printable ASCII without blanks");
  }
  return std::string(v);
}

// Its value never appears in an error message.
Result<std::string> parse_secret(std::string_view v)
{
  if (v.empty()) {
    return fail(ErrorKind::config, "invalid value: expected a non-empty secret");
  }
  return std::string(v);
}

namespace {

// core's own sections; the drivers add theirs (driver_keys()).
std::vector<KeyDef> core_keys()
{
  using M = ManagerConfig;
  return {
    {"MANAGER", "man_flavor", text(&M::flavor)},
    {"MANAGER", "man_image", text(&M::image)},
    {"MANAGER", "man_sensitivity", int_in(&M::sensitivity, 1, 1000)},
    {"MANAGER", "man_high_load", double_in(&M::high_load, 0.0, 1e12)},
    {"MANAGER", "man_low_load", double_in(&M::low_load, 0.0, 1e12)},
    {"MANAGER", "man_cooldown", int_in(&M::cooldown, 0, 86400)},
    {"MANAGER", "man_min", int_in(&M::min_size, 1, 1000)},
    {"MANAGER", "man_max", int_in(&M::max_size, 1, 1000)},
    {"MANAGER", "man_drain_seconds", int_in(&M::drain_seconds, 0, 3600)},
    {"MANAGER", "man_boot_timeout", int_in(&M::boot_timeout, 1, 86400)},
    {"MANAGER", "man_failure_budget", int_in(&M::failure_budget, 1, 1000)},
    {"MANAGER", "man_decision_ttl", int_in(&M::decision_ttl, 1, 86400)},
    {"MANAGER", "man_run_deadline", int_in(&M::run_deadline, 1, 3600)},
    {"MANAGER", "man_ticks_per_minute", int_in(&M::ticks_per_minute, 1, 6)},
    {"MANAGER", "man_retention_days", int_in(&M::retention_days, 1, 3650)},
    {"MANAGER", "man_max_instances", int_in(&M::max_instances, 1, 100000)},
    {"STATE", "path", path(&StateConfig::path)},
    {"STATE", "url", text(&StateConfig::url)},
    {"STATE", "password_file", path(&StateConfig::password_file)},
    {"LOCAL", "health_timeout_ms", int_in(&LocalConfig::health_timeout_ms, 1, 60000)},
    {"LOCAL", "worker_connections", int_in(&LocalConfig::worker_connections, 16, 65536)},
    {"LOCAL", "instances_dir", path(&LocalConfig::instances_dir)},
    {"HEALTH", "path", url_path(&HealthConfig::path)},
    {"HEALTH", "interval", int_in(&HealthConfig::interval, 0, 60)},
    {"HEALTH", "timeout", int_in(&HealthConfig::timeout, 1, 60)},
    {"HEALTH", "healthy_threshold", int_in(&HealthConfig::healthy_threshold, 1, 10)},
    {"HEALTH", "unhealthy_threshold", int_in(&HealthConfig::unhealthy_threshold, 1, 10)},
    {"HEALTH", "grace", int_in(&HealthConfig::grace, 0, 86400)},
    {"METRICS", "max_age", int_in(&MetricsConfig::max_age, 1, 86400)},
    {"METRICS", "parallel", int_in(&MetricsConfig::parallel, 1, 1024)},
    {"TLS", "ca_bundle", path(&TlsConfig::ca_bundle)},
    {"TLS", "insecure", one_of(&TlsConfig::insecure, {"no", "yes"})},
    {"LOG", "level", one_of(&LogConfig::level, {"trace", "debug", "info", "warn", "error", "off"})},
  };
}

const std::vector<KeyDef>& key_defs()
{
  static const std::vector<KeyDef> defs = [] {
    auto all = core_keys();
    for (auto& d : driver_keys()) {
      all.push_back(std::move(d));
    }
    return all;
  }();
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

// Return the definition of key `key` in section `section`, or nullptr.
const KeyDef* find_key(std::string_view section, std::string_view key)
{
  for (const auto& d : key_defs()) {
    if (section == d.section && key == d.key) {
      return &d;
    }
  }
  return nullptr;
}

} // namespace

Result<HealthConfig> health_over(const HealthConfig& base, std::string_view lines)
{
  Config config;
  config.health = base;
  std::istringstream in{std::string(lines)};
  std::string raw;
  std::set<std::string> seen;
  while (std::getline(in, raw)) {
    const auto line = trim(raw);
    if (line.empty()) {
      continue;
    }
    const auto eq = line.find('=');
    const auto key = trim(line.substr(0, eq == std::string_view::npos ? 0 : eq));
    const KeyDef* def = find_key("HEALTH", key);
    if (eq == std::string_view::npos || !def) {
      return fail(ErrorKind::config,
                  fmt::format("health '{}': expected KEY=VALUE with KEY one of path, interval, "
                              "timeout, healthy_threshold, unhealthy_threshold, grace",
                              log_quote(printable(line, 80))));
    }
    if (!seen.insert(std::string(key)).second) {
      return fail(ErrorKind::config, fmt::format("health key '{}' is set twice", key));
    }
    if (auto r = def->set(config, trim(line.substr(eq + 1))); !r) {
      return fail(ErrorKind::config, fmt::format("health key '{}': {}", key, r.error().message));
    }
  }
  return config.health;
}

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
    const KeyDef* def = find_key(section, key);
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
  if (config.manager.max_size > config.manager.max_instances) {
    return fail(ErrorKind::config,
                fmt::format("{}: man_max {} is above man_max_instances {}",
                            origin,
                            config.manager.max_size,
                            config.manager.max_instances));
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

Result<Config> load_config(const std::string& explicit_path, Perms perms)
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
  // A device, a fifo or a directory is refused before it is opened: /dev/zero would be read
  // forever, a fifo would block, and a directory reads as an empty file (the defaults).
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return fail(ErrorKind::config, fmt::format("config file '{}' is not a regular file", path));
  }
  std::ifstream file(path);
  if (!file) {
    if (must_exist || access(path.c_str(), F_OK) == 0) {
      return fail(ErrorKind::config, fmt::format("cannot read config file '{}'", path));
    }
    Config defaults;
    defaults.perms = perms;
    return defaults;
  }
  // It can hold passwords and names the binaries sclman runs.
  TRY(check_file_mode(path, "config file", 027, perms));
  std::stringstream buffer;
  buffer << file.rdbuf();
  TRY_ASSIGN(auto config, parse_config(buffer.str(), path));
  config.perms = perms;
  return config;
}

std::string resolve_state_path(const std::string& explicit_path, const Config& config)
{
  if (!explicit_path.empty()) {
    return explicit_path;
  }
  if (!config.state.path.empty()) {
    return config.state.path;
  }
  // Root's, and the package's system user's, whose home it is.
  if (geteuid() == 0) {
    return "/var/lib/sclman/sclman.db";
  }
  if (const passwd* pw = ::getpwuid(geteuid()); pw && std::string_view(pw->pw_name) == "sclman") {
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

Result<std::string> config_value(const Config& config, std::string_view section,
                                 std::string_view key)
{
  const KeyDef* def = find_key(section, key);
  if (!def) {
    return fail(ErrorKind::usage,
                fmt::format("unknown key '{}' in section [{}]", printable(key, 40),
                            printable(section, 40)));
  }
  if (!def->set.show) {
    return fail(ErrorKind::usage,
                fmt::format("key '{}' in section [{}] is a secret: it is not shown", key,
                            section));
  }
  return def->set.show(config);
}

} // namespace core
