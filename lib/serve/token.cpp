#include "serve/token.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>

namespace serve {

namespace {

constexpr std::string_view k_base64url =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool base64url_char(char c)
{
  return k_base64url.find(c) != std::string_view::npos;
}

} // namespace

core::Result<std::string> new_token()
{
  std::array<unsigned char, 33> bytes{};  // 32 used; 33 makes whole groups of three
  if (RAND_bytes(bytes.data(), 32) != 1) {
    return core::fail(core::ErrorKind::internal, "no random bytes for a token (RAND_bytes)");
  }
  std::string out(k_token_prefix);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const unsigned v = (unsigned{bytes[i]} << 16) | (unsigned{bytes[i + 1]} << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) {
      out += k_base64url[(v >> shift) & 63];
    }
  }
  out.resize(k_token_size);  // 32 bytes are 43 characters; the rest encoded the zero pad
  return out;
}

std::string token_hash(std::string_view token)
{
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned len = 0;
  EVP_Digest(token.data(), token.size(), digest.data(), &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
}

std::optional<std::string_view> bearer_token(std::string_view authorization)
{
  constexpr std::string_view scheme = "Bearer ";
  if (!authorization.starts_with(scheme)) {
    return std::nullopt;
  }
  const auto token = authorization.substr(scheme.size());
  if (token.size() != k_token_size || !token.starts_with(k_token_prefix)
      || !std::all_of(token.begin() + k_token_prefix.size(), token.end(), base64url_char)) {
    return std::nullopt;
  }
  return token;
}

} // namespace serve
