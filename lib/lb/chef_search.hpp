// The chef-search balancer: the LB forwards to what a Chef search returns, as the LB VM's
// chef-client would render it (etc/chef/recipes/lb_upstream.rb): the nodes of role web in the
// cluster's environment with normal.sclman.in_service true. On the local provider the list is
// rendered into the LB's nginx by the nginx balancer.
#pragma once

#include "cm/chef_client.hpp"
#include "lb/balancer.hpp"

namespace lb {

class ChefSearchBalancer final : public Balancer
{
public:
  // `render` applies the searched list to the LB (the nginx balancer on the local provider).
  ChefSearchBalancer(cm::ChefClient& chef, std::string web_role, Balancer& render);

  // Apply the search result; `backends` (sclman's own view) is only compared with it. A found
  // node whose address does not parse is left out and returned as rejected.
  core::Result<Applied> apply(const core::InstanceRef& lb,
                              const std::vector<Backend>& backends) override;
  core::Result<std::vector<core::Endpoint>> current(const core::InstanceRef& lb) override;
  // Return the rendering balancer's: the LB is what it renders into.
  std::string health_path() const override;

private:
  cm::ChefClient& m_chef;
  std::string m_web_role;
  Balancer& m_render;
};

} // namespace lb
