#include "metrics/source.hpp"

#include "core/endpoint.hpp"
#include "core/log.hpp"
#include "http/retry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace metrics {

std::optional<MatchBy> match_by_from(std::string_view name)
{
  if (name == "address") {
    return MatchBy::address;
  }
  if (name == "host") {
    return MatchBy::host;
  }
  if (name == "name") {
    return MatchBy::name;
  }
  return std::nullopt;
}

std::optional<std::string> address_key(std::string_view text, MatchBy by)
{
  switch (by) {
  case MatchBy::address:
    if (auto endpoint = core::Endpoint::parse(text)) {
      return endpoint->to_string();
    }
    return std::nullopt;
  case MatchBy::host:
    if (auto ip = core::IpAddress::parse_host(text)) {
      return ip->to_string();
    }
    return std::nullopt;
  case MatchBy::name:
    break;
  }
  return std::string(text);
}

std::vector<Reading> all_failed(const std::vector<core::InstanceRef>& instances,
                                const core::Error& why)
{
  std::vector<Reading> out(instances.size());
  for (size_t k = 0; k < instances.size(); ++k) {
    out[k].instance = instances[k].name;
    out[k].error = why.message;
    out[k].error_kind = why.kind;
  }
  return out;
}

std::string instance_key(const core::InstanceRef& instance, MatchBy by)
{
  return by == MatchBy::name ? instance.name : address_key(instance.address, by).value_or("");
}

std::unordered_map<std::string, long> index_by_key(const std::vector<std::string>& keys,
                                                   MatchBy by,
                                                   std::string_view source)
{
  std::unordered_map<std::string, long> out;
  out.reserve(keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k].empty()) {
      continue;
    }
    const auto key = address_key(keys[k], by);
    if (!key) {
      if (source.empty()) {
        continue;
      }
      // A value a metrics source was told by a VM it does not trust: never matched, and
      // never written to the log as it came.
      spdlog::warn("metrics.key_refused source={} value={} reason={}", source,
                   core::log_quote(core::printable(keys[k])),
                   by == MatchBy::host ? "no_ip_address" : "no_ip_address_and_port");
      continue;
    }
    auto [it, fresh] = out.emplace(*key, static_cast<long>(k));
    if (!fresh) {
      it->second = -1;
    }
  }
  return out;
}

std::optional<double> counter_rate(std::int64_t previous,
                                   core::Millis previous_ts,
                                   std::int64_t current,
                                   core::Millis current_ts)
{
  if (current_ts <= previous_ts || previous < 0 || current < 0) {
    return std::nullopt;  // a negative counter is no counter (and current - previous overflows)
  }
  const double seconds = static_cast<double>(current_ts - previous_ts) / 1000.0;
  const auto delta = current >= previous ? current - previous : current;
  return static_cast<double>(delta) / seconds;
}

namespace detail {

http::Backoff read_backoff(core::Millis deadline)
{
  return http::Backoff({.attempts = 3,
                        .first_backoff = 500,
                        .max_backoff = 0,
                        .longest_wait = 10'000,
                        .deadline = deadline,
                        .deadline_margin = 100,
                        .retry_without_deadline = true});
}

bool wait_before_retry(http::Backoff& backoff,
                       int attempt,
                       const http::HttpResponse* response,
                       core::Clock& clock,
                       const char* service,
                       const std::string& error)
{
  std::optional<std::chrono::seconds> retry_after;
  if (response) {
    if (const auto after = http::parse_retry_after(response->header("retry-after"))) {
      retry_after = std::chrono::seconds(*after);
    }
  }
  const auto wait = backoff.next(attempt, retry_after, clock.steady());
  if (!wait) {
    return false;
  }
  spdlog::warn("{}.retry attempt={} wait_ms={} error={}", service, attempt, *wait,
               core::log_quote(error));
  clock.sleep_for(*wait);
  return true;
}

} // namespace detail

} // namespace metrics
