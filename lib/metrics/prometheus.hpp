// Prometheus: one instant query per tick (GET /api/v1/query), its series matched to instances
// by one label.
#pragma once

#include "metrics/prometheus_config.hpp"
#include "core/result.hpp"
#include "http/transport.hpp"
#include "metrics/source.hpp"

#include <string_view>

namespace metrics {

struct Series
{
  std::string key;    // the value of the matching label ("" when the series lacks it)
  core::Millis ts = 0;
  double value = 0;   // may be NaN or +-Inf: Prometheus sends them as "NaN", "+Inf", "-Inf"
};

// Return the series of an instant-vector answer of /api/v1/query with their `label`, or the
// error the answer carries: HTTP 400 bad_data (bad PromQL) is upstream_rejected; 422
// execution, 503 unavailable, timeout and canceled are upstream_transient; 401 and 403 are
// upstream_auth. `http_status` is the answer's status.
core::Result<std::vector<Series>> parse_prometheus_vector(std::string_view body,
                                                          long http_status,
                                                          std::string_view label);

class PrometheusSource final : public MetricsSource
{
public:
  PrometheusSource(http::HttpTransport& transport, const PrometheusConfig& config);
  // One query for all `instances`; a transient failure is retried (at most 3 attempts, with
  // backoff and Retry-After, within the deadline), any other leaves every instance without a
  // value and the error.
  std::vector<Reading> poll(const std::vector<core::InstanceRef>& instances) override;

  // Return the query request (URL with the encoded query, auth header).
  http::HttpRequest request() const;

private:
  http::HttpTransport& m_transport;
  PrometheusConfig m_config;
  MatchBy m_match;
};

// Return one reading per instance from `series` (pure: what poll does after the request).
std::vector<Reading> readings_from_series(const std::vector<core::InstanceRef>& instances,
                                          const std::vector<Series>& series,
                                          MatchBy match,
                                          std::string_view label);

} // namespace metrics
