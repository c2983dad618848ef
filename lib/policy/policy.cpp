#include "policy/policy.hpp"

#include "core/names.hpp"
#include "policy/schedule.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace policy {

namespace {

constexpr Millis k_ms = 1000;
constexpr Millis k_hour_ms = 3'600'000;
// A poll period assumed where the policy needs one to size windows (cron runs each minute).
constexpr Millis k_poll_ms = 60'000;
// Guards ceil() against 2.0000000001 from float sums that should be 2.
constexpr double k_eps = 1e-9;

int ceil_int(double x)
{
  return int(std::ceil(x - k_eps));
}

// ---------------------------------------------------------------------------------------------
// Observations

// The usable metric of one poll: samples with a value from instances past their warm-up.
struct Observation
{
  int used = 0;
  int warmup = 0;
  int missing = 0;
  double sum = 0;
  int instances = 0;  // all samples of the poll, used or not

  bool ok() const { return used > 0; }
  double mean() const { return used > 0 ? sum / used : 0.0; }
};

bool warming(const InstanceSample& s, Millis ts, const PolicyConfig& c)
{
  return c.warmup_s > 0 && s.in_service_since > 0
         && ts - s.in_service_since < Millis(c.warmup_s) * k_ms;
}

Observation observe(const Tick& t, const PolicyConfig& c)
{
  Observation o;
  o.instances = int(t.samples.size());
  for (const auto& s : t.samples) {
    if (!s.value || !std::isfinite(*s.value) || *s.value < 0) {
      ++o.missing;  // NaN and negative values are rejected as if missing
    } else if (warming(s, t.ts, c)) {
      ++o.warmup;
    } else {
      ++o.used;
      o.sum += *s.value;
    }
  }
  return o;
}

// Return what observe() made of each sample of `t`, with the reason for each dropped one.
std::vector<SampleNote> note_samples(const Tick& t, const PolicyConfig& c)
{
  std::vector<SampleNote> out;
  out.reserve(t.samples.size());
  for (const auto& s : t.samples) {
    SampleNote n{s.instance, s.value, "used", ""};
    if (!s.value) {
      n.use = "missing";
      n.detail = "no value in this poll";
    } else if (!std::isfinite(*s.value) || *s.value < 0) {
      n.use = "rejected";
      n.value = std::nullopt;  // NaN has no JSON form; the detail says what it was
      n.detail = fmt::format("value {} is not a finite number >= 0", *s.value);
    } else if (warming(s, t.ts, c)) {
      n.use = "warmup";
      n.detail = fmt::format("in service {} s, warm-up {} s", (t.ts - s.in_service_since) / k_ms,
                             c.warmup_s);
    }
    out.push_back(std::move(n));
  }
  return out;
}

// Return the desired size at time `ts`, replaying the actions backwards from the current one.
int desired_at(const History& h, Millis ts)
{
  int d = h.desired;
  for (auto it = h.actions.rbegin(); it != h.actions.rend() && it->ts > ts; ++it) {
    d = it->from;
  }
  return d;
}

Millis last_action_ts(const History& h)
{
  return h.actions.empty() ? 0 : h.actions.back().ts;
}

// What a rule asks for, before the common clamps.
struct Proposal
{
  int to = 0;
  std::string reason;
  std::string rule;
  std::vector<std::string> rejected;
  std::vector<std::pair<std::string, double>> inputs;
  std::vector<Clamp> clamps;  // limits the rule applies itself (rate limit, stabilization)
};

Proposal hold_proposal(const History& h, std::string reason, std::string rule)
{
  Proposal p;
  p.to = h.desired;
  p.reason = std::move(reason);
  p.rule = std::move(rule);
  return p;
}

// Return the last `n` polls, newest first, or fewer if the history is shorter.
std::vector<const Tick*> last_ticks(const History& h, size_t n, Millis since = 0)
{
  std::vector<const Tick*> out;
  for (auto it = h.ticks.rbegin(); it != h.ticks.rend() && out.size() < n; ++it) {
    if (it->ts <= since) {
      break;
    }
    out.push_back(&*it);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// threshold: the original tool's rule

Proposal propose_threshold(const History& h, const PolicyConfig& c, Millis now)
{
  // The original tool reset its counters after each action: only polls since count.
  const auto recent = last_ticks(h, size_t(c.sensitivity), last_action_ts(h));
  Proposal p = hold_proposal(h, "load_within_band", "threshold");
  int high = 0;
  int low = 0;
  bool missing = false;
  for (const Tick* t : recent) {
    const auto o = observe(*t, c);
    if (!o.ok()) {
      missing = true;
    } else if (o.mean() > c.high) {
      ++high;
    } else if (o.mean() < c.low) {
      ++low;
    }
  }
  const bool cooling = last_action_ts(h) > 0 && now - last_action_ts(h) < Millis(c.cooldown_s) * k_ms;
  if (cooling) {
    p.reason = "cooldown";
    p.rejected.push_back("no poll counts during the cooldown after the last action");
  } else if (recent.size() < size_t(c.sensitivity)) {
    p.reason = "insufficient_history";
    p.rejected.push_back(fmt::format("{} polls since the last action, {} needed", recent.size(),
                                     c.sensitivity));
  } else if (missing) {
    p.reason = "missing_samples";
    p.rejected.push_back("a recent poll has no usable sample");
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

// ---------------------------------------------------------------------------------------------
// step: AWS step adjustments

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

Proposal propose_step(const History& h, const PolicyConfig& c)
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
      p.reason = "missing_samples";
      p.rejected.push_back("a recent poll has no usable sample");
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

// ---------------------------------------------------------------------------------------------
// target: the Kubernetes HPA rule

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

// ---------------------------------------------------------------------------------------------
// predictive: forecast the peak load of the horizon, with a margin learnt from past errors

// Loads are in instances (metric sum / capacity). Ratios take loads below this floor as the
// floor, so that one idle minute followed by a busy one is a finite surprise.
constexpr double k_load_floor = 0.5;
// Fewer past forecasts than this and the error quantile means little: react instead.
constexpr size_t k_min_residuals = 60;
// The reactive fallback provisions for the load at this share of capacity.
constexpr double k_fallback_utilisation = 0.6;
// A trend forecast never assumes more than this growth over one horizon.
constexpr double k_max_trend = 3.0;
// Smoothed forecasters: the mean load of this many recent polls. On small request counts one
// poll is noisy (Poisson noise of 15 % at 45 requests a minute); a mean is a better base.
constexpr int k_smooth_polls[] = {5, 15};

double floored(double load)
{
  return std::isnan(load) ? load : std::max(load, k_load_floor);
}

// The load of polls by index, cached for the slices decide() reads: a few hundred polls now and
// around each seasonal lag, out of a week. Summing every sample of the week each minute would
// dominate the cost.
class Loads
{
public:
  Loads(const History& h, const PolicyConfig& c) : m_h(h), m_c(c) {}

  // Cache the loads of polls with timestamps in [from, to].
  void add_slice(Millis from, Millis to)
  {
    const size_t lo = first_at(from);
    const size_t hi = first_at(to + 1);
    if (lo < hi) {
      Slice s{lo, {}};
      s.loads.reserve(hi - lo);
      for (size_t i = lo; i < hi; ++i) {
        s.loads.push_back(compute(i));
      }
      m_slices.push_back(std::move(s));
    }
  }

  // Return the load of poll `i` in instances, or NaN if it has no usable sample.
  double at(size_t i) const
  {
    for (const auto& s : m_slices) {
      if (i >= s.first && i < s.first + s.loads.size()) {
        return s.loads[i - s.first];
      }
    }
    return compute(i);
  }

  // Return the index of the first poll at or after `ts`.
  size_t first_at(Millis ts) const
  {
    const auto it = std::lower_bound(m_h.ticks.begin(), m_h.ticks.end(), ts,
                                     [](const Tick& t, Millis v) { return t.ts < v; });
    return size_t(it - m_h.ticks.begin());
  }

  Millis ts(size_t i) const { return m_h.ticks[i].ts; }
  size_t size() const { return m_h.ticks.size(); }

private:
  struct Slice
  {
    size_t first = 0;
    std::vector<double> loads;
  };

  double compute(size_t i) const
  {
    const auto o = observe(m_h.ticks[i], m_c);
    // Instances without a usable sample are assumed as loaded as the others.
    return o.ok() ? o.mean() * o.instances / m_c.capacity
                  : std::numeric_limits<double>::quiet_NaN();
  }

  const History& m_h;
  const PolicyConfig& m_c;
  std::vector<Slice> m_slices;
};

// The polls in [t + from, t + to] (or (t + from, t + to] when `open`) for a moving t. Moving t
// forward only moves the ends forward, so a sweep over the lookback costs one pass.
class Window
{
public:
  Window(const Loads& loads, Millis from, Millis to, bool open)
    : m_loads(loads), m_from(from), m_to(to), m_open(open)
  {
  }

  void move_to(Millis t)
  {
    const Millis lo_ts = t + m_from + (m_open ? 1 : 0);
    const Millis hi_ts = t + m_to;
    if (!m_started) {
      m_lo = m_loads.first_at(lo_ts);
      m_hi = m_loads.first_at(hi_ts + 1);
      m_started = true;
      return;
    }
    while (m_lo < m_loads.size() && m_loads.ts(m_lo) < lo_ts) {
      ++m_lo;
    }
    while (m_hi < m_loads.size() && m_loads.ts(m_hi) <= hi_ts) {
      ++m_hi;
    }
  }

  // Return the mean (or max) load of the window, NaN if no poll in it has one.
  double mean() const { return aggregate(false); }
  double max() const { return aggregate(true); }

private:
  double aggregate(bool take_max) const
  {
    double acc = take_max ? -1.0 : 0.0;
    int n = 0;
    for (size_t i = m_lo; i < m_hi; ++i) {
      const double v = m_loads.at(i);
      if (!std::isnan(v)) {
        acc = take_max ? std::max(acc, v) : acc + v;
        ++n;
      }
    }
    if (n == 0) {
      return std::numeric_limits<double>::quiet_NaN();
    }
    return take_max ? acc : acc / n;
  }

  const Loads& m_loads;
  Millis m_from;
  Millis m_to;
  bool m_open;
  bool m_started = false;
  size_t m_lo = 0;
  size_t m_hi = 0;
};

// What a forecaster expects after a poll: the growth of the load to the poll where capacity
// launched now starts serving (the lead), and to the peak of the whole horizon.
struct Growth
{
  double lead = 1.0;
  double peak = 1.0;
  // The level the growth applies to: NaN for the load of the poll itself, else the mean load of
  // the recent polls (a smoothed forecaster).
  double base = std::numeric_limits<double>::quiet_NaN();
};

// A way to forecast the load of the next horizon from what was known at a poll: the load then
// times a growth factor, the one seen over the horizon one season ago, the recent trend, or none.
class Forecaster
{
public:
  Forecaster(std::string name, const Loads& loads, Millis season, bool trend, Millis horizon,
             Millis smooth = 0)
    : m_name(std::move(name)),
      m_season(season),
      m_trend(trend),
      m_smooth(smooth),
      m_level(loads, -smooth, 0, true),
      m_then(loads, -season - 2 * k_poll_ms, -season, false),
      m_lead(loads, -season + horizon - k_poll_ms, -season + horizon, true),
      m_peak(loads, -season, -season + horizon, true),
      m_recent(loads, -2 * k_poll_ms, 0, false),
      m_before(loads, -horizon - 2 * k_poll_ms, -horizon, false)
  {
  }

  const std::string& name() const { return m_name; }

  // Return the growth expected over the horizon after time t (NaN if unknown); t must not
  // decrease from one call to the next.
  Growth growth(Millis t)
  {
    if (m_season > 0) {
      m_then.move_to(t);
      m_lead.move_to(t);
      m_peak.move_to(t);
      const double then = floored(m_then.mean());
      return Growth{floored(m_lead.mean()) / then, floored(m_peak.max()) / then};
    }
    if (m_smooth > 0) {
      m_level.move_to(t);
      Growth g;
      g.base = m_level.mean();
      return g;
    }
    if (m_trend) {
      m_recent.move_to(t);
      m_before.move_to(t);
      const double g =
        std::clamp(floored(m_recent.mean()) / floored(m_before.mean()), 1.0, k_max_trend);
      return Growth{g, g};
    }
    return Growth{};
  }

private:
  std::string m_name;
  Millis m_season;
  bool m_trend;
  Millis m_smooth;
  Window m_level;
  Window m_then;
  Window m_lead;
  Window m_peak;
  Window m_recent;
  Window m_before;
};

// The errors of one forecaster over the lookback, at the lead poll and at the horizon's peak, as
// ratios (load-proportional noise, busy clusters) and as differences (count noise, near-idle
// clusters).
struct Errors
{
  std::vector<double> lead_ratio;
  std::vector<double> lead_excess;
  std::vector<double> peak_ratio;
  std::vector<double> peak_excess;
  std::vector<double> lead_z;  // excess over the square root of the forecast (count noise)
  std::vector<double> peak_z;
  std::vector<double> lead_actual;
  std::vector<double> lead_forecast;
  Growth now{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
};

// Return the pinball (quantile) loss of provisioning `provided` for `actual` at level q.
double pinball(double actual, double provided, double q)
{
  return actual > provided ? q * (actual - provided) : (1 - q) * (provided - actual);
}

double quantile_of(std::vector<double> v, double q)
{
  const auto k = std::min(v.size() - 1,
                          size_t(std::max(0.0, std::ceil(q * double(v.size())) - 1)));
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(k), v.end());
  return v[k];
}

Proposal propose_predictive(const History& h, const PolicyConfig& c, Millis now)
{
  Proposal p = hold_proposal(h, "forecast_within_capacity", "forecast");
  const Millis horizon = Millis(c.horizon_s) * k_ms;
  const Millis lookback = Millis(c.lookback_s) * k_ms;
  const Millis margin = 4 * k_poll_ms;
  Loads loads(h, c);
  loads.add_slice(now - lookback - horizon - margin, now);
  for (int s : c.seasons_s) {
    const Millis lag = Millis(s) * k_ms;
    loads.add_slice(now - lag - lookback - horizon - margin, now - lag + horizon);
  }
  const size_t last = h.ticks.size() - 1;
  const double load = loads.at(last);
  Window hold(loads, -Millis(c.hold_s) * k_ms, 0, true);
  hold.move_to(now);
  const double recent_peak = std::max(load, hold.max());
  p.inputs.emplace_back("load", load);
  p.inputs.emplace_back("recent_peak", recent_peak);

  std::vector<Forecaster> forecasters;
  forecasters.reserve(2 + std::size(k_smooth_polls) + c.seasons_s.size());
  forecasters.emplace_back("naive", loads, 0, false, horizon);
  forecasters.emplace_back("trend", loads, 0, true, horizon);
  for (int m : k_smooth_polls) {
    forecasters.emplace_back(fmt::format("mean_{}", m), loads, 0, false, horizon,
                             Millis(m) * k_poll_ms);
  }
  for (int s : c.seasons_s) {
    forecasters.emplace_back(fmt::format("season_{}s", s), loads, Millis(s) * k_ms, false,
                             horizon);
  }
  // Score each forecaster on the polls of the lookback. Polls whose horizon is not over yet
  // count with what was seen so far, so a surge raises the margin at once.
  std::vector<Errors> errors(forecasters.size());
  Window lead(loads, horizon - k_poll_ms, horizon, true);
  Window peak(loads, 0, horizon, true);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  int polls = 0;
  int under_polls = 0;
  for (size_t i = loads.first_at(now - lookback); i <= last; ++i) {
    const Millis t = loads.ts(i);
    const double base = loads.at(i);
    if (!std::isnan(base)) {
      ++polls;
      // More load than instances: this poll was under-provisioned.
      under_polls += base > double(h.ticks[i].samples.size()) + k_eps ? 1 : 0;
    }
    lead.move_to(t);
    peak.move_to(t);
    const double peak_load = i < last ? peak.max() : nan;
    const double lead_load = i < last ? lead.mean() : nan;
    for (size_t f = 0; f < forecasters.size(); ++f) {
      const Growth g = forecasters[f].growth(t);
      auto& e = errors[f];
      if (i == last) {
        e.now = g;
      }
      const double level = std::isnan(g.base) ? base : g.base;
      if (std::isnan(g.peak) || std::isnan(base) || std::isnan(level) || std::isnan(peak_load)) {
        continue;
      }
      // Until the lead poll has come, the peak so far stands for it.
      const double lead_actual = std::isnan(lead_load) ? peak_load : lead_load;
      const double lead_forecast = level * g.lead;
      const double peak_forecast = level * g.peak;
      e.lead_ratio.push_back(floored(lead_actual) / floored(lead_forecast));
      e.lead_excess.push_back(lead_actual - lead_forecast);
      e.peak_ratio.push_back(floored(peak_load) / floored(peak_forecast));
      e.peak_excess.push_back(peak_load - peak_forecast);
      e.lead_z.push_back((lead_actual - lead_forecast) / std::sqrt(floored(lead_forecast)));
      e.peak_z.push_back((peak_load - peak_forecast) / std::sqrt(floored(peak_forecast)));
      e.lead_actual.push_back(lead_actual);
      e.lead_forecast.push_back(lead_forecast);
    }
  }
  // A candidate is a forecaster with an error model. Its cost is the pinball loss of its
  // margined forecasts over the lookback (the proper score of a quantile forecast: it weighs
  // how far each miss fell short, not only how often); the cheapest wins. It scales out to cover
  // the lead poll and scales in only below the peak of the horizon after the recent peak.
  struct Candidate
  {
    std::string name;
    double cost = 0;
    double need = 0;
    double need_hold = 0;
    double growth = 0;
    double margin = 0;
  };
  // The under-provisioning budget: with no poll over capacity in the lookback the margin covers
  // quantile_low of past errors; as the share of such polls reaches under_budget it rises to
  // quantile. Risk is taken where it is cheap and stops when it has shown up.
  const double under_share = 100.0 * under_polls / std::max(1.0, double(polls));
  const double spent = c.under_budget > 0 ? std::min(1.0, under_share / c.under_budget) : 1.0;
  const double q = c.quantile_low + (c.quantile - c.quantile_low) * spent;
  p.inputs.emplace_back("under_share", under_share);
  p.inputs.emplace_back("quantile", q);
  std::vector<Candidate> candidates;
  for (size_t f = 0; f < forecasters.size(); ++f) {
    auto& e = errors[f];
    if (e.lead_ratio.size() < k_min_residuals || std::isnan(e.now.peak)) {
      p.rejected.push_back(fmt::format("{}: {} past forecasts, {} needed", forecasters[f].name(),
                                       e.lead_ratio.size(), k_min_residuals));
      continue;
    }
    const Growth g = e.now;
    const double ratio = quantile_of(e.lead_ratio, q);
    const double peak_ratio = quantile_of(e.peak_ratio, q);
    const double excess = quantile_of(e.lead_excess, q);
    const double peak_excess = quantile_of(e.peak_excess, q);
    const double z = quantile_of(e.lead_z, q);
    const double peak_z = quantile_of(e.peak_z, q);
    double loss_ratio = 0;
    double loss_excess = 0;
    double loss_z = 0;
    for (size_t j = 0; j < e.lead_actual.size(); ++j) {
      const double fj = e.lead_forecast[j];
      loss_ratio += pinball(e.lead_actual[j], floored(fj) * ratio, q);
      loss_excess += pinball(e.lead_actual[j], fj + excess, q);
      loss_z += pinball(e.lead_actual[j], fj + z * std::sqrt(floored(fj)), q);
    }
    const double n = double(e.lead_actual.size());
    // A smoothed forecaster starts from its mean level, the others from the load now and, to
    // scale in, from the recent peak.
    const bool smoothed = !std::isnan(g.base);
    const double level = smoothed ? g.base : load;
    const double level_hold = smoothed ? g.base : recent_peak;
    const double lead_f = level * g.lead;
    // To scale in, cover the horizon's peak with the peak errors, or (scale_in_cover "lead") the
    // lead poll from the recent level with the lead errors: the peak errors hold the noise of
    // the highest of several polls on top of the recent peak, which already holds it once.
    const bool cover_lead = c.scale_in_cover == "lead";
    const double peak_f = level_hold * (cover_lead ? g.lead : g.peak);
    const double hold_ratio = cover_lead ? ratio : peak_ratio;
    const double hold_excess = cover_lead ? excess : peak_excess;
    const double hold_z = cover_lead ? z : peak_z;
    candidates.push_back(Candidate{forecasters[f].name() + "*ratio", loss_ratio / n,
                                   floored(lead_f) * ratio, floored(peak_f) * hold_ratio, g.lead,
                                   ratio});
    candidates.push_back(Candidate{forecasters[f].name() + "+excess", loss_excess / n,
                                   lead_f + excess, peak_f + hold_excess, g.lead, excess});
    candidates.push_back(Candidate{forecasters[f].name() + "+sqrt", loss_z / n,
                                   lead_f + z * std::sqrt(floored(lead_f)),
                                   peak_f + hold_z * std::sqrt(floored(peak_f)), g.lead, z});
  }
  const Candidate* best = nullptr;
  for (const auto& k : candidates) {
    if (!best || k.cost < best->cost) {
      best = &k;
    }
  }
  for (const auto& k : candidates) {
    if (&k != best) {
      p.rejected.push_back(fmt::format("{}: past loss {:.4f}, not below {}'s {:.4f}", k.name,
                                       k.cost, best->name, best->cost));
    }
  }
  double need_now = 0;
  double need_hold = 0;
  if (best) {
    need_now = best->need;
    need_hold = best->need_hold;
    p.rule = "forecast_" + best->name;
    p.inputs.emplace_back("growth", best->growth);
    p.inputs.emplace_back("margin", best->margin);
    p.inputs.emplace_back("past_loss", best->cost);
  } else {
    need_now = load / k_fallback_utilisation;
    need_hold = recent_peak / k_fallback_utilisation;
    p.rule = "reactive_fallback";
  }
  // Whatever the forecast says, never provision below the load seen now.
  const int out = std::max(ceil_int(need_now), ceil_int(load));
  const int in = std::max(ceil_int(need_hold), out);
  p.inputs.emplace_back("need", need_now);
  p.inputs.emplace_back("need_hold", need_hold);
  if (out > h.desired) {
    p.to = out;
    p.reason = "forecast_above_capacity";
  } else if (in < h.desired) {
    p.to = in;
    p.reason = "forecast_below_capacity";
  } else {
    p.rejected.push_back(fmt::format("scale-out: need {} <= desired {}; scale-in: need {} over "
                                     "the hold window >= desired {}",
                                     out, h.desired, in, h.desired));
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// The common frame: bounds, missing data, cooldowns, flap budget

Decision finish(const History& h, Decision d, int to, std::string reason)
{
  d.to = to;
  d.action = to > h.desired ? Action::scale_out : to < h.desired ? Action::scale_in : Action::hold;
  d.reason = std::move(reason);
  return d;
}

Decision decide_kind(const History& h, const PolicyConfig& c, Millis now, const Bounds& b)
{
  Decision d;
  d.from = h.desired;
  d.to = h.desired;
  auto& why = d.why;
  // Bounds first: a size outside [min, max] (after a policy or schedule change) is corrected
  // at once.
  if (h.desired < b.min_size || h.desired > b.max_size) {
    const int to = std::clamp(h.desired, b.min_size, b.max_size);
    why.rule = "bounds";
    why.proposed = to;
    why.clamps.push_back(Clamp{to > h.desired ? "min" : "max", h.desired, to});
    return finish(h, std::move(d), to, to > h.desired ? "below_min" : "above_max");
  }
  Observation newest;
  if (!h.ticks.empty()) {
    newest = observe(h.ticks.back(), c);
    why.stale = now - h.ticks.back().ts > Millis(c.stale_s) * k_ms;
  }
  why.samples_used = newest.used;
  why.dropped_warmup = newest.warmup;
  why.dropped_missing = newest.missing;
  why.proposed = h.desired;
  why.stale_s = c.stale_s;
  if (!h.ticks.empty()) {
    why.samples = note_samples(h.ticks.back(), c);
    why.poll_ts = h.ticks.back().ts;
    const auto with_samples = std::find_if(h.ticks.rbegin(), h.ticks.rend(),
                                           [](const Tick& t) { return !t.samples.empty(); });
    why.last_sample_ts = with_samples == h.ticks.rend() ? 0 : with_samples->ts;
  }
  if (h.ticks.empty() || why.stale) {
    why.rule = "missing_data";
    return finish(h, std::move(d), h.desired, "stale_samples");
  }
  if (!newest.ok()) {
    why.rule = "missing_data";
    return finish(h, std::move(d), h.desired,
                  newest.warmup > 0 && newest.missing == 0 ? "warming_up" : "missing_samples");
  }
  Proposal p;
  if (c.kind == "step") {
    p = propose_step(h, c);
  } else if (c.kind == "target") {
    p = propose_target(h, c, now);
  } else if (c.kind == "predictive") {
    p = propose_predictive(h, c, now);
  } else {
    p = propose_threshold(h, c, now);
  }
  why.rule = p.rule;
  why.proposed = p.to;
  why.rejected = std::move(p.rejected);
  why.clamps = std::move(p.clamps);
  d.inputs = std::move(p.inputs);
  int to = p.to;
  std::string reason = std::move(p.reason);
  const auto clamp = [&](const char* name, int limit, std::string token) {
    why.clamps.push_back(Clamp{name, to, limit});
    to = limit;
    if (to == h.desired) {
      reason = std::move(token);
    }
  };
  if (to > b.max_size) {
    clamp("max", b.max_size, "at_max");
  } else if (to < b.min_size) {
    clamp("min", b.min_size, "at_min");
  }
  if (to < h.desired && newest.missing > 0) {
    clamp("missing_data", h.desired, "missing_samples");  // never scale in on missing data
  }
  const Millis since_action = now - last_action_ts(h);
  const int in_cooldown = c.scale_in_cooldown_s >= 0 ? c.scale_in_cooldown_s : c.cooldown_s;
  if (last_action_ts(h) > 0 && to != h.desired
      && since_action < Millis(to > h.desired ? c.cooldown_s : in_cooldown) * k_ms) {
    const bool out = to > h.desired;
    clamp("cooldown", h.desired, "cooldown");
    why.clamps.back().detail = fmt::format("{} cooldown {} s, last action {} s ago",
                                           out ? "scale-out" : "scale-in",
                                           out ? c.cooldown_s : in_cooldown, since_action / k_ms);
  }
  if (c.flap_budget > 0 && to != h.desired) {
    const auto changes = std::count_if(h.actions.begin(), h.actions.end(), [&](const PastAction& a) {
      return a.ts > now - k_hour_ms && a.to != a.from;
    });
    d.inputs.emplace_back("changes_last_hour", double(changes));
    if (changes >= c.flap_budget) {
      clamp("flap_budget", h.desired, "flap_budget");
      why.clamps.back().detail = fmt::format("{} size changes in the last hour, budget {}",
                                             changes, c.flap_budget);
    }
  }
  if (b.entry) {
    d.inputs.emplace_back("scheduled_since", double(b.since));
  }
  return finish(h, std::move(d), to, std::move(reason));
}

// ---------------------------------------------------------------------------------------------
// JSON

nlohmann::json bands_json(const std::vector<StepBand>& bands)
{
  auto out = nlohmann::json::array();
  for (const auto& b : bands) {
    nlohmann::json j = {{"change", b.change}};
    j["lower"] = b.lower ? nlohmann::json(*b.lower) : nlohmann::json(nullptr);
    j["upper"] = b.upper ? nlohmann::json(*b.upper) : nlohmann::json(nullptr);
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<StepBand> bands_from(const nlohmann::json& j)
{
  std::vector<StepBand> out;
  for (const auto& b : j) {
    StepBand band;
    for (const auto& [key, value] : b.items()) {
      if (key == "lower") {
        band.lower = value.is_null() ? std::nullopt : std::optional<double>(value.get<double>());
      } else if (key == "upper") {
        band.upper = value.is_null() ? std::nullopt : std::optional<double>(value.get<double>());
      } else if (key == "change") {
        band.change = value.get<double>();
      } else {
        throw std::invalid_argument(fmt::format("unknown step band key '{}'", key));
      }
    }
    out.push_back(band);
  }
  return out;
}

core::Result<void> usage(std::string message)
{
  return core::fail(core::ErrorKind::usage, std::move(message));
}

core::Result<void> validate_bands(const std::vector<StepBand>& bands, bool out)
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

const char* to_string(Action action)
{
  switch (action) {
  case Action::hold:
    return "hold";
  case Action::scale_out:
    return "scale_out";
  case Action::scale_in:
    return "scale_in";
  }
  return "hold";
}

Decision decide(const History& history, const PolicyConfig& config, Millis now)
{
  const auto bounds = bounds_at(config, now);
  Decision d = decide_kind(history, config, now, bounds);
  if (bounds.entry) {
    d.why.schedule = *bounds.entry;
    d.why.schedule_since = bounds.since;
    for (auto& c : d.why.clamps) {
      if (c.name == "min" || c.name == "max") {
        c.detail = fmt::format("{} {} set by schedule '{}' ({})", c.name,
                               c.name == "min" ? bounds.min_size : bounds.max_size,
                               bounds.entry->cron, bounds.entry->tz);
      }
    }
  }
  d.inputs.emplace_back("in_service", history.in_service);
  d.inputs.emplace_back("booting", history.booting);
  d.inputs.emplace_back("min", bounds.min_size);
  d.inputs.emplace_back("max", bounds.max_size);
  return d;
}

Millis history_window(const PolicyConfig& c)
{
  const Millis cooldown = Millis(std::max(c.cooldown_s, c.scale_in_cooldown_s)) * k_ms;
  Millis w = 0;
  if (c.kind == "predictive") {
    int season = 0;
    for (int s : c.seasons_s) {
      season = std::max(season, s);
    }
    w = std::max(Millis(season + c.lookback_s + 2 * c.horizon_s + c.hold_s) * k_ms
                   + 4 * k_poll_ms,
                 cooldown);
  } else if (c.kind == "target") {
    w = std::max(Millis(std::max({c.up_stabilization_s, c.down_stabilization_s,
                                  c.limit_period_s}))
                     * k_ms
                   + Millis(std::max(c.out_datapoints, c.in_datapoints) + 2) * k_poll_ms * 2,
                 cooldown);
  } else {
    // Enough for `sensitivity` polls at a one-minute period with room for late runs.
    w = Millis(c.sensitivity + 2) * k_poll_ms * 2 + cooldown;
  }
  if (c.flap_budget > 0) {
    w = std::max(w, k_hour_ms);
  }
  return w;
}

std::vector<HistoryRange> history_ranges(const PolicyConfig& c)
{
  const Millis window = history_window(c);
  if (c.kind != "predictive") {
    return {HistoryRange{window, 0}};
  }
  // The recent past (lookback, cooldowns, flap budget), then each seasonal lag's slice.
  const Millis margin = 4 * k_poll_ms;
  const Millis recent = std::max(
    {Millis(c.lookback_s + 2 * c.horizon_s + c.hold_s) * k_ms + margin,
     Millis(std::max(c.cooldown_s, c.scale_in_cooldown_s)) * k_ms,
     c.flap_budget > 0 ? k_hour_ms : 0});
  std::vector<HistoryRange> out;
  for (int s : c.seasons_s) {
    const Millis lag = Millis(s) * k_ms;
    out.push_back(HistoryRange{std::min(window, lag + recent), std::max<Millis>(0, lag - Millis(c.horizon_s) * k_ms - margin)});
  }
  std::sort(out.begin(), out.end(),
            [](const HistoryRange& a, const HistoryRange& b) { return a.from_ms > b.from_ms; });
  out.push_back(HistoryRange{recent, 0});
  return out;
}

std::string to_json(const PolicyConfig& c)
{
  nlohmann::json j = {
    {"kind", c.kind},
    {"min", c.min_size},
    {"max", c.max_size},
    {"cooldown", c.cooldown_s},
    {"scale_in_cooldown", c.scale_in_cooldown_s},
    {"warmup", c.warmup_s},
    {"stale", c.stale_s},
    {"flap_budget", c.flap_budget},
  };
  if (!c.schedule.empty()) {
    auto s = nlohmann::json::array();
    for (const auto& e : c.schedule) {
      s.push_back({{"cron", e.cron}, {"tz", e.tz}, {"min", e.min_size}, {"max", e.max_size}});
    }
    j["schedule"] = std::move(s);
  }
  if (c.kind == "threshold" || c.kind == "step") {
    j["sensitivity"] = c.sensitivity;
    j["high"] = c.high;
    j["low"] = c.low;
  }
  if (c.kind == "step") {
    j["adjustment"] = c.adjustment;
    j["steps_out"] = bands_json(c.steps_out);
    j["steps_in"] = bands_json(c.steps_in);
    j["min_adjustment"] = c.min_adjustment;
  }
  if (c.kind == "target") {
    j["target"] = c.target;
    j["tolerance_out"] = c.tolerance_out;
    j["tolerance_in"] = c.tolerance_in;
    j["out_datapoints"] = c.out_datapoints;
    j["in_datapoints"] = c.in_datapoints;
    j["up_stabilization"] = c.up_stabilization_s;
    j["down_stabilization"] = c.down_stabilization_s;
    j["up_limit_percent"] = c.up_limit_percent;
    j["up_limit_pods"] = c.up_limit_pods;
    j["down_limit_percent"] = c.down_limit_percent;
    j["down_limit_pods"] = c.down_limit_pods;
    j["limit_period"] = c.limit_period_s;
  }
  if (c.kind == "predictive") {
    j["capacity"] = c.capacity;
    j["quantile"] = c.quantile;
    j["quantile_low"] = c.quantile_low;
    j["under_budget"] = c.under_budget;
    j["horizon"] = c.horizon_s;
    j["lookback"] = c.lookback_s;
    j["hold"] = c.hold_s;
    j["scale_in_cover"] = c.scale_in_cover;
    j["seasons"] = c.seasons_s;
  }
  return j.dump();
}

std::vector<std::string> preset_names()
{
  return {"threshold", "step", "target", "hpa", "target-tracking", "predictive"};
}

core::Result<PolicyConfig> preset(std::string_view name)
{
  PolicyConfig c;
  if (name == "threshold") {
    return c;
  }
  if (name == "step") {
    c.kind = "step";
    return c;
  }
  if (name == "target" || name == "hpa") {
    // Kubernetes HPA defaults: `kubectl autoscale` targets 80 % utilisation, tolerance 0.1,
    // scale-down stabilization 300 s, up by max(100 %, 4 pods) and down by 100 % per 15 s.
    c.kind = "target";
    c.cooldown_s = 0;
    return c;
  }
  if (name == "target-tracking") {
    // AWS target tracking: the alarm scales out after 3 polls above the target and in after 15
    // polls below 90 % of it; new instances warm up 300 s; scale-in waits 300 s after an
    // action. The console proposes a target of 50 %.
    c.kind = "target";
    c.target = 50;
    c.tolerance_out = 0;
    c.tolerance_in = 0.1;
    c.out_datapoints = 3;
    c.in_datapoints = 15;
    c.down_stabilization_s = 0;
    c.up_limit_percent = 1e6;
    c.up_limit_pods = 1'000'000;
    c.warmup_s = 300;
    c.cooldown_s = 0;
    c.scale_in_cooldown_s = 300;
    return c;
  }
  if (name == "predictive") {
    c.kind = "predictive";
    c.cooldown_s = 0;
    return c;
  }
  return core::fail(core::ErrorKind::usage,
                    fmt::format("unknown policy '{}': expected one of {}", name,
                                fmt::join(preset_names(), ", ")));
}

namespace {

// Return `value` as an int: an integer, or a number without fraction, within int's range; else
// std::invalid_argument naming `key`. (json::get<int> converts 1e67 with undefined behaviour and
// wraps 5000000000 into another number: fuzz_policy_json found the first.)
int int_value(const nlohmann::json& value, std::string_view key)
{
  constexpr auto lo = std::numeric_limits<int>::min();
  constexpr auto hi = std::numeric_limits<int>::max();
  if (value.is_number_unsigned()) {
    if (const auto u = value.get<std::uint64_t>(); u <= static_cast<std::uint64_t>(hi)) {
      return static_cast<int>(u);
    }
  } else if (value.is_number_integer()) {
    if (const auto v = value.get<std::int64_t>(); v >= lo && v <= hi) {
      return static_cast<int>(v);
    }
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    if (d >= lo && d <= hi && d == std::floor(d)) {
      return static_cast<int>(d);
    }
  }
  throw std::invalid_argument(
    fmt::format("'{}' must be an integer from {} to {}, not {}", key, lo, hi, value.dump()));
}

} // namespace

core::Result<PolicyConfig> policy_from_json(std::string_view text)
{
  using core::ErrorKind;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return core::fail(ErrorKind::config, fmt::format("invalid policy JSON: {}", e.what()));
  }
  if (!j.is_object()) {
    return core::fail(ErrorKind::config, "invalid policy JSON: not an object");
  }
  PolicyConfig c;
  try {
    // Start from the defaults of the preset or kind, then apply every key.
    std::string base = "threshold";
    if (j.contains("preset")) {
      base = j["preset"].get<std::string>();
    } else if (j.contains("kind")) {
      base = j["kind"].get<std::string>();
    }
    auto start = preset(base);
    if (!start) {
      return core::fail(ErrorKind::config, start.error().message);
    }
    c = *start;
    for (const auto& [key, value] : j.items()) {
      if (key == "preset") {
        continue;
      } else if (key == "kind") {
        c.kind = value.get<std::string>();
      } else if (key == "min") {
        c.min_size = int_value(value, key);
      } else if (key == "max") {
        c.max_size = int_value(value, key);
      } else if (key == "cooldown") {
        c.cooldown_s = int_value(value, key);
      } else if (key == "scale_in_cooldown") {
        c.scale_in_cooldown_s = int_value(value, key);
      } else if (key == "warmup") {
        c.warmup_s = int_value(value, key);
      } else if (key == "stale") {
        c.stale_s = int_value(value, key);
      } else if (key == "flap_budget") {
        c.flap_budget = int_value(value, key);
      } else if (key == "schedule") {
        c.schedule.clear();
        for (const auto& e : value) {
          ScheduleEntry s;
          s.cron = e.at("cron").get<std::string>();
          s.tz = e.value("tz", std::string("UTC"));
          s.min_size = int_value(e.at("min"), "min");
          s.max_size = int_value(e.at("max"), "max");
          c.schedule.push_back(std::move(s));
        }
      } else if (key == "sensitivity") {
        c.sensitivity = int_value(value, key);
      } else if (key == "high") {
        c.high = value.get<double>();
      } else if (key == "low") {
        c.low = value.get<double>();
      } else if (key == "adjustment") {
        c.adjustment = value.get<std::string>();
      } else if (key == "steps_out") {
        c.steps_out = bands_from(value);
      } else if (key == "steps_in") {
        c.steps_in = bands_from(value);
      } else if (key == "min_adjustment") {
        c.min_adjustment = int_value(value, key);
      } else if (key == "target") {
        c.target = value.get<double>();
      } else if (key == "tolerance") {
        c.tolerance_out = value.get<double>();
        c.tolerance_in = c.tolerance_out;
      } else if (key == "tolerance_out") {
        c.tolerance_out = value.get<double>();
      } else if (key == "tolerance_in") {
        c.tolerance_in = value.get<double>();
      } else if (key == "out_datapoints") {
        c.out_datapoints = int_value(value, key);
      } else if (key == "in_datapoints") {
        c.in_datapoints = int_value(value, key);
      } else if (key == "up_stabilization") {
        c.up_stabilization_s = int_value(value, key);
      } else if (key == "down_stabilization") {
        c.down_stabilization_s = int_value(value, key);
      } else if (key == "up_limit_percent") {
        c.up_limit_percent = value.get<double>();
      } else if (key == "up_limit_pods") {
        c.up_limit_pods = int_value(value, key);
      } else if (key == "down_limit_percent") {
        c.down_limit_percent = value.get<double>();
      } else if (key == "down_limit_pods") {
        c.down_limit_pods = int_value(value, key);
      } else if (key == "limit_period") {
        c.limit_period_s = int_value(value, key);
      } else if (key == "capacity") {
        c.capacity = value.get<double>();
      } else if (key == "quantile") {
        c.quantile = value.get<double>();
      } else if (key == "scale_in_cover") {
        c.scale_in_cover = value.get<std::string>();
      } else if (key == "quantile_low") {
        c.quantile_low = value.get<double>();
      } else if (key == "under_budget") {
        c.under_budget = value.get<double>();
      } else if (key == "horizon") {
        c.horizon_s = int_value(value, key);
      } else if (key == "lookback") {
        c.lookback_s = int_value(value, key);
      } else if (key == "hold") {
        c.hold_s = int_value(value, key);
      } else if (key == "seasons") {
        c.seasons_s = value.get<std::vector<int>>();
      } else {
        return core::fail(ErrorKind::config, fmt::format("unknown policy key '{}'", key));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return core::fail(ErrorKind::config, fmt::format("invalid policy value: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    return core::fail(ErrorKind::config, fmt::format("invalid policy value: {}", e.what()));
  }
  if (auto r = validate(c); !r) {
    return core::fail(ErrorKind::config, r.error().message);
  }
  return c;
}

core::Result<void> validate(const PolicyConfig& c)
{
  if (c.kind != "threshold" && c.kind != "step" && c.kind != "target" && c.kind != "predictive") {
    return usage(fmt::format("unknown policy '{}'", c.kind));
  }
  if (c.min_size < 1) {
    return usage(fmt::format("min {} must be at least 1", c.min_size));
  }
  if (c.min_size > c.max_size) {
    return usage(fmt::format("min {} is greater than max {}", c.min_size, c.max_size));
  }
  if (c.cooldown_s < 0 || c.scale_in_cooldown_s < -1) {
    return usage("cooldown must not be negative");
  }
  if (c.warmup_s < 0 || c.stale_s < 1 || c.flap_budget < 0) {
    return usage("warmup and flap_budget must not be negative, stale must be at least 1");
  }
  for (const auto& e : c.schedule) {
    TRY(validate_cron(e.cron));
    TRY(validate_tz(e.tz));
    if (e.min_size < 1 || e.min_size > e.max_size) {
      return usage(fmt::format("schedule '{}': min {} must be at least 1 and at most max {}",
                               e.cron, e.min_size, e.max_size));
    }
  }
  if (c.kind == "threshold" || c.kind == "step") {
    if (c.sensitivity < 1) {
      return usage(fmt::format("sensitivity {} must be at least 1", c.sensitivity));
    }
    if (!std::isfinite(c.high) || !std::isfinite(c.low) || c.low < 0 || c.low >= c.high) {
      return usage(fmt::format("low {} must be at least 0 and below high {}", c.low, c.high));
    }
  }
  if (c.kind == "step") {
    if (c.adjustment != "change" && c.adjustment != "percent" && c.adjustment != "exact") {
      return usage(fmt::format("unknown adjustment '{}': expected change, percent or exact",
                               c.adjustment));
    }
    TRY(validate_bands(c.steps_out, true));
    TRY(validate_bands(c.steps_in, false));
    if (c.min_adjustment < 1) {
      return usage("min_adjustment must be at least 1");
    }
  }
  if (c.kind == "target") {
    if (!std::isfinite(c.target) || c.target <= 0) {
      return usage(fmt::format("target {} must be above 0", c.target));
    }
    if (!(c.tolerance_out >= 0 && c.tolerance_out < 10) || !(c.tolerance_in >= 0 && c.tolerance_in < 1)) {
      return usage("tolerance must be at least 0 (and below 1 for scale-in)");
    }
    if (c.out_datapoints < 1 || c.in_datapoints < 1) {
      return usage("datapoints must be at least 1");
    }
    if (c.up_stabilization_s < 0 || c.down_stabilization_s < 0 || c.limit_period_s < 1) {
      return usage("stabilization windows must not be negative, limit_period must be at least 1");
    }
    if (!(c.up_limit_percent >= 0) || !(c.down_limit_percent >= 0) || c.down_limit_percent > 100
        || c.up_limit_pods < 0 || c.down_limit_pods < 0) {
      return usage("rate limits must not be negative and down_limit_percent at most 100");
    }
  }
  if (c.kind == "predictive") {
    if (!std::isfinite(c.capacity) || c.capacity <= 0) {
      return usage(fmt::format("capacity {} must be above 0", c.capacity));
    }
    if (!(c.quantile >= 0.5 && c.quantile <= 1)) {
      return usage(fmt::format("quantile {} must be in [0.5, 1]", c.quantile));
    }
    if (!(c.quantile_low >= 0.5 && c.quantile_low <= c.quantile)) {
      return usage(fmt::format("quantile_low {} must be in [0.5, quantile {}]", c.quantile_low,
                               c.quantile));
    }
    if (c.scale_in_cover != "peak" && c.scale_in_cover != "lead") {
      return usage(fmt::format("unknown scale_in_cover '{}': expected peak or lead",
                               c.scale_in_cover));
    }
    if (!(c.under_budget >= 0 && c.under_budget <= 100)) {
      return usage(fmt::format("under_budget {} must be a percentage", c.under_budget));
    }
    if (c.horizon_s < 1 || c.lookback_s < 600 || c.hold_s < 0) {
      return usage("horizon must be at least 1, lookback at least 600, hold not negative");
    }
    for (int s : c.seasons_s) {
      if (s < 3600 || s > 35 * 86400) {
        return usage(fmt::format("season {} must be between 3600 and {} seconds", s, 35 * 86400));
      }
    }
  }
  return {};
}

std::string decision_json(const Decision& d)
{
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& [name, value] : d.inputs) {
    inputs[name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
  }
  auto clamps = nlohmann::json::array();
  for (const auto& c : d.why.clamps) {
    nlohmann::json cj = {{"name", c.name}, {"from", c.from}, {"to", c.to}};
    if (!c.detail.empty()) {
      cj["detail"] = c.detail;
    }
    clamps.push_back(std::move(cj));
  }
  auto notes = nlohmann::json::array();
  for (const auto& n : d.why.samples) {
    nlohmann::json nj = {{"instance", n.instance}, {"use", n.use}};
    nj["value"] = n.value ? nlohmann::json(*n.value) : nlohmann::json(nullptr);
    if (!n.detail.empty()) {
      nj["detail"] = n.detail;
    }
    notes.push_back(std::move(nj));
  }
  nlohmann::json schedule = nullptr;
  if (d.why.schedule) {
    const auto& e = *d.why.schedule;
    schedule = {{"cron", e.cron}, {"tz", e.tz}, {"min", e.min_size}, {"max", e.max_size},
                {"since", d.why.schedule_since}};
  }
  nlohmann::json j = {
    {"action", to_string(d.action)},
    {"from", d.from},
    {"to", d.to},
    {"reason", d.reason},
    {"inputs", inputs},
    {"samples",
     {{"used", d.why.samples_used},
      {"dropped_warmup", d.why.dropped_warmup},
      {"dropped_missing", d.why.dropped_missing},
      {"stale", d.why.stale},
      {"poll_ts", d.why.poll_ts},
      {"last_sample_ts", d.why.last_sample_ts},
      {"stale_after", d.why.stale_s},
      {"list", notes}}},
    {"rule", d.why.rule},
    {"proposed", d.why.proposed},
    {"rejected", d.why.rejected},
    {"clamps", clamps},
    {"schedule", schedule},
  };
  return j.dump();
}

std::string explain_text(const Decision& d)
{
  std::string out = fmt::format("{} {} -> {} ({})\n", to_string(d.action), d.from, d.to, d.reason);
  out += fmt::format("  samples: {} used, {} dropped for warm-up, {} missing{}\n",
                     d.why.samples_used, d.why.dropped_warmup, d.why.dropped_missing,
                     d.why.stale ? ", newest poll stale" : "");
  for (const auto& n : d.why.samples) {
    out += fmt::format("    {:<24} {:>10} {}{}\n", n.instance.empty() ? "?" : n.instance,
                       n.value ? fmt::format("{:.4g}", *n.value) : "-", n.use,
                       n.detail.empty() ? "" : ": " + n.detail);
  }
  if (d.why.poll_ts > 0 && d.why.samples.empty()) {
    if (d.why.last_sample_ts > 0) {
      out += fmt::format("    no sample in the newest poll; the last ones are from {} ({} s "
                         "before it, stale after {} s)\n",
                         core::iso8601_utc(d.why.last_sample_ts),
                         (d.why.poll_ts - d.why.last_sample_ts) / k_ms, d.why.stale_s);
    } else {
      out += "    no sample in the window the policy reads\n";
    }
  }
  if (!d.inputs.empty()) {
    out += "  values:";
    for (const auto& [name, value] : d.inputs) {
      out += fmt::format(" {}={:.4g}", name, value);
    }
    out += "\n";
  }
  out += fmt::format("  rule: {} proposed {}\n", d.why.rule.empty() ? "-" : d.why.rule,
                     d.why.proposed);
  for (const auto& r : d.why.rejected) {
    out += fmt::format("  not taken: {}\n", r);
  }
  for (const auto& c : d.why.clamps) {
    out += fmt::format("  clamp {}: {} -> {}{}\n", c.name, c.from, c.to,
                       c.detail.empty() ? "" : " (" + c.detail + ")");
  }
  if (d.why.schedule) {
    const auto& e = *d.why.schedule;
    out += fmt::format("  schedule: '{}' ({}) min {} max {}, since {}\n", e.cron, e.tz,
                       e.min_size, e.max_size, core::iso8601_utc(d.why.schedule_since));
  }
  return out;
}

core::Result<Decision> decision_from_json(std::string_view text)
{
  Decision d;
  try {
    const auto j = nlohmann::json::parse(text);
    if (!j.is_object()) {
      return core::fail(core::ErrorKind::state, "invalid decision explanation: not an object");
    }
    const auto action = j.value("action", std::string("hold"));
    d.action = action == "scale_out" ? Action::scale_out
               : action == "scale_in" ? Action::scale_in
                                      : Action::hold;
    d.from = j.value("from", 0);
    d.to = j.value("to", 0);
    d.reason = j.value("reason", std::string());
    if (j.contains("inputs")) {
      for (const auto& [name, value] : j["inputs"].items()) {
        d.inputs.emplace_back(name, value.is_number() ? value.get<double>()
                                                      : std::numeric_limits<double>::quiet_NaN());
      }
    }
    auto& why = d.why;
    if (j.contains("samples")) {
      const auto& s = j["samples"];
      why.samples_used = s.value("used", 0);
      why.dropped_warmup = s.value("dropped_warmup", 0);
      why.dropped_missing = s.value("dropped_missing", 0);
      why.stale = s.value("stale", false);
      why.poll_ts = s.value("poll_ts", Millis(0));
      why.last_sample_ts = s.value("last_sample_ts", Millis(0));
      why.stale_s = s.value("stale_after", 0);
      if (s.contains("list")) {
        for (const auto& n : s["list"]) {
          SampleNote note;
          note.instance = n.value("instance", std::string());
          if (n.contains("value") && n["value"].is_number()) {
            note.value = n["value"].get<double>();
          }
          note.use = n.value("use", std::string());
          note.detail = n.value("detail", std::string());
          why.samples.push_back(std::move(note));
        }
      }
    }
    why.rule = j.value("rule", std::string());
    why.proposed = j.value("proposed", d.to);
    if (j.contains("rejected")) {
      why.rejected = j["rejected"].get<std::vector<std::string>>();
    }
    if (j.contains("clamps")) {
      for (const auto& c : j["clamps"]) {
        why.clamps.push_back(Clamp{c.value("name", std::string()), c.value("from", 0),
                                   c.value("to", 0), c.value("detail", std::string())});
      }
    }
    if (j.contains("schedule") && j["schedule"].is_object()) {
      const auto& e = j["schedule"];
      why.schedule = ScheduleEntry{e.value("cron", std::string()), e.value("tz", std::string()),
                                   e.value("min", 0), e.value("max", 0)};
      why.schedule_since = e.value("since", Millis(0));
    }
  } catch (const nlohmann::json::exception& e) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("invalid decision explanation: {}", e.what()));
  }
  return d;
}

} // namespace policy
