// What `sclman report` writes: the dashboard page, status.json and history.json, assembled from
// the state file.
#pragma once

#include "core/result.hpp"
#include "report/dashboard.hpp"
#include "state/store.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace report {

// What the page needs beyond the state file.
struct SiteOptions
{
  core::Millis window = 24 * 3'600'000;  // the charts' span: the last `window` ms
  core::Millis tick_ms = 60'000;         // the chain's period: stale after three of them
  int failure_budget = 0;  // failed actions in a row after which scaling stops; 0: unknown
};

struct Site
{
  nlohmann::json status;   // status.json: an array of cluster_json, one per cluster
  // history.json: {generated, chain, clusters: [{name, load, size, desired, booting,
  // references, decisions}]}
  nlohmann::json history;
  std::string html;        // index.html
  size_t clusters = 0;
};

// Return the site of every cluster in `store` at `now`, with charts of the last `o.window` ms:
// one load point per poll (the mean of the values present) with the policy's thresholds, target
// or capacity; the instances polled, the desired size and the instances booting; the decisions
// other than hold. The charts start at the oldest data within the window. The header says how
// the chain's steps last ended (the state file's runs).
core::Result<Site> assemble_site(state::Store& store, core::Millis now, const SiteOptions& o);

// Return the chain's health at `now` from the runs the state file records, ticks `tick_ms` apart.
core::Result<ChainHealth> store_chain_health(state::Store& store, core::Millis now,
                                             core::Millis tick_ms);

// Return the view of cluster `c` that the dashboard draws, with charts of the last `o.window` ms;
// `status` is its cluster_json (without decisions), which the caller has already.
core::Result<ClusterView> cluster_view(state::Store& store, const state::Cluster& c,
                                       const nlohmann::json& status, core::Millis now,
                                       const SiteOptions& o);

// Return where the charts of `views` start: at the oldest data within the window that ends at
// `now`, so a young cluster fills them.
core::Millis charts_from(const std::vector<ClusterView>& views, core::Millis now,
                         core::Millis window);

} // namespace report
