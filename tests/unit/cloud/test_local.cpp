// Two state files in one directory share instances/: each sees only the servers it made.
#include "cloud/local.hpp"
#include "../core/fake_clock.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <stdlib.h>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_local {

namespace {

constexpr const char* k_a = "11111111-1111-4111-8111-111111111111";
constexpr const char* k_b = "22222222-2222-4222-8222-222222222222";

cloud::ServerSpec spec(const std::string& name, const std::string& cluster)
{
  cloud::ServerSpec s;
  s.name = name;
  s.cluster = cluster;
  s.role = core::Role::web;
  return s;
}

} // namespace

TEST_CASE("a local server directory owned by another state is not taken", "[cloud][local]")
{
  test::FakeClock clock;
  char tmpl[] = "/tmp/sclman-test-XXXXXX";
  const std::filesystem::path root = mkdtemp(tmpl);
  cloud::LocalProvider a(root.string(), "/bin/false", k_a, clock);
  cloud::LocalProvider b(root.string(), "/bin/false", k_b, clock);
  const auto made = a.create(spec("dup-web-1", "dup"));
  REQUIRE(made);
  REQUIRE(b.create(spec("other-web-1", "other")));

  // b may not adopt a's server, though cluster and role match.
  const auto adopted = b.create(spec("dup-web-1", "dup"));
  REQUIRE_FALSE(adopted);
  CHECK(adopted.error().kind == core::ErrorKind::upstream_rejected);
  CHECK_THAT(adopted.error().message, Catch::Contains("belongs to another state file"));
  CHECK_FALSE(b.find("dup-web-1").value());
  CHECK(a.find("dup-web-1").value());
  // a's create of its own server stays idempotent.
  CHECK(a.create(spec("dup-web-1", "dup")).value().address == made->address);

  // Each lists only its own: gc never sees the other's as orphans.
  const auto listed = a.list().value();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].name == "dup-web-1");
  REQUIRE(b.list().value().size() == 1);

  // A remove of the other's server leaves its directory.
  REQUIRE(b.remove(
    core::InstanceRef{"dup", "dup-web-1", core::Role::web, cloud::address_text(*made), made->id}));
  CHECK(std::filesystem::exists(root / "dup-web-1" / "sclman.json"));
  REQUIRE(a.remove(
    core::InstanceRef{"dup", "dup-web-1", core::Role::web, cloud::address_text(*made), made->id}));
  CHECK_FALSE(std::filesystem::exists(root / "dup-web-1"));
  std::filesystem::remove_all(root);
}

TEST_CASE("a local server directory without an owner counts as this state's", "[cloud][local]")
{
  test::FakeClock clock;
  char tmpl[] = "/tmp/sclman-test-XXXXXX";
  const std::filesystem::path root = mkdtemp(tmpl);
  std::filesystem::create_directory(root / "old-web-1");
  {
    std::FILE* f = std::fopen((root / "old-web-1" / "sclman.json").c_str(), "w");
    REQUIRE(f);
    std::fputs(R"({"name":"old-web-1","sclman:cluster":"old","sclman:role":"web","port":1})", f);
    std::fclose(f);
  }
  cloud::LocalProvider a(root.string(), "/bin/false", k_a, clock);
  CHECK(a.find("old-web-1").value());
  CHECK(a.create(spec("old-web-1", "old")));
  CHECK(a.list().value().size() == 1);
  std::filesystem::remove_all(root);
}

TEST_CASE("a local server's recorded port is parsed, and a bad one makes it an error",
          "[cloud][local][hostile]")
{
  test::FakeClock clock;
  char tmpl[] = "/tmp/sclman-test-XXXXXX";
  const std::filesystem::path root = mkdtemp(tmpl);
  std::filesystem::create_directory(root / "old-web-1");
  cloud::LocalProvider a(root.string(), "/bin/false", k_a, clock);
  const auto with_port = [&](const std::string& port) {
    std::FILE* f = std::fopen((root / "old-web-1" / "sclman.json").c_str(), "w");
    REQUIRE(f);
    std::fputs((R"({"name":"old-web-1","sclman:cluster":"old","sclman:role":"web","port":)" + port
                + "}")
                 .c_str(),
               f);
    std::fclose(f);
    return a.find("old-web-1").value();
  };
  const auto good = with_port("8080");
  REQUIRE(good);
  CHECK(good->status == cloud::ServerStatus::active);
  CHECK(cloud::address_text(*good) == "127.0.0.1:8080");
  const std::string hostile[] = {
    "0", "70000", "-1", "1e30", "18446744073709551616", "80.5",
    R"("80; } server { listen 1; }")", R"("127.0.0.1:80")", R"("8\n0")", "null",
  };
  for (const auto& port : hostile) {
    INFO("port: " << port);
    const auto server = with_port(port);
    REQUIRE(server);
    CHECK(server->status == cloud::ServerStatus::error);
    CHECK_FALSE(server->address);
    CHECK_THAT(server->fault, Catch::Contains("server 'old-web-1' has no address"));
    CHECK(server->fault.find('\n') == std::string::npos);
  }
  std::filesystem::remove_all(root);
}

} // namespace unit_test_local
