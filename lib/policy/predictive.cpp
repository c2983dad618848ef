// The predictive rule: forecast the peak load of the horizon, with a margin learnt from
// past errors.
#include "policy/rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace policy::detail {

namespace {

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

  // Return the cached loads of polls [lo, hi) when one slice holds them all, else nullptr.
  const double* cached(size_t lo, size_t hi) const
  {
    for (const auto& s : m_slices) {
      if (lo >= s.first && hi <= s.first + s.loads.size()) {
        return s.loads.data() + (lo - s.first);
      }
    }
    return nullptr;
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
    const auto add = [&](double v) {
      if (!std::isnan(v)) {
        acc = take_max ? std::max(acc, v) : acc + v;
        ++n;
      }
    };
    // The same sum in the same order either way; the cached span is the common case.
    if (const double* v = m_loads.cached(m_lo, m_hi)) {
      for (size_t i = 0; i < m_hi - m_lo; ++i) {
        add(v[i]);
      }
    } else {
      for (size_t i = m_lo; i < m_hi; ++i) {
        add(m_loads.at(i));
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
  size_t n = 0;  // how many of each are set: they are sized for every poll of the lookback
  Growth now{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};

  // Size each for `polls`; add() then writes in place (a push_back per value was an eighth of
  // the time of a decision).
  void size_for(size_t polls)
  {
    for (auto* v : columns()) {
      v->resize(polls);
    }
  }
  void add(double lr, double le, double pr, double pe, double lz, double pz, double la, double lf)
  {
    lead_ratio[n] = lr;
    lead_excess[n] = le;
    peak_ratio[n] = pr;
    peak_excess[n] = pe;
    lead_z[n] = lz;
    peak_z[n] = pz;
    lead_actual[n] = la;
    lead_forecast[n] = lf;
    ++n;
  }
  // Drop the unset tail.
  void trim()
  {
    for (auto* v : columns()) {
      v->resize(n);
    }
  }

private:
  std::array<std::vector<double>*, 8> columns()
  {
    return {&lead_ratio, &lead_excess, &peak_ratio, &peak_excess, &lead_z, &peak_z, &lead_actual,
            &lead_forecast};
  }
};

// Return the pinball (quantile) loss of provisioning `provided` for `actual` at level q.
double pinball(double actual, double provided, double q)
{
  return actual > provided ? q * (actual - provided) : (1 - q) * (provided - actual);
}

// Reorders `v` (its order is not kept: only the multiset matters).
double quantile_of(std::vector<double>& v, double q)
{
  const auto k = std::min(v.size() - 1,
                          size_t(std::max(0.0, std::ceil(q * double(v.size())) - 1)));
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(k), v.end());
  return v[k];
}

} // namespace

Proposal propose_predictive(const History& h, const PolicyConfig& c, Millis now)
{
  Proposal p = hold_proposal(h, "forecast_within_capacity", "forecast");
  const Millis horizon = Millis(horizon_s(c)) * k_ms;
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
  const size_t first = loads.first_at(now - lookback);
  for (auto& e : errors) {
    e.size_for(h.ticks.size() - first);
  }
  Window lead(loads, horizon - k_poll_ms, horizon, true);
  Window peak(loads, 0, horizon, true);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  int polls = 0;
  int under_polls = 0;
  for (size_t i = first; i <= last; ++i) {
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
      e.add(floored(lead_actual) / floored(lead_forecast), lead_actual - lead_forecast,
            floored(peak_load) / floored(peak_forecast), peak_load - peak_forecast,
            (lead_actual - lead_forecast) / std::sqrt(floored(lead_forecast)),
            (peak_load - peak_forecast) / std::sqrt(floored(peak_forecast)), lead_actual,
            lead_forecast);
    }
  }
  for (auto& e : errors) {
    e.trim();
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

const std::vector<Key>& predictive_keys()
{
  static const std::vector<Key> keys = [] {
    std::vector<Key> k{
      number_key("capacity", &PolicyConfig::capacity, {0, k_inf, true},
                 "metric value of one fully loaded instance"),
      number_key("quantile", &PolicyConfig::quantile, {0.5, 1},
                 "share of past forecast errors the margin covers ..."),
      number_key("quantile_low", &PolicyConfig::quantile_low, {0.5, 1},
                 "... or only this share while under_budget is unspent (at most quantile)"),
      number_key("under_budget", &PolicyConfig::under_budget, {0, 100},
                 "percent of lookback polls allowed over capacity"),
      integer_key("horizon", &PolicyConfig::horizon_s, {0, INT_MAX},
                  "seconds ahead capacity must cover; 0 (the default): the boot time of the "
                  "cluster's instances (decide: measured, simulate: --boot-delay) + one poll, at "
                  "least 240"),
      integer_key("lookback", &PolicyConfig::lookback_s, {600, INT_MAX},
                  "seconds of recent past whose forecast errors set the margin"),
      integer_key("hold", &PolicyConfig::hold_s, {0, INT_MAX},
                  "seconds: scale in only below the highest load of this window"),
      text_key("scale_in_cover", &PolicyConfig::scale_in_cover, "peak lead",
               "what a scale-in must cover: the horizon's peak, or the lead poll"),
      integer_key("seasons", nullptr, {3600, 35 * 86400},
                  "seasonal lags in seconds tried as forecasts"),
    };
    k.back().type = KeyType::integers;
    k.back().integers = &PolicyConfig::seasons_s;
    return k;
  }();
  return keys;
}

core::Result<void> check_predictive(const PolicyConfig& c)
{
  if (c.quantile_low > c.quantile) {
    return usage(fmt::format("quantile_low {} must be in [0.5, quantile {}]", c.quantile_low,
                             c.quantile));
  }
  return {};
}

Millis predictive_window(const PolicyConfig& c)
{
  int season = 0;
  for (int s : c.seasons_s) {
    season = std::max(season, s);
  }
  return std::max(Millis(season + c.lookback_s + 2 * horizon_s(c) + c.hold_s) * k_ms
                    + 4 * k_poll_ms,
                  cooldown_ms(c));
}

std::vector<HistoryRange> predictive_ranges(const PolicyConfig& c, Millis window)
{
  // The recent past (lookback, cooldowns, flap budget), then each seasonal lag's slice.
  const Millis margin = 4 * k_poll_ms;
  const Millis recent =
    std::max({Millis(c.lookback_s + 2 * horizon_s(c) + c.hold_s) * k_ms + margin, cooldown_ms(c),
              c.flap_budget > 0 ? k_hour_ms : 0});
  std::vector<HistoryRange> out;
  for (int s : c.seasons_s) {
    const Millis lag = Millis(s) * k_ms;
    out.push_back(HistoryRange{std::min(window, lag + recent),
                               std::max<Millis>(0, lag - Millis(horizon_s(c)) * k_ms - margin)});
  }
  std::sort(out.begin(), out.end(),
            [](const HistoryRange& a, const HistoryRange& b) { return a.from_ms > b.from_ms; });
  out.push_back(HistoryRange{recent, 0});
  return out;
}

} // namespace policy::detail
