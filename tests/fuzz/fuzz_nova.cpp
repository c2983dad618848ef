// libFuzzer target: Nova answers (server list, one server, a create answer, flavor and image
// lists) never crash the parsers, what they accept can be read without crashing, and a fixed
// address they give is an IPv4 literal.
#include "cloud/openstack_parse.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace os = cloud::openstack;

namespace {

void read(const os::NovaServer& server)
{
  for (const char* network : {"", "private"}) {
    // An accepted address is an IPv4 literal formatted from its bytes: nothing else gets out.
    const auto fixed = os::fixed_address(server, network);
    if (fixed && *fixed) {
      for (const char c : (*fixed)->to_string()) {
        if ((c < '0' || c > '9') && c != '.') {
          std::abort();
        }
      }
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (const auto servers = os::parse_servers(body)) {
    for (const auto& s : *servers) {
      read(s);
    }
  }
  if (const auto server = os::parse_server(body)) {
    read(*server);
  }
  if (const auto id = os::parse_created_id(body); id && id->empty()) {
    std::abort();  // an accepted create answer names a server
  }
  for (const char* key : {"flavors", "images", "networks"}) {
    if (const auto items = os::parse_named_list(body, key)) {
      (void)os::pick_one(*items, "m1.small", key);
    }
  }
  (void)os::error_message(body);
  return 0;
}
