#include "report/dashboard.hpp"
#include "report/site.hpp"
#include "report/textfile.hpp"

#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_site {

namespace {

constexpr core::Millis k_minute = 60'000;

// Shop with two web instances in service, polled at now - 2 min (10 and 30) and now - 1 min
// (40 and no value), an older poll outside an hour, a scale-out and a hold within it.
struct PolledShop : state_test::ShopState
{
  core::Millis now = clock.t;

  PolledShop()
  {
    // Both created 20 minutes ago, in service 10 minutes later.
    clock.t = now - 20 * k_minute;
    std::vector<std::int64_t> ids;
    for (int k = 0; k < 2; ++k) {
      state::Instance i;
      i.cluster_id = cluster.id;
      i.role = state::Role::web;
      REQUIRE(store->insert_instance(i, cluster.name));
      i.state = state::InstanceState::in_service;
      i.in_service_since = now - 10 * k_minute;
      REQUIRE(store->update_instance(i));
      ids.push_back(i.id);
    }
    clock.t = now;
    REQUIRE(store->insert_samples({
      {ids[0], cluster.id, now - 90 * k_minute, 99.0, std::nullopt},
      {ids[0], cluster.id, now - 2 * k_minute, 10.0, std::nullopt},
      {ids[1], cluster.id, now - 2 * k_minute, 30.0, std::nullopt},
      {ids[0], cluster.id, now - k_minute, 40.0, std::nullopt},
      {ids[1], cluster.id, now - k_minute, std::nullopt, std::nullopt},
    }));
    for (const auto action : {state::DecisionAction::scale_out, state::DecisionAction::hold}) {
      state::DecisionRow d;
      d.cluster_id = cluster.id;
      d.ts = now - k_minute;
      d.action = action;
      d.from_size = 2;
      d.to_size = action == state::DecisionAction::hold ? 2 : 3;
      d.reason = "test";
      d.inputs = "{}";
      d.status = state::DecisionStatus::done;
      REQUIRE(store->insert_decision(d));
    }
  }
};

} // namespace

TEST_CASE("the report's history holds a mean load per poll, the instances polled and the "
          "decisions that changed something, within the window",
          "[report]")
{
  PolledShop shop;
  const auto site = report::assemble_site(*shop.store, shop.now, {60 * k_minute});
  REQUIRE(site);
  CHECK(site->clusters == 1);
  REQUIRE(site->status.size() == 1);
  CHECK(site->status[0]["name"] == "shop");
  CHECK(site->status[0]["size"] == 2);
  CHECK(site->history["generated"] == shop.now);
  const auto& h = site->history["clusters"][0];
  CHECK(h["name"] == "shop");
  const auto t0 = shop.now - 2 * k_minute;
  const auto t1 = shop.now - k_minute;
  CHECK(h["load"] == nlohmann::json::parse(fmt::format("[[{},20.0],[{},40.0]]", t0, t1)));
  CHECK(h["size"] == nlohmann::json::parse(fmt::format("[[{},2.0],[{},2.0]]", t0, t1)));
  REQUIRE(h["decisions"].size() == 1);
  CHECK(h["decisions"][0]["action"] == "scale_out");
  CHECK(h["decisions"][0]["to"] == 3);
  CHECK_THAT(site->html, Catch::Contains("shop"));
}

TEST_CASE("the report's history holds the desired size, the instances booting, the policy's "
          "lines and the chain's health",
          "[report]")
{
  PolledShop shop;
  // A third instance, requested 5 minutes ago and still booting; the scale-out made it desired.
  shop.clock.t = shop.now - 5 * k_minute;
  state::Instance booting;
  booting.cluster_id = shop.cluster.id;
  booting.role = state::Role::web;
  REQUIRE(shop.store->insert_instance(booting, shop.cluster.name));
  shop.clock.t = shop.now;
  REQUIRE(shop.store->set_desired(shop.cluster.id, 3));
  const auto since = shop.now - 60 * k_minute;

  SECTION("a chain that never ran")
  {
    const auto site = report::assemble_site(*shop.store, shop.now, {60 * k_minute});
    REQUIRE(site);
    const auto& h = site->history["clusters"][0];
    // Desired 2 until the scale-out a minute ago, then 3.
    CHECK(h["desired"]
          == nlohmann::json::parse(fmt::format("[[{},2.0],[{},3.0]]", since, shop.now - k_minute)));
    // None booting, both from 20 to 10 minutes ago, then the third one.
    CHECK(h["booting"]
          == nlohmann::json::parse(fmt::format("[[{},0.0],[{},2.0],[{},0.0],[{},1.0]]", since,
                                               shop.now - 20 * k_minute, shop.now - 10 * k_minute,
                                               shop.now - 5 * k_minute)));
    // The policy "{}" is the threshold rule with its defaults.
    CHECK(h["references"] == nlohmann::json{{"high", 50.0}, {"low", 10.0}});
    CHECK(h["attention"] == nlohmann::json::array());
    CHECK(site->history["chain"]["stale"] == true);
    CHECK(site->history["chain"]["last_run"].is_null());
    CHECK_THAT(site->html, Catch::Contains("the chain has never run"));
    CHECK_THAT(site->html, Catch::Contains("1 booting"));
  }
  SECTION("a chain that ran a minute ago")
  {
    for (const auto& step : report::chain_steps()) {
      REQUIRE(shop.store->record_run(state::RunRecord{step, shop.now - k_minute, 0, 10, std::nullopt}));
    }
    const auto site = report::assemble_site(*shop.store, shop.now, {60 * k_minute});
    REQUIRE(site);
    CHECK(site->history["chain"]["stale"] == false);
    CHECK(site->history["chain"]["last_success"] == shop.now - k_minute);
    CHECK(site->history["chain"]["steps"].size() == 5);
    CHECK_THAT(site->html, !Catch::Contains("role=\"alert\""));
  }
}

TEST_CASE("the textfile of a state file holds its counters and each cluster's sizes", "[report]")
{
  PolledShop shop;
  REQUIRE(shop.store->bump_counter("sclman_errors_total", "command=\"gc\",kind=\"state\""));
  const auto text = report::textfile_of(*shop.store);
  REQUIRE(text);
  CHECK_THAT(*text, Catch::Contains("sclman_errors_total{command=\"gc\",kind=\"state\"} 1\n"));
  CHECK_THAT(*text, Catch::Contains("sclman_decisions_total{action=\"scale_out\"} 1\n"));
  CHECK_THAT(*text, Catch::Contains("sclman_cluster_size{cluster=\"shop\"} 2\n"));
  CHECK_THAT(*text, Catch::Contains("sclman_cluster_desired{cluster=\"shop\"} 2\n"));
}

} // namespace unit_test_site
