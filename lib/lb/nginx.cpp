#include "lb/nginx.hpp"

#include "core/failpoint.hpp"
#include "core/file.hpp"
#include "core/log.hpp"
#include "local/instance_dir.hpp"
#include "local/nginx.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace lb {

NginxBalancer::NginxBalancer(std::string root, std::string nginx, core::Clock& clock)
  : m_root(std::move(root)), m_nginx(std::move(nginx)), m_clock(clock)
{
}

core::Result<Applied> NginxBalancer::apply(const core::InstanceRef& lb,
                                           const std::vector<Backend>& backends)
{
  TRY_ASSIGN(const auto dir, local::instance_dir(m_root, lb.name));
  local::Nginx nginx(m_nginx, dir, m_clock);
  std::vector<core::Endpoint> addresses;
  for (const auto& b : backends) {
    addresses.push_back(b.endpoint);
  }
  const auto conf_dir = nginx.prefix() + "/conf";
  const auto live = conf_dir + "/upstream.conf";
  const auto rendered = local::render_upstream(addresses);
  // upstream.applied holds the list the running nginx has loaded: a run that died between
  // swapping the file and the reload left the two apart, and the next apply reloads.
  const auto applied = conf_dir + "/upstream.applied";
  TRY_ASSIGN(const auto before, current(lb));
  if (before == addresses && nginx.running_pid()) {
    return Applied{};
  }
  // Check the whole config with the new list before it goes live: nginx -t on a copy of
  // nginx.conf that includes the candidate file.
  const auto candidate = conf_dir + "/upstream.conf.new";
  TRY(core::write_file_atomic(candidate, rendered));
  auto text = core::read_file(nginx.conf_path()).value_or(std::string());
  const std::string include = "include upstream.conf;";
  if (const auto at = text.find(include); at != std::string::npos) {
    text.replace(at, include.size(), "include upstream.conf.new;");
  }
  const auto test_conf = conf_dir + "/nginx.test.conf";
  TRY(core::write_file_atomic(test_conf, text));
  if (auto r = nginx.test(test_conf); !r) {
    // The running config and upstream.conf stay as they are.
    std::remove(candidate.c_str());
    spdlog::error("lb.config_rejected cluster={} lb={} error={}", lb.cluster, lb.name,
                  core::log_quote(r.error().message));
    return core::fail(r.error());
  }
  if (std::rename(candidate.c_str(), live.c_str()) != 0) {
    return core::fail(core::ErrorKind::state, fmt::format("cannot replace '{}'", live));
  }
  SCLMAN_FAILPOINT("lb_reload.before");
  TRY(nginx.reload());
  TRY(core::write_file_atomic(applied, rendered));
  spdlog::info("lb.reloaded lb={} backends={}", lb.name, addresses.size());
  return Applied{};
}

core::Result<std::vector<core::Endpoint>> NginxBalancer::current(const core::InstanceRef& lb)
{
  TRY_ASSIGN(const auto dir, local::instance_dir(m_root, lb.name));
  const auto applied = core::read_file(dir + "/conf/upstream.applied");
  return local::parse_upstream(applied.value_or(std::string()));
}

std::string NginxBalancer::health_path() const
{
  return std::string(local::k_status_path);
}

} // namespace lb
