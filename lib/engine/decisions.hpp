// Decisions between `decide` and `scale-out`/`scale-in`: how a policy::Decision is stored, and
// which stored decision (or size given by hand) a scale command carries out.
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"
#include "policy/policy.hpp"
#include "state/store.hpp"

#include <optional>
#include <span>

namespace engine {

// Return the row that records `decision` for `cluster` at `now`: pending unless it holds.
state::DecisionRow decision_row(const state::Cluster& cluster, const policy::Decision& decision,
                                core::Millis now);

// Apply the cluster's active holds (sql/0021) to the policy's decision `row`: a hold of scope
// all turns any action into hold (and says so on a hold too); one of scope scale_in turns a
// scale-in into hold. The reason names the hold's source and what the policy wanted. Return
// true if a hold applied.
bool apply_holds(state::DecisionRow& row, const std::vector<state::Hold>& holds);

// Store `row` (filling its id), superseding the cluster's pending decisions if it is pending,
// in one transaction (or in the caller's).
core::Result<void> record_decision(state::Store& store, state::DecisionRow& row);
// Store each of `rows` as record_decision does, all in one transaction: one commit for a
// tick's decisions, and none of them if one fails.
core::Result<void> record_decisions(state::Store& store, std::span<state::DecisionRow> rows);

// What a scale command may carry out.
struct TakeOptions
{
  state::DecisionAction action = state::DecisionAction::scale_out;  // scale_out or scale_in
  std::optional<int> to;      // a size given by hand (--to)
  core::Millis ttl = 0;       // a pending decision older than this expires unused
  bool write = true;          // false for --dry-run: decide, store nothing
  // --force: a --to outside [min, max] is taken; the caller moves the bound (widened) with it.
  bool force = false;
};

// Return `policy` with its bounds moved just enough to hold size `to` (--force): max raised to
// it or min lowered to it, and checked against the config's cap `ceiling` (man_max_instances,
// which force does not lift: a usage error); nothing when `to` is within them.
core::Result<std::optional<policy::PolicyConfig>> widened(const policy::PolicyConfig& policy,
                                                          int to, int ceiling);

// Return the desired size `cluster` should now have, from a size given by hand (recorded as a
// manual decision, done) or the cluster's pending decision of the same action (marked done, or
// expired past the TTL), clamped to the policy's [min, max]; nothing when there is nothing to
// apply. A --to outside [min, max] or in the other direction is a usage error.
core::Result<std::optional<int>> take_decision(state::Store& store,
                                               const state::Cluster& cluster,
                                               const policy::PolicyConfig& policy,
                                               const TakeOptions& options,
                                               core::Millis now);

} // namespace engine
