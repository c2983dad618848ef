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

std::optional<core::Millis> Backoff::next(int attempt,
                                          std::optional<std::chrono::seconds> retry_after,
                                          core::Millis steady_now)
{
  core::Millis wait = equal_jitter(m_backoff, random_fraction());
  if (retry_after) {
    const auto asked = core::Millis(retry_after->count()) * 1000;
    wait = m_policy.retry_after_is_wait ? asked : std::max(wait, asked);
  }
  m_backoff *= 2;
  if (m_policy.max_backoff > 0) {
    m_backoff = std::min(m_backoff, m_policy.max_backoff);
  }
  const auto& p = m_policy;
  if ((p.attempts > 0 && attempt >= p.attempts) || (p.longest_wait > 0 && wait > p.longest_wait)
      || (p.deadline == 0 && !p.retry_without_deadline)
      || (p.deadline > 0 && steady_now + wait + p.deadline_margin >= p.deadline)) {
    return std::nullopt;
  }
  return wait;
}

} // namespace http
