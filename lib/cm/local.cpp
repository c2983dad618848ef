#include "cm/local.hpp"

#include "core/file.hpp"
#include "local/instance_dir.hpp"
#include "local/nginx.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace cm {

using core::ErrorKind;
using core::fail;

core::Result<core::Endpoint> instance_endpoint(const core::InstanceRef& instance)
{
  auto parsed = core::Endpoint::parse(instance.address);
  if (!parsed) {
    return fail(ErrorKind::internal, fmt::format("instance '{}' has a {}", instance.name,
                                                 parsed.error().message));
  }
  return parsed;
}

LocalBootstrapper::LocalBootstrapper(std::string root, std::string nginx, int worker_connections,
                                     core::Clock& clock)
  : m_root(std::move(root)),
    m_nginx(std::move(nginx)),
    m_worker_connections(worker_connections),
    m_clock(clock)
{
}

core::Result<std::string> LocalBootstrapper::user_data(const core::InstanceRef&)
{
  return std::string();
}

core::Result<bool> LocalBootstrapper::bootstrap(const core::InstanceRef& instance)
{
  TRY_ASSIGN(const auto dir, local::instance_dir(m_root, instance.name));
  local::Nginx nginx(m_nginx, dir, m_clock);
  if (nginx.running_pid()) {
    return true;
  }
  TRY_ASSIGN(const auto endpoint, instance_endpoint(instance));
  TRY(nginx.make_dirs());
  std::string conf;
  if (instance.role == core::Role::lb) {
    const auto upstream = nginx.prefix() + "/conf/upstream.conf";
    if (!std::filesystem::exists(upstream)) {
      TRY(core::write_file_atomic(upstream, local::render_upstream({})));
    }
    conf = local::render_lb_config(instance.name, endpoint, m_worker_connections);
  } else {
    conf = local::render_web_config(instance.name, endpoint, m_worker_connections);
  }
  TRY(core::write_file_atomic(nginx.conf_path(), conf));
  TRY(nginx.test(nginx.conf_path()));
  TRY_ASSIGN(const pid_t pid, nginx.start());
  spdlog::info("local.nginx_started instance={} role={} pid={} address={}",
               instance.name,
               core::to_string(instance.role),
               pid,
               instance.address);
  return true;
}

core::Result<bool> LocalBootstrapper::running(const core::InstanceRef& instance)
{
  TRY_ASSIGN(const auto dir, local::instance_dir(m_root, instance.name));
  return local::Nginx(m_nginx, dir, m_clock).running_pid().has_value();
}

core::Result<void> LocalBootstrapper::set_in_service(const core::InstanceRef&, bool)
{
  return {};  // the nginx balancer's upstream list is the membership
}

core::Result<void> LocalBootstrapper::decommission(const core::InstanceRef&)
{
  return {};  // nothing registered anywhere: the provider removes the directory
}

} // namespace cm
