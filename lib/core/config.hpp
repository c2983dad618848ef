// sclman.conf: INI sections and keys, their defaults, and where the file is found.
#pragma once

#include "core/result.hpp"

#include <string>
#include <vector>

namespace core {

struct ManagerConfig
{
  std::string provider = "local";   // where instances run: local
  std::string flavor = "m1.small";  // cloud flavor for new servers (not used by local)
  std::string image = "debian-12";  // cloud image for new servers (not used by local)
  int sensitivity = 3;              // consecutive polls above/below a threshold before acting
  double high_load = 50.0;          // per-instance load above which a poll counts as high
  double low_load = 10.0;           // per-instance load below which a poll counts as calm
  int cooldown = 120;               // seconds after a scaling action before the next one
  int min_size = 1;                 // default --min for create-cluster
  int max_size = 10;                // default --max for create-cluster
  int drain_seconds = 10;           // seconds between leaving the LB and being deleted
  int boot_timeout = 300;           // seconds an instance may take to reach service
  int failure_budget = 3;           // failed actions in a row before scaling stops
  int decision_ttl = 300;           // seconds a pending decision stays valid
  int run_deadline = 50;            // seconds one run may take (shorter than the cron period)
  int retention_days = 7;           // days of load samples gc keeps
};

struct StateConfig
{
  std::string path;  // the state file; empty means the default location
};

struct LocalConfig
{
  std::string nginx = "/usr/sbin/nginx";  // the nginx binary for web instances and the LB
  int health_timeout_ms = 2000;           // per-request timeout of health checks and polls
  int worker_connections = 1024;          // worker_connections of each nginx
};

struct MetricsConfig
{
  std::string source = "stub_status";  // default of create-cluster --metrics: stub_status,
                                        // prometheus, sensu (Core 1.x) or sensu_go
  int max_age = 180;                    // seconds after which a sample counts as missing
  int parallel = 64;                    // stub_status requests in flight at once
};

struct PrometheusConfig
{
  std::string url = "http://127.0.0.1:9090";  // the Prometheus server
  // The instant query, one per tick: CPU utilisation (%) per node_exporter instance.
  std::string query =
    "100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[2m])))";
  std::string label = "instance";  // the label that names the instance in each series
  std::string match = "host";      // the label value is the instance's address, host or name
  std::string user;                // basic auth (optional)
  std::string password;            // basic auth (optional; never logged)
  std::string bearer_token;        // Authorization: Bearer (optional; never logged)
  int timeout_ms = 5000;           // timeout of the query
};

// Sensu Core 1.x (GET /results) and how check output becomes a value (also for Sensu Go).
struct SensuConfig
{
  std::string url = "http://127.0.0.1:4567";  // the Sensu Core API
  std::string user;                            // basic auth (optional)
  std::string password;                        // basic auth (optional; never logged)
  std::string check = "load";                  // the check whose result is the load
  std::string format = "auto";  // auto, nagios, graphite, check_load, or status (seed mode)
  std::string metric = "load1, load_avg.one, load.avg";  // metric names looked for, in order
  double event_load = 100.0;    // status mode: the load a warning or critical result stands for
  std::string match = "name";   // the client (entity) is named by the instance's name or host
  int page_size = 1000;         // results (events) per request
  int timeout_ms = 5000;        // timeout of each request
};

// Sensu Go (GET /api/core/v2/namespaces/NS/events); check parsing as in [SENSU].
struct SensuGoConfig
{
  std::string url = "http://127.0.0.1:8080";  // the Sensu Go backend API
  std::string ns = "default";                  // the namespace (key `namespace`)
  std::string api_key;                         // Authorization: Key (never logged)
};

// OpenStack credentials when neither --os-cloud, OS_CLOUD nor OS_AUTH_URL name them, and how
// servers are made. Keys mirror the OS_* variables of an openrc file.
struct OpenStackConfig
{
  std::string cloud;          // an entry of clouds.yaml (overridden by OS_CLOUD, --os-cloud)
  std::string auth_url;       // Keystone, e.g. https://keystone.example:5000/v3
  std::string auth_type = "password";  // password or v3applicationcredential
  std::string username;
  std::string password;       // never logged
  std::string user_domain_name = "Default";
  std::string project_name;
  std::string project_domain_name = "Default";
  std::string application_credential_id;
  std::string application_credential_secret;  // never logged
  std::string region_name;    // empty: the first endpoint of the right interface
  std::string interface = "public";  // catalog interface: public, internal or admin
  std::string network;        // network name (or id) of the servers; its fixed address is used
  std::string key_name;       // key pair injected into new servers (optional)
  std::string security_groups;  // comma-separated security group names (optional)
  int web_port = 80;          // port of the web service on each server
  std::string stand_in = "no";  // yes: tests only, a local nginx stands in for each server
  int orphan_grace = 600;     // seconds before gc deletes a tagged server the state does not know
  int request_timeout_ms = 30000;  // timeout of one API request
  std::string token_cache;    // 0600 token cache; empty: openstack-token.json beside the state
};

struct ChefConfig
{
  std::string server_url;              // Chef server, with /organizations/ORG for Chef Infra Server
  std::string client_name;             // the API client or user sclman signs requests as
  std::string client_key;              // its private key (a file only its owner may read)
  std::string validation_client_name;  // optional: VMs register through this validator instead
  std::string validation_key;          // optional: the validator's key, put into user data
  std::string sign_version = "1.3";    // request signing protocol: 1.3 (SHA-256) or 1.0
  std::string lb_run_list = "role[lb]";    // run list of LB nodes, comma-separated
  std::string web_run_list = "role[web]";  // run list of web nodes, comma-separated
  int drain_seconds = 30;              // seconds the LB's chef-client needs to drop a node
  int register_timeout = 600;          // seconds a new node may take to register (first run)
  int request_timeout_ms = 10000;      // timeout of one Chef API request
};

// How HTTPS API servers (Keystone, Nova, Chef, Prometheus, Sensu) are verified.
struct TlsConfig
{
  std::string ca_bundle;         // PEM file of CAs to verify with instead of the system's
  std::string insecure = "no";   // yes: no certificate or host name verification (tests only)
};

struct LogConfig
{
  std::string level = "info";  // trace, debug, info, warn, error, off
};

// Every key sclman.conf accepts, with its default (git's GC_CONFIG_INIT).
struct Config
{
  std::string source;  // the file it was read from, empty for built-in defaults
  ManagerConfig manager;
  StateConfig state;
  LocalConfig local;
  MetricsConfig metrics;
  PrometheusConfig prometheus;
  SensuConfig sensu;
  SensuGoConfig sensu_go;
  LogConfig log;
  ChefConfig chef;
  TlsConfig tls;
  OpenStackConfig openstack;
};

// Return the config parsed from INI `text`; `origin` names the file in error messages.
Result<Config> parse_config(std::string_view text, const std::string& origin);

// Return the config found via `explicit_path` (--config), $SCLMAN_CONFIG, then
// /etc/sclman/sclman.conf, or the built-in defaults when none of them exists.
// A file named by --config or $SCLMAN_CONFIG must exist.
Result<Config> load_config(const std::string& explicit_path);

// Return the state file path: `explicit_path` (--state), the config's, else the default
// (/var/lib/sclman/sclman.db for root, $XDG_STATE_HOME/sclman/sclman.db otherwise).
std::string resolve_state_path(const std::string& explicit_path, const Config& config);

// Return "section.key" for every key parse_config accepts, in file order.
std::vector<std::string> config_keys();

} // namespace core
