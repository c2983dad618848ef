#include "state/migrate.hpp"

#include <fmt/format.h>

namespace state {

const std::vector<Migration>& migrations()
{
  static const std::vector<Migration> all = {
#include "migrations.inc"
  };
  return all;
}

int latest_schema_version()
{
  return migrations().empty() ? 0 : migrations().back().version;
}

core::Result<int> schema_version(Db& db)
{
  TRY_ASSIGN(auto stmt, Stmt::prepare(db, "PRAGMA user_version"));
  TRY_ASSIGN(const bool row, stmt.step());
  return row ? static_cast<int>(stmt.column_int(0)) : 0;
}

core::Result<void> migrate(Db& db)
{
  TRY_ASSIGN(auto tx, Transaction::begin(db));
  // Read again inside the write lock: another run may have migrated meanwhile.
  TRY_ASSIGN(const int current, schema_version(db));
  for (const auto& m : migrations()) {
    if (m.version <= current) {
      continue;
    }
    if (auto r = db.exec(m.sql); !r) {
      return core::fail(core::ErrorKind::state,
                        fmt::format("cannot apply migration '{}': {}", m.name, r.error().message));
    }
    TRY(db.exec(fmt::format("PRAGMA user_version = {}", m.version)));
  }
  TRY_ASSIGN(auto check, Stmt::prepare(db, "PRAGMA foreign_key_check"));
  TRY_ASSIGN(const bool broken, check.step());
  if (broken) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("cannot migrate: table '{}' row {} refers to a missing row",
                                  check.column_text(0), check.column_int(1)));
  }
  return tx.commit();
}

} // namespace state
