// The node_exporter textfile sclman writes with --metrics-file: how each command last ended,
// counters of decisions, actions and errors, and the size of each cluster.
#pragma once

#include "core/result.hpp"
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

// Return the textfile `existing` (as render_textfile wrote it) with the last run of
// `run.command` replaced by `run`: for a run that ended before it could open the state file (a
// config error). Its last success stays as `existing` has it unless `run` succeeded. The file
// is read as hostile: lines of families sclman does not write, and samples that are not as it
// writes them (control characters, no value, a value that is negative or no finite number, a
// last success that is no time), are dropped.
std::string merge_run(const std::string& existing, const state::RunRecord& run);

// Return the textfile of what `store` holds: its counters, the last run of each command, and
// the size, desired size and bounds of each cluster.
core::Result<std::string> textfile_of(state::Store& store);

} // namespace report
