// An HttpTransport base for unit tests whose subclasses answer send(): send_all asks send()
// for each request in turn. No network.
#pragma once

#include "http/transport.hpp"

#include <vector>

class OneAtATimeTransport : public http::HttpTransport
{
public:
  std::vector<core::Result<http::HttpResponse>> send_all(const std::vector<http::HttpRequest>& requests,
                                                         int) override
  {
    std::vector<core::Result<http::HttpResponse>> out;
    out.reserve(requests.size());
    for (const auto& r : requests) {
      out.push_back(send(r));
    }
    return out;
  }
};
