#include "report/textfile.hpp"

#include <catch2/catch.hpp>

TEST_CASE("writes each metric family once with its HELP and TYPE", "[report]")
{
  const std::vector<state::Counter> counters = {
    {"sclman_decisions_total", "action=\"hold\"", 7},
    {"sclman_decisions_total", "action=\"scale_out\"", 2},
    {"sclman_errors_total", "command=\"poll-load\",kind=\"upstream_transient\"", 1},
    {"not_ours", "x=\"1\"", 5},
  };
  const std::vector<state::RunRecord> runs = {{"decide", 1'700'000'000'123, 0, 15},
                                              {"gc", 1'700'000'000'456, 74, 2}};
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
