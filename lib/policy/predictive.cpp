// The predictive rule: forecast the peak load of the horizon, with a margin learnt from
// past errors.
//
// The rule is a model fed poll by poll: each poll's load, each forecaster's growth at it, and,
// once the poll's horizon is over, each forecaster's errors on it, kept sorted. decide() builds
// the model from the history it is given; a replay (simulate) keeps it in the history's memo and
// feeds it only the polls added since its last decision, so a decision costs the same whatever
// the lookback. Both see the same errors in the same order and give the same decision.
#include "policy/forecast.hpp"
#include "policy/rule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <optional>

namespace policy::detail {

using namespace forecast;

namespace {

// Fewer past forecasts than this and the error quantile means little: react instead.
constexpr size_t k_min_residuals = 60;
// The reactive fallback scales out for the load at this share of capacity.
constexpr double k_fallback_utilisation = 0.6;
// Smoothed forecasters: the mean load of this many recent polls. On small request counts one
// poll is noisy (Poisson noise of 15 % at 45 requests a minute); a mean is a better base.
constexpr int k_smooth_polls[] = {5, 15};
// The margin controller: the share of the lookback's polls that were under-provisioned, each
// weighed by 2^(-age / half-life). A miss weighs fully at once, so the quantile rises at the
// next decision, and fades over hours, so it relaxes slowly. The half-life, the ceiling and the
// overspend below were chosen on the first half of each trace only (docs/BENCHMARKS.md, "Decisions
// that generalize"); the second halves are held out.
constexpr Millis k_margin_half_life = 2 * 3'600'000;
// Past its budget the quantile goes on rising, to this at k_overspend times the budget: a miss
// on a ramp must reach the errors of the ramp itself.
constexpr double k_quantile_ceiling = 0.97;
constexpr double k_overspend = 4.0;
// The memory of recurring surges: the growth over the horizon after this time of day on each of
// the last days, and after this time of the week in each of the last weeks.
constexpr int k_daily_lags[] = {1, 2, 3};
constexpr int k_weekly_lags[] = {7, 14};
constexpr Millis k_day = 86'400'000;
// A surge: the horizon's peak is at least this times the load before it, and one instance more.
constexpr double k_surge_growth = 1.5;
constexpr double k_surge_rise = 1.0;
// A daily recurrence: a surge on at least this many of the last days (a weekly one: in each of
// the last weeks).
constexpr size_t k_daily_min = 2;

} // namespace

// The predictive rule's state for one policy: see the top of this file.
class PredictiveModel
{
public:
  explicit PredictiveModel(const PolicyConfig& c)
    : m_c(c),
      m_horizon(Millis(horizon_s(c)) * k_ms),
      m_lookback(Millis(c.lookback_s) * k_ms),
      m_keep(predictive_window(c) + 4 * k_poll_ms),
      m_fin_lead(m_polls, m_horizon - k_poll_ms, m_horizon, true),
      m_fin_peak(m_polls, 0, m_horizon, true)
  {
    m_forecasters.reserve(2 + std::size(k_smooth_polls) + c.seasons_s.size());
    m_forecasters.emplace_back("naive", m_polls, 0, false, m_horizon);
    m_forecasters.emplace_back("trend", m_polls, 0, true, m_horizon);
    for (int m : k_smooth_polls) {
      m_forecasters.emplace_back(fmt::format("mean_{}", m), m_polls, 0, false, m_horizon,
                                 Millis(m) * k_poll_ms);
    }
    for (int s : c.seasons_s) {
      m_forecasters.emplace_back(fmt::format("season_{}s", s), m_polls, Millis(s) * k_ms, false,
                                 m_horizon);
    }
    m_tracks.resize(m_forecasters.size());
    for (int days : k_daily_lags) {
      m_recurrence.push_back(Recurrence{days, false, m_polls, m_horizon});
    }
    for (int days : k_weekly_lags) {
      m_recurrence.push_back(Recurrence{days, true, m_polls, m_horizon});
    }
  }

  PredictiveModel(const PredictiveModel&) = delete;
  PredictiveModel& operator=(const PredictiveModel&) = delete;

  const PolicyConfig& config() const { return m_c; }
  Millis last_ts() const { return m_last_ts; }
  Millis last_now() const { return m_last_now; }

  // Feed poll `t`, newer than every poll fed before. With `track`, each forecaster forecasts
  // from it, to be scored once its horizon is over (a replay tracks every poll; decide() only
  // those of the lookback).
  void feed(const Tick& t, bool track)
  {
    const auto o = observe(t, m_c);
    Poll p;
    p.ts = t.ts;
    // Instances without a usable sample are assumed as loaded as the others.
    p.load = o.ok() ? o.mean() * o.instances / m_c.capacity : k_nan;
    p.under = o.ok() && p.load > double(t.samples.size()) + k_eps;
    m_polls.push(p);
    m_last_ts = t.ts;
    const size_t seq = m_polls.end() - 1;
    // Score the polls whose horizon is over now.
    while (!m_pending.empty() && m_pending.front().ts + m_horizon <= t.ts
           && m_pending.front().seq < seq) {
      finalize(m_pending.front());
      m_pending.pop_front();
    }
    if (track) {
      Pending pending{seq, t.ts, p.load, {}};
      pending.growth.reserve(m_forecasters.size());
      for (auto& f : m_forecasters) {
        pending.growth.push_back(f.growth(t.ts));
      }
      m_pending.push_back(std::move(pending));
    }
    m_polls.drop_before(t.ts - m_keep);
  }

  Proposal propose(const History& h, Millis now, bool explain);

private:
  // The growth over the horizon after the newest poll's time, `days` ago: the peak of the
  // horizon then over the load just before.
  struct Recurrence
  {
    Recurrence(int days_, bool weekly_, const Polls& polls, Millis horizon)
      : days(days_),
        weekly(weekly_),
        before(polls, -days_ * k_day - 2 * k_poll_ms, -days_ * k_day, false),
        peak(polls, -days_ * k_day, -days_ * k_day + horizon, true)
    {
    }

    int days;
    bool weekly;
    Window before;
    Window peak;
    double growth = k_nan;
    bool surge = false;
  };

  // What the memory of recurring surges expects over the horizon after the newest poll.
  struct Recalled
  {
    double growth = k_nan;  // NaN: no recurring surge
    double level = k_nan;   // the load it grows from
    std::string text;       // for people
  };
  Recalled recall(bool explain);
  double weighted_under_share(Millis now, Millis from, int& polls, int& under_polls) const;

  struct Pending
  {
    size_t seq = 0;
    Millis ts = 0;
    double base = k_nan;
    std::vector<Growth> growth;  // each forecaster's
  };

  void finalize(const Pending& p)
  {
    m_fin_lead.move_to(p.ts);
    m_fin_peak.move_to(p.ts);
    const double lead_load = m_fin_lead.mean();
    const double peak_load = m_fin_peak.max();
    for (size_t f = 0; f < m_forecasters.size(); ++f) {
      if (const auto e = errors_of(p.ts, p.base, p.growth[f], lead_load, peak_load)) {
        m_tracks[f].add(*e);
      }
    }
  }

  PolicyConfig m_c;
  Millis m_horizon;
  Millis m_lookback;
  Millis m_keep;  // how long polls are kept: every window reaches no further back
  Polls m_polls;
  Window m_fin_lead;  // the lead poll and the horizon of the oldest pending poll
  Window m_fin_peak;
  std::vector<Forecaster> m_forecasters;
  std::vector<Track> m_tracks;     // each forecaster's final errors
  std::deque<Pending> m_pending;   // tracked polls whose horizon is not over
  std::vector<Recurrence> m_recurrence;
  Millis m_last_ts = std::numeric_limits<Millis>::min();
  Millis m_last_now = std::numeric_limits<Millis>::min();
};

Proposal PredictiveModel::propose(const History& h, Millis now, bool explain)
{
  Proposal p = hold_proposal(h, "forecast_within_capacity", "forecast");
  m_last_now = now;
  const Millis from = now - m_lookback;
  for (auto& t : m_tracks) {
    t.drop_before(from);
  }
  while (m_pending.size() > 1 && m_pending.front().ts < from) {
    m_pending.pop_front();
  }
  const size_t last = m_polls.end() - 1;
  const double load = m_polls.load(last);
  Window hold(m_polls, -Millis(m_c.hold_s) * k_ms, 0, true);
  hold.move_to(now);
  const double recent_peak = std::max(load, hold.max());
  p.inputs.emplace_back("load", load);
  p.inputs.emplace_back("recent_peak", recent_peak);

  // Polls whose horizon is not over yet count with what was seen so far, so a surge raises the
  // margin at once: their errors are provisional, each forecaster's in `provisional`.
  const size_t nf = m_forecasters.size();
  std::vector<std::vector<ErrorRec>> provisional(nf);
  const bool have_now = !m_pending.empty() && m_pending.back().seq == last;
  if (!m_pending.empty()) {
    Window lead = m_fin_lead;
    Window peak = m_fin_peak;
    for (const auto& pending : m_pending) {
      if (pending.seq == last || pending.ts < from) {
        continue;
      }
      lead.move_to(pending.ts);
      peak.move_to(pending.ts);
      const double lead_load = lead.mean();
      const double peak_load = peak.max();
      for (size_t f = 0; f < nf; ++f) {
        if (const auto e = errors_of(pending.ts, pending.base, pending.growth[f], lead_load,
                                     peak_load)) {
          provisional[f].push_back(*e);
        }
      }
    }
  }
  int polls = 0;
  int under_polls = 0;
  const double under_share = weighted_under_share(now, from, polls, under_polls);
  // A candidate is a forecaster with an error model. Its cost is the pinball loss of its
  // margined forecasts over the lookback (the proper score of a quantile forecast: it weighs
  // how far each miss fell short, not only how often); the cheapest wins. It scales out to cover
  // the lead poll and scales in only below the peak of the horizon after the recent peak.
  struct Candidate
  {
    size_t forecaster = 0;
    const char* model = "";
    double cost = 0;
    double need = 0;
    double need_hold = 0;
    double growth = 0;
    double margin = 0;
  };
  // The margin controller spends an under-provisioning budget: with no poll over capacity in
  // the lookback the margin covers quantile_low of past errors; as the (recency-weighted) share
  // of such polls reaches under_budget it rises to quantile, and past it on to
  // k_quantile_ceiling. Risk is taken where it is cheap and stops as soon as it shows up.
  const double spent = m_c.under_budget > 0 ? under_share / m_c.under_budget : 1.0;
  const double ceiling = std::max(m_c.quantile, k_quantile_ceiling);
  const double q =
    spent <= 1 ? m_c.quantile_low + (m_c.quantile - m_c.quantile_low) * spent
               : m_c.quantile
                   + (ceiling - m_c.quantile) * std::min(1.0, (spent - 1) / (k_overspend - 1));
  p.inputs.emplace_back("under_share", under_share);
  p.inputs.emplace_back("quantile", q);
  if (explain) {
    p.forecast.push_back(fmt::format(
      "margin: quantile {:.3f} of past errors: {:.2f} % of the lookback's polls were over "
      "capacity ({} of {}, each weighed by its age, half-life {} min), budget {} % "
      "(quantile_low {} at 0, quantile {} at the budget, up to {} at {} times it)",
      q, under_share, under_polls, polls, k_margin_half_life / 60'000, m_c.under_budget,
      m_c.quantile_low, m_c.quantile, ceiling, k_overspend));
  }
  std::vector<Candidate> candidates;
  candidates.reserve(3 * nf);
  std::array<std::vector<double>, k_columns> extra;
  for (size_t f = 0; f < nf; ++f) {
    const auto& track = m_tracks[f];
    const auto& prov = provisional[f];
    const size_t n = track.size() + prov.size();
    const Growth g = have_now ? m_pending.back().growth[f] : Growth{k_nan, k_nan};
    if (n < k_min_residuals || std::isnan(g.peak)) {
      if (explain) {
        p.rejected.push_back(fmt::format("{}: {} past forecasts, {} needed",
                                         m_forecasters[f].name(), n, k_min_residuals));
      }
      continue;
    }
    std::array<double, k_columns> qv{};
    const size_t k = quantile_index(n, q);
    for (int c = 0; c < k_columns; ++c) {
      auto& e = extra[size_t(c)];
      e.clear();
      for (const auto& r : prov) {
        e.push_back(r.keys[size_t(c)]);
      }
      std::sort(e.begin(), e.end());
      qv[size_t(c)] = kth_of(track.sorted(c), e, k);
    }
    const double ratio = qv[lead_ratio];
    const double excess = qv[lead_excess];
    const double z = qv[lead_z];
    double loss_ratio = 0;
    double loss_excess = 0;
    double loss_z = 0;
    const double* actual = track.actual();
    const double* forecast = track.forecast();
    const double* fl = track.floored_forecast();
    const double* sq = track.sqrt_forecast();
    for (size_t j = 0; j < track.size(); ++j) {
      loss_ratio += pinball(actual[j], fl[j] * ratio, q);
      loss_excess += pinball(actual[j], forecast[j] + excess, q);
      loss_z += pinball(actual[j], forecast[j] + z * sq[j], q);
    }
    for (const auto& r : prov) {
      loss_ratio += pinball(r.actual, floored(r.forecast) * ratio, q);
      loss_excess += pinball(r.actual, r.forecast + excess, q);
      loss_z += pinball(r.actual, r.forecast + z * std::sqrt(floored(r.forecast)), q);
    }
    const double count = double(n);
    // A smoothed forecaster starts from its mean level, the others from the load now and, to
    // scale in, from the recent peak.
    const bool smoothed = !std::isnan(g.base);
    const double level = smoothed ? g.base : load;
    const double level_hold = smoothed ? g.base : recent_peak;
    const double lead_f = level * g.lead;
    // To scale in, cover the horizon's peak with the peak errors, or (scale_in_cover "lead") the
    // lead poll from the recent level with the lead errors: the peak errors hold the noise of
    // the highest of several polls on top of the recent peak, which already holds it once.
    const bool cover_lead = m_c.scale_in_cover == "lead";
    const double peak_f = level_hold * (cover_lead ? g.lead : g.peak);
    const double hold_ratio = cover_lead ? ratio : qv[peak_ratio];
    const double hold_excess = cover_lead ? excess : qv[peak_excess];
    const double hold_z = cover_lead ? z : qv[peak_z];
    candidates.push_back(Candidate{f, "*ratio", loss_ratio / count, floored(lead_f) * ratio,
                                   floored(peak_f) * hold_ratio, g.lead, ratio});
    candidates.push_back(Candidate{f, "+excess", loss_excess / count, lead_f + excess,
                                   peak_f + hold_excess, g.lead, excess});
    candidates.push_back(Candidate{f, "+sqrt", loss_z / count,
                                   lead_f + z * std::sqrt(floored(lead_f)),
                                   peak_f + hold_z * std::sqrt(floored(peak_f)), g.lead, z});
  }
  const Candidate* best = nullptr;
  for (const auto& c : candidates) {
    if (!best || c.cost < best->cost) {
      best = &c;
    }
  }
  const auto name_of = [&](const Candidate& c) {
    return m_forecasters[c.forecaster].name() + c.model;
  };
  if (explain) {
    for (const auto& c : candidates) {
      if (&c != best) {
        p.rejected.push_back(fmt::format("{}: past loss {:.4f}, not below {}'s {:.4f}",
                                         name_of(c), c.cost, name_of(*best), best->cost));
      }
    }
  }
  double need_now = 0;
  double need_hold = 0;
  if (best) {
    need_now = best->need;
    need_hold = best->need_hold;
    p.rule = "forecast_" + name_of(*best);
    p.inputs.emplace_back("growth", best->growth);
    p.inputs.emplace_back("margin", best->margin);
    p.inputs.emplace_back("past_loss", best->cost);
  } else {
    // Too few past forecasts to choose a forecaster (a new cluster's first hour, a short
    // trace): scale out for the load at k_fallback_utilisation, and scale in no lower than the
    // highest load seen in the lookback. With no pattern learnt yet, shrinking after each surge
    // meets the next one short: on the on/off Azure trace that missed 5 to 8 ticks of 57 and
    // cost more than holding what was seen, which misses only the first surge's boot
    // (bench/peak_hold_floor.py, docs/BENCHMARKS.md).
    Window seen(m_polls, -m_lookback, 0, true);
    seen.move_to(now);
    const double seen_peak = std::max(load, seen.max());
    p.inputs.emplace_back("seen_peak", seen_peak);
    need_now = load / k_fallback_utilisation;
    need_hold = seen_peak;
    p.rule = "reactive_fallback";
  }
  // A surge that came at this time on the last days or weeks is expected again.
  const auto recalled = recall(explain);
  if (!std::isnan(recalled.growth)) {
    const double need = recalled.level * recalled.growth;
    p.inputs.emplace_back("recurrence_growth", recalled.growth);
    p.inputs.emplace_back("recurrence_need", need);
    if (need > need_now) {
      need_now = need;
      p.rule += "+recurrence";
    }
    need_hold = std::max(need_hold, need);
  }
  if (explain) {
    p.forecast.push_back(recalled.text);
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
  } else if (explain) {
    p.rejected.push_back(fmt::format("scale-out: need {} <= desired {}; scale-in: need {} over "
                                     "the hold window >= desired {}",
                                     out, h.desired, in, h.desired));
  }
  return p;
}

double PredictiveModel::weighted_under_share(Millis now, Millis from, int& polls,
                                             int& under_polls) const
{
  // Newest first: each weight is the one before times 2^(-gap / half-life), and polls come at
  // one period, so exp2 runs once per distinct gap.
  double weight = 1;
  double all = 0;
  double under = 0;
  Millis at = now;
  Millis gap = -1;
  double factor = 1;
  const size_t first = m_polls.first_at(from);
  for (size_t i = m_polls.end(); i > first; --i) {
    const auto& poll = m_polls.at(i - 1);
    if (at - poll.ts != gap) {
      gap = at - poll.ts;
      factor = std::exp2(-double(gap) / double(k_margin_half_life));
    }
    weight *= factor;
    at = poll.ts;
    if (!std::isnan(poll.load)) {
      ++polls;
      all += weight;
      if (poll.under) {
        ++under_polls;
        under += weight;
      }
    }
  }
  return all > 0 ? 100.0 * under / all : 0.0;
}

PredictiveModel::Recalled PredictiveModel::recall(bool explain)
{
  Recalled r;
  const size_t last = m_polls.end() - 1;
  const Millis t = m_polls.ts(last);
  std::vector<double> daily;
  std::vector<double> weekly;
  bool every_week = true;
  for (auto& lag : m_recurrence) {
    lag.before.move_to(t);
    lag.peak.move_to(t);
    const double before = lag.before.mean();
    const double peak = lag.peak.max();
    lag.growth = std::isnan(before) || std::isnan(peak) ? k_nan : floored(peak) / floored(before);
    lag.surge = lag.growth >= k_surge_growth && peak - before >= k_surge_rise;
    if (lag.weekly) {
      every_week = every_week && lag.surge;
      if (lag.surge) {
        weekly.push_back(lag.growth);
      }
    } else if (lag.surge) {
      daily.push_back(lag.growth);
    }
  }
  // The growth it expects is the least of the surges that make the recurrence: the k-th largest
  // of the daily ones, the smallest of the weekly ones.
  double daily_growth = k_nan;
  if (daily.size() >= k_daily_min) {
    std::sort(daily.begin(), daily.end(), std::greater<>());
    daily_growth = daily[k_daily_min - 1];
  }
  const double weekly_growth =
    every_week && !weekly.empty() ? *std::min_element(weekly.begin(), weekly.end()) : k_nan;
  r.growth = std::isnan(daily_growth) ? weekly_growth
             : std::isnan(weekly_growth) ? daily_growth
                                         : std::max(daily_growth, weekly_growth);
  // It grows from the mean load of the last three polls, as each day's did.
  Window level(m_polls, -2 * k_poll_ms, 0, false);
  level.move_to(t);
  r.level = floored(level.mean());
  if (std::isnan(r.level)) {
    r.growth = k_nan;
  }
  if (explain) {
    std::string seen;
    for (const auto& lag : m_recurrence) {
      seen += fmt::format("{}{} d ago {}{}", seen.empty() ? "" : ", ", lag.days,
                          std::isnan(lag.growth) ? "-" : fmt::format("x{:.2f}", lag.growth),
                          lag.surge ? " (surge)" : "");
    }
    const auto rule = fmt::format(
      "a surge (x{} and one instance more) on {} of the last {} days or in each of the last {} "
      "weeks",
      k_surge_growth, k_daily_min, std::size(k_daily_lags), std::size(k_weekly_lags));
    r.text = std::isnan(r.growth)
               ? fmt::format("recurrence: none: the horizon after this time grew {}; a "
                             "recurrence is {}",
                             seen, rule)
               : fmt::format("recurrence: x{:.2f} from load {:.2f} expected: the horizon after "
                             "this time grew {}; a recurrence is {}",
                             r.growth, r.level, seen, rule);
  }
  return r;
}

} // namespace policy::detail

namespace policy {

struct Memo
{
  bool explain = true;
  std::optional<detail::PredictiveModel> predictive;
};

std::shared_ptr<Memo> make_memo(bool explain)
{
  auto m = std::make_shared<Memo>();
  m->explain = explain;
  return m;
}

} // namespace policy

namespace policy::detail {

Proposal propose_predictive(const History& h, const PolicyConfig& c, Millis now)
{
  const Millis lookback_from = now - Millis(c.lookback_s) * k_ms;
  if (h.memo) {
    // A replay: feed the model the polls added since its last decision. A model of another
    // policy, a time before its last decision's or polls that do not follow its last one start
    // it afresh.
    auto& model = h.memo->predictive;
    if (model && (!(model->config() == c) || now < model->last_now()
                  || h.ticks.back().ts < model->last_ts())) {
      model.reset();
    }
    if (!model) {
      model.emplace(c);
    }
    const auto it = std::upper_bound(h.ticks.begin(), h.ticks.end(), model->last_ts(),
                                     [](Millis v, const Tick& t) { return v < t.ts; });
    for (auto t = it; t != h.ticks.end(); ++t) {
      model->feed(*t, true);
    }
    return model->propose(h, now, h.memo->explain);
  }
  PredictiveModel model(c);
  for (size_t i = 0; i < h.ticks.size(); ++i) {
    model.feed(h.ticks[i], h.ticks[i].ts >= lookback_from || i + 1 == h.ticks.size());
  }
  return model.propose(h, now, true);
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
  // The memory of recurring surges reaches back its longest lag.
  int season = std::max(k_daily_lags[std::size(k_daily_lags) - 1],
                        k_weekly_lags[std::size(k_weekly_lags) - 1])
               * int(k_day / k_ms);
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
  // The memory of recurring surges: the horizon after each of its lags, and the polls before.
  std::vector<int> lags(std::begin(k_daily_lags), std::end(k_daily_lags));
  lags.insert(lags.end(), std::begin(k_weekly_lags), std::end(k_weekly_lags));
  for (int days : lags) {
    const Millis lag = days * k_day;
    out.push_back(HistoryRange{std::min(window, lag + 2 * k_poll_ms + margin),
                               std::max<Millis>(0, lag - Millis(horizon_s(c)) * k_ms - margin)});
  }
  std::sort(out.begin(), out.end(),
            [](const HistoryRange& a, const HistoryRange& b) { return a.from_ms > b.from_ms; });
  out.push_back(HistoryRange{recent, 0});
  return out;
}

} // namespace policy::detail
