#include "engine/locked.hpp"
#include "state/db.hpp"
#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

// Two clusters, "shop" and "blog"; `hold` marks a cluster's lock held by a live run elsewhere.
struct Two
{
  state_test::ShopState shop;
  std::vector<state::Cluster> clusters;
  engine::Locker locker{&*shop.store, 60'000, "test"};

  Two()
  {
    state::Cluster blog;
    blog.name = "blog";
    blog.policy = "{}";
    blog.id = shop.store->insert_cluster(blog).value();
    clusters = {shop.cluster, blog};
  }

  void hold(const std::string& cluster)
  {
    auto s = state::Stmt::prepare(shop.store->db(),
                                  "INSERT INTO locks (name, pid, host, acquired_at) "
                                  "VALUES (?, 1, 'elsewhere', ?)");
    REQUIRE(s);
    s->bind(1, "cluster:" + cluster).bind(2, shop.clock.t);
    REQUIRE(s->run());
  }

  bool held_by_me(const std::string& cluster)
  {
    auto s = state::Stmt::prepare(shop.store->db(),
                                  "SELECT host FROM locks WHERE name = ?");
    REQUIRE(s);
    s->bind(1, "cluster:" + cluster);
    return s->step().value() && s->column_text(0) != "elsewhere";
  }
};

} // namespace

TEST_CASE("for_each_locked skips a cluster another run holds and returns that as busy",
          "[engine]")
{
  Two t;
  t.hold("shop");
  std::vector<std::string> seen;
  const auto skipped = engine::for_each_locked(t.locker, t.clusters, [&](state::Cluster& c) {
    seen.push_back(c.name);
    CHECK(t.held_by_me(c.name));
    return core::Result<void>{};
  });
  REQUIRE(skipped);
  CHECK(seen == std::vector<std::string>{"blog"});
  REQUIRE(*skipped);
  CHECK((*skipped)->kind == core::ErrorKind::busy);
  CHECK_FALSE(t.held_by_me("blog"));  // released after its turn
}

TEST_CASE("for_each_locked goes on after a deferred error and stops at any other", "[engine]")
{
  Two t;
  std::vector<std::string> seen;
  auto failing = [&](core::ErrorKind kind) {
    return [&seen, kind](state::Cluster& c) -> core::Result<void> {
      seen.push_back(c.name);
      return core::fail(kind, "failed " + c.name);
    };
  };
  SECTION("deferred")
  {
    const auto first = engine::for_each_locked(
      t.locker, t.clusters, failing(core::ErrorKind::upstream_transient),
      {core::ErrorKind::upstream_transient});
    REQUIRE(first);
    REQUIRE(*first);
    CHECK((*first)->message == "failed shop");
    CHECK(seen.size() == 2);
  }
  SECTION("not deferred")
  {
    const auto first = engine::for_each_locked(t.locker, t.clusters,
                                                failing(core::ErrorKind::state),
                                                {core::ErrorKind::upstream_transient});
    REQUIRE_FALSE(first);
    CHECK(first.error().kind == core::ErrorKind::state);
    CHECK(seen.size() == 1);
  }
}

TEST_CASE("for_each_locked keeps the locks when asked to", "[engine]")
{
  Two t;
  std::vector<state::LockGuard> keep;
  const auto skipped = engine::for_each_locked(
    t.locker, t.clusters, [](state::Cluster&) { return core::Result<void>{}; }, {}, &keep);
  REQUIRE(skipped);
  CHECK_FALSE(*skipped);
  CHECK(keep.size() == 2);
  CHECK(t.held_by_me("shop"));
  CHECK(t.held_by_me("blog"));
}
