// libFuzzer target: Sensu Core results (GET /results), Sensu Go events (GET .../events), their
// error bodies and the X-Pagination header never crash the parsers, and every accepted result
// turns into a reading in each output format.
#include "metrics/sensu.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void readings(const std::vector<metrics::CheckResult>& results)
{
  using metrics::OutputFormat;
  for (const auto format : {OutputFormat::auto_detect, OutputFormat::nagios, OutputFormat::graphite,
                            OutputFormat::check_load, OutputFormat::status}) {
    metrics::CheckParse parse;
    parse.format = format;
    parse.names = {"load", "load1", "cpu"};
    for (const auto& r : results) {
      (void)metrics::reading_from_check(r, parse);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (const auto r = metrics::parse_sensu_results(body, 200, "load")) {
    readings(*r);
  }
  if (const auto r = metrics::parse_sensu_go_events(body, 200, "load")) {
    readings(*r);
  }
  if (metrics::parse_sensu_results(body, 500, "load")) {
    std::abort();  // an error status is never a success
  }
  if (metrics::parse_sensu_go_events(body, 401, "load")) {
    std::abort();
  }
  if (const auto p = metrics::parse_x_pagination(body);
      p && (p->limit <= 0 || p->offset < 0 || p->total < 0)) {
    std::abort();
  }
  return 0;
}
