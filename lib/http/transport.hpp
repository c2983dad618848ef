// HTTP as the rest of sclman sees it: requests and responses as values behind an interface.
// Only curl_transport.cpp includes <curl/curl.h>.
#pragma once

#include "core/result.hpp"

#include <string>
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
};

struct HttpResponse
{
  long status = 0;  // an HTTP status is just data
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  // Return the first header named `name` (lowercase), or an empty string.
  std::string header(std::string_view name) const;
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
};

// Return `url` without user info and query string, for logs.
std::string redact_url(std::string_view url);

} // namespace http
