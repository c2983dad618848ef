// HttpTransport on libcurl: every request goes through one multi handle, whose connection
// cache keeps connections alive between requests and runs.
#pragma once

#include "http/transport.hpp"

#include <memory>

namespace http {

class CurlTransport final : public HttpTransport
{
public:
  explicit CurlTransport(TlsOptions tls = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  core::Result<HttpResponse> send(const HttpRequest& request) override;
  std::vector<core::Result<HttpResponse>> send_all(const std::vector<HttpRequest>& requests,
                                                   int parallel) override;
  // Send many requests on the multi interface. Connections and easy handles are kept between
  // calls (and shared with `send`), so a second request to the same host reuses its
  // connection. Each transfer's timeout is cut to what is left before the deadline.
  std::vector<core::Result<HttpResponse>> send_batch(const std::vector<HttpRequest>& requests,
                                                     const BatchOptions& options) override;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace http
