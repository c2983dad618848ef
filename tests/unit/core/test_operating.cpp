#include "core/operating.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_operating {

TEST_CASE("a balancer's member status is one of six names; any other text is none", "[core]")
{
  for (const auto o : {core::Operating::online, core::Operating::offline,
                       core::Operating::degraded, core::Operating::error,
                       core::Operating::no_monitor, core::Operating::draining}) {
    CHECK(core::parse_operating(core::to_string(o)) == o);
  }
  CHECK(std::string(core::to_string(core::Operating::no_monitor)) == "NO_MONITOR");
  const std::vector<std::string> hostile = {"",        "online",  "ONLINE ", " ERROR",
                                           "NO MONITOR", "ONLINE\n", "?",      std::string("ON\0LINE", 7),
                                           std::string(300, 'O')};
  for (const auto& bad : hostile) {
    INFO(bad);
    CHECK_FALSE(core::parse_operating(bad));
  }
}

} // namespace unit_test_operating
