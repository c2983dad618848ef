#include "core/file.hpp"

#include "core/log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace core {

namespace {

Error io_error(const char* what, const std::string& path)
{
  return make_error(ErrorKind::state,
                    fmt::format("cannot {} '{}': {}", what, path, std::strerror(errno)));
}

// Return the directory holding `path` ("." for a bare name).
std::string directory_of(const std::string& path)
{
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<void> write_all(int fd, const std::string& content, const std::string& path)
{
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const auto n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(io_error("write", path));
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    return fail(io_error("sync", path));
  }
  return {};
}

} // namespace

std::optional<std::string> read_file(const std::string& path)
{
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Result<void> write_file_atomic(const std::string& path, const std::string& content)
{
  // The rename below replaces whatever has the name: a device node (/dev/null, /dev/full), a
  // fifo or a symlink would be swapped for a regular file. Only an absent path or a regular
  // file is written.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    return fail(ErrorKind::state,
                fmt::format("will not replace '{}': it is not a regular file", path));
  }
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  // A leftover of a run with the same pid is ours to remove; O_EXCL | O_NOFOLLOW then makes
  // sure the file written is the one created here, not a link planted at that name.
  ::unlink(tmp.c_str());
  const int fd =
    ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail(io_error("write", tmp));
  }
  auto written = write_all(fd, content, tmp);
  if (::close(fd) != 0 && written) {
    written = fail(io_error("write", tmp));
  }
  if (!written) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto error = io_error("rename", path);
    ::unlink(tmp.c_str());
    return fail(error);
  }
  // The rename is durable once the directory entry is: fsync the directory too (EINVAL: the
  // file system cannot sync directories, and there is nothing more to do).
  const auto dir = directory_of(path);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return fail(io_error("open directory", dir));
  }
  const bool synced = ::fsync(dir_fd) == 0 || errno == EINVAL;
  const auto error = synced ? Error{} : io_error("sync directory", dir);
  ::close(dir_fd);
  if (!synced) {
    return fail(error);
  }
  return {};
}

Result<void> check_file_mode(const std::string& path, std::string_view what, mode_t forbidden,
                             Perms perms)
{
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(ErrorKind::config,
                fmt::format("cannot read {} '{}': {}", what, path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(ErrorKind::config, fmt::format("{} '{}' is not a regular file", what, path));
  }
  const mode_t mode = st.st_mode & 07777;
  if ((mode & forbidden) == 0) {
    return {};
  }
  const auto fixed = static_cast<unsigned>(mode & ~forbidden & 0777);
  const char* who = (mode & forbidden & 07) != 0 ? "others" : "its group";
  const auto message =
    fmt::format("permissions {:04o} for {} '{}' are too open: {} may {} it (chmod {:o} {}; "
                "--insecure-perms uses it anyway)",
                static_cast<unsigned>(mode), what, path, who,
                (mode & forbidden & 0022) != 0 ? "change" : "read", fixed, path);
  if (perms == Perms::insecure) {
    spdlog::warn("file.insecure_perms path={} mode={:04o} what={}", core::log_quote(path),
                 static_cast<unsigned>(mode), core::log_quote(std::string(what)));
    return {};
  }
  return fail(ErrorKind::config, message);
}

} // namespace core
