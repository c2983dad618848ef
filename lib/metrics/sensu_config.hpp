// [SENSU] and [SENSU_GO]: where the sensu and sensu_go sources read check results.
#pragma once

#include "core/config.hpp"

#include <string>
#include <vector>

namespace metrics {

// Sensu Core 1.x (GET /results) and how check output becomes a value (also for Sensu Go).
struct SensuConfig
{
  std::string url = "http://127.0.0.1:4567";  // the Sensu Core API
  std::string user;                            // basic auth (optional)
  std::string password;                        // basic auth (optional; never logged)
  std::string check = "load";                  // the check whose result is the load
  std::string format = "auto";  // auto, nagios, graphite, check_load, or status (seed mode)
  std::string metric = "load1, load_avg.one, load.avg";  // metric names looked for, in order
  double event_load = 100.0;    // status mode: the load a warning or critical result stands for
  std::string match = "name";   // the client (entity) is named by the instance's name or host
  int page_size = 1000;         // results (events) per request
  int timeout_ms = 5000;        // timeout of each request
};

// Sensu Go (GET /api/core/v2/namespaces/NS/events); check parsing as in [SENSU].
struct SensuGoConfig
{
  std::string url = "http://127.0.0.1:8080";  // the Sensu Go backend API
  std::string ns = "default";                  // the namespace (key `namespace`)
  std::string api_key;                         // Authorization: Key (never logged)
};

// Return the keys of [SENSU].
std::vector<core::KeyDef> sensu_keys();
// Return the keys of [SENSU_GO].
std::vector<core::KeyDef> sensu_go_keys();

} // namespace metrics
