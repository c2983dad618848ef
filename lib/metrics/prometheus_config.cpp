#include "metrics/prometheus_config.hpp"

namespace metrics {

std::vector<core::KeyDef> prometheus_keys()
{
  using P = PrometheusConfig;
  return {
    {"PROMETHEUS", "url", core::url(&P::url)},
    {"PROMETHEUS", "query", core::text(&P::query)},
    {"PROMETHEUS", "time_query", core::text(&P::time_query)},
    {"PROMETHEUS", "label", core::text(&P::label)},
    {"PROMETHEUS", "match", core::one_of(&P::match, {"address", "host", "name"})},
    {"PROMETHEUS", "user", core::text(&P::user)},
    {"PROMETHEUS", "password", core::secret(&P::password)},
    {"PROMETHEUS", "bearer_token", core::secret(&P::bearer_token)},
    {"PROMETHEUS", "timeout_ms", core::int_in(&P::timeout_ms, 1, 600000)},
  };
}

std::string time_query_of(const PrometheusConfig& config)
{
  if (!config.time_query.empty()) {
    return config.time_query;
  }
  if (config.query == PrometheusConfig{}.query) {
    return "max by (instance) (timestamp(node_cpu_seconds_total{mode=\"idle\"}))";
  }
  return "timestamp(" + config.query + ")";
}

} // namespace metrics
