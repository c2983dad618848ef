#include "lb/chef_search.hpp"

#include "cm/chef_nodes.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace lb {

ChefSearchBalancer::ChefSearchBalancer(cm::ChefClient& chef, std::string web_role,
                                       Balancer& render)
  : m_chef(chef), m_web_role(std::move(web_role)), m_render(render)
{
}

core::Result<void> ChefSearchBalancer::apply(const core::InstanceRef& lb,
                                             const std::vector<core::InstanceRef>& backends)
{
  const auto query = cm::chef_search_query(m_web_role, lb.cluster);
  TRY_ASSIGN(const auto nodes, m_chef.search_nodes(query));
  std::vector<core::InstanceRef> found;
  for (const auto& node : nodes) {
    const auto address = cm::chef_node_address(node);
    if (address.empty()) {
      continue;  // not registered yet: no address to forward to
    }
    core::InstanceRef ref;
    ref.cluster = lb.cluster;
    ref.name = cm::chef_node_name(node);
    ref.role = "web";
    ref.address = address;
    found.push_back(std::move(ref));
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<std::string> want;
  std::vector<std::string> got;
  for (const auto& b : backends) {
    want.push_back(b.address);
  }
  for (const auto& f : found) {
    got.push_back(f.address);
  }
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  if (want != got) {
    // Normal for a moment while the search index catches up; lasting, it means someone else
    // changes the nodes' attributes.
    spdlog::info("chef_search.differs cluster={} searched={} in_service={}", lb.cluster,
                 got.size(), want.size());
  }
  return m_render.apply(lb, found);
}

core::Result<std::vector<std::string>> ChefSearchBalancer::current(const core::InstanceRef& lb)
{
  return m_render.current(lb);
}

std::string ChefSearchBalancer::health_path() const
{
  return m_render.health_path();
}

} // namespace lb
