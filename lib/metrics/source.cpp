#include "metrics/source.hpp"

#include "core/log.hpp"
#include "http/retry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

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

std::string_view host_of(std::string_view address)
{
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    return close == std::string_view::npos ? address : address.substr(1, close - 1);
  }
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || address.find(':') != colon) {
    return address;  // no port, or a bare IPv6 address
  }
  return address.substr(0, colon);
}

std::string key_of(std::string_view label_value, MatchBy by)
{
  return std::string(by == MatchBy::host ? host_of(label_value) : label_value);
}

std::string instance_key(const core::InstanceRef& instance, MatchBy by)
{
  switch (by) {
  case MatchBy::address:
    return instance.address;
  case MatchBy::host:
    return std::string(host_of(instance.address));
  case MatchBy::name:
    return instance.name;
  }
  return instance.name;
}

std::unordered_map<std::string, long> index_by_key(const std::vector<std::string>& keys, MatchBy by)
{
  std::unordered_map<std::string, long> out;
  out.reserve(keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k].empty()) {
      continue;
    }
    auto [it, fresh] = out.emplace(key_of(keys[k], by), static_cast<long>(k));
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
  if (current_ts <= previous_ts) {
    return std::nullopt;
  }
  const double seconds = static_cast<double>(current_ts - previous_ts) / 1000.0;
  const auto delta = current >= previous ? current - previous : current;
  return static_cast<double>(delta) / seconds;
}

namespace detail {

bool wait_before_retry(int attempt,
                       core::Millis backoff,
                       const http::HttpResponse* response,
                       core::Millis deadline,
                       const char* service,
                       const std::string& error)
{
  constexpr int k_attempts = 3;
  constexpr core::Millis k_longest_wait = 10'000;
  core::Millis wait = http::equal_jitter(backoff, http::random_fraction());
  if (response) {
    if (const auto after = http::parse_retry_after(response->header("retry-after"))) {
      wait = std::max<core::Millis>(wait, core::Millis(*after) * 1000);
    }
  }
  if (attempt >= k_attempts || wait > k_longest_wait
      || (deadline > 0 && core::steady_now() + wait + 100 >= deadline)) {
    return false;
  }
  spdlog::warn("{}.retry attempt={} wait_ms={} error={}", service, attempt, wait,
               core::log_quote(error));
  std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  return true;
}

} // namespace detail

} // namespace metrics
