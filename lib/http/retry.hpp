// Retrying a request that is safe to repeat: equal-jitter backoff, and the server's Retry-After.
#pragma once

#include "core/clock.hpp"

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

} // namespace http
