// libFuzzer target: trace CSV parsing never crashes; an accepted trace is regular and
// non-negative, and averaging it per tick works.
#include "policy/simulate.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto trace = policy::parse_trace(text, "fuzz.csv");
  if (trace) {
    (void)policy::tick_rates(*trace, 60);
  }
  return 0;
}
