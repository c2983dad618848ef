// libFuzzer target: a Keystone v3 token answer (POST /v3/auth/tokens) and its catalog never
// crash the parser; an accepted token has its value, and endpoint look-ups on any catalog give
// a URL without a trailing slash or an error. The same body goes through the error-body and
// Retry-After readers, which see Keystone's error answers.
#include "cloud/openstack_parse.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace os = cloud::openstack;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto token = os::parse_token("gAAAAABsubject", body);
  if (token) {
    if (token->value != "gAAAAABsubject") {
      std::abort();
    }
    for (const char* type : {"compute", "image", "identity", "network"}) {
      for (const char* interface : {"public", "internal"}) {
        for (const char* region : {"", "RegionOne"}) {
          const auto url = os::find_endpoint(token->catalog, type, interface, region);
          if (url && !url->empty() && url->back() == '/') {
            std::abort();
          }
        }
      }
    }
  }
  (void)os::error_message(body);
  (void)os::parse_retry_after(body);
  (void)os::parse_iso8601(body);
  return 0;
}
