#include "http/encoding.hpp"

#include <catch2/catch.hpp>

#include <string>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_encoding {

TEST_CASE("base64 matches the RFC 4648 test vectors", "[http][encoding]")
{
  CHECK(http::base64("") == "");
  CHECK(http::base64("f") == "Zg==");
  CHECK(http::base64("fo") == "Zm8=");
  CHECK(http::base64("foo") == "Zm9v");
  CHECK(http::base64("foob") == "Zm9vYg==");
  CHECK(http::base64("fooba") == "Zm9vYmE=");
  CHECK(http::base64("foobar") == "Zm9vYmFy");
  CHECK(http::base64("#cloud-config\n") == "I2Nsb3VkLWNvbmZpZwo=");
}

TEST_CASE("base64 encodes every byte value, NUL and high bytes included", "[http][encoding]")
{
  CHECK(http::base64(std::string("\0\0\0", 3)) == "AAAA");
  CHECK(http::base64(std::string("\0", 1)) == "AA==");
  CHECK(http::base64("\xff\xff\xff") == "////");
  CHECK(http::base64("\xfb\xff") == "+/8=");
  CHECK(http::base64("\xc3\xa9") == "w6k=");
  std::string all;
  for (int c = 0; c < 256; ++c) {
    all += static_cast<char>(c);
  }
  const auto encoded = http::base64(all);
  CHECK(encoded.size() == 344);
  CHECK(encoded.substr(0, 8) == "AAECAwQF");
  CHECK(encoded.substr(encoded.size() - 8) == "/P3+/w==");
}

TEST_CASE("percent-encodes query components", "[http][encoding]")
{
  CHECK(http::url_encode("") == "");
  CHECK(http::url_encode("abc-._~XYZ019") == "abc-._~XYZ019");
  CHECK(http::url_encode("a b&c=d/e?") == "a%20b%26c%3Dd%2Fe%3F");
  CHECK(http::url_encode("{mode=\"idle\"}") == "%7Bmode%3D%22idle%22%7D");
  CHECK(http::url_encode(":/?#[]@") == "%3A%2F%3F%23%5B%5D%40");
  CHECK(http::url_encode("!$'()*+,;%") == "%21%24%27%28%29%2A%2B%2C%3B%25");
  CHECK(http::url_encode("role:web AND name:shop-*") == "role%3Aweb%20AND%20name%3Ashop-%2A");
  CHECK(http::url_encode("\xc3\xa9") == "%C3%A9");
  CHECK(http::url_encode(std::string("\0\n\x7f", 3)) == "%00%0A%7F");
}

TEST_CASE("builds basic auth headers (RFC 7617)", "[http][encoding]")
{
  CHECK(http::basic_auth("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK(http::basic_auth("a", "") == "Basic YTo=");
  CHECK(http::basic_auth("ab", "") == "Basic YWI6");
  CHECK(http::basic_auth("test", "123\xc2\xa3") == "Basic dGVzdDoxMjPCow==");
}

} // namespace unit_test_encoding
