// libFuzzer target: core::Endpoint, the one parser of addresses from outside. Whatever the text,
// parse gives an endpoint or an error; an endpoint renders to text that parses back to itself and
// holds nothing a config could take as syntax; an error message is printable ASCII.
#include "core/endpoint.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(const core::Result<core::Endpoint>& parsed)
{
  if (!parsed) {
    for (const char c : parsed.error().message) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        std::abort();
      }
    }
    return;
  }
  const auto text = parsed->to_string();
  if (text.find_first_not_of("0123456789abcdef.:[]") != std::string::npos || parsed->port() == 0) {
    std::abort();
  }
  const auto again = core::Endpoint::parse(text);
  if (!again || *again != *parsed || again->to_string() != text) {
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(core::Endpoint::parse(text));
  check(core::Endpoint::from_ip(text, 8080));
  return 0;
}
