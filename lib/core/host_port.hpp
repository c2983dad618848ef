// "host:port" as sclman reads it from the cloud, configuration management and metrics labels:
// one strict parser.
#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

struct HostPort
{
  std::string host;                   // without the brackets of an IPv6 literal
  std::optional<std::uint16_t> port;  // 1..65535 when given
};

// Parse "host:port", "[v6]:port", "host" or "[v6]" into a HostPort. The text is untrusted: an
// empty host, a port that is empty, 0, above 65535 or not all digits ("80abc", "+80"), spaces,
// control characters, characters no host name has, or a bare IPv6 address without brackets
// ("a:b:c") are usage errors whose message quotes the text.
Result<HostPort> parse_host_port(std::string_view text);

} // namespace core
