// OpenStack credentials the way users keep them: clouds.yaml (OS_CLIENT_CONFIG_FILE, ./,
// ~/.config/openstack/, /etc/openstack/), the OS_* variables of an openrc file, and
// [OPENSTACK] in sclman.conf. Pure except for reading the files named.
#pragma once

#include "cloud/openstack_config.hpp"
#include "core/result.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cloud::openstack {

struct Credentials
{
  std::string auth_url;
  std::string auth_type = "password";  // password or v3applicationcredential
  std::string username;
  std::string user_id;
  std::string password;
  std::string user_domain_name;
  std::string user_domain_id;
  std::string project_name;
  std::string project_id;
  std::string project_domain_name;
  std::string project_domain_id;
  std::string application_credential_id;
  std::string application_credential_name;
  std::string application_credential_secret;
  std::string region_name;
  std::string interface = "public";
  std::string source;  // where they came from, for messages ("clouds.yaml 'x' in FILE")
  std::string cloud;   // the clouds.yaml cloud they came from, or "" (OS_*, [OPENSTACK])
};

using Getenv = std::function<const char*(const char*)>;

// Return the cloud `cloud` of clouds.yaml `text`, or nothing when the file has no such
// cloud; `origin` names the file in errors.
core::Result<std::optional<Credentials>>
parse_clouds_yaml(std::string_view text, const std::string& cloud, const std::string& origin);

// Return the clouds.yaml files looked at, in order: $OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
// $XDG_CONFIG_HOME/openstack (or ~/.config/openstack), /etc/openstack.
std::vector<std::string> clouds_yaml_paths(const Getenv& getenv);

// Return the credentials of the OS_* variables (empty auth_url when OS_AUTH_URL is unset).
Credentials credentials_from_env(const Getenv& getenv);

// Return the credentials to use: the clouds.yaml cloud named by `os_cloud` (--os-cloud), else
// $OS_CLOUD, else [OPENSTACK] cloud; else the OS_* variables when OS_AUTH_URL is set; else the
// [OPENSTACK] keys. Check that what the auth type needs is there.
core::Result<Credentials> resolve_credentials(const cloud::OpenStackConfig& config,
                                              const std::string& os_cloud,
                                              const Getenv& getenv);

// Return the body of POST /v3/auth/tokens for `c` (project scope for password auth).
std::string auth_request_body(const Credentials& c);

// Return the Keystone URL of `c` as a cluster records it (no trailing slash, with /v3).
std::string pinned_auth_url(const Credentials& c);

// Return the project of `c` as a cluster records it: "id:ID", "DOMAIN/NAME" or, for an
// application credential (bound to its project), "application_credential:ID or USER/NAME".
std::string pinned_project(const Credentials& c);

// Return a key that changes when the identity of `c` changes (for the token cache); holds no
// secret.
std::string identity_key(const Credentials& c);

} // namespace cloud::openstack
