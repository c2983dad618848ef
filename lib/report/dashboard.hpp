// The static dashboard `sclman report` writes: HTML with inline SVG charts, rendered from plain
// values. Pure: no I/O, no clock.
#pragma once

#include "core/clock.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace report {

using core::Millis;

struct Point
{
  Millis ts = 0;
  double value = 0;
};

struct DecisionMark
{
  Millis ts = 0;
  std::string action;  // scale_out, scale_in, hold
  int from = 0;
  int to = 0;
  std::string reason;
  std::string status;
};

struct Member
{
  std::string name;
  std::string role;
  std::string address;
  std::string state;
  Millis age_ms = 0;
  std::string error;
};

struct ClusterView
{
  std::string name;
  std::string status;
  std::string lb_address;
  std::string public_address;  // the LB server's floating IP and port; empty for none
  std::string policy;
  int size = 0;
  int desired = 0;
  int min = 0;
  int max = 0;
  std::vector<Point> load;  // mean load per instance, one point per poll
  std::vector<Point> size_history;  // instances sampled per poll
  std::vector<DecisionMark> decisions;  // oldest first, within the window
  std::vector<Member> members;
};

// Return `text` with &, <, >, " and ' escaped for HTML.
std::string html_escape(std::string_view text);

// Return an SVG line chart of `points` over [from, to]; `marks` become vertical lines (green for
// scale_out, orange for scale_in). `css_class` names the series for styling and tests.
std::string render_chart(const std::vector<Point>& points,
                         Millis from,
                         Millis to,
                         const std::string& title,
                         const std::string& css_class,
                         const std::vector<DecisionMark>& marks);

// Return the whole page for `clusters` at time `now`; the charts span [from, now].
std::string render_html(const std::vector<ClusterView>& clusters, Millis from, Millis now);

} // namespace report
