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
// error the answer carries: HTTP 400 bad_data (bad PromQL) is a config error; 422
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

  // Return the request of the query (URL with the encoded query, auth header), and of the query
  // that dates its samples (time_query_of).
  http::HttpRequest request() const;
  http::HttpRequest time_request() const;

private:
  http::HttpRequest request_for(const std::string& query) const;

  http::HttpTransport& m_transport;
  PrometheusConfig m_config;
  MatchBy m_match;
};

// Return one reading per instance from `series` (pure: what poll does after the requests),
// dated by `times`, the answer of the time query: a series' value is the Unix time in seconds of
// its sample. A reading without a time of its own (no or more than one time series, a time no
// clock shows) gets ts 0, which poll-load counts as stale: the evaluation time of the query
// never stands in for the sample's.
std::vector<Reading> readings_from_series(const std::vector<core::InstanceRef>& instances,
                                          const std::vector<Series>& series,
                                          const std::vector<Series>& times,
                                          MatchBy match,
                                          std::string_view label);

} // namespace metrics
