// Schema migrations from sql/NNNN_*.sql (SQLite, tracked by PRAGMA user_version) and
// sql/postgresql/NNNN_*.sql (PostgreSQL, tracked in table sclman_schema), embedded at build time.
#pragma once

#include "core/result.hpp"
#include "state/db.hpp"

#include <vector>

namespace state {

struct Migration
{
  int version;
  const char* name;
  const char* sql;
};

// Return every migration this build knows for `backend`, in order.
const std::vector<Migration>& migrations(Backend backend = Backend::sqlite);

// Return the schema version this build writes (the last migration's number).
int latest_schema_version(Backend backend = Backend::sqlite);

// Return the schema version of `db`.
core::Result<int> schema_version(Db& db);

// Apply every migration newer than the database's version, all in one transaction.
core::Result<void> migrate(Db& db);

} // namespace state
