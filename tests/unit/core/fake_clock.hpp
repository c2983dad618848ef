// A clock for unit tests: time (wall and steady) stands still until the code under test sleeps,
// and a sleep only advances it (and is recorded), so no test waits in real time.
#pragma once

#include "core/clock.hpp"

#include <vector>

namespace test {

struct FakeClock final : core::Clock
{
  core::Millis t = 1'000'000'000'000;
  core::Millis steady_t = core::steady_now();  // deadlines are set from core::steady_now()
  std::vector<core::Millis> slept;             // each sleep asked for, in order

  core::Millis now() const override { return t; }
  core::Millis steady() const override { return steady_t; }
  void sleep_for(core::Millis ms) override
  {
    slept.push_back(ms);
    t += ms > 0 ? ms : 0;
    steady_t += ms > 0 ? ms : 0;
  }
};

} // namespace test
