#include "report/dashboard.hpp"

#include <catch2/catch.hpp>

TEST_CASE("escapes what users and servers wrote before it goes into HTML", "[report]")
{
  CHECK(report::html_escape("<b>\"a\" & 'b'</b>") == "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;");
}

TEST_CASE("draws one polyline with a point per sample and a line per size change", "[report]")
{
  const std::vector<report::Point> points = {{1000, 10}, {2000, 20}, {3000, 5}};
  const std::vector<report::DecisionMark> marks = {
    {1500, "scale_out", 2, 3, "load_above_high", "done"},
    {2500, "hold", 3, 3, "cooldown", "noop"},
    {2800, "scale_in", 3, 2, "load_below_low", "done"},
  };
  const auto svg = report::render_chart(points, 0, 4000, "load", "load", marks);
  CHECK_THAT(svg, Catch::Contains("data-points=\"3\""));
  CHECK_THAT(svg, Catch::Contains("<polyline class=\"series\""));
  CHECK_THAT(svg, Catch::Contains("class=\"mark scale_out\""));
  CHECK_THAT(svg, Catch::Contains("class=\"mark scale_in\""));
  CHECK_THAT(svg, !Catch::Contains("mark hold"));
  // The highest value (20) is drawn at the top of the plot area, on a round axis (20).
  CHECK_THAT(svg, Catch::Contains(">20</text>"));
}

TEST_CASE("an empty series says so instead of drawing nothing", "[report]")
{
  const auto svg = report::render_chart({}, 0, 4000, "load", "load", {});
  CHECK_THAT(svg, Catch::Contains("no data in this window"));
  CHECK_THAT(svg, !Catch::Contains("<polyline"));
}

TEST_CASE("the page lists each cluster, its members and its decisions", "[report]")
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
  c.members = {{"shop-web-1", "web", "127.0.0.1:9000", "in_service", 60'000, ""},
               {"shop-web-2", "web", "127.0.0.1:9001", "error", 5'000, "service <died>"}};
  c.decisions = {{1000, "scale_out", 1, 2, "load_above_high", "done"}};
  const auto html = report::render_html({c}, 0, 2000);
  CHECK_THAT(html, Catch::Contains("id=\"cluster-shop\""));
  CHECK_THAT(html, Catch::Contains("<td>shop-web-2</td>"));
  CHECK_THAT(html, Catch::Contains("service &lt;died&gt;"));
  CHECK_THAT(html, Catch::Contains("load_above_high"));
  CHECK_THAT(html, Catch::Contains("status.json"));
  CHECK_THAT(html, Catch::Contains("history.json"));
}
