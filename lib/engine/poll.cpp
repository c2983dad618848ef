#include "engine/poll.hpp"

#include <fmt/format.h>

namespace engine {

core::Result<PolledSample> sample_of(state::Store& store,
                                     const state::Instance& instance,
                                     const metrics::Reading& r,
                                     core::Millis ts,
                                     core::Millis max_age)
{
  PolledSample p;
  auto& s = p.sample;
  s.instance_id = instance.id;
  s.cluster_id = instance.cluster_id;
  s.ts = ts;
  if (r.counter) {
    s.raw = r.counter;
    TRY_ASSIGN(const auto previous, store.last_raw_sample(instance.id));
    // Rate from the last stored counter, so a missed tick only widens the interval.
    if (previous && ts - previous->ts <= max_age) {
      s.value = metrics::counter_rate(*previous->raw, previous->ts, *r.counter, ts);
    }
  } else if (r.value && ts - r.ts <= max_age) {
    s.value = r.value;
  }
  p.error = r.error;
  if (p.error.empty() && r.value && !s.value) {
    // Stale data is not fresh data: the source's last value is older than max_age.
    p.error = fmt::format("sample is {}s old (max_age {}s)", (ts - r.ts) / 1000, max_age / 1000);
  }
  return p;
}

} // namespace engine
