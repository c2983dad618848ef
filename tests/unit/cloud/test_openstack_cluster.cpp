#include "cloud/openstack_cluster.hpp"
#include "engine/drivers_openstack.hpp"
#include "engine/engine.hpp"
#include "state/store.hpp"
#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_openstack_cluster {

using engine::OpenStackBootstrapper;
using cloud::Server;
using cloud::ServerStatus;

namespace {

// Nova as a map of name -> status; records nothing else.
class FakeNova final : public cloud::Provider
{
public:
  std::map<std::string, ServerStatus> servers;

  core::Result<Server> create(const cloud::ServerSpec& spec) override
  {
    servers[spec.name] = ServerStatus::building;
    Server s;
    s.id = "id-" + spec.name;
    s.name = spec.name;
    return s;
  }
  core::Result<std::optional<Server>> find(const std::string& name) override
  {
    const auto it = servers.find(name);
    if (it == servers.end()) {
      return std::optional<Server>{};
    }
    Server s;
    s.name = name;
    s.status = it->second;
    return std::optional<Server>{s};
  }
  core::Result<void> remove(const core::InstanceRef& i) override
  {
    servers.erase(i.name);
    return {};
  }
  core::Result<std::vector<Server>> list() override { return std::vector<Server>{}; }
};

// Records which instance each call was for: "bootstrap:shop-lb-1".
class Recorder final : public cm::Bootstrapper
{
public:
  explicit Recorder(std::string user_data, bool bootstrapped, int drain = 0)
    : m_user_data(std::move(user_data)), m_bootstrapped(bootstrapped), m_drain(drain)
  {
  }
  std::vector<std::string> calls;

  core::Result<std::string> user_data(const core::InstanceRef& i) override
  {
    calls.push_back("user_data:" + i.name);
    return m_user_data;
  }
  core::Result<bool> bootstrap(const core::InstanceRef& i) override
  {
    calls.push_back("bootstrap:" + i.name);
    return m_bootstrapped;
  }
  core::Result<bool> running(const core::InstanceRef& i) override
  {
    calls.push_back("running:" + i.name);
    return true;
  }
  core::Result<void> set_in_service(const core::InstanceRef& i, bool) override
  {
    calls.push_back("set_in_service:" + i.name);
    return {};
  }
  core::Result<void> decommission(const core::InstanceRef& i) override
  {
    calls.push_back("decommission:" + i.name);
    return {};
  }
  core::Result<void> prepare_cluster(const std::string& c) override
  {
    calls.push_back("prepare:" + c);
    return {};
  }
  core::Result<int> remove_orphans(const std::string& c, const std::set<std::string>&) override
  {
    calls.push_back("orphans:" + c);
    return 0;
  }
  int drain_seconds() const override { return m_drain; }

private:
  std::string m_user_data;
  bool m_bootstrapped;
  int m_drain;
};

const core::InstanceRef k_lb{"shop", "shop-lb-1", core::Role::lb, "127.0.0.1:8080", ""};
const core::InstanceRef k_web{"shop", "shop-web-1", core::Role::web, "10.0.0.5:80", "id-shop-web-1"};

} // namespace

TEST_CASE("the LB of an OpenStack cluster is configured on this host, whatever configures the "
          "web servers",
          "[openstack]")
{
  FakeNova nova;
  // As for chef: `here` starts nginx and registers the node itself, `remote` waits for the
  // VM's chef-client (which never runs on the sclman host).
  Recorder here("#cloud-config here", true, 2);
  Recorder remote("#cloud-config remote", false, 30);
  OpenStackBootstrapper b(nova, here, &remote, false, false);

  CHECK(b.bootstrap(k_lb).value());
  CHECK(b.running(k_lb).value());
  CHECK(here.calls == std::vector<std::string>{"bootstrap:shop-lb-1", "running:shop-lb-1"});
  CHECK(remote.calls.empty());
  CHECK(b.drain_seconds() == 30);
}

TEST_CASE("without stand-ins a Nova web server is configured by the remote bootstrapper and "
          "gets its user data",
          "[openstack]")
{
  FakeNova nova;
  nova.servers["shop-web-1"] = ServerStatus::active;
  Recorder here("#cloud-config here", true);
  Recorder remote("#cloud-config remote", false);
  OpenStackBootstrapper b(nova, here, &remote, false, false);

  CHECK(b.user_data(k_web).value() == "#cloud-config remote");
  CHECK_FALSE(b.bootstrap(k_web).value());  // waits for the VM to register
  REQUIRE(b.set_in_service(k_web, true));
  REQUIRE(b.decommission(k_web));
  CHECK(remote.calls
        == std::vector<std::string>{"user_data:shop-web-1", "bootstrap:shop-web-1",
                                    "set_in_service:shop-web-1", "decommission:shop-web-1"});
  CHECK(here.calls.empty());
  // Cluster-wide work goes to the bootstrapper on this host (one Chef server for both).
  REQUIRE(b.prepare_cluster("shop"));
  REQUIRE(b.remove_orphans("shop", {}));
  CHECK(here.calls == std::vector<std::string>{"prepare:shop", "orphans:shop"});
}

TEST_CASE("with stand-ins a web server is configured on this host, and its user data still "
          "goes to Nova",
          "[openstack]")
{
  FakeNova nova;
  nova.servers["shop-web-1"] = ServerStatus::active;
  Recorder here("#cloud-config here", true);
  Recorder remote("#cloud-config remote", false);
  OpenStackBootstrapper b(nova, here, &remote, true, false);

  CHECK_FALSE(b.user_data(k_web).value().empty());
  CHECK(b.bootstrap(k_web).value());
  CHECK(b.running(k_web).value());
  CHECK(here.calls
        == std::vector<std::string>{"user_data:shop-web-1", "bootstrap:shop-web-1",
                                    "running:shop-web-1"});
  CHECK(remote.calls.empty());
}

TEST_CASE("the LB server (the server balancer) is a Nova server: configured by the remote "
          "bootstrapper, running only while Nova holds it ACTIVE",
          "[openstack]")
{
  const core::InstanceRef lb{"shop", "shop-lb-1", core::Role::lb, "10.0.0.9:80", "id-shop-lb-1"};
  FakeNova nova;
  Recorder here("#cloud-config here", true);
  Recorder remote("#cloud-config remote", false);
  OpenStackBootstrapper b(nova, here, &remote, false, true);

  CHECK(b.user_data(lb).value() == "#cloud-config remote");
  CHECK_FALSE(b.running(lb).value());  // Nova does not hold it
  // An LB server Nova lost (or failed) cannot be brought back in place: a rejected error, so
  // that the engine makes a new one; one still building is not up yet.
  const auto lost = b.bootstrap(lb);
  REQUIRE_FALSE(lost);
  CHECK(lost.error().kind == core::ErrorKind::upstream_rejected);
  CHECK(lost.error().message == "LB server shop-lb-1 is absent in Nova");
  nova.servers["shop-lb-1"] = ServerStatus::error;
  CHECK(b.bootstrap(lb).error().message == "LB server shop-lb-1 is in ERROR in Nova");
  nova.servers["shop-lb-1"] = ServerStatus::building;
  CHECK_FALSE(b.bootstrap(lb).value());
  nova.servers["shop-lb-1"] = ServerStatus::active;
  CHECK_FALSE(b.bootstrap(lb).value());  // waits for its chef-client to register the node
  CHECK(b.running(lb).value());
  CHECK(here.calls.empty());
  CHECK(remote.calls
        == std::vector<std::string>{"user_data:shop-lb-1", "bootstrap:shop-lb-1",
                                    "running:shop-lb-1"});

  // With stand-ins, its stand-in is configured here (as the web servers' are).
  Recorder here2("#cloud-config here", true);
  Recorder remote2("#cloud-config remote", false);
  OpenStackBootstrapper s(nova, here2, &remote2, true, true);
  nova.servers["shop-lb-1"] = ServerStatus::active;
  CHECK(s.bootstrap(lb).value());
  nova.servers.erase("shop-lb-1");
  CHECK_FALSE(s.running(lb).value());
  CHECK(here2.calls == std::vector<std::string>{"bootstrap:shop-lb-1"});
  CHECK(remote2.calls.empty());
}

TEST_CASE("a web server Nova no longer holds ACTIVE is not running", "[openstack]")
{
  FakeNova nova;
  Recorder here("", true);
  OpenStackBootstrapper b(nova, here, nullptr, false, false);

  CHECK_FALSE(b.running(k_web).value());
  nova.servers["shop-web-1"] = ServerStatus::error;
  CHECK_FALSE(b.running(k_web).value());
  nova.servers["shop-web-1"] = ServerStatus::active;
  CHECK(b.running(k_web).value());
  // Nothing configures a Nova server when the image does it all (the local bootstrapper).
  CHECK(b.bootstrap(k_web).value());
  CHECK(b.user_data(k_web).value().empty());
  CHECK(here.calls.empty());
}

// Cluster shop on OpenStack with two web instances, requested.
struct TwoWebInstances : state_test::ShopState
{
  state::Instance first, second;

  explicit TwoWebInstances(const std::string& bootstrapper)
    : ShopState("openstack", bootstrapper)
  {
    for (auto* i : {&first, &second}) {
      i->role = state::Role::web;
      i->cluster_id = cluster.id;
      REQUIRE(store->insert_instance(*i, "shop"));
    }
  }
};

TEST_CASE("a server an unrecorded create left behind keeps the user data it booted with",
          "[openstack][engine]")
{
  // With chef, user data carries a new client key: made again for a server that already
  // booted with the previous one, it would lock that server out of the Chef server.
  TwoWebInstances s("chef");
  auto& left = s.first;
  auto& fresh = s.second;

  FakeNova nova;
  nova.servers[left.name] = ServerStatus::building;  // accepted by a run that was then killed
  Recorder chef("#cloud-config new-key", false);
  engine::Engine e(*s.store, engine::Drivers{&nova, &chef, nullptr, nullptr, nullptr},
                   engine::Options{});
  REQUIRE(e.advance(s.cluster, left));
  REQUIRE(e.advance(s.cluster, fresh));
  CHECK(left.state == state::InstanceState::building);
  CHECK(fresh.state == state::InstanceState::building);
  CHECK(chef.calls == std::vector<std::string>{"user_data:" + fresh.name});
}

TEST_CASE("a server stuck in BUILD past the boot timeout, or in ERROR, fails its instance",
          "[openstack][engine]")
{
  TwoWebInstances s("local");
  auto& stuck = s.first;
  auto& broken = s.second;
  auto& c = s.cluster;
  auto& clock = s.clock;

  FakeNova nova;
  Recorder none("", false);
  engine::Options o;
  o.boot_timeout = 300;
  o.failure_budget = 10;
  engine::Engine e(*s.store, engine::Drivers{&nova, &none, nullptr, nullptr, nullptr}, o);
  REQUIRE(e.advance(c, stuck));
  REQUIRE(e.advance(c, broken));
  REQUIRE(stuck.state == state::InstanceState::building);

  // Still building within the timeout: nothing happens.
  clock.t += 299'000;
  CHECK_FALSE(e.advance(c, stuck).value());
  CHECK(stuck.state == state::InstanceState::building);

  // Nova put one in ERROR: its instance fails at once.
  nova.servers[broken.name] = ServerStatus::error;
  REQUIRE(e.advance(c, broken));
  CHECK(broken.state == state::InstanceState::error);

  // Past the timeout, still in BUILD: the instance fails and says why.
  clock.t += 2'000;
  REQUIRE(e.advance(c, stuck));
  CHECK(stuck.state == state::InstanceState::error);
  CHECK(stuck.error == "server stuck in BUILD past the boot timeout");
}

namespace {

// A transport that must not be used: pinning a cloud sends nothing.
class NoTransport final : public http::HttpTransport
{
public:
  core::Result<http::HttpResponse> send(const http::HttpRequest&) override
  {
    FAIL("pinning a cloud sent a request");
    return core::fail(core::ErrorKind::internal, "unreachable");
  }
  std::vector<core::Result<http::HttpResponse>> send_all(const std::vector<http::HttpRequest>&,
                                                         int) override
  {
    FAIL("pinning a cloud sent requests");
    return {};
  }
};

// Set environment variable `name` to `value` (unset when empty) for one scope.
struct ScopedEnv
{
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n))
  {
    if (const char* v = std::getenv(name.c_str())) {
      old = v;
    }
    value.empty() ? unsetenv(name.c_str()) : setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { old ? setenv(name.c_str(), old->c_str(), 1) : unsetenv(name.c_str()); }
};

std::string cloud_entry(const std::string& name, const std::string& project)
{
  return "  " + name + ":\n    auth:\n      auth_url: http://keystone:5000/\n"
         + "      username: demo\n      password: pw\n      project_name: " + project + "\n";
}

} // namespace

TEST_CASE("a cluster keeps the cloud it was created on, or acts on none", "[openstack]")
{
  state_test::TempDir dir;
  state_test::FixedClock clock;
  NoTransport http;
  FakeNova local;
  core::Config config;
  const auto yaml = dir.path / "clouds.yaml";
  auto write = [&](const std::string& body) {
    std::ofstream(yaml) << "clouds:\n" << cloud_entry("lab", "demo") << body;
  };
  write(cloud_entry("other", "demo"));
  ScopedEnv file("OS_CLIENT_CONFIG_FILE", yaml.string());
  ScopedEnv url("OS_AUTH_URL", "");
  cloud::CloudPin pin;
  {
    ScopedEnv os_cloud("OS_CLOUD", "other");
    cloud::OpenStackDrivers at_create(http, clock, config, dir.path.string(), local);
    auto made = at_create.pin("openstack");
    REQUIRE(made);
    pin = *made;
  }
  CHECK(pin.column == "openstack:other");
  CHECK(pin.auth_url == "http://keystone:5000/v3");
  CHECK(pin.project == "Default/demo");
  SECTION("later runs use it whatever OS_CLOUD says")
  {
    ScopedEnv os_cloud("OS_CLOUD", "lab");
    cloud::OpenStackDrivers later(http, clock, config, dir.path.string(), local);
    CHECK(later.check_pin("shop", pin));
  }
  SECTION("a cloud gone from clouds.yaml is a config error naming the cluster")
  {
    write("");
    cloud::OpenStackDrivers later(http, clock, config, dir.path.string(), local);
    const auto checked = later.check_pin("shop", pin);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().kind == core::ErrorKind::config);
    CHECK_THAT(checked.error().message,
               Catch::StartsWith("cluster 'shop' was created on cloud 'other': no cloud 'other'"));
  }
  SECTION("a cloud that now names another project is a config error")
  {
    write(cloud_entry("other", "admin"));
    cloud::OpenStackDrivers later(http, clock, config, dir.path.string(), local);
    const auto checked = later.check_pin("shop", pin);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().kind == core::ErrorKind::config);
    CHECK_THAT(checked.error().message, Catch::Contains("project 'Default/admin'"));
  }
  SECTION("a cluster made from the OS_* variables is not moved by a later OS_CLOUD")
  {
    cloud::CloudPin from_env{"openstack", "http://elsewhere:5000/v3", "Default/demo"};
    ScopedEnv os_cloud("OS_CLOUD", "lab");
    cloud::OpenStackDrivers later(http, clock, config, dir.path.string(), local);
    const auto checked = later.check_pin("shop", from_env);
    REQUIRE_FALSE(checked);
    CHECK_THAT(checked.error().message, Catch::Contains("Keystone 'http://keystone:5000/v3'"));
  }
}

} // namespace unit_test_openstack_cluster
