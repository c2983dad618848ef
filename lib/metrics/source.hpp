// Where load comes from. One interface, one implementation per source (stub_status,
// prometheus, sensu). A source answers for many instances in as few requests as it can.
#pragma once

#include "core/clock.hpp"
#include "core/instance_ref.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace metrics {

struct Reading
{
  std::string instance;
  core::Millis ts = 0;                  // when the value was observed
  std::optional<double> value;          // a gauge (load, utilisation)
  std::optional<std::int64_t> counter;  // a monotonic counter (requests), turned into a rate
  bool reachable = true;                // false: the instance did not answer at all
  std::string error;                    // why there is no value
};

class MetricsSource
{
public:
  virtual ~MetricsSource() = default;
  // Return one reading per instance, in the order given. Never fails as a whole: an instance
  // that cannot be read gets a reading without value and with an error.
  virtual std::vector<Reading> poll(const std::vector<core::InstanceRef>& instances) = 0;
};

// Return the per-second rate between two counter readings; a counter that went down was reset
// (the process restarted) and counts from zero, as Prometheus' rate() does. Nothing if dt <= 0.
std::optional<double> counter_rate(std::int64_t previous,
                                   core::Millis previous_ts,
                                   std::int64_t current,
                                   core::Millis current_ts);

} // namespace metrics
