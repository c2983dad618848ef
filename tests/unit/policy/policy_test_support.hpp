// Builders of policy histories for the policy unit tests.
#pragma once

#include "policy/policy.hpp"

#include <fmt/format.h>

#include <cmath>
#include <vector>

namespace policy_test {

constexpr policy::Millis k_minute = 60'000;
// A "now" far from the epoch, so that 0 keeps meaning "never" for actions.
constexpr policy::Millis k_now = 1'700'000'000'000;

// Return a poll at `ts` where `instances` instances report `value` each.
inline policy::Tick tick(policy::Millis ts, int instances, std::optional<double> value)
{
  policy::Tick t;
  t.ts = ts;
  for (int i = 0; i < instances; ++i) {
    t.samples.push_back(policy::InstanceSample{fmt::format("web-{}", i + 1), value, 0});
  }
  return t;
}

// Return a history of one-minute polls ending at `now`, one per value (oldest first), each with
// `desired` instances in service reporting that value.
inline policy::History history(int desired,
                               const std::vector<std::optional<double>>& values,
                               policy::Millis now = k_now)
{
  policy::History h;
  h.desired = desired;
  h.in_service = desired;
  for (size_t i = 0; i < values.size(); ++i) {
    const auto ts = now - policy::Millis(values.size() - 1 - i) * k_minute;
    h.ticks.push_back(tick(ts, desired, values[i]));
  }
  return h;
}

// Return the value of input `name` of `d`, or NaN.
inline double input(const policy::Decision& d, const std::string& name)
{
  for (const auto& [n, v] : d.inputs) {
    if (n == name) {
      return v;
    }
  }
  return std::nan("");
}

// Return true if `d` applied a clamp named `name`.
inline bool clamped(const policy::Decision& d, const std::string& name)
{
  for (const auto& c : d.why.clamps) {
    if (c.name == name) {
      return true;
    }
  }
  return false;
}

} // namespace policy_test
