#include "metrics/sensu.hpp"

#include "http/encoding.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>

namespace metrics {

namespace {

constexpr int k_max_pages = 10000;

// Return the error of a Sensu answer that is not 200. Sensu Core answers 401 with an empty
// body and `WWW-Authenticate: Basic realm="Restricted Area"` (lib/sensu/api/http_handler.rb);
// Sensu Go answers 401 with the text "Request unauthorized" and other errors with
// {"Code":N,"Message":"..."} or {"code":N,"message":"..."} (backend/apid).
core::Error sensu_answer_error(long http_status, std::string_view body, const char* service)
{
  std::string detail;
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object()) {
    for (const char* key : {"message", "Message", "error"}) {
      if (auto it = doc.find(key); it != doc.end() && it->is_string()) {
        detail = it->get<std::string>();
        break;
      }
    }
  } else if (!doc.is_discarded() || !body.empty()) {
    detail = std::string(body.substr(0, 200));
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) {
      detail.pop_back();
    }
  }
  core::ErrorKind kind = core::ErrorKind::upstream_rejected;
  if (http_status == 401 || http_status == 403) {
    kind = core::ErrorKind::upstream_auth;
  } else if (http_status == 429 || http_status >= 500) {
    kind = core::ErrorKind::upstream_transient;
  }
  auto e = core::make_error(kind,
                            fmt::format("{} answered HTTP {}{}", service, http_status,
                                        detail.empty() ? "" : ": " + detail),
                            service);
  e.http_status = static_cast<int>(http_status);
  return e;
}

// Return the integer at `key`, 0 when it is missing, not a number or out of the int64 range
// (a float such as 1e300 converted as is would be undefined behaviour).
std::int64_t int_of(const nlohmann::json& obj, const char* key)
{
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) {
    return 0;
  }
  if (it->is_number_float()) {
    const double d = it->get<double>();
    // 2^63 is exactly representable; anything from it up does not fit.
    if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0)) {
      return 0;
    }
    return static_cast<std::int64_t>(d);
  }
  if (it->is_number_unsigned()) {
    const auto u = it->get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(INT64_MAX) ? 0 : static_cast<std::int64_t>(u);
  }
  return it->get<std::int64_t>();
}

// Return epoch ms of a Sensu time in seconds; 0 for a time no clock will show (negative, or
// so large that it does not fit in ms).
core::Millis seconds_to_ms(std::int64_t seconds)
{
  if (seconds <= 0 || seconds > INT64_MAX / 1000) {
    return 0;
  }
  return seconds * 1000;
}

// Return a check status: 0 OK, 1 warning, 2 critical; anything else is unknown (3), never
// truncated into one of them.
int status_of(const nlohmann::json& check)
{
  const auto s = int_of(check, "status");
  return s >= 0 && s <= 255 ? static_cast<int>(s) : 3;
}

std::string text_of(const nlohmann::json& obj, const char* key)
{
  if (auto it = obj.find(key); it != obj.end() && it->is_string()) {
    return it->get<std::string>();
  }
  return {};
}

core::Error sensu_malformed(const char* service, const char* what)
{
  return core::make_error(core::ErrorKind::upstream_rejected,
                          fmt::format("malformed {} answer: {}", service, what), service);
}

} // namespace

core::Result<std::vector<CheckResult>> parse_sensu_results(std::string_view body,
                                                           long http_status,
                                                           std::string_view check)
{
  // Shape from the Sensu Core 1.x Results API documentation (docs.sensu.io/sensu-core/1.9/
  // api/results): [{"client":"i-424242","check":{"name":"...","output":"...","status":1,
  // "issued":1389374667,"executed":1389374667,...}}], times in Unix seconds.
  if (http_status != 200) {
    return tl::make_unexpected(sensu_answer_error(http_status, body, "sensu"));
  }
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    return tl::make_unexpected(sensu_malformed("sensu", "not a JSON array"));
  }
  std::vector<CheckResult> out;
  for (const auto& item : doc) {
    if (!item.is_object()) {
      return tl::make_unexpected(sensu_malformed("sensu", "a result is not an object"));
    }
    const auto c = item.find("check");
    if (c == item.end() || !c->is_object()) {
      return tl::make_unexpected(sensu_malformed("sensu", "a result has no check"));
    }
    if (text_of(*c, "name") != check) {
      continue;
    }
    CheckResult r;
    r.entity = text_of(item, "client");
    r.status = status_of(*c);
    r.output = text_of(*c, "output");
    r.executed = seconds_to_ms(int_of(*c, "executed"));
    out.push_back(std::move(r));
  }
  return out;
}

core::Millis point_ts_ms(std::int64_t ts)
{
  // As sensu-go's MetricPoint.TimestampAsMilliseconds: by order of magnitude.
  if (ts <= 0) {
    return 0;
  }
  const double digits = std::log10(static_cast<double>(ts));
  if (digits < 10) {
    return ts * 1000;
  }
  if (digits < 13) {
    return ts;
  }
  if (digits < 16) {
    return ts / 1000;
  }
  return ts / 1'000'000;
}

core::Result<std::vector<CheckResult>> parse_sensu_go_events(std::string_view body,
                                                             long http_status,
                                                             std::string_view check)
{
  // Shape from the Sensu Go core/v2/events API documentation (docs.sensu.io/sensu-go/6.6/api/
  // core/events): [{"check":{"metadata":{"name":"check-cpu"},"output":"...","status":0,
  // "executed":1620313661,...},"entity":{"metadata":{"name":"server1"},...},
  // "metrics":{"points":[{"name":"...","value":0.4,"timestamp":...,"tags":[]}]},
  // "timestamp":1620313666}]. metrics appears only for metric checks.
  if (http_status != 200) {
    return tl::make_unexpected(sensu_answer_error(http_status, body, "sensu_go"));
  }
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    return tl::make_unexpected(sensu_malformed("sensu_go", "not a JSON array"));
  }
  std::vector<CheckResult> out;
  for (const auto& event : doc) {
    if (!event.is_object()) {
      return tl::make_unexpected(sensu_malformed("sensu_go", "an event is not an object"));
    }
    const auto c = event.find("check");
    const auto entity = event.find("entity");
    if (c == event.end() || !c->is_object() || entity == event.end() || !entity->is_object()) {
      continue;  // events are polymorphic: one without a check or entity is not ours
    }
    const auto cm = c->find("metadata");
    const auto em = entity->find("metadata");
    if (cm == c->end() || !cm->is_object() || em == entity->end() || !em->is_object()) {
      return tl::make_unexpected(sensu_malformed("sensu_go", "an event has no metadata"));
    }
    if (text_of(*cm, "name") != check) {
      continue;
    }
    CheckResult r;
    r.entity = text_of(*em, "name");
    r.status = status_of(*c);
    r.output = text_of(*c, "output");
    r.executed = seconds_to_ms(int_of(*c, "executed"));
    if (auto m = event.find("metrics"); m != event.end() && m->is_object()) {
      if (auto points = m->find("points"); points != m->end() && points->is_array()) {
        for (const auto& p : *points) {
          const auto value = p.find("value");
          if (!p.is_object() || value == p.end() || !value->is_number()) {
            continue;
          }
          r.points.push_back(
            MetricPoint{text_of(p, "name"), value->get<double>(), point_ts_ms(int_of(p, "timestamp"))});
        }
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<Pagination> parse_x_pagination(std::string_view header)
{
  const auto doc = nlohmann::json::parse(header, nullptr, false);
  if (!doc.is_object()) {
    return std::nullopt;
  }
  Pagination p;
  p.limit = static_cast<long>(int_of(doc, "limit"));
  p.offset = static_cast<long>(int_of(doc, "offset"));
  p.total = static_cast<long>(int_of(doc, "total"));
  if (p.limit <= 0 || p.offset < 0 || p.total < 0) {
    return std::nullopt;
  }
  return p;
}

Reading reading_from_check(const CheckResult& result, const CheckParse& parse)
{
  Reading r;
  r.ts = result.executed;
  if (parse.format == OutputFormat::status) {
    // The original tool's rule: a warning or critical result on the check means high load.
    if (result.status == 0) {
      r.value = 0.0;
    } else if (result.status == 1 || result.status == 2) {
      r.value = parse.event_load;
    } else {
      r.error = fmt::format("check status {} (unknown)", result.status);
    }
    return r;
  }
  for (const auto& wanted : parse.names) {
    for (const auto& p : result.points) {
      if (metric_name_matches(p.name, wanted) && std::isfinite(p.value)) {
        r.value = p.value;
        if (p.ts > 0) {
          r.ts = p.ts;
        }
        return r;
      }
    }
  }
  auto v = parse_check_output(result.output, parse.format, parse.names);
  if (!v) {
    r.error = v.error().message;
    return r;
  }
  r.value = v->value;
  if (v->ts) {
    r.ts = *v->ts;
  }
  return r;
}

std::vector<Reading> readings_from_checks(const std::vector<core::InstanceRef>& instances,
                                          const std::vector<CheckResult>& results,
                                          MatchBy match,
                                          const CheckParse& parse,
                                          std::string_view check)
{
  std::vector<std::string> keys;
  keys.reserve(results.size());
  for (const auto& r : results) {
    keys.push_back(r.entity);
  }
  const auto by_key = index_by_key(keys, match, "sensu");
  std::vector<Reading> out;
  out.reserve(instances.size());
  for (const auto& i : instances) {
    const auto key = instance_key(i, match);
    const auto it = by_key.find(key);
    Reading r;
    if (it == by_key.end()) {
      r.error = fmt::format("no result of check '{}' for '{}'", check, key);
    } else if (it->second < 0) {
      r.error = fmt::format("more than one result of check '{}' for '{}'", check, key);
    } else {
      r = reading_from_check(results[static_cast<size_t>(it->second)], parse);
    }
    r.instance = i.name;
    out.push_back(std::move(r));
  }
  return out;
}

CheckParse check_parse_from(const SensuConfig& config)
{
  CheckParse p;
  p.format = output_format_from(config.format).value_or(OutputFormat::auto_detect);
  p.names = split_names(config.metric);
  p.event_load = config.event_load;
  return p;
}

SensuSource::SensuSource(http::HttpTransport& transport, const SensuConfig& config)
  : m_transport(transport),
    m_config(config),
    m_parse(check_parse_from(config)),
    m_match(match_by_from(config.match).value_or(MatchBy::name))
{
}

http::HttpRequest SensuSource::request(long offset) const
{
  // filter.* is Sensu Core's response content filtering (1.4+; older servers ignore it, and
  // the parser filters again). It applies after pagination, so a page may hold fewer items.
  http::HttpRequest r;
  r.url = fmt::format("{}/results?filter.check.name={}&limit={}&offset={}", m_config.url,
                      http::url_encode(m_config.check), m_config.page_size, offset);
  r.timeout_ms = m_config.timeout_ms;
  if (!m_config.user.empty()) {
    r.headers.emplace_back("Authorization", http::basic_auth(m_config.user, m_config.password));
  }
  return r;
}

core::Result<std::vector<CheckResult>> SensuSource::fetch()
{
  // Reads, safe to repeat: each page is retried on a transient failure (read_with_retry).
  auto page_of = [this](const http::HttpResponse& r) {
    return parse_sensu_results(r.body, r.status, m_config.check);
  };
  std::string pagination;
  TRY_ASSIGN(auto results,
             read_with_retry(m_transport, request(0), m_deadline, *m_clock, "sensu",
                             [&](const http::HttpResponse& r) {
                               pagination = r.header("x-pagination");
                               return page_of(r);
                             }));
  const auto page = parse_x_pagination(pagination);
  if (!page || page->offset + page->limit >= page->total) {
    return results;  // one page, or a server without pagination that sent everything
  }
  // The first page told the total: ask for the other pages at once.
  std::vector<http::HttpRequest> rest;
  for (long offset = page->limit; offset < page->total && rest.size() < k_max_pages;
       offset += page->limit) {
    rest.push_back(request(offset));
  }
  auto answers = m_transport.send_batch(rest, http::BatchOptions{4, m_deadline});
  for (size_t k = 0; k < answers.size(); ++k) {
    auto more = answers[k] ? page_of(*answers[k]) : tl::make_unexpected(answers[k].error());
    if (!more && more.error().kind == core::ErrorKind::upstream_transient) {
      more = read_with_retry(m_transport, rest[k], m_deadline, *m_clock, "sensu", page_of);
    }
    if (!more) {
      return tl::make_unexpected(more.error());
    }
    std::move(more->begin(), more->end(), std::back_inserter(results));
  }
  return results;
}

std::vector<Reading> SensuSource::poll(const std::vector<core::InstanceRef>& instances)
{
  if (instances.empty()) {
    return {};
  }
  auto results = fetch();
  if (!results) {
    return all_failed(instances, results.error());
  }
  return readings_from_checks(instances, *results, m_match, m_parse, m_config.check);
}

SensuGoSource::SensuGoSource(http::HttpTransport& transport,
                             const SensuConfig& sensu,
                             const SensuGoConfig& config)
  : m_transport(transport),
    m_sensu(sensu),
    m_config(config),
    m_parse(check_parse_from(sensu)),
    m_match(match_by_from(sensu.match).value_or(MatchBy::name))
{
}

http::HttpRequest SensuGoSource::request(const std::string& token) const
{
  // fieldSelector (event.check.name) is a commercial feature of Sensu Go: filter here instead.
  http::HttpRequest r;
  r.url = fmt::format("{}/api/core/v2/namespaces/{}/events?limit={}", m_config.url,
                      http::url_encode(m_config.ns), m_sensu.page_size);
  if (!token.empty()) {
    r.url += "&continue=" + http::url_encode(token);
  }
  r.timeout_ms = m_sensu.timeout_ms;
  if (!m_config.api_key.empty()) {
    r.headers.emplace_back("Authorization", "Key " + m_config.api_key);
  }
  return r;
}

core::Result<std::vector<CheckResult>> SensuGoSource::fetch()
{
  std::vector<CheckResult> results;
  std::string token;
  for (int page = 0; page < k_max_pages; ++page) {
    std::string next;
    TRY_ASSIGN(auto more, read_with_retry(m_transport, request(token), m_deadline, *m_clock,
                                          "sensu_go",
                                          [&](const http::HttpResponse& r) {
                                            // Sensu-Continue: present while more objects
                                            // follow (API overview, Pagination).
                                            next = r.header("sensu-continue");
                                            return parse_sensu_go_events(r.body, r.status,
                                                                         m_sensu.check);
                                          }));
    std::move(more.begin(), more.end(), std::back_inserter(results));
    token = next;
    if (token.empty()) {
      return results;
    }
  }
  return core::fail(core::ErrorKind::upstream_rejected,
                    fmt::format("sensu_go events still continue after {} pages", k_max_pages),
                    "sensu_go");
}

std::vector<Reading> SensuGoSource::poll(const std::vector<core::InstanceRef>& instances)
{
  if (instances.empty()) {
    return {};
  }
  auto results = fetch();
  if (!results) {
    return all_failed(instances, results.error());
  }
  return readings_from_checks(instances, *results, m_match, m_parse, m_sensu.check);
}

} // namespace metrics
