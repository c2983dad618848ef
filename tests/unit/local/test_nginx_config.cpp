#include "core/process.hpp"
#include "local/nginx.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_nginx_config {

TEST_CASE("renders the upstream list and reads it back", "[local]")
{
  const std::vector<core::Endpoint> backends = {*core::Endpoint::parse("127.0.0.1:4001"),
                                                *core::Endpoint::parse("127.0.0.1:4002"),
                                                *core::Endpoint::parse("[fd00::0:1]:4003")};
  const auto text = local::render_upstream(backends);
  CHECK_THAT(text, Catch::Contains("upstream sclman_backends {"));
  CHECK_THAT(text, Catch::Contains("  server 127.0.0.1:4001 max_fails=1 fail_timeout=5s;\n"));
  CHECK_THAT(text, Catch::Contains("  server [fd00::1]:4003 max_fails=1 fail_timeout=5s;\n"));
  CHECK(local::parse_upstream(text) == backends);
}

TEST_CASE("an upstream line whose address does not parse is not read back", "[local]")
{
  const auto text = "upstream sclman_backends {\n  server 127.0.0.1:4001 max_fails=1;\n"
                    "  server 127.0.0.1:80;}server{listen;\n  server web.example.net:80;\n}\n";
  const auto read = local::parse_upstream(text);
  REQUIRE(read.size() == 1);
  CHECK(read[0].to_string() == "127.0.0.1:4001");
}

TEST_CASE("an empty upstream list stays valid for nginx and lists no backend", "[local]")
{
  const auto text = local::render_upstream({});
  CHECK_THAT(text, Catch::Contains("server 127.0.0.1:9 down;"));
  CHECK(local::parse_upstream(text).empty());
}

TEST_CASE("web pages have one length whatever the instance name", "[local]")
{
  const auto listen = *core::Endpoint::parse("127.0.0.1:4001");
  const auto a = local::render_web_config("a-web-1", listen, 512);
  const auto b = local::render_web_config("abcdefghijklmnopqrstuvwxyz01234-web-1000", listen, 512);
  auto page = [](const std::string& conf) {
    const auto at = conf.find("return 200 \"");
    return conf.substr(at, conf.find(";", at) - at);
  };
  CHECK(page(a).size() == page(b).size());
  CHECK_THAT(a, Catch::Contains("allow 127.0.0.1;"));
  CHECK_THAT(a, Catch::Contains("deny all;"));
}

TEST_CASE("the LB listens where --listen says, its status page for this host only", "[local]")
{
  const auto loopback = local::render_lb_config("c-lb-1", *core::Endpoint::parse("127.0.0.1:4000"), 512);
  CHECK_THAT(loopback, Catch::Contains("    listen 127.0.0.1:4000;\n"));
  CHECK_THAT(loopback, Catch::Contains("      allow 127.0.0.1;\n      allow ::1;\n      deny all;"));
  const auto v4 = local::render_lb_config("c-lb-1", *core::Endpoint::parse("192.0.2.10:80"), 512);
  CHECK_THAT(v4, Catch::Contains("    listen 192.0.2.10:80;\n"));
  // sclman reads the status page through the address it connects to.
  CHECK_THAT(v4, Catch::Contains("      allow ::1;\n      allow 192.0.2.10;\n      deny all;"));
  const auto v6 = local::render_lb_config("c-lb-1", *core::Endpoint::parse("[2001:db8::0:7]:8080"), 512);
  CHECK_THAT(v6, Catch::Contains("    listen [2001:db8::7]:8080;\n"));
  CHECK_THAT(v6, Catch::Contains("      allow 2001:db8::7;\n"));
  const auto other_loopback = local::render_lb_config("c-lb-1", *core::Endpoint::parse("127.0.0.2:4000"), 512);
  CHECK_THAT(other_loopback, Catch::Contains("      allow ::1;\n      allow 127.0.0.2;\n      deny all;"));
  const auto any = local::render_lb_config("c-lb-1", *core::Endpoint::parse("0.0.0.0:80"), 512);
  CHECK_THAT(any, Catch::Contains("    listen 0.0.0.0:80;\n"));
  CHECK_THAT(any, !Catch::Contains("allow 0.0.0.0"));
}

TEST_CASE("nginx gets PATH, TZ and the locale of sclman's environment, no credentials", "[local]")
{
  const char* env[] = {"PATH=/usr/sbin:/usr/bin",
                       "OS_PASSWORD=hunter2",
                       "OS_CLOUD=prod",
                       "TZ=UTC",
                       "SCLMAN_CONFIG=/etc/sclman/sclman.conf",
                       "LC_ALL=C.UTF-8",
                       "AWS_SECRET_ACCESS_KEY=abc",
                       "PATHX=no",
                       "LANG=C",
                       nullptr};
  CHECK(core::child_environment(env)
        == std::vector<std::string>{"PATH=/usr/sbin:/usr/bin", "TZ=UTC", "LC_ALL=C.UTF-8", "LANG=C"});
  const char* empty[] = {nullptr};
  CHECK(core::child_environment(empty).empty());
}

} // namespace unit_test_nginx_config
