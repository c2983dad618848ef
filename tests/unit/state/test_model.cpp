// Rows read back from the state file are hostile until parsed: an unknown status, role, state
// or action text is a state error naming the table, the row and the value.
#include "core/log.hpp"
#include "core/names.hpp"
#include "state/model.hpp"
#include "state/store.hpp"
#include "temp_store.hpp"

#include <catch2/catch.hpp>

#include <string>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_model {

namespace {

using state_test::ShopState;

// Write `sql` past the schema's CHECK constraints, as a foreign tool or a bad edit could.
void write_raw(state::Store& store, const std::string& sql)
{
  REQUIRE(store.db().exec("PRAGMA ignore_check_constraints = ON"));
  REQUIRE(store.db().exec(sql));
  REQUIRE(store.db().exec("PRAGMA ignore_check_constraints = OFF"));
}

template <typename R>
void check_state_error(const R& read, const std::string& table, const std::string& value)
{
  REQUIRE_FALSE(read);
  CHECK(read.error().kind == core::ErrorKind::state);
  CHECK_THAT(read.error().message, Catch::Contains("'" + table + "'"));
  CHECK_THAT(read.error().message, Catch::Contains("row 1"));
  CHECK_THAT(read.error().message, Catch::Contains("'" + value + "'"));
}

} // namespace

TEST_CASE("every enum's name reads back as itself", "[state]")
{
  for (auto s : {state::ClusterStatus::creating, state::ClusterStatus::active,
                 state::ClusterStatus::deleting, state::ClusterStatus::deleted}) {
    CHECK(state::parse_cluster_status(state::to_string(s)) == s);
  }
  for (auto r : {state::Role::lb, state::Role::web}) {
    CHECK(state::parse_role(state::to_string(r)) == r);
  }
  for (auto a : {state::DecisionAction::hold, state::DecisionAction::scale_out,
                 state::DecisionAction::scale_in}) {
    CHECK(state::parse_decision_action(policy::to_string(a)) == a);
  }
  for (auto s : {state::DecisionStatus::noop, state::DecisionStatus::pending,
                 state::DecisionStatus::done, state::DecisionStatus::expired,
                 state::DecisionStatus::superseded}) {
    CHECK(state::parse_decision_status(state::to_string(s)) == s);
  }
  CHECK_FALSE(state::parse_role("LB"));
  CHECK_FALSE(state::parse_cluster_status(""));
}

TEST_CASE("an unknown cluster status in the state file is a state error", "[state]")
{
  ShopState s;
  write_raw(*s.store, "UPDATE clusters SET status = 'zombie'");
  check_state_error(s.store->find_cluster("shop"), "clusters", "zombie");
  check_state_error(s.store->clusters(), "clusters", "zombie");
}

TEST_CASE("an unknown instance role or state in the state file is a state error", "[state]")
{
  ShopState s;
  state::Instance i;
  i.cluster_id = s.cluster.id;
  REQUIRE(s.store->insert_instance(i, "shop"));
  SECTION("role")
  {
    write_raw(*s.store, "UPDATE instances SET role = 'db'");
    check_state_error(s.store->instances(s.cluster.id), "instances", "db");
  }
  SECTION("state")
  {
    write_raw(*s.store, "UPDATE instances SET state = 'flying'");
    check_state_error(s.store->instances(s.cluster.id), "instances", "flying");
  }
}

TEST_CASE("an unknown decision action or status in the state file is a state error", "[state]")
{
  ShopState s;
  state::DecisionRow d;
  d.cluster_id = s.cluster.id;
  d.ts = s.clock.t;
  d.action = state::DecisionAction::scale_out;
  d.status = state::DecisionStatus::pending;
  d.inputs = "{}";
  REQUIRE(s.store->insert_decision(d));
  SECTION("action")
  {
    write_raw(*s.store, "UPDATE decisions SET action = 'explode'");
    check_state_error(s.store->pending_decision(s.cluster.id), "decisions", "explode");
    check_state_error(s.store->decisions(s.cluster.id, 10), "decisions", "explode");
  }
  SECTION("status")
  {
    write_raw(*s.store, "UPDATE decisions SET status = 'maybe'");
    check_state_error(s.store->decisions(s.cluster.id, 10), "decisions", "maybe");
  }
}

TEST_CASE("a cluster or instance name in the state file goes through the names parser",
          "[state]")
{
  ShopState s;
  state::Instance i;
  i.cluster_id = s.cluster.id;
  REQUIRE(s.store->insert_instance(i, "shop"));
  SECTION("cluster")
  {
    for (const std::string bad : {"../../etc", "shop/x", "Shop", "a;b", "a\nb", ""}) {
      INFO(bad);
      auto stmt = state::Stmt::prepare(s.store->db(), "UPDATE clusters SET name = ?");
      REQUIRE(stmt);
      stmt->bind(1, bad);
      REQUIRE(stmt->step());
      check_state_error(s.store->clusters(), "clusters", core::printable(bad));
      check_state_error(s.store->find_cluster(bad), "clusters", core::printable(bad));
    }
  }
  SECTION("instance")
  {
    for (const std::string bad : {"../../etc", "shop-web-1/..", "shop-web-1 x", "x"}) {
      INFO(bad);
      auto stmt = state::Stmt::prepare(s.store->db(), "UPDATE instances SET name = ?");
      REQUIRE(stmt);
      stmt->bind(1, bad);
      REQUIRE(stmt->step());
      check_state_error(s.store->instances(s.cluster.id), "instances", core::printable(bad));
    }
  }
}

} // namespace unit_test_model
