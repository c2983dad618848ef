// The policy's JSON form, its presets and its validation.
#include "policy/policy.hpp"

#include "policy/rule.hpp"
#include "policy/schedule.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace policy {

using detail::usage;

namespace {

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

} // namespace policy
