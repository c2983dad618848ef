// The journal of intents, the counters and the run records of the state file.
#include "state/db.hpp"
#include "state/store.hpp"

#include <fmt/format.h>

namespace state {

Result<std::int64_t> Store::begin_intent(std::string_view cluster,
                                         std::string_view instance,
                                         std::string_view op,
                                         std::string_view detail)
{
  // The write before every side effect on the cloud: refused once another run took the
  // cluster's lock over from this one (its fencing number), checked under the write lock.
  TRY_ASSIGN(auto tx, fenced(cluster_lock_name(cluster)));
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "INSERT INTO journal (ts, cluster, instance, op, detail, status) "
                           "VALUES (?,?,?,?,?,'pending')"));
  s.bind(1, now()).bind(2, cluster).bind(3, instance).bind(4, op).bind(5, detail);
  TRY(s.run());
  const auto id = m_db.last_insert_id();
  if (tx) {
    TRY(tx->commit());
  }
  return id;
}

Result<void> Store::finish_intent(std::int64_t id, bool ok, std::string_view outcome)
{
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "UPDATE journal SET status = ?, finished_at = ?, outcome = ? WHERE "
                           "id = ?"));
  s.bind(1, ok ? "done" : "failed").bind(2, now()).bind(3, outcome).bind(4, id);
  TRY(s.run());
  TRY_ASSIGN(auto op, Stmt::prepare(m_db, "SELECT op FROM journal WHERE id = ?"));
  op.bind(1, id);
  TRY_ASSIGN(const bool row, op.step());
  const std::string op_name = row ? op.column_text(0) : std::string();
  op.reset();
  if (row) {
    TRY(bump_counter("sclman_actions_total",
                     fmt::format("op=\"{}\",outcome=\"{}\"", op_name, ok ? "done" : "failed")));
  }
  return tx.commit();
}

Result<void> Store::bump_counter(std::string_view name, std::string_view labels, std::int64_t by)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "INSERT INTO counters (name, labels, value) VALUES (?, ?, ?) ON "
                           "CONFLICT (name, labels) DO UPDATE SET value = counters.value + excluded.value"));
  s.bind(1, name).bind(2, labels).bind(3, by);
  return s.run();
}

Result<std::vector<Counter>> Store::counters()
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "SELECT name, labels, value FROM counters ORDER BY 1, 2"));
  std::vector<Counter> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    out.push_back(Counter{s.column_text(0), s.column_text(1), s.column_int(2)});
  }
  return out;
}

Result<void> Store::record_run(const RunRecord& run)
{
  // The last success stays until the next one.
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "INSERT INTO runs (command, ts, exit_code, duration_ms, "
                           "last_success_ts) VALUES (?1, ?2, ?3, ?4, CASE WHEN ?3 = 0 THEN ?2 "
                           "END) ON CONFLICT (command) DO UPDATE SET ts = excluded.ts, "
                           "exit_code = excluded.exit_code, duration_ms = excluded.duration_ms, "
                           "last_success_ts = COALESCE(excluded.last_success_ts, "
                           "runs.last_success_ts)"));
  s.bind(1, run.command).bind(2, run.ts).bind(3, run.exit_code).bind(4, run.duration_ms);
  return s.run();
}

Result<std::vector<RunRecord>> Store::runs()
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db, "SELECT command, ts, exit_code, duration_ms, last_success_ts "
                                 "FROM runs ORDER BY 1"));
  std::vector<RunRecord> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    out.push_back(RunRecord{s.column_text(0), s.column_int(1),
                            static_cast<int>(s.column_int(2)), s.column_int(3),
                            s.column_opt_int(4)});
  }
  return out;
}

Result<std::vector<JournalEntry>> Store::interrupt_pending(std::string_view cluster)
{
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(auto q,
             Stmt::prepare(m_db,
                           "SELECT id, ts, cluster, instance, op, detail, status FROM journal "
                           "WHERE cluster = ? AND status = 'pending' ORDER BY id"));
  q.bind(1, cluster);
  std::vector<JournalEntry> out;
  for (;;) {
    TRY_ASSIGN(const bool row, q.step());
    if (!row) {
      break;
    }
    out.push_back(JournalEntry{q.column_int(0),
                               q.column_int(1),
                               q.column_text(2),
                               q.column_text(3),
                               q.column_text(4),
                               q.column_text(5),
                               q.column_text(6)});
  }
  if (!out.empty()) {
    TRY_ASSIGN(auto u,
               Stmt::prepare(m_db,
                             "UPDATE journal SET status = 'interrupted', finished_at = ? WHERE "
                             "cluster = ? AND status = 'pending'"));
    u.bind(1, now()).bind(2, cluster);
    TRY(u.run());
  }
  TRY(tx.commit());
  return out;
}

} // namespace state
