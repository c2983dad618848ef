#include "engine/gc.hpp"
#include "state/db.hpp"
#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_gc {

using cloud::Server;
using engine::GcCounts;
using engine::GcOptions;
using engine::OrphanSweep;

namespace {

// A cloud in memory: servers by id; remove() notes the journal's pending intents it sees.
class FakeProvider final : public cloud::Provider
{
public:
  explicit FakeProvider(state::Store& store) : m_store(store) {}

  std::map<std::string, Server> servers;
  std::vector<std::string> removed;      // ids, in order
  std::vector<std::string> intent_seen;  // the pending delete_orphan intent at each remove

  void add(const std::string& id, const std::string& name, const std::string& cluster,
           core::Millis created)
  {
    Server s;
    s.id = id;
    s.name = name;
    s.cluster = cluster;
    s.role = core::Role::web;
    s.created = created;
    servers[id] = s;
  }

  core::Result<Server> create(const cloud::ServerSpec&) override
  {
    return core::fail(core::ErrorKind::internal, "not used");
  }
  core::Result<std::optional<Server>> find(const std::string&) override
  {
    return std::optional<Server>{};
  }
  core::Result<void> remove(const core::InstanceRef& instance) override
  {
    auto s = state::Stmt::prepare(m_store.db(),
                                  "SELECT instance FROM journal WHERE status = 'pending' "
                                  "AND op = 'delete_orphan'");
    REQUIRE(s);
    while (s->step().value()) {
      intent_seen.push_back(s->column_text(0));
    }
    removed.push_back(instance.cloud_id);
    servers.erase(instance.cloud_id);
    return {};
  }
  core::Result<std::vector<Server>> list() override
  {
    std::vector<Server> out;
    for (const auto& [id, s] : servers) {
      out.push_back(s);
    }
    return out;
  }

private:
  state::Store& m_store;
};

struct Fixture
{
  state_test::ShopState shop;
  FakeProvider cloud{*shop.store};
  GcOptions options;
  GcCounts counts;
  core::Millis grace = 60'000;

  Fixture() { options.lock_stale = 60'000; }

  // Add a live web instance of shop whose server has id `cloud_id`.
  void live_instance(const std::string& cloud_id)
  {
    state::Instance i;
    i.cluster_id = shop.cluster.id;
    i.role = state::Role::web;
    REQUIRE(shop.store->insert_instance(i, "shop"));
    i.cloud_id = cloud_id;
    i.state = state::InstanceState::in_service;
    REQUIRE(shop.store->update_instance(i));
    cloud.add(cloud_id, i.name, "shop", shop.clock.t - 10 * grace);
  }

  core::Result<void> sweep()
  {
    return engine::sweep_orphans(*shop.store, shop.clock, {OrphanSweep{&cloud, grace, true}},
                                 options, counts);
  }
};

} // namespace

TEST_CASE("gc deletes an orphan older than the grace and keeps one in it")
{
  Fixture f;
  f.cloud.add("old", "shop-web-9", "shop", f.shop.clock.t - 2 * f.grace);
  f.cloud.add("young", "shop-web-10", "shop", f.shop.clock.t - f.grace / 2);
  f.cloud.add("undated", "shop-web-11", "shop", 0);
  REQUIRE(f.sweep());
  CHECK(f.cloud.removed == std::vector<std::string>{"old"});
  CHECK(f.counts.orphan_servers == 1);
}

TEST_CASE("gc leaves untagged servers and live instances' servers alone")
{
  Fixture f;
  f.live_instance("live-id");
  f.cloud.add("untagged", "someone-else", "", f.shop.clock.t - 10 * f.grace);
  REQUIRE(f.sweep());
  CHECK(f.cloud.removed.empty());
  CHECK(f.counts.orphan_servers == 0);
}

TEST_CASE("gc deletes a namesake of a live instance with another id")
{
  Fixture f;
  f.live_instance("live-id");
  const auto name = f.cloud.servers.at("live-id").name;
  f.cloud.add("twin-id", name, "shop", f.shop.clock.t - 10 * f.grace);
  REQUIRE(f.sweep());
  CHECK(f.cloud.removed == std::vector<std::string>{"twin-id"});
  CHECK(f.cloud.servers.count("live-id") == 1);
}

TEST_CASE("gc skips the orphans of a cluster another run has locked")
{
  Fixture f;
  f.cloud.add("old", "shop-web-9", "shop", f.shop.clock.t - 2 * f.grace);
  // Held by a run on another host (so alive as far as this one can tell), taken just now.
  auto s = state::Stmt::prepare(f.shop.store->db(),
                                "INSERT INTO locks (name, pid, host, acquired_at) "
                                "VALUES ('cluster:shop', 1, 'elsewhere', ?)");
  REQUIRE(s);
  s->bind(1, f.shop.clock.t);
  REQUIRE(s->run());
  REQUIRE(f.sweep());
  CHECK(f.cloud.removed.empty());
  CHECK(f.counts.orphan_servers == 0);
}

TEST_CASE("gc in dry run counts orphans and deletes nothing")
{
  Fixture f;
  f.cloud.add("old", "shop-web-9", "shop", f.shop.clock.t - 2 * f.grace);
  f.options.dry_run = true;
  REQUIRE(f.sweep());
  CHECK(f.cloud.removed.empty());
  CHECK(f.counts.orphan_servers == 1);
}

TEST_CASE("gc writes the journal intent before it deletes an orphan")
{
  Fixture f;
  f.cloud.add("old", "shop-web-9", "shop", f.shop.clock.t - 2 * f.grace);
  REQUIRE(f.sweep());
  CHECK(f.cloud.intent_seen == std::vector<std::string>{"shop-web-9"});
  auto s = state::Stmt::prepare(f.shop.store->db(),
                                "SELECT status FROM journal WHERE op = 'delete_orphan'");
  REQUIRE(s);
  REQUIRE(s->step().value());
  CHECK(s->column_text(0) == "done");
}

} // namespace unit_test_gc
