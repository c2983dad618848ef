// Vendor names live in their driver folders (lib/cloud, lib/cm, lib/metrics, lib/lb,
// lib/local), the driver registry (lib/engine/drivers*), config and docs: never in cmd/ or
// lib/core/, which reach drivers only through the registry.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_layers {

namespace fs = std::filesystem;

TEST_CASE("cmd/ and lib/core/ name no vendor")
{
  const fs::path root = SCLMAN_SOURCE_DIR;
  const std::vector<std::string> vendors = {"openstack", "nova", "chef", "sensu", "prometheus",
                                            "nginx", "stub_status"};
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
        // Case-insensitive, as a grep -i would be (a std::regex per line cost a third of a
        // second under ASan).
        std::string lower = line;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return char(std::tolower(c)); });
        for (const auto& v : vendors) {
          if (lower.find(v) != std::string::npos) {
            FAIL_CHECK(rel << ":" << n << " names " << v << ": " << line);
          }
        }
      }
    }
  }
  CHECK(files > 10);
}

} // namespace unit_test_layers
