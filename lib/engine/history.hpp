// What `decide` feeds the pure policy: the cluster's recent ticks, sizes and past actions.
#pragma once

#include "policy/policy.hpp"
#include "state/store.hpp"

#include <utility>
#include <vector>

namespace engine {

// Return the history of `cluster` within the policy's window before `now`. Samples are grouped
// by poll time into ticks; when the newest tick is older than `max_age`, an empty tick at `now`
// is appended, so the policy sees the data as missing rather than stale.
core::Result<policy::History> load_history(state::Store& store,
                                           const state::Cluster& cluster,
                                           const policy::PolicyConfig& config,
                                           core::Millis now,
                                           core::Millis max_age);

// Return the spans of time [from, to] (ms, inclusive) before `now` whose samples the policy
// reads, oldest first, disjoint: policy::history_ranges made absolute and merged.
std::vector<std::pair<core::Millis, core::Millis>> spans(const policy::PolicyConfig& config,
                                                         core::Millis now);

} // namespace engine
