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

// Return a decision row as JSON.
nlohmann::json decision_json(const state::DecisionRow& d);

} // namespace report
