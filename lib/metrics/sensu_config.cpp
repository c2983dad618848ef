#include "metrics/sensu_config.hpp"

namespace metrics {

std::vector<core::KeyDef> sensu_keys()
{
  using S = SensuConfig;
  return {
    {"SENSU", "url", core::url(&S::url)},
    {"SENSU", "user", core::text(&S::user)},
    {"SENSU", "password", core::secret(&S::password)},
    {"SENSU", "check", core::text(&S::check)},
    {"SENSU", "format",
     core::one_of(&S::format, {"auto", "nagios", "graphite", "check_load", "status"})},
    {"SENSU", "metric", core::text(&S::metric)},
    {"SENSU", "event_load", core::double_in(&S::event_load, 0.0, 1e12)},
    {"SENSU", "match", core::one_of(&S::match, {"name", "host"})},
    {"SENSU", "page_size", core::int_in(&S::page_size, 1, 100000)},
    {"SENSU", "timeout_ms", core::int_in(&S::timeout_ms, 1, 600000)},
  };
}

std::vector<core::KeyDef> sensu_go_keys()
{
  using G = SensuGoConfig;
  return {
    {"SENSU_GO", "url", core::url(&G::url)},
    {"SENSU_GO", "namespace", core::text(&G::ns)},
    {"SENSU_GO", "api_key", core::secret(&G::api_key)},
  };
}

} // namespace metrics
