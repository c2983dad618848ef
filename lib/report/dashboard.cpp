#include "report/dashboard.hpp"

#include "core/names.hpp"
#include "core/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace report {

namespace {

constexpr int k_width = 640;
constexpr int k_height = 170;
constexpr int k_left = 48;
constexpr int k_right = 12;
constexpr int k_top = 22;
constexpr int k_bottom = 24;

// Return the UTC time of day, with seconds when `with_seconds`.
std::string utc_time(Millis ts, bool with_seconds)
{
  const auto t = core::civil_from_seconds(ts / 1000);
  if (with_seconds) {
    return fmt::format("{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
  }
  return fmt::format("{:02}:{:02}", t.hour, t.minute);
}

std::string utc_full(Millis ts)
{
  const auto t = core::civil_from_seconds(ts / 1000);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", t.year, t.month, t.day, t.hour,
                     t.minute, t.second);
}

// Return a round upper bound for the y axis (1, 2, 5 x 10^n).
double nice_max(double v)
{
  if (v <= 0 || !std::isfinite(v)) {
    return 1;
  }
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (v <= m * p) {
      return m * p;
    }
  }
  return 10 * p;
}

} // namespace

std::string html_escape(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string render_chart(const std::vector<Point>& points,
                         Millis from,
                         Millis to,
                         const std::string& title,
                         const std::string& css_class,
                         const std::vector<DecisionMark>& marks)
{
  const double plot_w = k_width - k_left - k_right;
  const double plot_h = k_height - k_top - k_bottom;
  const double span = static_cast<double>(std::max<Millis>(1, to - from));
  double top = 0;
  for (const auto& p : points) {
    top = std::max(top, p.value);
  }
  top = nice_max(top);
  auto x = [&](Millis ts) { return k_left + plot_w * static_cast<double>(ts - from) / span; };
  auto y = [&](double v) { return k_top + plot_h * (1.0 - v / top); };
  std::string svg = fmt::format(
    "<svg class=\"chart {}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
    "viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" data-points=\"{}\">\n",
    css_class, k_width, k_height, k_width, k_height, html_escape(title), points.size());
  svg += fmt::format("<text x=\"{}\" y=\"14\" class=\"title\">{}</text>\n", k_left,
                     html_escape(title));
  // Axes and grid: three horizontal lines with their values.
  for (int k = 0; k <= 2; ++k) {
    const double v = top * k / 2.0;
    svg += fmt::format("<line class=\"grid\" x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\"/>"
                       "<text class=\"axis\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n",
                       k_left, y(v), k_width - k_right, y(v), k_left - 4, y(v) + 4, v);
  }
  for (int k = 0; k <= 4; ++k) {
    const Millis ts = from + (to - from) * k / 4;
    // The last label ends at the right edge instead of running past it.
    svg += fmt::format("<text class=\"axis\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"{}\">{}</text>\n",
                       x(ts), k_height - 6, k == 4 ? "end" : "middle",
                       utc_time(ts, to - from <= 15 * 60'000));
  }
  for (const auto& m : marks) {
    if (m.ts < from || m.ts > to || m.action == "hold") {
      continue;
    }
    svg += fmt::format("<line class=\"mark {}\" x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\">"
                       "<title>{} {}->{} {} ({})</title></line>\n",
                       m.action, x(m.ts), k_top, x(m.ts), k_top + plot_h, m.action, m.from, m.to,
                       html_escape(m.reason), utc_full(m.ts));
  }
  if (!points.empty()) {
    std::string coords;
    for (const auto& p : points) {
      coords += fmt::format("{:.1f},{:.1f} ", x(p.ts), y(p.value));
    }
    coords.pop_back();
    svg += fmt::format("<polyline class=\"series\" points=\"{}\"/>\n", coords);
  } else {
    svg += fmt::format("<text class=\"empty\" x=\"{}\" y=\"{}\">no data in this window</text>\n",
                       k_left + 10, k_top + plot_h / 2);
  }
  svg += "</svg>\n";
  return svg;
}

std::string render_html(const std::vector<ClusterView>& clusters, Millis from, Millis now)
{
  std::string html = fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="60">
<title>sclman clusters</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.4em; }}
section.cluster {{ border-top: 1px solid #ccc; padding-top: .5em; margin-top: 1.5em; }}
table {{ border-collapse: collapse; margin: .5em 0; }}
td, th {{ padding: 2px 10px; text-align: left; border-bottom: 1px solid #eee; font-size: .9em; }}
svg.chart {{ display: block; margin: .5em 0; background: #fafafa; }}
svg .title {{ font-size: 12px; font-weight: bold; }}
svg .axis {{ font-size: 10px; fill: #666; }}
svg .grid {{ stroke: #ddd; }}
svg .series {{ fill: none; stroke: #1f6feb; stroke-width: 1.5; }}
svg.size .series {{ stroke: #6f42c1; }}
svg .mark.scale_out {{ stroke: #2da44e; stroke-width: 2; }}
svg .mark.scale_in {{ stroke: #d9822b; stroke-width: 2; }}
svg .empty {{ font-size: 12px; fill: #999; }}
.state-error {{ color: #c00; }}
</style>
</head>
<body>
<h1>sclman: {} clusters</h1>
<p>Generated {} by <code>sclman report</code>; charts from {} to now.
Machine-readable: <a href="status.json">status.json</a>, <a href="history.json">history.json</a>.</p>
)",
                                 clusters.size(), utc_full(now), utc_full(from));
  for (const auto& c : clusters) {
    html += fmt::format("<section class=\"cluster\" id=\"cluster-{0}\">\n<h2>{0}</h2>\n"
                        "<p>status <b>{1}</b>, LB <code>{2}</code>{8}, {3} in service (desired "
                        "{4}, min {5}, max {6}), policy {7}</p>\n",
                        html_escape(c.name), html_escape(c.status),
                        html_escape(c.lb_address.empty() ? "-" : c.lb_address), c.size, c.desired,
                        c.min, c.max, html_escape(c.policy),
                        c.public_address.empty()
                          ? std::string()
                          : " (public <code>" + html_escape(c.public_address) + "</code>)");
    html += render_chart(c.load, from, now, "load per instance (mean)", "load", c.decisions);
    html += render_chart(c.size_history, from, now, "instances in service", "size", c.decisions);
    html += "<h3>Members</h3>\n<table class=\"members\">\n<tr><th>name</th><th>role</th>"
            "<th>address</th><th>state</th><th>age</th><th>error</th></tr>\n";
    for (const auto& m : c.members) {
      html += fmt::format("<tr class=\"state-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                          "<td>{}</td><td>{}</td></tr>\n",
                          html_escape(m.state), html_escape(m.name), html_escape(m.role),
                          html_escape(m.address), html_escape(m.state), core::human_age(m.age_ms),
                          html_escape(m.error));
    }
    html += "</table>\n<h3>Last decisions</h3>\n<table class=\"decisions\">\n<tr><th>time</th>"
            "<th>action</th><th>size</th><th>reason</th><th>status</th></tr>\n";
    // The newest decision whatever it was, then the last ten that changed the size.
    int shown = 0;
    for (auto it = c.decisions.rbegin(); it != c.decisions.rend() && shown < 11; ++it) {
      if (it != c.decisions.rbegin() && it->action == "hold") {
        continue;
      }
      ++shown;
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{} &rarr; {}</td><td>{}</td><td>{}</td>"
                          "</tr>\n",
                          utc_full(it->ts), html_escape(it->action), it->from, it->to,
                          html_escape(it->reason), html_escape(it->status));
    }
    html += "</table>\n</section>\n";
  }
  // Mark the page once the browser has laid the charts out, so a headless test can tell.
  html += R"(<script>
window.addEventListener('load', function () {
  var drawn = 0;
  document.querySelectorAll('svg.chart polyline').forEach(function (p) {
    var box = p.getBBox();
    if (box.width > 0) { drawn++; }
  });
  document.body.setAttribute('data-charts-drawn', String(drawn));
});
</script>
</body>
</html>
)";
  return html;
}

} // namespace report
