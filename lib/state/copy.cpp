#include "state/copy.hpp"

#include "core/log.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace state {

using core::ErrorKind;
using core::Result;
using core::fail;

const std::vector<std::string>& copied_tables()
{
  static const std::vector<std::string> all = {
    "clusters", "instances",   "load_samples", "decisions",        "journal",
    "counters", "runs",        "rejected_backends", "scale_in_victims", "rollouts",
    "tokens",   "audit",       "receivers",    "deliveries",       "holds"};
  return all;
}

namespace {

constexpr int k_batch_rows = 500;

Result<std::int64_t> count_rows(Db& db, const std::string& table)
{
  TRY_ASSIGN(auto s, Stmt::prepare(db, fmt::format("SELECT count(*) FROM {}", table)));
  TRY(s.step());
  return s.column_int(0);
}

// Return the columns of SQLite table `table`, in order; a name that is not a plain identifier
// is a state error (it would be pasted into the copy's SQL).
Result<std::vector<std::string>> columns_of(Db& from, const std::string& table)
{
  TRY_ASSIGN(auto s, Stmt::prepare(from, fmt::format("PRAGMA table_info({})", table)));
  std::vector<std::string> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    auto name = s.column_text(1);
    const bool plain = !name.empty() && name.size() <= 63
                       && std::all_of(name.begin(), name.end(), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                          });
    if (!plain) {
      return fail(ErrorKind::state, fmt::format("table '{}' has a column named '{}'", table,
                                                core::printable(name, 40)));
    }
    out.push_back(std::move(name));
  }
  return out;
}

// Fail unless every table of `from` is one this sclman copies or leaves out knowingly.
Result<void> check_known_tables(Db& from)
{
  TRY_ASSIGN(auto s, Stmt::prepare(from, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY 1"));
  const auto& copied = copied_tables();
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      return {};
    }
    const auto name = s.column_text(0);
    if (name != "locks" && name != "lock_fences" && name != "tick_claims" && name != "tick_hosts"
        && name != "state_identity"
        && std::find(copied.begin(), copied.end(), name) == copied.end()) {
      return fail(ErrorKind::internal,
                  fmt::format("the state file has table '{}', which migrate-state does not know",
                              core::printable(name, 40)));
    }
  }
}

// Copy the rows of `table` (its `columns`) in batches of k_batch_rows rows a statement.
Result<void> copy_rows(Db& from, Db& to, const std::string& table,
                       const std::vector<std::string>& columns)
{
  std::string list;
  std::string one_row = "(";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    list += (i ? ", " : "") + columns[i];
    one_row += i ? ", ?" : "?";
  }
  one_row += ")";
  TRY_ASSIGN(auto read, Stmt::prepare(from, fmt::format("SELECT {} FROM {}", list, table)));
  const auto width = static_cast<int>(columns.size());
  std::vector<std::vector<std::pair<Stmt::Type, std::string>>> rows;
  auto flush = [&]() -> Result<void> {
    if (rows.empty()) {
      return {};
    }
    std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ", table, list);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      sql += (r ? ", " : "") + one_row;
    }
    TRY_ASSIGN(auto write, Stmt::prepare(to, sql));
    int index = 1;
    for (const auto& row : rows) {
      for (const auto& [type, text] : row) {
        switch (type) {
        case Stmt::Type::null:
          write.bind_null(index);
          break;
        case Stmt::Type::integer:
          write.bind(index, std::int64_t{std::stoll(text)});
          break;
        case Stmt::Type::real:
          write.bind(index, std::stod(text));
          break;
        case Stmt::Type::text:
          write.bind(index, text);
          break;
        }
        ++index;
      }
    }
    rows.clear();
    if (auto written = write.run(); !written) {
      return fail(written.error().kind,
                  fmt::format("cannot copy table '{}': {}", table, written.error().message));
    }
    return {};
  };
  for (;;) {
    TRY_ASSIGN(const bool row, read.step());
    if (!row) {
      break;
    }
    auto& out = rows.emplace_back();
    for (int c = 0; c < width; ++c) {
      const auto type = read.column_type(c);
      // Numbers go as SQLite's own text of them, which reads back as the same value.
      out.emplace_back(type, type == Stmt::Type::real
                               ? fmt::format("{}", read.column_double(c))
                               : read.column_text(c));
    }
    if (static_cast<int>(rows.size()) == k_batch_rows) {
      TRY(flush());
    }
  }
  return flush();
}

} // namespace

Result<std::vector<TableCopy>> copy_state(Db& from, Db& to)
{
  TRY(check_known_tables(from));
  TRY_ASSIGN(auto tx, Transaction::begin(to));
  for (const auto& table : copied_tables()) {
    TRY_ASSIGN(const auto rows, count_rows(to, table));
    if (rows > 0) {
      return fail(ErrorKind::usage,
                  fmt::format("the target database holds sclman state already (table '{}' has "
                              "{} rows): migrate-state copies into an empty one",
                              table, rows));
    }
  }
  TRY_ASSIGN(auto identity, Stmt::prepare(from, "SELECT uuid FROM state_identity"));
  TRY_ASSIGN(const bool has_identity, identity.step());
  if (has_identity) {
    TRY_ASSIGN(auto set, Stmt::prepare(to, "UPDATE state_identity SET uuid = ?"));
    set.bind(1, identity.column_text(0));
    TRY(set.run());
  }
  std::vector<TableCopy> out;
  for (const auto& table : copied_tables()) {
    TRY_ASSIGN(const auto columns, columns_of(from, table));
    TRY(copy_rows(from, to, table, columns));
    TRY_ASSIGN(const auto source, count_rows(from, table));
    TRY_ASSIGN(const auto copied, count_rows(to, table));
    if (source != copied) {
      return fail(ErrorKind::internal,
                  fmt::format("table '{}': {} rows in the file, {} copied", table, source,
                              copied));
    }
    if (std::find(columns.begin(), columns.end(), "id") != columns.end()) {
      // The next id the database gives is past every copied one.
      TRY(to.exec(fmt::format("SELECT setval(pg_get_serial_sequence('{0}', 'id'), "
                              "COALESCE((SELECT max(id) FROM {0}), 0) + 1, false)",
                              table)));
    }
    out.push_back(TableCopy{table, copied});
  }
  TRY(tx.commit());
  return out;
}

} // namespace state
