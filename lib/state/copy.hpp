// migrate-state: the whole state of one store copied into another, an empty PostgreSQL
// database, in one transaction.
#pragma once

#include "core/result.hpp"
#include "state/db.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace state {

// The tables a copy carries, parents first (their foreign keys point back). Not copied: locks
// and their fencing numbers (held by the processes of one host; nothing runs during the copy)
// and the schema version (each backend's own); the state's
// identity is carried over, so that the local instances it made stay its own.
const std::vector<std::string>& copied_tables();

struct TableCopy
{
  std::string table;
  std::int64_t rows = 0;
};

// Copy every row of `from` (SQLite) into `to` (PostgreSQL), both at the same schema version,
// in one transaction of `to`: all of it or nothing. `to` must hold no rows yet (a usage error
// names the first table that has some). Counts are checked table by table before the commit;
// the sequences of id columns go on after the copied ids. Return the rows of each table.
core::Result<std::vector<TableCopy>> copy_state(Db& from, Db& to);

} // namespace state
