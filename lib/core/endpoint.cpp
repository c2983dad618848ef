#include "core/endpoint.hpp"

#include "core/log.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>

#include <algorithm>
#include <optional>

namespace core {

namespace {

// Longer than any IPv6 literal in brackets with a port ("[" 45 "]:" 5).
constexpr std::size_t k_max_text = 64;

tl::unexpected<Error> bad(std::string_view text, std::string_view why)
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

struct Split
{
  std::string_view ip;
  std::optional<std::string_view> port;  // the digits after ':', when there is a ':'
};

// Split "ip", "ip:port", "[v6]" or "[v6]:port" (not a bare v6) into the address and the port.
Result<Split> split_port(std::string_view text)
{
  Split out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return bad(text, "'[' without ']'");
    }
    out.ip = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    if (out.ip.find(':') == std::string_view::npos) {
      return bad(text, "brackets hold no IPv6 address");
    }
  } else {
    const auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return bad(text, "more than one ':' (an IPv6 address needs brackets)");
    }
    out.ip = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':') {
      return bad(text, "text after ']' that is not a port");
    }
    out.port = rest.substr(1);
  }
  return out;
}

// Return `parsed`, its error quoting the whole `text` rather than the part of it parsed.
template <class T>
Result<T> requote(std::string_view text, Result<T> parsed)
{
  if (!parsed) {
    const auto& message = parsed.error().message;
    const auto colon = message.find("': ");
    return bad(text, colon == std::string::npos ? message : message.substr(colon + 3));
  }
  return parsed;
}

} // namespace

Result<IpAddress> IpAddress::parse(std::string_view text)
{
  if (text.empty()) {
    return bad(text, "no address");
  }
  if (text.size() > k_max_text) {
    return bad(text, "too long for an IP address");
  }
  for (const char c : text) {
    if (!ip_char(c)) {
      return bad(text, "not an IPv4 or IPv6 address (host names are not taken)");
    }
  }
  const std::string copy(text);  // NUL-terminated for inet_pton; ip_char() let no NUL through
  IpAddress out;
  if (text.find(':') == std::string_view::npos) {
    out.m_family = Family::v4;
    if (::inet_pton(AF_INET, copy.c_str(), out.m_bytes.data()) != 1) {
      return bad(text, "not an IPv4 address");
    }
  } else {
    out.m_family = Family::v6;
    if (::inet_pton(AF_INET6, copy.c_str(), out.m_bytes.data()) != 1) {
      return bad(text, "not an IPv6 address");
    }
  }
  return out;
}

bool IpAddress::is_any() const
{
  return std::all_of(m_bytes.begin(), m_bytes.end(), [](unsigned char b) { return b == 0; });
}

Result<IpAddress> IpAddress::parse_host(std::string_view text)
{
  if (text.size() > k_max_text) {
    return bad(text, "too long for an address");
  }
  const auto colons = std::count(text.begin(), text.end(), ':');
  if (text.empty() || (text.front() != '[' && colons > 1)) {
    return requote(text, parse(text));  // a bare IPv6 literal, or nothing
  }
  const auto split = split_port(text);
  if (!split) {
    return tl::make_unexpected(split.error());
  }
  if (split->port.has_value() && port_of(*split->port) == 0) {
    return bad(text, "the port is not a number from 1 to 65535");
  }
  return requote(text, parse(split->ip));
}

std::string IpAddress::to_string() const
{
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(m_family == Family::v4 ? AF_INET : AF_INET6, m_bytes.data(), buffer, sizeof buffer);
  return buffer;
}

Result<Endpoint> Endpoint::from_ip(const IpAddress& ip, std::int64_t port)
{
  if (port < 1 || port > 65535) {
    return bad(ip.to_string(), fmt::format("port {} is not from 1 to 65535", port));
  }
  Endpoint out(ip);
  out.m_port = static_cast<std::uint16_t>(port);
  return out;
}

Result<Endpoint> Endpoint::from_ip(std::string_view ip, std::int64_t port)
{
  TRY_ASSIGN(const auto address, IpAddress::parse(ip));
  return from_ip(address, port);
}

Result<Endpoint> Endpoint::parse(std::string_view text)
{
  if (text.size() > k_max_text) {
    return bad(text, "too long for an address");
  }
  const auto split = split_port(text);
  if (!split) {
    return tl::make_unexpected(split.error());
  }
  if (!split->port) {
    return bad(text, "no port");
  }
  const auto port = port_of(*split->port);
  if (port == 0) {
    return bad(text, "the port is not a number from 1 to 65535");
  }
  TRY_ASSIGN(const auto address, requote(text, IpAddress::parse(split->ip)));
  return from_ip(address, port);
}

std::string Endpoint::to_string() const
{
  return family() == Family::v4 ? fmt::format("{}:{}", ip(), m_port)
                                : fmt::format("[{}]:{}", ip(), m_port);
}

} // namespace core
