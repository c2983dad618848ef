// Db, Stmt and Transaction: the SQLite side, and the dispatch to db_postgres.cpp.
#include "state/db.hpp"

#include "state/db_internal.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cctype>
#include <charconv>
#include <cstring>
#include <sys/stat.h>

namespace state {

Db::Db(Db&& other) noexcept
  : m_db(other.m_db), m_pg(other.m_pg), m_shown(std::move(other.m_shown)),
    m_pg_changes(other.m_pg_changes),
    m_pg_state(std::move(other.m_pg_state)), m_pg_message(std::move(other.m_pg_message))
{
  other.m_db = nullptr;
  other.m_pg = nullptr;
}

Db& Db::operator=(Db&& other) noexcept
{
  if (this != &other) {
    this->~Db();
    new (this) Db(std::move(other));
  }
  return *this;
}

Db::~Db()
{
  sqlite3_close_v2(m_db);
  m_db = nullptr;
  close_pg(m_pg);
  m_pg = nullptr;
}

core::Result<void> Db::exec(std::string_view sql)
{
  if (m_pg) {
    return exec_pg(sql);
  }
  const std::string text(sql);
  if (sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return tl::make_unexpected(error("cannot update state file"));
  }
  return {};
}

core::Error Db::error(std::string_view what) const
{
  if (m_pg) {
    return error_pg(what);
  }
  const int code = sqlite3_extended_errcode(m_db);
  const int primary = code & 0xff;
  const auto kind = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? core::ErrorKind::busy
                                                                          : core::ErrorKind::state;
  return core::make_error(kind, fmt::format("{}: {}", what, sqlite3_errmsg(m_db)), "sqlite");
}

std::int64_t Db::last_insert_id() const
{
  if (m_pg) {
    return last_insert_id_pg();
  }
  return sqlite3_last_insert_rowid(m_db);
}

bool Db::in_transaction() const
{
  return m_pg ? in_transaction_pg(m_pg) : sqlite3_get_autocommit(m_db) == 0;
}

int Db::changes() const
{
  return m_pg ? m_pg_changes : sqlite3_changes(m_db);
}

core::Result<Stmt> Stmt::prepare(const Db& db, std::string_view sql)
{
  if (db.pg()) {
    return prepare_pg(db, sql);
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr)
      != SQLITE_OK) {
    return tl::make_unexpected(db.error("cannot read state file"));
  }
  return Stmt(db, stmt);
}

Stmt::Stmt(const Db& db, sqlite3_stmt* stmt) : m_db(&db), m_stmt(stmt) {}

Stmt::Stmt(Stmt&& other) noexcept
  : m_db(other.m_db), m_stmt(other.m_stmt), m_pg(std::move(other.m_pg))
{
  other.m_stmt = nullptr;
}

Stmt::~Stmt()
{
  sqlite3_finalize(m_stmt);
}

Stmt& Stmt::bind(int index, std::int64_t value)
{
  if (m_pg) {
    bind_pg(index, std::to_string(value), k_pg_int8);
    return *this;
  }
  sqlite3_bind_int64(m_stmt, index, value);
  return *this;
}

Stmt& Stmt::bind(int index, double value)
{
  if (m_pg) {
    // Shortest text that reads back as the same double.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    bind_pg(index, std::string(buf, r.ptr), k_pg_float8);
    return *this;
  }
  sqlite3_bind_double(m_stmt, index, value);
  return *this;
}

Stmt& Stmt::bind(int index, std::string_view value)
{
  if (m_pg) {
    bind_pg(index, std::string(value), 0);
    return *this;
  }
  // An empty view may have no data pointer, which SQLite would store as NULL.
  sqlite3_bind_text(m_stmt,
                    index,
                    value.data() ? value.data() : "",
                    static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind_null(int index)
{
  if (m_pg) {
    bind_pg(index, std::nullopt, 0);
    return *this;
  }
  sqlite3_bind_null(m_stmt, index);
  return *this;
}

Stmt& Stmt::bind_null(int index, NullOf type)
{
  if (m_pg) {
    bind_pg(index,
            std::nullopt,
            type == NullOf::integer ? k_pg_int8
            : type == NullOf::real  ? k_pg_float8
                                    : k_pg_text);
    return *this;
  }
  sqlite3_bind_null(m_stmt, index);
  return *this;
}

core::Result<bool> Stmt::step()
{
  if (m_pg) {
    return step_pg();
  }
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return tl::make_unexpected(m_db->error("state file query failed"));
}

core::Result<void> Stmt::run()
{
  for (;;) {
    TRY_ASSIGN(const bool row, step());
    if (!row) {
      return {};
    }
  }
}

void Stmt::reset()
{
  if (m_pg) {
    reset_pg();
    return;
  }
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

std::int64_t Stmt::column_int(int index) const
{
  if (m_pg) {
    return int_of_pg(value_pg(index));
  }
  return sqlite3_column_int64(m_stmt, index);
}

double Stmt::column_double(int index) const
{
  if (m_pg) {
    return double_of_pg(value_pg(index));
  }
  return sqlite3_column_double(m_stmt, index);
}

std::string Stmt::column_text(int index) const
{
  if (m_pg) {
    const char* text = value_pg(index);
    return text ? std::string(text) : std::string();
  }
  const auto* text = sqlite3_column_text(m_stmt, index);
  return text ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

bool Stmt::column_is_null(int index) const
{
  if (m_pg) {
    return value_pg(index) == nullptr;
  }
  return sqlite3_column_type(m_stmt, index) == SQLITE_NULL;
}

std::optional<std::int64_t> Stmt::column_opt_int(int index) const
{
  if (column_is_null(index)) {
    return std::nullopt;
  }
  return column_int(index);
}

std::optional<double> Stmt::column_opt_double(int index) const
{
  if (column_is_null(index)) {
    return std::nullopt;
  }
  return column_double(index);
}

int Stmt::column_count() const
{
  if (m_pg) {
    return m_pg->result ? pg_field_count(m_pg->result) : 0;
  }
  return sqlite3_column_count(m_stmt);
}

Stmt::Type Stmt::column_type(int index) const
{
  if (m_pg) {
    return value_pg(index) ? Type::text : Type::null;
  }
  switch (sqlite3_column_type(m_stmt, index)) {
  case SQLITE_INTEGER:
    return Type::integer;
  case SQLITE_FLOAT:
    return Type::real;
  case SQLITE_NULL:
    return Type::null;
  default:
    return Type::text;
  }
}

core::Result<Transaction> Transaction::begin(Db& db, bool immediate)
{
  if (db.pg()) {
    if (auto begun = db.exec(immediate ? k_pg_begin_immediate : k_pg_begin_deferred); !begun) {
      (void)db.exec("ROLLBACK");  // BEGIN ran, the lock did not come
      return tl::make_unexpected(begun.error());
    }
    return Transaction(db);
  }
  TRY(db.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(db);
}

Transaction::~Transaction()
{
  if (m_db) {
    (void)m_db->exec("ROLLBACK");
  }
}

core::Result<void> Transaction::commit()
{
  TRY(m_db->exec("COMMIT"));
  m_db = nullptr;
  return {};
}

core::Result<void> snapshot_file(const std::string& path, const std::string& to)
{
  TRY(check_file_type(path));
  TRY_ASSIGN(auto from, connect(file_uri(path) + "?mode=ro", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                                path));
  TRY(check_header(from, path));
  TRY_ASSIGN(auto copy, connect(to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, to));
  sqlite3_backup* backup = sqlite3_backup_init(copy.get(), "main", from.get(), "main");
  if (!backup) {
    return tl::make_unexpected(copy.error(fmt::format("cannot copy state file '{}'", path)));
  }
  // One step copies every page under one read transaction of the source: one snapshot.
  const int stepped = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (stepped != SQLITE_DONE) {
    return core::fail(stepped == SQLITE_BUSY || stepped == SQLITE_LOCKED ? core::ErrorKind::busy
                                                                         : core::ErrorKind::state,
                      fmt::format("cannot copy state file '{}': {}", path, sqlite3_errstr(stepped)));
  }
  return {};
}

core::Result<Db> connect(const std::string& name, int flags, const std::string& path)
{
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &handle, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(handle);
  if (rc != SQLITE_OK) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("cannot open state file '{}': {}", path,
                                  handle ? sqlite3_errmsg(handle) : "out of memory"));
  }
  sqlite3_busy_timeout(handle, 10'000);
  return db;
}

std::string file_uri(const std::string& path)
{
  std::string out = "file:";
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

core::Result<void> check_file_type(const std::string& path)
{
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return {};
  }
  if (!S_ISREG(st.st_mode)) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("state file '{}' is not a regular file", path));
  }
  return {};
}

core::Result<void> check_header(Db& db, const std::string& path)
{
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK
      || !file || !file->pMethods) {
    return core::fail(core::ErrorKind::state, fmt::format("cannot open state file '{}'", path));
  }
  sqlite3_int64 size = 0;
  if (file->pMethods->xFileSize(file, &size) != SQLITE_OK) {
    return core::fail(core::ErrorKind::state, fmt::format("cannot read state file '{}'", path));
  }
  if (size == 0) {
    return {};
  }
  char header[16] = {};
  if (size < 16 || file->pMethods->xRead(file, header, sizeof header, 0) != SQLITE_OK
      || std::memcmp(header, "SQLite format 3\0", 16) != 0) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("state file '{}' is not an SQLite database", path));
  }
  return {};
}

} // namespace state
