#include "http/transport.hpp"

#include <catch2/catch.hpp>

TEST_CASE("percent-encodes query components", "[http]")
{
  CHECK(http::url_encode("abc-._~XYZ019") == "abc-._~XYZ019");
  CHECK(http::url_encode("a b&c=d/e?") == "a%20b%26c%3Dd%2Fe%3F");
  CHECK(http::url_encode("{mode=\"idle\"}") == "%7Bmode%3D%22idle%22%7D");
  CHECK(http::url_encode("\xc3\xa9") == "%C3%A9");
}

TEST_CASE("builds basic auth headers (RFC 7617)", "[http]")
{
  CHECK(http::basic_auth("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK(http::basic_auth("a", "") == "Basic YTo=");
  CHECK(http::basic_auth("ab", "") == "Basic YWI6");
}

TEST_CASE("redacts user info and query strings from URLs", "[http]")
{
  CHECK(http::redact_url("http://u:p@host:1/path?q=secret") == "http://host:1/path");
}
