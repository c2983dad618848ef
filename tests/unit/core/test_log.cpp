#include "core/log.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_log {

TEST_CASE("splits a log line into its event and key=value fields", "[log]")
{
  const auto [event, fields] = core::parse_log_message(
    "instance.failed cluster=shop instance=shop-web-2 reason=\"no \\\"healthy\\\" answer\" n=3");
  CHECK(event == "instance.failed");
  CHECK(fields.at("cluster") == "shop");
  CHECK(fields.at("instance") == "shop-web-2");
  CHECK(fields.at("reason") == "no \"healthy\" answer");
  CHECK(fields.at("n") == "3");
}

TEST_CASE("keeps free text after the event", "[log]")
{
  const auto [event, fields] = core::parse_log_message("failpoint hit here");
  CHECK(event == "failpoint");
  CHECK(fields.at("text") == "hit here");
}

TEST_CASE("quotes values that would break key=value parsing", "[log]")
{
  CHECK(core::log_quote("plain") == "plain");
  CHECK(core::log_quote("two words") == "\"two words\"");
  CHECK(core::log_quote("a=b") == "\"a=b\"");
  CHECK(core::log_quote("") == "\"\"");
  const auto [event, fields] = core::parse_log_message("e k=" + core::log_quote("x \"y\" z"));
  CHECK(fields.at("k") == "x \"y\" z");
}

TEST_CASE("a cron run logs warnings only unless -v asks for more", "[log]")
{
  CHECK(core::log_level_for("info", false, 0) == "info");
  CHECK(core::log_level_for("error", false, 0) == "error");
  for (const char* chatty : {"info", "debug", "trace"}) {
    CHECK(core::log_level_for(chatty, true, 0) == "warn");
  }
  CHECK(core::log_level_for("error", true, 0) == "error");  // never louder than asked
  CHECK(core::log_level_for("off", true, 0) == "off");
  CHECK(core::log_level_for("error", true, 1) == "debug");
  CHECK(core::log_level_for("warn", false, 1) == "debug");
  CHECK(core::log_level_for("info", true, 2) == "trace");
  CHECK(core::log_level_for("info", false, 5) == "trace");
}

TEST_CASE("is_printable: short printable ASCII only, as stored and shown", "[log]")
{
  CHECK(core::is_printable("public-net_2", 255));
  CHECK(core::is_printable("", 255));
  CHECK(core::is_printable(std::string(255, 'n'), 255));
  CHECK_FALSE(core::is_printable(std::string(256, 'n'), 255));
  for (const char* hostile : {"ext\nnet", "ext\x1b[2J", "a\"b", "a\\b", "\xff"}) {
    CHECK_FALSE(core::is_printable(hostile, 255));
  }
}

} // namespace unit_test_log
