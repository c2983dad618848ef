#include "core/host_port.hpp"

#include <fmt/format.h>

namespace core {

namespace {

bool is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Return whether `c` may appear in a host name or an IPv4 address.
bool name_char(char c)
{
  return is_alnum(c) || c == '-' || c == '.' || c == '_';
}

// Return whether `c` may appear between the brackets of an IPv6 literal (with a zone id).
bool v6_char(char c)
{
  return name_char(c) || c == ':' || c == '%';
}

std::string printable(std::string_view text)
{
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace

Result<HostPort> parse_host_port(std::string_view text)
{
  const auto bad = [&](std::string_view why) {
    return fail(ErrorKind::usage, fmt::format("bad address '{}': {}", printable(text), why));
  };
  HostPort out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return bad("'[' without ']'");
    }
    const auto host = text.substr(1, close - 1);
    for (const char c : host) {
      if (!v6_char(c)) {
        return bad("the IPv6 address has a character no address has");
      }
    }
    if (host.find(':') == std::string_view::npos) {
      return bad("brackets hold no IPv6 address");
    }
    out.host = std::string(host);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return bad("text after ']' that is not a port");
    }
  } else {
    const auto colon = text.find(':');
    const auto host = text.substr(0, colon);
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return bad("more than one ':' (an IPv6 address needs brackets)");
    }
    for (const char c : host) {
      if (!name_char(c)) {
        return bad("the host has a character no host name has");
      }
    }
    out.host = std::string(host);
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
  }
  if (out.host.empty()) {
    return bad("no host");
  }
  if (rest.empty()) {
    return out;
  }
  const auto digits = rest.substr(1);
  if (digits.empty() || digits.size() > 5) {
    return bad("the port is not a number from 1 to 65535");
  }
  unsigned value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return bad("the port is not a number from 1 to 65535");
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) {
    return bad("the port is not a number from 1 to 65535");
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

} // namespace core
