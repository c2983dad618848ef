#include "core/failpoint.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace core {

void failpoint(const char* name)
{
  // Read once: the environment does not change during a run.
  static const std::string spec = [] {
    const char* env = std::getenv("SCLMAN_FAILPOINTS");
    return env ? "," + std::string(env) + "," : std::string();
  }();
  if (spec.empty()) {
    return;
  }
  const std::string plain = "," + std::string(name) + ",";
  const std::string killed = "," + std::string(name) + "=kill,";
  const std::string aborted = "," + std::string(name) + "=abort,";
  if (spec.find(aborted) != std::string::npos) {
    std::fprintf(stderr, "failpoint %s: abort\n", name);
    std::abort();
  }
  if (spec.find(plain) != std::string::npos || spec.find(killed) != std::string::npos) {
    std::fprintf(stderr, "failpoint %s: kill\n", name);
    std::fflush(stderr);
    std::raise(SIGKILL);
  }
}

} // namespace core
