// The static dashboard `sclman report` writes: HTML with inline SVG charts, rendered from plain
// values. Pure: no I/O, no clock.
#pragma once

#include "core/clock.hpp"

#include <optional>
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

// One line of a chart. A step series holds each value until the next point (the last one until
// the chart's end); the others join their points.
struct Series
{
  std::string name;       // in the legend
  std::string css_class;  // its look: load, in_service, desired, booting
  std::vector<Point> points;
  bool step = false;
};

// A horizontal line across a chart: a policy's threshold, target or capacity.
struct Reference
{
  std::string name;  // "high", "target", ...
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
  bool unhealthy = false;  // in service but out of the balancer: failing its health checks
  std::optional<double> load;  // its value at the cluster's last poll; nothing if none
};

struct ClusterView
{
  std::string name;
  std::string status;
  std::string lb_address;
  std::string public_address;  // the LB server's floating IP and port; empty for none
  std::string policy;
  int size = 0;
  int booting = 0;
  int desired = 0;
  int min = 0;
  int max = 0;
  int failures = 0;        // failed actions in a row
  int failure_budget = 0;  // failed actions in a row after which scaling stops; 0: unknown
  std::vector<Point> load;  // mean load per instance, one point per poll
  std::vector<Reference> load_references;  // the policy's thresholds, target or capacity
  std::vector<Point> size_history;  // instances in service, sampled per poll
  std::vector<Point> desired_history;  // desired size, a point where it changed (step)
  std::vector<Point> booting_history;  // web instances booting, a point where it changed (step)
  std::vector<DecisionMark> decisions;  // oldest first, within the window
  std::vector<Member> members;
};

// How each step of the chain last ended, from the state file's runs.
struct StepRun
{
  std::string command;
  Millis ts = 0;  // when it last ended
  int exit_code = 0;
  std::optional<Millis> last_success;  // when it last exited 0; nothing if never
};

// The commands of one tick of the chain (cron/sclman-chain), in order.
const std::vector<std::string>& chain_steps();

// Whether the chain runs and succeeds. It last ran when its latest step ended; it last
// succeeded when the step that succeeded longest ago did (every step had succeeded by then).
// It is stale when that is more than three ticks ago, or never.
struct ChainHealth
{
  std::optional<Millis> last_run;
  std::optional<Millis> last_success;
  bool stale = true;
  std::string warning;  // why it is stale, for people; empty when not
  std::vector<StepRun> steps;  // each step of chain_steps() that has run, in order
};

// Return the chain's health at `now` from the runs recorded (any commands; the chain's steps
// are picked out), with ticks `tick_ms` apart.
ChainHealth chain_health(const std::vector<StepRun>& runs, Millis now, Millis tick_ms);

// The notes that mark a cluster as needing attention ("1 unhealthy", "2 failed", "scaling
// stopped after 3 failed actions"); empty when it needs none.
std::vector<std::string> attention(const ClusterView& c);

// Return `text` with &, <, >, " and ' escaped for HTML.
std::string html_escape(std::string_view text);

// Return an SVG chart of `series` over [from, to] with `references` as dashed horizontal lines,
// and the HTML legend after it. `marks` become markers at their time (an up triangle for
// scale_out, a down one for scale_in) that name the decision and its reason on hover and to
// screen readers. `css_class` names the chart for styling and tests.
std::string render_chart(const std::vector<Series>& series,
                         const std::vector<Reference>& references,
                         Millis from,
                         Millis to,
                         const std::string& title,
                         const std::string& css_class,
                         const std::vector<DecisionMark>& marks);

// Return the CSS rules of render_chart's charts and legends.
std::string chart_css();

// Return cluster `c`'s two charts over [from, now]: its load per instance with the policy's
// references, and its web instances (in service, desired, booting) between min and max.
std::string render_cluster_charts(const ClusterView& c, Millis from, Millis now);

// Return the chain's section of a page: when it last ran and succeeded, a warning when that is
// too long ago, and how each step last ended, as of `now`.
std::string render_chain(const ChainHealth& chain, Millis now);

// Return the whole page for `clusters` and the chain's health at time `now`; the charts span
// [from, now].
std::string render_html(const std::vector<ClusterView>& clusters,
                        const ChainHealth& chain,
                        Millis from,
                        Millis now);

} // namespace report
