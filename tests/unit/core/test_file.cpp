#include "core/config.hpp"
#include "core/file.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_file {

namespace {

std::filesystem::path temp_dir()
{
  auto dir = std::filesystem::temp_directory_path()
             / ("sclman-test-file-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

} // namespace

TEST_CASE("write_file_atomic replaces a file whole and leaves no temporary", "[core][file]")
{
  const auto dir = temp_dir();
  const auto path = (dir / "status.json").string();
  REQUIRE(core::write_file_atomic(path, "old\n"));
  CHECK(core::read_file(path) == "old\n");
  REQUIRE(core::write_file_atomic(path, std::string("new\0bytes", 9)));
  CHECK(core::read_file(path) == std::string("new\0bytes", 9));
  REQUIRE(core::write_file_atomic(path, ""));
  CHECK(core::read_file(path) == "");
  CHECK(std::distance(std::filesystem::directory_iterator(dir),
                      std::filesystem::directory_iterator())
        == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("write_file_atomic fails with a state error naming the file", "[core][file]")
{
  const auto dir = temp_dir();
  const auto path = (dir / "missing" / "x.json").string();
  const auto written = core::write_file_atomic(path, "x");
  REQUIRE_FALSE(written);
  CHECK(written.error().kind == core::ErrorKind::state);
  CHECK(written.error().message.find("x.json") != std::string::npos);
  CHECK_FALSE(core::read_file(path));
  std::filesystem::remove_all(dir);
}

TEST_CASE("write_file_atomic leaves a path that is not a regular file alone", "[core][file]")
{
  const auto dir = temp_dir();
  const auto target = (dir / "target").string();
  REQUIRE(core::write_file_atomic(target, "kept\n"));
  const auto link = (dir / "link").string();
  std::filesystem::create_symlink(target, link);
  const auto fifo = (dir / "fifo").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto subdir = (dir / "subdir").string();
  std::filesystem::create_directory(subdir);
  for (const auto& path : {link, fifo, subdir}) {
    INFO(path);
    const auto written = core::write_file_atomic(path, "new\n");
    REQUIRE_FALSE(written);
    CHECK(written.error().kind == core::ErrorKind::state);
    CHECK(written.error().message.find("not a regular file") != std::string::npos);
  }
  CHECK(std::filesystem::is_symlink(link));
  CHECK(std::filesystem::is_fifo(fifo));
  CHECK(std::filesystem::is_directory(subdir));
  CHECK(core::read_file(target) == "kept\n");
  // Nothing else is left behind: target, link, fifo, subdir.
  CHECK(std::distance(std::filesystem::directory_iterator(dir),
                      std::filesystem::directory_iterator())
        == 4);
  std::filesystem::remove_all(dir);
}

TEST_CASE("write_file_atomic does not follow a link planted at its temporary name", "[core][file]")
{
  const auto dir = temp_dir();
  const auto victim = (dir / "victim").string();
  REQUIRE(core::write_file_atomic(victim, "kept\n"));
  const auto path = (dir / "out.prom").string();
  std::filesystem::create_symlink(victim, path + ".tmp." + std::to_string(::getpid()));
  REQUIRE(core::write_file_atomic(path, "new\n"));
  CHECK(core::read_file(path) == "new\n");
  CHECK(core::read_file(victim) == "kept\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("check_file_mode refuses a secret file others may read or its group may change",
          "[core][file]")
{
  const auto dir = temp_dir();
  const auto path = (dir / "sclman.conf").string();
  REQUIRE(core::write_file_atomic(path, "[MANAGER]\n"));
  const struct
  {
    mode_t mode;
    mode_t forbidden;
    bool ok;
    const char* says;  // in the refusal
  } cases[] = {
    {0600, 027, true, ""},
    {0640, 027, true, ""},
    {0400, 027, true, ""},
    {0644, 027, false, "permissions 0644 for config file '"},
    {0604, 027, false, "others may read it (chmod 600 "},
    {0660, 027, false, "its group may change it (chmod 640 "},
    {0602, 027, false, "others may change it"},
    {0666, 027, false, "chmod 640"},
    {04600, 027, true, ""},
    {0640, 077, false, "its group may read it (chmod 600 "},
    {0700, 077, true, ""},
  };
  for (const auto& c : cases) {
    REQUIRE(::chmod(path.c_str(), c.mode) == 0);
    const auto strict = core::check_file_mode(path, "config file", c.forbidden, core::Perms::strict);
    INFO("mode " << std::oct << c.mode << " forbidden " << c.forbidden);
    CHECK(bool(strict) == c.ok);
    if (!c.ok) {
      CHECK(strict.error().kind == core::ErrorKind::config);
      CHECK_THAT(strict.error().message, Catch::Contains(c.says));
      CHECK_THAT(strict.error().message, Catch::Contains("--insecure-perms"));
    }
    // --insecure-perms: used, whatever its mode.
    CHECK(core::check_file_mode(path, "config file", c.forbidden, core::Perms::insecure));
  }
  // Not a regular file, or none: refused either way.
  for (const auto perms : {core::Perms::strict, core::Perms::insecure}) {
    const auto directory = core::check_file_mode(dir.string(), "config file", 027, perms);
    REQUIRE_FALSE(directory);
    CHECK_THAT(directory.error().message, Catch::Contains("is not a regular file"));
    const auto missing = core::check_file_mode((dir / "none").string(), "config file", 027, perms);
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error().message, Catch::Contains("No such file"));
  }
  // A symlink is judged by the file it points to.
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  std::filesystem::create_symlink(path, dir / "link.conf");
  CHECK_FALSE(core::check_file_mode((dir / "link.conf").string(), "config file", 027,
                                    core::Perms::strict));
  std::filesystem::remove_all(dir);
}

TEST_CASE("load_config refuses an open config unless told", "[core][file][config]")
{
  const auto dir = temp_dir();
  const auto path = (dir / "sclman.conf").string();
  REQUIRE(core::write_file_atomic(path, "[MANAGER]\nman_sensitivity = 4\n"));
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  const auto refused = core::load_config(path);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == core::ErrorKind::config);
  const auto used = core::load_config(path, core::Perms::insecure);
  REQUIRE(used);
  CHECK(used->manager.sensitivity == 4);
  CHECK(used->perms == core::Perms::insecure);
  REQUIRE(::chmod(path.c_str(), 0640) == 0);
  const auto fine = core::load_config(path);
  REQUIRE(fine);
  CHECK(fine->perms == core::Perms::strict);
  std::filesystem::remove_all(dir);
}

} // namespace unit_test_file
