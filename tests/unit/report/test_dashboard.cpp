#include "report/dashboard.hpp"

#include <catch2/catch.hpp>

#include <limits>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_dashboard {

namespace {

constexpr core::Millis k_minute = 60'000;

// Return how many times `needle` occurs in `text`.
size_t count(const std::string& text, const std::string& needle)
{
  size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Each step of the chain, ended at `ts` with `exit_code`, last successful at `last_success`.
std::vector<report::StepRun> chain_at(core::Millis ts, int exit_code,
                                      std::optional<core::Millis> last_success)
{
  std::vector<report::StepRun> runs;
  for (const auto& step : report::chain_steps()) {
    runs.push_back({step, ts, exit_code, last_success});
  }
  return runs;
}

} // namespace

TEST_CASE("escapes what users and servers wrote before it goes into HTML", "[report]")
{
  CHECK(report::html_escape("<b>\"a\" & 'b'</b>") == "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;");
}

TEST_CASE("draws a polyline per series, the policy's lines, a legend and a marker per size "
          "change that names its reason",
          "[report]")
{
  const std::vector<report::Point> points = {{1000, 10}, {2000, 20}, {3000, 5}};
  const std::vector<report::DecisionMark> marks = {
    {1500, "scale_out", 2, 3, "load_above_high", "done"},
    {2500, "hold", 3, 3, "cooldown", "noop"},
    {2800, "scale_in", 3, 2, "load <below> low", "done"},
  };
  const auto svg = report::render_chart({{"load", "load", points, false}},
                                        {{"high", 50}, {"low", 10}}, 0, 4000, "load", "load",
                                        marks);
  CHECK_THAT(svg, Catch::Contains("data-points=\"3\""));
  CHECK_THAT(svg, Catch::Contains("<polyline class=\"series load\""));
  CHECK(count(svg, "<g class=\"mark scale_out\" tabindex=\"0\" role=\"img\"") == 1);
  CHECK(count(svg, "<g class=\"mark scale_in\" tabindex=\"0\" role=\"img\"") == 1);
  CHECK_THAT(svg, !Catch::Contains("mark hold"));
  // The reason is in the marker's name and hover text, escaped.
  CHECK_THAT(svg, Catch::Contains("aria-label=\"scale out 2 to 3 at 1970-01-01 00:00:01 UTC: "
                                  "load_above_high (done)\""));
  CHECK_THAT(svg, Catch::Contains("<title>scale in 3 to 2 at 1970-01-01 00:00:02 UTC: load "
                                  "&lt;below&gt; low (done)</title>"));
  // The axis reaches the highest line (high 50), each line is labelled with its value.
  CHECK_THAT(svg, Catch::Contains(">50</text>"));
  CHECK(count(svg, "<line class=\"ref\"") == 2 + 2);  // on the chart and in the legend
  CHECK_THAT(svg, Catch::Contains(">high 50</text>"));
  CHECK_THAT(svg, Catch::Contains(">low 10</text>"));
  // The legend names the series, each line and both markers.
  CHECK_THAT(svg, Catch::Contains("<ul class=\"legend\""));
  CHECK_THAT(svg, Catch::Contains("</svg>load</li>"));
  CHECK_THAT(svg, Catch::Contains("policy high (50)</li>"));
  CHECK_THAT(svg, Catch::Contains("scale out decision"));
  CHECK_THAT(svg, Catch::Contains("scale in decision"));
}

TEST_CASE("a step series holds each value until the next point and the last until the end",
          "[report]")
{
  // Plot x: 48 + 508 * ts / 4000; y: 22 + 134 * (1 - v / 5) for values up to 5.
  const auto svg = report::render_chart({{"desired", "desired", {{0, 2}, {2000, 3}}, true}}, {},
                                        0, 4000, "size", "size", {});
  CHECK_THAT(svg, Catch::Contains("points=\"48.0,102.4 302.0,102.4 302.0,75.6 556.0,75.6\""));
  // A point before the chart's start is drawn at the start.
  const auto early = report::render_chart({{"desired", "desired", {{-5000, 2}}, true}}, {}, 0,
                                          4000, "size", "size", {});
  CHECK_THAT(early, Catch::Contains("points=\"48.0,22.0 556.0,22.0\""));
}

TEST_CASE("an empty series says so instead of drawing nothing", "[report]")
{
  const auto svg = report::render_chart({{"load", "load", {}, false}}, {}, 0, 4000, "load",
                                        "load", {});
  CHECK_THAT(svg, Catch::Contains("no data in this window"));
  CHECK_THAT(svg, !Catch::Contains("<polyline"));
}

TEST_CASE("the chain is healthy while every step succeeded within three ticks", "[report]")
{
  const core::Millis now = 1000 * k_minute;
  const auto fresh = report::chain_health(chain_at(now - k_minute, 0, now - k_minute), now,
                                          k_minute);
  CHECK_FALSE(fresh.stale);
  CHECK(fresh.warning.empty());
  CHECK(fresh.last_run == now - k_minute);
  CHECK(fresh.last_success == now - k_minute);
  CHECK(fresh.steps.size() == 5);
  // Exactly three ticks is still fine; a millisecond more is not.
  CHECK_FALSE(report::chain_health(chain_at(now - 3 * k_minute, 0, now - 3 * k_minute), now,
                                   k_minute)
                .stale);
  CHECK(report::chain_health(chain_at(now - 3 * k_minute - 1, 0, now - 3 * k_minute - 1), now,
                             k_minute)
          .stale);
}

TEST_CASE("the chain's last success is the oldest of its steps' last successes", "[report]")
{
  const core::Millis now = 1000 * k_minute;
  auto runs = chain_at(now - k_minute, 0, now - k_minute);
  runs[1].last_success = now - 2 * k_minute;  // decide
  runs.push_back({"report", now, 1, std::nullopt});  // not a step of the chain
  const auto h = report::chain_health(runs, now, k_minute);
  CHECK(h.last_success == now - 2 * k_minute);
  CHECK(h.last_run == now - k_minute);
  CHECK_FALSE(h.stale);
  CHECK(h.steps.size() == 5);
}

TEST_CASE("a chain that never ran, stopped running or keeps failing is stale and says why",
          "[report]")
{
  const core::Millis now = 1000 * k_minute;
  SECTION("never ran")
  {
    const auto h = report::chain_health({{"status", now, 0, now}}, now, k_minute);
    CHECK(h.stale);
    CHECK_FALSE(h.last_run);
    CHECK_THAT(h.warning, Catch::Contains("never run"));
  }
  SECTION("stopped running")
  {
    const auto h = report::chain_health(chain_at(now - 10 * k_minute, 0, now - 10 * k_minute),
                                        now, k_minute);
    CHECK(h.stale);
    CHECK_THAT(h.warning, Catch::Contains("last ran"));
    CHECK_THAT(h.warning, Catch::Contains("last ran 10m ago"));
  }
  SECTION("keeps failing")
  {
    auto runs = chain_at(now - k_minute, 0, now - k_minute);
    runs[2].exit_code = 75;  // scale-out
    runs[2].last_success = now - 20 * k_minute;
    const auto h = report::chain_health(runs, now, k_minute);
    CHECK(h.stale);
    CHECK(h.last_success == now - 20 * k_minute);
    CHECK_THAT(h.warning, Catch::Contains("has not succeeded"));
    CHECK_THAT(h.warning, Catch::Contains("scale-out exited 75"));
  }
  SECTION("a step never succeeded")
  {
    auto runs = chain_at(now - k_minute, 0, now - k_minute);
    runs.erase(runs.begin() + 4);  // gc never ran
    const auto h = report::chain_health(runs, now, k_minute);
    CHECK(h.stale);
    CHECK_FALSE(h.last_success);
    CHECK_THAT(h.warning, Catch::Contains("gc never ran or never succeeded"));
  }
}

TEST_CASE("a cluster with unhealthy or failed instances or failed actions needs attention",
          "[report]")
{
  report::ClusterView c;
  c.members = {{"a", "web", "", "in_service", 0, "", false, {}}};
  CHECK(report::attention(c).empty());
  c.members.push_back({"b", "web", "", "in_service", 0, "status 502", true, {}});
  c.members.push_back({"c", "web", "", "error", 0, "boot timeout", false, {}});
  c.failures = 1;
  c.failure_budget = 3;
  CHECK(report::attention(c)
        == std::vector<std::string>{"1 unhealthy", "1 failed", "1 failed action in a row"});
  c.failures = 3;
  CHECK(report::attention(c).back() == "scaling stopped after 3 failed actions in a row");
}

TEST_CASE("the page lists each cluster, its members, its decisions and the chain's health",
          "[report]")
{
  report::ClusterView c;
  c.name = "shop";
  c.status = "active";
  c.lb_address = "127.0.0.1:8080";
  c.policy = "threshold";
  c.size = 2;
  c.desired = 2;
  c.min = 2;
  c.max = 4;
  c.load = {{1000, 3}};
  c.load_references = {{"high", 50}, {"low", 10}};
  c.size_history = {{1000, 2}};
  c.desired_history = {{0, 1}, {1000, 2}};
  c.booting_history = {{0, 0}};
  c.members = {{"shop-web-1", "web", "127.0.0.1:9000", "in_service", 60'000, "", false, {}},
               {"shop-web-2", "web", "127.0.0.1:9001", "error", 5'000, "service <died>", false,
                {}}};
  c.decisions = {{1000, "scale_out", 1, 2, "load_above_high", "done"}};
  report::ClusterView calm = c;
  calm.name = "calm";
  calm.members.pop_back();
  calm.size = 1;  // one left service since the last poll (2)
  const core::Millis now = 2000;
  const auto fresh = report::chain_health(chain_at(now, 0, now), now, k_minute);
  const auto html = report::render_html({c, calm}, fresh, 0, now);
  CHECK_THAT(html, Catch::Contains("id=\"cluster-shop\""));
  CHECK_THAT(html, Catch::Contains("<td>shop-web-2</td>"));
  CHECK_THAT(html, Catch::Contains("service &lt;died&gt;"));
  CHECK_THAT(html, Catch::Contains("load_above_high"));
  CHECK_THAT(html, Catch::Contains("status.json"));
  CHECK_THAT(html, Catch::Contains("history.json"));
  // Both charts of each cluster, the size chart with its three series and min and max.
  CHECK(count(html, "<svg class=\"chart load\"") == 2);
  CHECK(count(html, "<svg class=\"chart size\"") == 2);
  CHECK(count(html, "<polyline class=\"series desired\"") == 2);
  CHECK(count(html, "<polyline class=\"series booting\"") == 2);
  CHECK(count(html, "<polyline class=\"series in_service\"") == 2);
  CHECK_THAT(html, Catch::Contains(">max 4</text>"));
  // The in-service line ends at the size now: 2 from the poll on, 1 at the end (y of 1 on an
  // axis to 5, at the right edge) for calm; shop's stays at 2.
  CHECK_THAT(html, Catch::Contains("<polyline class=\"series in_service\" points=\"302.0,102.4 "
                                   "556.0,102.4\">"));
  CHECK_THAT(html, Catch::Contains("<polyline class=\"series in_service\" points=\"302.0,102.4 "
                                   "556.0,102.4 556.0,129.2 556.0,129.2\">"));
  // Only the cluster with a failed member is marked, in the list and at its section.
  CHECK(count(html, "needs attention: 1 failed") == 1);
  CHECK(count(html, "class=\"cluster attention\"") == 1);
  CHECK_THAT(html, Catch::Contains("class=\"cluster\" id=\"cluster-calm\""));
  // A running chain: no warning.
  CHECK_THAT(html, Catch::Contains("section class=\"chain ok\""));
  CHECK_THAT(html, !Catch::Contains("role=\"alert\""));
  // A chain that stopped: the warning, with why.
  const auto stopped = report::chain_health(chain_at(now - 10 * k_minute, 0, now - 10 * k_minute),
                                            now, k_minute);
  const auto warned = report::render_html({c}, stopped, 0, now);
  CHECK_THAT(warned, Catch::Contains("section class=\"chain stale\""));
  CHECK_THAT(warned, Catch::Contains("<p class=\"warning\" role=\"alert\"><strong>Warning:"
                                     "</strong> the chain last ran"));
}

TEST_CASE("run times read back from the state file that cannot be true do not break the page",
          "[report]")
{
  // A hostile or corrupt runs table: times at the ends of the integer range.
  const core::Millis now = 1000 * k_minute;
  const auto lo = std::numeric_limits<core::Millis>::min();
  const auto hi = std::numeric_limits<core::Millis>::max();
  auto runs = chain_at(lo, 0, lo);
  runs[1] = {"decide", hi, 1, hi};
  const auto h = report::chain_health(runs, now, k_minute);
  CHECK(h.stale);
  CHECK(h.last_success == lo);
  const auto html = report::render_html({}, h, 0, now);
  CHECK_THAT(html, Catch::Contains("role=\"alert\""));
  // A step that ended in the future is not "ago".
  const auto future = report::chain_health(chain_at(now + k_minute, 0, now + k_minute), now,
                                           k_minute);
  CHECK_FALSE(future.stale);
}

} // namespace unit_test_dashboard
