// Time as sclman sees it: milliseconds since the Unix epoch, behind an injectable clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace core {

// Milliseconds since 1970-01-01T00:00:00Z; the unit of every timestamp in the state file.
using Millis = std::int64_t;

class Clock
{
public:
  virtual ~Clock() = default;
  // Return the current wall-clock time.
  virtual Millis now() const = 0;
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
};

// Return a steady-clock reading in milliseconds, for deadlines and durations.
inline Millis steady_now()
{
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace core
