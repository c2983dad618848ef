// The node_exporter textfile sclman writes with --metrics-file: how each command last ended,
// counters of decisions, actions and errors, and the size of each cluster.
#pragma once

#include "state/store.hpp"

#include <string>
#include <vector>

namespace report {

struct ClusterGauge
{
  std::string name;
  int size = 0;     // web instances in service
  int desired = 0;
  int min = 0;
  int max = 0;
  int rejected = 0;  // nodes kept out of the LB: their address did not parse
};

// Return the metrics in the Prometheus text exposition format (one HELP and TYPE per family).
std::string render_textfile(const std::vector<state::Counter>& counters,
                            const std::vector<state::RunRecord>& runs,
                            const std::vector<ClusterGauge>& clusters);

} // namespace report
