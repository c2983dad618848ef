#include "engine/poll.hpp"

#include <fmt/format.h>

namespace engine {

std::string staleness(core::Millis sample_ts, core::Millis now, core::Millis max_age)
{
  if (sample_ts <= 0) {
    return "the source gave no time for the sample";
  }
  if (now - sample_ts > max_age) {
    return fmt::format("sample is {}s old (max_age {}s)", (now - sample_ts) / 1000, max_age / 1000);
  }
  if (sample_ts - now > max_age) {
    return fmt::format("sample is dated {}s ahead (max_age {}s)", (sample_ts - now) / 1000,
                       max_age / 1000);
  }
  return {};
}

namespace {

// Keep `value` in `p` if it is a load a policy can act on, else say why not.
void keep_load(PolledSample& p, double value, const char* what)
{
  if (policy::load_in_range(value)) {
    p.sample.value = value;
    return;
  }
  p.sample.missing = policy::Missing::out_of_range;
  p.error = fmt::format("{} {} is out of range [0, {}]", what, value, policy::k_max_load);
}

} // namespace

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
  p.error = r.error;
  if (!r.counter && !r.value) {
    return p;
  }
  // Stale data is not fresh data: a value the source dates older than max_age (or further
  // ahead than that: a clock no sample should trust) is missing, and says so.
  if (auto why = staleness(r.ts, ts, max_age); !why.empty()) {
    s.missing = policy::Missing::stale;
    p.error = std::move(why);
    return p;
  }
  if (!r.counter) {
    keep_load(p, *r.value, "value");
    return p;
  }
  if (*r.counter < 0) {
    s.missing = policy::Missing::out_of_range;
    p.error = fmt::format("counter {} is negative", *r.counter);
    return p;
  }
  TRY_ASSIGN(const auto previous, store.last_raw_sample(instance.id));
  // Rate from the last stored counter, so a missed tick only widens the interval.
  std::optional<double> rate;
  if (previous && ts - previous->ts <= max_age) {
    rate = metrics::counter_rate(*previous->raw, previous->ts, *r.counter, ts);
  }
  if (rate) {
    keep_load(p, *rate, "rate");
    if (*r.counter < *previous->raw) {
      p.note = fmt::format("counter went back from {} to {}: counted from zero", *previous->raw,
                           *r.counter);
    }
  }
  // A counter whose rate is out of range is not kept either: the next rate is taken from the
  // last good one, not from a jump no web server makes.
  if (s.missing != policy::Missing::out_of_range) {
    s.raw = r.counter;
  }
  return p;
}

} // namespace engine
