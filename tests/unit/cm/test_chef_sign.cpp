// tests/unit/cm/test_chef_sign.cpp: lib/cm/chef_sign.cpp against fixed vectors (a fixed key and
// time), the same vectors tests/integration/test_chef_signing.sh replays against goiardi.
#include "cm/chef_sign.hpp"

#include "data_file.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_chef_sign {

namespace {

std::string temp_key(const std::string& pem, mode_t mode)
{
  char path[] = "/tmp/sclman-key-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()));
  close(fd);
  REQUIRE(chmod(path, mode) == 0);
  return path;
}

} // namespace

TEST_CASE("signs requests exactly as the vectors verified with goiardi", "[chef_sign]")
{
  const auto key = cm::ChefKey::from_pem(cm_test::data_file("test_client.pem"), "test_client.pem");
  REQUIRE(key);
  const auto vectors = nlohmann::json::parse(cm_test::data_file("sign_vectors.json")).at("vectors");
  REQUIRE(vectors.size() >= 4);
  for (const auto& v : vectors) {
    INFO(v.at("version").get<std::string>() << " " << v.at("method").get<std::string>() << " "
                                            << v.at("path").get<std::string>());
    cm::ChefSignInput in;
    in.method = v.at("method");
    in.path = v.at("path");
    in.body = v.at("body");
    in.user_id = v.at("user_id");
    in.time = v.at("time_ms");
    in.version = *cm::parse_sign_version(v.at("version").get<std::string>());
    CHECK(cm::chef_timestamp(in.time) == v.at("timestamp").get<std::string>());
    CHECK(cm::chef_canonical_request(in) == v.at("canonical").get<std::string>());
    const auto headers = cm::chef_sign(*key, in);
    REQUIRE(headers);
    std::map<std::string, std::string> got(headers->begin(), headers->end());
    for (const auto& [name, value] : v.at("headers").items()) {
      INFO(name);
      CHECK(got[name] == value.get<std::string>());
    }
    // No more signature pieces than the vector has.
    const auto pieces = std::count_if(got.begin(), got.end(), [](const auto& h) {
      return h.first.rfind("X-Ops-Authorization-", 0) == 0;
    });
    const auto want = std::count_if(v.at("headers").items().begin(), v.at("headers").items().end(),
                                    [](const auto& h) {
                                      return h.key().rfind("X-Ops-Authorization-", 0) == 0;
                                    });
    CHECK(pieces == want);
  }
}

TEST_CASE("signs the path without query string and trailing slash", "[chef_sign]")
{
  CHECK(cm::chef_signed_path("/search/node?q=role:web") == "/search/node");
  CHECK(cm::chef_signed_path("/organizations/acme/nodes/") == "/organizations/acme/nodes");
  CHECK(cm::chef_signed_path("/") == "/");
  CHECK(cm::chef_signed_path("") == "/");
}

TEST_CASE("signature pieces are 60 characters, the last one shorter", "[chef_sign]")
{
  const auto key = cm::ChefKey::from_pem(cm_test::data_file("test_client.pem"), "test_client.pem");
  REQUIRE(key);
  cm::ChefSignInput in{"GET", "/nodes", "", "admin", 0, cm::ChefSignVersion::v1_3};
  const auto headers = cm::chef_sign(*key, in);
  REQUIRE(headers);
  std::string joined;
  for (const auto& [name, value] : *headers) {
    if (name.rfind("X-Ops-Authorization-", 0) == 0) {
      CHECK(value.size() <= 60);
      joined += value;
    }
  }
  CHECK(joined.size() == 344);  // base64 of a 2048-bit signature
}

TEST_CASE("parses only the two supported signing versions", "[chef_sign]")
{
  CHECK(cm::parse_sign_version("1.3") == cm::ChefSignVersion::v1_3);
  CHECK(cm::parse_sign_version("1.0") == cm::ChefSignVersion::v1_0);
  CHECK_FALSE(cm::parse_sign_version("1.1"));
  CHECK_FALSE(cm::parse_sign_version(""));
}

TEST_CASE("refuses a key file others may read, like ssh", "[chef_sign]")
{
  const auto pem = cm_test::data_file("test_client.pem");
  SECTION("0600 is accepted")
  {
    const auto path = temp_key(pem, 0600);
    CHECK(cm::ChefKey::from_file(path));
    std::remove(path.c_str());
  }
  SECTION("0644 and 0640 are refused, naming the file and the mode")
  {
    for (const mode_t mode : {mode_t(0644), mode_t(0640), mode_t(0604)}) {
      const auto path = temp_key(pem, mode);
      const auto key = cm::ChefKey::from_file(path);
      REQUIRE_FALSE(key);
      CHECK(key.error().kind == core::ErrorKind::config);
      CHECK_THAT(key.error().message, Catch::Contains(path));
      CHECK_THAT(key.error().message, Catch::Contains("too open"));
      std::remove(path.c_str());
    }
  }
  SECTION("a missing file and a file that is no key are config errors")
  {
    const auto missing = cm::ChefKey::from_file("/nonexistent/client.pem");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == core::ErrorKind::config);
    const auto path = temp_key("not a key\n", 0600);
    const auto bad = cm::ChefKey::from_file(path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == core::ErrorKind::config);
    CHECK(bad.error().message.find("not a key") == std::string::npos);  // content never echoed
    std::remove(path.c_str());
  }
}

} // namespace unit_test_chef_sign
