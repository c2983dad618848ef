// libFuzzer target: reading back an upstream list never crashes, and a rendered list reads back
// as it was written.
#include "local/nginx.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto backends = local::parse_upstream(text);
  std::vector<std::string> clean;
  for (const auto& b : backends) {
    if (!b.empty() && b.find_first_of(" \t\n;#") == std::string::npos) {
      clean.push_back(b);
    }
  }
  if (local::parse_upstream(local::render_upstream(clean)) != clean) {
    std::abort();
  }
  return 0;
}
