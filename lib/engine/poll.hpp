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
  std::string note;   // a value was taken, but not as read (a counter that went back), and why
};

// Return why a sample the source dates `sample_ts` is no fresh data at `now`: undated (0), older
// than `max_age`, or dated further ahead than `max_age`; "" when it is fresh.
std::string staleness(core::Millis sample_ts, core::Millis now, core::Millis max_age);

// Return the sample `reading` makes for `instance` polled at `ts`. A counter becomes a rate
// from the instance's last stored counter if that is at most `max_age` old; a reading that is
// not fresh (staleness) is missing as stale, a load outside [0, policy::k_max_load] or a
// negative counter as out of range, each with the reason in `error`. A counter whose rate is out
// of range is not kept, so the next rate is taken from the last good one. A counter below the
// last stored one (a restart, a wrap, or a VM that lies) counts from zero, said in `note`.
core::Result<PolledSample> sample_of(state::Store& store,
                                     const state::Instance& instance,
                                     const metrics::Reading& reading,
                                     core::Millis ts,
                                     core::Millis max_age);

} // namespace engine
