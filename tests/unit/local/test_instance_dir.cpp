// The one place instance directories are named: nothing outside the root, whatever the name.
#include "local/instance_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <stdlib.h>

TEST_CASE("an instance directory is the instance's name directly below the root", "[local]")
{
  CHECK(local::instance_dir("/srv/instances", "shop-web-3").value() == "/srv/instances/shop-web-3");
  CHECK(local::instance_dir("/srv/instances/", "shop-lb-1").value() == "/srv/instances/shop-lb-1");
}

TEST_CASE("a name that would leave the instance root is a state error", "[local]")
{
  for (const char* name : {"../../etc", "..", ".", "", "shop-web-1/../../x", "/etc",
                           "shop-web-1/conf", "shop-web-1\n", "../shop-web-1"}) {
    INFO(name);
    const auto dir = local::instance_dir("/srv/instances", name);
    REQUIRE_FALSE(dir);
    CHECK(dir.error().kind == core::ErrorKind::state);
  }
}

TEST_CASE("a symlink in place of an instance directory is a state error", "[local]")
{
  char tmpl[] = "/tmp/sclman-test-XXXXXX";
  const std::filesystem::path root = mkdtemp(tmpl);
  std::filesystem::create_symlink("/etc", root / "shop-web-1");
  std::filesystem::create_directory(root / "shop-web-2");
  const auto linked = local::instance_dir(root.string(), "shop-web-1");
  REQUIRE_FALSE(linked);
  CHECK_THAT(linked.error().message, Catch::Contains("is not a directory"));
  CHECK(local::instance_dir(root.string(), "shop-web-2"));
  CHECK(local::instance_dir(root.string(), "shop-web-3"));
  std::filesystem::remove_all(root);
}
