// The policy's JSON form, its presets and its validation.
#include "policy/policy.hpp"

#include "policy/json_literals.hpp"
#include "policy/rule.hpp"
#include "policy/schedule.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace policy {

namespace detail {

namespace {

Key key_of(const char* name, KeyType type, Range range, const char* help)
{
  Key k;
  k.name = name;
  k.type = type;
  k.range = range;
  k.help = help;
  return k;
}

} // namespace

Key integer_key(const char* name, int PolicyConfig::*field, Range range, const char* help)
{
  Key k = key_of(name, KeyType::integer, range, help);
  k.integer = field;
  return k;
}

Key number_key(const char* name, double PolicyConfig::*field, Range range, const char* help)
{
  Key k = key_of(name, KeyType::number, range, help);
  k.number = field;
  return k;
}

Key text_key(const char* name, std::string PolicyConfig::*field, const char* choices,
             const char* help)
{
  Key k = key_of(name, KeyType::text, {}, help);
  k.text = field;
  k.choices = choices;
  return k;
}

const std::vector<Key>& common_keys()
{
  static const std::vector<Key> keys = [] {
    std::vector<Key> k{
      integer_key("min", &PolicyConfig::min_size, {1, INT_MAX}, "never fewer web instances"),
      integer_key("max", &PolicyConfig::max_size, {1, INT_MAX},
                  "never more web instances (at least min)"),
      integer_key("cooldown", &PolicyConfig::cooldown_s, {0, INT_MAX},
                  "seconds after an action before the next"),
      integer_key("scale_in_cooldown", &PolicyConfig::scale_in_cooldown_s, {-1, INT_MAX},
                  "seconds after an action before a scale-in (-1: cooldown)"),
      integer_key("warmup", &PolicyConfig::warmup_s, {0, INT_MAX},
                  "seconds a new instance's samples are left out"),
      integer_key("stale", &PolicyConfig::stale_s, {1, INT_MAX},
                  "seconds after which the newest poll counts as missing"),
      integer_key("flap_budget", &PolicyConfig::flap_budget, {0, INT_MAX},
                  "at most this many size changes per rolling hour (0: no limit)"),
      integer_key("schedule", nullptr, {},
                  "scheduled bounds: [{cron, tz, min, max}], from each time cron matches"),
    };
    k.back().type = KeyType::schedule;
    k.push_back(text_key("victim", &PolicyConfig::victim, "newest oldest least-busy oldest-image",
                         "which in-service instance a scale-in drains first"));
    return k;
  }();
  return keys;
}

// Return the choices of a text key as "a, b or c".
std::string choice_list_of(std::string_view choices)
{
  std::string out(choices);
  const auto last = out.rfind(' ');
  if (last != std::string::npos) {
    out.replace(last, 1, " or ");
  }
  for (size_t i = out.find(' '); i != std::string::npos && i < out.rfind(" or ");
       i = out.find(' ', i + 2)) {
    out.replace(i, 1, ", ");
  }
  return out;
}

std::string key_type(const Key& k)
{
  const Range& r = k.range;
  std::string range;
  const bool lo = !(r.lo <= INT_MIN) && !std::isinf(r.lo);
  const bool hi = !(r.hi >= INT_MAX) && !std::isinf(r.hi);
  if (lo && hi) {
    range = fmt::format(" in {}{}, {}{}", r.lo_open ? '(' : '[', r.lo, r.hi, r.hi_open ? ')' : ']');
  } else if (lo) {
    range = fmt::format(" {} {}", r.lo_open ? ">" : ">=", r.lo);
  } else if (hi) {
    range = fmt::format(" {} {}", r.hi_open ? "<" : "<=", r.hi);
  }
  switch (k.type) {
  case KeyType::integer:
    return "integer" + range;
  case KeyType::number:
    return "number" + range;
  case KeyType::text:
    return choice_list_of(k.choices);
  case KeyType::integers:
    return "list of integers" + range;
  case KeyType::bands:
    return "list of bands";
  case KeyType::schedule:
    return "list of entries";
  }
  return "";
}

} // namespace detail

using namespace detail;

namespace {

// Thrown inside policy_from_json for a bad value, with the message for the user.
struct BadValue
{
  std::string message;
};

[[noreturn]] void bad(std::string message)
{
  throw BadValue{std::move(message)};
}

// Return `v` as the user wrote it: a number as typed (5e9, not 5000000000 or a wrapped int),
// anything else as JSON.
std::string shown(const Literals& lit, const nlohmann::json& v)
{
  if (const auto* text = lit.of(v)) {
    return *text;
  }
  if (v.is_number_float()) {
    return fmt::format("{}", v.get<double>());
  }
  return v.dump();
}

bool is_int_limit(double x)
{
  return x <= INT_MIN || x >= INT_MAX || std::isinf(x);
}

// Return what `r` asks for, given that `x` lies outside it: "at least 1", "in [0.5, 1]", ...
std::string expected(const Range& r, double x)
{
  const bool low = r.lo_open ? !(x > r.lo) : !(x >= r.lo);
  if (is_int_limit(r.hi) && low) {
    return fmt::format("{} {}", r.lo_open ? "above" : "at least", r.lo);
  }
  if (is_int_limit(r.lo) && !low) {
    return fmt::format("{} {}", r.hi_open ? "below" : "at most", r.hi);
  }
  if (!low && is_int_limit(r.hi)) {
    return fmt::format("at most {}", r.hi);
  }
  return fmt::format("in {}{}, {}{}", r.lo_open ? '(' : '[', r.lo, r.hi, r.hi_open ? ')' : ']');
}

bool in_range(const Range& r, double x)
{
  return (r.lo_open ? x > r.lo : x >= r.lo) && (r.hi_open ? x < r.hi : x <= r.hi);
}

// Return the message for `name` = `value` outside `r`, as validate() words it.
std::string out_of_range(std::string_view name, std::string_view value, const Range& r, double x)
{
  return fmt::format("{} {} must be {}", name, value, expected(r, x));
}

// The range an int field can hold at all.
constexpr Range k_int_range{INT_MIN, INT_MAX};

// Return `v` as an int within `r`, checked before any conversion, or throw BadValue.
int integer_of(const Literals& lit, const nlohmann::json& v, std::string_view name,
               const Range& r)
{
  double x = 0;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > std::uint64_t(INT_MAX)) {
      bad(out_of_range(name, shown(lit, v), r, k_inf));
    }
    x = double(u);
  } else if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (i < INT_MIN || i > INT_MAX) {
      bad(out_of_range(name, shown(lit, v), r, i < 0 ? -k_inf : k_inf));
    }
    x = double(i);
  } else if (v.is_number_float()) {
    x = v.get<double>();
    if (!std::isfinite(x) || x != std::floor(x)) {
      bad(fmt::format("key '{}': {} is not an integer", name, shown(lit, v)));
    }
  } else {
    bad(fmt::format("key '{}': {} is not an integer", name, shown(lit, v)));
  }
  if (!in_range(r, x) || !in_range(k_int_range, x)) {
    bad(out_of_range(name, shown(lit, v), r, x));
  }
  return int(x);
}

// Return `v` as a finite double within `r`, or throw BadValue.
double number_of(const Literals& lit, const nlohmann::json& v, std::string_view name,
                 const Range& r)
{
  if (!v.is_number()) {
    bad(fmt::format("key '{}': {} is not a number", name, shown(lit, v)));
  }
  const double x = v.get<double>();
  if (!std::isfinite(x)) {
    bad(fmt::format("key '{}': {} is not a finite number", name, shown(lit, v)));
  }
  if (!in_range(r, x)) {
    bad(out_of_range(name, shown(lit, v), r, x));
  }
  return x;
}

std::string text_of(const Literals& lit, const nlohmann::json& v, std::string_view name)
{
  if (!v.is_string()) {
    bad(fmt::format("key '{}': {} is not a string", name, shown(lit, v)));
  }
  return v.get<std::string>();
}

bool is_choice(std::string_view choices, std::string_view v)
{
  for (size_t start = 0; start <= choices.size();) {
    auto end = choices.find(' ', start);
    if (end == std::string_view::npos) {
      end = choices.size();
    }
    if (choices.substr(start, end - start) == v) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

const nlohmann::json& list_of(const Literals& lit, const nlohmann::json& v, std::string_view name)
{
  if (!v.is_array()) {
    bad(fmt::format("key '{}': {} is not a list", name, shown(lit, v)));
  }
  return v;
}

const nlohmann::json& object_of(const Literals& lit, const nlohmann::json& v,
                                std::string_view name)
{
  if (!v.is_object()) {
    bad(fmt::format("key '{}': {} is not an object", name, shown(lit, v)));
  }
  return v;
}

std::vector<StepBand> bands_of(const Literals& lit, const nlohmann::json& j,
                               std::string_view name)
{
  std::vector<StepBand> out;
  for (const auto& b : list_of(lit, j, name)) {
    const auto where = fmt::format("{}[{}]", name, out.size());
    StepBand band;
    for (const auto& [key, value] : object_of(lit, b, where).items()) {
      const auto what = fmt::format("{}.{}", where, key);
      const Range any{-k_inf, k_inf};
      if (key == "lower") {
        band.lower = value.is_null() ? std::nullopt
                                     : std::optional<double>(number_of(lit, value, what, any));
      } else if (key == "upper") {
        band.upper = value.is_null() ? std::nullopt
                                     : std::optional<double>(number_of(lit, value, what, any));
      } else if (key == "change") {
        band.change = number_of(lit, value, what, any);
      } else {
        bad(fmt::format("unknown step band key '{}'", key));
      }
    }
    out.push_back(band);
  }
  return out;
}

std::vector<ScheduleEntry> schedule_of(const Literals& lit, const nlohmann::json& j)
{
  std::vector<ScheduleEntry> out;
  for (const auto& e : list_of(lit, j, "schedule")) {
    const auto where = fmt::format("schedule[{}]", out.size());
    object_of(lit, e, where);
    const auto need = [&](const char* key) -> const nlohmann::json& {
      if (!e.contains(key)) {
        bad(fmt::format("{}: key '{}' is missing", where, key));
      }
      return e[key];
    };
    ScheduleEntry s;
    s.cron = text_of(lit, need("cron"), where + ".cron");
    s.tz = e.contains("tz") ? text_of(lit, e["tz"], where + ".tz") : std::string("UTC");
    s.min_size = integer_of(lit, need("min"), where + ".min", Range{1, INT_MAX});
    s.max_size = integer_of(lit, need("max"), where + ".max", Range{1, INT_MAX});
    out.push_back(std::move(s));
  }
  return out;
}

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

// Calls f(key) for the common keys, then those of `kind`'s rule.
template <typename F>
void for_keys(Kind kind, F&& f)
{
  for (const auto& k : common_keys()) {
    f(k);
  }
  for (auto table : rule_of(kind).keys) {
    for (const auto& k : table()) {
      f(k);
    }
  }
}

// Return the key named `name` of any rule, and whether `kind`'s rule reads it.
std::pair<const Key*, bool> find_key(std::string_view name, Kind kind)
{
  const Key* found = nullptr;
  for_keys(kind, [&](const Key& k) {
    if (!found && name == k.name) {
      found = &k;
    }
  });
  if (found) {
    return {found, true};
  }
  for (const auto& r : rules()) {
    for (auto table : r.keys) {
      for (const auto& k : table()) {
        if (name == k.name) {
          return {&k, false};
        }
      }
    }
  }
  return {nullptr, false};
}

// Set the field of `k` in `c` from `v`, checking its range if `ranged`.
void read_key(const Literals& lit, const Key& k, const nlohmann::json& v, bool ranged,
              PolicyConfig& c)
{
  const Range any{-k_inf, k_inf};
  switch (k.type) {
  case KeyType::integer:
    c.*k.integer = integer_of(lit, v, k.name, ranged ? k.range : k_int_range);
    break;
  case KeyType::number:
    c.*k.number = number_of(lit, v, k.name, ranged ? k.range : any);
    if (k.also) {
      c.*k.also = c.*k.number;
    }
    break;
  case KeyType::text:
    c.*k.text = text_of(lit, v, k.name);
    break;
  case KeyType::integers:
    (c.*k.integers).clear();
    for (const auto& e : list_of(lit, v, k.name)) {
      (c.*k.integers).push_back(integer_of(lit, e, k.name, ranged ? k.range : k_int_range));
    }
    break;
  case KeyType::bands:
    c.*k.bands = bands_of(lit, v, k.name);
    break;
  case KeyType::schedule:
    c.schedule = schedule_of(lit, v);
    break;
  }
}

nlohmann::json write_key(const Key& k, const PolicyConfig& c)
{
  switch (k.type) {
  case KeyType::integer:
    return c.*k.integer;
  case KeyType::number:
    return c.*k.number;
  case KeyType::text:
    return c.*k.text;
  case KeyType::integers:
    return c.*k.integers;
  case KeyType::bands:
    return bands_json(c.*k.bands);
  case KeyType::schedule:
    break;
  }
  auto s = nlohmann::json::array();
  for (const auto& e : c.schedule) {
    s.push_back({{"cron", e.cron}, {"tz", e.tz}, {"min", e.min_size}, {"max", e.max_size}});
  }
  return s;
}

// Return nothing if the field of `k` in `c` lies in the key's range, else a usage error.
core::Result<void> check_key(const Key& k, const PolicyConfig& c)
{
  const auto check = [&](double x) -> core::Result<void> {
    if (!std::isfinite(x) && k.type == KeyType::number) {
      return usage(fmt::format("{} {} is not a finite number", k.name, x));
    }
    if (!in_range(k.range, x)) {
      return usage(out_of_range(k.name, fmt::format("{}", x), k.range, x));
    }
    return {};
  };
  switch (k.type) {
  case KeyType::integer:
    return check(c.*k.integer);
  case KeyType::number:
    return k.stored ? check(c.*k.number) : core::Result<void>{};
  case KeyType::text:
    if (!is_choice(k.choices, c.*k.text)) {
      return usage(fmt::format("unknown {} '{}': expected {}", k.name, c.*k.text,
                               choice_list_of(k.choices)));
    }
    return {};
  case KeyType::integers:
    for (int x : c.*k.integers) {
      TRY(check(x));
    }
    return {};
  case KeyType::bands:
  case KeyType::schedule:
    return {};  // the rule's check, and validate()
  }
  return {};
}

} // namespace

std::string to_json(const PolicyConfig& c)
{
  nlohmann::json j = {{"kind", to_string(c.kind)}};
  for_keys(c.kind, [&](const Key& k) {
    if (k.stored && (k.type != KeyType::schedule || !c.schedule.empty())) {
      j[k.name] = write_key(k, c);
    }
  });
  return j.dump();
}

std::vector<std::string> preset_names()
{
  return {"threshold", "step", "target", "hpa", "target-tracking", "predictive"};
}

core::Result<PolicyConfig> preset(std::string_view name)
{
  PolicyConfig c;
  if (name == "hpa") {
    // Kubernetes HPA defaults: `kubectl autoscale` targets 80 % utilisation, tolerance 0.1,
    // scale-down stabilization 300 s, up by max(100 %, 4 pods) and down by 100 % per 15 s.
    return preset("target");
  }
  if (name == "target-tracking") {
    // AWS target tracking: the alarm scales out after 3 polls above the target and in after 15
    // polls below 90 % of it; new instances warm up 300 s; scale-in waits 300 s after an
    // action. The console proposes a target of 50 %.
    c.kind = Kind::target;
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
  if (const auto kind = kind_named(name)) {
    c.kind = *kind;
    rule_of(*kind).defaults(c);
    return c;
  }
  return core::fail(core::ErrorKind::usage,
                    fmt::format("unknown policy '{}': expected one of {}", name,
                                fmt::join(preset_names(), ", ")));
}

core::Result<PolicyConfig> policy_from_json(std::string_view text)
{
  using core::ErrorKind;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return core::fail(ErrorKind::config,
                      fmt::format("invalid policy JSON: syntax error at byte {}", e.byte));
  } catch (const nlohmann::json::exception&) {
    // out_of_range.406: a number beyond the range of a double, such as 1e400.
    return core::fail(ErrorKind::config, "invalid policy JSON: a number is out of range");
  }
  if (!j.is_object()) {
    return core::fail(ErrorKind::config, "invalid policy JSON: not an object");
  }
  const Literals lit(text, j);
  PolicyConfig c;
  try {
    // Start from the defaults of the preset or kind, then apply every key.
    std::string base = "threshold";
    if (j.contains("preset")) {
      base = text_of(lit, j["preset"], "preset");
    } else if (j.contains("kind")) {
      base = text_of(lit, j["kind"], "kind");
    }
    auto start = preset(base);
    if (!start) {
      return core::fail(ErrorKind::config, start.error().message);
    }
    c = *start;
    if (j.contains("kind")) {
      const auto name = text_of(lit, j["kind"], "kind");
      const auto kind = kind_named(name);
      if (!kind) {
        bad(fmt::format("unknown policy '{}'", name));
      }
      c.kind = *kind;
    }
    for (const auto& [key, value] : j.items()) {
      if (key == "preset" || key == "kind") {
        continue;
      }
      const auto [k, ranged] = find_key(key, c.kind);
      if (!k) {
        bad(fmt::format("unknown policy key '{}'", key));
      }
      read_key(lit, *k, value, ranged, c);
    }
  } catch (const BadValue& e) {
    return core::fail(ErrorKind::config, e.message);
  }
  if (auto r = validate(c); !r) {
    return core::fail(ErrorKind::config, r.error().message);
  }
  return c;
}

core::Result<void> validate(const PolicyConfig& c)
{
  if (static_cast<size_t>(c.kind) >= rules().size()) {
    return usage("unknown policy kind");
  }
  for (const auto& k : common_keys()) {
    TRY(check_key(k, c));
  }
  if (c.min_size > c.max_size) {
    return usage(fmt::format("min {} is greater than max {}", c.min_size, c.max_size));
  }
  for (const auto& e : c.schedule) {
    TRY(validate_cron(e.cron));
    TRY(validate_tz(e.tz));
    if (e.min_size < 1 || e.min_size > e.max_size) {
      return usage(fmt::format("schedule '{}': min {} must be at least 1 and at most max {}",
                               e.cron, e.min_size, e.max_size));
    }
  }
  const auto& rule = rule_of(c.kind);
  for (auto table : rule.keys) {
    for (const auto& k : table()) {
      TRY(check_key(k, c));
    }
  }
  return rule.check ? rule.check(c) : core::Result<void>{};
}

std::vector<KeyDoc> key_docs()
{
  std::vector<KeyDoc> out;
  for (const auto& k : common_keys()) {
    out.push_back(KeyDoc{k.name, "all", key_type(k), k.help});
  }
  // A table several rules read (sensitivity, high, low) is listed once, with each of them.
  std::vector<const std::vector<Key>& (*)()> seen;
  for (const auto& r : rules()) {
    for (auto table : r.keys) {
      if (std::find(seen.begin(), seen.end(), table) != seen.end()) {
        continue;
      }
      seen.push_back(table);
      std::string readers;
      for (const auto& other : rules()) {
        if (std::find(other.keys.begin(), other.keys.end(), table) != other.keys.end()) {
          readers += (readers.empty() ? "" : ", ") + std::string(other.name);
        }
      }
      for (const auto& k : table()) {
        out.push_back(KeyDoc{k.name, readers, key_type(k), k.help});
      }
    }
  }
  return out;
}

std::string key_help()
{
  std::string out;
  for (const auto& d : key_docs()) {
    out += fmt::format("  {:<18} {:<16} {:<28} {}\n", d.name, d.rules, d.type, d.help);
  }
  return out;
}

} // namespace policy
