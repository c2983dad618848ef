// An HttpTransport for unit tests: records the requests and answers each from a queue of
// canned responses (an empty queue answers a transport error). No network.
#pragma once

#include "../http/one_at_a_time.hpp"

#include <deque>

class CannedTransport final : public OneAtATimeTransport
{
public:
  std::vector<http::HttpRequest> sent;
  std::deque<core::Result<http::HttpResponse>> answers;

  void answer(long status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {})
  {
    http::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    answers.emplace_back(std::move(r));
  }

  core::Result<http::HttpResponse> send(const http::HttpRequest& request) override
  {
    sent.push_back(request);
    if (answers.empty()) {
      return core::fail(core::ErrorKind::upstream_transient, "cannot reach: connection refused");
    }
    auto a = std::move(answers.front());
    answers.pop_front();
    return a;
  }
};
