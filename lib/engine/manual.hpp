// A size given by hand (scale-out or scale-in --to): carried out first, and stored only once
// the run has succeeded. A run that fails leaves a decision 'failed' with its error and nothing
// else: the desired size stays, the web instances it requested are taken back, and those it
// began to drain go back into service.
#pragma once

#include "engine/engine.hpp"

#include <functional>
#include <map>

namespace engine {

// The size given by hand.
struct ByHand
{
  state::DecisionAction action = state::DecisionAction::scale_out;
  int to = 0;
  std::string source = std::string(state::k_source_manual);  // the decision's source
  // --force: the policy (JSON) with its bound moved to `to`, stored with the size once the run
  // succeeds; empty: the policy stays.
  std::string policy;
};

// Make the cluster's engine (env.engine_for), and carry out its size (reconcile).
using MakeEngine = std::function<core::Result<Engine>()>;
using Act = std::function<core::Result<void>(Engine&)>;

// Return the state of each instance of the cluster (gone ones too), by id: what
// Engine::take_back undoes a failed run's changes against.
core::Result<std::map<std::int64_t, state::InstanceState>> instance_states(state::Store& store,
                                                                          std::int64_t cluster_id);

// Carry out `by_hand` on `cluster`: act with `cluster.desired` set to its size. When `act`
// succeeds store that size and a manual decision 'done' (superseding pending ones); when
// making the engine or `act` fails, store a manual decision 'failed' with the error, undo
// what the run did to the cluster's web instances (Engine::take_back) and return the error.
core::Result<void> act_by_hand(state::Store& store, state::Cluster& cluster,
                               const ByHand& by_hand, const MakeEngine& make, const Act& act);

// Check that `name` is a web instance of `cluster` a hand action can take (`what`: "removed",
// "replaced"): booting or in service, and not protected from scale-in; usage errors otherwise
// (no such instance, the LB, one leaving, one protected).
core::Result<void> check_member(state::Store& store, const state::Cluster& cluster,
                                const std::string& name, std::string_view what);

// Remove web instance `name` from `cluster` by hand, for `source` ("manual", "api:NAME"): it
// must be a web instance booting or in service, not protected, and the desired size above the
// policy's minimum (usage errors otherwise). Then act_by_hand a scale-in to the desired size
// less one whose act drains that instance (Engine::drain_chosen); the chain's scale-in deletes
// it once drained. With `write` false (a dry run) only check. With `force`, a removal below the
// minimum lowers it by one with the size (ByHand::policy).
core::Result<void> remove_member(state::Store& store, state::Cluster& cluster,
                                 const std::string& name, const std::string& source,
                                 const MakeEngine& make, bool write = true, bool force = false);

// Protect web instance `name` of `cluster` from scale-in (`protect`), or lift the protection:
// a protected instance is never a scale-in victim (Engine::drain_excess), and scale-in --to
// below the number of protected instances is refused. Return false if it was so already.
// Usage errors: no such instance, the LB, or an instance already leaving (draining, deleting,
// gone, error). With `write` false (a dry run) only check, and return whether it would change.
core::Result<bool> set_protection(state::Store& store, const state::Cluster& cluster,
                                  const std::string& name, bool protect, bool write = true);

} // namespace engine
