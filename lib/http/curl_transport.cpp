#include "http/curl_transport.hpp"

#include "core/clock.hpp"

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

// One transfer: a move-only RAII easy handle with its buffers (mamba's CURLHandle).
struct Transfer
{
  CURL* handle = nullptr;
  curl_slist* header_list = nullptr;
  HttpResponse response;
  std::string url;
  std::string method;
  core::Millis started = 0;

  explicit Transfer(const HttpRequest& request) : url(request.url), method(request.method)
  {
    handle = curl_easy_init();
    curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, request.timeout_ms);
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, std::min(request.timeout_ms, 3000L));
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response.headers);
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
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
    curl_slist_free_all(header_list);
    curl_easy_cleanup(handle);
  }

  core::Result<HttpResponse> finish(CURLcode code)
  {
    const auto ms = core::steady_now() - started;
    if (code != CURLE_OK) {
      spdlog::debug("http method={} url={} error={} ms={}",
                    method,
                    redact_url(url),
                    curl_easy_strerror(code),
                    ms);
      return core::fail(core::ErrorKind::upstream_transient,
                        fmt::format("cannot reach '{}': {}", redact_url(url),
                                    curl_easy_strerror(code)));
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
  CURLM* multi = nullptr;
  CURLSH* share = nullptr;
};

CurlTransport::CurlTransport() : m_impl(std::make_unique<Impl>())
{
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  m_impl->multi = curl_multi_init();
}

CurlTransport::~CurlTransport()
{
  curl_multi_cleanup(m_impl->multi);
}

core::Result<HttpResponse> CurlTransport::send(const HttpRequest& request)
{
  Transfer t(request);
  return t.finish(curl_easy_perform(t.handle));
}

std::vector<core::Result<HttpResponse>>
CurlTransport::send_all(const std::vector<HttpRequest>& requests, int parallel)
{
  std::vector<core::Result<HttpResponse>> results(
    requests.size(), core::fail(core::ErrorKind::internal, "request not sent"));
  std::vector<std::unique_ptr<Transfer>> transfers(requests.size());
  CURLM* multi = m_impl->multi;
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(std::max(1, parallel)));
  size_t next = 0;
  int running = 0;
  auto add_more = [&] {
    while (next < requests.size() && running < std::max(1, parallel)) {
      transfers[next] = std::make_unique<Transfer>(requests[next]);
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
