// What scale-out and scale-in share: carry out the cluster's pending decision (or a size given
// by hand with --to), then advance the instance state machine.
#pragma once

#include "run.hpp"

namespace cmd {

enum class Direction { out, in };

struct ScaleOptions
{
  std::string cluster;
  std::optional<int> to;  // a size given by hand
  bool wait = false;      // scale-in: wait for draining instances within the deadline
  // Who gave the size (--to): the decision's source (state::parse_decision_source).
  std::string source = std::string(state::k_source_manual);
  // --force: a --to outside [min, max] moves the policy's bound with it (stored once the run
  // succeeds).
  bool force = false;
};

core::Result<void> run_scale(Env& env, Direction direction, const ScaleOptions& o);

} // namespace cmd
