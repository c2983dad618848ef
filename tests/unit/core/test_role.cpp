#include "core/role.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_role {

TEST_CASE("a role is lb or web; any other text is no role", "[core]")
{
  CHECK(core::parse_role("lb") == core::Role::lb);
  CHECK(core::parse_role("web") == core::Role::web);
  CHECK(std::string(core::to_string(core::Role::lb)) == "lb");
  CHECK(std::string(core::to_string(core::Role::web)) == "web");
  const std::vector<std::string> hostile = {"",   "Web", "LB",  "web ", " lb",
                                           "db", "web\n", "lb;", std::string("we\0b", 4),
                                           std::string(300, 'w')};
  for (const auto& bad : hostile) {
    INFO(bad);
    CHECK_FALSE(core::parse_role(bad));
  }
}

} // namespace unit_test_role
