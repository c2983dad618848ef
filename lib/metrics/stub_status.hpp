// nginx stub_status: the `requests` counter of each web instance's own nginx.
#pragma once

#include "core/result.hpp"
#include "http/transport.hpp"
#include "metrics/source.hpp"

#include <string_view>

namespace metrics {

struct StubStatus
{
  std::int64_t active = 0;
  std::int64_t accepts = 0;
  std::int64_t handled = 0;
  std::int64_t requests = 0;
  std::int64_t reading = 0;
  std::int64_t writing = 0;
  std::int64_t waiting = 0;
};

// Return the counters of a stub_status page in exactly the layout nginx writes, each from 0 to
// 2^63-1, or an upstream_rejected error saying where the body differs (the excerpt escaped).
core::Result<StubStatus> parse_stub_status(std::string_view text);

class StubStatusSource final : public MetricsSource
{
public:
  StubStatusSource(http::HttpTransport& transport,
                   core::Clock& clock,
                   long timeout_ms,
                   int parallel = 64);
  std::vector<Reading> poll(const std::vector<core::InstanceRef>& instances) override;

private:
  http::HttpTransport& m_transport;
  core::Clock& m_clock;
  long m_timeout_ms;
  int m_parallel;
};

} // namespace metrics
