// lib/serve: tokens, [SERVE] keys, the routes against their OpenAPI document, and the API over a
// real state file (authentication, roles, intents, hostile requests, hostile rows).
#include "../state/temp_store.hpp"
#include "core/config.hpp"
#include "report/dashboard.hpp"
#include "serve/api.hpp"
#include "serve/config.hpp"
#include "serve/token.hpp"
#include "state/store.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_serve {

namespace {

using Json = nlohmann::json;

// A state file holding cluster "shop" (min 1, max 4, desired 2) and one token of each role.
struct ApiState : state_test::ShopState
{
  std::map<std::string, std::string> tokens;  // role -> token
  std::optional<serve::Api> api;

  ApiState()
  {
    REQUIRE(store->set_policy(cluster.id, R"({"min":1,"max":4})"));
    for (const auto role : {state::TokenRole::viewer, state::TokenRole::operator_,
                            state::TokenRole::admin}) {
      auto secret = serve::new_token();
      REQUIRE(secret);
      state::Token t;
      t.name = std::string("t-") + state::to_string(role);
      t.role = role;
      t.hash = serve::token_hash(*secret);
      REQUIRE(store->insert_token(t));
      tokens[state::to_string(role)] = *secret;
    }
    serve::ApiOptions o;
    o.state = store->location();
    o.clock = &clock;
    api.emplace(std::move(o));
  }

  serve::Response call(const std::string& role, const std::string& method,
                       const std::string& path, const std::string& body = {},
                       std::multimap<std::string, std::string> query = {})
  {
    serve::Request r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    r.body = body;
    if (!role.empty()) {
      r.authorization = "Bearer " + (tokens.count(role) ? tokens[role] : role);
    }
    return api->handle(r);
  }

  int decisions()
  {
    auto rows = store->decisions(cluster.id, 1000);
    REQUIRE(rows);
    return static_cast<int>(rows->size());
  }
};

Json body_of(const serve::Response& r)
{
  return Json::parse(r.body);
}

} // namespace

TEST_CASE("tokens are 32 random bytes in base64url, kept as SHA-256", "[serve]")
{
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto t = serve::new_token();
    REQUIRE(t);
    CHECK(t->size() == serve::k_token_size);
    CHECK(t->starts_with("sclman_"));
    CHECK(serve::bearer_token("Bearer " + *t) == std::optional<std::string_view>(*t));
    seen.insert(*t);
  }
  CHECK(seen.size() == 50);
  // FIPS 180-2's example.
  CHECK(serve::token_hash("abc")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a bearer header that is not a token sclman made is no token", "[serve]")
{
  const std::string good = "sclman_" + std::string(43, 'A');
  REQUIRE(serve::bearer_token("Bearer " + good));
  for (const std::string& hostile :
       {std::string(), std::string("Bearer"), std::string("Bearer "), "bearer " + good,
        "Basic " + good, " Bearer " + good, "Bearer  " + good, "Bearer " + good + "\n",
        "Bearer " + good + "A", "Bearer " + good.substr(0, good.size() - 1),
        "Bearer sclman_" + std::string(42, 'A') + "+", "Bearer sclman_" + std::string(42, 'A') + "=",
        "Bearer sclman_" + std::string(42, 'A') + "/", "Bearer sclman-" + std::string(43, 'A'),
        "Bearer sclman_" + std::string(42, 'A') + std::string(1, '\0'),
        "Bearer " + std::string(50, 'A')}) {
    CAPTURE(hostile);
    CHECK_FALSE(serve::bearer_token(hostile));
  }
}

TEST_CASE("[SERVE] keys take only what they say", "[serve]")
{
  const auto parse = [](const std::string& lines) {
    return core::parse_config("[SERVE]\n" + lines + "\n", "test.conf");
  };
  auto ok = parse("listen = [::1]:9000\nthreads = 256\nmax_body_kib = 1\nrequest_timeout = 300");
  REQUIRE(ok);
  CHECK(ok->section<serve::ServeConfig>().listen == "[::1]:9000");
  for (const auto* hostile :
       {"listen = localhost:8470", "listen = 127.0.0.1", "listen = 127.0.0.1:0",
        "listen = 127.0.0.1:65536", "listen = 127.0.0.1:80;rm", "listen = 0x7f.0.0.1:80",
        "listen = ::1:8470", "listen =", "threads = 0", "threads = 257", "threads = 4x",
        "max_body_kib = 0", "max_body_kib = 16385", "request_timeout = 0",
        "request_timeout = 1e3", "tls_cert = relative.pem", "tls_key ="}) {
    CAPTURE(hostile);
    auto bad = parse(hostile);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == core::ErrorKind::config);
  }
}

TEST_CASE("every route is in /v1/openapi.json with its method and role, and nothing else is",
          "[serve]")
{
  const auto doc = Json::parse(serve::openapi_document());
  REQUIRE(doc["openapi"] == "3.1.0");
  std::set<std::string> routes;
  for (const auto& r : serve::Api::routes()) {
    const auto key = r.method + " " + r.pattern;
    routes.insert(key);
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    CAPTURE(key);
    REQUIRE(doc["paths"].contains(r.pattern));
    REQUIRE(doc["paths"][r.pattern].contains(method));
    const auto& op = doc["paths"][r.pattern][method];
    const char* roles[] = {"anyone", "viewer", "operator", "admin", "receiver"};
    CHECK(op["x-sclman-role"] == roles[static_cast<int>(r.need)]);
    // A route anyone may call says so; a receiver's takes the receiver's token; the others the
    // document's bearer scheme.
    CHECK((op.contains("security") && op["security"].empty()) == (r.need == serve::Need::anyone));
    CHECK((op.contains("security") && op["security"] == Json::parse(R"([{"receiver":[]}])"))
          == (r.need == serve::Need::receiver));
    CHECK(op["responses"].contains("401") == (r.need != serve::Need::anyone));
    if (r.need != serve::Need::anyone && r.need != serve::Need::receiver) {
      CHECK(op["responses"].contains("401"));
      CHECK(op["responses"].contains("403"));
    }
  }
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](unsigned char c) { return char(std::toupper(c)); });
      CHECK(routes.count(upper + " " + path) == 1);
    }
  }
}

TEST_CASE("the API needs a token, and a role that allows the route", "[serve]")
{
  ApiState s;
  CHECK(s.call("", "GET", "/v1/openapi.json").status == 200);
  auto r = s.call("", "GET", "/v1/clusters");
  CHECK(r.status == 401);
  CHECK(r.headers["WWW-Authenticate"].starts_with("Bearer"));
  CHECK(body_of(r)["error"]["exit_code"] == 64);
  CHECK(s.call("sclman_" + std::string(43, 'Q'), "GET", "/v1/clusters").status == 401);
  CHECK(s.call("viewer", "GET", "/v1/clusters").status == 200);
  CHECK(s.call("viewer", "GET", "/v1/audit").status == 403);
  CHECK(s.call("operator", "GET", "/v1/audit").status == 403);
  CHECK(s.call("admin", "GET", "/v1/audit").status == 200);
  CHECK(s.call("viewer", "POST", "/v1/clusters/shop/actions", R"({"action":"resize","to":3})")
          .status
        == 403);
  CHECK(s.decisions() == 0);
  REQUIRE(s.store->revoke_token("t-admin"));
  CHECK(s.call("admin", "GET", "/v1/audit").status == 401);
  // Every refusal is in the audit log with the token's name.
  auto audit = s.store->audit(100);
  REQUIRE(audit);
  int refused_viewer = 0;
  for (const auto& a : *audit) {
    refused_viewer += a.token == "t-viewer" && a.status == 403;
  }
  CHECK(refused_viewer == 2);
}

TEST_CASE("an action is an intent the chain carries out: a pending decision with its source",
          "[serve]")
{
  ApiState s;
  auto r = s.call("operator", "POST", "/v1/clusters/shop/actions", R"({"action":"resize","to":3})");
  REQUIRE(r.status == 202);
  auto pending = s.store->pending_decision(s.cluster.id);
  REQUIRE(pending);
  REQUIRE(*pending);
  CHECK((*pending)->source == "api:t-operator");
  CHECK((*pending)->to_size == 3);
  CHECK((*pending)->action == state::DecisionAction::scale_out);
  CHECK(state::external_source((*pending)->source));
  // A later one supersedes it; the cluster's desired size is the chain's to change.
  r = s.call("admin", "POST", "/v1/clusters/shop/actions", R"({"action":"resize","to":1})");
  REQUIRE(r.status == 202);
  pending = s.store->pending_decision(s.cluster.id);
  REQUIRE(*pending);
  CHECK((*pending)->action == state::DecisionAction::scale_in);
  CHECK((*pending)->source == "api:t-admin");
  auto c = s.store->find_cluster("shop");
  CHECK((*c)->desired == 2);
  CHECK(s.decisions() == 2);
  // Without an action runner, now=1 is an internal error and nothing more is stored.
  r = s.call("operator", "POST", "/v1/clusters/shop/actions", R"({"action":"resize","to":3})",
             {{"now", "1"}});
  CHECK(r.status == 500);
  CHECK(s.decisions() == 2);
}

TEST_CASE("hostile requests are refused with the CLI's error kinds and store nothing", "[serve]")
{
  ApiState s;
  for (const auto* body :
       {"", "null", "[]", "\"resize\"", "{", R"({"action":"resize"})", R"({"to":3})",
        R"({"action":"resize","to":"3"})", R"({"action":"resize","to":3.0})",
        R"({"action":"resize","to":-1})", R"({"action":"resize","to":10001})",
        R"({"action":"resize","to":18446744073709551615})", R"({"action":"RESIZE","to":3})",
        R"({"action":"resize","to":3,"force":1})", R"({"action":"resize","to":3,"force":"true"})",
        R"({"action":"resize","to":3,"x":true})", R"({"action":["resize"],"to":3})",
        R"({"action":"resize","to":5})", R"({"action":"resize","to":0})"}) {
    CAPTURE(body);
    auto r = s.call("admin", "POST", "/v1/clusters/shop/actions", body);
    CHECK(r.status == 400);
    CHECK(body_of(r)["error"]["kind"] == "usage");
  }
  for (const auto* name : {"nosuch", "Shop", "shop;x", "..", "shop%2F"}) {
    CAPTURE(name);
    CHECK(s.call("viewer", "GET", std::string("/v1/clusters/") + name).status == 404);
  }
  for (const auto* limit : {"0", "1001", "-1", "1e2", "x", "", "5 "}) {
    CAPTURE(limit);
    auto r = s.call("viewer", "GET", "/v1/clusters/shop/decisions", {}, {{"limit", limit}});
    CHECK(r.status == 400);
  }
  CHECK(s.call("admin", "POST", "/v1/clusters/shop/actions", R"({"action":"resize","to":3})",
               {{"now", "yes"}})
          .status
        == 400);
  CHECK(s.call("viewer", "GET", "/v2/clusters").status == 404);
  auto r = s.call("viewer", "DELETE", "/v1/clusters");
  CHECK(r.status == 405);
  CHECK(r.headers["Allow"] == "GET, POST");
  CHECK(s.decisions() == 0);
}

TEST_CASE("hostile token and decision rows read back are state errors", "[serve]")
{
  ApiState s;
  auto& db = s.store->db();
  SECTION("a token row")
  {
    const char* rows[] = {"UPDATE tokens SET role = 'root' WHERE name = 't-viewer'",
                          "UPDATE tokens SET name = '../x' WHERE name = 't-viewer'",
                          "UPDATE tokens SET hash = 'abc' WHERE name = 't-viewer'"};
    for (const auto* sql : rows) {
      CAPTURE(sql);
      if (!state_test::write_hostile(db, sql)) {
        continue;
      }
      auto tokens = s.store->tokens();
      REQUIRE_FALSE(tokens);
      CHECK(tokens.error().kind == core::ErrorKind::state);
      state_test::undo_hostile(db);
    }
  }
  SECTION("a decision's source")
  {
    REQUIRE(s.call("operator", "POST", "/v1/clusters/shop/actions",
                   R"({"action":"resize","to":3})")
              .status
            == 202);
    for (const auto* source : {"api:", "api:Ops", "api:ops;DROP", "webhook", "policy ", ""}) {
      CAPTURE(source);
      REQUIRE(db.exec(fmt::format("UPDATE decisions SET source = '{}'", source)));
      auto rows = s.store->decisions(s.cluster.id, 10);
      REQUIRE_FALSE(rows);
      CHECK(rows.error().kind == core::ErrorKind::state);
      // The API answers with the state error, never with the row.
      auto r = s.call("viewer", "GET", "/v1/clusters/shop/decisions");
      CHECK(r.status == 500);
      CHECK(body_of(r)["error"]["kind"] == "state");
    }
  }
}

TEST_CASE("decision sources parse to policy, manual or api:TOKEN only", "[serve]")
{
  CHECK(state::parse_decision_source("policy") == std::optional<std::string>("policy"));
  CHECK(state::parse_decision_source("manual") == std::optional<std::string>("manual"));
  CHECK(state::parse_decision_source("api:ops-1") == std::optional<std::string>("api:ops-1"));
  CHECK_FALSE(state::external_source("policy"));
  CHECK_FALSE(state::external_source("manual"));
  CHECK(state::external_source("api:ops"));
  for (const auto* hostile : {"", "api:", "api:-x", "api:a/b", "API:ops", "api:ops\n", "policy\n"}) {
    CAPTURE(hostile);
    CHECK_FALSE(state::parse_decision_source(hostile));
  }
}

TEST_CASE("the pages: a session cookie, a CSRF field on every form, every value escaped",
          "[serve]")
{
  ApiState s;
  const auto get = [&](const std::string& path, const std::string& cookie) {
    serve::Request r;
    r.method = "GET";
    r.path = path;
    r.cookie = cookie;
    return s.api->handle(r);
  };
  const auto post = [&](const std::string& path, const std::string& cookie,
                        const std::string& body) {
    serve::Request r;
    r.method = "POST";
    r.path = path;
    r.cookie = cookie;
    r.body = body;
    return s.api->handle(r);
  };
  CHECK(get("/ui/", "").status == 303);
  CHECK(get("/ui/", "sclman_session=" + std::string(50, 'x')).status == 303);
  // Signing in sets an HttpOnly, SameSite=Strict cookie; a wrong token does not.
  auto r = post("/ui/login", "", "token=" + s.tokens["operator"]);
  REQUIRE(r.status == 303);
  CHECK(r.headers["Set-Cookie"].find("HttpOnly; SameSite=Strict") != std::string::npos);
  CHECK(post("/ui/login", "", "token=sclman_" + std::string(43, 'Z')).status == 401);
  for (const auto* bad : {"token=%zz", "token=a&token=b", "token=%4"}) {
    CAPTURE(bad);
    CHECK(post("/ui/login", "", bad).status == 400);
  }
  const auto cookie = "other=1; sclman_session=" + s.tokens["operator"];
  auto page = get("/ui/clusters/shop", cookie);
  REQUIRE(page.status == 200);
  const std::string marker = "name=\"csrf\" value=\"";
  const auto at = page.body.find(marker);
  REQUIRE(at != std::string::npos);
  const auto csrf = page.body.substr(at + marker.size(), 64);
  // A form without the CSRF field, or with another session's, is refused and changes nothing.
  CHECK(post("/ui/clusters/shop/resize", cookie, "to=3").status == 403);
  CHECK(post("/ui/clusters/shop/resize", cookie, "to=3&csrf=" + std::string(64, '0')).status
        == 403);
  CHECK(post("/ui/clusters/shop/resize", "", "to=3&csrf=" + csrf).status == 403);
  CHECK(s.decisions() == 0);
  CHECK(post("/ui/clusters/shop/resize", cookie, "to=3&csrf=" + csrf).status == 200);
  CHECK(s.decisions() == 1);
  // A viewer's session has no form, and its post is refused.
  const auto viewer = "sclman_session=" + s.tokens["viewer"];
  page = get("/ui/clusters/shop", viewer);
  CHECK(page.body.find("id=\"resize\"") == std::string::npos);
  const auto vat = page.body.find(marker);
  REQUIRE(vat != std::string::npos);
  CHECK(post("/ui/clusters/shop/resize", viewer,
             "to=2&csrf=" + page.body.substr(vat + marker.size(), 64))
          .status
        == 403);
  // A value from outside (an upstream's error text) is shown escaped.
  REQUIRE(s.store->db().exec(
    "UPDATE decisions SET error = '<script>alert(1)</script>', status = 'failed'"));
  page = get("/ui/clusters/shop", cookie);
  CHECK(page.body.find("<script>") == std::string::npos);
  CHECK(page.body.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(page.headers["Content-Security-Policy"].find("default-src 'none'") != std::string::npos);
}

TEST_CASE("a cluster's page draws the dashboard's charts and each member's load at the last poll",
          "[serve]")
{
  ApiState s;
  constexpr core::Millis k_minute = 60'000;
  std::vector<state::Instance> web(2);
  for (auto& i : web) {
    i.cluster_id = s.cluster.id;
    i.role = state::Role::web;
    REQUIRE(s.store->insert_instance(i, s.cluster.name));
    i.state = state::InstanceState::in_service;
    i.in_service_since = s.clock.t;
    REQUIRE(s.store->update_instance(i));
  }
  // The second one answered the older poll only: it has no load at the last one.
  REQUIRE(s.store->insert_samples({
    {web[0].id, s.cluster.id, s.clock.t - 2 * k_minute, 10.0, std::nullopt},
    {web[1].id, s.cluster.id, s.clock.t - 2 * k_minute, 30.0, std::nullopt},
    {web[0].id, s.cluster.id, s.clock.t - k_minute, 0.75, std::nullopt},
    {web[1].id, s.cluster.id, s.clock.t - k_minute, std::nullopt, std::nullopt},
  }));
  serve::Request r;
  r.method = "GET";
  r.path = "/ui/clusters/shop";
  r.cookie = "sclman_session=" + s.tokens["viewer"];
  const auto page = s.api->handle(r);
  REQUIRE(page.status == 200);
  CHECK(page.body.find("<svg class=\"chart load\"") != std::string::npos);
  CHECK(page.body.find("<svg class=\"chart size\"") != std::string::npos);
  CHECK(page.body.find("svg.chart {") != std::string::npos);  // their style
  const auto row = [&](const state::Instance& i) {
    const auto at = page.body.find("<td>" + i.name + "</td>");
    REQUIRE(at != std::string::npos);
    return page.body.substr(at, page.body.find("</tr>", at) - at);
  };
  CHECK(row(web[0]).find("<td class=\"load\">0.75</td>") != std::string::npos);
  CHECK(row(web[1]).find("<td class=\"load\">-</td>") != std::string::npos);
}

TEST_CASE("force: only a token made with --force, only at once; it reaches the command",
          "[serve]")
{
  ApiState s;
  // A token that may force, and actions that record what the command would be given.
  auto secret = serve::new_token();
  REQUIRE(secret);
  state::Token t;
  t.name = "t-breakglass";
  t.role = state::TokenRole::operator_;
  t.force = true;
  t.hash = serve::token_hash(*secret);
  REQUIRE(s.store->insert_token(t));
  s.tokens["forcer"] = *secret;
  std::vector<std::string> ran;
  serve::ApiOptions o;
  o.state = s.store->location();
  o.clock = &s.clock;
  o.actions.resize_now = [&](const std::string& c, state::DecisionAction, int to,
                             const std::string& source, bool force) {
    ran.push_back(fmt::format("resize {} {} {} {}", c, to, source, force));
    return core::Result<Json>(Json::object());
  };
  o.actions.remove_now = [&](const std::string& c, const std::string& instance,
                             const std::string& source, bool force) {
    ran.push_back(fmt::format("remove {} {} {} {}", c, instance, source, force));
    return core::Result<Json>(Json::object());
  };
  s.api.emplace(std::move(o));
  const std::string forced = R"({"action":"resize","to":6,"force":true})";
  // Without the capability: 403, for an operator and an admin alike; nothing runs.
  for (const auto* role : {"operator", "admin"}) {
    CAPTURE(role);
    auto r = s.call(role, "POST", "/v1/clusters/shop/actions", forced, {{"now", "1"}});
    CHECK(r.status == 403);
    CHECK(body_of(r)["error"]["message"].get<std::string>().find("may not force")
          != std::string::npos);
    CHECK(s.call(role, "POST", "/v1/clusters/shop/instances/shop-web-1/remove", "{}",
                 {{"force", "1"}})
            .status
          == 403);
  }
  // Force is never an intent, and a size outside [1, 4] without it is refused as before.
  CHECK(s.call("forcer", "POST", "/v1/clusters/shop/actions", forced).status == 400);
  CHECK(s.call("forcer", "POST", "/v1/clusters/shop/actions", R"({"action":"resize","to":6})",
               {{"now", "1"}})
          .status
        == 400);
  CHECK(ran.empty());
  CHECK(s.decisions() == 0);
  // With it: the command runs with --force.
  CHECK(s.call("forcer", "POST", "/v1/clusters/shop/actions", forced, {{"now", "1"}}).status
        == 200);
  CHECK(s.call("forcer", "POST", "/v1/clusters/shop/instances/shop-web-1/remove", "{}",
               {{"force", "1"}})
          .status
        == 200);
  CHECK(ran
        == std::vector<std::string>{"resize shop 6 api:t-breakglass true",
                                    "remove shop shop-web-1 api:t-breakglass true"});
  // A viewer's token cannot force, made or read back.
  state::Token v;
  v.name = "t-peek";
  v.role = state::TokenRole::viewer;
  v.force = true;
  v.hash = std::string(64, 'a');
  CHECK_FALSE(s.store->insert_token(v));
  for (const char* hostile : {"UPDATE tokens SET can_force = 1 WHERE name = 't-viewer'",
                              "UPDATE tokens SET can_force = 2 WHERE name = 't-breakglass'",
                              "UPDATE tokens SET can_force = 'yes' WHERE name = 't-breakglass'"}) {
    CAPTURE(hostile);
    if (!state_test::write_hostile(s.store->db(), hostile)) {
      continue;
    }
    const auto read = s.store->tokens();
    REQUIRE_FALSE(read);
    CHECK(read.error().kind == core::ErrorKind::state);
    state_test::undo_hostile(s.store->db());
  }
}

TEST_CASE("the clusters page says whether the chain runs: stale until every step ran lately",
          "[serve]")
{
  ApiState s;
  serve::Request r;
  r.method = "GET";
  r.path = "/ui/";
  r.cookie = "sclman_session=" + s.tokens["viewer"];
  auto page = s.api->handle(r);
  REQUIRE(page.status == 200);
  CHECK(page.body.find("class=\"chain stale\"") != std::string::npos);
  CHECK(page.body.find("<strong>Warning:</strong>") != std::string::npos);
  for (const auto& step : report::chain_steps()) {
    REQUIRE(s.store->record_run({step, s.clock.t - 30'000, 0, 800, s.clock.t - 30'000}));
  }
  page = s.api->handle(r);
  CHECK(page.body.find("class=\"chain ok\"") != std::string::npos);
  CHECK(page.body.find("<strong>Warning:</strong>") == std::string::npos);
  CHECK(page.body.find("<td>decide</td>") != std::string::npos);
}

} // namespace unit_test_serve
