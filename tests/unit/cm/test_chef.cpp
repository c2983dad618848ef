// tests/unit/cm/test_chef.cpp: the pure parts of lib/cm/chef.cpp: cloud-init user data, error
// mapping, run lists, URLs with organisations, search query and node addresses.
#include "cm/chef.hpp"
#include "core/log.hpp"

#include "data_file.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_chef {

namespace {

http::HttpResponse answer(long status, std::string body)
{
  http::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Return the node's endpoint as text, "" if it has none, "error" if it does not parse.
std::string address_of(const nlohmann::json& node)
{
  const auto a = cm::chef_node_address(node);
  return !a ? "error" : *a ? (*a)->to_string() : "";
}

} // namespace

TEST_CASE("renders the cloud-init user data of a validatorless node", "[chef]")
{
  cm::ChefUserData d;
  d.server_url = "https://chef.example.com/organizations/acme";
  d.node_name = "shop-web-3";
  d.environment = "shop";
  d.run_list = {"role[web]", "recipe[base]"};
  d.client_key = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\nBBBB\n-----END RSA PRIVATE KEY-----\n";
  d.cluster = "shop";
  d.role = "web";
  CHECK(cm::render_chef_user_data(d) == cm_test::data_file("user_data_web.yaml"));
}

TEST_CASE("renders the validator instead of a client key when one is configured", "[chef]")
{
  cm::ChefUserData d;
  d.server_url = "http://127.0.0.1:4545";
  d.node_name = "shop-lb-1";
  d.environment = "shop";
  d.run_list = {"role[lb]"};
  d.validation_name = "chef-validator";
  d.validation_key = "-----BEGIN RSA PRIVATE KEY-----\nCCCC\n-----END RSA PRIVATE KEY-----\n";
  d.cluster = "shop";
  d.role = "lb";
  const auto text = cm::render_chef_user_data(d);
  CHECK(text.find("write_files") == std::string::npos);
  CHECK_THAT(text, Catch::Contains("  validation_name: \"chef-validator\"\n"
                                   "  validation_cert: |\n"
                                   "    -----BEGIN RSA PRIVATE KEY-----\n    CCCC\n"));
  CHECK_THAT(text, Catch::Contains("    - \"role[lb]\"\n"));
}

TEST_CASE("maps each chef server status to one error kind", "[chef]")
{
  using core::ErrorKind;
  SECTION("a bad signature is auth and names the client and the config keys")
  {
    const auto e = cm::chef_status_error(
      answer(401, R"({"error":["failed to verify authorization"]})"), "GET '/nodes'", "sclman");
    CHECK(e.kind == ErrorKind::upstream_auth);
    CHECK(e.http_status == 401);
    CHECK_THAT(e.message, Catch::Contains("'sclman'"));
    CHECK_THAT(e.message, Catch::Contains("client_key"));
    CHECK_THAT(e.message, Catch::Contains("failed to verify authorization"));
  }
  SECTION("clock skew is auth and tells the operator to check the clock")
  {
    const auto e = cm::chef_status_error(
      answer(401, R"({"error":["Authentication failed. Please check your system's clock."]})"),
      "GET '/nodes'", "sclman");
    CHECK(e.kind == ErrorKind::upstream_auth);
    CHECK_THAT(e.message, Catch::Contains("check this machine's clock"));
  }
  SECTION("403 is auth, 409 and other 4xx are rejected")
  {
    CHECK(cm::chef_status_error(answer(403, "{}"), "x", "u").kind == ErrorKind::upstream_auth);
    const auto dup = cm::chef_status_error(answer(409, R"({"error":["Node already exists"]})"),
                                           "POST '/nodes'", "u");
    CHECK(dup.kind == ErrorKind::upstream_rejected);
    CHECK(dup.http_status == 409);
    CHECK_THAT(dup.message, Catch::Contains("already exists"));
    CHECK(cm::chef_status_error(answer(400, R"({"error":"bad"})"), "x", "u").kind
          == ErrorKind::upstream_rejected);
  }
  SECTION("429 and 5xx are transient and keep Retry-After")
  {
    auto r = answer(503, "<html>down</html>");
    r.headers.emplace_back("retry-after", "7");
    const auto e = cm::chef_status_error(r, "GET '/nodes'", "u");
    CHECK(e.kind == ErrorKind::upstream_transient);
    REQUIRE(e.retry_after);
    CHECK(e.retry_after->count() == 7);
    CHECK(cm::chef_status_error(answer(429, ""), "x", "u").kind == ErrorKind::upstream_transient);
  }
}

TEST_CASE("reads chef error bodies in both shapes, shortened", "[chef]")
{
  CHECK(cm::chef_error_text(R"({"error":["a","b"]})") == "a; b");
  CHECK(cm::chef_error_text(R"({"error":"one"})") == "one");
  CHECK(cm::chef_error_text("plain") == "plain");
  CHECK(cm::chef_error_text(std::string(500, 'x')).size() == 203);
}

TEST_CASE("signs the organisation prefix of the server URL", "[chef]")
{
  const auto [url, path] = cm::ChefClient::resolve("https://chef.example.com/organizations/acme/",
                                                   "/nodes/web-1");
  CHECK(url == "https://chef.example.com/organizations/acme/nodes/web-1");
  CHECK(path == "/organizations/acme/nodes/web-1");
  const auto [plain_url, plain_path] = cm::ChefClient::resolve("http://127.0.0.1:4545",
                                                               "/search/node?q=x");
  CHECK(plain_url == "http://127.0.0.1:4545/search/node?q=x");
  CHECK(plain_path == "/search/node?q=x");
}

TEST_CASE("parses run lists and the roles they name", "[chef]")
{
  const auto list = cm::parse_run_list(" role[web] ,recipe[base::x], role[monitor]");
  REQUIRE(list.size() == 3);
  CHECK(list[0] == "role[web]");
  CHECK(list[1] == "recipe[base::x]");
  CHECK(cm::roles_of(list) == std::vector<std::string>{"web", "monitor"});
  CHECK(cm::parse_run_list("").empty());
}

TEST_CASE("builds the search query and the node address the LB recipe uses", "[chef]")
{
  CHECK(cm::chef_search_query("web", "shop")
        == "role:web AND chef_environment:shop AND sclman_in_service:true");
  auto node = nlohmann::json::parse(
    R"({"name":"n","automatic":{"ipaddress":"10.0.0.5"},"normal":{"sclman":{"port":8081}}})");
  CHECK(address_of(node) == "10.0.0.5:8081");
  node["normal"] = nlohmann::json::object();
  CHECK(address_of(node) == "10.0.0.5:80");
  node["automatic"]["ipaddress"] = "fd00::5";
  CHECK(address_of(node) == "[fd00::5]:80");
  CHECK(address_of(nlohmann::json::parse(R"({"automatic":{}})")).empty());
  CHECK(address_of(nlohmann::json::parse(R"({"automatic":{"ipaddress":""}})")).empty());
}

TEST_CASE("a hostile ipaddress or port on a node is an error naming the attribute", "[chef]")
{
  const std::string hostile_ips[] = {
    "127.0.0.1:80; } server { listen 8099; location / { return 200 'owned'; } } upstream x { "
    "server 127.0.0.1",
    "127.0.0.1\nserver 10.0.0.9:80",
    "127.0.0.1;",
    "}",
    "web-1.example.net",
    std::string(300, '1'),
    "127.0.0.\xff",
    "[::1]",
    "127.0.0.1:8080",
  };
  for (const auto& ip : hostile_ips) {
    auto node = nlohmann::json::parse(R"({"name":"n","automatic":{}})");
    node["automatic"]["ipaddress"] = ip;
    INFO(core::printable(ip));  // dump() throws on the non-UTF-8 value
    const auto address = cm::chef_node_address(node);
    REQUIRE_FALSE(address);
    CHECK(address.error().message.rfind("automatic.ipaddress: bad address '", 0) == 0);
    CHECK(address.error().message.find('\n') == std::string::npos);
  }
  for (const char* bad : {R"({"automatic":{"ipaddress":3}})",
                          R"({"automatic":{"ipaddress":"10.0.0.1"},"normal":{"sclman":{"port":0}}})",
                          R"({"automatic":{"ipaddress":"10.0.0.1"},"normal":{"sclman":{"port":70000}}})",
                          R"({"automatic":{"ipaddress":"10.0.0.1"},"normal":{"sclman":{"port":"80"}}})"}) {
    INFO(bad);
    CHECK_FALSE(cm::chef_node_address(nlohmann::json::parse(bad)));
  }
}

// Regression (fuzz_chef, tests/fuzz/corpus/chef): a search row or node that is not an object
// threw nlohmann::json::type_error out of chef_node_name (json::value on a string), which ended
// the run as an internal error. Found input: the body "\"eb-1\"\0\0\0\0: ...". Every reader now
// takes JSON of any shape.
TEST_CASE("readers of chef answers take JSON of any shape", "[chef]")
{
  using nlohmann::json;
  static const char raw[] = "\"eb-1\"\0\0\0\0: \"http:/t alread";
  const auto body = std::string(raw, sizeof raw - 1);
  const auto found = cm::parse_chef_body(body, "GET '/nodes/x'");
  REQUIRE(found);
  for (const auto& j : {*found, json(nullptr), json(5), json::array({1, "x"}),
                        json::parse(R"({"name":5,"chef_environment":[],"run_list":"role[web]",
                          "automatic":"x","normal":{"sclman":{"cluster":7,"created_at":"1",
                          "port":"8080"}}})"),
                        json::parse(R"({"normal":[],"automatic":{"ohai_time":1,"ipaddress":3}})"),
                        json::parse(R"({"normal":{"sclman":{"port":99999999999}},
                          "automatic":{"ipaddress":"10.0.0.1"}})")}) {
    INFO(j.dump());
    CHECK(cm::chef_node_name(j).empty());
    CHECK(cm::chef_node_cluster(j).empty());
    CHECK(cm::chef_node_created_at(j) == 0);
    CHECK_FALSE(cm::chef_node_placed(j, "shop", {"role[web]"}));
    CHECK_FALSE(cm::chef_node_registered_at(j, "127.0.0.1", 8080));
    const auto address = cm::chef_node_address(j);
    CHECK_FALSE((address && *address));  // no endpoint from any of them
    CHECK_FALSE(cm::chef_client_key(j, "c"));
    CHECK_FALSE(cm::parse_chef_search_page(j, "q"));
    if (!j.is_object()) {
      CHECK(cm::chef_listing_names(j).empty());  // an array's indexes are not names
    }
    auto node = j;
    cm::chef_node_register(node, "127.0.0.1", 8080, 1795975200000);
    CHECK(cm::chef_node_registered_at(node, "127.0.0.1", 8080));
    CHECK(address_of(node) == "127.0.0.1:8080");
    CHECK(cm::chef_node_set_in_service(node, true));
    CHECK_FALSE(cm::chef_node_set_in_service(node, true));
  }
  CHECK_FALSE(cm::parse_chef_search_page(json::parse(R"({"rows":[],"total":"2"})"), "q"));
  const auto page = cm::parse_chef_search_page(json::parse(R"({"rows":[1,{"name":"a"}],"total":2})"), "q");
  REQUIRE(page);
  CHECK(page->rows.size() == 2);
  CHECK(page->total == 2);
  const auto node = json::parse(R"({"name":"shop-web-1","chef_environment":"shop",
    "run_list":["role[web]"],"automatic":{"ohai_time":1.5,"ipaddress":"127.0.0.1"},
    "normal":{"sclman":{"cluster":"shop","created_at":1795975200000,"port":8081}}})");
  CHECK(cm::chef_node_name(node) == "shop-web-1");
  CHECK(cm::chef_node_cluster(node) == "shop");
  CHECK(cm::chef_node_created_at(node) == 1795975200000);
  CHECK(cm::chef_node_placed(node, "shop", {"role[web]"}));
  CHECK(cm::chef_node_registered_at(node, "127.0.0.1", 8081));
  CHECK(cm::chef_listing_names(json::parse(R"({"a":"u","b":"v"})"))
        == std::vector<std::string>{"a", "b"});
}

} // namespace unit_test_chef
