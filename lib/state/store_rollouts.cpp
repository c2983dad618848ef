// Rolling replacements (sql/0017), for `sclman replace` and the engine that carries them on.
#include "core/log.hpp"
#include "core/names.hpp"
#include "state/db.hpp"
#include "state/store.hpp"

#include <fmt/format.h>

namespace state {

namespace {

using core::ErrorKind;
using core::fail;

constexpr const char* k_rollout_columns =
  "id, cluster_id, status, from_image, from_flavor, to_image, to_flavor, batch, min_in_service, "
  "pause_s, last_old_serial, total, batches, surge, started_at, batch_started_at, "
  "batch_ended_at, ended_at, error, instance";

// Return column `index` of rollout row `id` as an integer from `lo` to `hi`, or a state error
// naming it.
Result<int> int_column(const Stmt& s, int index, std::int64_t id, const char* name, int lo,
                       int hi)
{
  const auto v = s.column_int(index);
  if (v < lo || v > hi) {
    return fail(ErrorKind::state, fmt::format("table 'rollouts' row {} has {} {}, not an integer "
                                              "from {} to {}",
                                              id, name, v, lo, hi));
  }
  return static_cast<int>(v);
}

Result<Rollout> read_rollout(const Stmt& s)
{
  Rollout r;
  r.id = s.column_int(0);
  r.cluster_id = s.column_int(1);
  const auto status = s.column_text(2);
  const auto parsed = parse_rollout_status(status);
  if (!parsed) {
    return fail(ErrorKind::state, fmt::format("table 'rollouts' row {} has status '{}'", r.id,
                                              core::printable(status, 40)));
  }
  r.status = *parsed;
  const std::pair<int, std::string*> texts[] = {
    {3, &r.from_image}, {4, &r.from_flavor}, {5, &r.to_image}, {6, &r.to_flavor}};
  for (const auto& [index, field] : texts) {
    *field = s.column_text(index);
    // Shown, compared and given back to the cluster: what an image or flavor may be.
    if (!core::is_printable(*field, 255)) {
      return fail(ErrorKind::state,
                  fmt::format("table 'rollouts' row {} has an image or flavor '{}': not "
                              "printable text of at most 255 bytes",
                              r.id, core::printable(*field, 40)));
    }
  }
  TRY_ASSIGN(r.batch, int_column(s, 7, r.id, "batch", 1, k_max_rollout_batch));
  TRY_ASSIGN(r.min_in_service, int_column(s, 8, r.id, "min_in_service", 0, k_max_rollout_size));
  TRY_ASSIGN(r.pause_s, int_column(s, 9, r.id, "pause_s", 0, k_max_rollout_pause_s));
  TRY_ASSIGN(const int last, int_column(s, 10, r.id, "last_old_serial", 0, 1 << 30));
  r.last_old_serial = last;
  TRY_ASSIGN(r.total, int_column(s, 11, r.id, "total", 0, k_max_rollout_size));
  TRY_ASSIGN(r.batches, int_column(s, 12, r.id, "batches", 0, 1 << 30));
  TRY_ASSIGN(r.surge, int_column(s, 13, r.id, "surge", 0, r.batch));
  r.started_at = s.column_int(14);
  r.batch_started_at = s.column_opt_int(15);
  r.batch_ended_at = s.column_opt_int(16);
  r.ended_at = s.column_opt_int(17);
  r.error = s.column_text(18);
  if (!s.column_is_null(19)) {
    const auto instance = s.column_text(19);
    // Compared with instance names, and shown.
    if (!core::validate_instance_name(instance)) {
      return fail(ErrorKind::state, fmt::format("table 'rollouts' row {} has instance '{}': "
                                                "not an instance name",
                                                r.id, core::printable(instance, 40)));
    }
    r.instance = instance;
  }
  if ((r.status == RolloutStatus::running) == r.ended_at.has_value()) {
    return fail(ErrorKind::state, fmt::format("table 'rollouts' row {} is {} with ended_at {}",
                                              r.id, to_string(r.status),
                                              r.ended_at ? "set" : "unset"));
  }
  return r;
}

Result<std::optional<Rollout>> one_rollout(Db& db, const char* where, std::int64_t cluster_id)
{
  TRY_ASSIGN(auto s, Stmt::prepare(db, fmt::format("SELECT {} FROM rollouts WHERE cluster_id = ? "
                                                   "{} ORDER BY id DESC LIMIT 1",
                                                   k_rollout_columns, where)));
  s.bind(1, cluster_id);
  TRY_ASSIGN(const bool row, s.step());
  if (!row) {
    return std::nullopt;
  }
  TRY_ASSIGN(auto r, read_rollout(s));
  return r;
}

Result<void> set_cluster_spec(Db& db, std::int64_t cluster_id, const std::string& image,
                              const std::string& flavor)
{
  TRY_ASSIGN(auto s, Stmt::prepare(db, "UPDATE clusters SET image = ?, flavor = ? WHERE id = ?"));
  s.bind(1, image).bind(2, flavor).bind(3, cluster_id);
  return s.run();
}

} // namespace

Result<void> Store::start_rollout(Rollout& r)
{
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(const auto running, running_rollout(r.cluster_id));
  if (running) {
    return fail(ErrorKind::usage,
                fmt::format("rollout {} of this cluster is running (to image '{}', flavor '{}'); "
                            "sclman replace --cancel stops it",
                            running->id, core::printable(running->to_image, 64),
                            core::printable(running->to_flavor, 64)));
  }
  TRY_ASSIGN(auto q, Stmt::prepare(m_db, "SELECT COALESCE(MAX(serial), 0), "
                                         "COUNT(CASE WHEN state IN ('requested', 'building', "
                                         "'active', 'bootstrapping', 'in_service') AND "
                                         "(CAST(?2 AS TEXT) IS NULL OR name = ?2) THEN 1 END) "
                                         "FROM instances WHERE "
                                         "cluster_id = ?1 AND role = 'web'"));
  q.bind(1, r.cluster_id).bind(2, r.instance);
  TRY(q.step());
  r.last_old_serial = static_cast<long>(q.column_int(0));
  r.total = static_cast<int>(q.column_int(1));
  q.reset();
  r.status = RolloutStatus::running;
  r.started_at = now();
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db, "INSERT INTO rollouts (cluster_id, status, from_image, "
                                 "from_flavor, to_image, to_flavor, batch, min_in_service, "
                                 "pause_s, last_old_serial, total, started_at, instance) "
                                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  s.bind(1, r.cluster_id)
    .bind(2, to_string(r.status))
    .bind(3, r.from_image)
    .bind(4, r.from_flavor)
    .bind(5, r.to_image)
    .bind(6, r.to_flavor)
    .bind(7, r.batch)
    .bind(8, r.min_in_service)
    .bind(9, r.pause_s)
    .bind(10, std::int64_t{r.last_old_serial})
    .bind(11, r.total)
    .bind(12, r.started_at)
    .bind(13, r.instance);
  TRY(s.run());
  r.id = m_db.last_insert_id();
  TRY(set_cluster_spec(m_db, r.cluster_id, r.to_image, r.to_flavor));
  return tx.commit();
}

Result<std::optional<Rollout>> Store::running_rollout(std::int64_t cluster_id)
{
  return one_rollout(m_db, "AND status = 'running'", cluster_id);
}

Result<std::optional<Rollout>> Store::last_rollout(std::int64_t cluster_id)
{
  return one_rollout(m_db, "", cluster_id);
}

Result<void> Store::update_rollout(const Rollout& r)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "UPDATE rollouts SET batches = ?, surge = ?, "
                                         "batch_started_at = ?, batch_ended_at = ? WHERE id = ? "
                                         "AND status = 'running'"));
  s.bind(1, r.batches).bind(2, r.surge).bind(3, r.batch_started_at).bind(4, r.batch_ended_at);
  s.bind(5, r.id);
  return s.run();
}

Result<void> Store::end_rollout(Rollout& r, RolloutStatus status, std::string error)
{
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  r.status = status;
  r.error = std::move(error);
  r.ended_at = now();
  r.surge = 0;
  r.batch_started_at.reset();
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "UPDATE rollouts SET status = ?, error = ?, ended_at = ?, "
                                         "surge = 0, batch_started_at = NULL WHERE id = ? AND "
                                         "status = 'running'"));
  s.bind(1, to_string(status)).bind(2, r.error).bind(3, *r.ended_at).bind(4, r.id);
  TRY(s.run());
  if (status == RolloutStatus::failed || status == RolloutStatus::cancelled) {
    TRY(set_cluster_spec(m_db, r.cluster_id, r.from_image, r.from_flavor));
  }
  return tx.commit();
}

} // namespace state
