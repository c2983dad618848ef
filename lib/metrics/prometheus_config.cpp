#include "metrics/prometheus_config.hpp"

namespace metrics {

std::vector<core::KeyDef> prometheus_keys()
{
  using P = PrometheusConfig;
  return {
    {"PROMETHEUS", "url", core::url(&P::url)},
    {"PROMETHEUS", "query", core::text(&P::query)},
    {"PROMETHEUS", "label", core::text(&P::label)},
    {"PROMETHEUS", "match", core::one_of(&P::match, {"address", "host", "name"})},
    {"PROMETHEUS", "user", core::text(&P::user)},
    {"PROMETHEUS", "password", core::secret(&P::password)},
    {"PROMETHEUS", "bearer_token", core::secret(&P::bearer_token)},
    {"PROMETHEUS", "timeout_ms", core::int_in(&P::timeout_ms, 1, 600000)},
  };
}

} // namespace metrics
