// Test data of tests/unit/cm: files below tests/data/cm.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace cm_test {

// Return the content of tests/data/cm/`name` (empty if it cannot be read).
inline std::string data_file(const std::string& name)
{
  std::ifstream in(std::string(SCLMAN_SOURCE_DIR) + "/tests/data/cm/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace cm_test
