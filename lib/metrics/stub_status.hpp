// nginx stub_status: the `requests` counter of each web instance's own nginx.
#pragma once

#include "core/endpoint.hpp"
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

// Where each web instance's nginx serves stub_status (local::k_status_path writes it there).
inline constexpr std::string_view k_stub_status_path = "/nginx_status";

// The connections a stub_status reading shows besides the one that read it: all of them, and
// those with a request in flight (being read or written; the rest wait idle for a next request).
struct Connections
{
  std::int64_t open = 0;
  std::int64_t in_flight = 0;
};

// Return the connections of `s` other than the reader's own (counted as one writing), never
// below 0.
Connections connections_of(const StubStatus& s);

// GET the stub_status of `endpoint` and return its connections other than this request, or
// why there are none to tell (no answer, not 200, not a stub_status page).
core::Result<Connections> probe_connections(http::HttpTransport& transport,
                                            const core::Endpoint& endpoint, long timeout_ms);

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
