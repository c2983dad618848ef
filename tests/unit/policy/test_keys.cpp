// The policy's key tables: every key refuses values of the wrong type or out of its range with a
// message naming it, and the man page lists the keys as the tables define them.
#include "policy/change.hpp"
#include "policy/policy.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_keys {

namespace {

struct KindKeys
{
  const char* kind;
  std::vector<const char*> keys;
};

// The integer keys of each rule; the test below checks it against key_docs().
const std::vector<KindKeys> k_integer_keys{
  {"threshold",
   {"min", "max", "cooldown", "scale_in_cooldown", "warmup", "stale", "flap_budget",
    "sensitivity"}},
  {"step", {"sensitivity", "min_adjustment"}},
  {"target",
   {"out_datapoints", "in_datapoints", "up_stabilization", "down_stabilization", "up_limit_pods",
    "down_limit_pods", "limit_period"}},
  {"predictive", {"horizon", "lookback", "hold"}},
};

const std::vector<KindKeys> k_number_keys{
  {"threshold", {"high", "low"}},
  {"target",
   {"target", "tolerance", "tolerance_out", "tolerance_in", "up_limit_percent",
    "down_limit_percent"}},
  {"predictive", {"capacity", "quantile", "quantile_low", "under_budget"}},
};

// Values no integer key takes, as JSON text (NaN reaches the policy as the string set-policy
// passes on, or as null once a NaN double is stored in JSON).
const std::vector<const char*> k_bad_integers{
  "3600.5", "5e9", "1e67", "4294967296", "-1e300", "-2147483649", "\"\"", "\"NaN\"", "null",
  "true", "\"12\"", "[1]", "{}"};

const std::vector<const char*> k_bad_numbers{"\"NaN\"", "null", "\"inf\"", "\"1e400\"",
                                             "\"12\"", "true", "\"\"", "[1]"};

void check_refused(const std::string& text, const std::string& key, const std::string& value)
{
  INFO(text);
  const auto c = policy::policy_from_json(text);
  REQUIRE_FALSE(c);
  CHECK(c.error().kind == core::ErrorKind::config);
  CHECK_THAT(c.error().message, Catch::Contains(key));
  CHECK_THAT(c.error().message, Catch::Contains(" " + value + " "));  // as given
  CHECK_THAT(c.error().message, !Catch::Contains("json.exception"));
  // The value as given, unwrapped: 5e9 is not shown as a wrapped int.
  CHECK_THAT(c.error().message, !Catch::Contains(" -2147483648 must"));
  CHECK_THAT(c.error().message, !Catch::Contains(" 705032704 "));
}

} // namespace

TEST_CASE("every integer key refuses fractions, out-of-range values and other types",
          "[policy][keys]")
{
  for (const auto& [kind, keys] : k_integer_keys) {
    for (const char* key : keys) {
      for (const char* value : k_bad_integers) {
        check_refused(fmt::format(R"({{"kind":"{}","{}":{}}})", kind, key, value), key, value);
      }
      // -1 is out of range of every integer key but scale_in_cooldown (-1: cooldown).
      const char* below = std::string(key) == "scale_in_cooldown" ? "-2" : "-1";
      check_refused(fmt::format(R"({{"kind":"{}","{}":{}}})", kind, key, below), key, below);
    }
  }
  for (const char* value : k_bad_integers) {
    check_refused(fmt::format(R"({{"kind":"predictive","seasons":[{}]}})", value), "seasons",
                  value);
    check_refused(fmt::format(R"({{"schedule":[{{"cron":"* * * * *","min":{},"max":2}}]}})",
                              value),
                  "schedule[0].min", value);
  }
}

TEST_CASE("integer keys name the key, the value as given and what they expect", "[policy][keys]")
{
  const std::vector<std::pair<const char*, const char*>> rows{
    {R"({"kind":"predictive","seasons":[3600.5]})", "key 'seasons': 3600.5 is not an integer"},
    {R"({"kind":"predictive","seasons":[5e9]})",
     "seasons 5e9 must be in [3600, 3024000]"},
    {R"({"kind":"predictive","seasons":[1e67]})", "seasons 1e67 must be in [3600, 3024000]"},
    {R"({"kind":"predictive","seasons":[4294967296]})",
     "seasons 4294967296 must be in [3600, 3024000]"},
    {R"({"kind":"predictive","seasons":[60]})", "seasons 60 must be in [3600, 3024000]"},
    {R"({"kind":"predictive","seasons":3600})", "key 'seasons': 3600 is not a list"},
    {R"({"kind":"predictive","horizon":-1e300})", "horizon -1e300 must be at least 0"},
    {R"({"kind":"predictive","lookback":"12"})", R"(key 'lookback': "12" is not an integer)"},
    {R"({"cooldown":4294967296})", "cooldown 4294967296 must be at most 2147483647"},
    {R"({"kind":"target","target":"NaN"})", R"(key 'target': "NaN" is not a number)"},
    {R"({"kind":"target","target":null})", "key 'target': null is not a number"},
    {R"({"kind":"target","target":1e400})", "invalid policy JSON: a number is out of range"},
    {R"({"kind":"target","target":NaN})", "invalid policy JSON: syntax error at byte 27"},
    {R"({"high":""})", R"(key 'high': "" is not a number)"},
    {R"({"kind":"predictive","quantile":2})", "quantile 2 must be in [0.5, 1]"},
    {R"({"kind":"target","tolerance_in":1})", "tolerance_in 1 must be in [0, 1)"},
    {R"({"schedule":[{"cron":"* * * * *","min":1}]})", "schedule[0]: key 'max' is missing"},
    {R"({"schedule":[5]})", "key 'schedule[0]': 5 is not an object"},
    {R"({"kind":"step","steps_out":[{"lower":0,"change":"x"}]})",
     R"(key 'steps_out[0].change': "x" is not a number)"},
    {R"({"kind":7})", "key 'kind': 7 is not a string"},
  };
  for (const auto& [text, message] : rows) {
    INFO(text);
    const auto c = policy::policy_from_json(text);
    REQUIRE_FALSE(c);
    CHECK(c.error().message == message);
  }
}

TEST_CASE("every number key refuses NaN, infinities and other types", "[policy][keys]")
{
  for (const auto& [kind, keys] : k_number_keys) {
    for (const char* key : keys) {
      for (const char* value : k_bad_numbers) {
        check_refused(fmt::format(R"({{"kind":"{}","{}":{}}})", kind, key, value), key, value);
      }
    }
  }
}

TEST_CASE("every integer key of the key tables refuses 3600.5, 5e9, 1e67 and 4294967296 as "
          "typed, through set-policy's path too",
          "[policy][keys]")
{
  int keys = 0;
  for (const auto& d : policy::key_docs()) {
    const bool list = d.type.rfind("list of integers", 0) == 0;
    if (d.type.rfind("integer", 0) != 0 && !list) {
      continue;
    }
    ++keys;
    // A rule that reads the key: "all" or the first one listed.
    const auto kind =
      d.rules == "all" ? std::string("threshold") : d.rules.substr(0, d.rules.find(','));
    for (const std::string value : {"3600.5", "5e9", "1e67", "4294967296"}) {
      const auto json_value = list ? "[" + value + "]" : value;
      check_refused(fmt::format(R"({{"kind":"{}","{}":{}}})", kind, d.name, json_value), d.name,
                    value);
      policy::Change change;
      change.settings = {{d.name, json_value}};
      const auto c = policy::apply(*policy::preset(kind), change);
      INFO(d.name << "=" << json_value);
      REQUIRE_FALSE(c);
      CHECK(c.error().kind == core::ErrorKind::usage);  // exit 64
      CHECK_THAT(c.error().message, Catch::Contains(" " + value + " "));
    }
  }
  CHECK(keys >= 18);
}

TEST_CASE("every number key shows an out-of-range value as typed", "[policy][keys]")
{
  int keys = 0;
  for (const auto& d : policy::key_docs()) {
    if (d.type.rfind("number ", 0) != 0) {
      continue;  // no range to leave
    }
    ++keys;
    const auto kind =
      d.rules == "all" ? std::string("threshold") : d.rules.substr(0, d.rules.find(','));
    // "number in [0.5, 1]", "number > 0", "number >= 0", "number <= 100"
    const bool bounded = d.type.find(" in ") != std::string::npos;
    std::vector<std::string> outside;
    if (bounded || d.type.find('<') != std::string::npos) {
      outside.emplace_back("1e67");
    }
    if (bounded || d.type.find('>') != std::string::npos) {
      outside.emplace_back("-1E+67");
    }
    REQUIRE_FALSE(outside.empty());
    for (const auto& value : outside) {
      INFO(d.name << ": " << d.type << ": " << value);
      const auto c = policy::policy_from_json(
        fmt::format(R"({{"kind":"{}","{}":{}}})", kind, d.name, value));
      REQUIRE_FALSE(c);
      CHECK_THAT(c.error().message, Catch::StartsWith(d.name + " " + value + " must be"));
    }
  }
  CHECK(keys >= 10);
}

TEST_CASE("validate checks the ranges of the key tables on a config built in code",
          "[policy][keys]")
{
  auto c = *policy::preset("predictive");
  c.seasons_s = {60};
  auto r = policy::validate(c);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind == core::ErrorKind::usage);
  CHECK(r.error().message == "seasons 60 must be in [3600, 3024000]");
  c = *policy::preset("threshold");
  c.high = std::numeric_limits<double>::quiet_NaN();
  r = policy::validate(c);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "high nan is not a finite number");
}

TEST_CASE("the test's key lists match the key tables", "[policy][keys]")
{
  std::vector<std::string> listed;
  for (const auto& list : {k_integer_keys, k_number_keys}) {
    for (const auto& kk : list) {
      listed.insert(listed.end(), kk.keys.begin(), kk.keys.end());
    }
  }
  for (const auto& d : policy::key_docs()) {
    INFO(d.name);
    if (d.type.rfind("integer", 0) == 0 || d.type.rfind("number", 0) == 0) {
      CHECK(std::find(listed.begin(), listed.end(), d.name) != listed.end());
    }
  }
}

namespace {

// Return the man page's lines of one key as the table describes it.
std::string man_entry(const policy::KeyDoc& d)
{
  const auto roff = [](std::string s) {
    std::string out;
    for (char ch : s) {
      out += ch == '-' ? std::string("\\-") : std::string(1, ch);
    }
    return out;
  };
  return fmt::format(".TP\n.B {}\n({}) {}: {}\n", roff(d.name), roff(d.rules), roff(d.type),
                     roff(d.help));
}

} // namespace

TEST_CASE("the man page lists every policy key with the type and range of the table",
          "[policy][keys]")
{
  std::ifstream in(std::string(SCLMAN_SOURCE_DIR) + "/man/sclman.1");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto page = ss.str();
  const std::string begin = ".\\\" policy keys: begin\n";
  const std::string end = ".\\\" policy keys: end\n";
  const auto from = page.find(begin);
  const auto to = page.find(end);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  const auto listed = page.substr(from + begin.size(), to - from - begin.size());
  std::string expected;
  for (const auto& d : policy::key_docs()) {
    expected += man_entry(d);
  }
  // On a difference, paste the expected text between the markers of man/sclman.1.
  CHECK(listed == expected);
}

} // namespace unit_test_keys
