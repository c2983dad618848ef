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
  std::string label = "instance";  // the label that names the instance in each series
  std::string match = "host";      // the label value is the instance's address, host or name
  std::string user;                // basic auth (optional)
  std::string password;            // basic auth (optional; never logged)
  std::string bearer_token;        // Authorization: Bearer (optional; never logged)
  int timeout_ms = 5000;           // timeout of the query
};

// Return the keys of [PROMETHEUS].
std::vector<core::KeyDef> prometheus_keys();

} // namespace metrics
