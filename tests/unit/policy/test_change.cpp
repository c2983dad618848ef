#include "policy/change.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_change {

TEST_CASE("a --set argument is a key, '=' and the rest as the value", "[policy][change]")
{
  CHECK(policy::parse_setting("min=3") == std::pair<std::string, std::string>{"min", "3"});
  CHECK(policy::parse_setting("scale_in_cover=peak=x")
        == std::pair<std::string, std::string>{"scale_in_cover", "peak=x"});
  CHECK(policy::parse_setting("high=") == std::pair<std::string, std::string>{"high", ""});
  for (const char* bad : {"", "min", "=3", "="}) {
    INFO(bad);
    const auto r = policy::parse_setting(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == core::ErrorKind::usage);
    CHECK(r.error().message == "--set '" + std::string(bad) + "': expected KEY=VALUE");
  }
}

TEST_CASE("a change sets keys in order, the last of a key winning", "[policy][change]")
{
  const auto current = *policy::preset("threshold");
  policy::Change change;
  change.settings = {{"min", "2"}, {"max", "9"}, {"min", "3"}, {"high", " 70.5 "}};
  const auto c = policy::apply(current, change);
  REQUIRE(c);
  CHECK(c->kind == policy::Kind::threshold);
  CHECK(c->min_size == 3);
  CHECK(c->max_size == 9);
  CHECK(c->high == 70.5);
  CHECK(policy::changed_keys(current, *c)
        == std::vector<std::string>{"high: 50.0 -> 70.5", "max: " + std::to_string(current.max_size)
                                                             + " -> 9",
                                    "min: 1 -> 3"});
  CHECK(policy::changed_keys(current, current).empty());
}

TEST_CASE("a preset keeps the cluster's bounds and schedule; threshold takes the config's marks",
          "[policy][change]")
{
  auto current = *policy::preset("target");
  current.min_size = 2;
  current.max_size = 7;
  current.schedule = {policy::ScheduleEntry{"0 8 * * *", "UTC", 3, 7}};
  policy::Change change;
  change.preset = "threshold";
  change.sensitivity = 5;
  change.high = 81;
  change.low = 12;
  change.cooldown_s = 33;
  auto c = policy::apply(current, change);
  REQUIRE(c);
  CHECK(c->kind == policy::Kind::threshold);
  CHECK(c->min_size == 2);
  CHECK(c->max_size == 7);
  REQUIRE(c->schedule.size() == 1);
  CHECK(c->schedule[0].min_size == 3);
  CHECK(c->sensitivity == 5);
  CHECK(c->high == 81);
  CHECK(c->low == 12);
  CHECK(c->cooldown_s == 33);
  change.preset = "predictive";
  change.settings = {{"capacity", "40"}};
  c = policy::apply(current, change);
  REQUIRE(c);
  CHECK(c->kind == policy::Kind::predictive);
  CHECK(c->capacity == 40);
  CHECK(c->cooldown_s == policy::preset("predictive")->cooldown_s);  // no marks from config
}

TEST_CASE("a changed value is refused as typed, and a bare word is a string", "[policy][change]")
{
  const auto current = *policy::preset("predictive");
  const std::vector<std::pair<std::pair<const char*, const char*>, const char*>> rows{
    {{"seasons", "[5e9]"}, "seasons 5e9 must be in [3600, 3024000]"},
    {{"seasons", "[1e67]"}, "seasons 1e67 must be in [3600, 3024000]"},
    {{"seasons", "[4294967296]"}, "seasons 4294967296 must be in [3600, 3024000]"},
    {{"seasons", "[3600.5]"}, "key 'seasons': 3600.5 is not an integer"},
    {{"horizon", "1E3.5"}, "key 'horizon': \"1E3.5\" is not an integer"},
    {{"capacity", "NaN"}, "key 'capacity': \"NaN\" is not a number"},
    {{"capacity", "-0.0e0"}, "capacity -0.0e0 must be above 0"},
    {{"scale_in_cover", "most"}, "unknown scale_in_cover 'most': expected peak or lead"},
    {{"nonsense", "1"}, "unknown policy key 'nonsense'"},
  };
  for (const auto& [setting, message] : rows) {
    INFO(setting.first << "=" << setting.second);
    policy::Change change;
    change.settings = {{setting.first, setting.second}};
    const auto c = policy::apply(current, change);
    REQUIRE_FALSE(c);
    CHECK(c.error().kind == core::ErrorKind::usage);
    CHECK(c.error().message == message);
  }
}

} // namespace unit_test_change
