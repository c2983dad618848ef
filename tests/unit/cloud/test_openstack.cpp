#include "cloud/openstack.hpp"

#include "../core/fake_clock.hpp"
#include "../http/one_at_a_time.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_openstack {

using cloud::OpenStackOptions;
using cloud::OpenStackProvider;

namespace {

const char* k_token = R"({"token": {
  "methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
  "project": {"id": "p1", "name": "demo", "domain": {"id": "default"}},
  "catalog": [
    {"type": "compute", "name": "nova", "endpoints": [
      {"interface": "public", "region_id": "RegionOne", "url": "http://nova/v2.1"}]},
    {"type": "image", "name": "glance", "endpoints": [
      {"interface": "public", "region_id": "RegionOne", "url": "http://glance"}]}]}})";

const char* k_web_1 = R"({"servers": [{"id": "s1", "name": "shop-web-1", "status": "BUILD",
  "created": "2026-11-26T17:00:00Z", "tags": ["sclman", "sclman:cluster=shop", "sclman:role=web"],
  "metadata": {"sclman:cluster": "shop", "sclman:role": "web"}, "addresses": {}}]})";

const char* k_web_1_active = R"({"server": {"id": "s1", "name": "shop-web-1", "status": "ACTIVE",
  "created": "2026-11-26T17:00:00Z", "tags": ["sclman", "sclman:cluster=shop", "sclman:role=web"],
  "metadata": {"sclman:cluster": "shop", "sclman:role": "web"},
  "addresses": {"net": [{"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"}]}}})";

// A second server named shop-web-1 (a create sent twice), still building.
const char* k_twin = R"({"servers": [{"id": "s2", "name": "shop-web-1", "status": "BUILD",
  "created": "2026-11-26T17:05:00Z", "tags": ["sclman", "sclman:cluster=shop", "sclman:role=web"],
  "metadata": {"sclman:cluster": "shop", "sclman:role": "web"}, "addresses": {}}]})";

// Nova and Keystone as a function of the request: `servers_listed` says whether a look-up by
// name sees the server yet; `post` answers each POST /servers.
class NovaTransport final : public OneAtATimeTransport
{
public:
  int auths = 0;
  int posts = 0;
  int lookups = 0;
  bool twin = false;  // the look-up by name lists only the twin
  std::function<bool(int lookup)> servers_listed = [](int) { return false; };
  std::function<core::Result<http::HttpResponse>(int post)> post;

  core::Result<http::HttpResponse> send(const http::HttpRequest& r) override
  {
    http::HttpResponse out;
    out.status = 200;
    if (r.url.find("/auth/tokens") != std::string::npos) {
      ++auths;
      out.status = 201;
      out.headers = {{"x-subject-token", "tok"}};
      out.body = k_token;
    } else if (r.url.find("/flavors") != std::string::npos) {
      out.body = R"({"flavors": [{"id": "f1", "name": "m1.tiny"}]})";
    } else if (r.url.find("/v2/images") != std::string::npos) {
      out.body = R"({"images": [{"id": "i1", "name": "tiny"}]})";
    } else if (r.url.find("/servers/detail?name=") != std::string::npos) {
      ++lookups;
      out.body = twin ? k_twin : servers_listed(lookups) ? k_web_1 : R"({"servers": []})";
    } else if (r.url == "http://nova/v2.1/servers/s1") {
      out.body = k_web_1_active;
    } else if (r.method == "POST" && r.url == "http://nova/v2.1/servers") {
      ++posts;
      return post(posts);
    } else {
      out.status = 404;
    }
    return out;
  }
};

core::Result<http::HttpResponse> accepted()
{
  http::HttpResponse r;
  r.status = 202;
  r.body = R"({"server": {"id": "s1"}})";
  return r;
}

core::Result<http::HttpResponse> timed_out()
{
  return core::fail(core::ErrorKind::upstream_transient,
                    "cannot reach 'http://nova/v2.1/servers': Operation timed out");
}

core::Result<http::HttpResponse> status(long code, std::string retry_after = "")
{
  http::HttpResponse r;
  r.status = code;
  r.body = R"({"overLimit": {"code": 413, "message": "This request was rate-limited."}})";
  if (!retry_after.empty()) {
    r.headers = {{"retry-after", retry_after}};
  }
  return r;
}

OpenStackOptions options(long timeout_ms)
{
  OpenStackOptions o;
  o.credentials.auth_url = "http://keystone/v3";
  o.credentials.username = "demo";
  o.credentials.password = "secret";
  o.credentials.project_name = "demo";
  o.credentials.user_domain_name = "Default";
  o.credentials.project_domain_name = "Default";
  o.timeout_ms = timeout_ms;
  return o;
}

cloud::ServerSpec web_1()
{
  cloud::ServerSpec s;
  s.name = "shop-web-1";
  s.cluster = "shop";
  s.role = core::Role::web;
  s.flavor = "m1.tiny";
  s.image = "tiny";
  return s;
}

} // namespace

TEST_CASE("a create nova accepted after the client gave up is found, not sent again",
          "[openstack]")
{
  // The POST timed out while Nova was still working on it: the server shows up in the list
  // only a moment later (the third look-up).
  NovaTransport nova;
  nova.post = [](int) { return timed_out(); };
  nova.servers_listed = [](int lookup) { return lookup >= 3; };
  test::FakeClock clock;
  OpenStackProvider p(nova, clock, options(3000));

  const auto server = p.create(web_1());
  REQUIRE(server);
  CHECK(server->id == "s1");
  CHECK(nova.posts == 1);
}

TEST_CASE("a create that never reached nova is sent again once a request timeout has passed",
          "[openstack]")
{
  NovaTransport nova;
  nova.post = [](int n) { return n == 1 ? timed_out() : accepted(); };
  test::FakeClock clock;
  OpenStackProvider p(nova, clock, options(1200));

  const auto server = p.create(web_1());
  REQUIRE(server);
  CHECK(nova.posts == 2);
  CHECK(nova.lookups >= 3);  // before the first POST, during the wait, before the second
}

TEST_CASE("a create of unknown outcome is not sent again when the deadline comes first",
          "[openstack]")
{
  NovaTransport nova;
  nova.post = [](int n) { return n == 1 ? status(502) : accepted(); };
  test::FakeClock clock;
  auto o = options(30'000);
  o.deadline = clock.steady() + 1500;
  OpenStackProvider p(nova, clock, o);

  const auto server = p.create(web_1());
  REQUIRE_FALSE(server);
  CHECK(server.error().kind == core::ErrorKind::upstream_transient);
  CHECK_THAT(server.error().message, Catch::Contains("next run looks for it first"));
  CHECK(nova.posts == 1);
}

TEST_CASE("rate limits (429, 413 with Retry-After) are retried at once after the wait; nova did "
          "not act",
          "[openstack]")
{
  NovaTransport nova;
  nova.post = [](int n) {
    return n == 1 ? status(429, "0") : n == 2 ? status(413, "0") : accepted();
  };
  test::FakeClock clock;
  OpenStackProvider p(nova, clock, options(30'000));

  const auto server = p.create(web_1());
  REQUIRE(server);
  CHECK(nova.posts == 3);
  CHECK(nova.lookups == 3);  // one before each POST, none spent waiting
}

TEST_CASE("a 401 gets one new token and the request again; a second 401 is an auth error",
          "[openstack]")
{
  // The token was revoked between runs (or expired early): Nova did not act on the request.
  NovaTransport nova;
  nova.post = [](int n) { return n == 1 ? status(401) : accepted(); };
  test::FakeClock clock;
  OpenStackProvider p(nova, clock, options(30'000));
  const auto server = p.create(web_1());
  REQUIRE(server);
  CHECK(nova.auths == 2);
  CHECK(nova.posts == 2);

  // Refused with a fresh token too: the credentials or roles are wrong; no third attempt.
  NovaTransport refused;
  refused.post = [](int) { return status(401); };
  OpenStackProvider q(refused, clock, options(30'000));
  const auto denied = q.create(web_1());
  REQUIRE_FALSE(denied);
  CHECK(denied.error().kind == core::ErrorKind::upstream_auth);
  CHECK(refused.auths == 2);
  CHECK(refused.posts == 2);
}

TEST_CASE("which failed creates may have been accepted by nova", "[openstack]")
{
  auto with_status = [](int s) {
    core::Error e;
    e.kind = core::ErrorKind::upstream_transient;
    e.http_status = s;
    return cloud::create_outcome_unknown(e);
  };
  CHECK(with_status(0));  // reset or timeout
  CHECK(with_status(500));
  CHECK(with_status(502));
  CHECK(with_status(504));
  CHECK_FALSE(with_status(429));
  CHECK_FALSE(with_status(413));
  CHECK_FALSE(with_status(503));
}

TEST_CASE("an instance's server is the one with its recorded id, not a namesake", "[openstack]")
{
  NovaTransport nova;
  nova.twin = true;
  test::FakeClock clock;
  OpenStackProvider p(nova, clock, options(30'000));

  const core::InstanceRef mine{"shop", "shop-web-1", core::Role::web, "", "s1"};
  const auto server = p.find_instance(mine);
  REQUIRE(server);
  REQUIRE(*server);
  CHECK((*server)->id == "s1");
  CHECK((*server)->status == cloud::ServerStatus::active);
  // Without a recorded id, the name decides.
  const auto by_name = p.find_instance(core::InstanceRef{"shop", "shop-web-1", core::Role::web, "", ""});
  REQUIRE(by_name);
  REQUIRE(*by_name);
  CHECK((*by_name)->id == "s2");
}

TEST_CASE("offers says whether the token's catalog has a service, for the configured interface",
          "[openstack]")
{
  NovaTransport keystone;
  test::FakeClock clock;
  OpenStackProvider p(keystone, clock, options(30'000));
  CHECK(p.offers("compute").value());
  CHECK(p.offers("image").value());
  CHECK_FALSE(p.offers("load-balancer").value());
  CHECK_FALSE(p.offers("").value());
  CHECK(keystone.auths == 1);  // one token, its catalog asked three times

  // The catalog has compute only as public: a cloud used through its internal endpoints does
  // not offer it.
  auto internal = options(30'000);
  internal.credentials.interface = "internal";
  OpenStackProvider q(keystone, clock, internal);
  CHECK_FALSE(q.offers("compute").value());
}

} // namespace unit_test_openstack
