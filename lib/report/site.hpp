// What `sclman report` writes: the dashboard page, status.json and history.json, assembled from
// the state file.
#pragma once

#include "core/result.hpp"
#include "state/store.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace report {

struct Site
{
  nlohmann::json status;   // status.json: an array of cluster_json, one per cluster
  nlohmann::json history;  // history.json: {generated, clusters: [{name, load, size, decisions}]}
  std::string html;        // index.html
  size_t clusters = 0;
};

// Return the site of every cluster in `store` at `now`, with charts of the last `window` ms: one
// load point per poll (the mean of the values present), the instances polled, and the decisions
// other than hold. The charts start at the oldest data within the window.
core::Result<Site> assemble_site(state::Store& store, core::Millis now, core::Millis window);

} // namespace report
