#include "cloud/local.hpp"

#include "core/file.hpp"
#include "local/nginx.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cloud {

namespace fs = std::filesystem;
using core::ErrorKind;
using core::fail;

namespace {

constexpr const char* k_tag_file = "sclman.json";

std::optional<Server> read_tags(const fs::path& dir)
{
  std::ifstream in(dir / k_tag_file);
  if (!in) {
    return std::nullopt;
  }
  try {
    const auto j = nlohmann::json::parse(in);
    Server s;
    s.id = j.at("name").get<std::string>();
    s.name = s.id;
    s.cluster = j.at("sclman:cluster").get<std::string>();
    s.role = j.at("sclman:role").get<std::string>();
    s.address = fmt::format("127.0.0.1:{}", j.at("port").get<int>());
    s.status = ServerStatus::active;
    return s;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

} // namespace

LocalProvider::LocalProvider(std::string root, std::string nginx, core::Clock& clock)
  : m_root(std::move(root)), m_nginx(std::move(nginx)), m_clock(clock)
{
}

core::Result<Server> LocalProvider::create(const ServerSpec& spec)
{
  const fs::path dir = prefix(spec.name);
  if (auto existing = read_tags(dir)) {
    if (existing->cluster != spec.cluster || existing->role != spec.role) {
      return fail(ErrorKind::upstream_rejected,
                  fmt::format("cannot create '{}': a server of another cluster has that name",
                              spec.name),
                  "local");
    }
    return *existing;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return fail(ErrorKind::state,
                fmt::format("cannot create '{}': {}", dir.string(), ec.message()),
                "local");
  }
  int port = spec.port;
  if (port == 0) {
    TRY_ASSIGN(port, local::free_port());
  }
  const nlohmann::json tags = {
    {"name", spec.name},
    {"sclman:cluster", spec.cluster},
    {"sclman:role", spec.role},
    {"port", port},
  };
  TRY(core::write_file_atomic((dir / k_tag_file).string(), tags.dump() + "\n"));
  spdlog::info("local.server_created server={} port={}", spec.name, port);
  return *read_tags(dir);
}

core::Result<std::optional<Server>> LocalProvider::find(const std::string& name)
{
  return read_tags(prefix(name));
}

core::Result<void> LocalProvider::remove(const core::InstanceRef& instance)
{
  const auto dir = prefix(instance.name);
  TRY(local::Nginx(m_nginx, dir, m_clock).stop(10'000));
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) {
    return fail(ErrorKind::state,
                fmt::format("cannot delete '{}': {}", dir, ec.message()),
                "local");
  }
  return {};
}

core::Result<std::vector<Server>> LocalProvider::list()
{
  std::vector<Server> out;
  std::error_code ec;
  if (!fs::exists(m_root, ec)) {
    return out;
  }
  for (const auto& entry : fs::directory_iterator(m_root, ec)) {
    if (!entry.is_directory()) {
      continue;
    }
    if (auto s = read_tags(entry.path())) {
      out.push_back(*s);
    } else {
      // A directory sclman began to make but did not tag: report it, untagged, for gc.
      Server partial;
      partial.id = entry.path().filename().string();
      partial.name = partial.id;
      partial.status = ServerStatus::error;
      partial.fault = "no tag file";
      out.push_back(partial);
    }
  }
  return out;
}

core::Result<int> LocalProvider::remove_strays(const std::set<std::string>& live, bool dry_run)
{
  int count = 0;
  for (const auto& [pid, prefix] : local::masters_below(m_root)) {
    const auto name = fs::path(prefix).filename().string();
    if (live.count(name) || fs::path(prefix).parent_path() != fs::path(m_root)) {
      continue;
    }
    spdlog::info("gc.orphan_process pid={} prefix={}", pid, prefix);
    ++count;
    if (!dry_run) {
      TRY(local::Nginx(m_nginx, prefix, m_clock).stop(10'000));
    }
  }
  return count;
}

} // namespace cloud
