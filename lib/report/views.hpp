// How clusters, instances and decisions look to people (tables) and scripts (JSON).
#pragma once

#include "core/result.hpp"
#include "state/store.hpp"

#include <nlohmann/json.hpp>

namespace report {

// Return the JSON object `status --json` prints for one cluster.
core::Result<nlohmann::json> cluster_json(state::Store& store, const state::Cluster& cluster,
                                          bool include_gone);

// Return the table `status` prints for the clusters in `report` (a JSON array of cluster_json).
std::string clusters_table(const nlohmann::json& report, bool with_instances);

// Return rollout `r` (sclman replace) and how far it got among `instances`, or null without
// one: `left` counts the instances it replaces still booting or in service.
nlohmann::json rollout_json(const std::optional<state::Rollout>& r,
                            const std::vector<state::Instance>& instances);

// Return a time in ms as JSON, or null when there is none.
nlohmann::json millis_or_null(const std::optional<core::Millis>& t);

// Return a decision row as JSON.
nlohmann::json decision_json(const state::DecisionRow& d);

// Return the stored explanation of `d` as JSON, or null when it has none (set by hand, or made
// before the state file kept explanations).
nlohmann::json explanation_json(const state::DecisionRow& d);

// Return decisions `rows` (newest first) of cluster `c` as `why --json` prints them: each with
// its explanation and the scale-in victims (`victims`, newest first) chosen from its time until
// the next newer decision.
nlohmann::json decisions_json(const state::Cluster& c, const std::vector<state::DecisionRow>& rows,
                              const std::vector<state::VictimRow>& victims);

} // namespace report
