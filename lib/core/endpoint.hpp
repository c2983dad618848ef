// An address sclman forwards to or polls: an IP literal (v4 or v6) and a port, parsed from
// untrusted text by one parser. Renderers of configs take Endpoints, never strings, so a value
// that did not go through the parser cannot reach a config.
#pragma once

#include "core/result.hpp"

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace core {

class Endpoint
{
public:
  enum class Family : std::uint8_t { v4, v6 };

  // Parse "a.b.c.d:port" or "[v6]:port". The text is untrusted: host names, zone ids, a missing
  // or bad port (0, above 65535, not all digits), and anything inet_pton does not take are usage
  // errors whose message quotes the text escaped (printable()).
  static Result<Endpoint> parse(std::string_view text);
  // Parse a bare IP literal ("10.0.0.5", "fd00::1", no brackets) with the port `port`; the same
  // rules as parse().
  static Result<Endpoint> from_ip(std::string_view ip, std::int64_t port);

  Family family() const { return m_family; }
  std::uint16_t port() const { return m_port; }
  // Return the address alone, formatted from the parsed bytes ("10.0.0.5", "fd00::1").
  std::string ip() const;
  // Return "a.b.c.d:port" or "[v6]:port", formatted from the parsed bytes.
  std::string to_string() const;

  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;

private:
  Endpoint() = default;

  Family m_family = Family::v4;
  std::array<unsigned char, 16> m_bytes{};
  std::uint16_t m_port = 0;
};

// Return `text` fit for a log line or an error message: bytes outside printable ASCII as \xNN,
// cut to `max` characters with "..." after.
std::string printable(std::string_view text, std::size_t max = 80);

} // namespace core
