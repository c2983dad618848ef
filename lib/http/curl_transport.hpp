// HttpTransport on libcurl: easy handles for one request, the multi interface for many.
#pragma once

#include "http/transport.hpp"

#include <memory>

namespace http {

class CurlTransport final : public HttpTransport
{
public:
  CurlTransport();
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  core::Result<HttpResponse> send(const HttpRequest& request) override;
  std::vector<core::Result<HttpResponse>> send_all(const std::vector<HttpRequest>& requests,
                                                   int parallel) override;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace http
