#include "core/config.hpp"
#include "local/nginx_config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_config {

TEST_CASE("parses the original tool's MANAGER keys", "[config]")
{
  const auto c = core::parse_config("# comment\n"
                                    "[MANAGER]\n"
                                    "man_sensitivity = 5\n"
                                    "man_flavor = m1.large\n"
                                    "man_high_load=80.5\n"
                                    "; another comment\n"
                                    "[LOCAL]\n"
                                    "nginx = /opt/nginx/sbin/nginx\n",
                                    "test.conf");
  REQUIRE(c);
  CHECK(c->manager.sensitivity == 5);
  CHECK(c->manager.flavor == "m1.large");
  CHECK(c->manager.high_load == Approx(80.5));
  CHECK(c->section<local::NginxConfig>().nginx == "/opt/nginx/sbin/nginx");
  CHECK(c->manager.cooldown == 120);  // default kept
}

TEST_CASE("names the file, line and key of a bad config", "[config]")
{
  struct Row
  {
    const char* text;
    const char* needle;
  };
  const Row rows[] = {
    {"[MANAGER]\nman_bogus = 1\n", "x.conf:2: unknown key 'man_bogus' in section [MANAGER]"},
    {"[NOPE]\n", "x.conf:1: unknown section 'NOPE'"},
    {"man_sensitivity = 1\n", "x.conf:1: key 'man_sensitivity' outside of any section"},
    {"[MANAGER]\nman_sensitivity = many\n", "x.conf:2: key 'man_sensitivity': invalid value"},
    {"[MANAGER]\nman_sensitivity = 0\n", "x.conf:2: key 'man_sensitivity'"},
    {"[MANAGER]\nman_high_load = nan\n", "x.conf:2: key 'man_high_load'"},
    {"[MANAGER]\njust text\n", "x.conf:2: expected 'key = value'"},
    {"[MANAGER\n", "x.conf:1: malformed section header"},
    {"[LOCAL]\nnginx = relative/nginx\n", "x.conf:2: key 'nginx': invalid value"},
    {"[MANAGER]\nman_min = 5\nman_max = 2\n", "man_min 5 is greater than man_max 2"},
    {"[MANAGER]\nman_low_load = 90\n", "man_low_load 90 must be below man_high_load"},
    {"[METRICS]\nsource = graphite\n", "x.conf:2: key 'source': invalid value 'graphite'"},
    {"[PROMETHEUS]\nurl = 127.0.0.1:9090\n", "x.conf:2: key 'url': invalid value"},
    {"[SENSU_GO]\napi_key =\n", "x.conf:2: key 'api_key': invalid value: expected a non-empty secret"},
    {"[MANAGER]\nman_min = 1\n[LOCAL]\n[MANAGER]\nman_min = 2\n",
     "x.conf:5: key 'man_min' in section [MANAGER] is already set on line 2"},
    {"[CHEF]\nserver_url = chef.example.com\n", "x.conf:2: key 'server_url': invalid value"},
    {"[OPENSTACK]\nos_auth_url = keystone:5000/v3\n", "x.conf:2: key 'os_auth_url': invalid value"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    const auto c = core::parse_config(row.text, "x.conf");
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == core::ErrorKind::config);
    CHECK_THAT(c.error().message, Catch::Contains(row.needle));
  }
}

TEST_CASE("a bad config line never shows a secret's value", "[config]")
{
  for (const char* text : {"[OPENSTACK]\nos_password hunter2-secret\n",
                           "[OPENSTACK]\nos_password = hunter2-secret\nhunter2-secret\n",
                           "[SENSU_GO]\napi_key: hunter2-secret\n",
                           "[TLS]\ninsecure = hunter2-secret\n"}) {
    INFO(text);
    const auto c = core::parse_config(text, "x.conf");
    REQUIRE_FALSE(c);
    if (std::string_view(text).find("insecure") == std::string_view::npos) {
      CHECK_THAT(c.error().message, !Catch::Contains("hunter2"));
    }
  }
  const auto tls = core::parse_config("[TLS]\nca_bundle = /etc/ssl/ca.pem\ninsecure = yes\n", "x.conf");
  REQUIRE(tls);
  CHECK(tls->tls.ca_bundle == "/etc/ssl/ca.pem");
  CHECK(tls->tls.insecure == "yes");
  CHECK_FALSE(core::parse_config("[TLS]\nca_bundle = ca.pem\n", "x.conf"));
}

TEST_CASE("documents every key in etc/sclman.conf", "[config]")
{
  const auto path = std::string(SCLMAN_SOURCE_DIR) + "/etc/sclman.conf";
  // Its mode in a checkout is git's (0644): its text is what is checked here.
  const auto c = core::load_config(path, core::Perms::insecure);
  REQUIRE(c);
  FILE* f = std::fopen(path.c_str(), "r");
  REQUIRE(f);
  std::string text;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
  }
  std::fclose(f);
  for (const auto& key : core::config_keys()) {
    const auto dot = key.find('.');
    INFO(key);
    CHECK(text.find("[" + key.substr(0, dot) + "]") != std::string::npos);
    CHECK(text.find(key.substr(dot + 1) + " =") != std::string::npos);
  }
}

TEST_CASE("a config named by --config must exist", "[config]")
{
  const auto c = core::load_config("/nonexistent/sclman.conf");
  REQUIRE_FALSE(c);
  CHECK(c.error().kind == core::ErrorKind::config);
}

TEST_CASE("a config that is not a regular file is a config error", "[config]")
{
  const auto dir = std::filesystem::temp_directory_path()
                   / ("sclman-test-config-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto fifo = (dir / "fifo.conf").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A directory read as a file is empty: the defaults, silently. A fifo would block the open.
  for (const auto& path : {dir.string(), fifo}) {
    INFO(path);
    const auto c = core::load_config(path);
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == core::ErrorKind::config);
    CHECK(c.error().message == "config file '" + path + "' is not a regular file");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("resolves the state path from flag, config, then default", "[config]")
{
  core::Config c;
  CHECK(core::resolve_state_path("/tmp/x.db", c) == "/tmp/x.db");
  c.state.path = "/srv/sclman.db";
  CHECK(core::resolve_state_path("", c) == "/srv/sclman.db");
}

TEST_CASE("an HTTP path from the config is a path and nothing else", "[config]")
{
  for (const char* good : {"/", "/ready", "/health?full=1", "/a/b-c_d.e~f%20"}) {
    auto p = core::parse_url_path(good);
    REQUIRE(p);
    CHECK(*p == good);
  }
  const std::string hostile[] = {"",
                                 "ready",
                                 "http://evil.example/",
                                 "/a b",
                                 "/a\tb",
                                 "/ready\r\nHost: evil",
                                 std::string("/a\0b", 4),
                                 "/caf\xc3\xa9",
                                 "/\x7f",
                                 "/" + std::string(255, 'a')};
  for (const auto& bad : hostile) {
    auto p = core::parse_url_path(bad);
    REQUIRE_FALSE(p);
    CHECK(p.error().kind == core::ErrorKind::config);
    CHECK(p.error().message.find("a path starting with '/'") != std::string::npos);
  }
  auto parsed = core::parse_config("[HEALTH]\npath = /ready\ngrace = 30\n", "t.conf");
  REQUIRE(parsed);
  CHECK(parsed->health.path == "/ready");
  CHECK(parsed->health.grace == 30);
  CHECK_FALSE(core::parse_config("[HEALTH]\nunhealthy_threshold = 0\n", "t.conf"));
}

TEST_CASE("a cluster's own [HEALTH] keys are set over the config's by the same key table",
          "[config]")
{
  core::HealthConfig base;
  base.grace = 300;
  auto h = core::health_over(base, "path = /custom\nunhealthy_threshold = 1\n");
  REQUIRE(h);
  CHECK(h->path == "/custom");
  CHECK(h->unhealthy_threshold == 1);
  CHECK(h->grace == 300);  // not set: the config's
  CHECK(core::health_over(base, "")->path == "/");
  const char* hostile[] = {"path = nope",          "path = /a b",
                           "grace = -1",           "interval = 1e9",
                           "nginx = /bin/sh",      "[MANAGER]\nman_min = 0",
                           "path",                 "path = /a\npath = /b",
                           "timeout = 2\r\n= 3",   "unhealthy_threshold = 0x3"};
  for (const char* bad : hostile) {
    INFO(bad);
    auto r = core::health_over(base, bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == core::ErrorKind::config);
    CHECK(r.error().message.rfind("health", 0) == 0);
  }
}

TEST_CASE("man_ticks_per_minute takes a whole number from 1 to 6, default 1", "[config]")
{
  const auto defaults = core::parse_config("", "x.conf");
  REQUIRE(defaults);
  CHECK(defaults->manager.ticks_per_minute == 1);
  for (const int n : {1, 2, 3, 4, 5, 6}) {
    const auto c =
      core::parse_config("[MANAGER]\nman_ticks_per_minute = " + std::to_string(n) + "\n", "x.conf");
    REQUIRE(c);
    CHECK(c->manager.ticks_per_minute == n);
  }
  for (const char* bad : {"0", "7", "-1", "1e3", "4x", "4.0", "0x4", "+4", "", "four",
                          "99999999999999999999", "2147483648", "-2147483649"}) {
    INFO(bad);
    const auto c =
      core::parse_config(std::string("[MANAGER]\nman_ticks_per_minute = ") + bad + "\n", "x.conf");
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == core::ErrorKind::config);
    CHECK(c.error().message
          == std::string("x.conf:2: key 'man_ticks_per_minute': invalid value '") + bad
               + "': expected an integer from 1 to 6");
  }
}

TEST_CASE("config_value shows a key as sclman reads it, never a secret", "[config]")
{
  const auto c = core::parse_config("[MANAGER]\nman_ticks_per_minute = 4\nman_high_load = 80.5\n"
                                    "[PROMETHEUS]\npassword = hunter2-secret\n"
                                    "[OPENSTACK]\navailability_zones = az-1,az-2\n",
                                    "x.conf");
  REQUIRE(c);
  CHECK(core::config_value(*c, "MANAGER", "man_ticks_per_minute").value() == "4");
  CHECK(core::config_value(*c, "MANAGER", "man_high_load").value() == "80.5");
  CHECK(core::config_value(*c, "MANAGER", "man_run_deadline").value() == "50");  // default
  CHECK(core::config_value(*c, "MANAGER", "man_provider").value() == "local");
  CHECK(core::config_value(*c, "LOG", "level").value() == "info");
  CHECK(core::config_value(*c, "OPENSTACK", "availability_zones").value() == "az-1, az-2");
  // A driver section the file does not name: its defaults.
  CHECK(core::config_value(*c, "PROMETHEUS", "timeout_ms"));
  const auto secret = core::config_value(*c, "PROMETHEUS", "password");
  REQUIRE_FALSE(secret);
  CHECK(secret.error().kind == core::ErrorKind::usage);
  CHECK_THAT(secret.error().message, !Catch::Contains("hunter2"));
  for (const auto& [section, key] : {std::pair{"MANAGER", "man_bogus"}, std::pair{"NOPE", "x"},
                                     std::pair{"manager", "man_ticks_per_minute"}}) {
    const auto unknown = core::config_value(*c, section, key);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().kind == core::ErrorKind::usage);
    CHECK_THAT(unknown.error().message, Catch::Contains("unknown key"));
  }
  // Every key but the secrets can be shown.
  for (const auto& name : core::config_keys()) {
    const auto dot = name.find('.');
    const auto shown = core::config_value(*c, name.substr(0, dot), name.substr(dot + 1));
    INFO(name);
    const std::set<std::string> secrets = {"SENSU.password", "SENSU_GO.api_key",
                                           "PROMETHEUS.password", "PROMETHEUS.bearer_token",
                                           "OPENSTACK.os_password",
                                           "OPENSTACK.os_application_credential_secret"};
    CHECK(bool(shown) == (secrets.count(name) == 0));
  }
}

} // namespace unit_test_config
