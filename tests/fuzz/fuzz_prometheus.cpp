// libFuzzer target: a Prometheus /api/v1/query answer never crashes the parser, an error status
// is never taken for a success, and accepted series match instances without crashing.
#include "metrics/prometheus.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  spdlog::set_level(spdlog::level::off);  // refused labels are logged: not the fuzzer's output
  if (const auto series = metrics::parse_prometheus_vector(body, 200, "instance")) {
    std::vector<core::InstanceRef> instances(2);
    instances[0].name = "shop-web-1";
    instances[0].address = "127.0.0.1:8081";
    instances[1].name = "shop-web-2";
    instances[1].address = "127.0.0.1:8082";
    for (const auto match : {metrics::MatchBy::address, metrics::MatchBy::host,
                             metrics::MatchBy::name}) {
      // The same answer as values and as times: any number as a time must be survived.
      const auto r = metrics::readings_from_series(instances, *series, *series, match, "instance");
      if (r.size() != instances.size()) {
        std::abort();
      }
    }
  }
  for (const long status : {400L, 422L, 503L}) {
    if (metrics::parse_prometheus_vector(body, status, "instance")) {
      std::abort();
    }
  }
  return 0;
}
