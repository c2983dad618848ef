// Private to lib/policy: what the rules (threshold.cpp, step.cpp, target.cpp, predictive.cpp)
// share with the common frame in policy.cpp.
#pragma once

#include "policy/policy.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace policy::detail {

constexpr Millis k_ms = 1000;
constexpr Millis k_hour_ms = 3'600'000;
// A poll period assumed where the policy needs one to size windows (cron runs each minute).
constexpr Millis k_poll_ms = 60'000;
// Guards ceil() against 2.0000000001 from float sums that should be 2.
constexpr double k_eps = 1e-9;

// Saturates at INT_MAX (and INT_MIN, NaN at 0) so that no load, however large, overflows an int;
// the bounds clamp the result to [min, max] after.
inline int ceil_int(double x)
{
  const double c = std::ceil(x - k_eps);
  if (!(c > double(INT_MIN))) {
    return c < 0 ? INT_MIN : 0;
  }
  return c < double(INT_MAX) ? int(c) : INT_MAX;
}

// The usable metric of one poll: samples with a value from instances past their warm-up.
struct Observation
{
  int used = 0;
  int warmup = 0;
  int missing = 0;  // without a usable value: no value, stale or rejected
  int stale = 0;    // of those, older than max_age
  double sum = 0;
  int instances = 0;  // all samples of the poll, used or not

  bool ok() const { return used > 0; }
  double mean() const { return used > 0 ? sum / used : 0.0; }
};

// Return what the policy can use of poll `t`.
Observation observe(const Tick& t, const PolicyConfig& c);

// Return the hold reason of polls without a usable sample: "stale_samples" when `stale` of
// their samples were older than max_age, else "missing_samples". Every rule and the common
// frame say it the same way.
inline const char* missing_reason(int stale)
{
  return stale > 0 ? "stale_samples" : "missing_samples";
}

// Return what observe() made of each sample of `t`, with the reason for each dropped one.
std::vector<SampleNote> note_samples(const Tick& t, const PolicyConfig& c);

// Return the desired size at time `ts`, replaying the actions backwards from the current one.
int desired_at(const History& h, Millis ts);

// Return the time of the last action, 0 if none.
Millis last_action_ts(const History& h);

// What a rule asks for, before the common clamps.
struct Proposal
{
  int to = 0;
  std::string reason;
  std::string rule;
  std::vector<std::string> rejected;
  std::vector<std::string> forecast;  // see Explanation::forecast
  std::vector<std::pair<std::string, double>> inputs;
  std::vector<Clamp> clamps;  // limits the rule applies itself (rate limit, stabilization)
};

// Return the longer of the two cooldowns in ms.
inline Millis cooldown_ms(const PolicyConfig& c)
{
  return Millis(std::max(c.cooldown_s, c.scale_in_cooldown_s)) * k_ms;
}

// Return a proposal to keep the desired size.
Proposal hold_proposal(const History& h, std::string reason, std::string rule);

// Return the last `n` polls newer than `since`, newest first, or fewer if the history is shorter.
std::vector<const Tick*> last_ticks(const History& h, size_t n, Millis since = 0);

// Return what each rule asks for. The history has a fresh newest poll with a usable sample.
Proposal propose_threshold(const History& h, const PolicyConfig& c, Millis now);
Proposal propose_step(const History& h, const PolicyConfig& c, Millis now);
Proposal propose_target(const History& h, const PolicyConfig& c, Millis now);
Proposal propose_predictive(const History& h, const PolicyConfig& c, Millis now);

// Return a usage error with `message`.
core::Result<void> usage(std::string message);

// ---------------------------------------------------------------------------------------------
// Key tables: each key of the policy JSON, its type and range, and the field it sets.

enum class KeyType { integer, number, text, integers, bands, schedule };

// The values a numeric key takes: from lo to hi, an end excluded when its flag is set.
struct Range
{
  double lo = INT_MIN;
  double hi = INT_MAX;
  bool lo_open = false;
  bool hi_open = false;
};

constexpr double k_inf = std::numeric_limits<double>::infinity();

struct Key
{
  const char* name = "";
  KeyType type = KeyType::integer;
  const char* help = "";
  Range range;
  int PolicyConfig::*integer = nullptr;
  double PolicyConfig::*number = nullptr;
  double PolicyConfig::*also = nullptr;  // a second field the key sets (an alias of two keys)
  std::string PolicyConfig::*text = nullptr;
  const char* choices = "";  // the values a text key takes, separated by spaces
  std::vector<int> PolicyConfig::*integers = nullptr;
  std::vector<StepBand> PolicyConfig::*bands = nullptr;
  bool stored = true;  // false: read, but not written by to_json (an alias)
};

// Return a key of each type.
Key integer_key(const char* name, int PolicyConfig::*field, Range range, const char* help);
Key number_key(const char* name, double PolicyConfig::*field, Range range, const char* help);
Key text_key(const char* name, std::string PolicyConfig::*field, const char* choices,
             const char* help);

// Return the type and range of `k` as the help and the man page show it: "integer >= 1".
std::string key_type(const Key& k);

// Return the choices of a text key, "a b c", as "a, b or c".
std::string choice_list_of(std::string_view choices);

// The keys each rule reads besides the common ones, defined beside the rule.
const std::vector<Key>& common_keys();
const std::vector<Key>& mark_keys();  // threshold and step
const std::vector<Key>& step_keys();
const std::vector<Key>& target_keys();
const std::vector<Key>& predictive_keys();

// One rule: everything that differs between the kinds.
struct Rule
{
  Kind kind = Kind::threshold;
  const char* name = "";
  Proposal (*propose)(const History&, const PolicyConfig&, Millis) = nullptr;
  std::vector<const std::vector<Key>& (*)()> keys;  // besides common_keys()
  void (*defaults)(PolicyConfig&) = nullptr;      // the rule's defaults over PolicyConfig{}
  core::Result<void> (*check)(const PolicyConfig&) = nullptr;  // beyond the keys' ranges
  Millis (*window)(const PolicyConfig&) = nullptr;             // see history_window()
  // The spans of history it reads (see history_ranges()); null: the whole window.
  std::vector<HistoryRange> (*ranges)(const PolicyConfig&, Millis window) = nullptr;
};

// Return the rules, one per Kind, in the order of the enum.
const std::vector<Rule>& rules();

// Return the rule of `kind`.
const Rule& rule_of(Kind kind);

// The parts of each rule the table points to.
core::Result<void> check_marks(const PolicyConfig& c);
core::Result<void> check_step(const PolicyConfig& c);
core::Result<void> check_predictive(const PolicyConfig& c);
Millis marks_window(const PolicyConfig& c);
Millis target_window(const PolicyConfig& c);
Millis predictive_window(const PolicyConfig& c);
std::vector<HistoryRange> predictive_ranges(const PolicyConfig& c, Millis window);

} // namespace policy::detail
