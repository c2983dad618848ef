// The parts of the predictive rule's model (lib/policy/predictive.cpp): the polls it keeps,
// windows over them, the forecasters, and each forecaster's errors kept sorted. Private to
// lib/policy.
#pragma once

#include "policy/rule.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace policy::detail::forecast {

// floor, so that one idle minute followed by a busy one is a finite surprise.
constexpr double k_load_floor = 0.5;
// A trend forecast never assumes more than this growth over one horizon.
constexpr double k_max_trend = 3.0;
// Dropped polls and errors are erased from the front of their vectors in batches of at least
// this many, so that dropping stays linear.
constexpr size_t k_compact = 1024;

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

inline double floored(double load)
{
  return std::isnan(load) ? load : std::max(load, k_load_floor);
}

// What the model keeps of one poll.
struct Poll
{
  Millis ts = 0;
  double load = k_nan;  // in instances; NaN without a usable sample
  bool under = false;   // more load than instances: under-provisioned
};

// The polls the model has seen, by sequence number (the n-th poll fed), oldest dropped first.
class Polls
{
public:
  void push(const Poll& p) { m_v.push_back(p); }

  // Drop the polls older than `ts`.
  void drop_before(Millis ts)
  {
    while (m_first < end() && at(m_first).ts < ts) {
      ++m_first;
    }
    const size_t dead = m_first - m_base;
    if (dead >= k_compact && dead * 2 >= m_v.size()) {
      m_v.erase(m_v.begin(), m_v.begin() + std::ptrdiff_t(dead));
      m_base = m_first;
    }
  }

  size_t begin() const { return m_first; }
  size_t end() const { return m_base + m_v.size(); }
  bool empty() const { return begin() == end(); }
  const Poll& at(size_t seq) const { return m_v[seq - m_base]; }
  double load(size_t seq) const { return at(seq).load; }
  Millis ts(size_t seq) const { return at(seq).ts; }

  // Return the sequence number of the first kept poll at or after `ts`.
  size_t first_at(Millis ts) const
  {
    const auto from = m_v.begin() + std::ptrdiff_t(m_first - m_base);
    const auto it =
      std::lower_bound(from, m_v.end(), ts, [](const Poll& p, Millis v) { return p.ts < v; });
    return m_base + size_t(it - m_v.begin());
  }

private:
  std::vector<Poll> m_v;
  size_t m_base = 0;   // sequence number of m_v[0]
  size_t m_first = 0;  // of the oldest kept poll
};

// The polls in [t + from, t + to] (or (t + from, t + to] when `open`) for a moving t. Moving t
// forward only moves the ends forward, so a sweep costs one pass.
class Window
{
public:
  Window(const Polls& polls, Millis from, Millis to, bool open)
    : m_polls(&polls), m_from(from), m_to(to), m_open(open)
  {
  }

  void move_to(Millis t)
  {
    const Millis lo_ts = t + m_from + (m_open ? 1 : 0);
    const Millis hi_ts = t + m_to;
    if (!m_started) {
      m_lo = m_polls->first_at(lo_ts);
      m_hi = m_polls->first_at(hi_ts + 1);
      m_started = true;
      return;
    }
    // A window left behind by a gap longer than the polls kept starts at the oldest kept.
    m_lo = std::max(m_lo, m_polls->begin());
    m_hi = std::max(m_hi, m_lo);
    while (m_lo < m_polls->end() && m_polls->ts(m_lo) < lo_ts) {
      ++m_lo;
    }
    while (m_hi < m_polls->end() && m_polls->ts(m_hi) <= hi_ts) {
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
      const double v = m_polls->load(i);
      if (!std::isnan(v)) {
        acc = take_max ? std::max(acc, v) : acc + v;
        ++n;
      }
    }
    if (n == 0) {
      return k_nan;
    }
    return take_max ? acc : acc / n;
  }

  const Polls* m_polls;
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
  double base = k_nan;
};

// A way to forecast the load of the next horizon from what was known at a poll: the load then
// times a growth factor, the one seen over the horizon one season ago, the recent trend, or none.
class Forecaster
{
public:
  Forecaster(std::string name, const Polls& polls, Millis season, bool trend, Millis horizon,
             Millis smooth = 0)
    : m_name(std::move(name)),
      m_season(season),
      m_trend(trend),
      m_smooth(smooth),
      m_level(polls, -smooth, 0, true),
      m_then(polls, -season - 2 * k_poll_ms, -season, false),
      m_lead(polls, -season + horizon - k_poll_ms, -season + horizon, true),
      m_peak(polls, -season, -season + horizon, true),
      m_recent(polls, -2 * k_poll_ms, 0, false),
      m_before(polls, -horizon - 2 * k_poll_ms, -horizon, false)
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

// One forecaster's errors on one poll, at the lead poll and at the horizon's peak, as ratios
// (load-proportional noise, busy clusters), as differences (count noise, near-idle clusters) and
// as differences over the square root of the forecast (count noise).
enum Column { lead_ratio, lead_excess, peak_ratio, peak_excess, lead_z, peak_z, k_columns };

struct ErrorRec
{
  Millis ts = 0;
  std::array<double, k_columns> keys{};
  double actual = 0;    // the load of the lead poll
  double forecast = 0;  // its forecast
};

// Return the errors of a forecast of growth `g` made at a poll of load `base` (at `ts`), against
// the mean load of its lead poll and the peak of its horizon; nothing when one is unknown.
inline std::optional<ErrorRec> errors_of(Millis ts, double base, const Growth& g, double lead_load,
                                  double peak_load)
{
  const double level = std::isnan(g.base) ? base : g.base;
  if (std::isnan(g.peak) || std::isnan(base) || std::isnan(level) || std::isnan(peak_load)) {
    return std::nullopt;
  }
  // Until the lead poll has come, the peak so far stands for it.
  const double lead_actual = std::isnan(lead_load) ? peak_load : lead_load;
  const double lead_forecast = level * g.lead;
  const double peak_forecast = level * g.peak;
  ErrorRec e;
  e.ts = ts;
  e.keys = {floored(lead_actual) / floored(lead_forecast), lead_actual - lead_forecast,
            floored(peak_load) / floored(peak_forecast), peak_load - peak_forecast,
            (lead_actual - lead_forecast) / std::sqrt(floored(lead_forecast)),
            (peak_load - peak_forecast) / std::sqrt(floored(peak_forecast))};
  for (double k : e.keys) {
    if (std::isnan(k)) {
      return std::nullopt;  // a seasonal lead without polls: no error to learn from
    }
  }
  e.actual = lead_actual;
  e.forecast = lead_forecast;
  return e;
}

// The final errors of one forecaster on the polls of the lookback: in poll order (for the loss),
// and each column sorted (for its quantiles).
class Track
{
public:
  void add(const ErrorRec& e)
  {
    m_ts.push_back(e.ts);
    m_actual.push_back(e.actual);
    m_forecast.push_back(e.forecast);
    m_floored.push_back(floored(e.forecast));
    m_sqrt.push_back(std::sqrt(floored(e.forecast)));
    m_keys.push_back(e.keys);
    for (int c = 0; c < k_columns; ++c) {
      auto& s = m_sorted[size_t(c)];
      s.insert(std::upper_bound(s.begin(), s.end(), e.keys[size_t(c)]), e.keys[size_t(c)]);
    }
  }

  // Drop the errors of polls older than `ts`.
  void drop_before(Millis ts)
  {
    while (m_head < m_ts.size() && m_ts[m_head] < ts) {
      for (int c = 0; c < k_columns; ++c) {
        auto& s = m_sorted[size_t(c)];
        s.erase(std::lower_bound(s.begin(), s.end(), m_keys[m_head][size_t(c)]));
      }
      ++m_head;
    }
    if (m_head >= k_compact && m_head * 2 >= m_ts.size()) {
      for (auto* v : {&m_actual, &m_forecast, &m_floored, &m_sqrt}) {
        v->erase(v->begin(), v->begin() + std::ptrdiff_t(m_head));
      }
      m_ts.erase(m_ts.begin(), m_ts.begin() + std::ptrdiff_t(m_head));
      m_keys.erase(m_keys.begin(), m_keys.begin() + std::ptrdiff_t(m_head));
      m_head = 0;
    }
  }

  size_t size() const { return m_ts.size() - m_head; }
  const std::vector<double>& sorted(int c) const { return m_sorted[size_t(c)]; }
  const double* actual() const { return m_actual.data() + m_head; }
  const double* forecast() const { return m_forecast.data() + m_head; }
  const double* floored_forecast() const { return m_floored.data() + m_head; }
  const double* sqrt_forecast() const { return m_sqrt.data() + m_head; }

private:
  std::vector<Millis> m_ts;
  std::vector<double> m_actual;
  std::vector<double> m_forecast;
  std::vector<double> m_floored;  // floored(forecast)
  std::vector<double> m_sqrt;     // its square root
  std::vector<std::array<double, k_columns>> m_keys;
  size_t m_head = 0;  // the oldest kept
  std::array<std::vector<double>, k_columns> m_sorted;
};

// Return the k-th smallest (from 0) of sorted `a` and sorted `b` together.
inline double kth_of(const std::vector<double>& a, const std::vector<double>& b, size_t k)
{
  const size_t na = a.size();
  const size_t nb = b.size();
  // j of the k + 1 smallest come from b, the rest from a.
  const size_t j_lo = k + 1 > na ? k + 1 - na : 0;
  const size_t j_hi = std::min(nb, k + 1);
  for (size_t j = j_lo; j <= j_hi; ++j) {
    const size_t i = k + 1 - j;
    const bool a_fits = i == 0 || j == nb || a[i - 1] <= b[j];
    const bool b_fits = j == 0 || i == na || b[j - 1] <= a[i];
    if (a_fits && b_fits) {
      return std::max(i > 0 ? a[i - 1] : -k_inf, j > 0 ? b[j - 1] : -k_inf);
    }
  }
  return k_nan;  // k out of range: not reached
}

// Return the index of the q-quantile of n values (the smallest value at or above a share q).
inline size_t quantile_index(size_t n, double q)
{
  return std::min(n - 1, size_t(std::max(0.0, std::ceil(q * double(n)) - 1)));
}

// Return the pinball (quantile) loss of provisioning `provided` for `actual` at level q: q times
// the shortfall, or 1 - q times the excess. Written as a max (the larger of the two is the one
// whose sign is right), which compiles without a branch: the loss sums are the inner loop of a
// decision, and whether a forecast fell short is a coin toss the branch predictor loses.
inline double pinball(double actual, double provided, double q)
{
  const double d = actual - provided;
  return std::max(q * d, (q - 1) * d);
}

} // namespace policy::detail::forecast
