// Encodings HTTP clients need: base64 (RFC 4648), percent-encoding (RFC 3986) and the value of
// an `Authorization: Basic` header (RFC 7617). One of each; every caller uses these.
#pragma once

#include <string>
#include <string_view>

namespace http {

// Return the base64 encoding of the bytes of `data` (RFC 4648 section 4, padded, no newlines).
std::string base64(std::string_view data);

// Return `text` percent-encoded for a URL query component: RFC 3986 unreserved characters
// (letters, digits, "-._~") are kept, every other byte becomes %XX (uppercase hex).
std::string url_encode(std::string_view text);

// Return the value of an `Authorization: Basic` header for `user` and `password`.
std::string basic_auth(std::string_view user, std::string_view password);

} // namespace http
