// Sensu: Sensu Core 1.x (GET /results, the original tool's monitoring) and Sensu Go
// (GET /api/core/v2/namespaces/NS/events). One paginated listing per tick; the value of each
// instance comes from its client's (entity's) result of one check: Sensu Go metric points when
// present, else the check output, or in status mode (the original tool's rule) a warning or
// critical result stands for high load.
#pragma once

#include "metrics/sensu_config.hpp"
#include "core/result.hpp"
#include "http/transport.hpp"
#include "metrics/check_output.hpp"
#include "metrics/source.hpp"

#include <cstdint>
#include <string_view>

namespace metrics {

struct MetricPoint
{
  std::string name;
  double value = 0;
  core::Millis ts = 0;
};

// One check result of one client (Core) or entity (Go).
struct CheckResult
{
  std::string entity;
  int status = 0;  // 0 OK, 1 warning, 2 critical, other unknown
  std::string output;
  core::Millis executed = 0;
  std::vector<MetricPoint> points;  // Sensu Go metrics.points
};

// How a check result becomes a value.
struct CheckParse
{
  OutputFormat format = OutputFormat::auto_detect;
  std::vector<std::string> names;  // metric names looked for, in order
  double event_load = 100.0;       // status mode: the load of a warning or critical result
};

// Return the results of check `check` in a Sensu Core GET /results answer, or the error the
// answer carries (401 upstream_auth, 5xx upstream_transient, other statuses rejected).
core::Result<std::vector<CheckResult>> parse_sensu_results(std::string_view body,
                                                           long http_status,
                                                           std::string_view check);

// Return the events of check `check` in a Sensu Go GET .../events answer, or its error.
core::Result<std::vector<CheckResult>> parse_sensu_go_events(std::string_view body,
                                                             long http_status,
                                                             std::string_view check);

struct Pagination
{
  long limit = 0;
  long offset = 0;
  long total = 0;
};

// Return the Sensu Core X-Pagination header ({"limit":1,"offset":1,"total":848}).
std::optional<Pagination> parse_x_pagination(std::string_view header);

// Return a Sensu Go metric point timestamp (seconds, ms, us or ns, told apart by size as
// sensu-go's MetricPoint does) in ms.
core::Millis point_ts_ms(std::int64_t ts);

// Return the reading one check result gives (pure).
Reading reading_from_check(const CheckResult& result, const CheckParse& parse);

// Return one reading per instance from `results` of check `check` (pure).
std::vector<Reading> readings_from_checks(const std::vector<core::InstanceRef>& instances,
                                          const std::vector<CheckResult>& results,
                                          MatchBy match,
                                          const CheckParse& parse,
                                          std::string_view check);

// Return the CheckParse [SENSU] describes.
CheckParse check_parse_from(const SensuConfig& config);

class SensuSource final : public MetricsSource
{
public:
  SensuSource(http::HttpTransport& transport, const SensuConfig& config);
  std::vector<Reading> poll(const std::vector<core::InstanceRef>& instances) override;

  // Return the request for the page at `offset`.
  http::HttpRequest request(long offset) const;

private:
  core::Result<std::vector<CheckResult>> fetch();

  http::HttpTransport& m_transport;
  SensuConfig m_config;
  CheckParse m_parse;
  MatchBy m_match;
};

class SensuGoSource final : public MetricsSource
{
public:
  SensuGoSource(http::HttpTransport& transport,
                const SensuConfig& sensu,
                const SensuGoConfig& config);
  std::vector<Reading> poll(const std::vector<core::InstanceRef>& instances) override;

  // Return the request for the page after continue token `token` (empty: the first).
  http::HttpRequest request(const std::string& token) const;

private:
  core::Result<std::vector<CheckResult>> fetch();

  http::HttpTransport& m_transport;
  SensuConfig m_sensu;
  SensuGoConfig m_config;
  CheckParse m_parse;
  MatchBy m_match;
};

} // namespace metrics
