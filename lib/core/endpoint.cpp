#include "core/endpoint.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>

namespace core {

namespace {

// Longer than any IPv6 literal in brackets with a port ("[" 45 "]:" 5).
constexpr std::size_t k_max_text = 64;

Result<Endpoint> bad(std::string_view text, std::string_view why)
{
  return fail(ErrorKind::usage, fmt::format("bad address '{}': {}", printable(text), why));
}

bool ip_char(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.'
      || c == ':';
}

// Return the port of `digits` (1..65535, digits only), or 0.
std::uint16_t port_of(std::string_view digits)
{
  if (digits.empty() || digits.size() > 5) {
    return 0;
  }
  unsigned value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return 0;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value > 65535 ? 0 : static_cast<std::uint16_t>(value);
}

} // namespace

std::string printable(std::string_view text, std::size_t max)
{
  std::string out;
  for (const char c : text.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\\' || c == '\'' || c == '"') {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  if (text.size() > max) {
    out += "...";
  }
  return out;
}

Result<Endpoint> Endpoint::from_ip(std::string_view ip, std::int64_t port)
{
  if (ip.empty()) {
    return bad(ip, "no address");
  }
  if (ip.size() > k_max_text) {
    return bad(ip, "too long for an IP address");
  }
  for (const char c : ip) {
    if (!ip_char(c)) {
      return bad(ip, "not an IPv4 or IPv6 address (host names are not taken)");
    }
  }
  if (port < 1 || port > 65535) {
    return bad(ip, fmt::format("port {} is not from 1 to 65535", port));
  }
  const std::string text(ip);  // NUL-terminated for inet_pton; ip_char() let no NUL through
  Endpoint out;
  out.m_port = static_cast<std::uint16_t>(port);
  if (ip.find(':') == std::string_view::npos) {
    out.m_family = Family::v4;
    if (::inet_pton(AF_INET, text.c_str(), out.m_bytes.data()) != 1) {
      return bad(ip, "not an IPv4 address");
    }
  } else {
    out.m_family = Family::v6;
    if (::inet_pton(AF_INET6, text.c_str(), out.m_bytes.data()) != 1) {
      return bad(ip, "not an IPv6 address");
    }
  }
  return out;
}

Result<Endpoint> Endpoint::parse(std::string_view text)
{
  if (text.size() > k_max_text) {
    return bad(text, "too long for an address");
  }
  std::string_view ip;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return bad(text, "'[' without ']'");
    }
    ip = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    if (ip.find(':') == std::string_view::npos) {
      return bad(text, "brackets hold no IPv6 address");
    }
  } else {
    const auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return bad(text, "more than one ':' (an IPv6 address needs brackets)");
    }
    ip = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
  }
  if (rest.empty() || rest.front() != ':') {
    return bad(text, "no port");
  }
  const auto port = port_of(rest.substr(1));
  if (port == 0) {
    return bad(text, "the port is not a number from 1 to 65535");
  }
  auto out = from_ip(ip, port);
  if (!out) {
    // Quote the whole text, not just the part before the port.
    const auto colon = out.error().message.find("': ");
    return bad(text, out.error().message.substr(colon + 3));
  }
  return out;
}

std::string Endpoint::ip() const
{
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(m_family == Family::v4 ? AF_INET : AF_INET6, m_bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::string Endpoint::to_string() const
{
  return m_family == Family::v4 ? fmt::format("{}:{}", ip(), m_port)
                                : fmt::format("[{}]:{}", ip(), m_port);
}

} // namespace core
