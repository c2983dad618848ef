// Decisions in the state file keep their explanation (schema 3), and decide's window queries
// use indexes.
#include "state/store.hpp"
#include "temp_store.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_decisions {

namespace {

using state_test::FixedClock;
using state_test::TempDir;

// Return the plan SQLite chose for `sql`, one detail per line.
std::string plan(state::Store& store, const std::string& sql)
{
  auto s = state::Stmt::prepare(store.db(), "EXPLAIN QUERY PLAN " + sql);
  REQUIRE(s);
  std::string out;
  while (*s->step()) {
    out += s->column_text(3) + "\n";
  }
  return out;
}

} // namespace

TEST_CASE("a decision is stored with its explanation and read back", "[state]")
{
  state_test::ShopState s;
  auto& store = s.store;
  const auto& c = s.cluster;
  state::DecisionRow d;
  d.cluster_id = c.id;
  d.ts = s.clock.t;
  d.action = state::DecisionAction::scale_out;
  d.from_size = 2;
  d.to_size = 3;
  d.reason = "load_above_high";
  d.inputs = "{}";
  d.status = state::DecisionStatus::pending;
  d.explanation = R"({"rule":"threshold_high"})";
  REQUIRE(store->insert_decision(d));
  d.explanation.clear();  // set by hand: none
  d.ts += 1;
  REQUIRE(store->insert_decision(d));
  const auto rows = store->decisions(c.id, 5);
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].explanation == "{}");
  CHECK((*rows)[1].explanation == R"({"rule":"threshold_high"})");
}

TEST_CASE("decide's window queries use an index", "[state][sqlite]")
{
  TempDir dir;
  FixedClock clock;
  auto store = state_test::open_store((dir.path / "s.db").string(), clock);
  REQUIRE(store);
  const auto samples = plan(*store, state::query::k_samples_between);
  CHECK_THAT(samples, Catch::Contains("USING INDEX load_samples_cluster_ts (cluster_id=? AND ts>? AND ts<?)"));
  const auto actions = plan(*store, state::query::k_actions_since);
  CHECK_THAT(actions, Catch::Contains("USING INDEX decisions_done (cluster_id=? AND done_at>?)"));
}

} // namespace unit_test_decisions
