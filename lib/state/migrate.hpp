// Schema migrations from sql/NNNN_*.sql, embedded at build time, tracked by PRAGMA user_version.
#pragma once

#include "core/result.hpp"
#include "state/sqlite.hpp"

#include <vector>

namespace state {

struct Migration
{
  int version;
  const char* name;
  const char* sql;
};

// Return every migration this build knows, in order.
const std::vector<Migration>& migrations();

// Return the schema version this build writes (the last migration's number).
int latest_schema_version();

// Return the schema version of `db` (PRAGMA user_version).
core::Result<int> schema_version(Db& db);

// Apply every migration newer than the file's version, all in one transaction.
core::Result<void> migrate(Db& db);

} // namespace state
