#include "http/transport.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_transport {

TEST_CASE("redacts user info and query strings from URLs", "[http]")
{
  CHECK(http::redact_url("http://u:p@host:1/path?q=secret") == "http://host:1/path");
}

} // namespace unit_test_transport
