#include "report/dashboard.hpp"

#include "core/names.hpp"
#include "core/time.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace report {

namespace {

constexpr int k_width = 640;
constexpr int k_height = 180;
constexpr int k_left = 48;
constexpr int k_right = 84;  // room for the reference lines' labels
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

// Return how long before `now` time `ts` was, 0 for a time after it. Saturating: the times come
// from the state file and may be anything.
Millis elapsed(Millis now, Millis ts)
{
  Millis d = 0;
  if (__builtin_sub_overflow(now, ts, &d)) {
    return ts < 0 ? std::numeric_limits<Millis>::max() : 0;
  }
  return std::max<Millis>(0, d);
}

// Return "TIME (AGE ago)" for a moment before `now`, or "never".
std::string when(const std::optional<Millis>& ts, Millis now)
{
  if (!ts) {
    return "never";
  }
  return fmt::format("{} ({} ago)", utc_full(*ts), core::human_age(elapsed(now, *ts)));
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

// Return the words of an action for people: "scale out".
std::string action_words(const std::string& action)
{
  std::string words = action;
  std::replace(words.begin(), words.end(), '_', ' ');
  return words;
}

// Return what a decision marker says on hover and to screen readers.
std::string mark_label(const DecisionMark& m)
{
  return fmt::format("{} {} to {} at {}: {} ({})", action_words(m.action), m.from, m.to,
                     utc_full(m.ts), m.reason, m.status);
}

// Return the triangle of a decision marker whose tip is at (x, y): up for scale_out, down for
// scale_in.
std::string glyph_path(const std::string& action, double x, double y)
{
  if (action == "scale_out") {
    return fmt::format("M{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f} Z", x, y, x + 5, y + 8, x - 5,
                       y + 8);
  }
  return fmt::format("M{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f} Z", x - 5, y, x + 5, y, x,
                     y + 8);
}

} // namespace

const std::vector<std::string>& chain_steps()
{
  static const std::vector<std::string> steps = {"poll-load", "decide", "scale-out", "scale-in",
                                                  "gc"};
  return steps;
}

ChainHealth chain_health(const std::vector<StepRun>& runs, Millis now, Millis tick_ms)
{
  ChainHealth h;
  bool all_succeeded = true;
  std::vector<std::string> missing;
  std::vector<std::string> failing;
  for (const auto& step : chain_steps()) {
    const auto it = std::find_if(runs.begin(), runs.end(),
                                 [&](const StepRun& r) { return r.command == step; });
    if (it == runs.end()) {
      missing.push_back(step);
      all_succeeded = false;
      continue;
    }
    h.steps.push_back(*it);
    h.last_run = std::max(h.last_run.value_or(it->ts), it->ts);
    if (it->exit_code != 0) {
      failing.push_back(fmt::format("{} exited {} at {}", step, it->exit_code, utc_full(it->ts)));
    }
    if (!it->last_success) {
      all_succeeded = false;
    } else {
      h.last_success = std::min(h.last_success.value_or(*it->last_success), *it->last_success);
    }
  }
  if (!all_succeeded) {
    h.last_success.reset();
  }
  const Millis limit = 3 * tick_ms;
  h.stale = !h.last_success || elapsed(now, *h.last_success) > limit;
  if (!h.stale) {
    return h;
  }
  const auto ticks = fmt::format("three ticks ({})", core::human_age(limit));
  if (!h.last_run) {
    h.warning = "the chain has never run: no step of it is recorded in this state file (is the "
                "cron entry or the timer installed?)";
  } else if (elapsed(now, *h.last_run) > limit) {
    h.warning = fmt::format("the chain last ran {} ago (at {}), more than {}: is cron or the "
                            "timer running it?",
                            core::human_age(elapsed(now, *h.last_run)), utc_full(*h.last_run),
                            ticks);
  } else if (!failing.empty()) {
    h.warning = fmt::format("the chain runs but has not succeeded for more than {} (last "
                            "success: {}): {}",
                            ticks, when(h.last_success, now), fmt::join(failing, "; "));
  } else {
    h.warning = fmt::format("the chain has not succeeded in the last {}: {} never ran or never "
                            "succeeded",
                            ticks, missing.empty() ? std::string("a step")
                                                   : fmt::format("{}", fmt::join(missing, ", ")));
  }
  return h;
}

std::vector<std::string> attention(const ClusterView& c)
{
  int unhealthy = 0;
  int failed = 0;
  for (const auto& m : c.members) {
    unhealthy += m.unhealthy ? 1 : 0;
    failed += m.state == "error" ? 1 : 0;
  }
  std::vector<std::string> notes;
  if (unhealthy > 0) {
    notes.push_back(fmt::format("{} unhealthy", unhealthy));
  }
  if (failed > 0) {
    notes.push_back(fmt::format("{} failed", failed));
  }
  if (c.failure_budget > 0 && c.failures >= c.failure_budget) {
    notes.push_back(fmt::format("scaling stopped after {} failed actions in a row", c.failures));
  } else if (c.failures > 0) {
    notes.push_back(fmt::format("{} failed action{} in a row", c.failures,
                                c.failures == 1 ? "" : "s"));
  }
  return notes;
}

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

std::string render_chart(const std::vector<Series>& series,
                         const std::vector<Reference>& references,
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
  size_t points = 0;
  for (const auto& s : series) {
    points += s.points.size();
    for (const auto& p : s.points) {
      top = std::max(top, p.value);
    }
  }
  for (const auto& r : references) {
    top = std::max(top, r.value);
  }
  top = nice_max(top);
  auto x = [&](Millis ts) {
    return k_left + plot_w * static_cast<double>(std::clamp(ts, from, to) - from) / span;
  };
  auto y = [&](double v) { return k_top + plot_h * (1.0 - std::clamp(v, 0.0, top) / top); };
  std::string svg = fmt::format(
    "<svg class=\"chart {}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
    "viewBox=\"0 0 {} {}\" role=\"group\" aria-label=\"{}\" data-points=\"{}\">\n",
    css_class, k_width, k_height, k_width, k_height, html_escape(title), points);
  svg += fmt::format("<text x=\"{}\" y=\"14\" class=\"title\" aria-hidden=\"true\">{}</text>\n",
                     k_left, html_escape(title));
  // Axes and grid: three horizontal lines with their values.
  svg += "<g aria-hidden=\"true\">\n";
  for (int k = 0; k <= 2; ++k) {
    const double v = top * k / 2.0;
    svg += fmt::format("<line class=\"grid\" x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\"/>"
                       "<text class=\"axis\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n",
                       k_left, y(v), k_width - k_right, y(v), k_left - 4, y(v) + 4, v);
  }
  for (int k = 0; k <= 4; ++k) {
    const Millis ts = from + (to - from) * k / 4;
    // The last label ends at the right edge of the plot instead of running past it.
    svg += fmt::format("<text class=\"axis\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"{}\">{}</text>\n",
                       x(ts), k_height - 6, k == 4 ? "end" : "middle",
                       utc_time(ts, to - from <= 15 * 60'000));
  }
  // The policy's lines, each labelled at its right end so that color is not the only clue.
  for (const auto& r : references) {
    svg += fmt::format("<line class=\"ref\" x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\"/>"
                       "<text class=\"ref-label\" x=\"{}\" y=\"{:.1f}\">{} {:g}</text>\n",
                       k_left, y(r.value), k_width - k_right, y(r.value), k_width - k_right + 4,
                       y(r.value) + 4, html_escape(r.name), r.value);
  }
  svg += "</g>\n";
  bool drawn = false;
  for (const auto& s : series) {
    if (s.points.empty()) {
      continue;
    }
    drawn = true;
    std::string coords;
    for (size_t k = 0; k < s.points.size(); ++k) {
      const auto& p = s.points[k];
      coords += fmt::format("{:.1f},{:.1f} ", x(p.ts), y(p.value));
      if (s.step) {
        // Hold the value until the next point, the last one until the chart's end.
        const Millis until = k + 1 < s.points.size() ? s.points[k + 1].ts : to;
        coords += fmt::format("{:.1f},{:.1f} ", x(until), y(p.value));
      }
    }
    coords.pop_back();
    svg += fmt::format("<polyline class=\"series {}\" points=\"{}\"><title>{}</title></polyline>\n",
                       s.css_class, coords, html_escape(s.name));
  }
  if (!drawn) {
    svg += fmt::format("<text class=\"empty\" x=\"{}\" y=\"{}\">no data in this window</text>\n",
                       k_left + 10, k_top + plot_h / 2);
  }
  // Decisions last, over the lines: a marker to hover or focus for the decision and its reason.
  for (const auto& m : marks) {
    if (m.ts < from || m.ts > to || m.action == "hold") {
      continue;
    }
    const auto label = html_escape(mark_label(m));
    svg += fmt::format(
      "<g class=\"mark {}\" tabindex=\"0\" role=\"img\" aria-label=\"{}\"><title>{}</title>"
      "<line class=\"hit\" x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\"/>"
      "<line class=\"rule\" x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\"/>"
      "<path class=\"glyph\" d=\"{}\"/></g>\n",
      m.action, label, label, x(m.ts), k_top, x(m.ts), k_top + plot_h, x(m.ts), k_top, x(m.ts),
      k_top + plot_h, glyph_path(m.action, x(m.ts), k_top));
  }
  svg += "</svg>\n";
  // The legend, in HTML so that it reads as text: a sample of each line's look, then its name.
  std::string legend = fmt::format("<ul class=\"legend\" aria-label=\"legend of {}\">\n",
                                   html_escape(title));
  const auto key = [](const std::string& inner) {
    return "<svg class=\"key\" width=\"28\" height=\"12\" viewBox=\"0 0 28 12\" "
           "aria-hidden=\"true\">" + inner + "</svg>";
  };
  for (const auto& s : series) {
    legend += fmt::format("<li>{}{}</li>\n",
                          key(fmt::format("<line class=\"series {}\" x1=\"2\" y1=\"6\" x2=\"26\" "
                                          "y2=\"6\"/>",
                                          s.css_class)),
                          html_escape(s.name));
  }
  for (const auto& r : references) {
    legend += fmt::format("<li>{}policy {} ({:g})</li>\n",
                          key("<line class=\"ref\" x1=\"2\" y1=\"6\" x2=\"26\" y2=\"6\"/>"),
                          html_escape(r.name), r.value);
  }
  for (const std::string action : {"scale_out", "scale_in"}) {
    legend += fmt::format("<li>{}{} decision (hover or focus it for the reason)</li>\n",
                          key(fmt::format("<g class=\"mark {}\"><path class=\"glyph\" d=\"{}\"/>"
                                          "</g>",
                                          action, glyph_path(action, 14, 2))),
                          action_words(action));
  }
  legend += "</ul>\n";
  return svg + legend;
}

std::string chart_css()
{
  return R"(svg.chart { display: block; margin: .5em 0 0; background: #fafafa; max-width: 100%; height: auto; }
svg .title { font-size: 12px; font-weight: bold; }
svg .axis { font-size: 10px; fill: #555; }
svg .grid { stroke: #ddd; }
.series { fill: none; stroke-width: 1.8; }
.series.load { stroke: #1f5fc4; }
.series.in_service { stroke: #6f42c1; stroke-width: 2.2; }
.series.desired { stroke: #222; stroke-dasharray: 6 3; }
.series.booting { stroke: #a14f00; stroke-dasharray: 2 2; }
.ref { stroke: #8a1c1c; stroke-width: 1.2; stroke-dasharray: 8 4; }
svg .ref-label { font-size: 10px; fill: #8a1c1c; }
.mark .rule { stroke-width: 1.5; stroke-dasharray: 3 2; }
.mark .hit { stroke: transparent; stroke-width: 10; }
.mark.scale_out .rule, .mark.scale_out .glyph { stroke: #1a7f37; fill: #1a7f37; }
.mark.scale_in .rule, .mark.scale_in .glyph { stroke: #a14f00; fill: #a14f00; }
.mark:hover .rule, .mark:focus .rule { stroke-width: 3; stroke-dasharray: none; }
.mark:focus { outline: none; }
.mark:focus .glyph { stroke: #000; stroke-width: 2; }
svg .empty { font-size: 12px; fill: #666; }
ul.legend { list-style: none; padding: 0; margin: .2em 0 .8em; font-size: .85em; }
ul.legend li { display: inline-block; margin-right: 1.2em; }
svg.key { vertical-align: middle; margin-right: .3em; }
)";
}

std::string render_cluster_charts(const ClusterView& c, Millis from, Millis now)
{
  std::string html =
    render_chart({{"load per instance (mean of the polled)", "load", c.load, false}},
                 c.load_references, from, now, "load per instance", "load", c.decisions);
  // In service as polled, then as the state file says now (a scale-in since the last poll).
  auto in_service = c.size_history;
  if (!in_service.empty() && in_service.back().value != c.size) {
    in_service.push_back({now, static_cast<double>(c.size)});
  }
  html += render_chart({{"in service", "in_service", in_service, true},
                        {"desired", "desired", c.desired_history, true},
                        {"booting", "booting", c.booting_history, true}},
                       {{"min", static_cast<double>(c.min)}, {"max", static_cast<double>(c.max)}},
                       from, now, "web instances", "size", c.decisions);
  return html;
}

std::string render_chain(const ChainHealth& chain, Millis now)
{
  std::string html;
  // The chain: when it last ran and succeeded, and a warning when that is too long ago.
  html += fmt::format("<section class=\"chain {}\" aria-labelledby=\"chain-heading\">\n"
                      "<h2 id=\"chain-heading\">Chain</h2>\n",
                      chain.stale ? "stale" : "ok");
  html += fmt::format("<p>Last ran: {}. Every step last succeeded at or after: {}.{}</p>\n",
                      when(chain.last_run, now), when(chain.last_success, now),
                      chain.stale ? "" : " <span class=\"running\">Running.</span>");
  if (chain.stale) {
    html += fmt::format("<p class=\"warning\" role=\"alert\"><strong>Warning:</strong> {}</p>\n",
                        html_escape(chain.warning));
  }
  if (!chain.steps.empty()) {
    html += "<table class=\"steps\">\n<caption>Last run of each step of the chain</caption>\n"
            "<thead><tr><th scope=\"col\">step</th><th scope=\"col\">ended</th>"
            "<th scope=\"col\">exit code</th><th scope=\"col\">last success</th></tr></thead>"
            "\n<tbody>\n";
    for (const auto& s : chain.steps) {
      html += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                          s.exit_code == 0 ? "step-ok" : "state-error", html_escape(s.command),
                          when(s.ts, now), s.exit_code, when(s.last_success, now));
    }
    html += "</tbody>\n</table>\n";
  }
  html += "</section>\n";
  return html;
}

std::string render_html(const std::vector<ClusterView>& clusters,
                        const ChainHealth& chain,
                        Millis from,
                        Millis now)
{
  std::string html = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sclman clusters</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.4em; }
h2 { font-size: 1.2em; }
h3 { font-size: 1em; }
section.cluster { border-top: 1px solid #ccc; padding-top: .5em; margin-top: 1.5em; }
section.cluster.attention { border-left: 6px solid #b3261e; padding-left: .8em; }
table { border-collapse: collapse; margin: .5em 0; }
caption { text-align: left; font-weight: bold; padding: 2px 0; }
td, th { padding: 2px 10px; text-align: left; border-bottom: 1px solid #eee; font-size: .9em; }
.warning { background: #fff4e5; border: 2px solid #b3261e; padding: .5em .8em; color: #5c1010; }
.badge { display: inline-block; background: #b3261e; color: #fff; border-radius: 3px;
  padding: 0 .4em; font-size: .85em; font-weight: bold; }
.running { color: #1a6b32; font-weight: bold; }
)" + chart_css() + R"(.state-error, .state-unhealthy { color: #b3261e; font-weight: bold; }
</style>
</head>
<body>
<header>
)";
  html += fmt::format("<h1>sclman: {} cluster{}</h1>\n", clusters.size(),
                      clusters.size() == 1 ? "" : "s");
  html += fmt::format(
    "<p>Generated {} by <code>sclman report</code>; charts from {} to then. Machine-readable: "
    "<a href=\"status.json\">status.json</a>, <a href=\"history.json\">history.json</a>. "
    "<button type=\"button\" id=\"pause\" aria-pressed=\"false\" hidden>Pause "
    "auto-refresh</button></p>\n",
    utc_full(now), utc_full(from));
  html += render_chain(chain, now);
  if (!clusters.empty()) {
    html += "<nav aria-label=\"clusters\"><ul>\n";
    for (const auto& c : clusters) {
      const auto badge = fmt::format("{}", fmt::join(attention(c), ", "));
      html += fmt::format("<li><a href=\"#cluster-{0}\">cluster {0}</a>: {1} in service, {2} booting, "
                          "desired {3}{4}</li>\n",
                          html_escape(c.name), c.size, c.booting, c.desired,
                          badge.empty() ? std::string()
                                        : " <span class=\"badge\">needs attention: "
                                            + html_escape(badge) + "</span>");
    }
    html += "</ul></nav>\n";
  }
  html += "</header>\n<main>\n";
  for (const auto& c : clusters) {
    const auto notes = attention(c);
    html += fmt::format("<section class=\"cluster{1}\" id=\"cluster-{0}\" "
                        "aria-labelledby=\"heading-{0}\">\n<h2 id=\"heading-{0}\">{0}</h2>\n",
                        html_escape(c.name), notes.empty() ? "" : " attention");
    if (!notes.empty()) {
      html += fmt::format("<p class=\"warning attention\"><strong>Needs attention:</strong> "
                          "{}.</p>\n",
                          html_escape(fmt::format("{}", fmt::join(notes, ", "))));
    }
    html += fmt::format("<p>status <b>{1}</b>, LB <code>{2}</code>{8}, {3} in service, {9} "
                        "booting (desired {4}, min {5}, max {6}), policy {7}</p>\n",
                        html_escape(c.name), html_escape(c.status),
                        html_escape(c.lb_address.empty() ? "-" : c.lb_address), c.size,
                        c.desired, c.min, c.max, html_escape(c.policy),
                        c.public_address.empty()
                          ? std::string()
                          : " (public <code>" + html_escape(c.public_address) + "</code>)",
                        c.booting);
    html += render_cluster_charts(c, from, now);
    html += fmt::format("<table class=\"members\">\n<caption>Members of {}</caption>\n"
                        "<thead><tr><th scope=\"col\">name</th><th scope=\"col\">role</th>"
                        "<th scope=\"col\">address</th><th scope=\"col\">state</th>"
                        "<th scope=\"col\">age</th><th scope=\"col\">error</th></tr></thead>\n"
                        "<tbody>\n",
                        html_escape(c.name));
    for (const auto& m : c.members) {
      const std::string state = m.unhealthy ? "unhealthy" : m.state;
      html += fmt::format("<tr class=\"state-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                          "<td>{}</td><td>{}</td></tr>\n",
                          html_escape(state), html_escape(m.name), html_escape(m.role),
                          html_escape(m.address), html_escape(state), core::human_age(m.age_ms),
                          html_escape(m.error));
    }
    html += fmt::format("</tbody>\n</table>\n<table class=\"decisions\">\n<caption>Last decisions of {}"
                        "</caption>\n<thead><tr><th scope=\"col\">time</th><th scope=\"col\">action</th>"
                        "<th scope=\"col\">size</th><th scope=\"col\">reason</th>"
                        "<th scope=\"col\">status</th></tr></thead>\n<tbody>\n",
                        html_escape(c.name));
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
    html += "</tbody>\n</table>\n</section>\n";
  }
  // Reload each minute (cron rewrites the page) unless paused; mark the page once the browser
  // has laid the charts out, so that a headless test can tell.
  html += R"(</main>
<script>
(function () {
  var button = document.getElementById('pause');
  var paused = false;
  try { paused = sessionStorage.getItem('sclman-paused') === '1'; } catch (e) {}
  button.hidden = false;
  button.setAttribute('aria-pressed', String(paused));
  button.addEventListener('click', function () {
    paused = !paused;
    button.setAttribute('aria-pressed', String(paused));
    try { sessionStorage.setItem('sclman-paused', paused ? '1' : '0'); } catch (e) {}
  });
  setInterval(function () { if (!paused) { location.reload(); } }, 60000);
})();
window.addEventListener('load', function () {
  var drawn = 0;
  document.querySelectorAll('svg.chart').forEach(function (chart) {
    var lines = chart.querySelectorAll('polyline');
    for (var k = 0; k < lines.length; k++) {
      if (lines[k].getBBox().width > 0) { drawn++; return; }
    }
  });
  document.body.setAttribute('data-charts-drawn', String(drawn));
});
</script><noscript><p>This page is rewritten each minute; reload it to see the newest run (it reloads
itself only with JavaScript).</p></noscript>
</body>
</html>
)";
  return html;
}

} // namespace report
