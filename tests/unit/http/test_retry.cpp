#include "http/retry.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_retry {

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

TEST_CASE("a backoff doubles with jitter, honours Retry-After and stops in time",
          "[http][retry]")
{
  SECTION("attempts and cap")
  {
    http::Backoff b({.attempts = 4, .first_backoff = 500, .max_backoff = 1000});
    const auto w1 = b.next(1, std::nullopt, 0);
    REQUIRE(w1);
    CHECK(*w1 >= 250);
    CHECK(*w1 <= 500);
    const auto w2 = b.next(2, std::nullopt, 0);
    REQUIRE(w2);
    CHECK(*w2 >= 500);
    CHECK(*w2 <= 1000);
    const auto w3 = b.next(3, std::nullopt, 0);
    REQUIRE(w3);
    CHECK(*w3 <= 1000);  // capped
    CHECK_FALSE(b.next(4, std::nullopt, 0));
  }
  SECTION("Retry-After is a floor, longest_wait and the deadline stop it")
  {
    http::Backoff b({.attempts = 0, .first_backoff = 100, .deadline = 10'000});
    CHECK(b.next(1, std::chrono::seconds(3), 1000) == 3000);
    CHECK_FALSE(b.next(2, std::chrono::seconds(9), 1000));
    http::Backoff patient({.attempts = 0, .first_backoff = 100, .longest_wait = 2000});
    CHECK_FALSE(patient.next(1, std::chrono::seconds(3), 0));
    http::Backoff obedient({.attempts = 0, .first_backoff = 4000, .retry_after_is_wait = true});
    CHECK(obedient.next(1, std::chrono::seconds(0), 0) == 0);
    CHECK(obedient.next(2, std::chrono::seconds(1), 0) == 1000);
  }
  SECTION("no deadline: retry or not, as the policy says")
  {
    http::Backoff never({.attempts = 0, .retry_without_deadline = false});
    CHECK_FALSE(never.next(1, std::nullopt, 0));
    http::Backoff always({.attempts = 2});
    CHECK(always.next(1, std::nullopt, 0));
  }
}

} // namespace unit_test_retry
