// libFuzzer target: splitting log messages into fields (JSON logs) never crashes.
#include "core/log.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)core::parse_log_message(text);
  return 0;
}
