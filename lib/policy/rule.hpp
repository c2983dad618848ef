// Private to lib/policy: what the rules (threshold.cpp, step.cpp, target.cpp, predictive.cpp)
// share with the common frame in policy.cpp.
#pragma once

#include "policy/policy.hpp"

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace policy::detail {

constexpr Millis k_ms = 1000;
constexpr Millis k_hour_ms = 3'600'000;
// A poll period assumed where the policy needs one to size windows (cron runs each minute).
constexpr Millis k_poll_ms = 60'000;
// Guards ceil() against 2.0000000001 from float sums that should be 2.
constexpr double k_eps = 1e-9;

inline int ceil_int(double x)
{
  return int(std::ceil(x - k_eps));
}

// The usable metric of one poll: samples with a value from instances past their warm-up.
struct Observation
{
  int used = 0;
  int warmup = 0;
  int missing = 0;
  double sum = 0;
  int instances = 0;  // all samples of the poll, used or not

  bool ok() const { return used > 0; }
  double mean() const { return used > 0 ? sum / used : 0.0; }
};

// Return what the policy can use of poll `t`.
Observation observe(const Tick& t, const PolicyConfig& c);

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
  std::vector<std::pair<std::string, double>> inputs;
  std::vector<Clamp> clamps;  // limits the rule applies itself (rate limit, stabilization)
};

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

} // namespace policy::detail
