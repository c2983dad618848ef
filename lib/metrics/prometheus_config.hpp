// [PROMETHEUS]: where the prometheus source sends its query.
#pragma once

#include "core/config.hpp"

#include <string>
#include <vector>

namespace metrics {

struct PrometheusConfig
{
  std::string url = "http://127.0.0.1:9090";  // the Prometheus server
  // The instant query, one per tick: CPU utilisation (%) per node_exporter instance.
  std::string query =
    "100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[2m])))";
  // The query giving, per series, the Unix time in seconds of the newest sample behind `query`
  // (compared with [METRICS] max_age). Empty: timestamp(query), or for the default query
  // max by (instance) (timestamp(node_cpu_seconds_total{mode="idle"})). See time_query_of.
  std::string time_query;
  std::string label = "instance";  // the label that names the instance in each series
  std::string match = "host";      // the label value is the instance's address, host or name
  std::string user;                // basic auth (optional)
  std::string password;            // basic auth (optional; never logged)
  std::string bearer_token;        // Authorization: Bearer (optional; never logged)
  int timeout_ms = 5000;           // timeout of the query
};

// Return the keys of [PROMETHEUS].
std::vector<core::KeyDef> prometheus_keys();

// Return the query that dates the samples of `config.query`: `time_query` when set; else
// timestamp() of the query, which Prometheus answers with each sample's own time only for a plain
// selector (of a computed expression, rate() or avg by, it is the evaluation time), so the
// default query has its own: the newest idle CPU sample of each node_exporter instance.
std::string time_query_of(const PrometheusConfig& config);

} // namespace metrics
