#include "../core/fake_clock.hpp"
#include "../log_capture.hpp"
#include "canned_transport.hpp"
#include "hostile_keys.hpp"
#include "metrics/prometheus.hpp"

#include <catch2/catch.hpp>

#include <cmath>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_prometheus {

namespace {

core::InstanceRef web(const std::string& name, const std::string& address)
{
  return core::InstanceRef{"shop", name, core::Role::web, address, ""};
}

} // namespace

TEST_CASE("parses an instant vector with string values", "[metrics][prometheus]")
{
  // As Prometheus 2.42 answers /api/v1/query.
  const auto s = metrics::parse_prometheus_vector(
    R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"instance":"10.0.0.5:9100","job":"node"},"value":[1795714078.210,"0.511"]},
      {"metric":{"instance":"10.0.0.6:9100"},"value":[1795714078.210,"NaN"]},
      {"metric":{"instance":"10.0.0.7:9100"},"value":[1795714078.210,"+Inf"]},
      {"metric":{"job":"node"},"value":[1795714078.210,"-Inf"]}]}})",
    200, "instance");
  REQUIRE(s);
  REQUIRE(s->size() == 4);
  CHECK((*s)[0].key == "10.0.0.5:9100");
  CHECK((*s)[0].ts == 1795714078210);
  CHECK((*s)[0].value == Approx(0.511));
  CHECK(std::isnan((*s)[1].value));
  CHECK(std::isinf((*s)[2].value));
  CHECK((*s)[2].value > 0);
  CHECK((*s)[3].key.empty());
  CHECK((*s)[3].value < 0);
}

TEST_CASE("an empty result is no series, not an error", "[metrics][prometheus]")
{
  // Right after start, before the first scrape.
  const auto s = metrics::parse_prometheus_vector(
    R"({"status":"success","data":{"resultType":"vector","result":[]}})", 200, "instance");
  REQUIRE(s);
  CHECK(s->empty());
}

TEST_CASE("maps Prometheus error answers to error kinds", "[metrics][prometheus]")
{
  const auto bad = metrics::parse_prometheus_vector(
    R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \"}\""})",
    400, "instance");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().kind == core::ErrorKind::config);
  CHECK(bad.error().http_status == 400);
  CHECK(bad.error().message
        == "prometheus answered HTTP 400 bad_data: 1:5: parse error: unexpected \"}\"");

  const auto busy = metrics::parse_prometheus_vector(
    R"({"status":"error","errorType":"unavailable","error":"too many queries"})", 503,
    "instance");
  REQUIRE_FALSE(busy);
  CHECK(busy.error().kind == core::ErrorKind::upstream_transient);

  const auto auth = metrics::parse_prometheus_vector("Unauthorized\n", 401, "instance");
  REQUIRE_FALSE(auth);
  CHECK(auth.error().kind == core::ErrorKind::upstream_auth);

  const auto matrix = metrics::parse_prometheus_vector(
    R"({"status":"success","data":{"resultType":"matrix","result":[]}})", 200, "instance");
  REQUIRE_FALSE(matrix);
  CHECK(matrix.error().message == "query must give an instant vector, not a matrix");

  CHECK_FALSE(metrics::parse_prometheus_vector("<html>", 200, "instance"));
  CHECK_FALSE(metrics::parse_prometheus_vector(
    R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"x"]}]}})", 200,
    "instance"));
}

TEST_CASE("answers whose members have the wrong type are errors, not exceptions",
          "[metrics][prometheus]")
{
  // Found by fuzz_prometheus: json::value("status", std::string()) threw type_error here.
  const auto object_status = metrics::parse_prometheus_vector(
    R"({"status":{"resultType":"vector","result":[]}})", 200, "instance");
  REQUIRE_FALSE(object_status);
  CHECK(object_status.error().kind == core::ErrorKind::upstream_rejected);

  const auto numeric_error = metrics::parse_prometheus_vector(
    R"({"status":"error","errorType":7,"error":["x"]})", 400, "instance");
  REQUIRE_FALSE(numeric_error);
  CHECK(numeric_error.error().message == "prometheus answered HTTP 400");

  const auto numeric_type = metrics::parse_prometheus_vector(
    R"({"status":"success","data":{"resultType":1,"result":[]}})", 200, "instance");
  REQUIRE_FALSE(numeric_type);
  CHECK(numeric_type.error().message == "query must give an instant vector, not a ");
}

TEST_CASE("matches series to instances by address, host or name", "[metrics][prometheus]")
{
  const std::vector<metrics::Series> series = {
    {"10.0.0.5:9100", 1000, 42.0},
    {"10.0.0.6:9100", 1000, std::nan("")},
    {"shop-web-3", 1000, 7.0},
    {"10.0.0.8:9100", 1000, 1.0},
    {"10.0.0.8:9200", 1000, 2.0},
  };
  // The time query's answer: the sample of 10.0.0.5 was taken at 900.5 s (evaluated at 1000).
  const std::vector<metrics::Series> times = {{"10.0.0.5:9100", 1'000'000, 900.5},
                                              {"shop-web-3", 1'000'000, 950}};
  const std::vector<core::InstanceRef> instances = {
    web("shop-web-1", "10.0.0.5:80"), web("shop-web-2", "10.0.0.6:80"),
    web("shop-web-3", "10.0.0.7:80"), web("shop-web-4", "10.0.0.8:80"),
    web("shop-web-5", "10.0.0.9:80")};

  const auto by_host = metrics::readings_from_series(instances, series, times,
                                                     metrics::MatchBy::host, "instance");
  REQUIRE(by_host.size() == 5);
  CHECK(by_host[0].instance == "shop-web-1");
  CHECK(*by_host[0].value == Approx(42.0));
  CHECK(by_host[0].ts == 900'500);  // the sample's own time, not the evaluation time
  CHECK_FALSE(by_host[1].value);
  CHECK(by_host[1].error == "prometheus gave NaN for '10.0.0.6'");
  CHECK(by_host[3].error == "more than one series with instance matching '10.0.0.8'");
  CHECK(by_host[4].error == "no series with instance matching '10.0.0.9'");

  const auto by_name = metrics::readings_from_series(instances, series, times,
                                                     metrics::MatchBy::name, "instance");
  CHECK(*by_name[2].value == Approx(7.0));
  CHECK(by_name[2].ts == 950'000);
  CHECK_FALSE(by_name[0].value);

  const auto by_address = metrics::readings_from_series(
    {web("a", "10.0.0.5:9100")}, series, times, metrics::MatchBy::address, "instance");
  CHECK(*by_address[0].value == Approx(42.0));
  // A value without a time of its own is dated 0 (stale to poll-load), never the query's time.
  const auto undated = metrics::readings_from_series({web("a", "10.0.0.5:9100")}, series, {},
                                                     metrics::MatchBy::address, "instance");
  CHECK(*undated[0].value == Approx(42.0));
  CHECK(undated[0].ts == 0);
}

TEST_CASE("reduces an address to the key of its parsed form; what is no address has none",
          "[metrics]")
{
  using metrics::address_key;
  using metrics::MatchBy;
  CHECK(address_key("10.0.0.5:9100", MatchBy::host) == "10.0.0.5");
  CHECK(address_key("10.0.0.5", MatchBy::host) == "10.0.0.5");
  CHECK(address_key("[fd00:0::1]:9100", MatchBy::host) == "fd00::1");
  CHECK(address_key("fd00::1", MatchBy::host) == "fd00::1");
  CHECK(address_key("[fd00::1]", MatchBy::host) == "fd00::1");
  CHECK(address_key("10.0.0.5:09100", MatchBy::address) == "10.0.0.5:9100");
  CHECK(address_key("[fd00:0::1]:9100", MatchBy::address) == "[fd00::1]:9100");
  CHECK(address_key("shop-web-1", MatchBy::name) == "shop-web-1");
  CHECK_FALSE(address_key("web-1", MatchBy::host));
  CHECK_FALSE(address_key("web-1:9100", MatchBy::host));
  CHECK_FALSE(address_key("10.0.0.5", MatchBy::address));  // no port
}

TEST_CASE("a hostile label matches no instance and is logged escaped",
          "[metrics][prometheus][hostile]")
{
  const std::vector<core::InstanceRef> instances = {web("shop-web-1", "127.0.0.1:80"),
                                                    web("shop-web-2", "[fd00::1]:80")};
  for (const auto by : {metrics::MatchBy::host, metrics::MatchBy::address}) {
    for (const auto& label : test::hostile_keys()) {
      INFO("label: " << core::printable(label));
      test::LogCapture log;
      const std::vector<metrics::Series> series = {{label, 1000, 1e300}};
      const auto r = metrics::readings_from_series(instances, series, series, by, "instance");
      REQUIRE(r.size() == 2);
      CHECK_FALSE(r[0].value);
      CHECK_FALSE(r[1].value);
      test::check_refused_once(log.text(), "prometheus", label);
    }
  }
  // A valid IPv6 literal is a label like any other, in brackets with a port or without.
  const std::vector<metrics::Series> v6 = {{"[fd00:0::1]:9100", 1000, 3.0}};
  const auto by_host = metrics::readings_from_series(instances, v6, v6, metrics::MatchBy::host,
                                                     "instance");
  CHECK(*by_host[1].value == 3.0);
  CHECK_FALSE(by_host[0].value);
}

TEST_CASE("encodes the query into the URL and keeps credentials in a header",
          "[metrics][prometheus]")
{
  test::FakeClock clock;
  metrics::PrometheusConfig c;
  c.url = "http://127.0.0.1:9090";
  c.query = R"(up{job="node"} == 1)";
  c.user = "scaler";
  c.password = "s3cret";
  CannedTransport none;
  metrics::PrometheusSource source(none, c);
  source.set_clock(clock);
  const auto r = source.request();
  CHECK(r.url
        == "http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22node%22%7D%20%3D%3D%201");
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].second == "Basic c2NhbGVyOnMzY3JldA==");
  CHECK(r.url.find("s3cret") == std::string::npos);
}

TEST_CASE("a failed query leaves every instance without a value", "[metrics][prometheus]")
{
  test::FakeClock clock;
  CannedTransport t;
  t.answer(400, R"({"status":"error","errorType":"bad_data","error":"parse error"})");
  metrics::PrometheusSource source(t, metrics::PrometheusConfig{});
  source.set_clock(clock);
  const auto r = source.poll({web("shop-web-1", "10.0.0.5:80"), web("shop-web-2", "10.0.0.6:80")});
  REQUIRE(r.size() == 2);
  CHECK(t.sent.size() == 1);
  for (const auto& reading : r) {
    CHECK_FALSE(reading.value);
    CHECK(reading.error
          == "prometheus answered HTTP 400 bad_data: parse error (check [PROMETHEUS] query)");
  }
  // Unreachable: retried, then the transport error, for each.
  t.sent.clear();
  const auto down = source.poll({web("shop-web-1", "10.0.0.5:80")});
  CHECK(t.sent.size() == 3);
  CHECK(down[0].error == "cannot reach: connection refused (after 3 attempts)");
  REQUIRE(clock.slept.size() == 2);  // waited on the clock, equal jitter from 500 ms
  CHECK(clock.slept[0] >= 250);
  CHECK(clock.slept[0] <= 500);
  CHECK(clock.slept[1] >= 500);
  CHECK(clock.slept[1] <= 1000);
}

TEST_CASE("a transient failure of the query is retried, within the deadline and Retry-After",
          "[metrics][prometheus]")
{
  test::FakeClock clock;
  const std::string ok =
    R"({"status":"success","data":{"resultType":"vector","result":[)"
    R"({"metric":{"instance":"10.0.0.5:80"},"value":[1700000000,"42"]}]}})";
  const std::vector<core::InstanceRef> one{web("shop-web-1", "10.0.0.5:80")};

  // Prometheus too busy, then an answer: the value, after two requests (and the time query).
  CannedTransport t;
  t.answer(503, R"({"status":"error","errorType":"unavailable","error":"too many queries"})");
  t.answer(200, ok);
  t.answer(200, ok);
  metrics::PrometheusSource source(t, metrics::PrometheusConfig{});
  source.set_clock(clock);
  source.set_deadline(clock.steady() + 20'000);
  const auto r = source.poll(one);
  CHECK(t.sent.size() == 3);
  REQUIRE(r[0].value);
  CHECK(*r[0].value == 42);

  // A Retry-After that ends past the deadline: no second request.
  CannedTransport limited;
  limited.answer(429, "slow down", {{"retry-after", "30"}});
  limited.answer(200, ok);
  metrics::PrometheusSource polite(limited, metrics::PrometheusConfig{});
  polite.set_clock(clock);
  polite.set_deadline(clock.steady() + 20'000);
  const auto late = polite.poll(one);
  CHECK(limited.sent.size() == 1);
  CHECK_FALSE(late[0].value);
  CHECK(late[0].error == "prometheus answered HTTP 429");

  // Not transient (bad PromQL, auth): never repeated.
  CannedTransport refused;
  refused.answer(401, "Unauthorized");
  refused.answer(200, ok);
  metrics::PrometheusSource denied(refused, metrics::PrometheusConfig{});
  denied.set_clock(clock);
  CHECK_FALSE(denied.poll(one)[0].value);
  CHECK(refused.sent.size() == 1);
}

TEST_CASE("bad PromQL is a config error with Prometheus' message, asked once", "[metrics][prometheus]")
{
  // As Prometheus 2.42 answers `sclman_test_load{`.
  test::FakeClock clock;
  CannedTransport t;
  t.answer(400, R"({"status":"error","errorType":"bad_data",)"
                R"("error":"1:18: parse error: unexpected end of input inside braces"})");
  t.answer(200, R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  metrics::PrometheusSource source(t, metrics::PrometheusConfig{});
  source.set_clock(clock);
  source.set_deadline(clock.steady() + 20'000);
  const auto r = source.poll({web("shop-web-1", "10.0.0.5:80")});
  CHECK(t.sent.size() == 1);  // never retried: no tick mends the config
  CHECK(clock.slept.empty());
  REQUIRE(r.size() == 1);
  CHECK_FALSE(r[0].value);
  CHECK(r[0].error_kind == core::ErrorKind::config);
  CHECK(r[0].error.find("1:18: parse error: unexpected end of input inside braces")
        != std::string::npos);
  CHECK(r[0].error.find("(check [PROMETHEUS] query)") != std::string::npos);

  // Other failures stay missing samples the next tick may mend.
  CannedTransport busy;
  busy.answer(503, R"({"status":"error","errorType":"unavailable","error":"busy"})");
  metrics::PrometheusSource other(busy, metrics::PrometheusConfig{});
  other.set_clock(clock);
  CHECK(other.poll({web("shop-web-1", "10.0.0.5:80")})[0].error_kind
        == core::ErrorKind::upstream_transient);
}

TEST_CASE("samples are dated by the time query, not by the query's evaluation", "[metrics][prometheus]")
{
  test::FakeClock clock;
  const std::vector<core::InstanceRef> one{web("shop-web-1", "10.0.0.5:80")};
  const auto answer = [](const char* value) {
    return std::string(R"({"status":"success","data":{"resultType":"vector","result":[)"
                       R"({"metric":{"instance":"10.0.0.5:9100"},"value":[1700000600.25,")")
           + value + R"("]}]}})";
  };
  metrics::PrometheusConfig c;
  c.query = "sclman_load";

  // The value comes from the query, its time from timestamp(query): 600 s before evaluation.
  CannedTransport t;
  t.answer(200, answer("42"));
  t.answer(200, answer("1700000000.5"));
  metrics::PrometheusSource source(t, c);
  source.set_clock(clock);
  const auto r = source.poll(one);
  REQUIRE(t.sent.size() == 2);
  CHECK(t.sent[1].url == "http://127.0.0.1:9090/api/v1/query?query=timestamp%28sclman_load%29");
  REQUIRE(r[0].value);
  CHECK(*r[0].value == 42);
  CHECK(r[0].ts == 1'700'000'000'500);

  // A time query that answers the evaluation time (timestamp() of a computed expression) dates
  // nothing: the reading is undated, so stale, not fresh.
  CannedTransport computed;
  computed.answer(200, answer("42"));
  computed.answer(200, answer("1700000600.25"));
  metrics::PrometheusSource eval(computed, c);
  eval.set_clock(clock);
  const auto e = eval.poll(one);
  REQUIRE(e[0].value);
  CHECK(e[0].ts == 0);

  // A bad time query is a config error naming time_query.
  CannedTransport bad;
  bad.answer(200, answer("42"));
  bad.answer(400, R"({"status":"error","errorType":"bad_data","error":"parse error"})");
  c.time_query = "timestamp(";
  metrics::PrometheusSource wrong(bad, c);
  wrong.set_clock(clock);
  const auto w = wrong.poll(one);
  CHECK(w[0].error_kind == core::ErrorKind::config);
  CHECK(w[0].error
        == "prometheus answered HTTP 400 bad_data: parse error (check [PROMETHEUS] time_query)");
}

TEST_CASE("time_query_of dates plain selectors with timestamp() and the default query by its series",
          "[metrics][prometheus]")
{
  metrics::PrometheusConfig c;
  CHECK(metrics::time_query_of(c)
        == R"(max by (instance) (timestamp(node_cpu_seconds_total{mode="idle"})))");
  c.query = "sclman_load";
  CHECK(metrics::time_query_of(c) == "timestamp(sclman_load)");
  c.time_query = "max_over_time(timestamp(sclman_load)[10m:1s])";
  CHECK(metrics::time_query_of(c) == "max_over_time(timestamp(sclman_load)[10m:1s])");
}

TEST_CASE("an unverifiable certificate is a config error naming its own remedy, not the query",
          "[metrics][prometheus]")
{
  test::FakeClock clock;
  CannedTransport t;
  t.answers.emplace_back(core::fail(core::ErrorKind::config,
                                    "cannot verify the TLS certificate of 'https://p/': "
                                    "self-signed (give the CA that signed it with [TLS] ca_bundle)"));
  metrics::PrometheusSource source(t, metrics::PrometheusConfig{});
  source.set_clock(clock);
  source.set_deadline(clock.steady() + 20'000);
  const auto r = source.poll({web("shop-web-1", "10.0.0.5:80")});
  REQUIRE(r.size() == 1);
  CHECK(r[0].error_kind == core::ErrorKind::config);
  CHECK(r[0].error.find("[TLS] ca_bundle") != std::string::npos);
  CHECK(r[0].error.find("[PROMETHEUS]") == std::string::npos);
}

} // namespace unit_test_prometheus
