#include "core/failpoint.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace core {

namespace {

// Return SCLMAN_FAILPOINTS between commas, or "" (read once: the environment does not change
// during a run).
const std::string& failpoint_spec()
{
  static const std::string spec = [] {
    const char* env = std::getenv("SCLMAN_FAILPOINTS");
    return env ? "," + std::string(env) + "," : std::string();
  }();
  return spec;
}

} // namespace

Result<void> failpoint_result(const char* name)
{
  failpoint(name);
  const auto& spec = failpoint_spec();
  if (spec.empty()) {
    return {};
  }
  static std::map<std::string, int> reached;
  const int count = ++reached[name];
  const std::pair<std::string, ErrorKind> modes[] = {
    {"auth", ErrorKind::upstream_auth},
    {"transient", ErrorKind::upstream_transient},
    {"rejected", ErrorKind::upstream_rejected},
  };
  const std::string prefix = "," + std::string(name) + "=";
  for (auto pos = spec.find(prefix); pos != std::string::npos; pos = spec.find(prefix, pos + 1)) {
    const auto begin = pos + prefix.size();
    const auto value = spec.substr(begin, spec.find(',', begin) - begin);
    const auto at = value.find('@');
    const int from = at == std::string::npos ? 1 : std::atoi(value.c_str() + at + 1);
    for (const auto& [mode, kind] : modes) {
      if (value.substr(0, at) == mode && count >= from) {
        std::fprintf(stderr, "failpoint %s: %s\n", name, mode.c_str());
        return fail(kind, fmt::format("failpoint '{}' failed as {}", name, mode));
      }
    }
  }
  return {};
}

void failpoint(const char* name)
{
  const auto& spec = failpoint_spec();
  if (spec.empty()) {
    return;
  }
  const std::string plain = "," + std::string(name) + ",";
  const std::string killed = "," + std::string(name) + "=kill,";
  const std::string aborted = "," + std::string(name) + "=abort,";
  const std::string stopped = "," + std::string(name) + "=stop,";
  if (spec.find(stopped) != std::string::npos) {
    // As a long GC pause or SIGSTOP would: the process waits here until it gets SIGCONT.
    std::fprintf(stderr, "failpoint %s: stop\n", name);
    std::fflush(stderr);
    std::raise(SIGSTOP);
    return;
  }
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
