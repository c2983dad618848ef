// libFuzzer target: sclman.conf parsing never crashes, and what it accepts is consistent.
#include "core/config.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = core::parse_config(text, "fuzz.conf");
  if (config && config->manager.min_size > config->manager.max_size) {
    std::abort();  // accepted an inconsistent config
  }
  return 0;
}
