// Where load comes from. One interface, one implementation per source (stub_status,
// prometheus, sensu, sensu_go). A source answers for many instances in as few requests as it
// can: one query for Prometheus, one paginated listing for Sensu, parallel requests on one
// curl multi handle for stub_status.
#pragma once

#include "core/clock.hpp"
#include "core/instance_ref.hpp"
#include "core/result.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace metrics {

struct Reading
{
  std::string instance;
  core::Millis ts = 0;                  // when the value was observed
  std::optional<double> value;          // a gauge (load, utilisation)
  std::optional<std::int64_t> counter;  // a monotonic counter (requests), turned into a rate
  bool reachable = true;                // false: the instance did not answer at all
  std::string error;                    // why there is no value
  // What kind of failure `error` is: config when the source's own settings are wrong (a query
  // the server refuses), which no retry mends; otherwise a missing sample.
  core::ErrorKind error_kind = core::ErrorKind::upstream_transient;
};

class MetricsSource
{
public:
  virtual ~MetricsSource() = default;
  // Return one reading per instance, in the order given. Never fails as a whole: an instance
  // that cannot be read gets a reading without value and with an error.
  virtual std::vector<Reading> poll(const std::vector<core::InstanceRef>& instances) = 0;

  // Set the steady-clock time (core::steady_now) after which a poll starts no new request and
  // cuts those still running; 0: none. poll-load passes its run deadline.
  void set_deadline(core::Millis steady_deadline) { m_deadline = steady_deadline; }
  // Make the waits between retries go through `clock` (the system clock until then); a test
  // passes a clock that advances instead of sleeping.
  void set_clock(core::Clock& clock) { m_clock = &clock; }

protected:
  core::Millis m_deadline = 0;
  core::Clock* m_clock = &core::system_clock();
};

// How a source's series, clients or entities are matched to instances.
enum class MatchBy {
  address,  // the instance address, host:port
  host,     // the host part of the address (many instances on one host share its value)
  name,     // the instance name, <cluster>-web-<serial>
};

// Return the MatchBy named `name` (address, host, name).
std::optional<MatchBy> match_by_from(std::string_view name);

// Return what the address `text` is known as under `by` (address: the endpoint as
// core::Endpoint formats it; host: the IP alone, from "ip", "ip:port", "[v6]:port" or "v6"),
// formatted from the parsed bytes so that "fd00:0::1" and "fd00::1" match; nothing when `text`
// is no such address (a host name, an injection, a bad port), which then matches nothing.
// Under `name` the text itself.
std::optional<std::string> address_key(std::string_view text, MatchBy by);

// Return what `instance` is known as to a source under `by`; "" when its address does not parse
// (it then matches no series, client or entity).
std::string instance_key(const core::InstanceRef& instance, MatchBy by);

// Return key -> position in `keys` (label values, client or entity names, reduced by
// address_key), or -1 for a key that appears more than once (ambiguous: no instance gets a
// value from it). Empty keys are left out; a key that is no address under `by` is left out and
// logged (`metrics.key_refused`, the value escaped by core::printable) naming `source`,
// unless `source` is empty.
std::unordered_map<std::string, long> index_by_key(const std::vector<std::string>& keys,
                                                   MatchBy by,
                                                   std::string_view source);

// Return one reading per instance, each without a value for the same reason `why` (a query or a
// fetch that answers for every instance at once failed), keeping its kind.
std::vector<Reading> all_failed(const std::vector<core::InstanceRef>& instances,
                                const core::Error& why);

// Return the per-second rate between two counter readings; a counter that went down was reset
// (the process restarted, or it wrapped) and counts from zero, as Prometheus' rate() does.
// Nothing if dt <= 0 or a counter is negative.
std::optional<double> counter_rate(std::int64_t previous,
                                   core::Millis previous_ts,
                                   std::int64_t current,
                                   core::Millis current_ts);

namespace detail {
// Return the backoff of reads: 3 attempts from 500 ms, no wait above 10 s or past `deadline`.
http::Backoff read_backoff(core::Millis deadline);

// Return false to give up after failed attempt `attempt` (`backoff` says so); else log
// `SERVICE.retry`, wait on `clock` what `backoff` says (at least the answer's Retry-After) and
// return true.
bool wait_before_retry(http::Backoff& backoff,
                       int attempt,
                       const http::HttpResponse* response,
                       core::Clock& clock,
                       const char* service,
                       const std::string& error);
} // namespace detail

// Send `request`, a read and so safe to repeat, and return parse(answer). A transient failure
// (of the transport, or an upstream_transient error from `parse`: 429, 5xx, a timeout) is tried
// again, at most 3 attempts in all, with backoff from 500 ms and the answer's Retry-After, never
// past `deadline` (steady ms, 0: none), waiting on `clock`. The final error says "(after N
// attempts)".
template <class Parse>
auto read_with_retry(http::HttpTransport& transport,
                     const http::HttpRequest& request,
                     core::Millis deadline,
                     core::Clock& clock,
                     const char* service,
                     Parse parse) -> decltype(parse(std::declval<const http::HttpResponse&>()))
{
  using Out = decltype(parse(std::declval<const http::HttpResponse&>()));
  auto backoff = detail::read_backoff(deadline);
  for (int attempt = 1;; ++attempt) {
    auto answers = transport.send_batch({request}, http::BatchOptions{1, deadline});
    const auto& answer = answers.front();
    Out out = answer ? parse(*answer) : Out(tl::make_unexpected(answer.error()));
    if (out || out.error().kind != core::ErrorKind::upstream_transient) {
      return out;
    }
    if (!detail::wait_before_retry(backoff, attempt, answer ? &*answer : nullptr, clock, service,
                                   out.error().message)) {
      if (attempt > 1) {
        out.error().message += " (after " + std::to_string(attempt) + " attempts)";
      }
      return out;
    }
  }
}

} // namespace metrics
