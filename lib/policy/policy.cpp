#include "policy/policy.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace policy {

namespace {

// Return the mean of the present values of `tick`, or nothing if none is present.
std::optional<double> mean_load(const Tick& tick)
{
  double sum = 0;
  int n = 0;
  for (const auto& s : tick.samples) {
    if (s.value) {
      sum += *s.value;
      ++n;
    }
  }
  if (n == 0) {
    return std::nullopt;
  }
  return sum / n;
}

Decision hold(const History& h, std::string reason)
{
  return Decision{Action::hold, h.desired, h.desired, std::move(reason), {}};
}

Decision change(const History& h, int to, std::string reason)
{
  return Decision{to > h.desired ? Action::scale_out : Action::scale_in,
                  h.desired,
                  to,
                  std::move(reason),
                  {}};
}

Decision decide_threshold(const History& h, const PolicyConfig& c, Millis now)
{
  const Millis last_action = h.actions.empty() ? 0 : h.actions.back().ts;
  // The original tool reset its counters after each action: only polls since count.
  std::vector<const Tick*> recent;
  for (auto it = h.ticks.rbegin(); it != h.ticks.rend() && recent.size() < size_t(c.sensitivity);
       ++it) {
    if (it->ts <= last_action) {
      break;
    }
    recent.push_back(&*it);
  }
  Decision d;
  if (last_action > 0 && now - last_action < Millis(c.cooldown_s) * 1000) {
    d = hold(h, "cooldown");
  } else if (recent.size() < size_t(c.sensitivity)) {
    d = hold(h, "insufficient_history");
  } else {
    int high = 0;
    int low = 0;
    bool missing = false;
    for (const Tick* t : recent) {
      const auto load = mean_load(*t);
      if (!load) {
        missing = true;
      } else if (*load > c.high) {
        ++high;
      } else if (*load < c.low) {
        ++low;
      }
    }
    if (missing) {
      d = hold(h, "missing_samples");
    } else if (high == c.sensitivity) {
      d = h.desired >= c.max_size ? hold(h, "at_max") : change(h, h.desired + 1, "load_above_high");
    } else if (low == c.sensitivity) {
      d = h.desired <= c.min_size ? hold(h, "at_min") : change(h, h.desired - 1, "load_below_low");
    } else {
      d = hold(h, "load_within_band");
    }
    d.inputs.emplace_back("high_polls", high);
    d.inputs.emplace_back("low_polls", low);
  }
  if (!h.ticks.empty()) {
    if (const auto load = mean_load(h.ticks.back())) {
      d.inputs.emplace_back("load", *load);
    }
  }
  d.inputs.emplace_back("sensitivity", c.sensitivity);
  d.inputs.emplace_back("high", c.high);
  d.inputs.emplace_back("low", c.low);
  return d;
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
  // Bounds first: a size outside [min, max] (after a policy change) is corrected at once.
  if (history.desired < config.min_size) {
    return change(history, config.min_size, "below_min");
  }
  if (history.desired > config.max_size) {
    return change(history, config.max_size, "above_max");
  }
  Decision d = decide_threshold(history, config, now);
  d.inputs.emplace_back("in_service", history.in_service);
  d.inputs.emplace_back("booting", history.booting);
  d.inputs.emplace_back("min", config.min_size);
  d.inputs.emplace_back("max", config.max_size);
  return d;
}

Millis history_window(const PolicyConfig& config)
{
  // Enough for `sensitivity` polls at a one-minute period with room for late runs.
  return Millis(config.sensitivity + 2) * 60'000 * 2 + Millis(config.cooldown_s) * 1000;
}

std::string to_json(const PolicyConfig& c)
{
  nlohmann::json j = {
    {"kind", c.kind},
    {"min", c.min_size},
    {"max", c.max_size},
    {"cooldown", c.cooldown_s},
    {"sensitivity", c.sensitivity},
    {"high", c.high},
    {"low", c.low},
  };
  return j.dump();
}

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
    for (const auto& [key, value] : j.items()) {
      if (key == "kind") {
        c.kind = value.get<std::string>();
      } else if (key == "min") {
        c.min_size = value.get<int>();
      } else if (key == "max") {
        c.max_size = value.get<int>();
      } else if (key == "cooldown") {
        c.cooldown_s = value.get<int>();
      } else if (key == "sensitivity") {
        c.sensitivity = value.get<int>();
      } else if (key == "high") {
        c.high = value.get<double>();
      } else if (key == "low") {
        c.low = value.get<double>();
      } else {
        return core::fail(ErrorKind::config, fmt::format("unknown policy key '{}'", key));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return core::fail(ErrorKind::config, fmt::format("invalid policy value: {}", e.what()));
  }
  if (auto r = validate(c); !r) {
    return core::fail(ErrorKind::config, r.error().message);
  }
  return c;
}

core::Result<void> validate(const PolicyConfig& c)
{
  using core::ErrorKind;
  if (c.kind != "threshold") {
    return core::fail(ErrorKind::usage, fmt::format("unknown policy '{}'", c.kind));
  }
  if (c.min_size < 1) {
    return core::fail(ErrorKind::usage, fmt::format("min {} must be at least 1", c.min_size));
  }
  if (c.min_size > c.max_size) {
    return core::fail(ErrorKind::usage,
                      fmt::format("min {} is greater than max {}", c.min_size, c.max_size));
  }
  if (c.sensitivity < 1) {
    return core::fail(ErrorKind::usage,
                      fmt::format("sensitivity {} must be at least 1", c.sensitivity));
  }
  if (c.cooldown_s < 0) {
    return core::fail(ErrorKind::usage, "cooldown must not be negative");
  }
  if (!std::isfinite(c.high) || !std::isfinite(c.low) || c.low < 0 || c.low >= c.high) {
    return core::fail(ErrorKind::usage,
                      fmt::format("low {} must be at least 0 and below high {}", c.low, c.high));
  }
  return {};
}

} // namespace policy
