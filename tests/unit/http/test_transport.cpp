#include "http/transport.hpp"

#include <catch2/catch.hpp>

TEST_CASE("redacts user info and query strings from URLs", "[http]")
{
  CHECK(http::redact_url("http://u:p@host:1/path?q=secret") == "http://host:1/path");
}
