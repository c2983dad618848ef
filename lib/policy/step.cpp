// The step rule: AWS step adjustments.
#include "policy/rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace policy::detail {

namespace {

bool in_band(const StepBand& b, double x, bool above)
{
  const double lo = b.lower.value_or(-std::numeric_limits<double>::infinity());
  const double hi = b.upper.value_or(std::numeric_limits<double>::infinity());
  return above ? (x >= lo && x < hi) : (x > lo && x <= hi);
}

int adjusted(int desired, double change, const PolicyConfig& c)
{
  if (c.adjustment == "exact") {
    return int(std::lround(change));
  }
  if (c.adjustment == "percent") {
    double delta = desired * change / 100.0;
    // AWS: a magnitude below 1 becomes 1, above 1 is truncated; then the minimum magnitude.
    double mag = std::fabs(delta) < 1 ? 1.0 : std::floor(std::fabs(delta));
    mag = std::max(mag, double(c.min_adjustment));
    return desired + int(change < 0 ? -mag : mag);
  }
  return desired + int(std::lround(change));
}

} // namespace

Proposal propose_step(const History& h, const PolicyConfig& c, Millis /*now*/)
{
  Proposal p = hold_proposal(h, "load_within_band", "step");
  const auto recent = last_ticks(h, size_t(c.sensitivity));
  if (recent.size() < size_t(c.sensitivity)) {
    p.reason = "insufficient_history";
    p.rejected.push_back(fmt::format("{} polls, {} needed", recent.size(), c.sensitivity));
    return p;
  }
  int high = 0;
  int low = 0;
  for (const Tick* t : recent) {
    const auto o = observe(*t, c);
    if (!o.ok()) {
      p.reason = missing_reason(o.stale);
      p.rejected.push_back(o.stale > 0 ? "a recent poll's samples are stale (older than max_age)"
                                       : "a recent poll has no usable sample");
      return p;
    }
    high += o.mean() > c.high ? 1 : 0;
    low += o.mean() < c.low ? 1 : 0;
  }
  const double metric = observe(*recent.front(), c).mean();
  p.inputs.emplace_back("metric", metric);
  p.inputs.emplace_back("high_polls", high);
  p.inputs.emplace_back("low_polls", low);
  const bool out = high == c.sensitivity;
  const bool in = low == c.sensitivity;
  if (!out && !in) {
    p.rejected.push_back(fmt::format("{} of {} polls above high {}, {} below low {}", high,
                                     c.sensitivity, c.high, low, c.low));
    return p;
  }
  const auto& bands = out ? c.steps_out : c.steps_in;
  const double breach = metric - (out ? c.high : c.low);
  p.inputs.emplace_back("breach", breach);
  for (size_t i = 0; i < bands.size(); ++i) {
    if (in_band(bands[i], breach, out)) {
      p.to = adjusted(h.desired, bands[i].change, c);
      p.rule = fmt::format("{}[{}]", out ? "step_out" : "step_in", i);
      p.reason = out ? "load_above_high" : "load_below_low";
      p.inputs.emplace_back("change", bands[i].change);
      return p;
    }
    p.rejected.push_back(fmt::format("{}[{}] does not hold breach {:.4g}",
                                     out ? "step_out" : "step_in", i, breach));
  }
  p.reason = "no_step_band";
  return p;
}

const std::vector<Key>& step_keys()
{
  static const std::vector<Key> keys = [] {
    std::vector<Key> k{
      text_key("adjustment", &PolicyConfig::adjustment, "change percent exact",
               "what a band's change is: instances, percent of the size, or the size"),
      integer_key("steps_out", nullptr, {}, "bands above high: [{lower, upper, change}]"),
      integer_key("steps_in", nullptr, {}, "bands below low: [{lower, upper, change}]"),
      integer_key("min_adjustment", &PolicyConfig::min_adjustment, {1, INT_MAX},
                  "smallest change of a percent adjustment"),
    };
    k[1].type = KeyType::bands;
    k[1].bands = &PolicyConfig::steps_out;
    k[2].type = KeyType::bands;
    k[2].bands = &PolicyConfig::steps_in;
    return k;
  }();
  return keys;
}

namespace {

core::Result<void> check_bands(const std::vector<StepBand>& bands, bool out)
{
  if (bands.empty()) {
    return usage(fmt::format("steps_{} must have at least one band", out ? "out" : "in"));
  }
  for (const auto& b : bands) {
    if ((b.lower && !std::isfinite(*b.lower)) || (b.upper && !std::isfinite(*b.upper))
        || !std::isfinite(b.change) || (b.lower && b.upper && *b.lower >= *b.upper)) {
      return usage(fmt::format("invalid step band [{}, {}]", b.lower.value_or(-INFINITY),
                               b.upper.value_or(INFINITY)));
    }
    if (out ? (b.lower && *b.lower < 0) : (b.upper && *b.upper > 0)) {
      return usage(fmt::format("a steps_{} band must lie {} its threshold", out ? "out" : "in",
                               out ? "above" : "below"));
    }
  }
  return {};
}

} // namespace

core::Result<void> check_step(const PolicyConfig& c)
{
  TRY(check_marks(c));
  TRY(check_bands(c.steps_out, true));
  return check_bands(c.steps_in, false);
}

} // namespace policy::detail
