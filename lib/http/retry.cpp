#include "http/retry.hpp"

#include <algorithm>
#include <charconv>
#include <random>

namespace http {

std::optional<int> parse_retry_after(std::string_view value)
{
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) {
    value.remove_suffix(1);
  }
  int out = 0;
  const auto* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, out);
  if (value.empty() || ec != std::errc() || ptr != end || out < 0) {
    return std::nullopt;
  }
  return out;
}

core::Millis equal_jitter(core::Millis backoff, double fraction)
{
  const auto half = backoff / 2;
  return half + static_cast<core::Millis>(static_cast<double>(backoff - half)
                                          * std::clamp(fraction, 0.0, 1.0));
}

double random_fraction()
{
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

} // namespace http
