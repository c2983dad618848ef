#include "http/curl_transport.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace http {

namespace {

std::once_flag g_curl_init;

size_t on_body(char* data, size_t size, size_t count, void* user)
{
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user)
{
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  std::string_view line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
      return static_cast<char>(std::tolower(c));
    });
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    headers->emplace_back(std::move(name), std::string(value));
  } else if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after a 100 Continue or a redirect)
  }
  return size * count;
}

// One transfer: an easy handle borrowed from the pool with its buffers (mamba's CURLHandle).
// The handle goes back to the pool, reset, when the transfer ends.
struct Transfer
{
  CURL* handle = nullptr;
  std::vector<CURL*>* pool = nullptr;
  curl_slist* header_list = nullptr;
  HttpResponse response;
  std::string url;
  std::string method;
  core::Millis started = 0;
  char error_text[CURL_ERROR_SIZE] = {};

  Transfer(const HttpRequest& request,
           long timeout_ms,
           std::vector<CURL*>& free_handles,
           const TlsOptions& tls)
    : pool(&free_handles), url(request.url), method(request.method)
  {
    if (free_handles.empty()) {
      handle = curl_easy_init();
    } else {
      handle = free_handles.back();
      free_handles.pop_back();
    }
    curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 3000L));
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response.headers);
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
    // HTTPS: peer and host name verified (libcurl's default, set here so that nothing else
    // can turn it off), against [TLS] ca_bundle when given; only [TLS] insecure disables it.
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, tls.insecure ? 0L : 1L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, tls.insecure ? 0L : 2L);
    if (!tls.ca_bundle.empty()) {
      curl_easy_setopt(handle, CURLOPT_CAINFO, tls.ca_bundle.c_str());
    }
    if (!tls.client_cert.empty()) {
      curl_easy_setopt(handle, CURLOPT_SSLCERT, tls.client_cert.c_str());
      curl_easy_setopt(handle, CURLOPT_SSLKEY,
                       (tls.client_key.empty() ? tls.client_cert : tls.client_key).c_str());
    }
    // No DNS cache: libcurl walks the whole cache on every lookup to prune it, and a poll of
    // 10,000 host:port pairs would make that quadratic (seconds of CPU). Lookups of the
    // addresses sclman talks to are IP literals or cheap next to a request.
    curl_easy_setopt(handle, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    if (!request.keep_alive) {
      curl_easy_setopt(handle, CURLOPT_FORBID_REUSE, 1L);
    }
    // A POST goes on a new connection. On a reused one that dies before any answer (the server
    // or a proxy reset it after acting on the request), libcurl sends the request again by
    // itself ("Connection died, retrying a fresh connect"): for Nova's POST /servers that made
    // a second server, found by the OpenStack fault test. Whether to send again is the
    // caller's to decide.
    if (request.method == "POST") {
      curl_easy_setopt(handle, CURLOPT_FRESH_CONNECT, 1L);
    }
    // Never follow redirects: an API that redirects is answered as it is.
    curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
    if (request.method == "GET") {
      curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
        curl_easy_setopt(handle, CURLOPT_COPYPOSTFIELDS, request.body.c_str());
      }
    }
    for (const auto& [name, value] : request.headers) {
      header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
    }
    // No "Expect: 100-continue" round trip.
    header_list = curl_slist_append(header_list, "Expect:");
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, header_list);
    started = core::steady_now();
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer()
  {
    // A reset handle keeps nothing of this request (URL, headers, body pointers) but stays
    // allocated, so the next transfer skips curl_easy_init.
    curl_easy_reset(handle);
    pool->push_back(handle);
    curl_slist_free_all(header_list);
  }

  core::Result<HttpResponse> finish(CURLcode code)
  {
    const auto ms = core::steady_now() - started;
    if (code != CURLE_OK) {
      const std::string detail = error_text[0] != 0 ? error_text : curl_easy_strerror(code);
      spdlog::debug("http method={} url={} error={} ms={}",
                    method,
                    redact_url(url),
                    core::log_quote(detail),
                    ms);
      if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
        // Not transient: a retry meets the same certificate.
        return core::fail(core::ErrorKind::config,
                          fmt::format("cannot verify the TLS certificate of '{}': {} (give the "
                                      "CA that signed it with [TLS] ca_bundle, or for a cloud "
                                      "with cacert in clouds.yaml or OS_CACERT)",
                                      redact_url(url),
                                      detail));
      }
      if (code == CURLE_SSL_CERTPROBLEM) {
        return core::fail(core::ErrorKind::config,
                          fmt::format("cannot use the TLS client certificate for '{}': {}",
                                      redact_url(url), detail));
      }
      return core::fail(core::ErrorKind::upstream_transient,
                        fmt::format("cannot reach '{}': {}", redact_url(url), detail));
    }
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
    spdlog::debug("http method={} url={} status={} ms={}",
                  method,
                  redact_url(url),
                  response.status,
                  ms);
    return std::move(response);
  }
};

} // namespace

std::string HttpResponse::header(std::string_view name) const
{
  for (const auto& [n, v] : headers) {
    if (n == name) {
      return v;
    }
  }
  return {};
}

std::string redact_url(std::string_view url)
{
  std::string out(url);
  if (auto q = out.find('?'); q != std::string::npos) {
    out.resize(q);
  }
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const auto at = out.find('@', scheme + 3);
    const auto slash = out.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      out.erase(scheme + 3, at - scheme - 2);
    }
  }
  return out;
}

struct CurlTransport::Impl
{
  TlsOptions tls;
  CURLM* multi = nullptr;
  std::vector<CURL*> free_handles;  // reset easy handles ready for the next transfer
};

CurlTransport::CurlTransport(TlsOptions tls) : m_impl(std::make_unique<Impl>())
{
  m_impl->tls = std::move(tls);
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  m_impl->multi = curl_multi_init();
  // Idle connections kept for reuse. Bounded so that polling thousands of distinct hosts
  // does not hold thousands of sockets open.
  curl_multi_setopt(m_impl->multi, CURLMOPT_MAXCONNECTS, 128L);
}

CurlTransport::~CurlTransport()
{
  for (CURL* h : m_impl->free_handles) {
    curl_easy_cleanup(h);
  }
  curl_multi_cleanup(m_impl->multi);
}

core::Result<HttpResponse> CurlTransport::send(const HttpRequest& request)
{
  // Through the multi handle too, so that successive single requests to one host (health
  // checks, API calls) reuse its connection.
  auto results = send_batch({request}, BatchOptions{1, 0});
  return std::move(results.front());
}

std::vector<core::Result<HttpResponse>>
CurlTransport::send_all(const std::vector<HttpRequest>& requests, int parallel)
{
  return send_batch(requests, BatchOptions{parallel, 0});
}

std::vector<core::Result<HttpResponse>>
CurlTransport::send_batch(const std::vector<HttpRequest>& requests, const BatchOptions& options)
{
  std::vector<core::Result<HttpResponse>> results(
    requests.size(), core::fail(core::ErrorKind::internal, "request not sent"));
  std::vector<std::unique_ptr<Transfer>> transfers(requests.size());
  CURLM* multi = m_impl->multi;
  const int parallel = std::max(1, options.parallel);
  size_t next = 0;
  int running = 0;
  auto add_more = [&] {
    while (next < requests.size() && running < parallel) {
      const auto& request = requests[next];
      long timeout_ms = std::max(1L, request.timeout_ms);
      if (options.deadline > 0) {
        const auto left = options.deadline - core::steady_now();
        if (left <= 0) {
          results[next] = core::fail(core::ErrorKind::upstream_transient,
                                     fmt::format("run deadline reached before asking '{}'",
                                                 redact_url(request.url)));
          ++next;
          continue;
        }
        timeout_ms = std::min(timeout_ms, static_cast<long>(left));
      }
      transfers[next] = std::make_unique<Transfer>(request, timeout_ms, m_impl->free_handles,
                                                  m_impl->tls);
      curl_easy_setopt(transfers[next]->handle, CURLOPT_PRIVATE, reinterpret_cast<char*>(next));
      curl_multi_add_handle(multi, transfers[next]->handle);
      ++next;
      ++running;
    }
  };
  add_more();
  while (running > 0) {
    int still = 0;
    curl_multi_perform(multi, &still);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) {
        continue;
      }
      char* priv = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      const auto index = reinterpret_cast<size_t>(priv);
      const CURLcode code = msg->data.result;
      curl_multi_remove_handle(multi, msg->easy_handle);
      results[index] = transfers[index]->finish(code);
      transfers[index].reset();
      --running;
    }
    add_more();
    if (running > 0) {
      curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
  }
  return results;
}

} // namespace http
