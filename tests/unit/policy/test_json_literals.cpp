#include "policy/json_literals.hpp"

#include <catch2/catch.hpp>

#include <string>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_json_literals {

namespace {

std::string text_of(const policy::Literals& l, const nlohmann::json& v)
{
  const auto* t = l.of(v);
  return t ? *t : std::string("(none)");
}

} // namespace

TEST_CASE("each number of a JSON text reads back as typed", "[policy][literals]")
{
  const std::string text =
    R"({"a":5e9, "b":[1E+67, -0, 4294967296, 3600.50], "s":"12 \"-3\" 4",)"
    R"( "c":{"d":[{"e":-1e-300}], "f":true, "g":null}, "h":0.0})";
  const auto doc = nlohmann::json::parse(text);
  const policy::Literals lit(text, doc);
  CHECK(text_of(lit, doc["a"]) == "5e9");
  CHECK(text_of(lit, doc["b"][0]) == "1E+67");
  CHECK(text_of(lit, doc["b"][1]) == "-0");
  CHECK(text_of(lit, doc["b"][2]) == "4294967296");
  CHECK(text_of(lit, doc["b"][3]) == "3600.50");
  CHECK(text_of(lit, doc["c"]["d"][0]["e"]) == "-1e-300");
  CHECK(text_of(lit, doc["h"]) == "0.0");
  CHECK(text_of(lit, doc["s"]) == "(none)");  // digits in a string are no number
  CHECK(text_of(lit, doc["c"]["f"]) == "(none)");
  CHECK(text_of(lit, doc) == "(none)");
  const nlohmann::json elsewhere = 5e9;
  CHECK(text_of(lit, elsewhere) == "(none)");
}

TEST_CASE("of a key given twice the value the document kept counts", "[policy][literals]")
{
  const std::string text = R"({"a":[1e1, 2e2], "a":[3e3], "b":{"c":4e4}, "b":5e5, "d":6e6,)"
                           R"( "d":{"x":7e7}, "e":[[8e8]], "e":[9e9, [1.5]]})";
  const auto doc = nlohmann::json::parse(text);
  const policy::Literals lit(text, doc);
  REQUIRE(doc["a"].size() == 1);
  CHECK(text_of(lit, doc["a"][0]) == "3e3");
  CHECK(text_of(lit, doc["b"]) == "5e5");
  CHECK(text_of(lit, doc["d"]["x"]) == "7e7");
  CHECK(text_of(lit, doc["e"][0]) == "9e9");
  CHECK(text_of(lit, doc["e"][1][0]) == "1.5");
}

TEST_CASE("a lone number is its own text", "[policy][literals]")
{
  const std::string text = " -12.5e-3 ";
  const auto doc = nlohmann::json::parse(text);
  CHECK(text_of(policy::Literals(text, doc), doc) == "-12.5e-3");
}

} // namespace unit_test_json_literals
