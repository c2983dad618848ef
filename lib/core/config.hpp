// sclman.conf: INI sections and keys, their defaults, and where the file is found.
#pragma once

#include "core/file.hpp"
#include "core/result.hpp"

#include <any>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <vector>

namespace core {

struct ManagerConfig
{
  std::string provider = "local";   // where instances run (a provider of the registry)
  std::string flavor = "m1.small";  // cloud flavor for new servers (not used by local)
  std::string image = "debian-12";  // cloud image for new servers (not used by local)
  int sensitivity = 3;              // consecutive polls above/below a threshold before acting
  double high_load = 50.0;          // per-instance load above which a poll counts as high
  double low_load = 10.0;           // per-instance load below which a poll counts as calm
  int cooldown = 120;               // seconds after a scaling action before the next one
  int min_size = 1;                 // default --min for create-cluster
  int max_size = 10;                // default --max for create-cluster
  int drain_seconds = 300;          // the longest an instance drains before it is deleted
  int boot_timeout = 300;           // seconds an instance may take to reach service
  int failure_budget = 3;           // failed actions in a row before scaling stops
  int decision_ttl = 300;           // seconds a pending decision stays valid
  int run_deadline = 50;            // seconds one run may take (shorter than the cron period)
  int ticks_per_minute = 1;         // times the cron chain runs its steps in its minute (1 to 6)
  int retention_days = 7;           // days of load samples gc keeps
  int max_instances = 100;          // ceiling of any cluster's size (--max, policies, the state)
};

struct StateConfig
{
  std::string path;  // the state file; empty means the default location
  // A PostgreSQL database shared by several hosts (libpq connection string or URI, checked
  // by state::check_database_url when a command opens it); empty: the SQLite file at path.
  std::string url;
  std::string password_file;  // the database password, on its first line
};

// [LOCAL]: the local provider's timings; the driver registry adds the keys that name its
// programs.
struct LocalConfig
{
  int health_timeout_ms = 2000;           // per-request timeout of health checks and polls
  int worker_connections = 1024;          // worker_connections of each web server
  std::string instances_dir;              // where local instances live; empty: <state dir>/instances
};

// [HEALTH]: the HTTP check of every in-service web instance, run by each scale-out (once a
// tick of the cron chain). An instance that fails `unhealthy_threshold`
// checks in a row (`interval` apart) leaves the balancer at once; back after
// `healthy_threshold` passes in a row, replaced once it has been out for `grace` seconds.
struct HealthConfig
{
  std::string path = "/";      // what is requested; a status 200-399 passes
  int interval = 2;            // seconds between the checks of one failing instance in a run
  int timeout = 2;             // seconds one check may take
  int healthy_threshold = 2;   // passes in a row that bring an unhealthy instance back
  int unhealthy_threshold = 3; // failures in a row that take an instance out
  int grace = 120;             // seconds out of the balancer before it is replaced
};

struct MetricsConfig
{
  std::string source;  // default of create-cluster --metrics; empty: the registry's first
  int max_age = 180;    // seconds after which a sample counts as missing
  int parallel = 64;    // requests to instances in flight at once
};

// How HTTPS API servers (the drivers' services) are verified.
struct TlsConfig
{
  std::string ca_bundle;         // PEM file of CAs to verify with instead of the system's
  std::string insecure = "no";   // yes: no certificate or host name verification (tests only)
};

struct LogConfig
{
  std::string level = "info";  // trace, debug, info, warn, error, off
};

// Every key sclman.conf accepts, with its default (git's GC_CONFIG_INIT): core's sections
// here, each driver's in its own struct (section<T>()), its keys in its driver folder.
class Config
{
public:
  std::string source;  // the file it was read from, empty for built-in defaults
  // How files holding secrets are checked (--insecure-perms): the config file when it was
  // read, the private keys drivers read when they are.
  Perms perms = Perms::strict;
  ManagerConfig manager;
  StateConfig state;
  LocalConfig local;
  HealthConfig health;
  MetricsConfig metrics;
  LogConfig log;
  TlsConfig tls;

  // Return the driver section `T` (its defaults until a key of it is set).
  template <class T> const T& section() const
  {
    const auto it = m_sections.find(typeid(T));
    if (it == m_sections.end()) {
      static const T defaults{};
      return defaults;
    }
    return *std::any_cast<T>(&it->second);
  }
  template <class T> T& section()
  {
    auto& slot = m_sections[typeid(T)];
    if (!slot.has_value()) {
      slot = T{};
    }
    return *std::any_cast<T>(&slot);
  }

private:
  std::map<std::type_index, std::any> m_sections;
};

// Sets one key from its value; the error says what was expected.
using SetFn = std::function<Result<void>(Config&, std::string_view value)>;
// Returns a key's value in effect as sclman.conf would spell it.
using ShowFn = std::function<std::string(const Config&)>;

// How a key is set and, unless it is a secret, shown (`sclman config get`).
struct Setter
{
  SetFn set;
  ShowFn show;  // empty: the value is never shown (a secret)

  template <class F>
    requires std::is_invocable_r_v<Result<void>, F&, Config&, std::string_view>
  Setter(F f) : set(std::move(f))  // implicit: a bare setter function shows nothing
  {
  }
  Setter(SetFn s, ShowFn sh) : set(std::move(s)), show(std::move(sh)) {}

  Result<void> operator()(Config& c, std::string_view value) const { return set(c, value); }
};

struct KeyDef
{
  const char* section;
  const char* key;
  Setter set;
};

// Return the keys the drivers add (defined by the driver registry, lib/engine/drivers.cpp).
std::vector<KeyDef> driver_keys();

// Return `s` without leading and trailing blanks.
std::string_view trim(std::string_view s);

// Return the config error "invalid value 'VALUE': expected WHAT".
tl::unexpected<Error> bad_value(std::string_view value, const std::string& what);

// Return `x` as sclman.conf spells a number: "4", "0.5", "80.5".
std::string show_number(double x);
// Return a list as sclman.conf spells it: "az-1, az-2".
std::string show_list(const std::vector<std::string>& items);

// Parse a value; each returns the bad_value error when it does not fit.
Result<int> parse_int_in(std::string_view v, int lo, int hi);
Result<double> parse_double_in(std::string_view v, double lo, double hi);
Result<std::string> parse_one_of(std::string_view v, const std::vector<std::string>& allowed);
Result<std::string> parse_text(std::string_view v);     // non-empty
Result<std::string> parse_path(std::string_view v);     // absolute
Result<std::string> parse_url(std::string_view v);      // http(s)://, no trailing slash
Result<std::string> parse_url_path(std::string_view v); // '/...', printable ASCII, no blanks
Result<std::string> parse_secret(std::string_view v);   // non-empty, never shown

// Return the section struct `Group` of `config` (a Config or a const one): one of core's, else
// a driver's (its defaults when a const config has none of its keys).
template <class Group, class C> auto& group_of(C& config)
{
  if constexpr (std::is_same_v<Group, ManagerConfig>) {
    return config.manager;
  } else if constexpr (std::is_same_v<Group, StateConfig>) {
    return config.state;
  } else if constexpr (std::is_same_v<Group, LocalConfig>) {
    return config.local;
  } else if constexpr (std::is_same_v<Group, HealthConfig>) {
    return config.health;
  } else if constexpr (std::is_same_v<Group, MetricsConfig>) {
    return config.metrics;
  } else if constexpr (std::is_same_v<Group, LogConfig>) {
    return config.log;
  } else if constexpr (std::is_same_v<Group, TlsConfig>) {
    return config.tls;
  } else {
    return config.template section<Group>();
  }
}

// Return a Setter that stores parse(value) in `field` of its section; a text or number field
// is shown as it is.
template <class Group, class T, class Parse> Setter set_with(T Group::*field, Parse parse)
{
  SetFn set = [=](Config& c, std::string_view v) -> Result<void> {
    TRY_ASSIGN(auto out, parse(v));
    group_of<Group>(c).*field = std::move(out);
    return {};
  };
  ShowFn show;
  if constexpr (std::is_same_v<T, std::string>) {
    show = [=](const Config& c) { return group_of<Group>(c).*field; };
  } else if constexpr (std::is_arithmetic_v<T>) {
    show = [=](const Config& c) { return show_number(double(group_of<Group>(c).*field)); };
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    show = [=](const Config& c) { return show_list(group_of<Group>(c).*field); };
  }
  return Setter(std::move(set), std::move(show));
}

// Return the Setter of an integer, number, choice, text, absolute path, URL or secret key.
template <class Group> Setter int_in(int Group::*field, int lo, int hi)
{
  return set_with(field, [=](std::string_view v) { return parse_int_in(v, lo, hi); });
}
template <class Group> Setter double_in(double Group::*field, double lo, double hi)
{
  return set_with(field, [=](std::string_view v) { return parse_double_in(v, lo, hi); });
}
template <class Group>
Setter one_of(std::string Group::*field, std::vector<std::string> allowed)
{
  return set_with(field, [allowed](std::string_view v) { return parse_one_of(v, allowed); });
}
template <class Group> Setter text(std::string Group::*field)
{
  return set_with(field, parse_text);
}
template <class Group> Setter path(std::string Group::*field)
{
  return set_with(field, parse_path);
}
template <class Group> Setter url(std::string Group::*field)
{
  return set_with(field, parse_url);
}
template <class Group> Setter url_path(std::string Group::*field)
{
  return set_with(field, parse_url_path);
}
template <class Group> Setter secret(std::string Group::*field)
{
  auto s = set_with(field, parse_secret);
  s.show = nullptr;
  return s;
}

// Return `base` with the [HEALTH] keys of `lines` ("key = value", one a line, as
// create-cluster --health stores them for a cluster) set over it; the error names the key.
Result<HealthConfig> health_over(const HealthConfig& base, std::string_view lines);

// Return the config parsed from INI `text`; `origin` names the file in error messages.
Result<Config> parse_config(std::string_view text, const std::string& origin);

// Return the config found via `explicit_path` (--config), $SCLMAN_CONFIG, then
// /etc/sclman/sclman.conf, or the built-in defaults when none of them exists.
// A file named by --config or $SCLMAN_CONFIG must exist. A config file that others may read or
// its group may change is refused (check_file_mode), unless `perms` is Perms::insecure.
Result<Config> load_config(const std::string& explicit_path, Perms perms = Perms::strict);

// Return the state file path: `explicit_path` (--state), the config's, else the default
// (/var/lib/sclman/sclman.db for root and the user `sclman`, $XDG_STATE_HOME/sclman/sclman.db
// otherwise).
std::string resolve_state_path(const std::string& explicit_path, const Config& config);

// Return "section.key" for every key parse_config accepts, in file order.
std::vector<std::string> config_keys();

// Return the value of key `key` of section `section` in effect in `config` (its default when the
// file does not set it); a usage error for a key parse_config does not accept or a secret.
Result<std::string> config_value(const Config& config, std::string_view section,
                                 std::string_view key);

} // namespace core
