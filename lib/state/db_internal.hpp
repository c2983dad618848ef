// What db.cpp (SQLite, and the dispatch) and db_postgres.cpp share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace state {

// PostgreSQL type OIDs of the parameters the store binds (pg_type.h): int8 and float8; text
// goes as 0 (unknown), which the server types from where the parameter stands, as a literal.
inline constexpr unsigned k_pg_int8 = 20;
inline constexpr unsigned k_pg_float8 = 701;
// A NULL of text type (a std::optional<std::string> without value): text values themselves go
// as 0, but a NULL in "? IS NULL" has nothing else to type it by.
inline constexpr unsigned k_pg_text = 25;

// SQLite's BEGIN IMMEDIATE takes the one write lock of the file at once, so a transaction that
// reads and then writes never sees its reads go stale. On PostgreSQL the same lock is a
// transaction-level advisory lock (released at COMMIT or ROLLBACK), taken at BEGIN: writers
// queue as they do on SQLite, up to lock_timeout, and then fail busy.
inline constexpr const char* k_pg_begin_immediate =
  "BEGIN; SELECT pg_advisory_xact_lock(7306086946429035853)";
// A deferred transaction reads one snapshot.
inline constexpr const char* k_pg_begin_deferred = "BEGIN ISOLATION LEVEL REPEATABLE READ";

// A statement on PostgreSQL: its text and parameters until it runs, then its whole result.
struct PgQuery
{
  std::string sql;  // '?' and '?N' turned into '$N'
  int params = 0;   // the highest placeholder number
  std::vector<std::optional<std::string>> values;
  std::vector<unsigned> types;
  pg_result* result = nullptr;
  int row = -1;
  int rows = 0;

  PgQuery() = default;
  PgQuery(const PgQuery&) = delete;
  PgQuery& operator=(const PgQuery&) = delete;
  ~PgQuery();
};

// Return `sql` with SQLite's placeholders ('?' numbered from 1, '?N' numbered N; a bare '?'
// after '?N' is N+1, as SQLite numbers it) written as PostgreSQL's '$N', outside quoted text
// and names; set `params` to the highest number.
std::string number_placeholders(std::string_view sql, int& params);

void close_pg(pg_conn* conn);
bool in_transaction_pg(pg_conn* conn);
// The columns of `result` (PQnfields), for db.cpp, which does not include libpq-fe.h.
int pg_field_count(const pg_result* result);
// The value of a column as PostgreSQL's text format gives it: integers, and booleans ('t',
// 'f') as 1 and 0, as SQLite gives them; NULL as 0.
std::int64_t int_of_pg(const char* text);
double double_of_pg(const char* text);

} // namespace state
