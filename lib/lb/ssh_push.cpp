#include "lb/ssh_push.hpp"

#include "core/log.hpp"
#include "local/nginx.hpp"

#include <spdlog/spdlog.h>

namespace lb {

core::Result<Applied> SshPushBalancer::apply(const core::InstanceRef& lb,
                                             const std::vector<Backend>& backends)
{
  std::vector<core::Endpoint> addresses;
  for (const auto& b : backends) {
    addresses.push_back(b.endpoint);
  }
  TRY_ASSIGN(const auto before, current(lb));
  if (before == addresses) {
    return Applied{};
  }
  // Rendered from parsed endpoints only; the server checks each line again before nginx does.
  TRY(m_channel.request(lb, "apply", local::render_upstream(addresses)));
  spdlog::info("lb.pushed lb={} backends={}", lb.name, addresses.size());
  return Applied{};
}

core::Result<std::vector<core::Endpoint>> SshPushBalancer::current(const core::InstanceRef& lb)
{
  TRY_ASSIGN(const auto text, m_channel.request(lb, "show"));
  return local::parse_upstream(text);
}

std::string SshPushBalancer::health_path() const
{
  return std::string(local::k_status_path);
}

} // namespace lb
