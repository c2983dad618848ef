#include "metrics/source.hpp"
#include "metrics/stub_status.hpp"

#include <catch2/catch.hpp>

TEST_CASE("parses nginx stub_status output", "[metrics]")
{
  const auto s = metrics::parse_stub_status("Active connections: 2 \n"
                                            "server accepts handled requests\n"
                                            " 16630948 16630948 31070465 \n"
                                            "Reading: 0 Writing: 1 Waiting: 1 \n");
  REQUIRE(s);
  CHECK(s->active == 2);
  CHECK(s->accepts == 16630948);
  CHECK(s->requests == 31070465);
  CHECK(s->writing == 1);
  CHECK(s->waiting == 1);
}

TEST_CASE("rejects malformed stub_status output", "[metrics]")
{
  for (const char* text : {"", "<html>502</html>", "Active connections: x\n",
                           "Active connections: 1 \nserver accepts handled requests\n 1 2 \n"}) {
    INFO(text);
    CHECK_FALSE(metrics::parse_stub_status(text));
  }
}

TEST_CASE("turns counters into rates; a reset is not a negative rate", "[metrics]")
{
  CHECK(*metrics::counter_rate(100, 0, 700, 60'000) == Approx(10.0));
  // The counter went down: the process restarted and counts from zero.
  CHECK(*metrics::counter_rate(5000, 0, 120, 60'000) == Approx(2.0));
  // A missed tick widens the interval.
  CHECK(*metrics::counter_rate(100, 0, 1300, 120'000) == Approx(10.0));
  CHECK_FALSE(metrics::counter_rate(1, 1000, 2, 1000));
}
