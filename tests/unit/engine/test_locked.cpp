#include "engine/locked.hpp"
#include "state/db.hpp"
#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_locked {

namespace {

// Two clusters, "shop" and "blog"; `hold` marks a cluster's lock held by a live run elsewhere.
struct Two
{
  state_test::ShopState shop;
  std::vector<state::Cluster> clusters;
  engine::Locker locker{&*shop.store, 60'000, "test", 0, {}};

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
  CHECK_FALSE(t.held_by_me("blog"));  // released after the loop
}

TEST_CASE("for_each_locked takes every cluster's lock before the first turn and releases them "
          "all after the last",
          "[engine]")
{
  // One transaction for all the locks and one for their release: on PostgreSQL each commit
  // waits for its flush, and a lock a cluster cost two (docs/BENCHMARKS.md, issue 18).
  Two t;
  std::vector<std::string> seen;
  const auto done = engine::for_each_locked(t.locker, t.clusters, [&](state::Cluster& c) {
    seen.push_back(c.name);
    CHECK(t.held_by_me("shop"));
    CHECK(t.held_by_me("blog"));
    return core::Result<void>{};
  });
  REQUIRE(done);
  CHECK_FALSE(*done);
  CHECK(seen == std::vector<std::string>{"shop", "blog"});
  CHECK_FALSE(t.held_by_me("shop"));
  CHECK_FALSE(t.held_by_me("blog"));

  SECTION("an error that ends the loop releases the locks of the clusters it did not reach")
  {
    const auto failed = engine::for_each_locked(t.locker, t.clusters, [](state::Cluster&) {
      return core::Result<void>(core::fail(core::ErrorKind::state, "broken"));
    });
    REQUIRE_FALSE(failed);
    CHECK_FALSE(t.held_by_me("shop"));
    CHECK_FALSE(t.held_by_me("blog"));
  }
}

TEST_CASE("lock_many takes the free locks in one call and names the holder of each other one",
          "[state]")
{
  Two t;
  t.hold("blog");
  auto& s = *t.shop.store;
  const auto taken = s.lock_many({"cluster:shop", "cluster:blog"}, 60'000);
  REQUIRE(taken);
  REQUIRE(taken->size() == 2);
  REQUIRE((*taken)[0]);
  CHECK(*(*taken)[0] >= 1);
  REQUIRE_FALSE((*taken)[1]);
  CHECK((*taken)[1].error().kind == core::ErrorKind::busy);
  CHECK_THAT((*taken)[1].error().message, Catch::Contains("host 'elsewhere'"));
  CHECK(t.held_by_me("shop"));
  // Taken again by the same store: the same fencing number.
  const auto again = s.lock_many({"cluster:shop"}, 60'000);
  REQUIRE(again);
  CHECK(*again->front() == *(*taken)[0]);
  s.unlock_many({"cluster:shop", "cluster:blog"});
  CHECK_FALSE(t.held_by_me("shop"));
  CHECK(s.check_cluster_fence("blog"));  // not this store's: nothing to refuse
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
  state::LockSet keep(*t.shop.store);
  const auto skipped = engine::for_each_locked(
    t.locker, t.clusters, [](state::Cluster&) { return core::Result<void>{}; }, {}, &keep);
  REQUIRE(skipped);
  CHECK_FALSE(*skipped);
  CHECK(keep.size() == 2);
  CHECK(t.held_by_me("shop"));
  CHECK(t.held_by_me("blog"));
}

namespace {

// The names of `clusters` that for_each_locked with `locker` acts on.
std::vector<std::string> acted(const engine::Locker& locker, std::vector<state::Cluster>& clusters)
{
  std::vector<std::string> seen;
  const auto done = engine::for_each_locked(locker, clusters, [&](state::Cluster& c) {
    seen.push_back(c.name);
    return core::Result<void>{};
  });
  INFO((done ? std::string() : done.error().message));
  REQUIRE(done);
  CHECK_FALSE(*done);  // another host's cluster is no busy error
  return seen;
}

} // namespace

TEST_CASE("hosts of one state share each tick's clusters: each cluster goes to one host a tick, "
          "split by rank, and to the others once a host stops",
          "[engine]")
{
  state_test::ShopState shop;
  auto other = state_test::open_store(shop.store->path(), shop.clock);
  REQUIRE(other);
  std::vector<state::Cluster> clusters{shop.cluster};
  for (int i = 1; i < 20; ++i) {
    state::Cluster c;
    c.name = fmt::format("c{:02}", i);
    c.policy = "{}";
    c.id = shop.store->insert_cluster(c).value();
    clusters.push_back(c);
  }
  const engine::Locker a{&*shop.store, 60'000, "test", 10'000, "host-a"};
  const engine::Locker b{&*other, 60'000, "test", 10'000, "host-b"};
  shop.clock.t = 1'000'000'000'000;  // the start of a 10 s slot

  // Host a's first tick: it has seen no other host, and claims every cluster; b, starting in
  // the same tick, finds them claimed.
  CHECK(acted(a, clusters).size() == 20);
  CHECK(acted(b, clusters).empty());
  // The same tick again (a's next step): a finishes the tick it claimed, though b now ranks
  // first for some clusters.
  CHECK(acted(a, clusters).size() == 20);

  // From the next tick on, each acts on the clusters it ranks first for, whichever starts first.
  for (int tick = 1; tick <= 3; ++tick) {
    shop.clock.t += 10'000;
    auto on_a = tick == 2 ? acted(a, clusters) : std::vector<std::string>{};
    const auto on_b = acted(b, clusters);
    if (tick != 2) {
      on_a = acted(a, clusters);
    }
    INFO("tick " << tick);
    CHECK(on_a.size() + on_b.size() == 20);
    CHECK(on_a.size() >= 4);
    CHECK(on_b.size() >= 4);
    for (const auto& name : on_a) {
      CHECK(std::find(on_b.begin(), on_b.end(), name) == on_b.end());
      CHECK(engine::rendezvous_rank("host-a", name) > engine::rendezvous_rank("host-b", name));
    }
    // Again in the same tick (the next step of each host's chain): the same share.
    CHECK(acted(a, clusters) == on_a);
    CHECK(acted(b, clusters) == on_b);
  }

  // Host b stops: for three ticks a still leaves b's share; then it takes every cluster.
  shop.clock.t += 20'000;
  CHECK(acted(a, clusters).size() < 20);
  shop.clock.t += 10'001;
  CHECK(acted(a, clusters).size() == 20);

  // A dry locker (tick 0) takes no claim: a command by hand acts on every cluster.
  const engine::Locker by_hand{&*other, 60'000, "test", 0, {}};
  CHECK(acted(by_hand, clusters).size() == 20);
}

TEST_CASE("a tick claim moves on to later slots only, and is read without taking it", "[engine]")
{
  state_test::ShopState shop;
  auto& s = *shop.store;
  auto claim = [&](std::int64_t slot, const std::string& host, bool take) {
    auto c = s.claim_ticks({{"shop", take}}, slot, host);
    REQUIRE(c);
    REQUIRE(c->size() == 1);
    return c->front();
  };
  CHECK_FALSE(claim(5, "a", false));
  CHECK(claim(5, "a", true)->host == "a");
  CHECK(claim(5, "b", true)->host == "a");   // taken for this slot
  CHECK(claim(6, "b", false)->slot == 5);    // read only
  CHECK(claim(6, "b", true)->host == "b");   // the next slot
  const auto late = claim(5, "a", true);     // a host behind: the later slot stands
  CHECK((late->slot == 6 && late->host == "b"));
  // Hostile host names are values like any other: bound, stored and read back as they are.
  const std::string odd = "x'); DROP TABLE clusters; --\n\t\x01";
  CHECK(claim(7, odd, true)->host == odd);
  CHECK(s.clusters()->size() == 1);

  // gc's pruning: the claim of a deleted cluster and a host unseen for long go.
  REQUIRE(s.tick_hosts("old", 0));
  shop.clock.t += 86'400'001;
  REQUIRE(s.tick_hosts("new", 0));
  REQUIRE(s.set_cluster_status(shop.cluster.id, state::ClusterStatus::deleted));
  const auto pruned = s.prune_tick_claims(shop.clock.t - 86'400'000);
  REQUIRE(pruned);
  CHECK(*pruned == 2);
  CHECK_FALSE(claim(8, "a", false));
  CHECK(*s.tick_hosts("new", 0) == std::vector<std::string>{"new"});
}

TEST_CASE("rendezvous ranks split clusters evenly between hosts", "[engine]")
{
  int on_a = 0;
  int on_c = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto name = fmt::format("cluster-{}", i);
    const auto ra = engine::rendezvous_rank("host-a", name);
    const auto rb = engine::rendezvous_rank("host-b", name);
    const auto rc = engine::rendezvous_rank("host-c", name);
    CHECK(ra == engine::rendezvous_rank("host-a", name));  // the same on every call
    on_a += ra > rb ? 1 : 0;
    on_c += rc > ra && rc > rb ? 1 : 0;
  }
  // Two hosts: about half each; a third: about a third of the clusters.
  CHECK(on_a > 430);
  CHECK(on_a < 570);
  CHECK(on_c > 280);
  CHECK(on_c < 390);
}

} // namespace unit_test_locked
