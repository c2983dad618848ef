// A thin RAII layer over the two state backends: SQLite (the embedded default, db_sqlite.cpp)
// and PostgreSQL through libpq (db_postgres.cpp). The store's SQL is written once, with '?' or
// '?N' placeholders, in the dialect both accept; failures become core::Error (kind busy when
// another writer holds a lock past the timeout, else state).
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

struct sqlite3;
struct sqlite3_stmt;
struct pg_conn;
struct pg_result;

namespace state {

enum class Backend { sqlite, postgresql };

class Db
{
public:
  Db() = default;
  explicit Db(sqlite3* handle) : m_db(handle) {}
  // `shown` names the database in errors ("state database 'DB' on HOST:PORT as USER").
  Db(pg_conn* handle, std::string shown) : m_pg(handle), m_shown(std::move(shown)) {}
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  Backend backend() const { return m_pg ? Backend::postgresql : Backend::sqlite; }
  // The SQLite handle (nullptr on PostgreSQL).
  sqlite3* get() const { return m_db; }
  // The libpq connection (nullptr on SQLite).
  pg_conn* pg() const { return m_pg; }

  // Run one or more statements without results.
  core::Result<void> exec(std::string_view sql);

  // Return the error for the last failure of this connection, prefixed with `what`.
  core::Error error(std::string_view what) const;

  std::int64_t last_insert_id() const;
  int changes() const;
  // True while a transaction is open on this connection.
  bool in_transaction() const;

  // PostgreSQL: remember how the statement that produced `result` ended (rows it changed, or
  // its error for error()); return false if it failed.
  bool take_result(pg_result* result) const;

private:
  // db_postgres.cpp
  core::Result<void> exec_pg(std::string_view sql);
  core::Error error_pg(std::string_view what) const;
  std::int64_t last_insert_id_pg() const;

  sqlite3* m_db = nullptr;
  pg_conn* m_pg = nullptr;
  std::string m_shown;
  // PostgreSQL: the last statement's changed rows, and its error (SQLSTATE and message).
  mutable int m_pg_changes = 0;
  mutable std::string m_pg_state;
  mutable std::string m_pg_message;
};

struct PgQuery;

class Stmt
{
public:
  // Prepare `sql` on `db`; check ok() or use prepare() for a Result.
  static core::Result<Stmt> prepare(const Db& db, std::string_view sql);

  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& bind(int index, std::int64_t value);
  Stmt& bind(int index, int value) { return bind(index, std::int64_t{value}); }
  Stmt& bind(int index, double value);
  Stmt& bind(int index, std::string_view value);
  Stmt& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Stmt& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Stmt& bind_null(int index);
  template <class T> Stmt& bind(int index, const std::optional<T>& value)
  {
    if (value) {
      return bind(index, *value);
    }
    // PostgreSQL must know a NULL parameter's type where the query does not say it.
    if constexpr (std::is_integral_v<T>) {
      return bind_null(index, NullOf::integer);
    } else if constexpr (std::is_floating_point_v<T>) {
      return bind_null(index, NullOf::real);
    } else {
      return bind_null(index, NullOf::text);
    }
  }

  // Step once: true for a row, false when done.
  core::Result<bool> step();
  // Step to completion, for statements without results.
  core::Result<void> run();
  // Make the statement ready to bind and run again.
  void reset();

  std::int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  bool column_is_null(int index) const;
  std::optional<std::int64_t> column_opt_int(int index) const;
  std::optional<double> column_opt_double(int index) const;
  // The columns of the statement's rows, and the type of a value in the current row as the
  // backend holds it (PostgreSQL's text format gives text or NULL only).
  enum class Type { null, integer, real, text };
  int column_count() const;
  Type column_type(int index) const;

private:
  enum class NullOf { text, integer, real };
  Stmt& bind_null(int index, NullOf type);
  Stmt(const Db& db, sqlite3_stmt* stmt);
  Stmt(const Db& db, std::unique_ptr<PgQuery> query);

  // db_postgres.cpp
  static core::Result<Stmt> prepare_pg(const Db& db, std::string_view sql);
  void bind_pg(int index, std::optional<std::string> text, unsigned type);
  core::Result<bool> step_pg();
  void reset_pg();
  const char* value_pg(int index) const;

  const Db* m_db;
  sqlite3_stmt* m_stmt = nullptr;
  std::unique_ptr<PgQuery> m_pg;
};

// A transaction rolled back unless committed. Any store call that reads and then writes must run
// in an IMMEDIATE one: a statement that has returned a row holds a read snapshot, and upgrading
// it to a write fails with SQLITE_BUSY at once, without the busy handler, when another process
// wrote since.
class Transaction
{
public:
  // Begin IMMEDIATE (takes the write lock at once) or DEFERRED.
  static core::Result<Transaction> begin(Db& db, bool immediate = true);
  Transaction(Transaction&& other) noexcept : m_db(other.m_db) { other.m_db = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  core::Result<void> commit();

private:
  explicit Transaction(Db& db) : m_db(&db) {}
  Db* m_db;
};

// Copy the SQLite state file at `path` into a new file `to`, read-only and as one consistent
// snapshot (SQLite's online backup), whatever runs write meanwhile; `path` is left untouched.
core::Result<void> snapshot_file(const std::string& path, const std::string& to);

// Return a connection to PostgreSQL at `url` (a libpq connection string or URI), with
// `password` ("": none, or what the URL's passfile or PGPASSFILE gives); errors name the
// database by `shown` ("state database 'DB' on HOST:PORT as USER", never the password).
core::Result<Db> connect_pg(const std::string& url, const std::string& password,
                            const std::string& shown);

// Return a connection to `name` (a path, or a file: URI with SQLITE_OPEN_URI in `flags`), with
// a busy timeout; the error names the state file `path`.
core::Result<Db> connect(const std::string& name, int flags, const std::string& path);

// Fail (state) unless `path` is a regular file or absent. Its contents are checked once SQLite
// has it open (check_header): a process that holds a connection to the file must not open and
// close it itself, for close() drops every POSIX lock the process holds on it, the ones that
// connection's WAL depends on among them (sclman serve runs several connections at once).
core::Result<void> check_file_type(const std::string& path);

// Fail (state) unless the file `db` opened is empty or starts with SQLite's header, read
// through SQLite's own file handle before anything reads or writes it (SQLite would take a
// short, headerless file for an empty database and write into it).
core::Result<void> check_header(Db& db, const std::string& path);

// Return `path` as a file: URI (RFC 3986: what is not unreserved or '/' is percent-encoded).
std::string file_uri(const std::string& path);

} // namespace state
