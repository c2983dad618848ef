#include "metrics/source.hpp"

namespace metrics {

std::optional<double> counter_rate(std::int64_t previous,
                                   core::Millis previous_ts,
                                   std::int64_t current,
                                   core::Millis current_ts)
{
  if (current_ts <= previous_ts) {
    return std::nullopt;
  }
  const double seconds = static_cast<double>(current_ts - previous_ts) / 1000.0;
  const auto delta = current >= previous ? current - previous : current;
  return static_cast<double>(delta) / seconds;
}

} // namespace metrics
