// Webhook receivers of sclman serve, their deliveries and the holds they make (sql/0021).
#include "core/log.hpp"
#include "core/names.hpp"
#include "state/db.hpp"
#include "state/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace state {

namespace {

constexpr const char* k_receiver_columns =
  "id, name, kind, cluster, cluster_label, action, amount, rate_per_minute, hash, created_at";

bool label_name(std::string_view v)
{
  // Prometheus's label names: [a-zA-Z_][a-zA-Z0-9_]*, here at most 64.
  return !v.empty() && v.size() <= 64 && !std::isdigit(static_cast<unsigned char>(v[0]))
         && std::all_of(v.begin(), v.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
            });
}

// Read a receivers row as k_receiver_columns selects it; every column is checked.
Result<Receiver> read_receiver(const Stmt& s)
{
  Receiver r;
  r.id = s.column_int(0);
  r.name = s.column_text(1);
  const auto kind = s.column_text(2);
  r.cluster = s.column_text(3);
  r.cluster_label = s.column_text(4);
  const auto action = s.column_text(5);
  const auto amount = s.column_int(6);
  const auto rate = s.column_int(7);
  r.hash = s.column_text(8);
  r.created_at = s.column_int(9);
  const auto bad = [&](const char* column, std::string_view value) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("table 'receivers' row {} has {} '{}'", r.id, column,
                                  core::printable(value, 40)));
  };
  if (!core::validate_cluster_name(r.name)) {
    return bad("name", r.name);
  }
  const auto k = parse_receiver_kind(kind);
  if (!k) {
    return bad("kind", kind);
  }
  r.kind = *k;
  const auto a = parse_receiver_action(action);
  if (!a) {
    return bad("action", action);
  }
  r.action = *a;
  if (!r.cluster.empty() && !core::validate_cluster_name(r.cluster)) {
    return bad("cluster", r.cluster);
  }
  if (!r.cluster_label.empty() && !label_name(r.cluster_label)) {
    return bad("cluster_label", r.cluster_label);
  }
  if (r.cluster.empty() == r.cluster_label.empty()) {
    return bad("cluster and cluster_label", r.cluster + "|" + r.cluster_label);
  }
  if (amount < 0 || amount > k_max_receiver_amount) {
    return bad("amount", std::to_string(amount));
  }
  r.amount = static_cast<int>(amount);
  if (rate < 1 || rate > 600) {
    return bad("rate_per_minute", std::to_string(rate));
  }
  r.rate_per_minute = static_cast<int>(rate);
  if (r.hash.size() != 64) {
    return bad("hash", r.hash);
  }
  return r;
}

} // namespace

Result<void> Store::insert_receiver(Receiver& r)
{
  TRY_ASSIGN(const auto existing, find_receiver(r.name));
  TRY_ASSIGN(auto taken, Stmt::prepare(m_db, "SELECT 1 FROM receivers WHERE name = ?"));
  taken.bind(1, r.name);
  TRY_ASSIGN(const bool row, taken.step());
  if (existing || row) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("a receiver named '{}' exists already (deleted receivers keep "
                                  "their names, so that the audit log's names stay unique)",
                                  r.name));
  }
  r.created_at = now();
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "INSERT INTO receivers (name, kind, cluster, "
                                         "cluster_label, action, amount, rate_per_minute, hash, "
                                         "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s.bind(1, r.name)
    .bind(2, to_string(r.kind))
    .bind(3, r.cluster)
    .bind(4, r.cluster_label)
    .bind(5, to_string(r.action))
    .bind(6, r.amount)
    .bind(7, r.rate_per_minute)
    .bind(8, r.hash)
    .bind(9, r.created_at);
  TRY(s.run());
  r.id = m_db.last_insert_id();
  return {};
}

Result<std::vector<Receiver>> Store::receivers()
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, fmt::format("SELECT {} FROM receivers WHERE deleted_at "
                                                     "IS NULL ORDER BY name",
                                                     k_receiver_columns)));
  std::vector<Receiver> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      return out;
    }
    TRY_ASSIGN(auto r, read_receiver(s));
    out.push_back(std::move(r));
  }
}

Result<std::optional<Receiver>> Store::find_receiver(std::string_view name)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, fmt::format("SELECT {} FROM receivers WHERE name = ? "
                                                     "AND deleted_at IS NULL",
                                                     k_receiver_columns)));
  s.bind(1, std::string(name));
  TRY_ASSIGN(const bool row, s.step());
  if (!row) {
    return std::optional<Receiver>{};
  }
  TRY_ASSIGN(auto r, read_receiver(s));
  return std::optional<Receiver>{std::move(r)};
}

Result<void> Store::delete_receiver(std::string_view name)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "UPDATE receivers SET deleted_at = ? WHERE name = ? "
                                         "AND deleted_at IS NULL"));
  s.bind(1, now()).bind(2, std::string(name));
  TRY(s.run());
  if (m_db.changes() == 0) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("no receiver named '{}'", core::printable(name, 40)));
  }
  return {};
}

Result<bool> Store::record_delivery(std::int64_t receiver_id, std::string_view key,
                                    std::string_view outcome)
{
  // A request (no key) gets a key no other can have: '#' and 16 random hex digits.
  std::string stored(key);
  if (stored.empty()) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    stored = fmt::format("#{:016x}", random());
  }
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "INSERT INTO deliveries (receiver_id, key, ts, outcome) "
                                         "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"));
  s.bind(1, receiver_id).bind(2, stored).bind(3, now()).bind(4, std::string(outcome));
  TRY(s.run());
  return m_db.changes() == 1;
}

Result<int> Store::requests_since(std::int64_t receiver_id, Millis since)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "SELECT count(*) FROM deliveries WHERE receiver_id = ? "
                                         "AND ts >= ? AND key LIKE '#%'"));
  s.bind(1, receiver_id).bind(2, since);
  TRY_ASSIGN(const bool row, s.step());
  return row ? static_cast<int>(s.column_int(0)) : 0;
}

Result<void> Store::insert_hold(Hold& h)
{
  h.created_at = now();
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "INSERT INTO holds (cluster_id, source, scope, key, "
                                         "created_at, until_ts) VALUES (?, ?, ?, ?, ?, ?)"));
  s.bind(1, h.cluster_id)
    .bind(2, h.source)
    .bind(3, to_string(h.scope))
    .bind(4, h.key)
    .bind(5, h.created_at)
    .bind(6, h.until);
  TRY(s.run());
  h.id = m_db.last_insert_id();
  return {};
}

Result<int> Store::end_holds(std::int64_t cluster_id, std::string_view source,
                             std::string_view key)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "UPDATE holds SET ended_at = ? WHERE cluster_id = ? AND "
                                         "source = ? AND key = ? AND ended_at IS NULL"));
  s.bind(1, now()).bind(2, cluster_id).bind(3, std::string(source)).bind(4, std::string(key));
  TRY(s.run());
  return m_db.changes();
}

Result<std::vector<Hold>> Store::active_holds(std::int64_t cluster_id, Millis at)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "SELECT id, source, scope, key, created_at, until_ts "
                                         "FROM holds WHERE cluster_id = ? AND ended_at IS NULL "
                                         "AND until_ts > ? ORDER BY id"));
  s.bind(1, cluster_id).bind(2, at);
  std::vector<Hold> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      return out;
    }
    Hold h;
    h.id = s.column_int(0);
    h.cluster_id = cluster_id;
    h.source = s.column_text(1);
    const auto scope = s.column_text(2);
    h.key = s.column_text(3);
    h.created_at = s.column_int(4);
    h.until = s.column_int(5);
    const auto parsed_scope = parse_hold_scope(scope);
    const auto parsed_source = parse_decision_source(h.source);
    if (!parsed_scope || !parsed_source || h.key.size() > 64 || !core::is_printable(h.key, 64)) {
      return core::fail(core::ErrorKind::state,
                        fmt::format("table 'holds' row {} has scope '{}', source '{}' or key "
                                    "'{}' this sclman would not write",
                                    h.id, core::printable(scope, 20),
                                    core::printable(h.source, 40), core::printable(h.key, 64)));
    }
    h.scope = *parsed_scope;
    out.push_back(std::move(h));
  }
}

Result<int> Store::prune_serve(Millis before)
{
  int pruned = 0;
  for (const char* sql : {"DELETE FROM deliveries WHERE ts < ?", "DELETE FROM audit WHERE ts < ?",
                          "DELETE FROM holds WHERE coalesce(ended_at, until_ts) < ?"}) {
    TRY_ASSIGN(auto s, Stmt::prepare(m_db, sql));
    s.bind(1, before);
    TRY(s.run());
    pruned += m_db.changes();
  }
  return pruned;
}

} // namespace state
