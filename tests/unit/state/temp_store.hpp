// What unit tests of code over the state file share: a fixed clock and a private directory.
#pragma once

#include "core/clock.hpp"

#include <filesystem>

#include <stdlib.h>

namespace state_test {

struct FixedClock final : core::Clock
{
  core::Millis t = 1'000'000'000'000;
  core::Millis now() const override { return t; }
};

// A directory below /tmp, removed with everything in it at the end of the scope.
struct TempDir
{
  std::filesystem::path path;
  TempDir()
  {
    char tmpl[] = "/tmp/sclman-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

} // namespace state_test
