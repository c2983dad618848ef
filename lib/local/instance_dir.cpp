#include "local/instance_dir.hpp"

#include "core/log.hpp"
#include "core/names.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace local {

namespace fs = std::filesystem;

core::Result<std::string> instances_root(const std::string& configured, const std::string& state_dir)
{
  if (configured.empty()) {
    return state_dir + "/instances";
  }
  const auto refuse = [&](std::string_view why) {
    return core::fail(core::ErrorKind::config,
                      fmt::format("[LOCAL] instances_dir '{}' {}", core::printable(configured), why));
  };
  struct stat st {};
  if (::lstat(configured.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return refuse(fmt::format("cannot be read: {}", std::strerror(errno)));
    }
    std::error_code ec;
    fs::create_directories(configured, ec);
    if (ec) {
      return refuse(fmt::format("cannot be made: {}", ec.message()));
    }
    fs::permissions(configured, fs::perms::owner_all, ec);
    if (::lstat(configured.c_str(), &st) != 0) {
      return refuse(fmt::format("cannot be read: {}", std::strerror(errno)));
    }
  }
  if (S_ISLNK(st.st_mode)) {
    return refuse("is a symbolic link; name the directory itself");
  }
  if (!S_ISDIR(st.st_mode)) {
    return refuse("is not a directory");
  }
  if (st.st_uid != ::geteuid()) {
    return refuse(fmt::format("belongs to uid {}, not to uid {} that runs sclman", st.st_uid,
                              ::geteuid()));
  }
  if ((st.st_mode & 0022) != 0) {
    return refuse(fmt::format("has mode {:04o}: others could replace the configs of the nginx "
                              "processes it holds (chmod go-w)",
                              st.st_mode & 07777));
  }
  return configured;
}

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

core::Result<core::Endpoint> recorded_endpoint(const nlohmann::json& port, std::string_view file)
{
  // get<int>() of 1e30 or of 2^40 would not fit: only an integer in range is read.
  std::int64_t value = 0;
  if (port.is_number_unsigned()) {
    const auto u = port.get<std::uint64_t>();
    value = u <= 65535 ? static_cast<std::int64_t>(u) : 0;
  } else if (port.is_number_integer()) {
    value = port.get<std::int64_t>();
  }
  if (value < 1 || value > 65535) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("'{}' records port {}, not an integer from 1 to 65535",
                                  core::printable(file), core::printable(port.dump())));
  }
  return core::Endpoint::from_ip("127.0.0.1", value);
}

core::Result<core::Endpoint> recorded_listen(const nlohmann::json& record, std::string_view file)
{
  TRY_ASSIGN(const auto loopback, recorded_endpoint(record.at("port"), file));
  const auto it = record.find("address");
  if (it == record.end()) {
    return loopback;
  }
  core::Result<core::IpAddress> ip =
    core::fail(core::ErrorKind::usage, core::printable(it->dump()) + ": not a string");
  if (it->is_string()) {
    ip = core::IpAddress::parse(it->get_ref<const std::string&>());
  }
  if (!ip) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("'{}' records address {}", core::printable(file),
                                  ip.error().message));
  }
  return core::Endpoint::from_ip(*ip, loopback.port());
}

} // namespace local
