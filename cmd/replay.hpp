// What `simulate --cluster` and `recommend` replay: a cluster's recorded load as a trace, the
// capacity of one of its instances in its metric, and its policy in percent of that capacity
// (what simulate's policies see).
#pragma once

#include "policy/simulate.hpp"
#include "run.hpp"

#include <string>

namespace cmd {

struct ClusterReplay
{
  std::string cluster;
  std::int64_t cluster_id = 0;
  policy::Trace trace;          // the summed load of its polls, one step a minute
  double capacity = 0;          // load one instance carries, in the metric's units
  policy::PolicyConfig stored;  // its policy, in the metric's units
  policy::PolicyConfig policy;  // the same in percent of `capacity`
  core::Millis from = 0;        // its first and last poll in the replay
  core::Millis to = 0;
};

// Return the replay of cluster `name` over the last `days` days of its polls, opening the state
// file read-only if the command has not. `capacity` 0 takes the policy's own (predictive);
// other policies need it given.
core::Result<ClusterReplay> cluster_replay(Env& env, const std::string& name, int days,
                                           double capacity);

} // namespace cmd
