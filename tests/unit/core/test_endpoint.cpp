#include "core/endpoint.hpp"
#include "core/log.hpp"

#include <catch2/catch.hpp>

#include <string>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_endpoint {

using core::Endpoint;

namespace {

const std::string k_injection = "127.0.0.1:80; } server { listen 8099; location / { return 200 "
                                "'owned'; } } upstream x { server 127.0.0.1";

} // namespace

TEST_CASE("IPv4 and bracketed IPv6 literals with a port parse and render from their bytes",
          "[core][endpoint]")
{
  const auto v4 = Endpoint::parse("10.0.0.5:8080");
  REQUIRE(v4);
  CHECK(v4->family() == Endpoint::Family::v4);
  CHECK(v4->port() == 8080);
  CHECK(v4->to_string() == "10.0.0.5:8080");
  const auto v6 = Endpoint::parse("[fd00:0:0::1]:65535");
  REQUIRE(v6);
  CHECK(v6->family() == Endpoint::Family::v6);
  CHECK(v6->ip() == "fd00::1");
  CHECK(v6->to_string() == "[fd00::1]:65535");  // canonical, with brackets
  CHECK(Endpoint::parse("[::1]:1")->to_string() == "[::1]:1");
  CHECK(Endpoint::parse("127.0.0.1:00080")->to_string() == "127.0.0.1:80");
  CHECK(*Endpoint::parse("10.0.0.5:80") == *Endpoint::from_ip("10.0.0.5", 80));
  CHECK(*Endpoint::parse("[fd00::1]:80") == *Endpoint::from_ip("fd00::1", 80));
  CHECK(*Endpoint::parse("10.0.0.5:80") < *Endpoint::parse("10.0.0.6:80"));
}

TEST_CASE("hostile addresses are refused with the text quoted and escaped", "[core][endpoint]")
{
  const std::string hostile[] = {
    k_injection,
    "127.0.0.1:80\nserver 10.0.0.1:80",
    "127.0.0.1:80;",
    "127.0.0.1;:80",
    "127.0.0.1:80}",
    "}",
    "127.0.0.1:0",
    "127.0.0.1:70000",
    "127.0.0.1:65536",
    "127.0.0.1",
    "127.0.0.1:",
    "web-1.example.net:80",
    "localhost:80",
    std::string(300, '1'),
    "127.0.0.1:" + std::string(300, '8'),
    "127.0.0.\xff:80",
    "\xc3\xa9:80",
    std::string("127.0.0.1\0:80", 13),
    std::string("127.0.0.1:8\0", 12),
    "",
    ":80",
    "[]:80",
    "fd00::1",
    "fd00::1:80",
    "[fd00::1]",
    "[fd00::1]80",
    "[fe80::1%eth0]:80",
    "[127.0.0.1]:80",
    "[fd00::1",
    "256.0.0.1:80",
    "1.2.3:80",
    "01.2.3.4:80",
    "0x7f.0.0.1:80",
    " 127.0.0.1:80",
    "127.0.0.1 :80",
    "127.0.0.1:+80",
    "127.0.0.1:-1",
    "127.0.0.1:8.0",
    "[fd00::1]:80:81",
    "[fd00:::1]:80",
    // What core::parse_host_port refused before Endpoint took its place (issue 14).
    "127.0.0.1:80abc", "127.0.0.1:0x50", "127.0.0.1: 80", "127.0.0.1\t:80", "127.0.0.1:8\n0",
    "[fd00::1]:", "[fd00::1]:0", "h/x:80", "u@127.0.0.1:80", "127.0.0.1:80/path", "h?:80",
    "[::1]:80:81", "[a]:80", "[]",
  };
  for (const auto& text : hostile) {
    INFO("address: " << core::printable(text));
    const auto parsed = Endpoint::parse(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().message.rfind("bad address '", 0) == 0);
    for (const char c : parsed.error().message) {
      const auto u = static_cast<unsigned char>(c);
      CHECK((u >= 0x20 && u < 0x7f));  // escaped: no control character, no byte above ASCII
    }
    CHECK(parsed.error().message.size() < 200);  // a 300-character value is cut
  }
  const auto nul = Endpoint::parse(std::string("127.0.0.1\0:80", 13));
  CHECK(nul.error().message.find("127.0.0.1\\x00:80") != std::string::npos);
}

TEST_CASE("from_ip takes a bare literal and a port from 1 to 65535", "[core][endpoint]")
{
  CHECK(Endpoint::from_ip("127.0.0.1", 1)->to_string() == "127.0.0.1:1");
  CHECK(Endpoint::from_ip("2001:db8::7", 8080)->to_string() == "[2001:db8::7]:8080");
  const std::string hostile[] = {
    k_injection, "127.0.0.1:80", "[::1]", "host", "127.0.0.1\n", "127.0.0.1;", "", "1.2.3.4 ",
    std::string(300, 'a'),
  };
  for (const auto& ip : hostile) {
    INFO("ip: " << core::printable(ip));
    CHECK_FALSE(Endpoint::from_ip(ip, 80));
  }
  CHECK_FALSE(Endpoint::from_ip("127.0.0.1", 0));
  CHECK_FALSE(Endpoint::from_ip("127.0.0.1", 70000));
  CHECK_FALSE(Endpoint::from_ip("127.0.0.1", -80));
}

TEST_CASE("an IP literal parses alone, and as the host of what a metrics source names",
          "[core][endpoint]")
{
  using core::IpAddress;
  CHECK(IpAddress::parse("10.0.0.5")->to_string() == "10.0.0.5");
  CHECK(IpAddress::parse("fd00:0::1")->family() == IpAddress::Family::v6);
  CHECK(IpAddress::parse("fd00:0::1")->to_string() == "fd00::1");
  for (const char* host : {"10.0.0.5", "10.0.0.5:9100", "[10.0.0.5]"}) {
    INFO(host);
    if (std::string_view(host).front() == '[') {
      CHECK_FALSE(IpAddress::parse_host(host));  // brackets hold IPv6 only
    } else {
      CHECK(IpAddress::parse_host(host)->to_string() == "10.0.0.5");
    }
  }
  for (const char* host : {"fd00::1", "[fd00::1]", "[fd00:0::1]:9100", "FD00::1"}) {
    INFO(host);
    CHECK(IpAddress::parse_host(host)->to_string() == "fd00::1");
  }
  CHECK(Endpoint::parse("[fd00::1]:80")->address() == *IpAddress::parse("fd00::1"));
  CHECK(Endpoint::from_ip(*IpAddress::parse("10.0.0.5"), 80)->to_string() == "10.0.0.5:80");
  CHECK_FALSE(Endpoint::from_ip(*IpAddress::parse("10.0.0.5"), 0));
  const std::string hostile[] = {
    k_injection, "127.0.0.1\n", "127.0.0.1;", "127.0.0.1}", "127.0.0.1:0", "127.0.0.1:70000",
    "127.0.0.1:", "web-1.example.net", "web-1:9100", std::string(300, '1'), "127.0.0.\xff",
    std::string("127.0.0.1\0", 10), "", "[fd00::1]x", "[fd00::1]:0", "fe80::1%eth0",
    "[fe80::1%eth0]:80", "1.2.3", "::ffff:1.2.3.4:80x",
  };
  for (const auto& text : hostile) {
    INFO("host: " << core::printable(text));
    const auto parsed = IpAddress::parse_host(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().message.rfind("bad address '" + core::printable(text) + "'", 0) == 0);
    CHECK_FALSE(IpAddress::parse(text));
  }
}

TEST_CASE("printable escapes control, quote and non-ASCII bytes and cuts long text",
          "[core][endpoint]")
{
  CHECK(core::printable("a\nb") == "a\\x0ab");
  CHECK(core::printable("'x'") == "\\x27x\\x27");
  CHECK(core::printable("\xff") == "\\xff");
  CHECK(core::printable(std::string(300, 'a')) == std::string(80, 'a') + "...");
}

TEST_CASE("the wildcard addresses are told from the others", "[core][endpoint]")
{
  const auto ip = [](const char* text) { return *core::IpAddress::parse(text); };
  CHECK(ip("0.0.0.0").is_any());
  CHECK(ip("::").is_any());
  CHECK(ip("0:0::0").is_any());
  CHECK_FALSE(ip("0.0.0.1").is_any());
  CHECK_FALSE(ip("::1").is_any());
  CHECK_FALSE(ip("127.0.0.1").is_any());
  CHECK_FALSE(ip("::ffff:0.0.0.0").is_any());  // v4-mapped: one address, not every one
}

} // namespace unit_test_endpoint
