// What a driver (provider, bootstrapper, balancer, metrics source) needs to know of an instance.
#pragma once

#include "core/role.hpp"

#include <string>

namespace core {

struct InstanceRef
{
  std::string cluster;
  std::string name;      // deterministic: <cluster>-<role>-<serial>
  Role role = Role::web;
  std::string address;   // host:port, empty until the provider reports one
  std::string cloud_id;  // the provider's id
};

} // namespace core
