// The threshold rule: the original tool's.
#include "policy/rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace policy::detail {

Proposal propose_threshold(const History& h, const PolicyConfig& c, Millis now)
{
  // The original tool reset its counters after each action: only polls since count.
  const auto recent = last_ticks(h, size_t(c.sensitivity), last_action_ts(h));
  Proposal p = hold_proposal(h, "load_within_band", "threshold");
  int high = 0;
  int low = 0;
  bool missing = false;
  int stale = 0;  // samples of the unusable polls older than max_age
  for (const Tick* t : recent) {
    const auto o = observe(*t, c);
    if (!o.ok()) {
      missing = true;
      stale += o.stale;
    } else if (o.mean() > c.high) {
      ++high;
    } else if (o.mean() < c.low) {
      ++low;
    }
  }
  const bool cooling =
    last_action_ts(h) > 0 && now - last_action_ts(h) < Millis(c.cooldown_s) * k_ms;
  if (cooling) {
    p.reason = "cooldown";
    p.rejected.push_back("no poll counts during the cooldown after the last action");
  } else if (recent.size() < size_t(c.sensitivity)) {
    p.reason = "insufficient_history";
    p.rejected.push_back(fmt::format("{} polls since the last action, {} needed", recent.size(),
                                     c.sensitivity));
  } else if (missing) {
    p.reason = missing_reason(stale);
    p.rejected.push_back(stale > 0 ? "a recent poll's samples are stale (older than max_age)"
                                   : "a recent poll has no usable sample");
  } else if (high == c.sensitivity) {
    p.to = h.desired + 1;
    p.reason = "load_above_high";
    p.rule = "threshold_high";
  } else if (low == c.sensitivity) {
    p.to = h.desired - 1;
    p.reason = "load_below_low";
    p.rule = "threshold_low";
  } else {
    p.rejected.push_back(fmt::format("{} of {} polls above high {}, {} below low {}", high,
                                     c.sensitivity, c.high, low, c.low));
  }
  p.inputs.emplace_back("high_polls", high);
  p.inputs.emplace_back("low_polls", low);
  if (const auto o = observe(h.ticks.back(), c); o.ok()) {
    p.inputs.emplace_back("load", o.mean());
  }
  p.inputs.emplace_back("sensitivity", c.sensitivity);
  p.inputs.emplace_back("high", c.high);
  p.inputs.emplace_back("low", c.low);
  return p;
}

const std::vector<Key>& mark_keys()
{
  static const std::vector<Key> keys{
    integer_key("sensitivity", &PolicyConfig::sensitivity, {1, INT_MAX},
                "consecutive polls above high (below low) before acting"),
    number_key("high", &PolicyConfig::high, {-k_inf, k_inf},
               "per-instance load above which a poll is high"),
    number_key("low", &PolicyConfig::low, {0, k_inf},
               "per-instance load below which a poll is calm (below high)"),
  };
  return keys;
}

core::Result<void> check_marks(const PolicyConfig& c)
{
  if (c.low >= c.high) {
    return usage(fmt::format("low {} must be at least 0 and below high {}", c.low, c.high));
  }
  return {};
}

Millis marks_window(const PolicyConfig& c)
{
  // Enough for `sensitivity` polls at a one-minute period with room for late runs.
  return Millis(c.sensitivity + 2) * k_poll_ms * 2 + cooldown_ms(c);
}

} // namespace policy::detail
