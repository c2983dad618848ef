#include "engine/decisions.hpp"

#include "core/time.hpp"
#include "policy/schedule.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace engine {

using state::DecisionAction;
using state::DecisionStatus;

state::DecisionRow decision_row(const state::Cluster& cluster, const policy::Decision& decision,
                                core::Millis now)
{
  state::DecisionRow row;
  row.cluster_id = cluster.id;
  row.ts = now;
  row.action = decision.action;
  row.from_size = decision.from;
  row.to_size = decision.to;
  row.reason = decision.reason;
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& [name, value] : decision.inputs) {
    inputs[name] = value;
  }
  row.inputs = inputs.dump();
  row.explanation = policy::decision_json(decision);
  row.status = decision.action == DecisionAction::hold ? DecisionStatus::noop
                                                       : DecisionStatus::pending;
  return row;
}

bool apply_holds(state::DecisionRow& row, const std::vector<state::Hold>& holds)
{
  for (const auto& h : holds) {
    if (h.scope == state::HoldScope::all) {
      // Said also when the policy would hold anyway: why shows the hold while it lasts.
      row.reason = fmt::format("held by {} until {} (the policy: {} to {}: {})", h.source,
                               core::iso8601_utc(h.until), policy::to_string(row.action),
                               row.to_size, row.reason);
    } else if (row.action == DecisionAction::scale_in) {
      row.reason = fmt::format("scale-in held by {} while its alert fires (the policy: {} to "
                               "{}: {})",
                               h.source, policy::to_string(row.action), row.to_size, row.reason);
    } else {
      continue;
    }
    row.action = DecisionAction::hold;
    row.to_size = row.from_size;
    row.status = DecisionStatus::noop;
    return true;
  }
  return false;
}

core::Result<void> record_decision(state::Store& store, state::DecisionRow& row)
{
  return record_decisions(store, std::span(&row, 1));
}

core::Result<void> record_decisions(state::Store& store, std::span<state::DecisionRow> rows)
{
  if (rows.empty()) {
    return {};  // no transaction to open: a tick whose clusters all deferred stores nothing
  }
  std::optional<state::Transaction> tx;
  if (!store.db().in_transaction()) {
    TRY_ASSIGN(auto begun, state::Transaction::begin(store.db()));
    tx.emplace(std::move(begun));
  }
  for (auto& row : rows) {
    if (row.status == DecisionStatus::pending) {
      TRY(store.supersede_pending(row.cluster_id));
    }
    TRY_ASSIGN(row.id, store.insert_decision(row));
  }
  if (tx) {
    TRY(tx->commit());
  }
  return {};
}

namespace {

// Return the size given by hand, recorded as a manual decision already done.
core::Result<std::optional<int>> take_manual(state::Store& store, const state::Cluster& c,
                                             const policy::PolicyConfig& policy,
                                             const TakeOptions& o, core::Millis now)
{
  const int to = *o.to;
  if (!o.force && (to < policy.min_size || to > policy.max_size)) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--to {} is outside [min {}, max {}] of cluster '{}'", to,
                                  policy.min_size, policy.max_size, c.name));
  }
  if ((o.action == DecisionAction::scale_out && to < c.desired)
      || (o.action == DecisionAction::scale_in && to > c.desired)) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--to {} would scale cluster '{}' the other way (desired {})",
                                  to, c.name, c.desired));
  }
  if (to == c.desired) {
    return std::optional<int>{};
  }
  if (o.action == DecisionAction::scale_in) {
    // By hand, a size the protected instances forbid is refused before anything changes.
    TRY_ASSIGN(const auto instances, store.instances(c.id));
    const auto kept = state::protected_web(instances);
    if (static_cast<int>(kept.size()) > to) {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("--to {}: {} web instances of cluster '{}' are protected from "
                                    "scale-in ({}); sclman unprotect lifts it",
                                    to, kept.size(), c.name, fmt::join(kept, ", ")));
    }
  }
  state::DecisionRow row;
  row.cluster_id = c.id;
  row.ts = now;
  row.action = o.action;
  row.from_size = c.desired;
  row.to_size = to;
  row.reason = "manual";
  row.source = std::string(state::k_source_manual);
  row.inputs = "{}";
  row.status = DecisionStatus::done;
  row.done_at = now;
  if (o.write) {
    TRY(store.supersede_pending(c.id));
    TRY(store.insert_decision(row));
  }
  return std::optional<int>{to};
}

} // namespace

core::Result<std::optional<policy::PolicyConfig>> widened(const policy::PolicyConfig& policy,
                                                          int to, int ceiling)
{
  if (to >= policy.min_size && to <= policy.max_size) {
    return std::optional<policy::PolicyConfig>{};
  }
  auto wide = policy;
  wide.min_size = std::min(wide.min_size, to);
  wide.max_size = std::max(wide.max_size, to);
  if (auto fits = policy::check_ceiling(wide, ceiling); !fits) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--force to {}: {}", to, fits.error().message));
  }
  return std::optional<policy::PolicyConfig>{std::move(wide)};
}

core::Result<std::optional<int>> take_decision(state::Store& store,
                                               const state::Cluster& c,
                                               const policy::PolicyConfig& policy,
                                               const TakeOptions& o,
                                               core::Millis now)
{
  if (o.to) {
    return take_manual(store, c, policy, o, now);
  }
  TRY_ASSIGN(auto pending, store.pending_decision(c.id));
  if (!pending || pending->action != o.action) {
    return std::optional<int>{};
  }
  if (now - pending->ts > o.ttl) {
    spdlog::warn("decision.expired cluster={} id={} age_s={}", c.name, pending->id,
                 (now - pending->ts) / 1000);
    if (o.write) {
      TRY(store.set_decision_status(pending->id, DecisionStatus::expired));
    }
    return std::optional<int>{};
  }
  const int to = std::clamp(pending->to_size, policy.min_size, policy.max_size);
  if (o.write) {
    TRY(store.set_decision_status(pending->id, DecisionStatus::done));
  }
  return std::optional<int>{to};
}

} // namespace engine
