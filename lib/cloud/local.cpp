#include "cloud/local.hpp"

#include "core/file.hpp"
#include "core/log.hpp"
#include "local/instance_dir.hpp"
#include "local/nginx.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace cloud {

namespace fs = std::filesystem;
using core::ErrorKind;
using core::fail;

namespace {

constexpr const char* k_tag_file = "sclman.json";

// A server's tags and the identity of the state file that made it ("" if not recorded).
struct Tags
{
  Server server;
  std::string owner;
};

std::optional<Tags> read_tags(const fs::path& dir)
{
  std::ifstream in(dir / k_tag_file);
  if (!in) {
    return std::nullopt;
  }
  try {
    const auto j = nlohmann::json::parse(in);
    Tags t;
    t.owner = j.value("sclman:state", std::string());
    auto& s = t.server;
    s.id = j.at("name").get<std::string>();
    s.name = s.id;
    s.cluster = j.at("sclman:cluster").get<std::string>();
    const auto role = core::parse_role(j.at("sclman:role").get<std::string>());
    if (!role) {
      return std::nullopt;  // no role sclman knows: not an instance of its
    }
    s.role = *role;
    // The tag file may have been edited: its address and port are parsed, never copied.
    auto endpoint = local::recorded_listen(j, (dir / k_tag_file).string());
    if (endpoint) {
      s.address = *endpoint;
      s.status = ServerStatus::active;
    } else {
      s.status = ServerStatus::error;
      s.fault = fmt::format("server '{}' has no address: {}", core::printable(s.name),
                            endpoint.error().message);
    }
    return t;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// Return the ports the servers below `root` have recorded, whoever made them: a stopped nginx
// listens on none, yet its port is its own.
std::set<int> recorded_ports(const fs::path& root)
{
  std::set<int> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (auto t = read_tags(entry.path()); t && t->server.address) {
      out.insert(t->server.address->port());
    }
  }
  return out;
}

} // namespace

LocalProvider::LocalProvider(std::string root, std::string nginx, std::string owner,
                             core::Clock& clock)
  : m_root(std::move(root)), m_nginx(std::move(nginx)), m_owner(std::move(owner)), m_clock(clock)
{
}

std::optional<std::string> LocalProvider::foreign_owner(const std::string& dir) const
{
  const auto tags = read_tags(dir);
  if (!tags || tags->owner.empty() || tags->owner == m_owner) {
    return std::nullopt;
  }
  return tags->owner;
}

core::Result<Server> LocalProvider::create(const ServerSpec& spec)
{
  TRY_ASSIGN(const fs::path dir, local::instance_dir(m_root, spec.name));
  if (auto existing = read_tags(dir)) {
    if (!existing->owner.empty() && existing->owner != m_owner) {
      return fail(ErrorKind::upstream_rejected,
                  fmt::format("cannot create '{}': its directory '{}' belongs to another state "
                              "file (identity {}) in the same directory",
                              spec.name, dir.string(), existing->owner),
                  "local");
    }
    if (existing->server.cluster != spec.cluster || existing->server.role != spec.role) {
      return fail(ErrorKind::upstream_rejected,
                  fmt::format("cannot create '{}': a server of another cluster has that name",
                              spec.name),
                  "local");
    }
    return existing->server;
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
    TRY_ASSIGN(port, local::free_port(recorded_ports(m_root)));
  }
  nlohmann::json tags = {
    {"name", spec.name},
    {"sclman:cluster", spec.cluster},
    {"sclman:role", core::to_string(spec.role)},
    {"port", port},
    {"sclman:state", m_owner},
  };
  if (spec.listen) {
    tags["address"] = spec.listen->to_string();
  }
  TRY(core::write_file_atomic((dir / k_tag_file).string(), tags.dump() + "\n"));
  spdlog::info("local.server_created server={} port={}", spec.name, port);
  return read_tags(dir)->server;
}

core::Result<std::optional<Server>> LocalProvider::find(const std::string& name)
{
  TRY_ASSIGN(const auto dir, local::instance_dir(m_root, name));
  auto tags = read_tags(dir);
  if (!tags || foreign_owner(dir)) {
    return std::optional<Server>{};
  }
  return std::optional<Server>{std::move(tags->server)};
}

core::Result<void> LocalProvider::remove(const core::InstanceRef& instance)
{
  TRY_ASSIGN(const auto dir, local::instance_dir(m_root, instance.name));
  if (const auto owner = foreign_owner(dir)) {
    spdlog::warn("local.not_ours server={} owner={} action=left_alone", instance.name, *owner);
    return {};
  }
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
    if (auto t = read_tags(entry.path())) {
      if (!t->owner.empty() && t->owner != m_owner) {
        spdlog::debug("local.not_ours server={} owner={}", t->server.name, t->owner);
        continue;
      }
      out.push_back(t->server);
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
    if (live.count(name) || fs::path(prefix).parent_path() != fs::path(m_root)
        || foreign_owner(prefix)) {
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
