// The nginx balancer: the upstream list is rendered to conf/upstream.conf, checked with
// `nginx -t`, swapped atomically and applied with a graceful reload (HUP to the master);
// conf/upstream.applied then records what the running nginx forwards to.
#pragma once

#include "core/clock.hpp"
#include "lb/balancer.hpp"

namespace lb {

class NginxBalancer final : public Balancer
{
public:
  // `root` holds one directory per LB instance (the local provider's layout).
  NginxBalancer(std::string root, std::string nginx, core::Clock& clock);

  core::Result<Applied> apply(const core::InstanceRef& lb,
                              const std::vector<Backend>& backends) override;
  core::Result<std::vector<core::Endpoint>> current(const core::InstanceRef& lb) override;
  std::string health_path() const override;

private:
  std::string m_root;
  std::string m_nginx;
  core::Clock& m_clock;
};

} // namespace lb
