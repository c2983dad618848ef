// Vendor names live in their driver folders (lib/cloud, lib/cm, lib/metrics, lib/lb,
// lib/local), the driver registry (lib/engine/drivers*), config and docs: never in cmd/ or
// lib/core/, which reach drivers only through the registry.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

namespace fs = std::filesystem;

TEST_CASE("cmd/ and lib/core/ name no vendor")
{
  const fs::path root = SCLMAN_SOURCE_DIR;
  const std::regex vendor("openstack|nova|chef|sensu|prometheus|nginx|stub_status",
                          std::regex::icase);
  int files = 0;
  for (const char* dir : {"cmd", "lib/core"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      if (!entry.is_regular_file()) {
        continue;
      }
      const auto rel = fs::relative(entry.path(), root).string();
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        INFO(rel << ":" << n << ": " << line);
        CHECK(!std::regex_search(line, vendor));
      }
    }
  }
  CHECK(files > 10);
}
