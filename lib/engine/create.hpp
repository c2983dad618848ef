// How a create-cluster run that fails part way ends: the cluster is 'failed', never left
// 'creating' with its LB running; what the run made is removed, or kept for the operator
// (--keep-failed).
#pragma once

#include "core/config.hpp"
#include "engine/engine.hpp"

#include <string>
#include <vector>

namespace engine {

enum class KeepFailed { no, yes };

// Return true if create-cluster may carry on with `existing` (one left creating by a run that
// died, or failed): it is made again from what it holds.
bool resumable(const state::Cluster& existing);

// Return the lines create-cluster stores for `--health KEY=VALUE` options (state::Cluster's
// health), checked over the config's [HEALTH]; a bad one is a usage error naming it.
core::Result<std::string> health_lines(const core::Config& config,
                                       const std::vector<std::string>& options);

// End the creation of `cluster` that failed with `why`: unless `keep`, delete its instances
// (the LB and web servers), retire its bootstrapper setup and what its servers shared (the
// provider's retire_cluster: a Nova server group); mark it failed either way.
// Return the error create-cluster exits with: upstream_transient (75), naming `why` and what
// was removed or kept.
core::Error fail_creation(state::Store& store, Engine& engine, const Drivers& drivers,
                          state::Cluster& cluster, const core::Error& why, KeepFailed keep);

} // namespace engine
