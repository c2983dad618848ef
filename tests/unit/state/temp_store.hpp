// What unit tests of code over the state file share: a fixed clock and a private directory.
#pragma once

#include "core/clock.hpp"
#include "state/store.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <stdlib.h>

namespace state_test {

struct FixedClock final : core::Clock
{
  core::Millis t = 1'000'000'000'000;
  core::Millis now() const override { return t; }
  void sleep_for(core::Millis ms) override { t += ms; }
};

// A directory below /tmp, removed with everything in it at the end of the scope.
struct TempDir
{
  std::filesystem::path path;
  TempDir()
  {
    char tmpl[] = "/tmp/sclman-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Return where a test's state at `path` lives: that SQLite file or, when
// SCLMAN_TEST_POSTGRESQL holds a libpq connection string (ctest's unit:postgresql, with the
// server tests/support/postgresql.sh started), a schema of that database named after `path`,
// made here: the same path opens the same state again, another path a state of its own.
inline state::Location test_location(const std::string& path)
{
  const char* pg = std::getenv("SCLMAN_TEST_POSTGRESQL");
  if (!pg || !*pg) {
    return {path, {}, {}};
  }
  const auto schema = fmt::format("t{:016x}", std::hash<std::string>{}(path));
  auto db = state::connect_pg(pg, "", "the test database");
  REQUIRE(db);
  REQUIRE(db->exec("CREATE SCHEMA IF NOT EXISTS " + schema));
  return {path, fmt::format("{} options='-csearch_path={}'", pg, schema), {}};
}

// Open the state at `path` as the tests' backend has it (test_location).
inline core::Result<state::Store> open_store(const std::string& path, core::Clock& clock,
                                             state::Access access = state::Access::read_write)
{
  return state::Store::open(test_location(path), clock, access);
}

// True when the tests run against PostgreSQL (SCLMAN_TEST_POSTGRESQL).
inline bool on_postgresql()
{
  const char* pg = std::getenv("SCLMAN_TEST_POSTGRESQL");
  return pg && *pg;
}

// Write a hostile row with `sql`, in a transaction that undo_hostile rolls back. Return false
// when the backend itself refuses the value, which only PostgreSQL may do (its columns are
// typed: 'yes' in an integer column is an error there, and SQLite stores it). On PostgreSQL,
// SQLite's char() is its chr().
inline bool write_hostile(state::Db& db, std::string sql)
{
  REQUIRE(db.exec("BEGIN"));
  if (on_postgresql()) {
    for (auto at = sql.find("char("); at != std::string::npos; at = sql.find("char(", at)) {
      sql.replace(at, 5, "chr(");
    }
  }
  auto written = db.exec(sql);
  if (!written) {
    INFO(written.error().message);
    REQUIRE(on_postgresql());
    CHECK_THAT(written.error().message, Catch::Contains("invalid input syntax"));
    REQUIRE(db.exec("ROLLBACK"));
    return false;
  }
  return true;
}

// Run `set`, which writes a hostile value; return false when the backend itself refuses it,
// as write_hostile.
inline bool run_hostile(state::Stmt& set)
{
  auto written = set.run();
  if (!written) {
    INFO(written.error().message);
    REQUIRE(on_postgresql());
    CHECK_THAT(written.error().message, Catch::Contains("invalid input syntax"));
    return false;
  }
  return true;
}

inline void undo_hostile(state::Db& db)
{
  REQUIRE(db.exec("ROLLBACK"));
}

// A state file in a private directory holding cluster "shop" (policy "{}", desired size 2) on
// `provider` with `bootstrapper`; `cluster.id` is filled in.
struct ShopState
{
  TempDir dir;
  FixedClock clock;
  std::optional<state::Store> store;
  state::Cluster cluster;

  explicit ShopState(std::string provider = "local", std::string bootstrapper = "local")
  {
    auto opened = open_store((dir.path / "s.db").string(), clock);
    INFO((opened ? std::string() : opened.error().message));
    REQUIRE(opened);
    store.emplace(std::move(*opened));
    cluster.name = "shop";
    cluster.provider = std::move(provider);
    cluster.bootstrapper = std::move(bootstrapper);
    cluster.policy = "{}";
    cluster.desired = 2;
    cluster.id = store->insert_cluster(cluster).value();
  }
};

} // namespace state_test
