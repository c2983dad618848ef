#include "cloud/openstack.hpp"
#include "cloud/openstack_auth.hpp"
#include "cloud/openstack_cluster.hpp"
#include "cloud/openstack_parse.hpp"
#include "core/log.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_openstack_parse {

using namespace cloud::openstack;

namespace {

const char* k_token_body = R"({"token": {
  "methods": ["password"], "expires_at": "2026-11-26T18:25:54.000000Z",
  "project": {"id": "p1", "name": "demo", "domain": {"id": "default"}},
  "catalog": [
    {"type": "identity", "name": "keystone", "endpoints": [
      {"interface": "public", "region_id": "RegionOne", "region": "RegionOne",
       "url": "http://127.0.0.1:5000/v3/"}]},
    {"type": "compute", "name": "nova", "endpoints": [
      {"interface": "admin", "region_id": "RegionOne", "url": "http://admin:8774/v2.1"},
      {"interface": "public", "region_id": "RegionTwo", "url": "http://two:8774/v2.1"},
      {"interface": "public", "region_id": "RegionOne", "url": "http://one:8774/v2.1/"}]}]}})";

const char* k_servers = R"({"servers": [
  {"id": "a1", "name": "shop-web-1", "status": "ACTIVE", "OS-EXT-STS:task_state": null,
   "created": "2026-11-26T17:00:00Z", "tags": ["sclman", "sclman:cluster=shop", "sclman:role=web"],
   "metadata": {"sclman:cluster": "shop", "sclman:role": "web"},
   "addresses": {"sclnet": [{"addr": "10.20.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"},
                            {"addr": "172.24.4.9", "version": 4, "OS-EXT-IPS:type": "floating"}]}},
  {"id": "b2", "name": "shop-web-2", "status": "ERROR", "tags": ["sclman"], "metadata": {},
   "addresses": {}, "fault": {"code": 500, "message": "No valid host was found. ",
   "created": "2026-11-26T17:00:01Z"}},
  {"id": "c3", "name": "other", "status": "BUILD", "addresses": {}}]})";

struct NoNetwork final : http::HttpTransport
{
  core::Result<http::HttpResponse> send(const http::HttpRequest&) override
  {
    return core::fail(core::ErrorKind::internal, "no network in unit tests");
  }
  std::vector<core::Result<http::HttpResponse>> send_all(const std::vector<http::HttpRequest>&,
                                                         int) override
  {
    return {};
  }
};

// Return the options of a provider whose servers' addresses are on sclnet, web port 8080.
cloud::OpenStackOptions sclnet_options()
{
  cloud::OpenStackOptions o;
  o.networks = {"sclnet"};
  o.web_port = 8080;
  return o;
}

} // namespace

TEST_CASE("a keystone token answer gives the token, its expiry and the catalog", "[openstack]")
{
  const auto t = parse_token("gAAAAB-token", k_token_body);
  REQUIRE(t);
  CHECK(t->value == "gAAAAB-token");
  CHECK(t->project_id == "p1");
  CHECK(t->expires_at == *parse_iso8601("2026-11-26T18:25:54Z"));
  REQUIRE(t->catalog.size() == 4);

  SECTION("the endpoint is picked by type, interface and region, without a final slash")
  {
    CHECK(*find_endpoint(t->catalog, "compute", "public", "RegionOne") == "http://one:8774/v2.1");
    CHECK(*find_endpoint(t->catalog, "compute", "public", "RegionTwo") == "http://two:8774/v2.1");
    CHECK(*find_endpoint(t->catalog, "compute", "admin", "") == "http://admin:8774/v2.1");
  }
  SECTION("a missing service or interface is a config error naming it")
  {
    const auto none = find_endpoint(t->catalog, "image", "public", "");
    REQUIRE(!none);
    CHECK(none.error().kind == core::ErrorKind::config);
    CHECK(none.error().message.find("'image'") != std::string::npos);
    const auto internal = find_endpoint(t->catalog, "compute", "internal", "RegionOne");
    REQUIRE(!internal);
    CHECK(internal.error().message.find("'internal'") != std::string::npos);
  }
  SECTION("no X-Subject-Token header or no expiry is an error")
  {
    CHECK(!parse_token("", k_token_body));
    CHECK(!parse_token("x", R"({"token": {}})"));
    CHECK(!parse_token("x", "<html>"));
  }
}

TEST_CASE("a nova server list gives status, tags, metadata, addresses and fault", "[openstack]")
{
  const auto servers = parse_servers(k_servers);
  REQUIRE(servers);
  REQUIRE(servers->size() == 3);
  const auto& a = (*servers)[0];
  CHECK(a.status == "ACTIVE");
  CHECK(a.tags.size() == 3);
  CHECK(a.metadata.at("sclman:cluster") == "shop");
  CHECK(fixed_address(a, "sclnet").value()->to_string() == "10.20.0.5");
  CHECK(fixed_address(a, "").value()->to_string() == "10.20.0.5");
  CHECK_FALSE(fixed_address(a, "elsewhere").value());
  CHECK(a.created == *parse_iso8601("2026-11-26T17:00:00Z"));
  CHECK((*servers)[1].fault == "No valid host was found. ");
  CHECK((*servers)[2].tags.empty());
  CHECK(!parse_servers(R"({"server": {}})"));
  CHECK(parse_server(R"({"server": {"id": "x", "name": "n", "status": "BUILD"}})")->id == "x");
  CHECK(*parse_created_id(R"({"server": {"id": "u-1", "links": []}})") == "u-1");
}

TEST_CASE("the provider maps nova states to building, active and error", "[openstack]")
{
  http::HttpResponse unused;
  (void)unused;
  const auto servers = *parse_servers(k_servers);
  NoNetwork no_http;
  core::SystemClock clock;
  cloud::OpenStackProvider p(no_http, clock, sclnet_options());
  const auto a = p.to_server(servers[0]);
  CHECK(a.status == cloud::ServerStatus::active);
  CHECK(cloud::address_text(a) == "10.20.0.5:8080");
  CHECK(a.cluster == "shop");
  CHECK(a.role == core::Role::web);
  const auto b = p.to_server(servers[1]);
  CHECK(b.status == cloud::ServerStatus::error);
  CHECK(b.fault.find("No valid host") != std::string::npos);
  CHECK_FALSE(b.address_refused);  // Nova's own error, not a refused address
  CHECK_FALSE(a.address_refused);
  CHECK(p.to_server(servers[2]).status == cloud::ServerStatus::building);
}

TEST_CASE("error bodies of nova, keystone and middleware give their message", "[openstack]")
{
  CHECK(error_message(R"({"badRequest": {"code": 400, "message": "Flavor 999 could not be found."}})")
        == "Flavor 999 could not be found.");
  CHECK(error_message(R"({"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}})")
        == "The request you have made requires authentication.");
  CHECK(error_message(R"({"message": "Request is too large.", "code": "413 Request Entity Too Large", "title": "Request Entity Too Large"})")
        == "Request is too large.");
  CHECK(error_message("<html>Bad Gateway</html>") == "<html>Bad Gateway</html>");
  CHECK(error_message("") == "(empty body)");
}

TEST_CASE("statuses map to error kinds; quota is rejected, not retried", "[openstack]")
{
  auto kind = [](long status, const std::string& body, const std::string& retry_after = "") {
    http::HttpResponse r;
    r.status = status;
    r.body = body;
    if (!retry_after.empty()) {
      r.headers.emplace_back("retry-after", retry_after);
    }
    return cloud::openstack_error("nova", "POST /servers", r);
  };
  const auto quota = kind(403, R"({"forbidden": {"code": 403, "message": "Quota exceeded for instances: Requested 1, but already used 3 of 3 instances"}})");
  CHECK(quota.kind == core::ErrorKind::upstream_rejected);
  CHECK(quota.message.find("quota exceeded") != std::string::npos);
  CHECK(quota.message.find("3 of 3 instances") != std::string::npos);
  CHECK(kind(403, R"({"forbidden": {"message": "Policy doesn't allow it"}})").kind
        == core::ErrorKind::upstream_auth);
  CHECK(kind(401, "{}").kind == core::ErrorKind::upstream_auth);
  const auto bad = kind(400, R"({"badRequest": {"code": 400, "message": "Flavor 999 could not be found."}})");
  CHECK(bad.kind == core::ErrorKind::upstream_rejected);
  CHECK(bad.message.find("Flavor 999") != std::string::npos);
  CHECK(kind(409, "{}").kind == core::ErrorKind::upstream_rejected);
  const auto limited = kind(429, "{}", "7");
  CHECK(limited.kind == core::ErrorKind::upstream_transient);
  CHECK(limited.retry_after == std::chrono::seconds(7));
  CHECK(kind(413, "{}", "3").kind == core::ErrorKind::upstream_transient);
  CHECK(kind(413, "{}").kind == core::ErrorKind::upstream_rejected);
  CHECK(kind(500, "{}").kind == core::ErrorKind::upstream_transient);
  CHECK(kind(503, "{}").kind == core::ErrorKind::upstream_transient);
}

TEST_CASE("flavors and images are found by id or unique name", "[openstack]")
{
  const std::vector<Named> items = {{"1", "m1.tiny"}, {"2", "dup"}, {"3", "dup"}};
  CHECK(*pick_one(items, "m1.tiny", "flavor") == "1");
  CHECK(*pick_one(items, "3", "flavor") == "3");
  const auto missing = pick_one(items, "m1.huge", "flavor");
  REQUIRE(!missing);
  CHECK(missing.error().message == "no flavor named 'm1.huge'");
  const auto ambiguous = pick_one(items, "dup", "image");
  REQUIRE(!ambiguous);
  CHECK(ambiguous.error().message.find("ambiguous") != std::string::npos);
  CHECK(ambiguous.error().message.find("2, 3") != std::string::npos);
  CHECK(parse_named_list(R"({"images": [{"id": "i", "name": "tiny"}]})", "images")->size() == 1);
}

TEST_CASE("helpers: name regex, retry-after, times, roles", "[openstack]")
{
  CHECK(exact_name_regex("shop-web-1") == "^shop-web-1$");
  CHECK(exact_name_regex("a.b(1)") == "^a\\.b\\(1\\)$");
  CHECK(parse_retry_after("12") == 12);
  CHECK(!parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK(!parse_retry_after(""));
  CHECK(parse_iso8601("1970-01-01T00:00:01Z") == 1000);
  CHECK(parse_iso8601("1970-01-01T00:00:01.250000Z") == 1250);
  CHECK(parse_iso8601("1970-01-01T00:00:01") == 1000);
  CHECK(!parse_iso8601("yesterday"));
  CHECK(cloud::role_of("shop-web-12") == core::Role::web);
  CHECK(cloud::role_of("my-lb-web-3") == core::Role::web);
  CHECK(cloud::role_of("shop-lb-1") == core::Role::lb);
  CHECK_FALSE(cloud::role_of("shop-db-1"));
  CHECK_FALSE(cloud::role_of("shop"));
  CHECK(cloud::is_openstack_provider("openstack"));
  CHECK(cloud::is_openstack_provider("openstack:prod"));
  CHECK(!cloud::is_openstack_provider("local"));
}

TEST_CASE("clouds.yaml gives password and application-credential clouds", "[openstack]")
{
  const char* yaml = R"(
clouds:
  lab:
    auth:
      auth_url: http://127.0.0.1:5000
      username: demo
      password: s3cret
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
  app:
    auth_type: v3applicationcredential
    auth:
      auth_url: http://127.0.0.1:5000/v3
      application_credential_id: "ac1"
      application_credential_secret: "acs"
)";
  const auto lab = parse_clouds_yaml(yaml, "lab", "clouds.yaml");
  REQUIRE(lab);
  REQUIRE(*lab);
  CHECK((*lab)->username == "demo");
  CHECK((*lab)->region_name == "RegionOne");
  CHECK((*lab)->interface == "internal");
  const auto body = nlohmann::json::parse(auth_request_body(**lab));
  CHECK(body["auth"]["identity"]["methods"][0] == "password");
  CHECK(body["auth"]["identity"]["password"]["user"]["name"] == "demo");
  CHECK(body["auth"]["scope"]["project"]["name"] == "demo");

  const auto app = parse_clouds_yaml(yaml, "app", "clouds.yaml");
  REQUIRE(*app);
  CHECK((*app)->auth_type == "v3applicationcredential");
  const auto app_body = nlohmann::json::parse(auth_request_body(**app));
  CHECK(app_body["auth"]["identity"]["application_credential"]["id"] == "ac1");
  CHECK(!app_body["auth"].contains("scope"));

  CHECK(!*parse_clouds_yaml(yaml, "nope", "clouds.yaml"));
  CHECK(!parse_clouds_yaml("clouds: [1, 2", "lab", "clouds.yaml"));
}

TEST_CASE("credentials come from --os-cloud, OS_CLOUD, OS_* or [OPENSTACK], in that order",
          "[openstack]")
{
  std::map<std::string, std::string> env = {
    {"OS_AUTH_URL", "http://env:5000/v3"}, {"OS_USERNAME", "envuser"},
    {"OS_PASSWORD", "pw"}, {"OS_PROJECT_NAME", "p"}, {"OS_INTERFACE", "internalURL"},
    {"OS_CLIENT_CONFIG_FILE", SCLMAN_SOURCE_DIR "/tests/data/openstack/no-such-clouds.yaml"}};
  auto getenv = [&](const char* n) -> const char* {
    const auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  cloud::OpenStackConfig config;
  config.auth_url = "http://conf:5000";
  config.username = "confuser";
  config.password = "cpw";
  config.project_name = "cp";

  const auto from_env = resolve_credentials(config, "", getenv);
  REQUIRE(from_env);
  CHECK(from_env->username == "envuser");
  CHECK(from_env->interface == "internal");

  env.erase("OS_AUTH_URL");
  const auto from_conf = resolve_credentials(config, "", getenv);
  REQUIRE(from_conf);
  CHECK(from_conf->username == "confuser");

  const auto named = resolve_credentials(config, "lab", getenv);
  REQUIRE(!named);
  CHECK(named.error().message.find("no cloud 'lab'") != std::string::npos);

  config.password.clear();
  const auto incomplete = resolve_credentials(config, "", getenv);
  REQUIRE(!incomplete);
  CHECK(incomplete.error().message.find("password") != std::string::npos);
}

TEST_CASE("secure.yaml's entry of the cloud is merged into clouds.yaml's, its values winning",
          "[openstack]")
{
  const char* clouds = R"(
clouds:
  lab:
    auth:
      auth_url: http://127.0.0.1:5000
      username: demo
      project_name: demo
    region_name: RegionOne
  other:
    auth:
      auth_url: http://127.0.0.1:5001
      username: other
      password: other-pw
      project_name: other
)";
  const char* secure = R"(
clouds:
  lab:
    auth:
      password: from-secure
      username: secure-user
    cacert: /etc/ssl/lab-ca.pem
)";
  const auto lab = parse_clouds_yaml(clouds, "lab", "clouds.yaml", SecureYaml{secure, "secure.yaml"});
  REQUIRE(lab);
  REQUIRE(*lab);
  CHECK((*lab)->password == "from-secure");
  CHECK((*lab)->username == "secure-user");  // secure.yaml wins
  CHECK((*lab)->project_name == "demo");     // what it does not set stays
  CHECK((*lab)->auth_url == "http://127.0.0.1:5000");
  CHECK((*lab)->cacert == "/etc/ssl/lab-ca.pem");
  CHECK((*lab)->source.find("secure.yaml") != std::string::npos);
  // A cloud secure.yaml does not name keeps its own values.
  const auto other = parse_clouds_yaml(clouds, "other", "clouds.yaml", SecureYaml{secure, "s"});
  REQUIRE(*other);
  CHECK((*other)->password == "other-pw");
  // Hostile secure.yaml: not YAML, no clouds mapping, the cloud not a mapping.
  for (const char* bad : {"clouds: [1, 2", "nothing: here", "clouds:\n  lab: 5\n",
                          "clouds: 7"}) {
    INFO(bad);
    CHECK(!parse_clouds_yaml(clouds, "lab", "clouds.yaml", SecureYaml{bad, "secure.yaml"}));
  }
}

TEST_CASE("clouds.yaml's TLS keys and the token auth type are read", "[openstack]")
{
  const char* yaml = R"(
clouds:
  tls:
    auth:
      auth_url: https://keystone.example:5000
      username: demo
      password: pw
      project_name: demo
    cacert: /etc/ssl/ca.pem
    cert: /etc/sclman/client.pem
    key: /etc/sclman/client.key
    verify: true
  loose:
    auth: {auth_url: "https://k:5000", username: u, password: p, project_name: x}
    insecure: true
  tok:
    auth_type: v3token
    auth:
      auth_url: http://127.0.0.1:5000/v3
      token: gAAAAAB-existing-token
      project_id: 0123abcd
  badverify:
    auth: {auth_url: "https://k:5000", username: u, password: p, project_name: x}
    verify: sometimes
  listverify:
    auth: {auth_url: "https://k:5000", username: u, password: p, project_name: x}
    verify: [true]
)";
  const auto tls = parse_clouds_yaml(yaml, "tls", "c.yaml");
  REQUIRE(*tls);
  CHECK((*tls)->cacert == "/etc/ssl/ca.pem");
  CHECK((*tls)->cert == "/etc/sclman/client.pem");
  CHECK((*tls)->key == "/etc/sclman/client.key");
  CHECK((*tls)->verify == std::optional<bool>(true));
  const auto loose = parse_clouds_yaml(yaml, "loose", "c.yaml");
  REQUIRE(*loose);
  CHECK((*loose)->verify == std::optional<bool>(false));
  for (const char* bad : {"badverify", "listverify"}) {
    const auto refused = parse_clouds_yaml(yaml, bad, "c.yaml");
    REQUIRE(!refused);
    CHECK(refused.error().message.find("'verify' must be true or false") != std::string::npos);
  }
  const auto tok = parse_clouds_yaml(yaml, "tok", "c.yaml");
  REQUIRE(*tok);
  CHECK((*tok)->auth_type == "token");
  const auto body = nlohmann::json::parse(auth_request_body(**tok));
  CHECK(body["auth"]["identity"]["methods"] == nlohmann::json::array({"token"}));
  CHECK(body["auth"]["identity"]["token"]["id"] == "gAAAAAB-existing-token");
  CHECK(body["auth"]["scope"]["project"]["id"] == "0123abcd");
  CHECK(!body["auth"]["identity"].contains("password"));
  CHECK(pinned_project(**tok) == "id:0123abcd");
  CHECK(identity_key(**tok).find("gAAAA") == std::string::npos);
}

TEST_CASE("OS_TOKEN, OS_CACERT, OS_CERT, OS_KEY and OS_INSECURE fill the credentials",
          "[openstack]")
{
  std::map<std::string, std::string> env = {
    {"OS_AUTH_URL", "https://127.0.0.1:5000/v3"}, {"OS_AUTH_TYPE", "token"},
    {"OS_TOKEN", "tok-1"}, {"OS_PROJECT_NAME", "demo"}, {"OS_CACERT", "/ca.pem"},
    {"OS_CERT", "/c.pem"}, {"OS_KEY", "/c.key"}, {"OS_INSECURE", "false"}};
  auto getenv = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  cloud::OpenStackConfig config;
  const auto c = resolve_credentials(config, "", getenv);
  REQUIRE(c);
  CHECK(c->auth_type == "token");
  CHECK(c->token == "tok-1");
  CHECK(c->cacert == "/ca.pem");
  CHECK(c->cert == "/c.pem");
  CHECK(c->key == "/c.key");
  CHECK(c->verify == std::optional<bool>{});
  env["OS_INSECURE"] = "true";
  CHECK(resolve_credentials(config, "", getenv)->verify == std::optional<bool>(false));
  for (const char* bad : {"maybe", "2", "true; rm -rf /", " "}) {
    env["OS_INSECURE"] = bad;
    const auto refused = resolve_credentials(config, "", getenv);
    REQUIRE(!refused);
    CHECK(refused.error().message.find("OS_INSECURE") != std::string::npos);
  }
  env["OS_INSECURE"] = "";
  env.erase("OS_TOKEN");
  const auto no_token = resolve_credentials(config, "", getenv);
  REQUIRE(!no_token);
  CHECK(no_token.error().message.find("lack token") != std::string::npos);
  // secure.yaml is looked for beside each clouds.yaml, after OS_CLIENT_SECURE_FILE.
  env["OS_CLIENT_SECURE_FILE"] = "/s/secure.yaml";
  env["OS_CLIENT_CONFIG_FILE"] = "/c/clouds.yaml";
  env["HOME"] = "/home/op";
  env.erase("XDG_CONFIG_HOME");
  const auto paths = secure_yaml_paths(getenv);
  CHECK(paths == std::vector<std::string>{"/s/secure.yaml", "secure.yaml",
                                          "/home/op/.config/openstack/secure.yaml",
                                          "/etc/openstack/secure.yaml"});
}

namespace {

const std::string k_injection = "127.0.0.1:80; } server { listen 1; }";

// A server list whose one ACTIVE server has the fixed address `addr` (version `version`).
std::string servers_with(const std::string& addr, int version = 4)
{
  const nlohmann::json server = {
    {"id", "a1"}, {"name", "shop-web-1"}, {"status", "ACTIVE"},
    {"addresses", {{"sclnet", {{{"addr", addr}, {"version", version},
                                {"OS-EXT-IPS:type", "fixed"}}}}}}};
  return nlohmann::json{{"servers", {server}}}.dump();
}

} // namespace

TEST_CASE("a nova address that is no IPv4 literal makes the server an error naming it",
          "[openstack][hostile]")
{
  NoNetwork no_http;
  core::SystemClock clock;
  cloud::OpenStackProvider p(no_http, clock, sclnet_options());
  const std::string hostile[] = {
    k_injection, "10.0.0.5\nserver 10.0.0.6", "10.0.0.5;", "10.0.0.5}", "}", "10.0.0.5:0",
    "10.0.0.5:70000", "10.0.0.5:80", "web-1.example.net", std::string(300, '1'),
    "10.0.0.\xc3\xa9", "", "fd00::1", "0x0a.0.0.5",
  };
  for (const auto& addr : hostile) {
    INFO("addr: " << core::printable(addr));
    const auto servers = parse_servers(servers_with(addr));
    REQUIRE(servers);
    REQUIRE(servers->size() == 1);
    const auto fixed = fixed_address(servers->front(), "sclnet");
    REQUIRE_FALSE(fixed);
    CHECK_THAT(fixed.error().message, Catch::Contains("server 'shop-web-1'"));
    const auto server = p.to_server(servers->front());
    CHECK(server.status == cloud::ServerStatus::error);
    CHECK(server.address_refused);  // a server in service keeps its address; one booting fails
    CHECK_FALSE(server.address);
    CHECK_THAT(server.fault, Catch::Contains("shop-web-1"));
    for (const char c : server.fault) {
      const auto u = static_cast<unsigned char>(c);
      CHECK((u >= 0x20 && u < 0x7f));  // escaped: no newline, no byte above ASCII
    }
    CHECK(server.fault.size() < 300);  // a 300-character value is cut
  }
  // Bytes that are not UTF-8 are no JSON: the answer is refused as a whole.
  std::string raw = servers_with("10.0.0.5");
  raw.replace(raw.find("10.0.0.5"), 8, "10.0.0.\xff");
  CHECK_FALSE(parse_servers(raw));

  // A valid IPv6 literal is parsed and kept as one; the IPv4 fixed address is still the one used.
  const auto v6 = parse_servers(R"({"servers": [{"id": "a1", "name": "shop-web-1",
    "status": "ACTIVE", "addresses": {"sclnet": [
      {"addr": "fd00:0:0::5", "version": 6, "OS-EXT-IPS:type": "fixed"},
      {"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"}]}}]})");
  REQUIRE(v6);
  const auto& addresses = v6->front().addresses.at("sclnet");
  REQUIRE(addresses[0].ip);
  CHECK(addresses[0].ip->to_string() == "fd00::5");
  CHECK(fixed_address(v6->front(), "sclnet").value()->to_string() == "10.0.0.5");
  CHECK(cloud::address_text(p.to_server(v6->front())) == "10.0.0.5:8080");
}

TEST_CASE("neutron floating IPs are parsed into an id, an IP address, a port id and tags; "
          "hostile values are errors naming them",
          "[openstack]")
{
  const auto list = parse_floating_ips(R"({"floatingips": [
    {"id": "3014fa8e-e761-4744-b324-2967fc15c208", "floating_ip_address": "203.0.113.190",
     "port_id": "25a652a7-b22b-4b09-848e-01b1affaca52", "tags": ["sclman", "sclman:cluster=shop"]},
    {"id": "9a1b2c3d-0000-4000-8000-000000000001", "floating_ip_address": "2001:db8::7",
     "port_id": null}]})");
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].id == "3014fa8e-e761-4744-b324-2967fc15c208");
  CHECK((*list)[0].address.to_string() == "203.0.113.190");
  CHECK((*list)[0].port_id == std::optional<std::string>("25a652a7-b22b-4b09-848e-01b1affaca52"));
  CHECK((*list)[0].tags == std::vector<std::string>{"sclman", "sclman:cluster=shop"});
  CHECK((*list)[1].address.to_string() == "2001:db8::7");
  CHECK_FALSE((*list)[1].port_id);
  CHECK((*list)[1].tags.empty());

  const auto one = parse_floating_ip(
    R"({"floatingip": {"id": "abc-1", "floating_ip_address": "198.51.100.4", "port_id": "p-1"}})");
  REQUIRE(one);
  CHECK(one->address.to_string() == "198.51.100.4");

  // An address that would end up in a config, a URL or a log as text: never kept.
  for (const char* hostile : {"203.0.113.1;\\n include /etc/passwd", "lb.example.com", "",
                              "203.0.113.256", "1.2.3.4:80", "$(reboot)"}) {
    nlohmann::json j = {{"floatingips",
                         {{{"id", "abc-1"}, {"floating_ip_address", hostile}, {"port_id", nullptr}}}}};
    const auto bad = parse_floating_ips(j.dump());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == core::ErrorKind::upstream_rejected);
    CHECK(bad.error().message.find("not an IP literal") != std::string::npos);
  }
  // Ids go into paths (DELETE /v2.0/floatingips/ID): only an id's characters.
  for (const char* hostile : {"../ports/x", "a b", "", "id?x=1", "abc/def"}) {
    nlohmann::json j = {{"floatingip", {{"id", hostile}, {"floating_ip_address", "203.0.113.9"}}}};
    const auto bad = parse_floating_ip(j.dump());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("floating IP whose id is not an id") != std::string::npos);
    nlohmann::json p = {{"floatingip", {{"id", "ok-1"}, {"floating_ip_address", "203.0.113.9"},
                                        {"port_id", hostile}}}};
    CHECK_FALSE(parse_floating_ip(p.dump()));
    nlohmann::json ports = {{"ports", {{{"id", hostile}}}}};
    CHECK_FALSE(parse_port_ids(ports.dump()));
    CHECK_FALSE(parse_ports(ports.dump()));
    nlohmann::json port = {{"port", {{"id", hostile}}}};
    CHECK_FALSE(parse_port(port.dump()));
    nlohmann::json subnet = {{"subnet", {{"id", "s-1"}, {"network_id", hostile}}}};
    CHECK_FALSE(parse_subnet_network(subnet.dump()));
  }
  const auto ports = parse_ports(R"({"ports": [{"id": "p-1", "tags": ["sclman", "sclman:cluster=shop"]},
                                              {"id": "p-2"}]})");
  REQUIRE(ports);
  REQUIRE(ports->size() == 2);
  CHECK(ports->at(0).tags == std::vector<std::string>{"sclman", "sclman:cluster=shop"});
  CHECK(ports->at(1).tags.empty());
  CHECK(parse_port(R"({"port": {"id": "p-3", "tags": []}})")->id == "p-3");
  CHECK(parse_subnet_network(R"({"subnet": {"id": "s-1", "network_id": "n-1"}})").value() == "n-1");
  CHECK_FALSE(parse_subnet_network(R"({"subnet": {"id": "s-1"}})"));
  CHECK(parse_port_ids(R"({"ports": [{"id": "25a652a7-b22b"}, {"id": "p-2"}]})").value()
        == std::vector<std::string>{"25a652a7-b22b", "p-2"});
  // Not Neutron's shape: a transient error (the next run asks again), never a crash.
  CHECK(parse_floating_ips("<html>").error().kind == core::ErrorKind::upstream_transient);
  CHECK_FALSE(parse_floating_ips(R"({"floatingips": 3})"));
  CHECK_FALSE(parse_floating_ips(R"({"floatingips": [{"id": 7}]})"));
}

TEST_CASE("nova server groups are parsed with checked ids", "[openstack]")
{
  const auto groups = parse_server_groups(R"({"server_groups": [
    {"id": "5b1c9d2e-0000-4000-8000-000000000001", "name": "sclman-shop",
     "policies": ["soft-anti-affinity"], "members": ["s-1", "s-2"], "metadata": {}},
    {"id": "g-2", "name": "other", "policies": [], "members": []}]})");
  REQUIRE(groups);
  REQUIRE(groups->size() == 2);
  CHECK((*groups)[0].name == "sclman-shop");
  CHECK((*groups)[0].policies == std::vector<std::string>{"soft-anti-affinity"});
  CHECK((*groups)[0].members == std::vector<std::string>{"s-1", "s-2"});
  CHECK(parse_server_group(R"({"server_group": {"id": "g-9", "name": "sclman-x",
    "policies": ["anti-affinity"]}})")->id == "g-9");
  // The id goes into a path (DELETE /os-server-groups/ID) and a create's scheduler hint.
  for (const char* hostile : {"../servers", "", "g 1", "g?x", "g/1"}) {
    nlohmann::json j = {{"server_groups", {{{"id", hostile}, {"name", "sclman-shop"}}}}};
    const auto bad = parse_server_groups(j.dump());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == core::ErrorKind::upstream_rejected);
  }
  CHECK_FALSE(parse_server_group("{}"));
}

} // namespace unit_test_openstack_parse
