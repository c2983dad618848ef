#include "core/file.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
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
