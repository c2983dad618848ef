// Db, Stmt and Transaction on PostgreSQL, through libpq. Each statement runs once with
// PQexecParams (text format), its whole result held until the next step past its end: the
// store's results are small, and a held result keeps no lock or cursor on the server.
#include "state/db.hpp"

#include "state/db_internal.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace state {

PgQuery::~PgQuery()
{
  PQclear(result);
}

std::string number_placeholders(std::string_view sql, int& params)
{
  std::string out;
  out.reserve(sql.size() + 8);
  char quote = 0;
  int last = 0;
  params = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      out += c;
      if (c == quote) {
        quote = 0;  // a doubled quote closes and opens again: same result
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    int n = 0;
    std::size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9' && n < 1000) {
      n = n * 10 + (sql[j] - '0');
      ++j;
    }
    if (j == i + 1) {
      n = last + 1;
    }
    last = n;
    params = std::max(params, n);
    out += fmt::format("${}", n);
    i = j - 1;
  }
  return out;
}

namespace {

std::string one_line(std::string text)
{
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

void quiet_notice(void*, const char*) {}

} // namespace

void close_pg(pg_conn* conn)
{
  if (conn) {
    PQfinish(conn);
  }
}

bool in_transaction_pg(pg_conn* conn)
{
  return PQtransactionStatus(conn) != PQTRANS_IDLE;
}

int pg_field_count(const pg_result* result)
{
  return PQnfields(result);
}

std::int64_t int_of_pg(const char* text)
{
  if (!text) {
    return 0;
  }
  if (text[0] == 't' && text[1] == '\0') {
    return 1;
  }
  if (text[0] == 'f' && text[1] == '\0') {
    return 0;
  }
  return std::strtoll(text, nullptr, 10);
}

double double_of_pg(const char* text)
{
  return text ? std::strtod(text, nullptr) : 0.0;
}

bool Db::take_result(pg_result* result) const
{
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    m_pg_changes = std::atoi(PQcmdTuples(result));
    m_pg_state.clear();
    m_pg_message.clear();
    return true;
  }
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  m_pg_state = state ? state : "";
  const char* message = result ? PQresultErrorMessage(result) : "";
  m_pg_message = one_line(message && *message ? message : PQerrorMessage(m_pg));
  m_pg_changes = 0;
  return false;
}

core::Result<void> Db::exec_pg(std::string_view sql)
{
  PGresult* result = PQexec(m_pg, std::string(sql).c_str());
  const bool ok = take_result(result);
  PQclear(result);
  if (!ok) {
    return tl::make_unexpected(error("cannot update state database"));
  }
  return {};
}

core::Error Db::error_pg(std::string_view what) const
{
  if (PQstatus(m_pg) != CONNECTION_OK) {
    // The server went away (a restart, a failover): the next tick may find it again.
    return core::make_error(core::ErrorKind::upstream_transient,
                            fmt::format("{}: lost the connection to {}: {}", what, m_shown,
                                        one_line(PQerrorMessage(m_pg))),
                            "postgresql");
  }
  // Serialization failure, deadlock, lock not available (lock_timeout): another writer.
  const bool busy = m_pg_state == "40001" || m_pg_state == "40P01" || m_pg_state == "55P03";
  return core::make_error(busy ? core::ErrorKind::busy : core::ErrorKind::state,
                          fmt::format("{}: {}", what, m_pg_message),
                          "postgresql");
}

std::int64_t Db::last_insert_id_pg() const
{
  PGresult* result = PQexec(m_pg, "SELECT lastval()");
  std::int64_t id = 0;
  if (take_result(result) && PQntuples(result) == 1) {
    id = int_of_pg(PQgetvalue(result, 0, 0));
  }
  PQclear(result);
  return id;
}

Stmt::Stmt(const Db& db, std::unique_ptr<PgQuery> query) : m_db(&db), m_pg(std::move(query)) {}

core::Result<Stmt> Stmt::prepare_pg(const Db& db, std::string_view sql)
{
  auto query = std::make_unique<PgQuery>();
  query->sql = number_placeholders(sql, query->params);
  query->values.resize(static_cast<std::size_t>(query->params));
  query->types.resize(static_cast<std::size_t>(query->params), 0);
  return Stmt(db, std::move(query));
}

void Stmt::bind_pg(int index, std::optional<std::string> text, unsigned type)
{
  if (index < 1 || index > m_pg->params) {
    return;  // as SQLite: a parameter the statement does not have binds nothing
  }
  m_pg->values[static_cast<std::size_t>(index - 1)] = std::move(text);
  m_pg->types[static_cast<std::size_t>(index - 1)] = type;
}

core::Result<bool> Stmt::step_pg()
{
  auto& q = *m_pg;
  if (q.result) {
    return ++q.row < q.rows;
  }
  std::vector<const char*> values;
  values.reserve(q.values.size());
  for (const auto& v : q.values) {
    values.push_back(v ? v->c_str() : nullptr);
  }
  q.result = PQexecParams(m_db->pg(), q.sql.c_str(), q.params,
                          reinterpret_cast<const Oid*>(q.types.data()), values.data(), nullptr,
                          nullptr, 0);
  if (!m_db->take_result(q.result)) {
    PQclear(q.result);
    q.result = nullptr;
    return tl::make_unexpected(m_db->error("state database query failed"));
  }
  q.rows = PQresultStatus(q.result) == PGRES_TUPLES_OK ? PQntuples(q.result) : 0;
  q.row = 0;
  return q.row < q.rows;
}

void Stmt::reset_pg()
{
  PQclear(m_pg->result);
  m_pg->result = nullptr;
  m_pg->row = -1;
  m_pg->rows = 0;
  std::fill(m_pg->values.begin(), m_pg->values.end(), std::nullopt);
  std::fill(m_pg->types.begin(), m_pg->types.end(), 0U);
}

const char* Stmt::value_pg(int index) const
{
  const auto& q = *m_pg;
  if (!q.result || q.row < 0 || q.row >= q.rows || index < 0 || index >= PQnfields(q.result)
      || PQgetisnull(q.result, q.row, index)) {
    return nullptr;
  }
  return PQgetvalue(q.result, q.row, index);
}

core::Result<Db> connect_pg(const std::string& url, const std::string& password,
                            const std::string& shown)
{
  // Later keywords override the ones the expanded URL gives: only the password, which the
  // URL may not carry (core::parse_state_url).
  std::vector<const char*> keys = {"application_name", "connect_timeout", "dbname"};
  std::vector<const char*> values = {"sclman", "10", url.c_str()};
  if (!password.empty()) {
    keys.push_back("password");
    values.push_back(password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  Db db(PQconnectdbParams(keys.data(), values.data(), 1), shown);
  if (!db.pg()) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("cannot connect to {}: out of memory", shown));
  }
  if (PQstatus(db.pg()) != CONNECTION_OK) {
    // libpq's message names the host and port, and the user, never the password. A refused
    // password is the operator's to fix (auth); an unreachable server may be back next tick.
    const std::string why = one_line(PQerrorMessage(db.pg()));
    const bool refused = PQconnectionNeedsPassword(db.pg()) != 0
                         || why.find("password authentication failed") != std::string::npos;
    return tl::make_unexpected(core::make_error(
      refused ? core::ErrorKind::upstream_auth : core::ErrorKind::upstream_transient,
      fmt::format("cannot connect to {}: {}", shown, why), "postgresql"));
  }
  PQsetNoticeProcessor(db.pg(), quiet_notice, nullptr);
  // As SQLite's busy timeout: wait up to 10 s for another writer's lock, then fail busy.
  TRY(db.exec("SET lock_timeout = '10s'; SET client_min_messages = warning"));
  return db;
}

} // namespace state
