#include "../core/fake_clock.hpp"
#include "../log_capture.hpp"
#include "canned_transport.hpp"
#include "hostile_keys.hpp"
#include "metrics/sensu.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_sensu {

namespace {

core::InstanceRef web(const std::string& name, const std::string& address = "10.0.0.5:80")
{
  return core::InstanceRef{"shop", name, core::Role::web, address, ""};
}

// A Sensu Core /results item, shaped as the Results API documentation shows it.
std::string core_result(const std::string& client, const std::string& check, int status,
                        const std::string& output, long executed = 1460312322)
{
  return R"({"check":{"status":)" + std::to_string(status) + R"(,"output":")" + output
         + R"(","command":"check-load.rb","subscribers":["web"],"interval":60,"name":")" + check
         + R"(","issued":)" + std::to_string(executed) + R"(,"executed":)"
         + std::to_string(executed) + R"(,"duration":0.032,"history":[0,0,1]},"client":")"
         + client + R"("})";
}

metrics::CheckParse parse_with(metrics::OutputFormat format)
{
  metrics::CheckParse p;
  p.format = format;
  p.names = metrics::split_names("load1, load_avg.one, load.avg");
  p.event_load = 100.0;
  return p;
}

} // namespace

TEST_CASE("parses Sensu Core /results, keeping the one check", "[metrics][sensu]")
{
  const auto body = "[" + core_result("shop-web-1", "load", 1, "CheckLoad WARNING: x") + ","
                    + core_result("shop-web-1", "keepalive", 0, "Keepalive sent") + "]";
  const auto r = metrics::parse_sensu_results(body, 200, "load");
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].entity == "shop-web-1");
  CHECK((*r)[0].status == 1);
  CHECK((*r)[0].executed == 1460312322000);
  CHECK((*r)[0].output == "CheckLoad WARNING: x");

  SECTION("errors")
  {
    // 401: empty body with WWW-Authenticate (lib/sensu/api/http_handler.rb).
    const auto auth = metrics::parse_sensu_results("", 401, "load");
    REQUIRE_FALSE(auth);
    CHECK(auth.error().kind == core::ErrorKind::upstream_auth);
    CHECK(auth.error().message == "sensu answered HTTP 401");
    const auto down = metrics::parse_sensu_results("", 500, "load");
    REQUIRE_FALSE(down);
    CHECK(down.error().kind == core::ErrorKind::upstream_transient);
    CHECK_FALSE(metrics::parse_sensu_results("{}", 200, "load"));
    CHECK_FALSE(metrics::parse_sensu_results("[1]", 200, "load"));
  }
}

TEST_CASE("parses Sensu Go events with metric points", "[metrics][sensu]")
{
  const auto r = metrics::parse_sensu_go_events(R"([
    {"check":{"metadata":{"name":"load","namespace":"default"},"output":"load1=0.1",
              "status":0,"executed":1620313661},
     "entity":{"entity_class":"agent","metadata":{"name":"shop-web-1","namespace":"default"}},
     "metrics":{"handlers":[],"points":[
       {"name":"shop-web-1.load.load1","value":0.42,"timestamp":1620313661123,"tags":[]}]},
     "metadata":{"namespace":"default"},"timestamp":1620313666},
    {"check":{"metadata":{"name":"check-cpu"},"output":"ok","status":0,"executed":1},
     "entity":{"metadata":{"name":"shop-web-1"}}}])",
                                                200, "load");
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].entity == "shop-web-1");
  REQUIRE((*r)[0].points.size() == 1);
  CHECK((*r)[0].points[0].ts == 1620313661123);
  CHECK((*r)[0].points[0].value == Approx(0.42));

  SECTION("errors: 401 is text, others JSON")
  {
    const auto auth = metrics::parse_sensu_go_events("Request unauthorized\n", 401, "load");
    REQUIRE_FALSE(auth);
    CHECK(auth.error().kind == core::ErrorKind::upstream_auth);
    CHECK(auth.error().message == "sensu_go answered HTTP 401: Request unauthorized");
    const auto denied = metrics::parse_sensu_go_events(
      R"({"Code":4,"Message":"unauthorized to perform action"})", 403, "load");
    REQUIRE_FALSE(denied);
    CHECK(denied.error().message == "sensu_go answered HTTP 403: unauthorized to perform action");
  }
}

TEST_CASE("reads metric point timestamps in any unit", "[metrics][sensu]")
{
  CHECK(metrics::point_ts_ms(1620313661) == 1620313661000);
  CHECK(metrics::point_ts_ms(1620313661123) == 1620313661123);
  CHECK(metrics::point_ts_ms(1620313661123456) == 1620313661123);
  CHECK(metrics::point_ts_ms(1620313661123456789) == 1620313661123);
  CHECK(metrics::point_ts_ms(0) == 0);
}

TEST_CASE("reads the X-Pagination header of Sensu Core", "[metrics][sensu]")
{
  const auto p = metrics::parse_x_pagination(R"({"limit":1,"offset":1,"total":848})");
  REQUIRE(p);
  CHECK(p->limit == 1);
  CHECK(p->offset == 1);
  CHECK(p->total == 848);
  CHECK_FALSE(metrics::parse_x_pagination(""));
  CHECK_FALSE(metrics::parse_x_pagination(R"({"limit":0,"offset":0,"total":3})"));
}

TEST_CASE("turns a check result into a reading", "[metrics][sensu]")
{
  metrics::CheckResult c;
  c.entity = "shop-web-1";
  c.executed = 5000;
  SECTION("status mode: warning or critical means high load, as the original tool did")
  {
    const auto p = parse_with(metrics::OutputFormat::status);
    c.status = 0;
    CHECK(*metrics::reading_from_check(c, p).value == 0.0);
    c.status = 1;
    CHECK(*metrics::reading_from_check(c, p).value == 100.0);
    c.status = 2;
    CHECK(*metrics::reading_from_check(c, p).value == 100.0);
    c.status = 3;
    const auto unknown = metrics::reading_from_check(c, p);
    CHECK_FALSE(unknown.value);
    CHECK(unknown.error == "check status 3 (unknown)");
  }
  SECTION("metric points come before the output")
  {
    c.output = "x | load1=9";
    c.points = {{"other", 1.0, 6000}, {"host.load_avg.one", 0.5, 7000}};
    const auto r = metrics::reading_from_check(c, parse_with(metrics::OutputFormat::auto_detect));
    CHECK(*r.value == 0.5);
    CHECK(r.ts == 7000);
    c.points = {{"other", 1.0, 6000}};
    CHECK(*metrics::reading_from_check(c, parse_with(metrics::OutputFormat::auto_detect)).value
          == 9.0);
  }
  SECTION("the Graphite timestamp is the sample's time; else executed")
  {
    c.output = "h.load.avg 2.5 1460312322";
    const auto g = metrics::reading_from_check(c, parse_with(metrics::OutputFormat::graphite));
    CHECK(g.ts == 1460312322000);
    c.output = "CheckLoad OK: Total load average (1 CPU): 0.7, 0.5, 0.1";
    const auto l = metrics::reading_from_check(c, parse_with(metrics::OutputFormat::check_load));
    CHECK(*l.value == Approx(0.7));
    CHECK(l.ts == 5000);
  }
}

TEST_CASE("matches clients to instances by name or host", "[metrics][sensu]")
{
  std::vector<metrics::CheckResult> results(3);
  results[0].entity = "shop-web-1";
  results[0].output = "x | load1=1";
  results[1].entity = "10.0.0.6";
  results[1].output = "x | load1=2";
  results[2].entity = "10.0.0.6";
  const auto p = parse_with(metrics::OutputFormat::auto_detect);
  const auto by_name = metrics::readings_from_checks(
    {web("shop-web-1"), web("shop-web-2")}, results, metrics::MatchBy::name, p, "load");
  CHECK(*by_name[0].value == 1.0);
  CHECK(by_name[1].error == "no result of check 'load' for 'shop-web-2'");
  const auto by_host = metrics::readings_from_checks({web("shop-web-2", "10.0.0.6:80")}, results,
                                                     metrics::MatchBy::host, p, "load");
  CHECK(by_host[0].instance == "shop-web-2");
  CHECK(by_host[0].error == "more than one result of check 'load' for '10.0.0.6'");
}

TEST_CASE("a hostile client address matches no instance and is logged escaped",
          "[metrics][sensu][hostile]")
{
  const auto p = parse_with(metrics::OutputFormat::auto_detect);
  const std::vector<core::InstanceRef> instances = {web("shop-web-1", "127.0.0.1:80"),
                                                    web("shop-web-2", "[fd00::1]:80")};
  for (const auto& client : test::hostile_keys()) {
    INFO("client: " << core::printable(client));
    test::LogCapture log;
    std::vector<metrics::CheckResult> results(1);
    results[0].entity = client;
    results[0].output = "x | load1=1";
    const auto r = metrics::readings_from_checks(instances, results, metrics::MatchBy::host, p,
                                                 "load");
    REQUIRE(r.size() == 2);
    CHECK_FALSE(r[0].value);
    CHECK_FALSE(r[1].value);
    test::check_refused_once(log.text(), "sensu", client);
    // An instance whose stored address is that same text is no address either: no match.
    const auto same = metrics::readings_from_checks({web("shop-web-3", client)}, results,
                                                    metrics::MatchBy::host, p, "load");
    CHECK_FALSE(same[0].value);
  }
  // A valid IPv6 literal names its client, bare or in brackets.
  std::vector<metrics::CheckResult> v6(1);
  v6[0].entity = "fd00:0::1";
  v6[0].output = "x | load1=4";
  const auto r = metrics::readings_from_checks(instances, v6, metrics::MatchBy::host, p, "load");
  CHECK_FALSE(r[0].value);
  CHECK(*r[1].value == 4.0);
}

TEST_CASE("asks Sensu Core for the other pages once the first tells the total",
          "[metrics][sensu]")
{
  test::FakeClock clock;
  metrics::SensuConfig c;
  c.page_size = 2;
  c.user = "admin";
  c.password = "secret";
  CannedTransport t;
  t.answer(200,
           "[" + core_result("shop-web-1", "load", 0, "x | load1=1") + ","
             + core_result("shop-web-2", "load", 0, "x | load1=2") + "]",
           {{"x-pagination", R"({"limit":2,"offset":0,"total":5})"}});
  t.answer(200, "[" + core_result("shop-web-3", "load", 0, "x | load1=3") + "]",
           {{"x-pagination", R"({"limit":2,"offset":2,"total":5})"}});
  t.answer(200, "[" + core_result("shop-web-4", "load", 2, "x | load1=4") + "]",
           {{"x-pagination", R"({"limit":2,"offset":4,"total":5})"}});
  metrics::SensuSource source(t, c);
  source.set_clock(clock);
  const auto r = source.poll({web("shop-web-1"), web("shop-web-3"), web("shop-web-4")});
  REQUIRE(t.sent.size() == 3);
  CHECK(t.sent[0].url == "http://127.0.0.1:4567/results?filter.check.name=load&limit=2&offset=0");
  CHECK(t.sent[2].url == "http://127.0.0.1:4567/results?filter.check.name=load&limit=2&offset=4");
  CHECK(t.sent[0].headers[0].second == "Basic YWRtaW46c2VjcmV0");
  CHECK(*r[0].value == 1.0);
  CHECK(*r[1].value == 3.0);
  CHECK(*r[2].value == 4.0);
}

TEST_CASE("follows Sensu-Continue tokens of Sensu Go", "[metrics][sensu]")
{
  test::FakeClock clock;
  metrics::SensuConfig s;
  s.page_size = 1;
  metrics::SensuGoConfig g;
  g.api_key = "83abef1e-e7d7-4beb-91fc-79ad90084d5b";
  CannedTransport t;
  const auto event = [](const std::string& entity, const std::string& output) {
    return R"([{"check":{"metadata":{"name":"load"},"output":")" + output
           + R"(","status":0,"executed":1620313661},"entity":{"metadata":{"name":")" + entity
           + R"("}}}])";
  };
  t.answer(200, event("shop-web-1", "x | load1=1"), {{"sensu-continue", "L2RlZmF1bHQ/a"}});
  t.answer(200, event("shop-web-2", "x | load1=2"), {});
  metrics::SensuGoSource source(t, s, g);
  source.set_clock(clock);
  const auto r = source.poll({web("shop-web-1"), web("shop-web-2")});
  REQUIRE(t.sent.size() == 2);
  CHECK(t.sent[0].url == "http://127.0.0.1:8080/api/core/v2/namespaces/default/events?limit=1");
  CHECK(t.sent[1].url
        == "http://127.0.0.1:8080/api/core/v2/namespaces/default/events?limit=1&continue="
           "L2RlZmF1bHQ%2Fa");
  CHECK(t.sent[0].headers[0].second == "Key 83abef1e-e7d7-4beb-91fc-79ad90084d5b");
  CHECK(*r[0].value == 1.0);
  CHECK(*r[1].value == 2.0);

  SECTION("a failed page fails the whole poll: no value is half-read")
  {
    CannedTransport broken;
    broken.answer(200, event("shop-web-1", "x | load1=1"), {{"sensu-continue", "t"}});
    for (int k = 0; k < 3; ++k) {
      broken.answer(500, R"({"Code":0,"Message":"internal error occurred"})");
    }
    metrics::SensuGoSource s2(broken, s, g);
    s2.set_clock(clock);
    const auto r2 = s2.poll({web("shop-web-1")});
    CHECK(broken.sent.size() == 4);
    CHECK_FALSE(r2[0].value);
    CHECK(r2[0].error == "sensu_go answered HTTP 500: internal error occurred (after 3 attempts)");
  }

  SECTION("a transient failure of a page is retried; the poll then reads every page")
  {
    CannedTransport flaky;
    flaky.answer(200, event("shop-web-1", "x | load1=1"), {{"sensu-continue", "t"}});
    flaky.answer(503, "busy", {{"retry-after", "0"}});
    flaky.answer(200, event("shop-web-2", "x | load1=2"), {});
    metrics::SensuGoSource s3(flaky, s, g);
    s3.set_clock(clock);
    const auto r3 = s3.poll({web("shop-web-1"), web("shop-web-2")});
    CHECK(flaky.sent.size() == 3);
    CHECK(flaky.sent[2].url == flaky.sent[1].url);
    REQUIRE(r3[1].value);
    CHECK(*r3[1].value == 2.0);
  }

  SECTION("an error that is not transient is not repeated")
  {
    CannedTransport denied;
    denied.answer(401, R"({"message":"unauthorized"})");
    metrics::SensuGoSource s4(denied, s, g);
    s4.set_clock(clock);
    CHECK_FALSE(s4.poll({web("shop-web-1")})[0].value);
    CHECK(denied.sent.size() == 1);
  }
}

// Regression (fuzz_sensu with UBSAN_OPTIONS=halt_on_error=1): an executed time of 1e300 was
// converted to int64 (float-cast-overflow) and one of 9223372036854775807 s multiplied by 1000
// (signed overflow), both undefined behaviour; a status of 4294967298 was truncated to 2
// (critical). Out-of-range times are now no time (stale), other statuses unknown (3).
TEST_CASE("out-of-range numbers in Sensu answers are no time, not undefined behaviour",
          "[metrics][sensu]")
{
  for (const char* executed : {"1e300", "-1e300", "9223372036854775807", "18446744073709551615",
                               "9223372036854776.5", "-5"}) {
    INFO(executed);
    const auto body = std::string(R"([{"client":"a","check":{"name":"load","status":0,"executed":)")
                      + executed + "}}]";
    const auto r = metrics::parse_sensu_results(body, 200, "load");
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].executed == 0);
    const auto go = std::string(R"([{"check":{"metadata":{"name":"load"},"executed":)") + executed
                    + R"(},"entity":{"metadata":{"name":"a"}}}])";
    const auto g = metrics::parse_sensu_go_events(go, 200, "load");
    REQUIRE(g);
    REQUIRE(g->size() == 1);
    CHECK((*g)[0].executed == 0);
  }
  const auto r = metrics::parse_sensu_results(
    R"([{"client":"a","check":{"name":"load","status":4294967298,"executed":1460312322}}])", 200,
    "load");
  REQUIRE(r);
  CHECK((*r)[0].status == 3);
  CHECK((*r)[0].executed == 1460312322000);
}

TEST_CASE("an unverifiable certificate of Sensu is a config error for every instance",
          "[metrics][sensu]")
{
  test::FakeClock clock;
  CannedTransport t;
  t.answers.emplace_back(core::fail(core::ErrorKind::config,
                                    "cannot verify the TLS certificate of 'https://s/results'"));
  metrics::SensuSource source(t, metrics::SensuConfig{});
  source.set_clock(clock);
  const auto r = source.poll({web("shop-web-1"), web("shop-web-2")});
  REQUIRE(r.size() == 2);
  for (const auto& reading : r) {
    CHECK_FALSE(reading.value);
    CHECK(reading.error_kind == core::ErrorKind::config);
  }
}

} // namespace unit_test_sensu
