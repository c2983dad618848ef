// tests/unit/state/test_store_rejected.cpp: lib/state/store_rejected.cpp, the backends kept out
// of a cluster's LB.
#include "state/store.hpp"
#include "temp_store.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_store_rejected {

using state_test::FixedClock;
using state_test::TempDir;

TEST_CASE("rejected backends are replaced per sync, keep their first time, and leave when fixed",
          "[state]")
{
  TempDir dir;
  FixedClock clock;
  auto store = state_test::open_store((dir.path / "s.db").string(), clock);
  REQUIRE(store);
  state::Cluster c;
  c.name = "shop";
  c.policy = "{}";
  const auto shop = store->insert_cluster(c);
  c.name = "cart";
  const auto cart = store->insert_cluster(c);
  REQUIRE((shop && cart));
  REQUIRE(store->replace_rejected(*shop, {{"shop-web-1", "bad address 'x': no port", 0}}));
  REQUIRE(store->replace_rejected(*cart, {{"cart-web-1", "bad address 'y': no port", 0}}));
  const auto first = clock.t;
  clock.t += 60'000;
  REQUIRE(store->replace_rejected(*shop, {{"shop-web-1", "bad address 'z': no port", 0},
                                          {"shop-web-2", "bad address '}': no port", 0}}));
  auto rows = store->rejected(*shop);
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].name == "shop-web-1");
  CHECK((*rows)[0].reason == "bad address 'z': no port");  // the newest reason
  CHECK((*rows)[0].since == first);                         // the first time it was rejected
  CHECK((*rows)[1].since == clock.t);
  REQUIRE(store->replace_rejected(*shop, {{"shop-web-2", "bad address '}': no port", 0}}));
  rows = store->rejected(*shop);
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].name == "shop-web-2");  // shop-web-1 fixed: no row
  CHECK(store->rejected(*cart)->size() == 1);  // another cluster's rows stay
  REQUIRE(store->replace_rejected(*shop, {}));
  CHECK(store->rejected(*shop)->empty());
}

} // namespace unit_test_store_rejected
