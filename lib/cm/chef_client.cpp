#include "cm/chef_client.hpp"

#include "cm/chef_json.hpp"
#include "core/log.hpp"
#include "http/encoding.hpp"
#include "http/retry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace cm {

using core::ErrorKind;
using core::fail;
using nlohmann::json;
using chef_json::member;

namespace {


bool transient(const core::Error& e)
{
  return e.kind == ErrorKind::upstream_transient;
}

} // namespace

core::Result<json> parse_chef_body(std::string_view body, const std::string& what)
{
  if (body.empty()) {
    return json::object();
  }
  try {
    return json::parse(body);
  } catch (const json::exception&) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("cannot parse the chef server's answer to {}", what), k_chef_service);
  }
}

core::Result<ChefSearchPage> parse_chef_search_page(const json& answer, const std::string& query)
{
  const auto* rows = member(answer, "rows");
  const auto* total = member(answer, "total");
  if (!rows || !rows->is_array() || (total && !total->is_number_integer())) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("cannot parse the chef search for '{}'", query), k_chef_service);
  }
  ChefSearchPage out;
  out.rows.assign(rows->begin(), rows->end());
  out.total = total ? static_cast<long>(total->get<std::int64_t>()) : 0;
  return out;
}

core::Result<std::string> chef_client_key(const json& answer, const std::string& client)
{
  if (!answer.contains("private_key") || !answer["private_key"].is_string()) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("chef server returned no key for client '{}'", client), k_chef_service);
  }
  return answer["private_key"].get<std::string>();
}

std::vector<std::string> chef_listing_names(const json& listing)
{
  std::vector<std::string> names;
  if (listing.is_object()) {
    for (const auto& [name, url] : listing.items()) {
      names.push_back(name);
    }
  }
  return names;
}

std::string chef_error_text(std::string_view body)
{
  std::string text;
  try {
    const auto j = json::parse(body);
    const auto& e = j.at("error");
    if (e.is_array()) {
      for (const auto& item : e) {
        text += (text.empty() ? "" : "; ") + (item.is_string() ? item.get<std::string>()
                                                               : item.dump());
      }
    } else {
      text = e.is_string() ? e.get<std::string>() : e.dump();
    }
  } catch (const json::exception&) {
    text = std::string(body);
  }
  if (text.size() > 200) {
    text = text.substr(0, 200) + "...";
  }
  return text;
}

core::Error chef_status_error(const http::HttpResponse& r,
                              const std::string& what,
                              const std::string& user_id)
{
  const auto text = chef_error_text(r.body);
  core::Error e;
  e.service = k_chef_service;
  e.http_status = static_cast<int>(r.status);
  if (r.status == 401) {
    e.kind = ErrorKind::upstream_auth;
    if (text.find("clock") != std::string::npos) {
      e.message = fmt::format("chef server refused the time of {}: check this machine's clock "
                              "(it must be within the server's time slew): {}",
                              what,
                              text);
    } else {
      e.message = fmt::format("chef server refused the signature of '{}' for {}: check [CHEF] "
                              "client_name and client_key: {}",
                              user_id,
                              what,
                              text);
    }
  } else if (r.status == 403) {
    e.kind = ErrorKind::upstream_auth;
    e.message = fmt::format("chef server forbids '{}' {}: {}", user_id, what, text);
  } else if (r.status == 429 || r.status >= 500) {
    e.kind = ErrorKind::upstream_transient;
    e.message = fmt::format("chef server failed {} (HTTP {}): {}", what, r.status, text);
    if (const auto after = http::parse_retry_after(r.header("retry-after"))) {
      e.retry_after = std::chrono::seconds(*after);
    }
  } else if (r.status == 409) {
    e.kind = ErrorKind::upstream_rejected;
    e.message = fmt::format("cannot {}: already exists ({})", what, text);
  } else {
    e.kind = ErrorKind::upstream_rejected;
    e.message = fmt::format("chef server rejected {} (HTTP {}): {}", what, r.status, text);
  }
  return e;
}

ChefClient::ChefClient(http::HttpTransport& http,
                       core::Clock& clock,
                       ChefKey key,
                       ChefServerOptions options)
  : m_http(http), m_clock(clock), m_key(std::move(key)), m_options(std::move(options))
{
  while (!m_options.url.empty() && m_options.url.back() == '/') {
    m_options.url.pop_back();
  }
}

std::pair<std::string, std::string> ChefClient::resolve(const std::string& server_url,
                                                        const std::string& path)
{
  std::string base = server_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  // The path part of the server URL (/organizations/ORG) is part of what is signed.
  std::string prefix;
  if (const auto scheme = base.find("://"); scheme != std::string::npos) {
    if (const auto slash = base.find('/', scheme + 3); slash != std::string::npos) {
      prefix = base.substr(slash);
    }
  }
  return {base + path, prefix + path};
}

core::Result<http::HttpResponse> ChefClient::send(const std::string& method,
                                                  const std::string& path,
                                                  const std::string& body)
{
  const auto [url, signed_path] = resolve(m_options.url, path);
  const auto what = fmt::format("{} '{}'", method, chef_signed_path(signed_path));
  // Equal jitter from 250 ms up to 4 s, as long as the run's deadline allows (no deadline: no
  // retry), so that the copies of sclman a failure hit at once do not retry in step.
  http::Backoff backoff({.attempts = 0,
                         .first_backoff = 250,
                         .max_backoff = 4000,
                         .longest_wait = 0,
                         .deadline = m_options.deadline,
                         .deadline_margin = 100,
                         .retry_without_deadline = false});
  for (int attempt = 1;; ++attempt) {
    ChefSignInput in;
    in.method = method;
    in.path = signed_path;
    in.body = body;
    in.user_id = m_options.user_id;
    in.time = m_clock.now();
    in.version = m_options.version;
    TRY_ASSIGN(auto headers, chef_sign(m_key, in));
    http::HttpRequest request;
    request.method = method;
    request.url = url;
    request.body = body;
    request.headers = std::move(headers);
    request.headers.emplace_back("Accept", "application/json");
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", "application/json");
    }
    request.timeout_ms = m_options.timeout_ms;
    const auto start = core::steady_now();
    if (m_options.deadline > 0) {
      request.timeout_ms = std::clamp<long>(m_options.deadline - start, 100, m_options.timeout_ms);
    }
    auto response = m_http.send(request);
    core::Error error;
    if (response) {
      spdlog::debug("chef.http method={} path={} status={} ms={}",
                    method,
                    chef_signed_path(signed_path),
                    response->status,
                    core::steady_now() - start);
      if (response->status < 400 || response->status == 404 || response->status == 409) {
        return response;
      }
      error = chef_status_error(*response, what, m_options.user_id);
    } else {
      error = response.error();
      error.service = k_chef_service;
      error.message = fmt::format("cannot reach chef server for {}: {}", what, error.message);
    }
    if (!transient(error)) {
      return fail(error);
    }
    const auto wait = backoff.next(attempt, error.retry_after, m_clock.steady());
    if (!wait) {
      error.message += fmt::format(" (after {} attempts)", attempt);
      return fail(error);
    }
    spdlog::warn("chef.retry attempt={} wait_ms={} error={}",
                 attempt,
                 *wait,
                 core::log_quote(error.message));
    m_clock.sleep_for(*wait);
  }
}

core::Result<std::optional<json>> ChefClient::get(const std::string& path)
{
  TRY_ASSIGN(const auto r, send("GET", path, ""));
  if (r.status == 404) {
    return std::optional<json>{};
  }
  if (r.status >= 300) {
    return fail(chef_status_error(r, fmt::format("GET '{}'", path), m_options.user_id));
  }
  TRY_ASSIGN(auto j, parse_chef_body(r.body, fmt::format("GET '{}'", path)));
  return std::optional<json>{std::move(j)};
}

core::Result<json> ChefClient::create(const std::string& path, const json& body)
{
  const auto what = fmt::format("POST '{}'", path);
  TRY_ASSIGN(const auto r, send("POST", path, body.dump()));
  if (r.status >= 300) {
    return fail(chef_status_error(r, what, m_options.user_id));
  }
  return parse_chef_body(r.body, what);
}

core::Result<std::optional<json>> ChefClient::put(const std::string& path, const json& body)
{
  const auto what = fmt::format("PUT '{}'", path);
  TRY_ASSIGN(const auto r, send("PUT", path, body.dump()));
  if (r.status == 404) {
    return std::optional<json>{};
  }
  if (r.status >= 300) {
    return fail(chef_status_error(r, what, m_options.user_id));
  }
  TRY_ASSIGN(auto j, parse_chef_body(r.body, what));
  return std::optional<json>{std::move(j)};
}

core::Result<bool> ChefClient::remove(const std::string& path)
{
  TRY_ASSIGN(const auto r, send("DELETE", path, ""));
  if (r.status == 404) {
    return false;
  }
  if (r.status >= 300) {
    return fail(chef_status_error(r, fmt::format("DELETE '{}'", path), m_options.user_id));
  }
  return true;
}

core::Result<std::vector<json>> ChefClient::search_nodes(const std::string& query)
{
  std::vector<json> rows;
  constexpr int k_page = 1000;
  for (int start = 0;; start += k_page) {
    const auto path = fmt::format("/search/node?q={}&start={}&rows={}", http::url_encode(query),
                                  start, k_page);
    TRY_ASSIGN(const auto found, get(path));
    if (!found) {
      return fail(ErrorKind::upstream_rejected, "chef server has no node search index",
                  k_chef_service);
    }
    TRY_ASSIGN(auto page, parse_chef_search_page(*found, query));
    const bool last = page.rows.empty();
    for (auto& row : page.rows) {
      rows.push_back(std::move(row));
    }
    if (last || static_cast<long>(rows.size()) >= page.total) {
      return rows;
    }
  }
}

} // namespace cm
