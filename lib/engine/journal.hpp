// The intent journal around a side effect: what a run was about to do is on disk before it
// starts, so a run killed in between leaves a pending intent the next run reports by name.
#pragma once

#include "core/result.hpp"
#include "state/store.hpp"

#include <string>
#include <string_view>

namespace engine {

// Names a journaled side effect: operation `op` on `instance` of `cluster`.
struct Intent
{
  std::string_view cluster;
  std::string_view instance;
  std::string_view op;
};

// Return the outcome text of a side effect that succeeded: nothing.
struct NoOutcome
{
  template <typename R> std::string operator()(const R&) const { return {}; }
};

// Write `intent` to the journal, run `effect` (a callable returning core::Result<T>), record
// whether it succeeded (`outcome(result)` on success, the error's message on failure) and
// return its result. The effect does not run if the intent cannot be written; a journal error
// replaces the effect's result.
template <typename Effect, typename Outcome = NoOutcome>
auto journaled(state::Store& store, const Intent& intent, Effect&& effect, Outcome outcome = {})
  -> decltype(effect())
{
  auto id = store.begin_intent(intent.cluster, intent.instance, intent.op);
  if (!id) {
    return tl::make_unexpected(id.error());
  }
  auto result = effect();
  auto finished = store.finish_intent(*id, result.has_value(),
                                      result ? outcome(result) : result.error().message);
  if (!finished) {
    return tl::make_unexpected(finished.error());
  }
  return result;
}

} // namespace engine
