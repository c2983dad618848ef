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
  if (local::parse_upstream(local::render_upstream(backends)) != backends) {
    std::abort();
  }
  return 0;
}
