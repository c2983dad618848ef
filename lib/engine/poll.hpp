// From a metrics reading to a stored load sample: counters become rates, stale values are
// missing samples.
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"
#include "metrics/source.hpp"
#include "state/store.hpp"

#include <string>

namespace engine {

// A sample to store and, if it has no value, why.
struct PolledSample
{
  state::Sample sample;
  std::string error;  // empty when the sample has a value (or the source gave no reason)
};

// Return the sample `reading` makes for `instance` polled at `ts`. A counter becomes a rate
// from the instance's last stored counter if that is at most `max_age` old; a value older than
// `max_age` is missing, with the reason.
core::Result<PolledSample> sample_of(state::Store& store,
                                     const state::Instance& instance,
                                     const metrics::Reading& reading,
                                     core::Millis ts,
                                     core::Millis max_age);

} // namespace engine
