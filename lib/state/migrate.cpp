#include "state/migrate.hpp"

#include <fmt/format.h>

namespace state {

const std::vector<Migration>& migrations(Backend backend)
{
  static const std::vector<Migration> sqlite = {
#include "migrations.inc"
  };
  static const std::vector<Migration> postgresql = {
#include "migrations_postgresql.inc"
  };
  return backend == Backend::postgresql ? postgresql : sqlite;
}

int latest_schema_version(Backend backend)
{
  const auto& all = migrations(backend);
  return all.empty() ? 0 : all.back().version;
}

core::Result<int> schema_version(Db& db)
{
  if (db.backend() == Backend::postgresql) {
    // The table is made by the first migrate(); before it, the database is at version 0.
    TRY_ASSIGN(auto made, Stmt::prepare(db, "SELECT to_regclass('sclman_schema') IS NOT NULL"));
    TRY_ASSIGN(const bool row, made.step());
    if (!row || made.column_int(0) == 0) {
      return 0;
    }
    TRY_ASSIGN(auto stmt, Stmt::prepare(db, "SELECT version FROM sclman_schema"));
    TRY_ASSIGN(const bool found, stmt.step());
    return found ? static_cast<int>(stmt.column_int(0)) : 0;
  }
  TRY_ASSIGN(auto stmt, Stmt::prepare(db, "PRAGMA user_version"));
  TRY_ASSIGN(const bool row, stmt.step());
  return row ? static_cast<int>(stmt.column_int(0)) : 0;
}

namespace {

core::Result<void> set_version(Db& db, int version)
{
  if (db.backend() == Backend::postgresql) {
    TRY_ASSIGN(auto s, Stmt::prepare(db, "UPDATE sclman_schema SET version = ?"));
    s.bind(1, version);
    return s.run();
  }
  return db.exec(fmt::format("PRAGMA user_version = {}", version));
}

} // namespace

core::Result<void> migrate(Db& db)
{
  TRY_ASSIGN(auto tx, Transaction::begin(db));
  if (db.backend() == Backend::postgresql) {
    TRY(db.exec("CREATE TABLE IF NOT EXISTS sclman_schema (only_row BIGINT PRIMARY KEY CHECK "
                "(only_row = 1), version BIGINT NOT NULL); INSERT INTO sclman_schema VALUES "
                "(1, 0) ON CONFLICT DO NOTHING"));
  }
  // Read again inside the write lock: another run may have migrated meanwhile.
  TRY_ASSIGN(const int current, schema_version(db));
  for (const auto& m : migrations(db.backend())) {
    if (m.version <= current) {
      continue;
    }
    if (auto r = db.exec(m.sql); !r) {
      return core::fail(core::ErrorKind::state,
                        fmt::format("cannot apply migration '{}': {}", m.name, r.error().message));
    }
    TRY(set_version(db, m.version));
  }
  if (db.backend() == Backend::sqlite) {
    // PostgreSQL checks foreign keys on every statement; SQLite's are off while migrating.
    TRY_ASSIGN(auto check, Stmt::prepare(db, "PRAGMA foreign_key_check"));
    TRY_ASSIGN(const bool broken, check.step());
    if (broken) {
      return core::fail(core::ErrorKind::state,
                        fmt::format("cannot migrate: table '{}' row {} refers to a missing row",
                                    check.column_text(0), check.column_int(1)));
    }
  }
  return tx.commit();
}

} // namespace state
