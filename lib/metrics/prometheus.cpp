#include "metrics/prometheus.hpp"

#include "core/log.hpp"
#include "core/time.hpp"
#include "http/encoding.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace metrics {

namespace {

core::Result<double> parse_sample_value(const nlohmann::json& v)
{
  // The HTTP API sends sample values as strings ("0.511", "NaN", "+Inf", "-Inf").
  if (!v.is_string()) {
    return core::fail(core::ErrorKind::upstream_rejected, "sample value is not a string",
                      "prometheus");
  }
  const auto& s = v.get_ref<const std::string&>();
  if (s == "NaN") {
    return std::nan("");
  }
  if (s == "+Inf" || s == "Inf") {
    return HUGE_VAL;
  }
  if (s == "-Inf") {
    return -HUGE_VAL;
  }
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) {
    return core::fail(core::ErrorKind::upstream_rejected,
                      fmt::format("malformed sample value '{}'", s), "prometheus");
  }
  return d;
}

// A string member, or "" when it is missing or of another type (json::value() would throw).
std::string string_field(const nlohmann::json& object, const char* key)
{
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

core::Error answer_error(long http_status, const std::string& type, const std::string& message)
{
  core::ErrorKind kind = core::ErrorKind::upstream_rejected;
  if (http_status == 400 && type == "bad_data") {
    // The query is the only parameter sclman sends: bad_data is bad PromQL in the config, which
    // no retry mends.
    kind = core::ErrorKind::config;
  } else if (http_status == 401 || http_status == 403) {
    kind = core::ErrorKind::upstream_auth;
  } else if (http_status == 429 || http_status >= 500 || http_status == 422 || type == "timeout"
             || type == "canceled" || type == "unavailable" || type == "execution") {
    kind = core::ErrorKind::upstream_transient;
  }
  auto e = core::make_error(kind,
                            fmt::format("prometheus answered HTTP {}{}{}", http_status,
                                        type.empty() ? "" : " " + type,
                                        message.empty() ? "" : ": " + message),
                            "prometheus");
  e.http_status = static_cast<int>(http_status);
  return e;
}

} // namespace

core::Result<std::vector<Series>> parse_prometheus_vector(std::string_view body,
                                                          long http_status,
                                                          std::string_view label)
{
  // Shapes from the Prometheus HTTP API documentation (docs/querying/api.md):
  //   {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},
  //    "value":[<unix seconds float>,"<value>"]}]}}
  //   {"status":"error","errorType":"bad_data","error":"..."} with 400, 422 or 503.
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    if (http_status != 200) {
      return tl::make_unexpected(answer_error(http_status, "", ""));
    }
    return core::fail(core::ErrorKind::upstream_rejected, "prometheus answer is not JSON",
                      "prometheus");
  }
  const auto status = string_field(doc, "status");
  if (status != "success" || http_status != 200) {
    return tl::make_unexpected(
      answer_error(http_status, string_field(doc, "errorType"),
                   string_field(doc, "error")));
  }
  const auto data = doc.find("data");
  if (data == doc.end() || !data->is_object()) {
    return core::fail(core::ErrorKind::upstream_rejected, "prometheus answer has no data",
                      "prometheus");
  }
  const auto type = string_field(*data, "resultType");
  if (type != "vector") {
    return core::fail(core::ErrorKind::upstream_rejected,
                      fmt::format("query must give an instant vector, not a {}", type),
                      "prometheus");
  }
  const auto result = data->find("result");
  if (result == data->end() || !result->is_array()) {
    return core::fail(core::ErrorKind::upstream_rejected, "prometheus answer has no result",
                      "prometheus");
  }
  std::vector<Series> out;
  out.reserve(result->size());
  const std::string label_name(label);
  for (const auto& item : *result) {
    const auto metric = item.find("metric");
    const auto value = item.find("value");
    if (!item.is_object() || value == item.end() || !value->is_array() || value->size() != 2
        || !(*value)[0].is_number()) {
      return core::fail(core::ErrorKind::upstream_rejected, "malformed series in the answer",
                        "prometheus");
    }
    Series s;
    if (metric != item.end() && metric->is_object()) {
      if (auto l = metric->find(label_name); l != metric->end() && l->is_string()) {
        s.key = l->get<std::string>();
      }
    }
    const auto ts = core::epoch_seconds_to_ms((*value)[0].get<double>());
    if (!ts) {
      return core::fail(core::ErrorKind::upstream_rejected, "series with a time no clock shows",
                        "prometheus");
    }
    s.ts = *ts;
    TRY_ASSIGN(s.value, parse_sample_value((*value)[1]));
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

std::unordered_map<std::string, long> index_series(const std::vector<Series>& series,
                                                   MatchBy match,
                                                   std::string_view source)
{
  std::vector<std::string> keys;
  keys.reserve(series.size());
  for (const auto& s : series) {
    keys.push_back(s.key);
  }
  return index_by_key(keys, match, source);
}

} // namespace

std::vector<Reading> readings_from_series(const std::vector<core::InstanceRef>& instances,
                                          const std::vector<Series>& series,
                                          const std::vector<Series>& times,
                                          MatchBy match,
                                          std::string_view label)
{
  const auto by_key = index_series(series, match, "prometheus");
  const auto time_by_key = index_series(times, match, "");  // the same labels: logged once
  std::vector<Reading> out;
  out.reserve(instances.size());
  for (const auto& i : instances) {
    Reading r;
    r.instance = i.name;
    const auto key = instance_key(i, match);
    const auto it = by_key.find(key);
    if (it == by_key.end()) {
      r.error = fmt::format("no series with {} matching '{}'", label, key);
    } else if (it->second < 0) {
      r.error = fmt::format("more than one series with {} matching '{}'", label, key);
    } else {
      const auto& s = series[static_cast<size_t>(it->second)];
      if (const auto t = time_by_key.find(key); t != time_by_key.end() && t->second >= 0) {
        r.ts = core::epoch_seconds_to_ms(times[static_cast<size_t>(t->second)].value).value_or(0);
      }
      if (std::isfinite(s.value)) {
        r.value = s.value;
      } else {
        r.error = fmt::format("prometheus gave {} for '{}'",
                              std::isnan(s.value) ? "NaN" : (s.value > 0 ? "+Inf" : "-Inf"),
                              key);
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

PrometheusSource::PrometheusSource(http::HttpTransport& transport,
                                   const PrometheusConfig& config)
  : m_transport(transport),
    m_config(config),
    m_match(match_by_from(config.match).value_or(MatchBy::host))
{
}

http::HttpRequest PrometheusSource::request() const
{
  return request_for(m_config.query);
}

http::HttpRequest PrometheusSource::time_request() const
{
  return request_for(time_query_of(m_config));
}

http::HttpRequest PrometheusSource::request_for(const std::string& query) const
{
  http::HttpRequest r;
  r.url = fmt::format("{}/api/v1/query?query={}", m_config.url, http::url_encode(query));
  r.timeout_ms = m_config.timeout_ms;
  if (!m_config.bearer_token.empty()) {
    r.headers.emplace_back("Authorization", "Bearer " + m_config.bearer_token);
  } else if (!m_config.user.empty()) {
    r.headers.emplace_back("Authorization", http::basic_auth(m_config.user, m_config.password));
  }
  return r;
}

std::vector<Reading> PrometheusSource::poll(const std::vector<core::InstanceRef>& instances)
{
  if (instances.empty()) {
    return {};
  }
  // An answer Prometheus refuses as a configuration error names the key whose query it was; a
  // transport error (a certificate, say) names its own remedy.
  const auto parse_for = [this](const char* key) {
    return [this, key](const http::HttpResponse& r) -> core::Result<std::vector<Series>> {
      auto parsed = parse_prometheus_vector(r.body, r.status, m_config.label);
      if (!parsed && parsed.error().kind == core::ErrorKind::config) {
        return core::fail(core::ErrorKind::config,
                          fmt::format("{} (check [PROMETHEUS] {})", parsed.error().message, key));
      }
      return parsed;
    };
  };
  auto series = read_with_retry(
    m_transport, request(), m_deadline, *m_clock, "prometheus", parse_for("query"));
  if (!series) {
    return all_failed(instances, series.error());
  }
  auto times = read_with_retry(
    m_transport, time_request(), m_deadline, *m_clock, "prometheus", parse_for("time_query"));
  if (!times) {
    return all_failed(instances, times.error());
  }
  // timestamp() of a computed expression answers the evaluation time, which would make every
  // sample look fresh however old its data: such times date nothing, and the samples count as
  // stale until time_query names the series behind the query.
  if (!times->empty() && std::all_of(times->begin(), times->end(), [](const Series& t) {
        return core::epoch_seconds_to_ms(t.value) == t.ts;
      })) {
    spdlog::warn("prometheus.time_query_gives_evaluation_time time_query={} hint={}",
                 core::log_quote(time_query_of(m_config)),
                 core::log_quote("set [PROMETHEUS] time_query to timestamp() of the series "
                                 "behind query"));
    times->clear();
  }
  return readings_from_series(instances, *series, *times, m_match, m_config.label);
}

} // namespace metrics
