#include "metrics/check_output.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_check_output {

using metrics::OutputFormat;

namespace {
const std::vector<std::string> k_names = metrics::split_names("load1, load_avg.one, load.avg");
}

TEST_CASE("reads the load from Nagios perfdata", "[metrics][sensu]")
{
  // check_load of monitoring-plugins.
  const auto v = metrics::parse_nagios_perfdata(
    "OK - load average: 0.42, 0.35, 0.30|load1=0.420;15.000;30.000;0; "
    "load5=0.350;10.000;25.000;0; load15=0.300;5.000;20.000;0;\n",
    k_names);
  REQUIRE(v);
  CHECK(v->value == Approx(0.42));
  CHECK_FALSE(v->ts);

  SECTION("quoted labels, units and long-output perfdata")
  {
    const auto q = metrics::parse_nagios_perfdata(
      "LOAD OK\nsecond line | 'load 1'=12%;80;90 'it''s'=3ms\nload1=7.5", {"load 1"});
    REQUIRE(q);
    CHECK(q->value == Approx(12.0));
    CHECK(metrics::parse_nagios_perfdata("x | 'it''s'=3ms", {"it's"})->value == Approx(3.0));
    CHECK(metrics::parse_nagios_perfdata("x\nlong | a=1\nload1=7.5", {"load1"})->value
          == Approx(7.5));
  }
  SECTION("the order of the names decides, not the order in the output")
  {
    CHECK(metrics::parse_nagios_perfdata("x | load5=2 load1=1", {"load1", "load5"})->value
          == Approx(1.0));
  }
  SECTION("no perfdata, unknown value U, or no such label is nothing")
  {
    CHECK_FALSE(metrics::parse_nagios_perfdata("OK - load1=0.4 but before the bar", k_names));
    CHECK_FALSE(metrics::parse_nagios_perfdata("OK | load1=U;1;2", k_names));
    CHECK_FALSE(metrics::parse_nagios_perfdata("OK | load15=0.3", k_names));
    CHECK_FALSE(metrics::parse_nagios_perfdata("", k_names));
  }
}

TEST_CASE("reads the load from Graphite plaintext", "[metrics][sensu]")
{
  // sensu-plugins metrics-load.rb: <scheme>.load_avg.{one,five,fifteen} value timestamp
  const auto v = metrics::parse_graphite("web-1.load_avg.one 0.42 1460312322\n"
                                         "web-1.load_avg.five 0.35 1460312322\n",
                                         k_names);
  REQUIRE(v);
  CHECK(v->value == Approx(0.42));
  REQUIRE(v->ts);
  CHECK(*v->ts == 1460312322000);

  CHECK(metrics::parse_graphite("host.load.avg 1.5 1460312322", k_names)->value == Approx(1.5));
  CHECK(metrics::parse_graphite("load1 3", k_names)->value == Approx(3.0));
  SECTION("a name must match whole dot-separated parts")
  {
    CHECK_FALSE(metrics::parse_graphite("host.xload1 3 1460312322", k_names));
    CHECK(metrics::metric_name_matches("a.load1", "load1"));
    CHECK_FALSE(metrics::metric_name_matches("aload1", "load1"));
  }
  SECTION("lines that are not metrics are skipped")
  {
    CHECK_FALSE(metrics::parse_graphite("CheckLoad OK: fine\nhost.load.avg abc 1\n", k_names));
    CHECK(metrics::parse_graphite("junk\nhost.load.avg 2 1460312322\n", k_names)->value
          == Approx(2.0));
  }
}

TEST_CASE("reads the 1-minute load of the sensu-plugins check-load text", "[metrics][sensu]")
{
  // bin/check-load.rb, its older and newer messages.
  CHECK(*metrics::parse_check_load(
          "CheckLoad OK: Per core load average (2 CPU): [0.12, 0.1, 0.05]\n")
        == Approx(0.12));
  CHECK(*metrics::parse_check_load("CheckLoad CRITICAL: Per core load average (4 CPU): 3.75, "
                                   "2.5, 1.0 - Total: 15.0, 10.0, 4.0\n")
        == Approx(3.75));
  CHECK(*metrics::parse_check_load("CheckLoad WARNING: Total load average (1 CPU): 2.9, 2.0, 1.5")
        == Approx(2.9));
  CHECK_FALSE(metrics::parse_check_load("CheckLoad UNKNOWN: Could not read load average from /proc"));
  CHECK_FALSE(metrics::parse_check_load("Keepalive sent from client 2 seconds ago"));
}

TEST_CASE("auto-detects the output format, perfdata first", "[metrics][sensu]")
{
  const auto both = metrics::parse_check_output(
    "OK - load average: 9.0, 1, 1|load1=0.5;1;2", OutputFormat::auto_detect, k_names);
  REQUIRE(both);
  CHECK(both->value == Approx(0.5));
  CHECK(metrics::parse_check_output("CheckLoad OK: Total load average (1 CPU): 0.7, 0.5, 0.1",
                                    OutputFormat::auto_detect, k_names)
          ->value
        == Approx(0.7));
  SECTION("a forced format reads only that format")
  {
    CHECK_FALSE(metrics::parse_check_output("x.load.avg 1 1460312322", OutputFormat::nagios,
                                            k_names));
    const auto e = metrics::parse_check_output("nothing here", OutputFormat::auto_detect, k_names);
    REQUIRE_FALSE(e);
    CHECK(e.error().message
          == "no perfdata or graphite metric named 'load1, load_avg.one, load.avg' and no load "
             "average in the check output");
  }
  CHECK(metrics::output_format_from("status") == OutputFormat::status);
  CHECK_FALSE(metrics::output_format_from("json"));
  CHECK(metrics::split_names(" a, b ,,c ") == std::vector<std::string>{"a", "b", "c"});
}

} // namespace unit_test_check_output
