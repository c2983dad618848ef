// The chef bootstrapper: one Chef environment per cluster, one Chef client and node per
// instance (validatorless: the API returns the client key, passed to
// the VM as cloud-init user data), membership as the node attribute normal.sclman.in_service.
#pragma once

#include "cm/bootstrapper.hpp"
#include "cm/chef_client.hpp"
#include "cm/chef_nodes.hpp"
#include "cm/cloud_init.hpp"
#include "core/clock.hpp"
#include "cm/chef_config.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cm {

// Return the run list items of a [CHEF] *_run_list value ("role[web], recipe[x]").
std::vector<std::string> parse_run_list(std::string_view text);

// Return the roles named in a run list ("role[web]" -> "web").
std::vector<std::string> roles_of(const std::vector<std::string>& run_list);

struct ChefBootstrapperSettings
{
  std::vector<std::string> lb_run_list;
  std::vector<std::string> web_run_list;
  int drain_seconds = 30;
  int register_timeout = 600;
  std::string validation_name;  // optional, with validation_key
  std::string validation_key;   // PEM
};

// Return the settings from [CHEF], reading the validation key if one is configured.
core::Result<ChefBootstrapperSettings> chef_settings(const ChefConfig& config);

class ChefBootstrapper final : public Bootstrapper
{
public:
  // `local`, if set, starts the service on the local provider, where no chef-client runs:
  // sclman then registers the node itself (automatic.ipaddress, normal.sclman.port).
  ChefBootstrapper(ChefClient& chef,
                   core::Clock& clock,
                   ChefBootstrapperSettings settings,
                   Bootstrapper* local);

  core::Result<std::string> user_data(const core::InstanceRef& instance) override;
  core::Result<bool> bootstrap(const core::InstanceRef& instance) override;
  core::Result<bool> running(const core::InstanceRef& instance) override;
  core::Result<void> set_in_service(const core::InstanceRef& instance, bool in_service) override;
  core::Result<void> decommission(const core::InstanceRef& instance) override;
  core::Result<void> prepare_cluster(const std::string& cluster) override;
  core::Result<void> retire_cluster(const std::string& cluster) override;
  int drain_seconds() const override { return m_settings.drain_seconds; }
  core::Result<int> remove_orphans(const std::string& cluster,
                                   const std::set<std::string>& live) override;
  core::Result<std::optional<std::string>>
  registration_overdue(const core::InstanceRef& instance) override;

  // Return the role web nodes are searched by (the first role of web_run_list).
  std::string web_role() const;

private:
  // GET /nodes/NAME: nothing on 404, an error if the answer is not a JSON object.
  core::Result<std::optional<nlohmann::json>> get_node(const std::string& name);
  core::Result<nlohmann::json> ensure_node(const core::InstanceRef& instance);
  core::Result<std::string> ensure_client_key(const core::InstanceRef& instance);

  ChefClient& m_chef;
  core::Clock& m_clock;
  ChefBootstrapperSettings m_settings;
  Bootstrapper* m_local;
  std::set<std::string> m_prepared;
};

} // namespace cm
