// API tokens and the audit log of sclman serve (sql/0020).
#include "core/log.hpp"
#include "core/names.hpp"
#include "state/db.hpp"
#include "state/store.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace state {

namespace {

bool hex_digest(std::string_view h)
{
  return h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

constexpr const char* k_token_columns =
  "id, name, role, hash, created_at, revoked_at, can_force";

// Read a tokens row as k_token_columns selects it; every column is checked.
Result<Token> read_token(const Stmt& s)
{
  Token t;
  t.id = s.column_int(0);
  t.name = s.column_text(1);
  const auto role = s.column_text(2);
  t.hash = s.column_text(3);
  t.created_at = s.column_int(4);
  t.revoked_at = s.column_opt_int(5);
  const auto bad = [&](const char* column, std::string_view value) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("table 'tokens' row {} has {} '{}'", t.id, column,
                                  core::printable(value, 40)));
  };
  if (!core::validate_cluster_name(t.name)) {
    return bad("name", t.name);
  }
  const auto parsed = parse_token_role(role);
  if (!parsed) {
    return bad("role", role);
  }
  t.role = *parsed;
  if (!hex_digest(t.hash)) {
    return bad("hash", t.hash);
  }
  const auto force = s.column_text(6);
  if ((force != "0" && force != "1") || (force == "1" && t.role == TokenRole::viewer)) {
    return bad("can_force", force);
  }
  t.force = force == "1";
  return t;
}

} // namespace

Result<void> Store::insert_token(Token& t)
{
  TRY(core::validate_cluster_name(t.name));
  if (!hex_digest(t.hash)) {
    return core::fail(core::ErrorKind::internal, "a token hash is 64 lowercase hex digits");
  }
  if (t.force && t.role == TokenRole::viewer) {
    return core::fail(core::ErrorKind::usage, "a viewer's token cannot force: it has no actions");
  }
  TRY_ASSIGN(auto find, Stmt::prepare(m_db, "SELECT 1 FROM tokens WHERE name = ?"));
  find.bind(1, t.name);
  TRY_ASSIGN(const bool taken, find.step());
  if (taken) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("a token named '{}' exists already (revoked tokens keep their "
                                  "names, so that the audit log's names stay unique)",
                                  t.name));
  }
  t.created_at = now();
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "INSERT INTO tokens (name, role, hash, created_at, "
                                         "can_force) VALUES (?, ?, ?, ?, ?)"));
  s.bind(1, t.name).bind(2, std::string(to_string(t.role))).bind(3, t.hash).bind(4, t.created_at);
  s.bind(5, t.force ? 1 : 0);
  TRY(s.run());
  t.id = m_db.last_insert_id();
  return {};
}

Result<std::vector<Token>> Store::tokens()
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, fmt::format("SELECT {} FROM tokens ORDER BY name",
                                                     k_token_columns)));
  std::vector<Token> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      return out;
    }
    TRY_ASSIGN(auto t, read_token(s));
    out.push_back(std::move(t));
  }
}

Result<std::optional<Token>> Store::token_by_hash(std::string_view hash)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, fmt::format("SELECT {} FROM tokens WHERE hash = ? AND "
                                                     "revoked_at IS NULL",
                                                     k_token_columns)));
  s.bind(1, std::string(hash));
  TRY_ASSIGN(const bool row, s.step());
  if (!row) {
    return std::optional<Token>{};
  }
  TRY_ASSIGN(auto t, read_token(s));
  return std::optional<Token>{std::move(t)};
}

Result<bool> Store::revoke_token(std::string_view name)
{
  TRY_ASSIGN(auto find, Stmt::prepare(m_db, "SELECT revoked_at FROM tokens WHERE name = ?"));
  find.bind(1, std::string(name));
  TRY_ASSIGN(const bool row, find.step());
  if (!row) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("no token named '{}'", core::printable(name, 40)));
  }
  if (!find.column_is_null(0)) {
    return false;
  }
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "UPDATE tokens SET revoked_at = ? WHERE name = ? AND "
                                         "revoked_at IS NULL"));
  s.bind(1, now()).bind(2, std::string(name));
  TRY(s.run());
  return true;
}

Result<void> Store::insert_audit(const AuditRow& row)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "INSERT INTO audit (ts, token, method, path, status, "
                                         "detail) VALUES (?, ?, ?, ?, ?, ?)"));
  s.bind(1, now())
    .bind(2, row.token)
    .bind(3, row.method)
    .bind(4, row.path)
    .bind(5, std::int64_t{row.status})
    .bind(6, row.detail);
  return s.run();
}

Result<std::vector<AuditRow>> Store::audit(int limit)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "SELECT id, ts, token, method, path, status, detail "
                                         "FROM audit ORDER BY ts DESC, id DESC LIMIT ?"));
  s.bind(1, std::int64_t{limit});
  std::vector<AuditRow> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      return out;
    }
    out.push_back(AuditRow{s.column_int(0), s.column_int(1), s.column_text(2), s.column_text(3),
                           s.column_text(4), static_cast<int>(s.column_int(5)),
                           s.column_text(6)});
  }
}

} // namespace state
