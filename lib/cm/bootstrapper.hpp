// Configuration management: what turns a booted server into a web server or an LB.
// One interface, one implementation per tool (local, chef, cloud-init).
#pragma once

#include "core/instance_ref.hpp"
#include "core/result.hpp"

#include <string>

namespace cm {

class Bootstrapper
{
public:
  virtual ~Bootstrapper() = default;
  // Return the user data the provider passes to the new server (may be empty).
  virtual core::Result<std::string> user_data(const core::InstanceRef& instance) = 0;
  // Configure the server, or check on a configuration under way; return true once converged.
  virtual core::Result<bool> bootstrap(const core::InstanceRef& instance) = 0;
  // Return true if the configured service still runs (a crashed service is false).
  virtual core::Result<bool> running(const core::InstanceRef& instance) = 0;
  // Say whether the instance may receive traffic (a Chef attribute); may do nothing.
  virtual core::Result<void> set_in_service(const core::InstanceRef& instance, bool in_service) = 0;
  // Remove what bootstrap registered (a Chef node and client); absent is success.
  virtual core::Result<void> decommission(const core::InstanceRef& instance) = 0;
};

} // namespace cm
