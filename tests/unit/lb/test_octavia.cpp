// The Octavia client against a scripted load-balancer API: busy LBs (409) are waited out and
// a member is never added twice.
#include "lb/octavia.hpp"

#include "cloud/openstack_parse.hpp"

#include "../core/fake_clock.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_octavia {

using lb::octavia::Call;

namespace {

const std::string k_lb_id = "4f1c2a7e-0000-4000-8000-000000000001";
const std::string k_pool = "0a0b0c0d-1111-4222-8333-444455556666";

// An Octavia with one LB and one pool: the LB is PENDING_UPDATE for `busy_polls` GETs after
// each change, and a change sent meanwhile gets 409.
struct ScriptedOctavia
{
  int busy_polls = 0;
  int busy = 0;               // GETs of the LB left before it is ACTIVE again
  bool accept_then_409 = false;  // the first member POST is made, yet answered 409
  std::vector<nlohmann::json> members;
  std::vector<std::string> sent;  // "METHOD PATH"

  core::Error conflict() const
  {
    core::Error e;
    e.kind = core::ErrorKind::upstream_rejected;
    e.http_status = 409;
    e.message = "POST ...: load-balancer 409 (Load Balancer " + k_lb_id
                + " is immutable and cannot be updated.)";
    return e;
  }

  core::Result<http::HttpResponse> operator()(const Call& c)
  {
    sent.push_back(c.method + " " + c.path);
    using nlohmann::json;
    if (c.method == "GET" && c.path == "/v2/lbaas/loadbalancers/" + k_lb_id) {
      const char* st = busy > 0 ? "PENDING_UPDATE" : "ACTIVE";
      busy = busy > 0 ? busy - 1 : 0;
      return http::HttpResponse{
        200, {},
        json{{"loadbalancer",
              {{"id", k_lb_id}, {"name", "shop-lb-1"}, {"provisioning_status", st},
               {"operating_status", "ONLINE"}, {"vip_address", "10.0.0.7"}}}}
          .dump()};
    }
    if (c.method == "GET" && c.path.rfind("/v2/lbaas/pools?", 0) == 0) {
      return http::HttpResponse{
        200, {},
        json{{"pools",
              {{{"id", k_pool}, {"name", "shop-lb-1-pool"}, {"provisioning_status", "ACTIVE"}},
               {{"id", "0a0b0c0d-1111-4222-8333-000000000000"}, {"name", "shop-lb-1-pool"},
                {"provisioning_status", "PENDING_DELETE"}}}}}
          .dump()};
    }
    if (c.method == "GET" && c.path == "/v2/lbaas/pools/" + k_pool + "/members") {
      return http::HttpResponse{200, {}, json{{"members", members}}.dump()};
    }
    if (c.method == "POST" && c.path == "/v2/lbaas/pools/" + k_pool + "/members") {
      const bool made_anyway = accept_then_409;
      if (busy > 0 && !made_anyway) {
        return tl::make_unexpected(conflict());
      }
      auto m = json::parse(c.body).at("member");
      m["id"] = "9a9a9a9a-0000-4000-8000-00000000000" + std::to_string(members.size());
      m["provisioning_status"] = "ACTIVE";
      m["operating_status"] = "NO_MONITOR";
      members.push_back(m);
      busy = busy_polls;
      if (made_anyway) {
        accept_then_409 = false;
        return tl::make_unexpected(conflict());
      }
      return http::HttpResponse{201, {}, json{{"member", m}}.dump()};
    }
    const auto member_path = "/v2/lbaas/pools/" + k_pool + "/members/";
    if ((c.method == "PUT" || c.method == "DELETE") && c.path.rfind(member_path, 0) == 0) {
      const auto id = c.path.substr(member_path.size());
      const auto m = std::find_if(members.begin(), members.end(),
                                  [&](const json& x) { return x["id"] == id; });
      if (m == members.end()) {
        return http::HttpResponse{404, {}, "{}"};
      }
      if (busy > 0) {
        return tl::make_unexpected(conflict());
      }
      if (c.method == "PUT") {
        (*m)["weight"] = json::parse(c.body).at("member").at("weight");
      } else {
        members.erase(m);
      }
      busy = busy_polls;
      return http::HttpResponse{c.method == "PUT" ? 200 : 204, {}, "{}"};
    }
    return http::HttpResponse{404, {}, "{}"};
  }
};

core::Endpoint ep(const char* text)
{
  return core::Endpoint::parse(text).value();
}

} // namespace

TEST_CASE("a member sent to a busy octavia LB waits for ACTIVE and is added once",
          "[lb][octavia]")
{
  test::FakeClock clock;
  ScriptedOctavia api;
  api.busy_polls = 3;
  api.busy = 3;
  lb::OctaviaClient client([&](const Call& c) { return api(c); }, clock, {},
                           clock.steady() + 60'000);
  REQUIRE(client.add_member(k_lb_id, k_pool, "shop-web-1", "shop", ep("127.0.0.1:18081")));
  REQUIRE(api.members.size() == 1);
  CHECK(api.members[0]["address"] == "127.0.0.1");
  CHECK(api.members[0]["protocol_port"] == 18081);
  CHECK(api.members[0]["tags"] == nlohmann::json::array({"sclman", "sclman:cluster=shop"}));
  CHECK_FALSE(clock.slept.empty());
  // Added again: already there, nothing sent but the look-up.
  api.sent.clear();
  REQUIRE(client.add_member(k_lb_id, k_pool, "shop-web-1", "shop", ep("127.0.0.1:18081")));
  CHECK(api.sent == std::vector<std::string>{"GET /v2/lbaas/pools/" + k_pool + "/members"});
  CHECK(api.members.size() == 1);
}

TEST_CASE("a member added, reweighted or deleted is applied by octavia (LB ACTIVE) on return",
          "[lb][octavia]")
{
  // Octavia lists a deleted member (PENDING_DELETE) and routes to the old weights until the LB
  // is ACTIVE again: a run that went on at once saw members the state no longer had.
  test::FakeClock clock;
  ScriptedOctavia api;
  api.busy_polls = 2;
  lb::OctaviaClient client([&](const Call& c) { return api(c); }, clock, {},
                           clock.steady() + 60'000);
  const auto lb_get = "GET /v2/lbaas/loadbalancers/" + k_lb_id;
  REQUIRE(client.add_member(k_lb_id, k_pool, "shop-web-1", "shop", ep("127.0.0.1:18081")));
  CHECK(api.busy == 0);
  CHECK(std::count(api.sent.begin(), api.sent.end(), lb_get) == 3);  // 2 PENDING, 1 ACTIVE
  const std::string id = api.members.at(0)["id"];
  api.sent.clear();
  REQUIRE(client.set_weight(k_lb_id, k_pool, id, 0));
  CHECK(api.members.at(0)["weight"] == 0);
  CHECK(api.busy == 0);
  CHECK(api.sent.back() == lb_get);
  api.sent.clear();
  REQUIRE(client.delete_member(k_lb_id, k_pool, id));
  CHECK(api.members.empty());
  CHECK(api.busy == 0);
  CHECK(api.sent.back() == lb_get);
  // Gone already (404): nothing to wait for.
  api.sent.clear();
  REQUIRE(client.delete_member(k_lb_id, k_pool, id));
  CHECK(std::count(api.sent.begin(), api.sent.end(), lb_get) == 0);
}

TEST_CASE("a member whose POST was made but answered 409 is not sent again", "[lb][octavia]")
{
  test::FakeClock clock;
  ScriptedOctavia api;
  api.busy_polls = 2;
  api.accept_then_409 = true;
  lb::OctaviaClient client([&](const Call& c) { return api(c); }, clock, {},
                           clock.steady() + 60'000);
  REQUIRE(client.add_member(k_lb_id, k_pool, "shop-web-2", "shop", ep("127.0.0.1:18082")));
  CHECK(api.members.size() == 1);
  CHECK(std::count(api.sent.begin(), api.sent.end(),
                   "POST /v2/lbaas/pools/" + k_pool + "/members")
        == 1);
}

TEST_CASE("an octavia LB still busy at the deadline is a transient error", "[lb][octavia]")
{
  test::FakeClock clock;
  ScriptedOctavia api;
  api.busy_polls = 1'000'000;
  api.busy = 1'000'000;
  lb::OctaviaClient client([&](const Call& c) { return api(c); }, clock, {},
                           clock.steady() + 5'000);
  const auto r = client.add_member(k_lb_id, k_pool, "shop-web-1", "shop", ep("127.0.0.1:18081"));
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == core::ErrorKind::upstream_transient);
  CHECK(api.members.empty());
}

TEST_CASE("octavia config keys refuse hostile values", "[lb][octavia][config]")
{
  core::Config config;
  auto set = [&](const char* key, const char* value) {
    for (const auto& k : lb::octavia_keys()) {
      if (std::string(k.key) == key) {
        return static_cast<bool>(k.set(config, value));
      }
    }
    FAIL("no key " << key);
    return false;
  };
  CHECK(set("vip_subnet_id", "8d3c1a2b-0000-4000-8000-000000000009"));
  CHECK_FALSE(set("vip_subnet_id", "x\ny"));
  CHECK_FALSE(set("vip_network_id", std::string(65, 'a').c_str()));
  CHECK(set("health_path", "/healthz"));
  CHECK_FALSE(set("health_path", "healthz"));
  CHECK_FALSE(set("health_path", "/a b"));
  CHECK(set("expected_codes", "200-204"));
  CHECK_FALSE(set("expected_codes", "200;drop"));
  CHECK_FALSE(set("listener_port", "0"));
  CHECK(config.section<lb::OctaviaConfig>().health_path == "/healthz");
}

TEST_CASE("the octavia load balancer body names the VIP subnet and the cluster's tags",
          "[lb][octavia]")
{
  lb::OctaviaConfig c;
  c.vip_network_id = "net-1";
  auto body = nlohmann::json::parse(lb::octavia::loadbalancer_body("shop-lb-1", "shop", c));
  CHECK(body["loadbalancer"]["vip_network_id"] == "net-1");
  CHECK_FALSE(body["loadbalancer"].contains("vip_subnet_id"));
  c.vip_subnet_id = "sub-1";
  body = nlohmann::json::parse(lb::octavia::loadbalancer_body("shop-lb-1", "shop", c));
  CHECK(body["loadbalancer"]["vip_subnet_id"] == "sub-1");
  CHECK(body["loadbalancer"]["tags"] == nlohmann::json::array({"sclman", "sclman:cluster=shop"}));
  // With a VIP port sclman made (a floating IP): the port alone says network and address.
  body = nlohmann::json::parse(lb::octavia::loadbalancer_body("shop-lb-1", "shop", c, "port-1"));
  CHECK(body["loadbalancer"]["vip_port_id"] == "port-1");
  CHECK_FALSE(body["loadbalancer"].contains("vip_subnet_id"));
  CHECK_FALSE(body["loadbalancer"].contains("vip_network_id"));
}

TEST_CASE("octavia's 409 text is read from its faultstring", "[lb][octavia]")
{
  const std::string body = R"({"faultcode": "Client", "faultstring": "Load Balancer )" + k_lb_id
                           + R"( is immutable and cannot be updated.", "debuginfo": null})";
  const auto message = cloud::openstack::error_message(body);
  CHECK(message == "Load Balancer " + k_lb_id + " is immutable and cannot be updated.");
  core::Error e;
  e.http_status = 409;
  e.message = "POST x: load-balancer 409 (" + message + ")";
  CHECK(lb::octavia::is_immutable(e));
  e.http_status = 400;
  CHECK_FALSE(lb::octavia::is_immutable(e));
}

TEST_CASE("an octavia pool is found in the list by name and tag", "[lb][octavia]")
{
  test::FakeClock clock;
  ScriptedOctavia api;
  lb::OctaviaClient client([&](const Call& c) { return api(c); }, clock, {}, 0);
  const auto pool = client.find_pool("shop-lb-1", "shop");
  REQUIRE(pool);
  REQUIRE(*pool);
  CHECK(**pool == k_pool);
  REQUIRE(api.sent.size() == 1);
  CHECK(api.sent[0]
        == "GET /v2/lbaas/pools?name=shop-lb-1-pool&tags=sclman%3Acluster%3Dshop");
}

} // namespace unit_test_octavia
