// API tokens of sclman serve: made from 32 random bytes, shown once, kept only as SHA-256.
#pragma once

#include "core/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace serve {

// Every token starts with this, so that a secret scanner (or a person) can tell what it is.
inline constexpr std::string_view k_token_prefix = "sclman_";
// The length of a token: the prefix and 32 bytes in unpadded base64url.
inline constexpr std::size_t k_token_size = k_token_prefix.size() + 43;

// Return a new token from the system's random source (OpenSSL's RAND_bytes).
core::Result<std::string> new_token();

// Return the SHA-256 of `token` in lowercase hex: what the state file keeps of it.
std::string token_hash(std::string_view token);

// Return the token of an Authorization header ("Bearer sclman_..."), or nothing when the header
// is missing or not a bearer token of the shape new_token makes (its text is never echoed).
std::optional<std::string_view> bearer_token(std::string_view authorization);

} // namespace serve
