#include "report/textfile.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_textfile {

TEST_CASE("writes each metric family once with its HELP and TYPE", "[report]")
{
  const std::vector<state::Counter> counters = {
    {"sclman_decisions_total", "action=\"hold\"", 7},
    {"sclman_decisions_total", "action=\"scale_out\"", 2},
    {"sclman_errors_total", "command=\"poll-load\",kind=\"upstream_transient\"", 1},
    {"not_ours", "x=\"1\"", 5},
  };
  const std::vector<state::RunRecord> runs = {
    {"decide", 1'700'000'000'123, 0, 15, 1'700'000'000'123},
    {"gc", 1'700'000'000'456, 74, 2, std::nullopt}};
  const std::vector<report::ClusterGauge> clusters = {{"shop", 2, 3, 1, 4, 1}};
  const auto text = report::render_textfile(counters, runs, clusters);
  CHECK_THAT(text, Catch::Contains("# TYPE sclman_decisions_total counter\n"
                                   "sclman_decisions_total{action=\"hold\"} 7\n"
                                   "sclman_decisions_total{action=\"scale_out\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("sclman_last_run_timestamp_seconds{command=\"decide\"} 1700000000.123\n"));
  CHECK_THAT(text, Catch::Contains("sclman_last_run_success{command=\"gc\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("sclman_last_run_exit_code{command=\"gc\"} 74\n"));
  CHECK_THAT(text, Catch::Contains("sclman_cluster_size{cluster=\"shop\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("sclman_cluster_desired{cluster=\"shop\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE sclman_cluster_rejected gauge\n"
                                   "sclman_cluster_rejected{cluster=\"shop\"} 1\n"));
  CHECK_THAT(text, !Catch::Contains("not_ours"));
  size_t helps = 0;
  for (size_t at = text.find("# HELP sclman_decisions_total"); at != std::string::npos;
       at = text.find("# HELP sclman_decisions_total", at + 1)) {
    ++helps;
  }
  CHECK(helps == 1);
}

TEST_CASE("a run that could not open the state file replaces only its own command's lines",
          "[report]")
{
  const std::vector<state::RunRecord> runs = {
    {"decide", 1'700'000'000'000, 0, 15, 1'700'000'000'000},
    {"gc", 1'700'000'000'000, 0, 2, 1'699'999'000'000}};
  const std::vector<report::ClusterGauge> clusters = {{"shop", 2, 3, 1, 4, 0}};
  const auto before = report::render_textfile({{"sclman_decisions_total", "action=\"hold\"", 7}},
                                              runs, clusters);
  // gc fails with a config error (78) 74 times in a row: exit code and success follow, its last
  // success stays, everything else is as it was.
  auto text = before;
  for (int k = 0; k < 74; ++k) {
    text = report::merge_run(text, {"gc", 1'700'000'100'000 + k, 78, 3, std::nullopt});
  }
  CHECK_THAT(text, Catch::Contains("sclman_last_run_success{command=\"gc\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("sclman_last_run_exit_code{command=\"gc\"} 78\n"));
  CHECK_THAT(text, Catch::Contains("sclman_last_run_timestamp_seconds{command=\"gc\"} 1700000100.073\n"));
  CHECK_THAT(text, Catch::Contains("sclman_last_success_timestamp_seconds{command=\"gc\"} 1699999000.000\n"));
  CHECK_THAT(text, Catch::Contains("sclman_last_run_success{command=\"decide\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("sclman_decisions_total{action=\"hold\"} 7\n"));
  CHECK_THAT(text, Catch::Contains("sclman_cluster_size{cluster=\"shop\"} 2\n"));
  size_t gc_lines = 0;
  for (size_t at = text.find("{command=\"gc\"}"); at != std::string::npos;
       at = text.find("{command=\"gc\"}", at + 1)) {
    ++gc_lines;
  }
  CHECK(gc_lines == 5);
  // A new command, into an empty or foreign file: its own lines only, nothing foreign kept.
  const auto fresh = report::merge_run("junk line\nnot_ours{x=\"1\"} 5\n# HELP x y\n",
                                       {"status", 1'700'000'000'000, 78, 1, std::nullopt});
  CHECK_THAT(fresh, Catch::Contains("sclman_last_run_exit_code{command=\"status\"} 78\n"));
  CHECK_THAT(fresh, !Catch::Contains("not_ours"));
  CHECK_THAT(fresh, !Catch::Contains("junk"));
  CHECK_THAT(fresh, !Catch::Contains("sclman_last_success_timestamp_seconds{command=\"status\"}"));
}

TEST_CASE("a textfile merged after a config error keeps only samples as sclman writes them",
          "[report]")
{
  const std::string hostile =
    "sclman_cluster_size{cluster=\"shop\"} 2\n"
    "sclman_cluster_size{cluster=\"a\"} nan\n"
    "sclman_cluster_size{cluster=\"b\"} 1e400\n"
    "sclman_cluster_size{cluster=\"c\" 3\n"
    "sclman_cluster_size{cluster=\"d\"} 3 # \x1b[2J\n"
    "sclman_cluster_size{cluster=\"e\"}\n"
    "sclman_cluster_desiredX 4\n"
    "sclman_cluster_max 7\n"
    "sclman_last_success_timestamp_seconds{command=\"gc\"} nan\n"
    "sclman_last_success_timestamp_seconds{command=\"decide\"} 1700000000.5\n"
    "sclman_last_success_timestamp_seconds{command=\"poll-load\"} -5\n";
  const auto text = report::merge_run(hostile, {"gc", 1'700'000'100'000, 78, 3, std::nullopt});
  CHECK_THAT(text, Catch::Contains("sclman_cluster_size{cluster=\"shop\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("sclman_cluster_max 7\n"));
  CHECK_THAT(text, Catch::Contains(
                     "sclman_last_success_timestamp_seconds{command=\"decide\"} 1700000000.5\n"));
  for (const char* dropped : {"cluster=\"a\"", "cluster=\"b\"", "cluster=\"c\"", "cluster=\"d\"",
                              "cluster=\"e\"", "desiredX", "\x1b", "nan", "poll-load"}) {
    INFO(dropped);
    CHECK_THAT(text, !Catch::Contains(dropped));
  }
  // gc's own last success was no time: it has none, rather than a made-up one.
  CHECK_THAT(text, !Catch::Contains("sclman_last_success_timestamp_seconds{command=\"gc\"}"));
  CHECK_THAT(text, Catch::Contains("sclman_last_run_exit_code{command=\"gc\"} 78\n"));
  // What merge_run writes, it reads back the same.
  CHECK(report::merge_run(text, {"gc", 1'700'000'100'000, 78, 3, std::nullopt}) == text);
}

} // namespace unit_test_textfile
