// The common frame of every rule: bounds, missing data, cooldowns, flap budget, and the history
// a decision reads.
#include "policy/policy.hpp"

#include "core/enum_names.hpp"
#include "policy/rule.hpp"
#include "policy/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace policy {

namespace detail {

namespace {

bool warming(const InstanceSample& s, Millis ts, const PolicyConfig& c)
{
  return c.warmup_s > 0 && s.in_service_since > 0
         && ts - s.in_service_since < Millis(c.warmup_s) * k_ms;
}

} // namespace

Observation observe(const Tick& t, const PolicyConfig& c)
{
  Observation o;
  o.instances = int(t.samples.size());
  for (const auto& s : t.samples) {
    if (!s.value || !load_in_range(*s.value)) {
      ++o.missing;  // NaN, negative and huge values are rejected as if missing
      o.stale += !s.value && s.missing == Missing::stale ? 1 : 0;
    } else if (warming(s, t.ts, c)) {
      ++o.warmup;
    } else {
      ++o.used;
      o.sum += *s.value;
    }
  }
  return o;
}


std::vector<SampleNote> note_samples(const Tick& t, const PolicyConfig& c)
{
  std::vector<SampleNote> out;
  out.reserve(t.samples.size());
  for (const auto& s : t.samples) {
    SampleNote n{s.instance, s.value, "used", ""};
    if (!s.value && s.missing == Missing::stale) {
      n.use = "stale";
      n.detail = "the source's sample was older than max_age";
    } else if (!s.value && s.missing == Missing::out_of_range) {
      n.use = "rejected";
      n.detail = "the source's number was out of range";
    } else if (!s.value) {
      n.use = "missing";
      n.detail = "no value in this poll";
    } else if (!load_in_range(*s.value)) {
      n.use = "rejected";
      n.value = std::nullopt;  // NaN has no JSON form; the detail says what it was
      n.detail =
        fmt::format("value {} is not a finite number >= 0 and <= {}", *s.value, k_max_load);
    } else if (warming(s, t.ts, c)) {
      n.use = "warmup";
      n.detail = fmt::format("in service {} s, warm-up {} s", (t.ts - s.in_service_since) / k_ms,
                             c.warmup_s);
    }
    out.push_back(std::move(n));
  }
  return out;
}


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


Proposal hold_proposal(const History& h, std::string reason, std::string rule)
{
  Proposal p;
  p.to = h.desired;
  p.reason = std::move(reason);
  p.rule = std::move(rule);
  return p;
}

std::vector<const Tick*> last_ticks(const History& h, size_t n, Millis since)
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

core::Result<void> usage(std::string message)
{
  return core::fail(core::ErrorKind::usage, std::move(message));
}

const std::vector<Rule>& rules()
{
  static const std::vector<Rule> table{
    Rule{Kind::threshold, "threshold", propose_threshold, {mark_keys}, [](PolicyConfig&) {},
         check_marks, marks_window, nullptr},
    Rule{Kind::step, "step", propose_step, {mark_keys, step_keys}, [](PolicyConfig&) {},
         check_step, marks_window, nullptr},
    Rule{Kind::target, "target", propose_target, {target_keys},
         [](PolicyConfig& c) { c.cooldown_s = 0; }, nullptr, target_window, nullptr},
    Rule{Kind::predictive, "predictive", propose_predictive, {predictive_keys},
         [](PolicyConfig& c) { c.cooldown_s = 0; }, check_predictive, predictive_window,
         predictive_ranges},
  };
  return table;
}

const Rule& rule_of(Kind kind)
{
  return rules().at(static_cast<size_t>(kind));
}

} // namespace detail

namespace {

using namespace detail;

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
                  newest.warmup > 0 && newest.missing == 0 ? "warming_up"
                                                           : missing_reason(newest.stale));
  }
  Proposal p = rule_of(c.kind).propose(h, c, now);
  why.rule = p.rule;
  why.proposed = p.to;
  why.rejected = std::move(p.rejected);
  why.forecast = std::move(p.forecast);
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
    // Never scale in on missing data: stale data is no evidence of low load.
    clamp("missing_data", h.desired, missing_reason(newest.stale));
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
    const auto changes =
      std::count_if(h.actions.begin(), h.actions.end(), [&](const PastAction& a) {
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

Decision decide(const History& history, const PolicyConfig& given, Millis now)
{
  // A predictive horizon left to the boot time covers the history's (decide: measured).
  const auto config = history.boot ? with_boot_time(given, *history.boot) : given;
  const auto bounds = bounds_at(config, now);
  Decision d = decide_kind(history, config, now, bounds);
  if (config.kind == Kind::predictive) {
    d.why.horizon_s = horizon_s(config);
    if (given.horizon_s == 0) {
      d.why.boot = history.boot;
    }
    d.inputs.emplace_back("horizon_s", d.why.horizon_s);
  }
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
  Millis w = rule_of(c.kind).window(c);
  if (c.flap_budget > 0) {
    w = std::max(w, k_hour_ms);
  }
  return w;
}

std::vector<HistoryRange> history_ranges(const PolicyConfig& c)
{
  const Millis window = history_window(c);
  const auto& r = rule_of(c.kind);
  if (!r.ranges) {
    return {HistoryRange{window, 0}};
  }
  return r.ranges(c, window);
}

const char* to_string(Missing missing)
{
  switch (missing) {
  case Missing::stale:
    return "stale";
  case Missing::out_of_range:
    return "out_of_range";
  case Missing::no_value:
    break;
  }
  return "no_value";
}

std::optional<Missing> missing_named(std::string_view name)
{
  for (const auto m : {Missing::no_value, Missing::stale, Missing::out_of_range}) {
    if (name == to_string(m)) {
      return m;
    }
  }
  return std::nullopt;
}

namespace {

constexpr core::EnumNames<Victim, 4> k_victim_names{{
  {Victim::newest, "newest"},
  {Victim::oldest, "oldest"},
  {Victim::least_busy, "least-busy"},
  {Victim::oldest_image, "oldest-image"},
}};

} // namespace

const char* to_string(Victim victim)
{
  return core::name_of(k_victim_names, victim);
}

std::optional<Victim> victim_named(std::string_view name)
{
  return core::value_of(k_victim_names, name);
}

bool load_in_range(double value)
{
  return std::isfinite(value) && value >= 0 && value <= k_max_load;
}

const char* to_string(Kind kind)
{
  return rule_of(kind).name;
}

std::optional<Kind> kind_named(std::string_view name)
{
  for (const auto& r : rules()) {
    if (name == r.name) {
      return r.kind;
    }
  }
  return std::nullopt;
}

} // namespace policy
