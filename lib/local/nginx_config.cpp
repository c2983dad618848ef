#include "local/nginx_config.hpp"

namespace local {

std::vector<core::KeyDef> nginx_keys()
{
  return {{"LOCAL", "nginx", core::path(&NginxConfig::nginx)}};
}

} // namespace local
