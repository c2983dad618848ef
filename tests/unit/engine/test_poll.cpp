// From a metrics reading to a stored sample: counter to rate, resets, staleness, missing.
#include "engine/poll.hpp"
#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>

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

metrics::Reading counter(std::int64_t value)
{
  metrics::Reading r;
  r.counter = value;
  return r;
}

} // namespace

TEST_CASE("a counter becomes a rate from the last stored counter", "[engine]")
{
  Polled p;
  const auto t = p.clock.t;
  p.stored(1000, t - 60'000);
  const auto s = engine::sample_of(*p.store, p.web, counter(1600), t, p.max_age);
  REQUIRE(s);
  CHECK(s->sample.raw == 1600);
  REQUIRE(s->sample.value);
  CHECK(*s->sample.value == Approx(10.0));
  CHECK(s->error.empty());
}

TEST_CASE("the first counter of an instance has no rate yet", "[engine]")
{
  Polled p;
  const auto s = engine::sample_of(*p.store, p.web, counter(50), p.clock.t, p.max_age);
  REQUIRE(s);
  CHECK(s->sample.raw == 50);
  CHECK_FALSE(s->sample.value);
}

TEST_CASE("a counter older than max_age gives no rate", "[engine]")
{
  Polled p;
  p.stored(1000, p.clock.t - p.max_age - 1);
  const auto s = engine::sample_of(*p.store, p.web, counter(2000), p.clock.t, p.max_age);
  REQUIRE(s);
  CHECK_FALSE(s->sample.value);
}

TEST_CASE("a counter reset is no negative rate", "[engine]")
{
  Polled p;
  p.stored(5000, p.clock.t - 60'000);
  const auto s = engine::sample_of(*p.store, p.web, counter(10), p.clock.t, p.max_age);
  REQUIRE(s);
  CHECK((!s->sample.value || *s->sample.value >= 0));
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
