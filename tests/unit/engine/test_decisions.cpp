// Decisions between decide and scale: the row a decision makes, which pending decision a scale
// command takes, the TTL and --to.
#include "engine/decisions.hpp"
#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_decisions {

namespace {

using state::DecisionAction;
using state::DecisionStatus;

policy::PolicyConfig sizes(int min, int max)
{
  policy::PolicyConfig p;
  p.min_size = min;
  p.max_size = max;
  return p;
}

// Record a pending decision of `action` to `to` for the shop, `age` ms old.
void pending(state_test::ShopState& s, DecisionAction action, int to, core::Millis age = 0)
{
  policy::Decision d;
  d.action = action;
  d.from = s.cluster.desired;
  d.to = to;
  d.reason = "test";
  auto row = engine::decision_row(s.cluster, d, s.clock.t - age);
  auto recorded = engine::record_decision(*s.store, row);
  INFO((recorded ? std::string() : recorded.error().message));
  REQUIRE(recorded);
}

} // namespace

TEST_CASE("a hold is recorded as noop, a scaling decision as pending with its inputs",
          "[engine]")
{
  state_test::ShopState s;
  policy::Decision d;
  d.action = DecisionAction::hold;
  d.from = d.to = 2;
  d.reason = "in_band";
  d.inputs = {{"load", 0.5}};
  const auto hold = engine::decision_row(s.cluster, d, s.clock.t);
  CHECK(hold.status == DecisionStatus::noop);
  CHECK(hold.inputs == R"({"load":0.5})");
  d.action = DecisionAction::scale_out;
  d.to = 3;
  CHECK(engine::decision_row(s.cluster, d, s.clock.t).status == DecisionStatus::pending);
}

TEST_CASE("a tick's decisions are stored in one transaction: all of them, or none if one "
          "fails",
          "[engine]")
{
  state_test::ShopState s;
  policy::Decision d;
  d.action = DecisionAction::scale_out;
  d.from = 2;
  d.to = 3;
  d.reason = "test";
  std::vector<state::DecisionRow> rows{engine::decision_row(s.cluster, d, s.clock.t),
                                       engine::decision_row(s.cluster, d, s.clock.t)};
  rows[1].cluster_id = s.cluster.id + 1000;  // no such cluster: its insert fails
  REQUIRE_FALSE(engine::record_decisions(*s.store, rows));
  CHECK(s.store->decisions(s.cluster.id, 10)->empty());
  CHECK_FALSE(s.store->db().in_transaction());

  rows[1].cluster_id = s.cluster.id;
  REQUIRE(engine::record_decisions(*s.store, rows));
  CHECK(rows[0].id > 0);
  CHECK(rows[1].id > rows[0].id);
  const auto stored = s.store->decisions(s.cluster.id, 10);
  REQUIRE(stored->size() == 2);
  // The second superseded the first, as two ticks' decisions would.
  CHECK(s.store->pending_decision(s.cluster.id).value()->id == rows[1].id);
}

TEST_CASE("a new pending decision supersedes the older one", "[engine]")
{
  state_test::ShopState s;
  pending(s, DecisionAction::scale_out, 3);
  pending(s, DecisionAction::scale_out, 4);
  const auto rows = s.store->decisions(s.cluster.id, 5);
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].status == DecisionStatus::pending);
  CHECK((*rows)[1].status == DecisionStatus::superseded);
}

TEST_CASE("scale takes the pending decision of its own direction, clamped", "[engine]")
{
  state_test::ShopState s;
  pending(s, DecisionAction::scale_out, 9);
  engine::TakeOptions o;
  o.ttl = 60'000;
  o.action = DecisionAction::scale_in;
  auto to = engine::take_decision(*s.store, s.cluster, sizes(1, 5), o, s.clock.t);
  REQUIRE(to);
  CHECK_FALSE(*to);
  o.action = DecisionAction::scale_out;
  to = engine::take_decision(*s.store, s.cluster, sizes(1, 5), o, s.clock.t);
  REQUIRE(to);
  CHECK(*to == 5);
  const auto left = s.store->pending_decision(s.cluster.id);
  REQUIRE(left);
  CHECK_FALSE(*left);
}

TEST_CASE("a pending decision past the TTL expires unused", "[engine]")
{
  state_test::ShopState s;
  pending(s, DecisionAction::scale_out, 3, 120'000);
  engine::TakeOptions o;
  o.ttl = 60'000;
  const auto to = engine::take_decision(*s.store, s.cluster, sizes(1, 5), o, s.clock.t);
  REQUIRE(to);
  CHECK_FALSE(*to);
  const auto rows = s.store->decisions(s.cluster.id, 1);
  REQUIRE(rows);
  CHECK(rows->front().status == DecisionStatus::expired);
}

TEST_CASE("a dry run takes a decision without marking it", "[engine]")
{
  state_test::ShopState s;
  pending(s, DecisionAction::scale_out, 3);
  engine::TakeOptions o;
  o.ttl = 60'000;
  o.write = false;
  const auto to = engine::take_decision(*s.store, s.cluster, sizes(1, 5), o, s.clock.t);
  REQUIRE(to);
  CHECK(*to == 3);
  const auto still = s.store->pending_decision(s.cluster.id);
  REQUIRE(still);
  CHECK(*still);
}

TEST_CASE("a --to size is checked against min, max and the direction, and recorded as manual",
          "[engine]")
{
  state_test::ShopState s;  // desired 2
  engine::TakeOptions o;
  o.action = DecisionAction::scale_out;
  o.to = 9;
  auto to = engine::take_decision(*s.store, s.cluster, sizes(1, 5), o, s.clock.t);
  REQUIRE_FALSE(to);
  CHECK(to.error().kind == core::ErrorKind::usage);
  o.to = 1;
  to = engine::take_decision(*s.store, s.cluster, sizes(1, 5), o, s.clock.t);
  REQUIRE_FALSE(to);
  CHECK_THAT(to.error().message, Catch::Contains("the other way"));
  o.to = 4;
  to = engine::take_decision(*s.store, s.cluster, sizes(1, 5), o, s.clock.t);
  REQUIRE(to);
  CHECK(*to == 4);
  const auto rows = s.store->decisions(s.cluster.id, 1);
  REQUIRE(rows);
  CHECK(rows->front().reason == "manual");
  CHECK(rows->front().status == DecisionStatus::done);
}

TEST_CASE("scale-in --to below the number of protected web instances is refused, nothing written",
          "[engine]")
{
  state_test::ShopState s;  // desired 2
  std::vector<std::int64_t> ids;
  for (int k = 0; k < 2; ++k) {
    state::Instance web;
    web.cluster_id = s.cluster.id;
    REQUIRE(s.store->insert_instance(web, "shop"));
    ids.push_back(web.id);
  }
  REQUIRE(s.store->set_protected(ids[0], true));
  engine::TakeOptions o;
  o.action = DecisionAction::scale_in;
  o.to = 1;
  o.write = true;
  auto to = engine::take_decision(*s.store, s.cluster, sizes(1, 5), o, s.clock.t);
  REQUIRE(to);  // one protected: one may stay
  CHECK(*to == 1);
  REQUIRE(s.store->set_protected(ids[1], true));
  const auto before = s.store->decisions(s.cluster.id, 10);
  REQUIRE(before);
  to = engine::take_decision(*s.store, s.cluster, sizes(1, 5), o, s.clock.t);
  REQUIRE_FALSE(to);
  CHECK(to.error().kind == core::ErrorKind::usage);
  CHECK_THAT(to.error().message, Catch::Contains("2 web instances") && Catch::Contains("protected"));
  CHECK(s.store->decisions(s.cluster.id, 10)->size() == before->size());
}

TEST_CASE("--force moves one bound just to the size, never above man_max_instances",
          "[engine][decisions]")
{
  auto policy = policy::policy_from_json(R"({"min":2,"max":5})");
  REQUIRE(policy);
  const auto within = engine::widened(*policy, 3, 20);
  REQUIRE(within);
  CHECK_FALSE(*within);
  const auto up = engine::widened(*policy, 8, 20);
  REQUIRE(up);
  REQUIRE(*up);
  CHECK(((*up)->min_size == 2 && (*up)->max_size == 8));
  const auto down = engine::widened(*policy, 0, 20);
  REQUIRE(down);
  REQUIRE(*down);
  CHECK(((*down)->min_size == 0 && (*down)->max_size == 5));
  const auto over = engine::widened(*policy, 21, 20);
  REQUIRE_FALSE(over);
  CHECK(over.error().kind == core::ErrorKind::usage);
  // Without --force a size outside [min, max] is refused; with it, taken.
  state_test::ShopState shop;
  shop.cluster.desired = 3;
  engine::TakeOptions take;
  take.to = 8;
  take.write = false;
  CHECK_FALSE(engine::take_decision(*shop.store, shop.cluster, *policy, take, 0));
  take.force = true;
  const auto taken = engine::take_decision(*shop.store, shop.cluster, *policy, take, 0);
  REQUIRE(taken);
  CHECK(*taken == 8);
}

} // namespace unit_test_decisions
