// [LOCAL] nginx: the binary the local provider, bootstrapper and balancer run.
#pragma once

#include "core/config.hpp"

#include <string>
#include <vector>

namespace local {

struct NginxConfig
{
  std::string nginx = "/usr/sbin/nginx";  // the nginx binary for web instances and the LB
};

// Return the keys of [LOCAL] that name nginx.
std::vector<core::KeyDef> nginx_keys();

} // namespace local
