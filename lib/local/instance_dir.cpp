#include "local/instance_dir.hpp"

#include "core/names.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace local {

namespace fs = std::filesystem;

core::Result<std::string> instance_dir(const std::string& root, std::string_view name)
{
  if (auto valid = core::validate_instance_name(name); !valid) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("no instance directory below '{}' for an {}", root,
                                  valid.error().message));
  }
  const fs::path dir = fs::path(root) / name;
  // A valid name is one component; the check below holds even if that rule ever loosens.
  auto normal_root = fs::path(root).lexically_normal();
  if (!normal_root.has_filename()) {
    normal_root = normal_root.parent_path();  // "/srv/instances/" -> "/srv/instances"
  }
  if (dir.lexically_normal().parent_path() != normal_root) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("instance directory '{}' is not directly below '{}'",
                                  dir.string(), root));
  }
  std::error_code ec;
  const auto status = fs::symlink_status(dir, ec);
  if (!ec && status.type() != fs::file_type::not_found
      && status.type() != fs::file_type::directory) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("instance directory '{}' is not a directory", dir.string()));
  }
  return dir.string();
}

} // namespace local
