#include "metrics/stub_status.hpp"

#include "core/endpoint.hpp"
#include "core/log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace metrics {

namespace {

// The largest counter taken: nginx's are unsigned 64-bit atomics, sclman keeps int64.
constexpr std::int64_t k_max_counter = std::numeric_limits<std::int64_t>::max();

// Reads a stub_status body front to back, as nginx wrote it.
class Reader
{
public:
  explicit Reader(std::string_view text) : m_text(text) {}

  // Consume `word` exactly.
  bool literal(std::string_view word)
  {
    if (m_text.substr(m_pos, word.size()) != word) {
      return false;
    }
    m_pos += word.size();
    return true;
  }

  // Consume a decimal from 0 to k_max_counter as nginx's %uA prints it: digits only, no sign,
  // no leading zero.
  bool number(std::int64_t& out)
  {
    const auto begin = m_pos;
    while (m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9') {
      ++m_pos;
    }
    const auto digits = m_text.substr(begin, m_pos - begin);
    if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) {
      m_pos = begin;
      return false;
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value > k_max_counter) {
      m_pos = begin;
      return false;
    }
    out = value;
    return true;
  }

  bool at_end() const { return m_pos == m_text.size(); }
  size_t pos() const { return m_pos; }
  // Return a short escaped excerpt of the text from where reading stopped.
  std::string here() const { return core::printable(m_text.substr(m_pos), 24); }

private:
  std::string_view m_text;
  size_t m_pos = 0;
};

} // namespace

core::Result<StubStatus> parse_stub_status(std::string_view text)
{
  // Exactly what ngx_http_stub_status_module writes (ngx_http_stub_status_handler):
  //   "Active connections: %uA \n"
  //   "server accepts handled requests\n"
  //   " %uA %uA %uA \n"
  //   "Reading: %uA Writing: %uA Waiting: %uA \n"
  // The body comes from a web VM: another layout, a sign, a number above 2^63-1 or anything
  // after the last line is refused, not read around.
  Reader r(text);
  StubStatus s;
  const bool whole = r.literal("Active connections: ") && r.number(s.active)
                     && r.literal(" \nserver accepts handled requests\n ") && r.number(s.accepts)
                     && r.literal(" ") && r.number(s.handled) && r.literal(" ")
                     && r.number(s.requests) && r.literal(" \nReading: ") && r.number(s.reading)
                     && r.literal(" Writing: ") && r.number(s.writing) && r.literal(" Waiting: ")
                     && r.number(s.waiting) && r.literal(" \n");
  if (!whole || !r.at_end()) {
    return core::fail(core::ErrorKind::upstream_rejected,
                      fmt::format("malformed stub_status at byte {}: '{}' is not what nginx "
                                  "writes there (counters are 0 to 2^63-1)",
                                  r.pos(), r.here()),
                      "nginx");
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

Connections connections_of(const StubStatus& s)
{
  Connections c;
  c.open = std::max<std::int64_t>(s.active - 1, 0);
  // Saturating: each counter parsed as at most 2^63-1.
  const auto busy = s.reading > std::numeric_limits<std::int64_t>::max() - s.writing
                      ? std::numeric_limits<std::int64_t>::max()
                      : s.reading + s.writing;
  c.in_flight = std::max<std::int64_t>(busy - 1, 0);
  return c;
}

core::Result<Connections> probe_connections(http::HttpTransport& transport,
                                            const core::Endpoint& endpoint, long timeout_ms)
{
  http::HttpRequest r;
  r.url = fmt::format("http://{}{}", endpoint.to_string(), k_stub_status_path);
  r.timeout_ms = timeout_ms;
  r.keep_alive = false;  // a kept connection would count as one waiting on the instance
  TRY_ASSIGN(const auto response, transport.send(r));
  if (response.status != 200) {
    return core::fail(core::ErrorKind::upstream_rejected,
                      fmt::format("stub_status answered HTTP {}", response.status));
  }
  TRY_ASSIGN(const auto parsed, parse_stub_status(response.body));
  return connections_of(parsed);
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
    r.url = fmt::format("http://{}{}", endpoint->to_string(), k_stub_status_path);
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
