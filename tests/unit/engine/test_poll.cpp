// From a metrics reading to a stored sample: counter to rate, resets, staleness, missing.
#include "engine/poll.hpp"
#include "../metrics/canned_transport.hpp"
#include "../state/temp_store.hpp"
#include "metrics/prometheus.hpp"
#include "metrics/sensu.hpp"
#include "metrics/stub_status.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_poll {

namespace {

struct Polled : state_test::ShopState
{
  state::Instance web;
  const core::Millis max_age = 120'000;

  Polled()
  {
    web.cluster_id = cluster.id;
    REQUIRE(store->insert_instance(web, "shop"));
  }

  // Store a counter sample of `raw` taken at `ts`.
  void stored(std::int64_t raw, core::Millis ts)
  {
    state::Sample s{web.id, cluster.id, ts, std::nullopt, raw};
    REQUIRE(store->insert_samples({s}));
  }
};

// A counter read at `ts` (stub_status dates it when its answer comes).
metrics::Reading counter(std::int64_t value, core::Millis ts)
{
  metrics::Reading r;
  r.counter = value;
  r.ts = ts;
  return r;
}

} // namespace

TEST_CASE("a counter becomes a rate from the last stored counter", "[engine]")
{
  Polled p;
  const auto t = p.clock.t;
  p.stored(1000, t - 60'000);
  const auto s = engine::sample_of(*p.store, p.web, counter(1600, t), t, p.max_age);
  REQUIRE(s);
  CHECK(s->sample.raw == 1600);
  REQUIRE(s->sample.value);
  CHECK(*s->sample.value == Approx(10.0));
  CHECK(s->error.empty());
  CHECK(s->note.empty());
}

TEST_CASE("the first counter of an instance has no rate yet", "[engine]")
{
  Polled p;
  const auto s = engine::sample_of(*p.store, p.web, counter(50, p.clock.t), p.clock.t, p.max_age);
  REQUIRE(s);
  CHECK(s->sample.raw == 50);
  CHECK_FALSE(s->sample.value);
}

TEST_CASE("a counter older than max_age gives no rate", "[engine]")
{
  Polled p;
  p.stored(1000, p.clock.t - p.max_age - 1);
  const auto s = engine::sample_of(*p.store, p.web, counter(2000, p.clock.t), p.clock.t, p.max_age);
  REQUIRE(s);
  CHECK_FALSE(s->sample.value);
}

TEST_CASE("a counter reset is no negative rate", "[engine]")
{
  Polled p;
  p.stored(5000, p.clock.t - 60'000);
  const auto s = engine::sample_of(*p.store, p.web, counter(10, p.clock.t), p.clock.t, p.max_age);
  REQUIRE(s);
  CHECK((!s->sample.value || *s->sample.value >= 0));
  CHECK(s->note == "counter went back from 5000 to 10: counted from zero");
}

TEST_CASE("a gauge is kept while fresh and missing with a reason when stale", "[engine]")
{
  Polled p;
  metrics::Reading r;
  r.value = 0.7;
  r.ts = p.clock.t - 10'000;
  auto s = engine::sample_of(*p.store, p.web, r, p.clock.t, p.max_age);
  REQUIRE(s);
  CHECK(s->sample.value == 0.7);
  CHECK(s->error.empty());
  r.ts = p.clock.t - 300'000;
  s = engine::sample_of(*p.store, p.web, r, p.clock.t, p.max_age);
  REQUIRE(s);
  CHECK_FALSE(s->sample.value);
  CHECK(s->error == "sample is 300s old (max_age 120s)");
}

TEST_CASE("an unreachable instance is a missing sample with the source's reason", "[engine]")
{
  Polled p;
  metrics::Reading r;
  r.reachable = false;
  r.error = "connection refused";
  const auto s = engine::sample_of(*p.store, p.web, r, p.clock.t, p.max_age);
  REQUIRE(s);
  CHECK_FALSE(s->sample.value);
  CHECK_FALSE(s->sample.raw);
  CHECK(s->sample.instance_id == p.web.id);
  CHECK(s->error == "connection refused");
}

namespace {

// What poll-load stores for `r` polled now.
engine::PolledSample polled(Polled& p, const metrics::Reading& r)
{
  auto s = engine::sample_of(*p.store, p.web, r, p.clock.t, p.max_age);
  REQUIRE(s);
  return *s;
}

void check_stale(const engine::PolledSample& s, const std::string& error)
{
  CHECK_FALSE(s.sample.value);
  CHECK_FALSE(s.sample.raw);
  CHECK(s.sample.missing == policy::Missing::stale);
  CHECK(s.error == error);
}

} // namespace

TEST_CASE("an old sample from each source is stale, never a value", "[engine][stale]")
{
  Polled p;
  const auto now_s = p.clock.t / 1000;
  const auto old_s = std::to_string(now_s - 600);
  const metrics::CheckParse parse = metrics::check_parse_from(metrics::SensuConfig{});

  SECTION("Sensu Core: a result executed 600 s ago")
  {
    const auto results = metrics::parse_sensu_results(
      R"([{"client":"shop-web-1","check":{"name":"load","status":0,"output":"x | load1=0.5",)"
      R"("executed":)" + old_s + "}}]", 200, "load");
    REQUIRE(results);
    REQUIRE(results->size() == 1);
    check_stale(polled(p, metrics::reading_from_check((*results)[0], parse)),
                "sample is 600s old (max_age 120s)");
  }
  SECTION("Sensu Go: a metric point stamped 600 s ago")
  {
    const auto events = metrics::parse_sensu_go_events(
      R"([{"check":{"metadata":{"name":"load"},"output":"","status":0,"executed":)"
      + std::to_string(now_s) + R"(},"entity":{"metadata":{"name":"shop-web-1"}},)"
      R"("metrics":{"points":[{"name":"load1","value":0.5,"timestamp":)" + old_s + "}]}}]",
      200, "load");
    REQUIRE(events);
    REQUIRE(events->size() == 1);
    check_stale(polled(p, metrics::reading_from_check((*events)[0], parse)),
                "sample is 600s old (max_age 120s)");
  }
  SECTION("check output: a Graphite line stamped 600 s ago in a result executed now")
  {
    metrics::CheckResult result;
    result.entity = "shop-web-1";
    result.executed = p.clock.t;
    result.output = "shop-web-1.load1 0.5 " + old_s;
    check_stale(polled(p, metrics::reading_from_check(result, parse)),
                "sample is 600s old (max_age 120s)");
  }
  SECTION("Prometheus: a series whose newest sample is 600 s old, evaluated now")
  {
    const std::vector<metrics::Series> series{{"shop-web-1", p.clock.t, 0.5}};
    const std::vector<metrics::Series> times{{"shop-web-1", p.clock.t, double(now_s - 600)}};
    const auto r = metrics::readings_from_series({core::InstanceRef{"shop", "shop-web-1", core::Role::web,
                                                                    "127.0.0.1:80", ""}},
                                                 series, times, metrics::MatchBy::name, "x");
    check_stale(polled(p, r[0]), "sample is 600s old (max_age 120s)");
    // Without a time of its own (no time series): stale too, never dated by the query.
    const auto undated = metrics::readings_from_series(
      {core::InstanceRef{"shop", "shop-web-1", core::Role::web, "127.0.0.1:80", ""}}, series, {},
      metrics::MatchBy::name, "x");
    check_stale(polled(p, undated[0]), "the source gave no time for the sample");
  }
  SECTION("stub_status: a counter dated by its answer, 600 s before it is stored")
  {
    state_test::FixedClock answered;
    answered.t = p.clock.t - 600'000;
    CannedTransport t;
    t.answer(200, "Active connections: 1 \nserver accepts handled requests\n 5 5 900 \n"
                  "Reading: 0 Writing: 1 Waiting: 0 \n");
    metrics::StubStatusSource source(t, answered, 1000, 1);
    const auto r = source.poll({core::InstanceRef{"shop", "shop-web-1", core::Role::web, "127.0.0.1:80", ""}});
    REQUIRE(r[0].counter == 900);
    CHECK(r[0].ts == answered.t);
    p.stored(300, p.clock.t - 60'000);
    check_stale(polled(p, r[0]), "sample is 600s old (max_age 120s)");
  }
}

TEST_CASE("a sample dated ahead of now by more than max_age is stale", "[engine][stale]")
{
  Polled p;
  metrics::Reading r;
  r.value = 0.5;
  r.ts = p.clock.t + 100'000;  // clock skew within max_age: kept
  CHECK(polled(p, r).sample.value == 0.5);
  r.ts = p.clock.t + 600'000;
  check_stale(polled(p, r), "sample is dated 600s ahead (max_age 120s)");
}

TEST_CASE("numbers out of range are refused before any arithmetic", "[engine][range]")
{
  Polled p;
  metrics::Reading r;
  r.ts = p.clock.t;
  for (const double v : {1e300, 1e10, -1.0, std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::infinity()}) {
    r.value = v;
    const auto s = polled(p, r);
    CHECK_FALSE(s.sample.value);
    CHECK(s.sample.missing == policy::Missing::out_of_range);
    CHECK(s.error.find("value") == 0);
    CHECK(s.error.find("is out of range [0, 1000000000]") != std::string::npos);
  }
  r.value = 1e9;  // the ceiling itself is a load
  CHECK(polled(p, r).sample.value == 1e9);
}

TEST_CASE("a negative counter is refused and not kept for the next rate", "[engine][range]")
{
  Polled p;
  p.stored(1000, p.clock.t - 60'000);
  const auto s = polled(p, counter(-5, p.clock.t));
  CHECK_FALSE(s.sample.value);
  CHECK_FALSE(s.sample.raw);
  CHECK(s.sample.missing == policy::Missing::out_of_range);
  CHECK(s.error == "counter -5 is negative");
}

TEST_CASE("a counter that jumps beyond any web server's rate is refused, the last good one kept",
          "[engine][range]")
{
  Polled p;
  p.stored(1000, p.clock.t - 60'000);
  const auto huge = polled(p, counter(std::numeric_limits<std::int64_t>::max(), p.clock.t));
  CHECK_FALSE(huge.sample.value);
  CHECK_FALSE(huge.sample.raw);  // the next rate is taken from 1000, not from the jump
  CHECK(huge.sample.missing == policy::Missing::out_of_range);
  CHECK(huge.error.find("rate ") == 0);
  CHECK(huge.error.find("is out of range [0, 1000000000]") != std::string::npos);
}

TEST_CASE("a counter that wraps counts from zero, never a negative or huge rate", "[engine][range]")
{
  Polled p;
  // Near the top of int64, then wrapped to a small value: a reset, as Prometheus' rate() has it.
  p.stored(std::numeric_limits<std::int64_t>::max() - 10, p.clock.t - 60'000);
  const auto s = polled(p, counter(600, p.clock.t));
  REQUIRE(s.sample.value);
  CHECK(*s.sample.value == Approx(10.0));
  CHECK(s.sample.raw == 600);
  CHECK(s.note == "counter went back from 9223372036854775797 to 600: counted from zero");
  CHECK(s.error.empty());
  // A stored negative counter (a hostile state file) gives no rate, never an overflow.
  CHECK_FALSE(metrics::counter_rate(-9'000'000'000'000'000'000, 0, 9'000'000'000'000'000'000, 1000));
}

} // namespace unit_test_poll
