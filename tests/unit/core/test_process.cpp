// core::run_process: argv, input, output, exit code, deadline and environment of a child.
#include "core/process.hpp"

#include "../state/temp_store.hpp"
#include "core/file.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <string>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_process {

TEST_CASE("run_process gives the child its input and returns its output and exit code",
          "[process]")
{
  core::ProcessOptions o;
  o.input = "line one\nline two; $(rm -rf /)\n";
  const auto r = core::run_process({"/bin/cat"}, o);
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out == o.input);  // the text is data, never a shell line
  // A big input does not deadlock against a child that writes as it reads.
  o.input = std::string(1 << 20, 'x');
  o.max_output = 2 << 20;
  const auto big = core::run_process({"/bin/cat"}, o);
  REQUIRE(big);
  CHECK(big->out.size() == o.input.size());
  const auto code = core::run_process({"/bin/sh", "-c", "echo oops >&2; exit 3"});
  REQUIRE(code);
  CHECK(code->exit_code == 3);
  CHECK(code->err == "oops\n");
}

TEST_CASE("run_process ends a child at its deadline and at its output limit", "[process]")
{
  core::ProcessOptions o;
  o.timeout_ms = 200;
  const auto slow = core::run_process({"/bin/sleep", "5"}, o);
  REQUIRE_FALSE(slow);
  CHECK(slow.error().message.find("did not end within 200 ms") != std::string::npos);
  // A child that closes its output and goes on running is still held to the deadline.
  const auto quiet = core::run_process({"/bin/sh", "-c", "exec >&- 2>&-; exec /bin/sleep 5"}, o);
  REQUIRE_FALSE(quiet);
  CHECK(quiet.error().message.find("did not end within 200 ms") != std::string::npos);
  core::ProcessOptions small;
  small.max_output = 10;
  const auto chatty = core::run_process({"/usr/bin/yes"}, small);
  REQUIRE_FALSE(chatty);
  CHECK(chatty.error().message.find("more than 10 bytes") != std::string::npos);
  // A child that exits without reading its input does not end sclman (SIGPIPE).
  core::ProcessOptions unread;
  unread.input = std::string(1 << 20, 'x');
  const auto r = core::run_process({"/bin/true"}, unread);
  REQUIRE(r);
  CHECK(r->exit_code == 0);
}

TEST_CASE("run_process passes no credential of sclman's environment and refuses a bare name",
          "[process]")
{
  ::setenv("OS_PASSWORD", "secret-of-sclman", 1);
  core::ProcessOptions o;
  o.environment = {"SCLMAN_REQUEST=show"};
  const auto r = core::run_process({"/usr/bin/env"}, o);
  ::unsetenv("OS_PASSWORD");
  REQUIRE(r);
  CHECK(r->out.find("secret-of-sclman") == std::string::npos);
  CHECK(r->out.find("SCLMAN_REQUEST=show\n") != std::string::npos);
  CHECK_FALSE(core::run_process({"ssh", "-V"}));
  CHECK_FALSE(core::run_process({}));
  CHECK_FALSE(core::run_process({"/nonexistent/ssh"}));
}

TEST_CASE("run_process can send the output to a file and not wait for a daemon it leaves",
          "[process]")
{
  state_test::TempDir dir;
  core::ProcessOptions o;
  o.output_path = (dir.path / "out.log").string();
  const auto r = core::run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 4"}, o);
  REQUIRE(r);
  CHECK(r->exit_code == 4);
  CHECK(core::read_file(o.output_path).value() == "out\nerr\n");
  // A child that leaves a process behind holding its output (as a daemon does) is done when
  // the child exits: the file, unlike a pipe, does not wait for the daemon.
  const auto start = std::chrono::steady_clock::now();
  const auto daemon = core::run_process({"/bin/sh", "-c", "/bin/sleep 3 & echo started"}, o);
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(daemon);
  CHECK(daemon->exit_code == 0);
  CHECK(took < std::chrono::seconds(2));
  o.timeout_ms = 200;
  CHECK_FALSE(core::run_process({"/bin/sleep", "5"}, o));
}

} // namespace unit_test_process
