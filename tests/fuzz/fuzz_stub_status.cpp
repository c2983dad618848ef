// libFuzzer target: nginx stub_status parsing never crashes and never yields a negative counter.
#include "metrics/stub_status.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto s = metrics::parse_stub_status(text);
  if (s && (s->requests < 0 || s->accepts < 0)) {
    std::abort();
  }
  return 0;
}
