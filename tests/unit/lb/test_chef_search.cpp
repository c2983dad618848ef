// The chef-search balancer against a Chef server answered by a fake transport: what it renders
// (chef-search, a stand-in of an LB server) and what it reports when the LB server's own
// chef-client renders (the server balancer).
#include "../cm/data_file.hpp"
#include "../core/fake_clock.hpp"
#include "../http/one_at_a_time.hpp"
#include "cm/chef_client.hpp"
#include "lb/chef_search.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_chef_search {

namespace {

// Answers every search with `rows` (one page); records the paths asked.
class FakeChef final : public OneAtATimeTransport
{
public:
  nlohmann::json rows = nlohmann::json::array();
  std::vector<std::string> urls;

  core::Result<http::HttpResponse> send(const http::HttpRequest& request) override
  {
    urls.push_back(request.url);
    http::HttpResponse r;
    r.status = 200;
    r.body = nlohmann::json{{"rows", rows}, {"total", rows.size()}, {"start", 0}}.dump();
    return r;
  }
};

// Records what it was told to forward to.
class Recording final : public lb::Balancer
{
public:
  std::vector<std::string> applied;
  core::Result<lb::Applied> apply(const core::InstanceRef&,
                                  const std::vector<lb::Backend>& backends) override
  {
    for (const auto& b : backends) {
      applied.push_back(b.name + " " + b.endpoint.to_string());
    }
    return lb::Applied{};
  }
  core::Result<std::vector<core::Endpoint>> current(const core::InstanceRef&) override
  {
    return std::vector<core::Endpoint>{core::Endpoint::parse("127.0.0.1:1").value()};
  }
  std::string health_path() const override { return "/rendered"; }
};

nlohmann::json node(const std::string& name, const nlohmann::json& ip, const nlohmann::json& port)
{
  nlohmann::json n = {{"name", name},
                      {"automatic", nlohmann::json::object()},
                      {"normal", {{"sclman", {{"cluster", "shop"}}}}}};
  if (!ip.is_null()) {
    n["automatic"]["ipaddress"] = ip;
  }
  if (!port.is_null()) {
    n["normal"]["sclman"]["port"] = port;
  }
  return n;
}

} // namespace

TEST_CASE("the chef-search balancer renders the searched nodes, or only reports them when the "
          "LB server renders them itself",
          "[lb]")
{
  test::FakeClock clock;
  FakeChef http;
  http.rows = {node("shop-web-2", "10.0.0.12", 8080), node("shop-web-1", "10.0.0.11", nullptr),
               node("shop-web-3", "10.0.0.13;\n}\nserver { listen 80", nullptr),
               node("shop-web-4", nullptr, nullptr)};
  cm::ChefServerOptions o;
  o.url = "http://127.0.0.1:4545";
  o.user_id = "admin";
  cm::ChefClient chef(http,
                      clock,
                      cm::ChefKey::from_pem(cm_test::data_file("test_client.pem"), "test").value(),
                      o);
  const core::InstanceRef lb{"shop", "shop-lb-1", core::Role::lb, "10.0.0.9:80", "id-lb"};

  Recording render;
  lb::ChefSearchBalancer here(chef, "web", &render);
  const auto applied = here.apply(lb, {});
  REQUIRE(applied);
  // Sorted by name; the hostile address is kept out and named; the unregistered node is skipped.
  CHECK(render.applied
        == std::vector<std::string>{"shop-web-1 10.0.0.11:80", "shop-web-2 10.0.0.12:8080"});
  REQUIRE(applied->rejected.size() == 1);
  CHECK(applied->rejected.front().name == "shop-web-3");
  CHECK(here.health_path() == "/rendered");
  CHECK(here.current(lb).value().size() == 1);  // the renderer's
  REQUIRE_FALSE(http.urls.empty());
  CHECK(http.urls.front().find("/search/node?q=") != std::string::npos);

  // The server balancer: nothing rendered here; current() is what the search finds (what the
  // LB server's next chef-client run renders); the health path is the lb role's stub_status.
  lb::ChefSearchBalancer server(chef, "web", nullptr);
  const auto reported = server.apply(lb, {});
  REQUIRE(reported);
  CHECK(reported->rejected.size() == 1);
  const auto current = server.current(lb);
  REQUIRE(current);
  CHECK(*current
        == std::vector<core::Endpoint>{core::Endpoint::parse("10.0.0.11:80").value(),
                                       core::Endpoint::parse("10.0.0.12:8080").value()});
  CHECK(server.health_path() == "/nginx_status");
  CHECK(render.applied.size() == 2);  // untouched by the server balancer
}

} // namespace unit_test_chef_search
