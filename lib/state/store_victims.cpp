// The scale-in victims drain_excess chose, and why (sql/0014), for `sclman why`.
#include "core/log.hpp"
#include "core/names.hpp"
#include "policy/policy.hpp"
#include "state/db.hpp"
#include "state/store.hpp"

#include <fmt/format.h>

namespace state {

Result<void> Store::insert_victim(std::int64_t cluster_id, VictimRow v)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "INSERT INTO scale_in_victims (cluster_id, ts, instance, victim_policy, "
                           "reason) VALUES (?, ?, ?, ?, ?)"));
  s.bind(1, cluster_id).bind(2, now()).bind(3, v.instance).bind(4, v.victim_policy).bind(5,
                                                                                        v.reason);
  return s.run();
}

Result<std::vector<VictimRow>> Store::victims(std::int64_t cluster_id, int limit)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "SELECT id, ts, instance, victim_policy, reason FROM scale_in_victims "
                           "WHERE cluster_id = ? ORDER BY ts DESC, id DESC LIMIT ?"));
  s.bind(1, cluster_id).bind(2, std::int64_t{limit});
  std::vector<VictimRow> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    VictimRow v{s.column_int(1), s.column_text(2), s.column_text(3), s.column_text(4)};
    const auto id = s.column_int(0);
    if (auto valid = core::validate_instance_name(v.instance); !valid) {
      return core::fail(core::ErrorKind::state,
                        fmt::format("table 'scale_in_victims' row {} has an {}", id,
                                    valid.error().message));
    }
    if (!policy::victim_named(v.victim_policy)) {
      return core::fail(core::ErrorKind::state,
                        fmt::format("table 'scale_in_victims' row {} has victim_policy '{}'", id,
                                    core::printable(v.victim_policy, 40)));
    }
    out.push_back(std::move(v));
  }
  return out;
}

} // namespace state
