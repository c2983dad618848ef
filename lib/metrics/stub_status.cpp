#include "metrics/stub_status.hpp"

#include "core/endpoint.hpp"

#include <fmt/format.h>

#include <charconv>

namespace metrics {

namespace {

// Read the next unsigned decimal number at or after `pos`; advance `pos` past it.
std::optional<std::int64_t> next_number(std::string_view text, size_t& pos)
{
  while (pos < text.size() && (text[pos] < '0' || text[pos] > '9')) {
    if (text[pos] != ' ' && text[pos] != '\n' && text[pos] != '\r' && text[pos] != '\t') {
      return std::nullopt;
    }
    ++pos;
  }
  std::int64_t value = 0;
  const auto* begin = text.data() + pos;
  auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), value);
  if (ec != std::errc() || ptr == begin) {
    return std::nullopt;
  }
  pos += static_cast<size_t>(ptr - begin);
  return value;
}

bool expect(std::string_view text, size_t& pos, std::string_view word)
{
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\r')) {
    ++pos;
  }
  if (text.substr(pos, word.size()) != word) {
    return false;
  }
  pos += word.size();
  return true;
}

} // namespace

core::Result<StubStatus> parse_stub_status(std::string_view text)
{
  // The format nginx's ngx_http_stub_status_module writes:
  //   Active connections: 2 \nserver accepts handled requests\n 10 10 12 \n
  //   Reading: 0 Writing: 1 Waiting: 1 \n
  auto bad = [&](const char* what) {
    return core::fail(core::ErrorKind::upstream_rejected,
                      fmt::format("malformed stub_status: {}", what),
                      "nginx");
  };
  StubStatus s;
  size_t pos = 0;
  if (!expect(text, pos, "Active connections:")) {
    return bad("no 'Active connections:'");
  }
  auto active = next_number(text, pos);
  if (!active) {
    return bad("no active count");
  }
  if (!expect(text, pos, "server accepts handled requests")) {
    return bad("no counter header");
  }
  auto accepts = next_number(text, pos);
  auto handled = next_number(text, pos);
  auto requests = next_number(text, pos);
  if (!accepts || !handled || !requests) {
    return bad("missing counters");
  }
  s.active = *active;
  s.accepts = *accepts;
  s.handled = *handled;
  s.requests = *requests;
  if (expect(text, pos, "Reading:")) {
    s.reading = next_number(text, pos).value_or(0);
    if (expect(text, pos, "Writing:")) {
      s.writing = next_number(text, pos).value_or(0);
    }
    if (expect(text, pos, "Waiting:")) {
      s.waiting = next_number(text, pos).value_or(0);
    }
  }
  return s;
}

StubStatusSource::StubStatusSource(http::HttpTransport& transport,
                                   core::Clock& clock,
                                   long timeout_ms,
                                   int parallel)
  : m_transport(transport), m_clock(clock), m_timeout_ms(timeout_ms), m_parallel(parallel)
{
}

std::vector<Reading> StubStatusSource::poll(const std::vector<core::InstanceRef>& instances)
{
  std::vector<http::HttpRequest> requests;
  requests.reserve(instances.size());
  // The request of each instance, or why it has none: only a parsed address is asked.
  std::vector<core::Result<size_t>> request_of;
  request_of.reserve(instances.size());
  for (const auto& i : instances) {
    const auto endpoint = core::Endpoint::parse(i.address);
    if (!endpoint) {
      request_of.push_back(tl::make_unexpected(endpoint.error()));
      continue;
    }
    http::HttpRequest r;
    r.url = fmt::format("http://{}/nginx_status", endpoint->to_string());
    r.timeout_ms = m_timeout_ms;
    // One request per instance per run: a kept connection would never be reused, and 10,000
    // of them make libcurl's connection cache the bottleneck.
    r.keep_alive = false;
    request_of.push_back(requests.size());
    requests.push_back(std::move(r));
  }
  auto responses = m_transport.send_batch(requests, http::BatchOptions{m_parallel, m_deadline});
  std::vector<Reading> out;
  out.reserve(instances.size());
  for (size_t k = 0; k < instances.size(); ++k) {
    Reading reading;
    reading.instance = instances[k].name;
    reading.ts = m_clock.now();
    if (!request_of[k]) {
      reading.error = request_of[k].error().message;
      out.push_back(std::move(reading));
      continue;
    }
    auto& response = responses[*request_of[k]];
    if (!response) {
      reading.reachable = false;
      reading.error = response.error().message;
      reading.error_kind = response.error().kind;
    } else if (response->status != 200) {
      reading.error = fmt::format("stub_status answered HTTP {}", response->status);
    } else if (auto parsed = parse_stub_status(response->body); !parsed) {
      reading.error = parsed.error().message;
    } else {
      reading.counter = parsed->requests;
    }
    out.push_back(std::move(reading));
  }
  return out;
}

} // namespace metrics
