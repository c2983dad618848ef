// Scaling policies. Pure: (history, policy, now) -> Decision. No I/O, no clock, no logging.
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace policy {

using core::Millis;

// One instance's load in one poll. `value` is empty when the sample is missing or stale.
struct InstanceSample
{
  std::string instance;
  std::optional<double> value;
  Millis in_service_since = 0;  // when the instance joined the LB (for warm-up)
};

// One poll of one cluster: every web instance in service at that time.
struct Tick
{
  Millis ts = 0;
  std::vector<InstanceSample> samples;
};

// A scaling action that was carried out (desired size changed from `from` to `to`).
struct PastAction
{
  Millis ts = 0;
  int from = 0;
  int to = 0;
};

struct History
{
  std::vector<Tick> ticks;           // oldest first
  int in_service = 0;                // web instances in the LB now
  int booting = 0;                   // web instances requested but not yet in service
  int desired = 0;                   // the size the cluster is converging to
  std::vector<PastAction> actions;   // oldest first
};

struct PolicyConfig
{
  std::string kind = "threshold";
  int min_size = 1;
  int max_size = 10;
  int cooldown_s = 120;
  // threshold: the original tool's rule.
  int sensitivity = 3;
  double high = 50.0;
  double low = 10.0;
};

enum class Action { hold, scale_out, scale_in };

struct Decision
{
  Action action = Action::hold;
  int from = 0;      // desired size before
  int to = 0;        // desired size after (== from for hold)
  std::string reason;  // a token: "load_above_high", "cooldown", "missing_samples", ...
  // The computed values the decision used, for `sclman why` (name, value).
  std::vector<std::pair<std::string, double>> inputs;
};

// Return "hold", "scale_out" or "scale_in".
const char* to_string(Action action);

// Return the decision for one cluster. Pure: no I/O, clock or logging.
Decision decide(const History& history, const PolicyConfig& config, Millis now);

// Return how far back (ms before now) `decide` looks at ticks and actions.
Millis history_window(const PolicyConfig& config);

// Return the policy as a JSON object text, as stored in the state file.
std::string to_json(const PolicyConfig& config);

// Return the policy parsed from JSON text; unknown keys and bad values are config errors.
core::Result<PolicyConfig> policy_from_json(std::string_view text);

// Return nothing if `config` is consistent (min <= max, low < high, ...), else a usage error.
core::Result<void> validate(const PolicyConfig& config);

} // namespace policy
