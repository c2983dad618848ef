// Nova server groups of the OpenStack provider: one per cluster that asks for one
// (create-cluster --server-group), named sclman-CLUSTER, with the policy anti-affinity (no two
// of its servers on one hypervisor, or no server) or soft-anti-affinity (spread where it can).
// Each new server of the cluster is created with the scheduler hint `group`; delete-cluster
// deletes the group once its servers are gone.
#include "cloud/openstack.hpp"

#include "core/log.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace cloud {

namespace os = openstack;
using core::ErrorKind;
using core::fail;

core::Result<std::vector<os::ServerGroup>>
OpenStackProvider::server_groups(const std::string& cluster)
{
  TRY_ASSIGN(const auto r, call({"GET", "compute", "/os-server-groups", "", true}));
  TRY_ASSIGN(auto all, os::parse_server_groups(r.body));
  std::vector<os::ServerGroup> mine;
  for (auto& g : all) {
    if (g.name == server_group_name(cluster)) {
      mine.push_back(std::move(g));
    }
  }
  // Two runs that both made one leave two: every run picks the same.
  std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return mine;
}

core::Result<std::string> OpenStackProvider::ensure_server_group(const std::string& cluster,
                                                                 const std::string& policy)
{
  const auto key = "group:" + cluster;
  if (auto it = m_resolved.find(key); it != m_resolved.end()) {
    return it->second;
  }
  TRY_ASSIGN(const auto found, server_groups(cluster));
  std::string id;
  if (!found.empty()) {
    const auto& g = found.front();
    if (std::find(g.policies.begin(), g.policies.end(), policy) == g.policies.end()) {
      return fail(ErrorKind::upstream_rejected,
                  fmt::format("server group {} ({}) has the policy {}, not {}: it was made "
                              "by someone else, or changed",
                              server_group_name(cluster), g.id,
                              core::printable(g.policies.empty() ? "" : g.policies.front(), 40),
                              policy),
                  "nova");
    }
    id = g.id;
  } else {
    const nlohmann::json body = {
      {"server_group", {{"name", server_group_name(cluster)}, {"policies", {policy}}}}};
    TRY_ASSIGN(const auto r, call({"POST", "compute", "/os-server-groups", body.dump(), false}));
    TRY_ASSIGN(const auto made, os::parse_server_group(r.body));
    id = made.id;
    spdlog::info("openstack.server_group_created cluster={} group={} id={} policy={}", cluster,
                 server_group_name(cluster), id, policy);
  }
  m_resolved[key] = id;
  return id;
}

core::Result<void> OpenStackProvider::retire_cluster(const std::string& cluster)
{
  TRY_ASSIGN(const auto found, server_groups(cluster));
  for (const auto& g : found) {
    TRY(call({"DELETE", "compute", "/os-server-groups/" + g.id, "", true}));
    spdlog::info("openstack.server_group_deleted cluster={} id={}", cluster, g.id);
  }
  m_resolved.erase("group:" + cluster);
  return {};
}

} // namespace cloud
