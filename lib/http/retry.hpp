// Retrying a request that is safe to repeat: equal-jitter backoff, and the server's Retry-After.
#pragma once

#include "core/clock.hpp"

#include <chrono>
#include <optional>
#include <string_view>

namespace http {

// Return the seconds of a Retry-After header value in its delta-seconds form ("12"); nothing
// when it is empty, negative, out of range or an HTTP date.
std::optional<int> parse_retry_after(std::string_view value);

// Return how long to wait before the next attempt when the exponential backoff is `backoff`
// ms: half of it plus `fraction` (clamped to [0, 1]) of the other half ("equal jitter"), so
// that the copies of sclman a failure hit at once do not retry in step.
core::Millis equal_jitter(core::Millis backoff, double fraction);

// Return a random fraction in [0, 1).
double random_fraction();

// How a driver retries a call that is safe to repeat. Every retry loop in lib/ waits what a
// Backoff built from one of these says.
struct RetryPolicy
{
  int attempts = 0;                // tries in all; 0: as many as the deadline allows
  core::Millis first_backoff = 500;
  core::Millis max_backoff = 0;    // the backoff doubles up to this; 0: no cap
  core::Millis longest_wait = 0;   // give up rather than wait longer than this; 0: no limit
  core::Millis deadline = 0;       // steady ms (core::steady_now) no wait may reach; 0: none
  core::Millis deadline_margin = 0;  // a wait must end this long before `deadline`
  bool retry_without_deadline = true;  // false: no deadline means no retry at all
  bool retry_after_is_wait = false;    // true: a Retry-After is the wait, not just its floor
};

// The waits between the attempts of one call: exponential backoff with equal jitter, at least
// the server's Retry-After (or exactly it, if the policy says so), within the attempts and the
// deadline of the policy.
class Backoff
{
public:
  explicit Backoff(RetryPolicy policy) : m_policy(policy), m_backoff(policy.first_backoff) {}

  // Return how long to wait after failed attempt `attempt` (1 for the first) at steady time
  // `steady_now`, when the server asked for `retry_after`; nothing to give up (the attempts
  // are used up, or the wait is too long or would reach the deadline). Doubles the backoff.
  std::optional<core::Millis> next(int attempt,
                                   std::optional<std::chrono::seconds> retry_after,
                                   core::Millis steady_now);

private:
  RetryPolicy m_policy;
  core::Millis m_backoff;
};

} // namespace http
