#include "canned_transport.hpp"
#include "core/log.hpp"
#include "metrics/source.hpp"
#include "metrics/stub_status.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cstdint>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_stub_status {

TEST_CASE("parses nginx stub_status output", "[metrics]")
{
  const auto s = metrics::parse_stub_status("Active connections: 2 \n"
                                            "server accepts handled requests\n"
                                            " 16630948 16630948 31070465 \n"
                                            "Reading: 0 Writing: 1 Waiting: 1 \n");
  REQUIRE(s);
  CHECK(s->active == 2);
  CHECK(s->accepts == 16630948);
  CHECK(s->requests == 31070465);
  CHECK(s->writing == 1);
  CHECK(s->waiting == 1);
}

TEST_CASE("rejects stub_status bodies that are not exactly what nginx writes",
          "[metrics][hostile]")
{
  const std::string head = "Active connections: 2 \nserver accepts handled requests\n ";
  const std::string tail = " \nReading: 0 Writing: 1 Waiting: 1 \n";
  CHECK(metrics::parse_stub_status(head + "0 0 0" + tail));
  CHECK(metrics::parse_stub_status(head + "1 1 9223372036854775807" + tail)->requests
        == 9223372036854775807);
  const std::string hostile[] = {
    "", "<html>502</html>", "Active connections: x\n",
    "Active connections: 1 \nserver accepts handled requests\n 1 2 \n",
    head + "1 1 1000000000000000000000000000000" + tail,  // 1e30 in digits
    head + "1 1 1e30" + tail,
    head + "1 1 -5" + tail,
    head + "1 1 +5" + tail,
    head + "1 1 9223372036854775808" + tail,  // 2^63
    head + "1 1 18446744073709551616" + tail,  // 2^64 wraps in 64 bits
    head + "1 1 007" + tail,
    head + "1 1 7" + tail + "garbage",
    head + "1 1 7" + tail + "\n",
    head + "1 1 7 \r\nReading: 0 Writing: 1 Waiting: 1 \r\n",
    head + "1  1 7" + tail,
    head + "1 1 7;" + tail,
    head + "1 1 7" + std::string(" \nReading: 0 Writing: 1 Waiting: 1 \n\0", 37),
    "Active connections: 2\nserver accepts handled requests\n 1 1 7" + tail,
    head + "1 1 7",
    head + "1 1 \xff" + tail,
    std::string(300, '9'),
  };
  for (const auto& body : hostile) {
    INFO("body: " << core::printable(body, 200));
    const auto s = metrics::parse_stub_status(body);
    REQUIRE_FALSE(s);
    CHECK(s.error().kind == core::ErrorKind::upstream_rejected);
    CHECK(s.error().message.rfind("malformed stub_status at byte ", 0) == 0);
    CHECK(s.error().message.find('\n') == std::string::npos);
    CHECK(s.error().message.size() < 200);
  }
}

TEST_CASE("turns counters into rates; a reset is not a negative rate", "[metrics]")
{
  CHECK(*metrics::counter_rate(100, 0, 700, 60'000) == Approx(10.0));
  // The counter went down: the process restarted and counts from zero.
  CHECK(*metrics::counter_rate(5000, 0, 120, 60'000) == Approx(2.0));
  // A missed tick widens the interval.
  CHECK(*metrics::counter_rate(100, 0, 1300, 120'000) == Approx(10.0));
  CHECK_FALSE(metrics::counter_rate(1, 1000, 2, 1000));
}

namespace {
class FixedClock final : public core::Clock
{
public:
  core::Millis now() const override { return 42'000; }
  void sleep_for(core::Millis) override {}
};
} // namespace

TEST_CASE("asks each instance's stub_status once, without keeping the connection", "[metrics]")
{
  CannedTransport t;
  t.answer(200, "Active connections: 1 \nserver accepts handled requests\n 3 3 7 \n"
                "Reading: 0 Writing: 1 Waiting: 0 \n");
  t.answer(502, "<html>bad gateway</html>");
  FixedClock clock;
  metrics::StubStatusSource source(t, clock, 1500, 8);
  const auto r = source.poll({core::InstanceRef{"shop", "shop-web-1", core::Role::web, "127.0.0.1:8001", ""},
                              core::InstanceRef{"shop", "shop-web-2", core::Role::web, "127.0.0.1:8002", ""},
                              core::InstanceRef{"shop", "shop-web-3", core::Role::web, "127.0.0.1:8003", ""}});
  REQUIRE(t.sent.size() == 3);
  CHECK(t.sent[0].url == "http://127.0.0.1:8001/nginx_status");
  CHECK(t.sent[0].timeout_ms == 1500);
  CHECK_FALSE(t.sent[0].keep_alive);
  CHECK(*r[0].counter == 7);
  CHECK(r[0].ts == 42'000);
  CHECK(r[1].error == "stub_status answered HTTP 502");
  CHECK_FALSE(r[2].reachable);
  CHECK(r[2].error == "cannot reach: connection refused");
  CHECK(r[2].error_kind == core::ErrorKind::upstream_transient);
}

TEST_CASE("a stub_status whose certificate cannot be verified is a config error", "[metrics]")
{
  CannedTransport t;
  t.answers.emplace_back(
    core::fail(core::ErrorKind::config, "cannot verify the TLS certificate of 'https://w/'"));
  FixedClock clock;
  metrics::StubStatusSource source(t, clock, 1500, 8);
  const auto r = source.poll({core::InstanceRef{"shop", "shop-web-1", core::Role::web, "127.0.0.1:8001", ""}});
  REQUIRE(r.size() == 1);
  CHECK(r[0].error_kind == core::ErrorKind::config);
}

TEST_CASE("an instance whose stored address does not parse is not asked", "[metrics][hostile]")
{
  CannedTransport t;
  t.answer(200, "Active connections: 1 \nserver accepts handled requests\n 3 3 7 \n"
                "Reading: 0 Writing: 1 Waiting: 0 \n");
  FixedClock clock;
  metrics::StubStatusSource source(t, clock, 1500, 8);
  const auto r = source.poll(
    {core::InstanceRef{"shop", "shop-web-1", core::Role::web, "127.0.0.1:80/x; } server {", ""},
     core::InstanceRef{"shop", "shop-web-2", core::Role::web, "[fd00:0::1]:8002", ""},
     core::InstanceRef{"shop", "shop-web-3", core::Role::web, "localhost:8003", ""}});
  REQUIRE(t.sent.size() == 1);
  CHECK(t.sent[0].url == "http://[fd00::1]:8002/nginx_status");  // formatted from the parse
  REQUIRE(r.size() == 3);
  CHECK_FALSE(r[0].counter);
  CHECK(r[0].error.rfind("bad address '127.0.0.1:80/x; } server {'", 0) == 0);
  CHECK(*r[1].counter == 7);
  CHECK_FALSE(r[2].counter);
  CHECK(r[2].error.rfind("bad address 'localhost:8003'", 0) == 0);
}

namespace {

std::string status_page(int active, int reading, int writing, int waiting)
{
  return fmt::format("Active connections: {} \nserver accepts handled requests\n 9 9 9 \n"
                     "Reading: {} Writing: {} Waiting: {} \n",
                     active, reading, writing, waiting);
}

} // namespace

TEST_CASE("a drain's connection count leaves out sclman's own request, never below 0",
          "[metrics]")
{
  metrics::StubStatus s;
  CHECK(metrics::connections_of(s).open == 0);  // a page that counts not even its reader
  CHECK(metrics::connections_of(s).in_flight == 0);
  s.active = 4;
  s.reading = 1;
  s.writing = 2;  // sclman's and one more
  s.waiting = 1;  // a kept-alive connection waits: open, no request in flight
  CHECK(metrics::connections_of(s).open == 3);
  CHECK(metrics::connections_of(s).in_flight == 2);
  s.reading = INT64_MAX;  // the parser's largest: the sum saturates
  CHECK(metrics::connections_of(s).in_flight == INT64_MAX - 1);
}

TEST_CASE("probe_connections GETs the stub_status page without keep-alive and parses it",
          "[metrics][hostile]")
{
  const auto endpoint = core::Endpoint::parse("10.0.0.7:8080").value();
  CannedTransport t;
  t.answer(200, status_page(3, 0, 2, 1));
  const auto c = metrics::probe_connections(t, endpoint, 500);
  REQUIRE(c);
  CHECK(c->open == 2);
  CHECK(c->in_flight == 1);
  REQUIRE(t.sent.size() == 1);
  CHECK(t.sent[0].url == "http://10.0.0.7:8080/nginx_status");
  CHECK(t.sent[0].timeout_ms == 500);
  CHECK_FALSE(t.sent[0].keep_alive);
  // Whatever else answers is no count: the drain then waits for its deadline.
  t.answer(403, "");
  t.answer(200, "<html>busy</html>");
  t.answer(200, status_page(1, 0, 1, 0) + "Active connections: 0 \n");
  t.answer(200, "Active connections: -1 \nserver accepts handled requests\n 1 1 1 \n"
                "Reading: 0 Writing: 0 Waiting: 0 \n");
  for (int k = 0; k < 5; ++k) {  // the fifth finds no answer: a transport error
    INFO(k);
    CHECK_FALSE(metrics::probe_connections(t, endpoint, 500));
  }
}

} // namespace unit_test_stub_status
