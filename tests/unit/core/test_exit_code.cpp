#include "core/exit_code.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_exit_code {

TEST_CASE("each error kind has its sysexits status; a held lock under cron exits 0", "[core]")
{
  using core::ErrorKind;
  const std::vector<std::pair<ErrorKind, int>> rows{
    {ErrorKind::usage, 64},     {ErrorKind::config, 78},
    {ErrorKind::state, 74},     {ErrorKind::upstream_transient, 75},
    {ErrorKind::busy, 75},      {ErrorKind::upstream_rejected, 76},
    {ErrorKind::upstream_auth, 77}, {ErrorKind::internal, 70},
  };
  for (const auto& [kind, code] : rows) {
    INFO(core::to_string(kind));
    CHECK(core::to_exit_code(kind) == code);
    CHECK(core::run_exit_code(kind, false) == code);
    CHECK(core::run_exit_code(kind, true) == (kind == ErrorKind::busy ? 0 : code));
  }
}

} // namespace unit_test_exit_code
