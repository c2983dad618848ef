#include "core/privileges.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace core {

namespace {

// Return the nearest directory of `path` that exists (the path itself may not yet).
std::optional<std::filesystem::path> existing_directory(const std::string& path)
{
  std::error_code ec;
  auto dir = std::filesystem::absolute(path, ec).parent_path();
  if (ec) {
    return std::nullopt;
  }
  while (!dir.empty()) {
    if (std::filesystem::is_directory(dir, ec)) {
      return dir;
    }
    if (dir == dir.root_path()) {
      break;
    }
    dir = dir.parent_path();
  }
  return std::nullopt;
}

} // namespace

Result<std::optional<std::string>> become_state_owner(const std::string& state_path)
{
  if (::geteuid() != 0) {
    return std::nullopt;
  }
  const auto dir = existing_directory(state_path);
  struct stat st = {};
  if (!dir || ::stat(dir->c_str(), &st) != 0 || st.st_uid == 0) {
    return std::nullopt;
  }
  errno = 0;
  const passwd* pw = ::getpwuid(st.st_uid);
  if (!pw) {
    return fail(ErrorKind::config,
                fmt::format("the state directory '{}' belongs to uid {}, which names no user: "
                            "chown it to the user sclman runs as",
                            dir->string(), st.st_uid));
  }
  const std::string name = pw->pw_name;
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  // Groups first, then the gid, the uid last (after it nothing else may be changed).
  if (::initgroups(name.c_str(), gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    return fail(ErrorKind::internal,
                fmt::format("cannot become '{}', the owner of the state directory '{}': {}",
                            name, dir->string(), std::strerror(errno)));
  }
  // Root must be out of reach: a process that can set its uid back to 0 has not dropped it.
  if (::setuid(0) == 0 || ::geteuid() == 0) {
    return fail(ErrorKind::internal, fmt::format("could not drop root for '{}'", name));
  }
  return name;
}

} // namespace core
