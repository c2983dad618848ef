#include "http/retry.hpp"

#include <catch2/catch.hpp>

TEST_CASE("retries wait half the backoff plus a random part of the other half", "[http][retry]")
{
  CHECK(http::equal_jitter(1000, 0.0) == 500);
  CHECK(http::equal_jitter(1000, 0.5) == 750);
  CHECK(http::equal_jitter(1000, 0.999) <= 1000);
  CHECK(http::equal_jitter(1000, 7.0) == 1000);
  CHECK(http::equal_jitter(1000, -1.0) == 500);
  CHECK(http::equal_jitter(250, 0.0) == 125);
  for (int k = 0; k < 100; ++k) {
    const double f = http::random_fraction();
    CHECK(f >= 0.0);
    CHECK(f < 1.0);
  }
}

TEST_CASE("Retry-After in seconds; dates and junk are no value", "[http][retry]")
{
  CHECK(http::parse_retry_after("12") == 12);
  CHECK(http::parse_retry_after(" 3\r") == 3);
  CHECK(http::parse_retry_after("0") == 0);
  CHECK_FALSE(http::parse_retry_after(""));
  CHECK_FALSE(http::parse_retry_after("-1"));
  CHECK_FALSE(http::parse_retry_after("5abc"));
  CHECK_FALSE(http::parse_retry_after("99999999999"));
  CHECK_FALSE(http::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
}
