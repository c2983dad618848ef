// Chef server API request signing (Mixlib::Authentication), protocol 1.3 (RSA-SHA256) and 1.0
// (SHA-1 hashes, raw RSA private-key signature). Pure: key, time and request in, headers out.
#pragma once

#include "core/clock.hpp"
#include "core/file.hpp"
#include "core/result.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cm {

enum class ChefSignVersion { v1_0, v1_3 };

// Return the version named "1.0" or "1.3", or nothing.
std::optional<ChefSignVersion> parse_sign_version(std::string_view name);

// An RSA private key loaded from PEM (PKCS#1 or PKCS#8). Move-only; never printed.
class ChefKey
{
public:
  // Return the key in `pem`; a key that does not parse is a config error naming `origin`.
  static core::Result<ChefKey> from_pem(const std::string& pem, const std::string& origin);
  // Return the key in file `path`, refusing a file that anyone but its owner may read (unless
  // `perms` is insecure: --insecure-perms), or that is not a regular file (as ssh does).
  static core::Result<ChefKey> from_file(const std::string& path,
                                         core::Perms perms = core::Perms::strict);

  ChefKey(ChefKey&&) noexcept;
  ChefKey& operator=(ChefKey&&) noexcept;
  ~ChefKey();

  // The OpenSSL EVP_PKEY (opaque here so that only chef_sign.cpp includes OpenSSL).
  void* pkey() const { return m_pkey; }

private:
  explicit ChefKey(void* pkey) : m_pkey(pkey) {}
  void* m_pkey = nullptr;
};

struct ChefSignInput
{
  std::string method;   // GET, POST, PUT, DELETE
  std::string path;     // full URL path, with any /organizations/ORG prefix; query ignored
  std::string body;     // request body, empty for GET and DELETE
  std::string user_id;  // client or user name
  core::Millis time = 0;
  ChefSignVersion version = ChefSignVersion::v1_3;
};

// Return the X-Ops-Timestamp form of `time`: 2026-11-26T17:25:54Z (UTC, seconds).
std::string chef_timestamp(core::Millis time);

// Return the path as signed: no query string, no trailing slash (except "/").
std::string chef_signed_path(std::string_view path);

// Return the canonical string that the signature covers.
std::string chef_canonical_request(const ChefSignInput& input);

// Return the X-Ops-* headers (and X-Chef-Version) that authenticate `input` with `key`.
core::Result<std::vector<std::pair<std::string, std::string>>>
chef_sign(const ChefKey& key, const ChefSignInput& input);

} // namespace cm
