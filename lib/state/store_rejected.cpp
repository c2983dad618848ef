#include "state/db.hpp"
#include "state/store.hpp"

namespace state {

Result<void> Store::replace_rejected(std::int64_t cluster_id,
                                     const std::vector<RejectedBackend>& rejected)
{
  TRY_ASSIGN(const auto before, this->rejected(cluster_id));
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(auto wipe, Stmt::prepare(m_db, "DELETE FROM rejected_backends WHERE cluster_id = ?"));
  wipe.bind(1, cluster_id);
  TRY(wipe.run());
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "INSERT INTO rejected_backends (cluster_id, name, reason, since) "
                           "VALUES (?, ?, ?, ?) ON CONFLICT (cluster_id, name) DO UPDATE SET "
                           "reason = excluded.reason, since = excluded.since"));
  for (const auto& r : rejected) {
    Millis since = now();
    for (const auto& b : before) {
      if (b.name == r.name) {
        since = b.since;
      }
    }
    s.bind(1, cluster_id).bind(2, r.name).bind(3, r.reason).bind(4, since);
    TRY(s.run());
    s.reset();
  }
  return tx.commit();
}

Result<std::vector<RejectedBackend>> Store::rejected(std::int64_t cluster_id)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "SELECT name, reason, since FROM rejected_backends WHERE cluster_id = ? "
                           "ORDER BY name"));
  s.bind(1, cluster_id);
  std::vector<RejectedBackend> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    out.push_back(RejectedBackend{s.column_text(0), s.column_text(1), s.column_int(2)});
  }
  return out;
}

} // namespace state
