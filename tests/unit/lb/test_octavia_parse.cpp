#include "lb/octavia_parse.hpp"

#include <catch2/catch.hpp>

#include <string>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_octavia_parse {

using namespace lb::octavia;

namespace {

const char* k_lb = R"({"loadbalancer": {"id": "4f1c2a7e-0000-4000-8000-000000000001",
  "name": "shop-lb-1", "provisioning_status": "ACTIVE", "operating_status": "ONLINE",
  "vip_address": "10.0.0.7", "tags": ["sclman", "sclman:cluster=shop"],
  "created_at": "2026-12-05T14:00:00"}})";

std::string lb_with(const std::string& field, const std::string& value)
{
  std::string body = R"({"loadbalancer": {"id": "4f1c2a7e-0000-4000-8000-000000000001",
    "name": "shop-lb-1", "provisioning_status": "ACTIVE", "operating_status": "ONLINE",
    "vip_address": "10.0.0.7", "vip_port_id": "7c0d5e3f-0000-4000-8000-000000000003"}})";
  const auto at = body.find("\"" + field + "\"");
  REQUIRE(at != std::string::npos);
  const auto colon = body.find(':', at);
  const auto end = body.find_first_of(",}", colon);
  return body.substr(0, colon + 1) + " " + value + body.substr(end);
}

std::string member(const std::string& address, const std::string& port,
                   const std::string& weight = "1")
{
  return R"({"member": {"id": "9a9a9a9a-0000-4000-8000-000000000002", "name": "shop-web-1",
    "address": )" + address + R"(, "protocol_port": )" + port + R"(, "weight": )" + weight
         + R"(, "provisioning_status": "ACTIVE", "operating_status": "NO_MONITOR"}})";
}

} // namespace

TEST_CASE("an octavia load balancer is parsed with its VIP, statuses and tags", "[lb][octavia]")
{
  const auto lb = parse_loadbalancer(k_lb);
  REQUIRE(lb);
  CHECK(lb->id == "4f1c2a7e-0000-4000-8000-000000000001");
  CHECK(lb->name == "shop-lb-1");
  CHECK(lb->provisioning == Provisioning::active);
  CHECK(lb->operating == Operating::online);
  REQUIRE(lb->vip);
  CHECK(lb->vip->to_string() == "10.0.0.7");
  CHECK(lb->tags == std::vector<std::string>{"sclman", "sclman:cluster=shop"});
  CHECK(lb->created > 0);
  CHECK(lb->vip_port.empty());  // k_lb has none
  const auto with_port = parse_loadbalancer(lb_with("vip_port_id", "\"7c0d5e3f-00aa\""));
  REQUIRE(with_port);
  CHECK(with_port->vip_port == "7c0d5e3f-00aa");
}

TEST_CASE("a pending octavia load balancer has no VIP yet", "[lb][octavia]")
{
  const auto lb = parse_loadbalancer(lb_with("vip_address", "null"));
  REQUIRE(lb);
  CHECK_FALSE(lb->vip);
  const auto pending = parse_loadbalancer(lb_with("provisioning_status", "\"PENDING_CREATE\""));
  REQUIRE(pending);
  CHECK(is_pending(pending->provisioning));
}

TEST_CASE("hostile octavia load balancer values are refused", "[lb][octavia]")
{
  const std::string long_text(300, 'a');
  const std::pair<std::string, std::string> cases[] = {
    {"vip_address", "\"10.0.0.999\""},
    {"vip_address", "\"lb.example.com\""},
    {"vip_address", "\"10.0.0.7\\n127.0.0.1\""},
    {"vip_address", "\"" + long_text + "\""},
    {"vip_address", "7"},
    {"id", "\"../../etc\""},
    {"id", "\"" + long_text + "\""},
    {"id", "\"4f1c\\nX-Injected: 1\""},
    {"id", "42"},
    {"id", "null"},
    {"provisioning_status", "\"ACTIVE\\n\""},
    {"provisioning_status", "\"active\""},
    {"provisioning_status", "[]"},
    {"operating_status", "\"" + long_text + "\""},
    {"name", "{}"},
    // The VIP port's id goes into a Neutron path (/v2.0/floatingips?port_id=...).
    {"vip_port_id", "\"../ports/x\""},
    {"vip_port_id", "\"p-1&tags=other\""},
    {"vip_port_id", "\"" + long_text + "\""},
    {"vip_port_id", "9"},
  };
  for (const auto& [field, value] : cases) {
    INFO(field << " = " << value);
    const auto lb = parse_loadbalancer(lb_with(field, value));
    REQUIRE_FALSE(lb);
    CHECK(lb.error().kind == core::ErrorKind::upstream_transient);
    // The message never carries a raw newline or the whole 300 characters.
    CHECK(lb.error().message.find('\n') == std::string::npos);
    CHECK(lb.error().message.find(long_text) == std::string::npos);
  }
}

TEST_CASE("octavia answers of the wrong shape are errors", "[lb][octavia]")
{
  CHECK_FALSE(parse_loadbalancer("not json"));
  CHECK_FALSE(parse_loadbalancer("[]"));
  CHECK_FALSE(parse_loadbalancer(R"({"loadbalancers": []})"));
  CHECK_FALSE(parse_loadbalancer(R"({"loadbalancer": []})"));
  CHECK_FALSE(parse_loadbalancer(R"({"loadbalancer": {}})"));
  CHECK_FALSE(parse_loadbalancers(R"({"loadbalancers": {}})"));
  CHECK_FALSE(parse_loadbalancers(R"({"loadbalancers": [1]})"));
  CHECK_FALSE(parse_loadbalancer(lb_with("vip_address", "\"10.0.0.7\"").substr(0, 40)));
  const auto tags = std::string(k_lb).replace(std::string(k_lb).find("[\"sclman\","), 1, "[7,");
  CHECK_FALSE(parse_loadbalancer(tags));
  const auto empty = parse_loadbalancers(R"({"loadbalancers": []})");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("octavia listeners, pools and health monitors are parsed by id and name",
          "[lb][octavia]")
{
  const auto pools = parse_objects(R"({"pools": [{"id": "0a0b0c0d-1111-4222-8333-444455556666",
    "name": "shop-lb-1-pool", "provisioning_status": "PENDING_UPDATE"}]})", "pools");
  REQUIRE(pools);
  REQUIRE(pools->size() == 1);
  CHECK(pools->front().name == "shop-lb-1-pool");
  CHECK(pools->front().provisioning == Provisioning::pending_update);
  CHECK_FALSE(parse_objects(R"({"pools": [{"id": "x y", "name": "p",
    "provisioning_status": "ACTIVE"}]})", "pools"));
  CHECK_FALSE(parse_objects(R"({"pools": [{"name": "p", "provisioning_status": "ACTIVE"}]})",
                            "pools"));
  CHECK_FALSE(parse_object(R"({"listener": {"id": "abc", "name": "l"}})", "listener"));
  const auto hm = parse_object(R"({"healthmonitor": {"id": "abc", "name": null,
    "provisioning_status": "ACTIVE"}})", "healthmonitor");
  REQUIRE(hm);
  CHECK(hm->name.empty());
}

TEST_CASE("an octavia member's address and port go through core::Endpoint", "[lb][octavia]")
{
  const auto m = parse_member(member("\"127.0.0.1\"", "18081"));
  REQUIRE(m);
  REQUIRE(m->endpoint);
  CHECK(m->endpoint->to_string() == "127.0.0.1:18081");
  CHECK(m->weight == 1);
  CHECK(m->operating == Operating::no_monitor);
  const auto v6 = parse_member(member("\"fd00::5\"", "80", "0"));
  REQUIRE(v6);
  REQUIRE(v6->endpoint);
  CHECK(v6->endpoint->to_string() == "[fd00::5]:80");
  CHECK(v6->weight == 0);
}

TEST_CASE("an octavia member with a hostile address is kept without an endpoint",
          "[lb][octavia]")
{
  const std::string long_text(300, '1');
  const std::pair<std::string, std::string> cases[] = {
    {"\"10.0.0.300\"", "80"},
    {"\"web.example.com\"", "80"},
    {"\"10.0.0.5\\nserver 6.6.6.6:80;\"", "80"},
    {"\"" + long_text + "\"", "80"},
    {"\"10.0.0.5\"", "0"},
    {"\"10.0.0.5\"", "65536"},
    {"\"10.0.0.5\"", "\"80\""},
    {"5", "80"},
    {"null", "80"},
  };
  for (const auto& [address, port] : cases) {
    INFO(address << " port " << port);
    const auto m = parse_member(member(address, port));
    REQUIRE(m);
    CHECK_FALSE(m->endpoint);
    CHECK_FALSE(m->error.empty());
    CHECK(m->error.find('\n') == std::string::npos);
    CHECK(m->error.find(long_text) == std::string::npos);
  }
}

TEST_CASE("an octavia member with a bad id, weight or status is an error", "[lb][octavia]")
{
  CHECK_FALSE(parse_member(member("\"10.0.0.5\"", "80", "257")));
  CHECK_FALSE(parse_member(member("\"10.0.0.5\"", "80", "-1")));
  CHECK_FALSE(parse_member(member("\"10.0.0.5\"", "80", "\"1\"")));
  CHECK_FALSE(parse_member(member("\"10.0.0.5\"", "80", "1.5")));
  auto bad_status = member("\"10.0.0.5\"", "80");
  bad_status.replace(bad_status.find("NO_MONITOR"), 10, "MAYBE");
  CHECK_FALSE(parse_member(bad_status));
  CHECK_FALSE(parse_members(R"({"members": [{"id": "a"}]})"));
  CHECK_FALSE(parse_members(R"({"members": null})"));
  const auto none = parse_members(R"({"members": []})");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("octavia statuses parse exactly", "[lb][octavia]")
{
  for (const char* s : {"ACTIVE", "PENDING_CREATE", "PENDING_UPDATE", "PENDING_DELETE", "DELETED",
                        "ERROR"}) {
    const auto p = parse_provisioning(s);
    REQUIRE(p);
    CHECK(std::string(to_string(*p)) == s);
  }
  for (const char* s : {"ONLINE", "OFFLINE", "DEGRADED", "ERROR", "NO_MONITOR", "DRAINING"}) {
    const auto o = parse_operating(s);
    REQUIRE(o);
    CHECK(std::string(to_string(*o)) == s);
  }
  CHECK_FALSE(parse_provisioning(""));
  CHECK_FALSE(parse_provisioning(" ACTIVE"));
  CHECK_FALSE(parse_operating("online"));
  CHECK(parse_id("4f1c2a7e-0000-4000-8000-000000000001"));
  CHECK_FALSE(parse_id(""));
  CHECK_FALSE(parse_id(std::string(65, 'a')));
  CHECK_FALSE(parse_id("abc/def"));
}

} // namespace unit_test_octavia_parse
