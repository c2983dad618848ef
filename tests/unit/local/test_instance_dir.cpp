// The one place instance directories are named: nothing outside the root, whatever the name.
#include "local/instance_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <stdlib.h>
#include <unistd.h>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_instance_dir {

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

TEST_CASE("[LOCAL] instances_dir is made private when missing, and refused when others could "
          "write below it",
          "[local]")
{
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/sclman-test-XXXXXX";
  const fs::path root = mkdtemp(tmpl);
  // Empty: instances/ beside the state file, as before.
  CHECK(local::instances_root("", "/var/lib/sclman").value() == "/var/lib/sclman/instances");
  // Missing: made, mode 0700, its parents too.
  const auto made = (root / "a" / "instances").string();
  REQUIRE(local::instances_root(made, "/unused").value() == made);
  CHECK((fs::status(made).permissions() & fs::perms::all) == fs::perms::owner_all);
  // An existing private directory is used as it is.
  CHECK(local::instances_root(made, "/unused"));

  const auto refused = [](const std::string& dir, const std::string& why) {
    INFO(dir);
    const auto r = local::instances_root(dir, "/unused");
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == core::ErrorKind::config);
    CHECK_THAT(r.error().message, Catch::Contains("[LOCAL] instances_dir") && Catch::Contains(why));
  };
  fs::create_directory(root / "open");
  fs::permissions(root / "open", fs::perms::all);
  refused((root / "open").string(), "has mode 0777");
  fs::permissions(root / "open", fs::perms::owner_all | fs::perms::group_all);
  refused((root / "open").string(), "has mode 0770");
  fs::create_directory_symlink(made, root / "link");
  refused((root / "link").string(), "symbolic link");
  { std::ofstream((root / "file").string()) << "x"; }
  refused((root / "file").string(), "not a directory");
  refused((root / "file" / "below").string(), "cannot be read: Not a directory");
  if (::geteuid() == 0) {
    fs::create_directory(root / "theirs");
    REQUIRE(::chown((root / "theirs").c_str(), 65534, 65534) == 0);
    refused((root / "theirs").string(), "belongs to uid 65534");
  }
  fs::remove_all(root);
}

} // namespace unit_test_instance_dir
