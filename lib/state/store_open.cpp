// Opening the state: the SQLite file (made 0600, checked, migrated; read-only where asked) or
// the PostgreSQL database ([STATE] url), and the state's identity.
#include "state/store.hpp"

#include "core/log.hpp"
#include "state/migrate.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace state {

namespace fs = std::filesystem;
using core::ErrorKind;
using core::fail;

namespace {

// Return the schema version of `db` (named `shown` in errors: "state file 'PATH'"); a version
// newer than this sclman's is a state error.
Result<int> checked_version(Db& db, const std::string& shown)
{
  auto version = schema_version(db);
  if (!version) {
    return fail(ErrorKind::state,
                fmt::format("cannot read {}: {}", shown, version.error().message));
  }
  if (*version > latest_schema_version(db.backend())) {
    return fail(ErrorKind::state,
                fmt::format("{} has schema version {}, newer than this sclman's {}",
                            shown,
                            *version,
                            latest_schema_version(db.backend())));
  }
  return version;
}

std::string file_shown(const std::string& path)
{
  return fmt::format("state file '{}'", path);
}

// Open the PostgreSQL database at `where.url`, migrating it unless `access` is read-only and
// its schema is the latest (then every transaction of the connection is read-only).
Result<Db> open_database(const Location& where, Access access)
{
  TRY_ASSIGN(const auto named, check_database_url(where.url));
  const auto shown = "state database " + named;
  TRY_ASSIGN(auto db, connect_pg(where.url, where.password, shown));
  TRY_ASSIGN(const int version, checked_version(db, shown));
  if (version < latest_schema_version(Backend::postgresql)) {
    if (auto migrated = migrate(db); !migrated) {
      return fail(migrated.error().kind,
                  fmt::format("cannot migrate {}: {}", shown, migrated.error().message));
    }
  } else if (access == Access::read_only) {
    TRY(db.exec("SET default_transaction_read_only = on"));
  }
  return db;
}

// Return a read-only connection to the state file at `path`, or nothing when it must be
// opened for writing (absent, empty, or an older schema to migrate).
Result<std::optional<Db>> open_read_only(const std::string& path)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) {
    return std::optional<Db>{};
  }
  const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
  const auto uri = file_uri(path);
  TRY_ASSIGN(auto db, connect(uri + "?mode=ro", flags, path));
  TRY(check_header(db, path));
  auto version = schema_version(db);
  if (!version && sqlite3_errcode(db.get()) == SQLITE_CANTOPEN) {
    // A WAL reader needs the -shm file, which it cannot make in a directory it cannot write
    // (a read-only file system). Without a -wal file holding changes the database file is
    // the whole state, and it can be read as immutable; with one, that would show old data.
    std::error_code ec;
    const auto wal = fs::file_size(path + "-wal", ec);
    if (!ec && wal > 0) {
      return fail(ErrorKind::state,
                  fmt::format("cannot read state file '{}' read-only: its write-ahead log '{}-wal' "
                              "holds changes and there is no -shm file beside it",
                              path, path));
    }
    TRY_ASSIGN(db, connect(uri + "?immutable=1", flags, path));
  }
  TRY_ASSIGN(const int current, checked_version(db, file_shown(path)));
  if (current < latest_schema_version()) {
    return std::optional<Db>{};
  }
  return std::optional<Db>{std::move(db)};
}

} // namespace

Result<Store> Store::open(const std::string& path, core::Clock& clock, Access access)
{
  return open(Location{path, {}, {}}, clock, access);
}

Result<Store> Store::open(const Location& where, core::Clock& clock, Access access)
{
  if (!where.url.empty()) {
    TRY_ASSIGN(auto db, open_database(where, access));
    return Store(std::move(db), where, clock, access);
  }
  const auto& path = where.path;
  TRY(check_file_type(path));
  if (access == Access::read_only) {
    TRY_ASSIGN(auto db, open_read_only(path));
    if (db) {
      return Store(std::move(*db), where, clock, Access::read_only);
    }
  }
  std::error_code ec;
  const auto parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) {
      return fail(ErrorKind::state,
                  fmt::format("cannot create state directory '{}': {}",
                              parent.string(),
                              ec.message()));
    }
    fs::permissions(parent, fs::perms::owner_all, ec);
  }
  if (!fs::exists(path, ec)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
      return fail(ErrorKind::state,
                  fmt::format("cannot create state file '{}': {}", path, std::strerror(errno)));
    }
    if (fd >= 0) {
      ::close(fd);
    }
  }
  TRY_ASSIGN(auto db, connect(path, SQLITE_OPEN_READWRITE, path));
  TRY(check_header(db, path));
  // Read the version before anything writes: a newer file must stay untouched.
  TRY_ASSIGN(const int version, checked_version(db, file_shown(path)));
  TRY(db.exec("PRAGMA journal_mode = WAL"));
  TRY(db.exec("PRAGMA synchronous = NORMAL"));
  // Migrations run with foreign keys off: a table made again (SQLite's way to change a CHECK)
  // is dropped and renamed while rows refer to it; migrate() checks the keys at its end.
  if (version < latest_schema_version()) {
    TRY(migrate(db));
  }
  TRY(db.exec("PRAGMA foreign_keys = ON"));
  return Store(std::move(db), where, clock, Access::read_write);
}

std::string Store::directory() const
{
  auto parent = fs::absolute(fs::path(m_where.path)).parent_path();
  return parent.string();
}

Result<std::string> Store::identity()
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "SELECT uuid FROM state_identity WHERE only_row = 1"));
  TRY_ASSIGN(const bool row, s.step());
  auto uuid = row ? s.column_text(0) : std::string();
  // The identity goes into file contents and is compared as text: only the form the
  // migration makes is accepted.
  const bool valid = uuid.size() == 36 && std::all_of(uuid.begin(), uuid.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
  });
  if (!valid) {
    return fail(ErrorKind::state,
                fmt::format("{} has no valid identity in table 'state_identity' ('{}')",
                            m_where.url.empty() ? file_shown(path()) : "the state database",
                            core::printable(uuid)));
  }
  return uuid;
}

} // namespace state
