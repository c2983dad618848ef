// The local bootstrapper: writes the instance's nginx.conf (web page and stub_status, or the LB
// proxy) into the local provider's directory and starts nginx there.
#pragma once

#include "cm/bootstrapper.hpp"
#include "core/clock.hpp"
#include "core/endpoint.hpp"

namespace cm {

// Return `instance`'s address (core::Endpoint); an internal error when it is none.
core::Result<core::Endpoint> instance_endpoint(const core::InstanceRef& instance);

class LocalBootstrapper final : public Bootstrapper
{
public:
  LocalBootstrapper(std::string root, std::string nginx, int worker_connections,
                    core::Clock& clock);

  core::Result<std::string> user_data(const core::InstanceRef& instance) override;
  core::Result<bool> bootstrap(const core::InstanceRef& instance) override;
  core::Result<bool> running(const core::InstanceRef& instance) override;
  core::Result<void> set_in_service(const core::InstanceRef& instance, bool in_service) override;
  core::Result<void> decommission(const core::InstanceRef& instance) override;

private:
  std::string m_root;
  std::string m_nginx;
  int m_worker_connections;
  core::Clock& m_clock;
};

} // namespace cm
