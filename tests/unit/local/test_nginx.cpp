// local::Nginx's waits: each goes through the injected clock, so these cases take no real time.
#include "local/nginx.hpp"

#include "../core/fake_clock.hpp"
#include "../state/temp_store.hpp"
#include "core/file.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_nginx {

namespace {

// Start a process that looks like the nginx master of `prefix` (its command line as nginx
// sets it, its pid in logs/nginx.pid) and ignores SIGQUIT, so that only TERM or KILL end it.
pid_t start_stubborn_master(const std::string& prefix)
{
  const std::string title = "nginx: master process /usr/sbin/nginx -p " + prefix + "/ -c conf";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGQUIT, SIG_IGN);  // an ignored signal stays ignored across exec
    execl("/bin/sleep", title.c_str(), "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::filesystem::create_directories(prefix + "/logs");
  std::ofstream(prefix + "/logs/nginx.pid") << pid << "\n";
  // Wait (in real time, briefly) until the exec has given the child its title.
  for (int i = 0; i < 2000 && !local::is_master_of(pid, prefix); ++i) {
    usleep(1000);
  }
  REQUIRE(local::is_master_of(pid, prefix));
  return pid;
}

} // namespace

TEST_CASE("start waits for the pid file on the clock and gives up after 3 seconds", "[local]")
{
  state_test::TempDir dir;
  const auto binary = (dir.path / "fake-nginx").string();
  {
    std::ofstream script(binary);
    script << "#!/bin/sh\nexit 0\n";  // "starts" and writes no pid file
  }
  std::filesystem::permissions(binary, std::filesystem::perms::owner_all);
  test::FakeClock clock;
  local::Nginx nginx(binary, (dir.path / "web-1").string(), clock);
  REQUIRE(nginx.make_dirs());

  const auto started = nginx.start();

  REQUIRE_FALSE(started);
  CHECK(started.error().kind == core::ErrorKind::upstream_transient);
  CHECK_THAT(started.error().message, Catch::Contains("wrote no pid file"));
  CHECK(clock.slept == std::vector<core::Millis>(300, 10));
}

TEST_CASE("stop waits its timeout on the clock, then terminates the master", "[local]")
{
  state_test::TempDir dir;
  const auto prefix = (dir.path / "web-1").string();
  const pid_t pid = start_stubborn_master(prefix);
  test::FakeClock clock;
  local::Nginx nginx("/usr/sbin/nginx", prefix, clock);
  REQUIRE(nginx.running_pid() == pid);

  REQUIRE(nginx.stop(1000));

  std::vector<core::Millis> expected(50, 20);  // QUIT, then 1000 ms in steps of 20
  expected.push_back(500);                     // TERM, then 500 ms before KILL
  CHECK(clock.slept == expected);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK((WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGKILL));
}

TEST_CASE("listen ports come from outside the kernel's ephemeral range", "[local][parse]")
{
  using Span = std::pair<int, int>;
  CHECK(local::listen_port_span("32768\t60999\n") == Span{10000, 32767});
  CHECK(local::listen_port_span("1024 65000") == Span{65001, 65535});
  CHECK(local::listen_port_span("1024 65535") == Span{10000, 65535});   // all ephemeral
  CHECK(local::listen_port_span("10000 20000") == Span{20001, 65535});  // the wider span above
  CHECK(local::listen_port_span("50000 65535") == Span{10000, 49999});
  // Hostile or broken text counts as Linux's default.
  for (const char* text : {"", "32768", "60999 32768", "-1 5", "0 60999", "32768 70000",
                           "1 2 3", "32768x 60999", "a b", "32768 60999; rm -rf /",
                           "99999999999999999999 1"}) {
    CAPTURE(text);
    CHECK(local::listen_port_span(text) == Span{10000, 32767});
  }
}

TEST_CASE("free_port gives a port in the span that is not taken", "[local]")
{
  const auto [low, high] =
    local::listen_port_span(core::read_file("/proc/sys/net/ipv4/ip_local_port_range").value_or(""));
  std::set<int> taken;
  for (int port = low; port <= high; port += 2) {
    taken.insert(port);
  }
  for (int i = 0; i < 20; ++i) {
    const auto port = local::free_port(taken);
    REQUIRE(port);
    CHECK(*port >= low);
    CHECK(*port <= high);
    CHECK_FALSE(taken.count(*port));
  }
  for (int port = low + 1; port <= high; port += 2) {
    taken.insert(port);
  }
  CHECK_FALSE(local::free_port(taken));  // every port of the span taken: an error, no loop
}

} // namespace unit_test_nginx
