// The chef-search balancer: the LB forwards to what a Chef search returns, as the LB VM's
// chef-client would render it (etc/chef/recipes/lb_upstream.rb): the nodes of role web in the
// cluster's environment with normal.sclman.in_service true. On the local provider (and for an
// OpenStack LB's stand-in) the list is rendered into the LB's nginx by the nginx balancer; for
// the `server` balancer the LB server's own chef-client renders it, and sclman only searches.
#pragma once

#include "cm/chef_client.hpp"
#include "lb/balancer.hpp"

namespace lb {

class ChefSearchBalancer final : public Balancer
{
public:
  // `render` applies the searched list to the LB (the nginx balancer on this host); nullptr when
  // the LB renders it itself (a Nova LB server's chef-client): apply then only searches, and
  // current() is the search's result.
  ChefSearchBalancer(cm::ChefClient& chef, std::string web_role, Balancer* render);

  // Apply the search result; `backends` (sclman's own view) is only compared with it. A found
  // node whose address does not parse is left out and returned as rejected.
  core::Result<Applied> apply(const core::InstanceRef& lb,
                              const std::vector<Backend>& backends) override;
  core::Result<std::vector<core::Endpoint>> current(const core::InstanceRef& lb) override;
  // Return the rendering balancer's (the LB is what it renders into); for an LB server, the
  // stub_status page the lb role serves (etc/chef/recipes/sclman_upstream.conf.erb).
  std::string health_path() const override;

private:
  // Return the in-service web nodes the search finds, sorted by name, and those whose address
  // does not parse.
  core::Result<std::pair<std::vector<Backend>, std::vector<Rejection>>>
  search(const std::string& cluster);

  cm::ChefClient& m_chef;
  std::string m_web_role;
  Balancer* m_render;
};

} // namespace lb
