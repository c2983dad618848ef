// The load balancer's membership. One interface, one implementation per kind (nginx, haproxy,
// chef-search).
#pragma once

#include "core/instance_ref.hpp"
#include "core/result.hpp"

#include <string>
#include <vector>

namespace lb {

class Balancer
{
public:
  virtual ~Balancer() = default;
  // Make the LB forward to exactly `backends`, applied gracefully (no request lost).
  virtual core::Result<void> apply(const core::InstanceRef& lb,
                                   const std::vector<core::InstanceRef>& backends) = 0;
  // Return the addresses the LB forwards to now.
  virtual core::Result<std::vector<std::string>> current(const core::InstanceRef& lb) = 0;
  // Return the path on the LB's address that answers 200 once the LB serves ("/status").
  virtual std::string health_path() const = 0;
};

} // namespace lb
