// man/sclman.conf.5 against the config's key tables (core's and the registry's driver sections):
// every key documented under its own section, and nothing documented that the config refuses.
#include "core/config.hpp"
#include "engine/drivers.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_man_conf {

namespace {

struct ManPage
{
  std::set<std::string> sections;  // the .SH [NAME] headings
  std::set<std::string> keys;      // SECTION.key for each .TP term below such a heading
  std::vector<std::string> odd;    // .TP terms below a section heading that name no key
};

// Return the arguments of a troff macro line: words, or "quoted words" kept whole.
std::vector<std::string> macro_args(const std::string& rest)
{
  std::vector<std::string> out;
  const std::regex arg(R"re("([^"]*)"|(\S+))re");
  for (auto it = std::sregex_iterator(rest.begin(), rest.end(), arg); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
  }
  return out;
}

ManPage read_conf_man()
{
  std::ifstream in(std::string(SCLMAN_SOURCE_DIR) + "/man/sclman.conf.5");
  REQUIRE(in);
  ManPage page;
  const std::regex heading(R"(^\.SH \[([A-Z_]+)\]$)");
  const std::regex key(R"(^[a-z][a-z0-9_]*$)");
  std::string section;
  bool term = false;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, heading)) {
      section = m[1];
      page.sections.insert(section);
      term = false;
      continue;
    }
    if (line.rfind(".SH", 0) == 0) {
      section.clear();
      continue;
    }
    if (line == ".TP") {
      term = true;
      continue;
    }
    if (!term || section.empty()) {
      continue;
    }
    term = false;
    std::vector<std::string> names;
    if (line.rfind(".B ", 0) == 0) {
      names = {macro_args(line.substr(3)).front()};
    } else if (line.rfind(".BR ", 0) == 0) {
      // Bold and roman alternate: the keys are the bold ones, the separators roman.
      const auto args = macro_args(line.substr(4));
      for (std::size_t k = 0; k < args.size(); k += 2) {
        names.push_back(args[k]);
      }
    }
    if (names.empty()) {
      page.odd.push_back(section + ": " + line);
    }
    for (const auto& n : names) {
      if (std::regex_match(n, key)) {
        page.keys.insert(section + "." + n);
      } else {
        page.odd.push_back(section + ": " + line);
      }
    }
  }
  return page;
}

std::string listed(const std::set<std::string>& items)
{
  std::string out;
  for (const auto& i : items) {
    out += (out.empty() ? "" : ", ") + i;
  }
  return out;
}

} // namespace

TEST_CASE("man/sclman.conf.5 documents exactly the config's keys, each in its own section",
          "[engine][man]")
{
  const auto page = read_conf_man();
  INFO("terms that name no key: " << page.odd.size());
  for (const auto& o : page.odd) {
    UNSCOPED_INFO(o);
  }
  CHECK(page.odd.empty());
  const auto all = core::config_keys();
  const std::set<std::string> known(all.begin(), all.end());
  std::set<std::string> undocumented;
  std::set<std::string> unknown;
  for (const auto& k : known) {
    if (!page.keys.count(k)) {
      undocumented.insert(k);
    }
  }
  for (const auto& k : page.keys) {
    if (!known.count(k)) {
      unknown.insert(k);
    }
  }
  INFO("keys the page does not document: " << listed(undocumented));
  INFO("keys the page documents that the config refuses: " << listed(unknown));
  CHECK(undocumented.empty());
  CHECK(unknown.empty());
}

TEST_CASE("man/sclman.conf.5 has a section for every config section of every driver",
          "[engine][man]")
{
  const auto page = read_conf_man();
  for (const auto& row : engine::registry()) {
    for (const auto& s : row.sections) {
      INFO(row.name << " reads [" << s << "]");
      CHECK(page.sections.count(s) == 1);
    }
  }
  for (const auto& s : engine::driver_sections()) {
    INFO("[" << s.name << "]");
    CHECK(page.sections.count(s.name) == 1);
    for (const auto& k : s.keys()) {
      INFO(k.key);
      CHECK(page.keys.count(std::string(s.name) + "." + k.key) == 1);
    }
  }
}

} // namespace unit_test_man_conf
