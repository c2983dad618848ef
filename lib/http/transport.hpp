// HTTP as the rest of sclman sees it: requests and responses as values behind an interface.
// Only curl_transport.cpp includes <curl/curl.h>.
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

struct HttpRequest
{
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  long timeout_ms = 5000;
  // false: close the connection after the answer instead of keeping it for reuse (a host
  // asked once per run, such as each instance's stub_status).
  bool keep_alive = true;
};

struct HttpResponse
{
  long status = 0;  // an HTTP status is just data
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  // Return the first header named `name` (lowercase), or an empty string.
  std::string header(std::string_view name) const;
};

// How a batch of requests is sent.
struct BatchOptions
{
  int parallel = 64;         // at most this many requests in flight
  core::Millis deadline = 0;  // steady-clock ms (core::steady_now) after which nothing new starts
                              // and transfers still running are cut; 0: no deadline
};

// How HTTPS servers are verified ([TLS] in sclman.conf). Certificates and host names are
// verified by default against the system's CA certificates.
struct TlsOptions
{
  std::string ca_bundle;  // a PEM file of CA certificates to verify with instead of the system's
  bool insecure = false;  // true: do not verify certificates or host names (tests only)
  std::string client_cert;  // a PEM client certificate to present when a server asks for one
  std::string client_key;   // its private key (PEM), when not in client_cert's file
};

class HttpTransport
{
public:
  virtual ~HttpTransport() = default;
  // Send one request. DNS, connect and timeout failures are upstream_transient errors.
  virtual core::Result<HttpResponse> send(const HttpRequest& request) = 0;
  // Send many requests at once (at most `parallel` in flight); results in request order.
  virtual std::vector<core::Result<HttpResponse>> send_all(const std::vector<HttpRequest>& requests,
                                                           int parallel) = 0;
  // Send many requests under `options`; results in request order. A request the deadline
  // stopped or cut is an upstream_transient error. The default ignores the deadline.
  virtual std::vector<core::Result<HttpResponse>> send_batch(const std::vector<HttpRequest>& requests,
                                                             const BatchOptions& options)
  {
    return send_all(requests, options.parallel);
  }
};

// Return `url` without user info and query string, for logs.
std::string redact_url(std::string_view url);

} // namespace http
