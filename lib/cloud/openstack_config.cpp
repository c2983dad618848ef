#include "cloud/openstack_config.hpp"

#include "core/names.hpp"

namespace cloud {

std::vector<core::KeyDef> openstack_keys()
{
  using O = OpenStackConfig;
  return {
    {"OPENSTACK", "cloud", core::text(&O::cloud)},
    {"OPENSTACK", "os_auth_url", core::url(&O::auth_url)},
    {"OPENSTACK", "os_auth_type",
     core::one_of(&O::auth_type, {"password", "v3applicationcredential"})},
    {"OPENSTACK", "os_username", core::text(&O::username)},
    {"OPENSTACK", "os_password", core::secret(&O::password)},
    {"OPENSTACK", "os_user_domain_name", core::text(&O::user_domain_name)},
    {"OPENSTACK", "os_project_name", core::text(&O::project_name)},
    {"OPENSTACK", "os_project_domain_name", core::text(&O::project_domain_name)},
    {"OPENSTACK", "os_application_credential_id", core::text(&O::application_credential_id)},
    {"OPENSTACK", "os_application_credential_secret",
     core::secret(&O::application_credential_secret)},
    {"OPENSTACK", "os_region_name", core::text(&O::region_name)},
    {"OPENSTACK", "os_interface", core::one_of(&O::interface, {"public", "internal", "admin"})},
    {"OPENSTACK", "network", core::text(&O::network)},
    {"OPENSTACK", "floating_network", core::text(&O::floating_network)},
    {"OPENSTACK", "server_group",
     core::one_of(&O::server_group, {"none", "anti-affinity", "soft-anti-affinity"})},
    {"OPENSTACK", "availability_zones",
     core::set_with(&O::availability_zones,
                    [](std::string_view v) -> core::Result<std::vector<std::string>> {
                      auto zones = core::parse_zone_list(v);
                      if (!zones) {
                        return core::fail(core::ErrorKind::config,
                                          "invalid value: " + zones.error().message);
                      }
                      return zones;
                    })},
    {"OPENSTACK", "key_name", core::text(&O::key_name)},
    {"OPENSTACK", "security_groups", core::text(&O::security_groups)},
    {"OPENSTACK", "web_port", core::int_in(&O::web_port, 1, 65535)},
    {"OPENSTACK", "stand_in", core::one_of(&O::stand_in, {"no", "yes"})},
    {"OPENSTACK", "orphan_grace", core::int_in(&O::orphan_grace, 0, 864000)},
    {"OPENSTACK", "request_timeout_ms", core::int_in(&O::request_timeout_ms, 100, 600000)},
    {"OPENSTACK", "token_cache", core::path(&O::token_cache)},
  };
}

} // namespace cloud
