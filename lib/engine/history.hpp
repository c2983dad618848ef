// What `decide` feeds the pure policy: the cluster's recent ticks, sizes and past actions.
#pragma once

#include "policy/policy.hpp"
#include "state/store.hpp"

#include <utility>
#include <vector>

namespace engine {

// Return the history of `cluster` within the policy's window before `now`. Samples are grouped
// by poll time into ticks; when the newest tick is older than `max_age`, an empty tick at `now`
// is appended, so the policy sees the data as missing rather than stale. The history's boot
// time is measured on the cluster's instances (boot_time), with `boot_prior_s` as the prior, and
// `poll_s` is the period of its polls (60 / man_ticks_per_minute); a predictive horizon left to
// them (the boot time plus one poll) sets the window read.
core::Result<policy::History> load_history(state::Store& store,
                                           const state::Cluster& cluster,
                                           const policy::PolicyConfig& config,
                                           core::Millis now,
                                           core::Millis max_age,
                                           int boot_prior_s,
                                           int poll_s = 60);

// Return each poll of `cluster` in [since, until] with the summed load of its instances (the
// mean of the values present times the instances polled), oldest first; polls without a value
// are left out, and so are polls stamped later than `until` (a clock step or a corrupt row: the
// replay spans at most [since, until]). What `simulate --cluster` and `recommend` replay.
core::Result<std::vector<std::pair<core::Millis, double>>> poll_totals(state::Store& store,
                                                                       const state::Cluster& cluster,
                                                                       core::Millis since,
                                                                       core::Millis until);

// Return the boot time of the web instances among `instances` (launch to in service, newest
// launch first) by policy::estimate_boot_time, with `prior_s` as the prior.
policy::BootTime boot_time(const std::vector<state::Instance>& instances, int prior_s);

// Return the spans of time [from, to] (ms, inclusive) before `now` whose samples the policy
// reads, oldest first, disjoint: policy::history_ranges made absolute and merged.
std::vector<std::pair<core::Millis, core::Millis>> spans(const policy::PolicyConfig& config,
                                                         core::Millis now);

} // namespace engine
