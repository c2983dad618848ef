#include "cloud/openstack_config.hpp"
#include "engine/drivers.hpp"
#include "local/nginx_config.hpp"

#include "../core/fake_clock.hpp"
#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_drivers {

using engine::DriverKind;

namespace {

// Return man/sclman.1 as plain words: macros, quotes and troff escapes gone, one space apart.
std::string man_text()
{
  std::ifstream in(std::string(SCLMAN_SOURCE_DIR) + "/man/sclman.1");
  REQUIRE(in);
  // One regex for every line: building it per line was most of this test's time.
  const std::regex macro(R"(^\.[A-Z]{1,2}\b)");
  std::string text;
  std::string line;
  while (std::getline(in, line)) {
    text += std::regex_replace(line, macro, "") + " ";
  }
  text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
  text = std::regex_replace(text, std::regex("\""), "");
  text = std::regex_replace(text, std::regex(" +"), " ");
  text = std::regex_replace(text, std::regex(R"( ([,;)|]))"), "$1");
  text = std::regex_replace(text, std::regex(R"(([(|]) )"), "$1");
  return text;
}

std::string joined(DriverKind kind, const char* sep)
{
  std::string out;
  for (const auto& name : engine::driver_names(kind)) {
    out += (out.empty() ? "" : sep) + name;
  }
  return out;
}

} // namespace

TEST_CASE("the registry names each driver once per kind")
{
  for (const auto kind : {DriverKind::provider, DriverKind::bootstrapper, DriverKind::balancer,
                          DriverKind::metrics}) {
    auto names = engine::driver_names(kind);
    REQUIRE(!names.empty());
    std::sort(names.begin(), names.end());
    CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  }
  for (const auto& row : engine::registry()) {
    CHECK(row.attach);
    CHECK(!row.sections.empty());
  }
}

TEST_CASE("find_driver matches a column, with a cloud only where the driver has clouds")
{
  REQUIRE(engine::find_driver(DriverKind::provider, "local"));
  CHECK(engine::find_driver(DriverKind::provider, "openstack")->name == "openstack");
  CHECK(engine::find_driver(DriverKind::provider, "openstack:prod")->name == "openstack");
  CHECK(!engine::find_driver(DriverKind::provider, "local:prod"));
  CHECK(!engine::find_driver(DriverKind::provider, "ec2"));
  CHECK(engine::find_driver(DriverKind::metrics, "sensu_go"));
  CHECK(!engine::find_driver(DriverKind::metrics, "nginx"));
}

TEST_CASE("driver_choices lists the names for messages")
{
  CHECK(engine::driver_choices(DriverKind::provider) == "local or openstack");
  CHECK(engine::driver_choices(DriverKind::metrics)
        == "stub_status, prometheus, sensu or sensu_go");
  CHECK(engine::or_default(DriverKind::balancer, "") == "nginx");
  CHECK(engine::or_default(DriverKind::balancer, "chef-search") == "chef-search");
}

TEST_CASE("new_cluster rejects unknown drivers and a balancer without its bootstrapper")
{
  core::Config config;
  config.section<local::NginxConfig>().nginx = "/bin/true";
  auto check = [&](const char* p, const char* cloud, const char* b, const char* lb,
                   const char* m) {
    engine::DriverChoice choice;
    choice.listen = std::string(p) == "local" ? "" : "127.0.0.1:8080";
    choice.provider = p;
    choice.os_cloud = cloud;
    choice.bootstrapper = b;
    choice.balancer = lb;
    choice.metrics = m;
    return engine::new_cluster(config, choice);
  };
  CHECK(check("local", "", "local", "nginx", "stub_status"));
  CHECK(check("ec2", "", "local", "nginx", "stub_status").error().message
        == "unknown provider 'ec2' (local or openstack)");
  CHECK(check("local", "prod", "local", "nginx", "stub_status").error().message
        == "--os-cloud needs --provider openstack");
  CHECK(check("openstack", "prod", "local", "nginx", "stub_status")->provider == "openstack:prod");
  CHECK(check("local", "", "local", "nginx", "x").error().message
        == "unknown metrics source 'x' (stub_status, prometheus, sensu or sensu_go)");
  CHECK(check("local", "", "x", "nginx", "stub_status").error().message
        == "unknown bootstrapper 'x' (local or chef)");
  CHECK(check("local", "", "local", "x", "stub_status").error().message
        == "unknown balancer 'x' (nginx, chef-search, octavia or server)");
  // The server balancer's LB is a Nova server, configured by its chef-client or, with any
  // other bootstrapper, by sclman over SSH.
  CHECK(check("local", "", "chef", "server", "stub_status").error().message
        == "--balancer server needs --provider openstack (its LB is a server of that provider)");
  CHECK(check("local", "", "local", "server", "stub_status").error().message
        == "--balancer server needs --provider openstack (its LB is a server of that provider)");
  CHECK(check("openstack", "", "local", "server", "stub_status").error().message
        == "--listen is for an LB on this host, not --balancer server");
  CHECK(check("openstack", "", "chef", "server", "stub_status").error().message
        == "--listen is for an LB on this host, not --balancer server");
  {
    engine::DriverChoice server;
    server.provider = "openstack";
    server.bootstrapper = "chef";
    server.balancer = "server";
    const auto made = engine::new_cluster(config, server);
    REQUIRE(made);
    CHECK(made->balancer == "server");
    CHECK_FALSE(made->lb_listen);
    CHECK(made->floating_network.empty());
    // Its floating network: the option, else [OPENSTACK] floating_network.
    config.section<cloud::OpenStackConfig>().floating_network = "public";
    CHECK(engine::new_cluster(config, server)->floating_network == "public");
    server.floating_network = "ext-2";
    CHECK(engine::new_cluster(config, server)->floating_network == "ext-2");
    server.bootstrapper = "local";
    CHECK(engine::new_cluster(config, server)->bootstrapper == "local");
    server.floating_network = "ext\n[x]";
    CHECK(engine::new_cluster(config, server).error().kind == core::ErrorKind::usage);
    // Only an LB in the cloud takes one: the config's default is not pasted onto other clusters.
    engine::DriverChoice host;
    host.listen = "127.0.0.1:8080";
    host.provider = "openstack";
    CHECK(engine::new_cluster(config, host)->floating_network.empty());
    host.floating_network = "public";
    CHECK(engine::new_cluster(config, host).error().message
          == "--floating-network is for --balancer server or octavia (an LB in the cloud), not "
             "--balancer nginx");
    // An Octavia LB takes it too (its VIP port gets it), the option's or the config's.
    engine::DriverChoice octavia;
    octavia.provider = "openstack";
    octavia.balancer = "octavia";
    config.section<lb::OctaviaConfig>().vip_subnet_id = "8d3c1a2b-5e6f-4a7b-9c8d-0e1f2a3b4c5d";
    CHECK(engine::new_cluster(config, octavia)->floating_network == "public");
    octavia.floating_network = "ext-2";
    CHECK(engine::new_cluster(config, octavia)->floating_network == "ext-2");
    config.section<lb::OctaviaConfig>().vip_subnet_id.clear();
    config.section<cloud::OpenStackConfig>().floating_network.clear();
    // A server group: the option, else [OPENSTACK] server_group; on OpenStack only.
    server.floating_network.clear();
    REQUIRE(engine::new_cluster(config, server));
    CHECK(engine::new_cluster(config, server)->server_group.empty());
    server.server_group = "anti-affinity";
    CHECK(engine::new_cluster(config, server)->server_group == "anti-affinity");
    server.server_group = "affinity";
    CHECK(engine::new_cluster(config, server).error().message
          == "--server-group 'affinity': none, anti-affinity or soft-anti-affinity");
    server.server_group.clear();
    config.section<cloud::OpenStackConfig>().server_group = "soft-anti-affinity";
    CHECK(engine::new_cluster(config, server)->server_group == "soft-anti-affinity");
    engine::DriverChoice local;
    CHECK(engine::new_cluster(config, local)->server_group.empty());  // the default: OpenStack's
    local.server_group = "anti-affinity";
    CHECK(engine::new_cluster(config, local).error().message
          == "--server-group is for --provider openstack");
    config.section<cloud::OpenStackConfig>().server_group = "none";
    // Availability zones: the option, else [OPENSTACK] availability_zones; on OpenStack only.
    CHECK(engine::new_cluster(config, server)->availability_zones.empty());
    server.availability_zones = "az-1, az-2,az-3";
    CHECK(engine::new_cluster(config, server)->availability_zones
          == std::vector<std::string>{"az-1", "az-2", "az-3"});
    for (const char* hostile : {"az-1,,az-2", "az-1,az-1", "az\n1", ", ", "az-1,\x1b[2J"}) {
      server.availability_zones = hostile;
      const auto refused = engine::new_cluster(config, server);
      REQUIRE_FALSE(refused);
      CHECK(refused.error().kind == core::ErrorKind::usage);
      CHECK_THAT(refused.error().message, Catch::Contains("availability zones") ||
                                            Catch::Contains("--availability-zones"));
    }
    server.availability_zones.clear();
    config.section<cloud::OpenStackConfig>().availability_zones = {"z1", "z2"};
    CHECK(engine::new_cluster(config, server)->availability_zones
          == std::vector<std::string>{"z1", "z2"});
    local.server_group.clear();
    CHECK(engine::new_cluster(config, local)->availability_zones.empty());
    local.availability_zones = "z1";
    CHECK(engine::new_cluster(config, local).error().message
          == "--availability-zones is for --provider openstack");
    config.section<cloud::OpenStackConfig>().availability_zones.clear();
  }
  // Octavia needs a VIP subnet or network before anything is written.
  const auto no_vip = check("local", "", "local", "octavia", "stub_status");
  REQUIRE_FALSE(no_vip);
  CHECK(no_vip.error().kind == core::ErrorKind::config);
  CHECK(no_vip.error().message.find("vip_subnet_id") != std::string::npos);
  config.section<lb::OctaviaConfig>().vip_subnet_id = "8d3c1a2b-0000-4000-8000-000000000009";
  CHECK(check("local", "", "local", "octavia", "stub_status")->balancer == "octavia");
  CHECK(check("local", "", "local", "chef-search", "stub_status").error().message
        == "--balancer chef-search needs --bootstrapper chef (membership is a Chef node "
           "attribute)");
  config.section<local::NginxConfig>().nginx = "/nonexistent/nginx";
  const auto missing = check("local", "", "local", "nginx", "stub_status");
  CHECK(missing.error().kind == core::ErrorKind::config);
  CHECK(missing.error().message == "cannot run nginx '/nonexistent/nginx' ([LOCAL] nginx)");
}

TEST_CASE("--listen sets where an LB on this host listens; OpenStack clusters must give it")
{
  core::Config config;
  config.section<local::NginxConfig>().nginx = "/bin/true";
  auto make = [&](const char* provider, const char* listen, std::optional<int> port = {},
                  bool wildcard = false) {
    engine::DriverChoice choice;
    choice.provider = provider;
    choice.listen = listen;
    choice.lb_port = port;
    choice.allow_wildcard = wildcard;
    return engine::new_cluster(config, choice);
  };
  // The local provider: 127.0.0.1 and a free port unless told.
  auto c = make("local", "");
  REQUIRE(c);
  CHECK_FALSE(c->lb_listen);
  CHECK_FALSE(c->lb_port);
  c = make("local", "", 8080);
  REQUIRE(c);
  CHECK(c->lb_port == 8080);
  c = make("local", "127.0.0.2:8081");
  REQUIRE(c);
  CHECK(c->lb_listen->to_string() == "127.0.0.2");
  CHECK(c->lb_port == 8081);
  c = make("openstack", "[2001:db8::0:7]:80");
  REQUIRE(c);
  CHECK(c->lb_listen->to_string() == "2001:db8::7");
  CHECK(c->lb_port == 80);
  c = make("openstack", "192.0.2.10", 8080);  // a bare address takes --lb-port or a free one
  REQUIRE(c);
  CHECK(c->lb_listen->to_string() == "192.0.2.10");
  CHECK(c->lb_port == 8080);
  c = make("openstack", "::1");
  REQUIRE(c);
  CHECK(c->lb_listen->to_string() == "::1");
  CHECK_FALSE(c->lb_port);
  // An OpenStack cluster's LB on this host at 127.0.0.1 would serve no client: asked for.
  const auto none = make("openstack", "");
  REQUIRE_FALSE(none);
  CHECK(none.error().kind == core::ErrorKind::usage);
  CHECK_THAT(none.error().message, Catch::Contains("--listen ADDR:PORT"));
  // The wildcard only when asked for.
  for (const char* any : {"0.0.0.0:80", "[::]:80", "0.0.0.0", "::"}) {
    INFO(any);
    const auto refused = make("openstack", any);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == core::ErrorKind::usage);
    CHECK_THAT(refused.error().message, Catch::Contains("--allow-wildcard"));
    CHECK(make("openstack", any, {}, true));
  }
  CHECK(make("local", "", {}, true).error().message == "--allow-wildcard needs --listen");
  CHECK(make("local", "127.0.0.1:80", 81).error().message
        == "--listen ADDR:PORT and --lb-port both give the port");
  // Hostile or malformed values are usage errors that quote the value escaped.
  for (const char* bad : {"127.0.0.1:0", "127.0.0.1:70000", "lb.example.com:80", "127.0.0.1:80;",
                          "127.0.0.1:80; } server { listen 81", "127.0.0.1:80\nx", "[::1]",
                          "1.2.3.4:-1", "", "\xff\xfe:80", "127.0.0.1:080x"}) {
    INFO(bad);
    if (std::string(bad).empty()) {
      continue;
    }
    const auto refused = make("openstack", bad);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == core::ErrorKind::usage);
    CHECK_THAT(refused.error().message, Catch::StartsWith("--listen: bad address '"));
  }
  const std::string long_value(300, '1');
  CHECK_FALSE(make("openstack", long_value.c_str()));
}

TEST_CASE("man/sclman.1 lists the drivers of the registry")
{
  const auto text = man_text();
  INFO(text);
  CHECK(text.find("(" + joined(DriverKind::provider, " or ") + ";") != std::string::npos);
  CHECK(text.find(engine::driver_choices(DriverKind::metrics) + ";") != std::string::npos);
  CHECK(text.find("--bootstrapper " + joined(DriverKind::bootstrapper, "|"))
        != std::string::npos);
  CHECK(text.find("--balancer " + joined(DriverKind::balancer, "|")) != std::string::npos);
}

TEST_CASE("new_cluster fills the defaults from the config and the registry")
{
  core::Config config;
  config.section<local::NginxConfig>().nginx = "/bin/true";
  config.manager.flavor = "m1.tiny";
  const auto c = engine::new_cluster(config, engine::DriverChoice{});
  REQUIRE(c);
  CHECK(c->provider == "local");
  CHECK(c->bootstrapper == "local");
  CHECK(c->balancer == "nginx");
  CHECK(c->metrics == "stub_status");
  CHECK(c->flavor == "m1.tiny");
}

TEST_CASE("LB driver in the config is create-cluster's default balancer; auto is nginx off OpenStack")
{
  auto config = core::parse_config("[LB]\ndriver = octavia\n[OCTAVIA]\nvip_subnet_id = "
                                   "0f5bd5ac-2f55-4d2b-9a4e-6a5d2d7d0a11\n",
                                   "x.conf");
  REQUIRE(config);
  config->section<local::NginxConfig>().nginx = "/bin/true";
  const auto from_config = engine::new_cluster(*config, engine::DriverChoice{});
  REQUIRE(from_config);
  CHECK(from_config->balancer == "octavia");
  engine::DriverChoice nginx;
  nginx.balancer = "nginx";
  const auto chosen = engine::new_cluster(*config, nginx);
  REQUIRE(chosen);
  CHECK(chosen->balancer == "nginx");  // --balancer wins over the config

  for (const char* bad : {"haproxy", "Octavia", "auto;", "", "nginx;rm", "../nginx"}) {
    INFO(bad);
    const auto refused = core::parse_config(std::string("[LB]\ndriver = ") + bad + "\n", "x.conf");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == core::ErrorKind::config);
  }

  // auto on the local provider: no balancer offers itself there, so the registry's first, and
  // nothing is asked of any cloud.
  auto local = core::parse_config("[LB]\ndriver = auto\n", "x.conf");
  REQUIRE(local);
  local->section<local::NginxConfig>().nginx = "/bin/true";
  state_test::TempDir dir;
  test::FakeClock clock;
  auto set = engine::DriverSet::make(*local, dir.path, "test", clock);
  REQUIRE(set);
  const auto c = (*set)->new_cluster(*local, engine::DriverChoice{});
  REQUIRE(c);
  CHECK(c->balancer == "nginx");
}

TEST_CASE("every config section a driver reads has keys")
{
  std::set<std::string> sections = {"METRICS", "LOCAL"};  // core's, with driver keys
  for (const auto& s : engine::driver_sections()) {
    CHECK(!s.keys().empty());
    sections.insert(s.name);
  }
  for (const auto& row : engine::registry()) {
    for (const auto& name : row.sections) {
      INFO(row.name << " reads [" << name << "]");
      CHECK(sections.count(name) == 1);
    }
  }
}

} // namespace unit_test_drivers
