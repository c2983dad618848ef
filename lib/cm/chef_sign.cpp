#include "cm/chef_sign.hpp"

#include "core/file.hpp"
#include "core/names.hpp"
#include "core/time.hpp"
#include "http/encoding.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace cm {

using core::ErrorKind;
using core::fail;

namespace {

struct BioFree
{
  void operator()(BIO* b) const { BIO_free(b); }
};
struct CtxFree
{
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree
{
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string digest64(const EVP_MD* md, std::string_view data)
{
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return http::base64(std::string_view(reinterpret_cast<const char*>(out), len));
}

core::Error sign_error(const char* what)
{
  return core::make_error(ErrorKind::internal, fmt::format("cannot sign chef request: {}", what));
}

core::Result<std::string> sign_sha256(EVP_PKEY* pkey, const std::string& text)
{
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) != 1
      || EVP_DigestSign(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(text.data()), text.size())
           != 1) {
    return tl::make_unexpected(sign_error("RSA-SHA256 setup failed"));
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(text.data()), text.size())
      != 1) {
    return tl::make_unexpected(sign_error("RSA-SHA256 failed"));
  }
  sig.resize(len);
  return sig;
}

// Protocol 1.0 signs the canonical text itself: PKCS#1 v1.5 type 1 padding and the raw RSA
// private-key operation (Ruby's OpenSSL::PKey::RSA#private_encrypt). With no digest set,
// EVP_PKEY_sign does exactly that in OpenSSL 3.
core::Result<std::string> sign_raw(EVP_PKEY* pkey, const std::string& text)
{
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(pkey, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1
      || EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1
      || EVP_PKEY_sign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(text.data()), text.size())
           != 1) {
    return tl::make_unexpected(sign_error("RSA setup failed"));
  }
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                    reinterpret_cast<const unsigned char*>(text.data()), text.size())
      != 1) {
    return tl::make_unexpected(sign_error("RSA failed (is the key at least 1024 bits?)"));
  }
  sig.resize(len);
  return sig;
}

} // namespace

std::optional<ChefSignVersion> parse_sign_version(std::string_view name)
{
  if (name == "1.3") {
    return ChefSignVersion::v1_3;
  }
  if (name == "1.0") {
    return ChefSignVersion::v1_0;
  }
  return std::nullopt;
}

core::Result<ChefKey> ChefKey::from_pem(const std::string& pem, const std::string& origin)
{
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!pkey) {
    return fail(ErrorKind::config,
                fmt::format("cannot read chef key '{}': not a PEM private key", origin));
  }
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
    EVP_PKEY_free(pkey);
    return fail(ErrorKind::config,
                fmt::format("cannot use chef key '{}': not an RSA key", origin));
  }
  return ChefKey(pkey);
}

core::Result<ChefKey> ChefKey::from_file(const std::string& path, core::Perms perms)
{
  TRY(core::check_file_mode(path, "chef key", 077, perms));
  const auto pem = core::read_file(path);
  if (!pem) {
    return fail(ErrorKind::config, fmt::format("cannot read chef key '{}'", path));
  }
  return from_pem(*pem, path);
}

ChefKey::ChefKey(ChefKey&& other) noexcept : m_pkey(other.m_pkey)
{
  other.m_pkey = nullptr;
}

ChefKey& ChefKey::operator=(ChefKey&& other) noexcept
{
  if (this != &other) {
    EVP_PKEY_free(static_cast<EVP_PKEY*>(m_pkey));
    m_pkey = other.m_pkey;
    other.m_pkey = nullptr;
  }
  return *this;
}

ChefKey::~ChefKey()
{
  EVP_PKEY_free(static_cast<EVP_PKEY*>(m_pkey));
}

std::string chef_timestamp(core::Millis time)
{
  return core::iso8601_utc(time);
}

std::string chef_signed_path(std::string_view path)
{
  if (const auto q = path.find('?'); q != std::string_view::npos) {
    path = path.substr(0, q);
  }
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  return path.empty() ? std::string("/") : std::string(path);
}

std::string chef_canonical_request(const ChefSignInput& in)
{
  std::string method = in.method;
  for (auto& c : method) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const auto path = chef_signed_path(in.path);
  if (in.version == ChefSignVersion::v1_3) {
    return fmt::format("Method:{}\nPath:{}\nX-Ops-Content-Hash:{}\nX-Ops-Sign:version=1.3\n"
                       "X-Ops-Timestamp:{}\nX-Ops-UserId:{}\nX-Ops-Server-API-Version:1",
                       method,
                       path,
                       digest64(EVP_sha256(), in.body),
                       chef_timestamp(in.time),
                       in.user_id);
  }
  return fmt::format("Method:{}\nHashed Path:{}\nX-Ops-Content-Hash:{}\nX-Ops-Timestamp:{}\n"
                     "X-Ops-UserId:{}",
                     method,
                     digest64(EVP_sha1(), path),
                     digest64(EVP_sha1(), in.body),
                     chef_timestamp(in.time),
                     in.user_id);
}

core::Result<std::vector<std::pair<std::string, std::string>>>
chef_sign(const ChefKey& key, const ChefSignInput& in)
{
  auto* pkey = static_cast<EVP_PKEY*>(key.pkey());
  if (!pkey) {
    return tl::make_unexpected(sign_error("no key"));
  }
  const auto canonical = chef_canonical_request(in);
  const bool v13 = in.version == ChefSignVersion::v1_3;
  TRY_ASSIGN(const auto sig, v13 ? sign_sha256(pkey, canonical) : sign_raw(pkey, canonical));
  const auto sig64 = http::base64(sig);
  std::vector<std::pair<std::string, std::string>> headers = {
    {"X-Ops-Sign", v13 ? "algorithm=sha256;version=1.3" : "algorithm=sha1;version=1.0"},
    {"X-Ops-UserId", in.user_id},
    {"X-Ops-Timestamp", chef_timestamp(in.time)},
    {"X-Ops-Content-Hash", digest64(v13 ? EVP_sha256() : EVP_sha1(), in.body)},
    {"X-Ops-Server-API-Version", "1"},
    {"X-Chef-Version", "12.0.0"},
  };
  for (std::size_t at = 0, n = 1; at < sig64.size(); at += 60, ++n) {
    headers.emplace_back(fmt::format("X-Ops-Authorization-{}", n), sig64.substr(at, 60));
  }
  return headers;
}

} // namespace cm
