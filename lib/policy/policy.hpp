// Scaling policies. Pure: (history, policy, now) -> Decision. No I/O, no clock, no logging.
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace policy {

using core::Millis;

// Why a sample has no value: no reason known (the instance did not answer, the source gave
// none), the source dated it older than [METRICS] max_age, or its number was out of range.
enum class Missing { no_value, stale, out_of_range };

// Return "no_value", "stale" or "out_of_range".
const char* to_string(Missing missing);

// Return the Missing named `name`, or nothing.
std::optional<Missing> missing_named(std::string_view name);

// The largest load value a policy acts on (requests per second, percent, connections of one
// instance; 1e9): a number above it is no reading of a web instance, and arithmetic on it
// (instances = load / capacity) leaves the range of int.
inline constexpr double k_max_load = 1e9;

// Which in-service web instance a scale-in drains first ([POLICY] victim): the newest (the
// default: the least warmed up), the oldest, the least busy (live connections, else the latest
// load sample), or one not on the cluster's current image (then the newest).
enum class Victim { newest, oldest, least_busy, oldest_image };

// Return "newest", "oldest", "least-busy" or "oldest-image".
const char* to_string(Victim victim);

// Return the victim policy named `name`, or nothing.
std::optional<Victim> victim_named(std::string_view name);

// Return true if `value` is a load a policy can act on: finite and in [0, k_max_load].
bool load_in_range(double value);

// One instance's load in one poll. `value` is empty when the sample is missing or stale.
struct InstanceSample
{
  std::string instance;
  std::optional<double> value;
  Millis in_service_since = 0;  // when the instance joined the LB (for warm-up)
  Missing missing = Missing::no_value;  // why `value` is empty
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

// How long a new web instance takes from launch to in service, as the caller knows it: measured
// on the cluster's own instances (decide), the prior until enough were (man_boot_timeout), or
// given (simulate --boot-delay). The predictive rule's horizon defaults to it plus one poll.
struct BootTime
{
  int seconds = 0;
  std::string source;  // "measured", "prior" or "given"
  int samples = 0;     // instances measured
  std::string detail;  // for people: "p90 of the last 12 instances' launch to in service"
  int poll_s = 60;     // the period of the polls: the horizon covers one more
};

// The last this many instances' boot times are what estimate_boot_time reads ...
constexpr int k_boot_samples = 20;
// ... and with fewer than this many it keeps the prior.
constexpr int k_boot_min_samples = 5;

// Return the boot time from `durations_ms` (launch to in service of the cluster's instances,
// newest first): the 90th percentile of the newest k_boot_samples, rounded up to a second, or
// `prior_s` while fewer than k_boot_min_samples are known. Durations that cannot be true (not
// positive, or over a day: a clock step) are left out.
BootTime estimate_boot_time(const std::vector<Millis>& durations_ms, int prior_s);

// What a replay keeps from one decision to the next (see History::memo): the predictive rule's
// windows and sorted forecast errors, advanced by the polls added since the last decision
// instead of rebuilt from the whole lookback. Opaque outside lib/policy.
struct Memo;

// Return an empty memo for one replay of one policy. With `explain` false the decisions made
// with it leave out the text of the rejected alternatives (the replay does not read them).
std::shared_ptr<Memo> make_memo(bool explain = true);

struct History
{
  std::vector<Tick> ticks;           // oldest first
  int in_service = 0;                // web instances in the LB now
  int booting = 0;                   // web instances requested but not yet in service
  int desired = 0;                   // the size the cluster is converging to
  std::vector<PastAction> actions;   // oldest first
  std::optional<BootTime> boot;      // what with_boot_time() resolved the horizon from
  // A replay's memo (simulate): set, the ticks must only grow at the end (the oldest may be
  // dropped) and the policy must stay the same; decide() then gives what it gives without it.
  std::shared_ptr<Memo> memo;
};

// One band of a step policy (AWS step adjustments). The band holds when metric - threshold lies
// in it: [lower, upper) above the high threshold, (lower, upper] below the low one. An empty
// bound is unbounded.
struct StepBand
{
  std::optional<double> lower;
  std::optional<double> upper;
  double change = 0;  // instances, percent of the desired size, or the exact size

  bool operator==(const StepBand&) const = default;
};

// A scheduled change of the size bounds: from each time `cron` matches (in `tz`) until another
// entry fires, min and max are these.
struct ScheduleEntry
{
  std::string cron;        // five fields: minute hour day-of-month month day-of-week
  std::string tz = "UTC";  // "UTC", a fixed offset "+02:00", or a POSIX TZ rule
  int min_size = 1;
  int max_size = 10;

  bool operator==(const ScheduleEntry&) const = default;
};

// The rule of a policy.
enum class Kind { threshold, step, target, predictive };

struct PolicyConfig
{
  Kind kind = Kind::threshold;
  int min_size = 1;
  int max_size = 10;
  int cooldown_s = 120;          // after an action, no other action for this long
  int scale_in_cooldown_s = -1;  // after an action, no scale-in for this long; -1: cooldown_s
  int warmup_s = 0;              // samples of instances younger than this are left out
  int stale_s = 180;             // a newest poll older than this counts as missing data
  int flap_budget = 0;           // at most this many size changes per rolling hour; 0: no limit
  // Which instance a scale-in drains (engine::drain_excess): newest, oldest, least-busy or
  // oldest-image. Not the rule's business; kept here so that one set-policy sets it.
  std::string victim = "newest";
  std::vector<ScheduleEntry> schedule;

  // threshold: the original tool's rule; step uses sensitivity, high and low too.
  int sensitivity = 3;  // consecutive polls above high (below low) before acting
  double high = 50.0;
  double low = 10.0;

  // step: AWS-style step adjustments.
  std::string adjustment = "change";  // change, percent or exact
  std::vector<StepBand> steps_out{StepBand{0.0, std::nullopt, 1}};
  std::vector<StepBand> steps_in{StepBand{std::nullopt, 0.0, -1}};
  int min_adjustment = 1;  // smallest change of a percent adjustment

  // target: target tracking with the Kubernetes HPA rule (AWS target tracking is a preset).
  double target = 80.0;          // metric value per instance to track
  double tolerance_out = 0.1;    // no scale-out while metric / target <= 1 + this
  double tolerance_in = 0.1;     // no scale-in while metric / target >= 1 - this
  int out_datapoints = 1;        // consecutive polls above the band before scaling out
  int in_datapoints = 1;         // consecutive polls below the band before scaling in
  int up_stabilization_s = 0;    // take the lowest recommendation of this window on the way up
  int down_stabilization_s = 300;  // take the highest recommendation of this window going down
  double up_limit_percent = 100;   // per limit period, grow at most by this percent ...
  int up_limit_pods = 4;           // ... or by this many instances, whichever is more
  double down_limit_percent = 100;  // per limit period, shrink at most by this percent ...
  int down_limit_pods = 0;          // ... or by this many instances, whichever is more
  int limit_period_s = 15;

  // predictive: forecast of the load over the horizon with an empirical error quantile.
  double capacity = 100.0;   // metric value of one fully loaded instance
  double quantile = 0.95;      // share of past forecast errors the margin covers ...
  double quantile_low = 0.6;   // ... or only this share while under_budget is unspent
  double under_budget = 0.5;   // percent of lookback polls allowed over capacity
  int horizon_s = 0;         // how far ahead capacity must cover; 0: boot time + one poll
                             // (at least k_min_horizon_s)
  int lookback_s = 21600;    // recent past whose forecast errors set the margin
  int hold_s = 300;          // scale in only below the highest load of this window
  // What a scale-in must cover: "peak", the margined peak of the horizon after the recent peak
  // (every poll until new capacity could serve); "lead", the scale-out rule's margined forecast
  // of the lead poll from the recent peak (HPA's down-stabilization: the highest of the recent
  // scale-out sizes), which scales in sooner.
  std::string scale_in_cover = "peak";
  std::vector<int> seasons_s{86400, 604800};  // seasonal lags tried as forecasts

  bool operator==(const PolicyConfig&) const = default;
};

enum class Action { hold, scale_out, scale_in };

// A limit that changed what the rule asked for.
struct Clamp
{
  Clamp() = default;
  // A constructor rather than an aggregate, so that Clamp{name, from, to} needs no detail.
  Clamp(std::string name_, int from_, int to_, std::string detail_ = {})
    : name(std::move(name_)), from(from_), to(to_), detail(std::move(detail_))
  {
  }

  std::string name;  // min, max, rate_limit, stabilization, cooldown, flap_budget, missing_data
  int from = 0;      // the size before the clamp
  int to = 0;        // the size after it
  std::string detail;  // what the limit was ("cooldown 120 s, last action 30 s ago"), or ""
};

// One sample of the newest poll and what the policy made of it.
struct SampleNote
{
  std::string instance;
  std::optional<double> value;
  std::string use;     // used, warmup, missing (no value), stale (older than max_age), rejected
                       // (NaN, negative or above k_max_load)
  std::string detail;  // why it was dropped ("in service 40 s, warm-up 300 s"), or ""
};

// Why a decision came out as it did, for `sclman why`.
struct Explanation
{
  int samples_used = 0;     // samples of the newest poll that went into the metric
  int dropped_warmup = 0;   // samples of instances younger than the warm-up
  int dropped_missing = 0;  // samples without a value
  bool stale = false;       // the newest poll is older than stale_s
  std::string rule;         // the rule that set the proposal ("target", "step_out[1]", ...)
  int proposed = 0;         // the size the rule asked for, before clamps
  std::vector<std::string> rejected;  // why the other rules did not win
  // predictive: what each part of the forecast contributed (the margin controller, the memory
  // of recurring surges), one line each.
  std::vector<std::string> forecast;
  std::vector<Clamp> clamps;          // in the order they were applied
  std::vector<SampleNote> samples;    // each sample of the newest poll
  Millis poll_ts = 0;                 // time of the newest poll (0: none)
  Millis last_sample_ts = 0;          // time of the newest poll with any sample (0: none)
  int stale_s = 0;                    // the policy's stale_s, for the reader
  std::optional<ScheduleEntry> schedule;  // the schedule entry that set min and max, if any
  Millis schedule_since = 0;              // when that entry last fired
  // predictive: how far ahead it covered, and the boot time that came from (none: the policy's
  // own horizon, or a history without one).
  int horizon_s = 0;
  std::optional<BootTime> boot;
};

struct Decision
{
  Action action = Action::hold;
  int from = 0;      // desired size before
  int to = 0;        // desired size after (== from for hold)
  std::string reason;  // a token: "load_above_high", "cooldown", "missing_samples", ...
  // The computed values the decision used, for `sclman why` (name, value).
  std::vector<std::pair<std::string, double>> inputs;
  Explanation why;
};

// Return "hold", "scale_out" or "scale_in".
const char* to_string(Action action);

// Return the name of `kind`: "threshold", "step", "target" or "predictive".
const char* to_string(Kind kind);

// Return the kind named `name`, or nothing if no rule has that name.
std::optional<Kind> kind_named(std::string_view name);

// The shortest horizon a boot time sets. Below it the margins measured over one or two polls
// missed more: at a 60 s boot (horizon 120 s) tau_U on the NASA trace rose from 0.80 % to
// 1.18 % (docs/BENCHMARKS.md).
constexpr int k_min_horizon_s = 240;

// Return `config` with its horizon resolved: a predictive policy whose horizon is 0 (the
// default) covers `boot` plus one of its polls, at least k_min_horizon_s. Nothing else changes.
PolicyConfig with_boot_time(PolicyConfig config, const BootTime& boot);

// Return the horizon, in seconds, the predictive rule of `config` covers: its own, or when
// unresolved (0) a boot time of k_default_boot_s plus one poll.
int horizon_s(const PolicyConfig& config);

// The boot time an unresolved horizon assumes.
constexpr int k_default_boot_s = 180;

// Return the decision for one cluster. Pure: no I/O, clock or logging.
Decision decide(const History& history, const PolicyConfig& config, Millis now);

// Return how far back (ms before now) `decide` looks at ticks and actions.
Millis history_window(const PolicyConfig& config);

// A span of time before now, [now - from_ms, now - to_ms], whose ticks `decide` reads.
struct HistoryRange
{
  Millis from_ms = 0;
  Millis to_ms = 0;
};

// Return the spans of history `decide` reads, newest last; their union lies within
// history_window(). A loader may fetch only these instead of the whole window (the predictive
// policy reads a few hours now and around each seasonal lag, not whole weeks).
std::vector<HistoryRange> history_ranges(const PolicyConfig& config);

// Return the policy as a JSON object text, as stored in the state file.
std::string to_json(const PolicyConfig& config);

// Return the policy parsed from JSON text; unknown keys and bad values are config errors.
// Keys missing from the text take the defaults of its "kind", or of its "preset" if named.
core::Result<PolicyConfig> policy_from_json(std::string_view text);

// Return the named preset: threshold, step, target, hpa (target with Kubernetes defaults),
// target-tracking (target with AWS target-tracking defaults), predictive.
core::Result<PolicyConfig> preset(std::string_view name);

// Return the names preset() accepts.
std::vector<std::string> preset_names();

// Return nothing if `config` is consistent (min <= max, low < high, ...), else a usage error.
core::Result<void> validate(const PolicyConfig& config);

// One key of the policy JSON, as `set-policy --help` and the man page describe it.
struct KeyDoc
{
  std::string name;
  std::string rules;  // "all", or the rules that read it: "threshold, step"
  std::string type;   // and range: "integer >= 1", "number in [0.5, 1]", "peak or lead"
  std::string help;
};

// Return every key of the policy JSON: the common ones, then each rule's.
std::vector<KeyDoc> key_docs();

// Return key_docs() as indented lines of text (for `set-policy --help`).
std::string key_help();

// Return the decision with its inputs and explanation as a JSON object text (for the state
// file and `sclman why --json`).
std::string decision_json(const Decision& decision);

// Return the explanation of `decision` as indented lines of text for `sclman why`.
std::string explain_text(const Decision& decision);

// Return the decision read back from decision_json() text (for `sclman why`); keys it lacks
// keep their defaults, so explanations stored by older versions still read.
core::Result<Decision> decision_from_json(std::string_view text);

} // namespace policy
