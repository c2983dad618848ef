#include "state/migrate.hpp"
#include "state/store.hpp"
#include "temp_store.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_store {

namespace {

namespace fs = std::filesystem;

using state_test::FixedClock;
using state_test::TempDir;

std::string slurp(const fs::path& p)
{
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST_CASE("a new state file is created 0600 and migrated to the latest schema", "[state][sqlite]")
{
  TempDir dir;
  FixedClock clock;
  const auto path = (dir.path / "sub" / "sclman.db").string();
  auto store = state::Store::open(path, clock);
  REQUIRE(store);
  auto version = state::schema_version(store->db());
  REQUIRE(version);
  CHECK(*version == state::latest_schema_version());
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // Opening again does not migrate twice.
  auto again = state::Store::open(path, clock);
  REQUIRE(again);
}

TEST_CASE("a file that is not SQLite is a state error and stays untouched", "[state][sqlite]")
{
  TempDir dir;
  FixedClock clock;
  const auto path = dir.path / "junk.db";
  std::ofstream(path) << "this is not a database\n";
  const auto before = slurp(path);
  auto store = state::Store::open(path.string(), clock);
  REQUIRE_FALSE(store);
  CHECK(store.error().kind == core::ErrorKind::state);
  CHECK_THAT(store.error().message, Catch::Contains("not an SQLite database"));
  CHECK(slurp(path) == before);
}

TEST_CASE("a state file with a newer schema is refused and stays untouched", "[state][sqlite]")
{
  TempDir dir;
  FixedClock clock;
  const auto path = dir.path / "new.db";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA user_version = 999;", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  sqlite3_close(db);
  const auto before = slurp(path);
  auto store = state::Store::open(path.string(), clock);
  REQUIRE_FALSE(store);
  CHECK(store.error().kind == core::ErrorKind::state);
  CHECK_THAT(store.error().message, Catch::Contains("schema version 999"));
  CHECK(slurp(path) == before);
  CHECK_FALSE(fs::exists(path.string() + "-wal"));
}

TEST_CASE("instances get deterministic names and serials per role", "[state]")
{
  TempDir dir;
  FixedClock clock;
  auto store = state_test::open_store((dir.path / "s.db").string(), clock);
  REQUIRE(store);
  state::Cluster c;
  c.name = "shop";
  c.policy = "{}";
  c.desired = 2;
  auto id = store->insert_cluster(c);
  REQUIRE(id);
  for (int k = 0; k < 2; ++k) {
    state::Instance i;
    i.cluster_id = *id;
    i.role = state::Role::web;
    REQUIRE(store->insert_instance(i, "shop"));
    CHECK(i.name == "shop-web-" + std::to_string(k + 1));
  }
  state::Instance lb;
  lb.cluster_id = *id;
  lb.role = state::Role::lb;
  REQUIRE(store->insert_instance(lb, "shop"));
  CHECK(lb.name == "shop-lb-1");
  // A second live cluster of the same name is refused by the schema.
  CHECK_FALSE(store->insert_cluster(c));
}

TEST_CASE("state transitions are stored with their time", "[state]")
{
  TempDir dir;
  FixedClock clock;
  auto store = state_test::open_store((dir.path / "s.db").string(), clock);
  REQUIRE(store);
  state::Cluster c;
  c.name = "shop";
  c.policy = "{}";
  auto id = store->insert_cluster(c);
  REQUIRE(id);
  state::Instance i;
  i.cluster_id = *id;
  i.role = state::Role::web;
  REQUIRE(store->insert_instance(i, "shop"));
  clock.t += 5000;
  REQUIRE(store->transition(i, state::InstanceState::in_service));
  auto all = store->instances(*id);
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK(all->front().state == state::InstanceState::in_service);
  CHECK(all->front().state_since == clock.t);
  CHECK(all->front().in_service_since == clock.t);
  REQUIRE(store->transition(i, state::InstanceState::gone));
  CHECK(store->instances(*id)->empty());
  CHECK(store->instances(*id, true)->size() == 1);
}

TEST_CASE("samples are read back by window and pruned by age", "[state]")
{
  TempDir dir;
  FixedClock clock;
  auto store = state_test::open_store((dir.path / "s.db").string(), clock);
  REQUIRE(store);
  state::Cluster c;
  c.name = "shop";
  c.policy = "{}";
  auto id = store->insert_cluster(c);
  REQUIRE(id);
  state::Instance i;
  i.cluster_id = *id;
  i.role = state::Role::web;
  REQUIRE(store->insert_instance(i, "shop"));
  std::vector<state::Sample> samples;
  for (int k = 0; k < 10; ++k) {
    samples.push_back(state::Sample{i.id, *id, k * 60'000, k * 1.0, std::int64_t{k} * 100});
  }
  samples.push_back(state::Sample{i.id, *id, 10 * 60'000, std::nullopt, std::nullopt});
  REQUIRE(store->insert_samples(samples));
  auto window = store->samples_since(*id, 5 * 60'000);
  REQUIRE(window);
  REQUIRE(window->size() == 6);
  CHECK(window->front().value == 5.0);
  CHECK_FALSE(window->back().value);
  auto last = store->last_raw_sample(i.id);
  REQUIRE(last);
  REQUIRE(*last);
  CHECK((*last)->raw == 900);
  auto pruned = store->prune_samples(3 * 60'000);
  REQUIRE(pruned);
  CHECK(*pruned == 3);
}

TEST_CASE("the window query uses the (cluster, ts) index", "[state][sqlite]")
{
  TempDir dir;
  FixedClock clock;
  auto store = state_test::open_store((dir.path / "s.db").string(), clock);
  REQUIRE(store);
  // The query the store sends, not a copy of it.
  auto plan = state::Stmt::prepare(
    store->db(), std::string("EXPLAIN QUERY PLAN ") + state::query::k_samples_between);
  REQUIRE(plan);
  std::string text;
  while (*plan->step()) {
    text += plan->column_text(3) + "\n";
  }
  CHECK_THAT(text, Catch::Contains("load_samples_cluster_ts"));
}

TEST_CASE("a cluster lock held by a live process is busy and names the holder", "[state]")
{
  TempDir dir;
  FixedClock clock;
  const auto path = (dir.path / "s.db").string();
  auto store = state_test::open_store(path, clock);
  REQUIRE(store);
  // A child process takes the lock and keeps running while we try.
  int ready[2];
  int done[2];
  REQUIRE(pipe(ready) == 0);
  REQUIRE(pipe(done) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    FixedClock child_clock;
    auto s = state_test::open_store(path, child_clock);
    const bool ok = s && s->lock("cluster:shop", 60'000);
    char c = ok ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    (void)!read(done[0], &c, 1);
    _exit(0);
  }
  char c = 0;
  REQUIRE(read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  auto busy = store->lock("cluster:shop", 60'000);
  REQUIRE_FALSE(busy);
  CHECK(busy.error().kind == core::ErrorKind::busy);
  CHECK_THAT(busy.error().message, Catch::Contains("held by pid " + std::to_string(child)));
  // Another cluster is not affected.
  CHECK(store->lock("cluster:other", 60'000));
  (void)!write(done[1], "x", 1);
  int status = 0;
  waitpid(child, &status, 0);
  // The holder is gone: its lock is taken over.
  CHECK(store->lock("cluster:shop", 60'000));
}

TEST_CASE("a run whose cluster lock was taken over has its writes for the cluster refused",
          "[state]")
{
  state_test::ShopState a;
  state::Instance web;
  web.cluster_id = a.cluster.id;
  REQUIRE(a.store->insert_instance(web, "shop"));
  const auto first = a.store->lock("cluster:shop", 60'000);
  REQUIRE(first);
  REQUIRE(a.store->begin_intent("shop", web.name, "create_server"));
  web.address = "10.0.0.1";
  REQUIRE(a.store->update_instance(web));
  // Taking its own lock again keeps the number.
  CHECK(*a.store->lock("cluster:shop", 60'000) == *first);

  // Another run takes the lock over: here a store of the same process (which counts as the
  // holder); across hosts, a lock older than the staleness bound (below).
  auto b = state_test::open_store(a.store->path(), a.clock);
  REQUIRE(b);
  const auto second = b->lock("cluster:shop", 60'000);
  REQUIRE(second);
  CHECK(*second == *first + 1);

  auto intent = a.store->begin_intent("shop", web.name, "delete_server");
  REQUIRE_FALSE(intent);
  CHECK(intent.error().kind == core::ErrorKind::busy);
  CHECK_THAT(intent.error().message,
             Catch::Contains("cluster lock 'cluster:shop' was taken over by pid")
               && Catch::Contains(fmt::format("fencing number {}", *second))
               && Catch::Contains(fmt::format("this run (fencing number {})", *first)));
  web.address = "10.0.0.66";
  auto updated = a.store->update_instance(web);
  REQUIRE_FALSE(updated);
  CHECK(updated.error().kind == core::ErrorKind::busy);
  CHECK(b->instances(a.cluster.id)->front().address == "10.0.0.1");
  // Nothing of the refused writes is stored; the holder's go on.
  auto pending = b->interrupt_pending("shop");
  REQUIRE(pending);
  CHECK(pending->size() == 1);  // the create_server intent written while a held the lock
  REQUIRE(b->begin_intent("shop", web.name, "delete_server"));
  // The old holder's unlock leaves the new holder's lock alone.
  a.store->unlock("cluster:shop");
  REQUIRE(b->begin_intent("shop", web.name, "delete_server"));
  // Writes for a cluster whose lock a store does not hold are not fenced.
  CHECK(a.store->begin_intent("blog", "blog-web-1", "create_server"));

  // Numbers only grow, across a release.
  b->unlock("cluster:shop");
  const auto third = b->lock("cluster:shop", 60'000);
  REQUIRE(third);
  CHECK(*third == *second + 1);
  // A lock of another host is taken over only once it is stale, with the next number.
  auto other = state::Stmt::prepare(b->db(), "UPDATE locks SET host = 'elsewhere', pid = 1");
  REQUIRE(other);
  REQUIRE(other->run());
  auto busy = a.store->lock("cluster:shop", 60'000);
  REQUIRE_FALSE(busy);
  CHECK_THAT(busy.error().message, Catch::Contains("held by pid 1 on host 'elsewhere'"));
  a.clock.t += 60'001;
  const auto fourth = a.store->lock("cluster:shop", 60'000);
  REQUIRE(fourth);
  CHECK(*fourth == *third + 1);
  CHECK_FALSE(b->begin_intent("shop", web.name, "create_server"));
}

TEST_CASE("pending intents of a dead run are marked interrupted", "[state]")
{
  TempDir dir;
  FixedClock clock;
  auto store = state_test::open_store((dir.path / "s.db").string(), clock);
  REQUIRE(store);
  auto a = store->begin_intent("shop", "shop-web-1", "create_server");
  INFO((a ? std::string() : a.error().message));
  auto b = store->begin_intent("shop", "shop-web-2", "create_server");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(store->finish_intent(*a, true, "ok"));
  auto interrupted = store->interrupt_pending("shop");
  REQUIRE(interrupted);
  REQUIRE(interrupted->size() == 1);
  CHECK(interrupted->front().instance == "shop-web-2");
  CHECK(store->interrupt_pending("shop")->empty());
}

TEST_CASE("read-then-write store calls do not fail as busy when processes write at once",
          "[state][scenario]")
{
  // A statement that has returned a row holds a read snapshot; a write on the same connection
  // then has to upgrade it, and SQLite answers SQLITE_BUSY at once (no busy handler) when another
  // connection wrote meanwhile. Writers that read first must take the write lock up front.
  TempDir dir;
  FixedClock clock;
  const auto path = (dir.path / "s.db").string();
  std::int64_t cluster_id = 0;
  {
    auto store = state_test::open_store(path, clock);
    REQUIRE(store);
    state::Cluster c;
    c.name = "shop";
    c.policy = "{}";
    c.desired = 1;
    auto id = store->insert_cluster(c);
    REQUIRE(id);
    cluster_id = *id;
  }
  constexpr int k_writers = 4;
  constexpr int k_rounds = 60;  // 240 commits per writer, all four writing at once
  std::vector<pid_t> children;
  for (int w = 0; w < k_writers; ++w) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      FixedClock child_clock;
      auto s = state_test::open_store(path, child_clock);
      int failures = s ? 0 : 1;
      for (int r = 0; s && r < k_rounds; ++r) {
        auto intent = s->begin_intent("shop", "shop-web-x", "test");
        failures += intent ? 0 : 1;
        if (intent && !s->finish_intent(*intent, true, "ok")) {
          ++failures;
        }
        state::Instance i;
        i.cluster_id = cluster_id;
        i.role = state::Role::web;
        failures += s->insert_instance(i, "shop") ? 0 : 1;
        failures += s->interrupt_pending("shop") ? 0 : 1;
      }
      _exit(failures == 0 ? 0 : 1);
    }
    children.push_back(child);
  }
  int failed = 0;
  for (const auto child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    failed += (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
  }
  CHECK(failed == 0);
  auto store = state_test::open_store(path, clock);
  REQUIRE(store);
  auto all = store->instances(cluster_id);
  REQUIRE(all);
  CHECK(all->size() == static_cast<std::size_t>(k_writers * k_rounds));
}

TEST_CASE("a sample keeps why it has no value; an unknown reason is a state error", "[state]")
{
  state_test::ShopState st;
  state::Instance web;
  web.cluster_id = st.cluster.id;
  REQUIRE(st.store->insert_instance(web, "shop"));
  state::Sample stale{web.id, st.cluster.id, 1000, std::nullopt, std::nullopt};
  stale.missing = policy::Missing::stale;
  state::Sample fresh{web.id, st.cluster.id, 2000, 0.5, std::nullopt};
  REQUIRE(st.store->insert_samples({stale, fresh}));
  const auto back = st.store->samples_between(st.cluster.id, 0, 3000);
  REQUIRE(back);
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].missing == policy::Missing::stale);
  CHECK((*back)[1].missing == policy::Missing::no_value);
  CHECK((*back)[1].value == 0.5);
  REQUIRE(st.store->db().exec("UPDATE load_samples SET missing = 'fresh' WHERE ts = 1000"));
  const auto bad = st.store->samples_between(st.cluster.id, 0, 3000);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == core::ErrorKind::state);
}

namespace {

// Write each of `hostile` into column `column` of every instance; each must make reading the
// instances a state error naming the column.
void refuses_each(state_test::ShopState& st, const char* column,
                  std::initializer_list<const char*> hostile)
{
  for (const char* value : hostile) {
    INFO(column << " = '" << value << "'");
    auto set = state::Stmt::prepare(st.store->db(),
                                    fmt::format("UPDATE instances SET {} = ?", column));
    REQUIRE(set);
    set->bind(1, std::string(value));
    if (!state_test::run_hostile(*set)) {
      continue;
    }
    const auto bad = st.store->instances(st.cluster.id);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == core::ErrorKind::state);
    CHECK_THAT(bad.error().message, Catch::Contains(column));
  }
}

// Check that each of `hostile` in `column` of the clusters table is a state error naming
// `names` when the cluster is read; leave the column ''.
void cluster_refuses_each(state_test::ShopState& st, const char* column, const char* names,
                          std::initializer_list<std::string> hostile)
{
  for (const auto& value : hostile) {
    INFO(column << " = '" << value << "'");
    auto set = state::Stmt::prepare(st.store->db(),
                                    fmt::format("UPDATE clusters SET {} = ?", column));
    REQUIRE(set);
    set->bind(1, value);
    REQUIRE(set->run());
    const auto bad = st.store->find_cluster("shop");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == core::ErrorKind::state);
    CHECK_THAT(bad.error().message, Catch::Contains(names));
  }
  auto reset =
    state::Stmt::prepare(st.store->db(), fmt::format("UPDATE clusters SET {} = ''", column));
  REQUIRE(reset);
  REQUIRE(reset->run());
}

} // namespace

TEST_CASE("an instance's balancer status is stored by name; any other text is a state error",
          "[state]")
{
  state_test::ShopState st;
  state::Instance web;
  web.cluster_id = st.cluster.id;
  REQUIRE(st.store->insert_instance(web, "shop"));
  REQUIRE(st.store->set_lb_status(web.id, core::Operating::no_monitor));
  auto back = st.store->instances(st.cluster.id);
  REQUIRE(back);
  CHECK(back->front().lb_status == core::Operating::no_monitor);
  REQUIRE(st.store->set_lb_status(web.id, std::nullopt));
  CHECK_FALSE(st.store->instances(st.cluster.id)->front().lb_status);
  refuses_each(st, "lb_status", {"online", "ONLINE ", "", "ERROR;DROP", "7"});
}

TEST_CASE("an LB instance's listener and pool ids are read back only as ids", "[state]")
{
  state_test::ShopState st;
  state::Instance lb;
  lb.cluster_id = st.cluster.id;
  lb.role = state::Role::lb;
  REQUIRE(st.store->insert_instance(lb, "shop"));
  REQUIRE(st.store->set_balancer_ids(lb.id, "4f1c-aa", "9b2e-bb"));
  auto back = st.store->instances(st.cluster.id);
  REQUIRE(back);
  CHECK(back->front().lb_listener_id == "4f1c-aa");
  CHECK(back->front().lb_pool_id == "9b2e-bb");
  for (const char* column : {"lb_listener_id", "lb_pool_id"}) {
    for (const std::string& hostile : std::vector<std::string>{"", "../pool", "a b", "id\n",
                                                              std::string(65, 'a'),
                                                              "x;rm -rf /"}) {
      INFO(column << " " << hostile);
      auto set = state::Stmt::prepare(st.store->db(), fmt::format("UPDATE instances SET {} = ?",
                                                                  column));
      REQUIRE(set);
      set->bind(1, hostile);
      REQUIRE(set->run());
      const auto bad = st.store->instances(st.cluster.id);
      REQUIRE_FALSE(bad);
      CHECK(bad.error().kind == core::ErrorKind::state);
      CHECK_THAT(bad.error().message, Catch::Contains(column));
    }
    REQUIRE(st.store->set_balancer_ids(lb.id, "l", "p"));
  }
}

TEST_CASE("an instance's scale-in protection is read back only as 0 or 1", "[state]")
{
  state_test::ShopState st;
  state::Instance web;
  web.cluster_id = st.cluster.id;
  REQUIRE(st.store->insert_instance(web, "shop"));
  CHECK_FALSE(st.store->instances(st.cluster.id)->front().protected_from_scale_in);
  REQUIRE(st.store->set_protected(web.id, true));
  CHECK(st.store->instances(st.cluster.id)->front().protected_from_scale_in);
  REQUIRE(st.store->set_protected(web.id, false));
  CHECK_FALSE(st.store->instances(st.cluster.id)->front().protected_from_scale_in);
  // Each of these SQLite would read as an integer without a word (column_int: 0, 2, 1, -1, 0).
  refuses_each(st, "protected", {"yes", "2", "1.5", "-1", "", "1 x", "1;"});
  auto real = state::Stmt::prepare(st.store->db(), "UPDATE instances SET protected = 2.0");
  REQUIRE(real);
  REQUIRE(real->run());
  CHECK_FALSE(st.store->instances(st.cluster.id));
}

TEST_CASE("a draining instance's connection count is read back only as a bounded integer",
          "[state]")
{
  state_test::ShopState st;
  state::Instance web;
  web.cluster_id = st.cluster.id;
  REQUIRE(st.store->insert_instance(web, "shop"));
  REQUIRE(st.store->transition(web, state::InstanceState::draining));
  web.connections = 7;
  web.connections_at = 42;
  REQUIRE(st.store->update_instance(web));
  auto back = st.store->instances(st.cluster.id)->front();
  CHECK(back.connections == 7);
  CHECK(back.connections_at == 42);
  // Leaving draining forgets the count.
  REQUIRE(st.store->transition(web, state::InstanceState::deleting));
  back = st.store->instances(st.cluster.id)->front();
  CHECK_FALSE(back.connections);
  CHECK_FALSE(back.connections_at);
  refuses_each(st, "connections",
               {"-1", "2147483648", "99999999999999999999", "1e3", "7 ", "0x10", "", "many"});
}

TEST_CASE("an instance's image and flavor are read back only as printable text", "[state]")
{
  state_test::ShopState st;
  state::Instance web;
  web.cluster_id = st.cluster.id;
  web.image = "debian-12 (bookworm)";
  web.flavor = "m1.small";
  REQUIRE(st.store->insert_instance(web, "shop"));
  const auto back = st.store->instances(st.cluster.id)->front();
  CHECK(back.image == "debian-12 (bookworm)");
  CHECK(back.flavor == "m1.small");
  const std::string long_name(256, 'a');
  for (const char* column : {"image", "flavor"}) {
    refuses_each(st, column, {"a\nb", "\x1b[31m", "caf\xc3\xa9", "a\"b", "a\\b", long_name.c_str()});
    auto restore = state::Stmt::prepare(st.store->db(),
                                        fmt::format("UPDATE instances SET {} = 'ok'", column));
    REQUIRE(restore);
    REQUIRE(restore->run());
  }
  CHECK(st.store->instances(st.cluster.id));
}

TEST_CASE("scale-in victims are kept newest first, and a row sclman would not write is a state "
          "error",
          "[state]")
{
  state_test::ShopState st;
  REQUIRE(st.store->insert_victim(st.cluster.id, {0, "shop-web-2", "oldest", "the oldest"}));
  REQUIRE(st.store->insert_victim(st.cluster.id, {0, "shop-web-3", "newest", "serial 3"}));
  auto rows = st.store->victims(st.cluster.id, 10);
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  CHECK(rows->front().instance == "shop-web-3");
  CHECK(rows->back().victim_policy == "oldest");
  CHECK(st.store->victims(st.cluster.id, 1)->size() == 1);
  for (const auto& [column, value] :
       {std::pair{"instance", "../etc/passwd"}, {"instance", "shop-web-1; rm"},
        {"victim_policy", "random"}, {"victim_policy", "Newest"}}) {
    INFO(column << " = " << value);
    auto set = state::Stmt::prepare(
      st.store->db(), fmt::format("UPDATE scale_in_victims SET {} = ? WHERE id = 1", column));
    REQUIRE(set);
    set->bind(1, std::string(value));
    REQUIRE(set->run());
    const auto bad = st.store->victims(st.cluster.id, 10);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == core::ErrorKind::state);
    CHECK_THAT(bad.error().message, Catch::Contains(column));
    auto restore = state::Stmt::prepare(
      st.store->db(), "UPDATE scale_in_victims SET instance = 'shop-web-2', victim_policy = "
                      "'oldest' WHERE id = 1");
    REQUIRE(restore);
    REQUIRE(restore->run());
  }
}

namespace {

// Make `path` a state file at schema 6 (before sql/0007) holding cluster "shop" (id 1) with an
// instance and a decision.
void make_schema_6(const fs::path& path)
{
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  for (const auto& m : state::migrations()) {
    if (m.version <= 6) {
      REQUIRE(sqlite3_exec(db, m.sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    }
  }
  const char* rows =
    "PRAGMA user_version = 6;"
    "INSERT INTO clusters (id, name, provider, bootstrapper, balancer, metrics, policy, desired,"
    " status, created_at) VALUES (1, 'shop', 'openstack:lab', 'local', 'nginx', 'sensu', '{}',"
    " 2, 'active', 5);"
    "UPDATE clusters SET image = 'debian-12', flavor = 'm1.small' WHERE id = 1;"
    "INSERT INTO instances (cluster_id, role, serial, name, state, created_at, state_since)"
    " VALUES (1, 'web', 1, 'shop-web-1', 'in_service', 5, 5);"
    "INSERT INTO decisions (cluster_id, ts, action, from_size, to_size, reason, inputs, status)"
    " VALUES (1, 5, 'scale_out', 1, 2, 'manual', '{}', 'done');";
  REQUIRE(sqlite3_exec(db, rows, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

} // namespace

TEST_CASE("migration 7 keeps clusters, instances and decisions, and records no cloud for them",
          "[state][sqlite]")
{
  TempDir dir;
  FixedClock clock;
  const auto path = dir.path / "v6.db";
  make_schema_6(path);
  auto store = state::Store::open(path.string(), clock);
  REQUIRE(store);
  CHECK(*state::schema_version(store->db()) == state::latest_schema_version());
  auto shop = store->find_cluster("shop");
  REQUIRE(shop);
  REQUIRE(*shop);
  CHECK((*shop)->provider == "openstack:lab");
  CHECK((*shop)->desired == 2);
  CHECK((*shop)->cloud_auth_url.empty());
  CHECK((*shop)->cloud_project.empty());
  auto instances = store->instances((*shop)->id);
  REQUIRE(instances);
  REQUIRE(instances->size() == 1);
  CHECK(instances->front().name == "shop-web-1");
  // Made before instances kept their image: the cluster's, which could not change then.
  CHECK(instances->front().image == "debian-12");
  CHECK(instances->front().flavor == "m1.small");
  auto decisions = store->decisions((*shop)->id, 10);
  REQUIRE(decisions);
  REQUIRE(decisions->size() == 1);
  CHECK(decisions->front().status == state::DecisionStatus::done);
  // A new cluster keeps its cloud.
  state::Cluster c;
  c.name = "cafe";
  c.provider = "openstack:other";
  c.policy = "{}";
  c.cloud_auth_url = "http://keystone:5000/v3";
  c.cloud_project = "Default/demo";
  REQUIRE(store->insert_cluster(c));
  auto cafe = store->find_cluster("cafe");
  REQUIRE(cafe);
  REQUIRE(*cafe);
  CHECK((*cafe)->cloud_auth_url == "http://keystone:5000/v3");
  CHECK((*cafe)->cloud_project == "Default/demo");
}

TEST_CASE("an LB's floating IP is read back only as an IP literal, a cluster's floating network "
          "only as printable text",
          "[state]")
{
  state_test::ShopState st;
  state::Instance lb;
  lb.cluster_id = st.cluster.id;
  lb.role = state::Role::lb;
  REQUIRE(st.store->insert_instance(lb, "shop"));
  CHECK_FALSE(st.store->instances(st.cluster.id)->front().public_address);
  REQUIRE(st.store->set_public_address(lb.id, core::IpAddress::parse("203.0.113.7").value()));
  CHECK(st.store->instances(st.cluster.id)->front().public_address->to_string()
        == "203.0.113.7");
  REQUIRE(st.store->set_public_address(lb.id, std::nullopt));
  CHECK_FALSE(st.store->instances(st.cluster.id)->front().public_address);
  refuses_each(st, "public_address",
               {"", "203.0.113.7:80", "lb.example.com", "203.0.113.7;\n include x", "0x7f.1"});

  CHECK(st.store->find_cluster("shop").value()->floating_network.empty());
  cluster_refuses_each(st, "floating_network", "floating_network",
                       {"ext\nnet", std::string(256, 'n'), "ext\x1b[2J"});
  cluster_refuses_each(st, "server_group", "server_group",
                       {"affinity", "anti-affinity ", "none", "x;y"});
  auto good = state::Stmt::prepare(st.store->db(),
                                   "UPDATE clusters SET server_group = 'soft-anti-affinity'");
  REQUIRE(good);
  REQUIRE(good->run());
  CHECK(st.store->find_cluster("shop").value()->server_group == "soft-anti-affinity");
}

TEST_CASE("a rollout starts once per cluster, gives the old image back when it fails, and is "
          "read back only with the values sclman writes",
          "[state][rollout]")
{
  state_test::ShopState st;
  for (int k = 0; k < 2; ++k) {
    state::Instance web;
    web.cluster_id = st.cluster.id;
    REQUIRE(st.store->insert_instance(web, "shop"));
  }
  state::Rollout r;
  r.cluster_id = st.cluster.id;
  r.from_image = "img-1";
  r.to_image = "img-2";
  r.batch = 2;
  REQUIRE(st.store->start_rollout(r));
  CHECK(r.last_old_serial == 2);
  CHECK(r.total == 2);
  CHECK(st.store->find_cluster("shop").value()->image == "img-2");
  auto second = r;
  const auto again = st.store->start_rollout(second);
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == core::ErrorKind::usage);
  r.batches = 1;
  r.surge = 2;
  r.batch_started_at = 5;
  REQUIRE(st.store->update_rollout(r));
  const auto read = st.store->running_rollout(st.cluster.id);
  REQUIRE(read);
  REQUIRE(*read);
  CHECK((*read)->surge == 2);
  CHECK((*read)->batch_started_at == 5);

  // Hostile rows: each is a state error naming the table (bound as text, which SQLite and
  // PostgreSQL both store as the column's type where it is a number).
  auto& db = st.store->db();
  for (const auto& [column, value] : std::vector<std::pair<const char*, std::string>>{
         {"status", "paused"}, {"surge", "3"}, {"batch", "0"}, {"batch", "101"},
         {"pause_s", "-1"}, {"to_image", "img\x1b"}, {"from_flavor", std::string(300, 'f')},
         {"ended_at", "7"}, {"min_in_service", "-2"}, {"instance", "../shop-web-1"},
         {"instance", ""}, {"instance", "shop-web-1\nx"}}) {
    CAPTURE(column, value);
    REQUIRE(db.exec("BEGIN"));
    auto set = state::Stmt::prepare(db, fmt::format("UPDATE rollouts SET {} = ?", column));
    REQUIRE(set);
    set->bind(1, value);
    REQUIRE(set->run());
    const auto bad = st.store->last_rollout(st.cluster.id);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == core::ErrorKind::state);
    CHECK_THAT(bad.error().message, Catch::Contains("table 'rollouts' row"));
    REQUIRE(db.exec("ROLLBACK"));
  }
  // A cluster's image read back is printable text too.
  {
    auto set = state::Stmt::prepare(db, "UPDATE clusters SET image = ?");
    REQUIRE(set);
    set->bind(1, "a\n");
    REQUIRE(set->run());
    const auto bad = st.store->find_cluster("shop");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("has image"));
    auto reset = state::Stmt::prepare(db, "UPDATE clusters SET image = 'img-2'");
    REQUIRE(reset);
    REQUIRE(reset->run());
  }

  auto running = st.store->running_rollout(st.cluster.id).value();
  REQUIRE(running);
  REQUIRE(st.store->end_rollout(*running, state::RolloutStatus::failed, "shop-web-3 failed"));
  CHECK(st.store->find_cluster("shop").value()->image == "img-1");
  CHECK_FALSE(st.store->running_rollout(st.cluster.id).value());
  const auto ended = st.store->last_rollout(st.cluster.id).value();
  REQUIRE(ended);
  CHECK(ended->status == state::RolloutStatus::failed);
  CHECK(ended->error == "shop-web-3 failed");
  CHECK(ended->ended_at);
}

TEST_CASE("a cluster's zones and an instance's zone and server group are read back only as "
          "sclman writes them",
          "[state][zones]")
{
  state_test::ShopState st;
  state::Instance web;
  web.cluster_id = st.cluster.id;
  web.availability_zone = "az-b";
  web.server_group = "sclman-shop";
  REQUIRE(st.store->insert_instance(web, "shop"));
  CHECK(st.store->instances(st.cluster.id)->front().availability_zone == "az-b");
  CHECK(st.store->instances(st.cluster.id)->front().server_group == "sclman-shop");
  const std::string too_long(256, 'z');
  refuses_each(st, "availability_zone", {"az\nb", too_long.c_str(), "az\x1b[2J"});
  auto reset = state::Stmt::prepare(st.store->db(), "UPDATE instances SET availability_zone = ''");
  REQUIRE(reset);
  REQUIRE(reset->run());
  refuses_each(st, "server_group", {"sclman\nshop", too_long.c_str(), "sclman-\x1b[2J"});
  cluster_refuses_each(st, "availability_zones", "availability zones",
                       {"a,,b", "a,a", "a\nb", "a,\x1b[2J"});
  auto good = state::Stmt::prepare(st.store->db(),
                                   "UPDATE clusters SET availability_zones = 'az-a,az-b'");
  REQUIRE(good);
  REQUIRE(good->run());
  CHECK(st.store->find_cluster("shop").value()->availability_zones
        == std::vector<std::string>{"az-a", "az-b"});
}

} // namespace unit_test_store
