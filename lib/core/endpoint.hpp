// An address sclman forwards to, polls or matches a metric to: an IP literal (v4 or v6), and
// with a port an Endpoint, parsed from untrusted text by one parser. Renderers of configs take
// Endpoints, never strings, so a value that did not go through the parser cannot reach a config.
#pragma once

#include "core/result.hpp"

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace core {

class IpAddress
{
public:
  enum class Family : std::uint8_t { v4, v6 };

  // Parse a bare IP literal ("10.0.0.5", "fd00::1"; no brackets, no port). The text is
  // untrusted: host names, zone ids, octal or hex forms and anything inet_pton does not take are
  // usage errors whose message quotes the text escaped (core::printable).
  static Result<IpAddress> parse(std::string_view text);
  // Parse the host part of what a metrics source names an instance by: "ip", "ip:port",
  // "[v6]", "[v6]:port" or a bare "v6"; a port, when given, must be 1-65535. The same rules as
  // parse() for the address.
  static Result<IpAddress> parse_host(std::string_view text);

  Family family() const { return m_family; }
  // Return true for the wildcard (0.0.0.0 or ::): a listen address meaning every interface.
  bool is_any() const;
  // Return the address formatted from the parsed bytes ("10.0.0.5", "fd00::1").
  std::string to_string() const;

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

private:
  IpAddress() = default;

  Family m_family = Family::v4;
  std::array<unsigned char, 16> m_bytes{};
};

class Endpoint
{
public:
  using Family = IpAddress::Family;

  // Parse "a.b.c.d:port" or "[v6]:port". The text is untrusted: host names, zone ids, a missing
  // or bad port (0, above 65535, not all digits), and anything inet_pton does not take are usage
  // errors whose message quotes the text escaped (core::printable).
  static Result<Endpoint> parse(std::string_view text);
  // Parse a bare IP literal ("10.0.0.5", "fd00::1", no brackets) with the port `port`; the same
  // rules as parse().
  static Result<Endpoint> from_ip(std::string_view ip, std::int64_t port);
  // Return `ip` with the port `port`; a port outside 1-65535 is a usage error.
  static Result<Endpoint> from_ip(const IpAddress& ip, std::int64_t port);

  Family family() const { return m_ip.family(); }
  std::uint16_t port() const { return m_port; }
  const IpAddress& address() const { return m_ip; }
  // Return the address alone, formatted from the parsed bytes ("10.0.0.5", "fd00::1").
  std::string ip() const { return m_ip.to_string(); }
  // Return "a.b.c.d:port" or "[v6]:port", formatted from the parsed bytes.
  std::string to_string() const;

  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;

private:
  explicit Endpoint(IpAddress ip) : m_ip(ip) {}

  IpAddress m_ip;
  std::uint16_t m_port = 0;
};

} // namespace core
