// Time as sclman sees it: milliseconds since the Unix epoch, behind an injectable clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

namespace core {

// Milliseconds since 1970-01-01T00:00:00Z; the unit of every timestamp in the state file.
using Millis = std::int64_t;

// Return a steady-clock reading in milliseconds, for deadlines and durations.
inline Millis steady_now()
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

class Clock
{
public:
  virtual ~Clock() = default;
  // Return the current wall-clock time.
  virtual Millis now() const = 0;
  // Wait `ms` milliseconds (nothing for 0 or less). Every wait in lib/ goes through this, so
  // that a test clock can advance its time instead of sleeping.
  virtual void sleep_for(Millis ms) = 0;
  // Return the steady time deadlines are measured in (core::steady_now unless a test clock
  // advances it by its sleeps).
  virtual Millis steady() const { return steady_now(); }
};

class SystemClock final : public Clock
{
public:
  Millis now() const override
  {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
  }
  void sleep_for(Millis ms) override
  {
    if (ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
  }
};

// Return the process's SystemClock, for code that has no clock injected yet.
inline SystemClock& system_clock()
{
  static SystemClock clock;
  return clock;
}

} // namespace core
