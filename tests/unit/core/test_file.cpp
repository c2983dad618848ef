#include "core/file.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

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
