#include "core/host_port.hpp"

#include <catch2/catch.hpp>

#include <string>

using core::parse_host_port;

TEST_CASE("host:port, [v6]:port and bare hosts parse into host and port", "[core][host_port]")
{
  const auto v4 = parse_host_port("10.0.0.5:8080");
  REQUIRE(v4);
  CHECK(v4->host == "10.0.0.5");
  CHECK(v4->port == 8080);
  const auto name = parse_host_port("web-1.example_net");
  REQUIRE(name);
  CHECK(name->host == "web-1.example_net");
  CHECK_FALSE(name->port);
  const auto v6 = parse_host_port("[fd00::1]:65535");
  REQUIRE(v6);
  CHECK(v6->host == "fd00::1");
  CHECK(v6->port == 65535);
  const auto v6_bare = parse_host_port("[fe80::1%eth0]");
  REQUIRE(v6_bare);
  CHECK(v6_bare->host == "fe80::1%eth0");
  CHECK_FALSE(v6_bare->port);
  CHECK(parse_host_port("h:1")->port == 1);
  CHECK(parse_host_port("h:00080")->port == 80);
}

TEST_CASE("hostile addresses are refused with the text quoted", "[core][host_port]")
{
  const char* hostile[] = {
    "",           ":80",          "[]:80",       "[]",         "h:",          "h:0",
    "h:65536",    "h:99999999",   "h:80abc",     "h:+80",      "h:-1",        "h: 80",
    "h :80",      " h:80",        "h:80 ",       "h\t:80",     "h:8\n0",      "a:b:c",
    "fd00::1",    "::1:80",       "[fd00::1",    "[fd00::1]x", "[fd00::1]80", "[a]:80",
    "[fd00::1]:", "[fd00::1]:0",  "h/x:80",      "u@h:80",     "h:80/path",   "h?:80",
    "h\xc3\xa9:80", "[::1]:80:81", "h:0x50",     "h:8.0",
  };
  for (const char* text : hostile) {
    INFO("address: " << text);
    const auto parsed = parse_host_port(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().kind == core::ErrorKind::usage);
    CHECK(parsed.error().message.rfind("bad address '", 0) == 0);
  }
  const auto nul = parse_host_port(std::string("h\0:80", 5));
  REQUIRE_FALSE(nul);
  CHECK(nul.error().message.find("h\\x00:80") != std::string::npos);
}
