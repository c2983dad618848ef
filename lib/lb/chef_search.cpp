#include "lb/chef_search.hpp"

#include "cm/chef_nodes.hpp"
#include "core/log.hpp"
#include "local/nginx.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace lb {

ChefSearchBalancer::ChefSearchBalancer(cm::ChefClient& chef, std::string web_role,
                                       Balancer* render)
  : m_chef(chef), m_web_role(std::move(web_role)), m_render(render)
{
}

core::Result<std::pair<std::vector<Backend>, std::vector<Rejection>>>
ChefSearchBalancer::search(const std::string& cluster)
{
  const auto query = cm::chef_search_query(m_web_role, cluster);
  TRY_ASSIGN(const auto nodes, m_chef.search_nodes(query));
  std::vector<Backend> found;
  std::vector<Rejection> rejected;
  for (const auto& node : nodes) {
    const auto name = cm::chef_node_name(node);
    const auto address = cm::chef_node_address(node);
    if (!address) {
      // Written by the VM itself: a value that is not an address never reaches the LB.
      rejected.push_back({core::printable(name), address.error().message});
      continue;
    }
    if (!*address) {
      continue;  // not registered yet: no address to forward to
    }
    found.push_back({name, **address});
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return std::make_pair(std::move(found), std::move(rejected));
}

core::Result<Applied> ChefSearchBalancer::apply(const core::InstanceRef& lb,
                                                const std::vector<Backend>& backends)
{
  TRY_ASSIGN(auto searched, search(lb.cluster));
  auto& [found, rejected] = searched;
  std::vector<core::Endpoint> want;
  std::vector<core::Endpoint> got;
  for (const auto& b : backends) {
    want.push_back(b.endpoint);
  }
  for (const auto& f : found) {
    got.push_back(f.endpoint);
  }
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  if (want != got) {
    // Normal for a moment while the search index catches up; lasting, it means someone else
    // changes the nodes' attributes.
    spdlog::info("chef_search.differs cluster={} searched={} in_service={}", lb.cluster,
                 got.size(), want.size());
  }
  Applied applied;
  if (m_render) {
    TRY_ASSIGN(applied, m_render->apply(lb, found));
  }
  applied.rejected.insert(applied.rejected.end(), rejected.begin(), rejected.end());
  return applied;
}

core::Result<std::vector<core::Endpoint>> ChefSearchBalancer::current(const core::InstanceRef& lb)
{
  if (m_render) {
    return m_render->current(lb);
  }
  // What the LB server's next chef-client run renders.
  TRY_ASSIGN(const auto searched, search(lb.cluster));
  std::vector<core::Endpoint> out;
  for (const auto& b : searched.first) {
    out.push_back(b.endpoint);
  }
  return out;
}

std::string ChefSearchBalancer::health_path() const
{
  return m_render ? m_render->health_path() : std::string(local::k_status_path);
}

} // namespace lb
