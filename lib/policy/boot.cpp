// The boot time of a cluster's instances, and the predictive horizon it sets.
#include "policy/policy.hpp"

#include "policy/rule.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace policy {

BootTime estimate_boot_time(const std::vector<Millis>& durations_ms, int prior_s)
{
  constexpr Millis k_day_ms = 86'400'000;
  std::vector<Millis> recent;
  for (const Millis d : durations_ms) {
    if (d > 0 && d <= k_day_ms) {
      recent.push_back(d);
      if (recent.size() == size_t(k_boot_samples)) {
        break;
      }
    }
  }
  BootTime b;
  b.samples = int(recent.size());
  if (b.samples < k_boot_min_samples) {
    b.seconds = prior_s;
    b.source = "prior";
    b.detail = fmt::format("man_boot_timeout {} s: {} of the {} instances needed measured",
                           prior_s, b.samples, k_boot_min_samples);
    return b;
  }
  // The 90th percentile by nearest rank: with 5 to 9 samples, the longest.
  std::sort(recent.begin(), recent.end());
  const auto rank = size_t(std::max(1.0, std::ceil(0.9 * double(recent.size()))));
  const Millis p90 = recent[rank - 1];
  b.seconds = int((p90 + detail::k_ms - 1) / detail::k_ms);
  b.source = "measured";
  b.detail = fmt::format("p90 of the last {} instances' launch to in service", b.samples);
  return b;
}

PolicyConfig with_boot_time(PolicyConfig config, const BootTime& boot)
{
  if (config.kind == Kind::predictive && config.horizon_s == 0) {
    config.horizon_s =
      std::max(k_min_horizon_s, std::max(1, boot.seconds) + std::max(1, boot.poll_s));
  }
  return config;
}

int horizon_s(const PolicyConfig& config)
{
  return config.horizon_s > 0 ? config.horizon_s
                              : k_default_boot_s + int(detail::k_poll_ms / detail::k_ms);
}

} // namespace policy
