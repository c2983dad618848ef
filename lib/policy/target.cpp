// The target rule: target tracking with the Kubernetes HPA rule.
#include "policy/rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace policy::detail {

namespace {


// Return the HPA recommendation for one poll, given the desired size at that time.
std::optional<int> target_recommendation(const Tick& t, int desired, const PolicyConfig& c)
{
  const auto o = observe(t, c);
  if (!o.ok()) {
    return std::nullopt;
  }
  const double ratio = o.mean() / c.target;
  // Unready (warming, booting) and missing instances count as idle on the way up and are left
  // out on the way down, as HPA does: both give ceil(sum / target).
  const int want = ceil_int(o.sum / c.target);
  if (ratio > 1 + c.tolerance_out) {
    const double new_ratio = o.sum / (c.target * std::max(desired, o.used));
    return new_ratio > 1 + c.tolerance_out ? std::max(desired, want) : desired;
  }
  if (ratio < 1 - c.tolerance_in) {
    return std::min(desired, want);
  }
  return desired;
}

} // namespace

Proposal propose_target(const History& h, const PolicyConfig& c, Millis now)
{
  Proposal p = hold_proposal(h, "within_tolerance", "target");
  const Tick& newest = h.ticks.back();
  const auto o = observe(newest, c);
  const double ratio = o.mean() / c.target;
  const int raw = target_recommendation(newest, h.desired, c).value_or(h.desired);
  p.inputs.emplace_back("metric", o.mean());
  p.inputs.emplace_back("target", c.target);
  p.inputs.emplace_back("ratio", ratio);
  p.inputs.emplace_back("recommendation", raw);
  if (raw == h.desired) {
    p.rejected.push_back(fmt::format("ratio {:.3f} within [1 - {}, 1 + {}] or no change needed",
                                     ratio, c.tolerance_in, c.tolerance_out));
  }
  // Datapoints: an alarm needs that many polls in a row beyond the band (AWS alarms).
  const bool up = raw > h.desired;
  const int need = up ? c.out_datapoints : c.in_datapoints;
  if (raw != h.desired && need > 1) {
    const auto recent = last_ticks(h, size_t(need));
    int beyond = 0;
    for (const Tick* t : recent) {
      const auto ot = observe(*t, c);
      if (ot.ok() && (up ? ot.mean() > c.target * (1 + c.tolerance_out)
                         : ot.mean() < c.target * (1 - c.tolerance_in))) {
        ++beyond;
      }
    }
    p.inputs.emplace_back("datapoints", beyond);
    if (beyond < need) {
      p.reason = "insufficient_datapoints";
      p.rejected.push_back(fmt::format("{} of {} polls beyond the band", beyond, need));
      return p;
    }
  }
  // Stabilization: the lowest recommendation of the up window and the highest of the down
  // window bound the result (HPA's stabilizeRecommendationWithBehaviors).
  int up_rec = raw;
  int down_rec = raw;
  const Millis up_since = now - Millis(c.up_stabilization_s) * k_ms;
  const Millis down_since = now - Millis(c.down_stabilization_s) * k_ms;
  for (auto it = h.ticks.rbegin() + 1; it != h.ticks.rend(); ++it) {
    if (it->ts <= std::min(up_since, down_since)) {
      break;
    }
    const auto rec = target_recommendation(*it, desired_at(h, it->ts), c);
    if (!rec) {
      continue;
    }
    if (it->ts > up_since) {
      up_rec = std::min(up_rec, *rec);
    }
    if (it->ts > down_since) {
      down_rec = std::max(down_rec, *rec);
    }
  }
  int to = h.desired;
  to = std::max(to, up_rec);
  to = std::min(to, down_rec);
  if (to != raw) {
    p.clamps.push_back(Clamp{"stabilization", raw, to});
    p.clamps.back().detail =
      to > raw ? fmt::format("highest recommendation of the last {} s is {}",
                             c.down_stabilization_s, down_rec)
               : fmt::format("lowest recommendation of the last {} s is {}", c.up_stabilization_s,
                             up_rec);
  }
  // Rate limits per period, from the size at the start of the period.
  const Millis period_since = now - Millis(c.limit_period_s) * k_ms;
  int added = 0;
  int removed = 0;
  for (const auto& a : h.actions) {
    if (a.ts > period_since) {
      added += std::max(0, a.to - a.from);
      removed += std::max(0, a.from - a.to);
    }
  }
  if (to > h.desired) {
    const int base = h.desired - added;
    const int limit = std::max(ceil_int(base * (1 + c.up_limit_percent / 100.0)),
                               base + c.up_limit_pods);
    if (to > limit) {
      p.clamps.push_back(Clamp{"rate_limit", to, limit});
      p.clamps.back().detail =
        fmt::format("up at most max({} %, {}) per {} s from {}", c.up_limit_percent,
                    c.up_limit_pods, c.limit_period_s, base);
      to = std::max(limit, h.desired);
    }
  } else if (to < h.desired) {
    const int base = h.desired + removed;
    const int limit = std::min(int(std::floor(base * (1 - c.down_limit_percent / 100.0) + k_eps)),
                               base - c.down_limit_pods);
    if (to < limit) {
      p.clamps.push_back(Clamp{"rate_limit", to, limit});
      p.clamps.back().detail =
        fmt::format("down at most max({} %, {}) per {} s from {}", c.down_limit_percent,
                    c.down_limit_pods, c.limit_period_s, base);
      to = std::min(limit, h.desired);
    }
  }
  p.to = to;
  if (to > h.desired) {
    p.reason = "metric_above_target";
  } else if (to < h.desired) {
    p.reason = "metric_below_target";
  } else if (raw != h.desired) {
    p.reason = raw > h.desired ? "rate_limit" : "stabilization";
  }
  return p;
}

const std::vector<Key>& target_keys()
{
  static const std::vector<Key> keys = [] {
    std::vector<Key> k{
      number_key("target", &PolicyConfig::target, {0, k_inf, true},
                 "metric value per instance to track"),
      number_key("tolerance", &PolicyConfig::tolerance_out, {0, 1, false, true},
                 "sets tolerance_out and tolerance_in"),
      number_key("tolerance_out", &PolicyConfig::tolerance_out, {0, 10, false, true},
                 "no scale-out while metric / target <= 1 + this"),
      number_key("tolerance_in", &PolicyConfig::tolerance_in, {0, 1, false, true},
                 "no scale-in while metric / target >= 1 - this"),
      integer_key("out_datapoints", &PolicyConfig::out_datapoints, {1, INT_MAX},
                  "consecutive polls above the band before scaling out"),
      integer_key("in_datapoints", &PolicyConfig::in_datapoints, {1, INT_MAX},
                  "consecutive polls below the band before scaling in"),
      integer_key("up_stabilization", &PolicyConfig::up_stabilization_s, {0, INT_MAX},
                  "seconds: take the lowest recommendation of this window on the way up"),
      integer_key("down_stabilization", &PolicyConfig::down_stabilization_s, {0, INT_MAX},
                  "seconds: take the highest recommendation of this window going down"),
      number_key("up_limit_percent", &PolicyConfig::up_limit_percent, {0, k_inf},
                 "per limit period, grow at most by this percent ..."),
      integer_key("up_limit_pods", &PolicyConfig::up_limit_pods, {0, INT_MAX},
                  "... or by this many instances, whichever is more"),
      number_key("down_limit_percent", &PolicyConfig::down_limit_percent, {0, 100},
                 "per limit period, shrink at most by this percent ..."),
      integer_key("down_limit_pods", &PolicyConfig::down_limit_pods, {0, INT_MAX},
                  "... or by this many instances, whichever is more"),
      integer_key("limit_period", &PolicyConfig::limit_period_s, {1, INT_MAX},
                  "seconds: the period of the rate limits"),
    };
    k[1].also = &PolicyConfig::tolerance_in;
    k[1].stored = false;
    return k;
  }();
  return keys;
}

Millis target_window(const PolicyConfig& c)
{
  return std::max(Millis(std::max({c.up_stabilization_s, c.down_stabilization_s,
                                   c.limit_period_s}))
                      * k_ms
                    + Millis(std::max(c.out_datapoints, c.in_datapoints) + 2) * k_poll_ms * 2,
                  cooldown_ms(c));
}

} // namespace policy::detail
