// OpenStack credentials the way users keep them: clouds.yaml (OS_CLIENT_CONFIG_FILE, ./,
// ~/.config/openstack/, /etc/openstack/) with the secrets of secure.yaml beside it merged in
// (as openstacksdk does), the OS_* variables of an openrc file, and [OPENSTACK] in sclman.conf.
// Pure except for reading the files named.
#pragma once

#include "cloud/openstack_config.hpp"
#include "core/file.hpp"
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
  std::string auth_type = "password";  // password, v3applicationcredential or token
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
  std::string token;  // auth_type token (or v3token): an existing token, rescoped to the project
  std::string region_name;
  std::string interface = "public";
  std::string source;  // where they came from, for messages ("clouds.yaml 'x' in FILE")
  std::string cloud;   // the clouds.yaml cloud they came from, or "" (OS_*, [OPENSTACK])
  // TLS toward this cloud's endpoints (clouds.yaml cacert, verify or insecure, cert, key;
  // OS_CACERT, OS_INSECURE, OS_CERT, OS_KEY): empty or unset means [TLS] of sclman.conf.
  std::string cacert;          // CA bundle to verify the endpoints with
  std::optional<bool> verify;  // false: no verification (clouds.yaml verify: false)
  std::string cert;            // client certificate (PEM), for endpoints that ask for one
  std::string key;             // its private key (PEM), if not in `cert`
};

using Getenv = std::function<const char*(const char*)>;

// A secure.yaml: its text and the file it came from (for messages).
struct SecureYaml
{
  std::string text;
  std::string origin;
};

// Return the cloud `cloud` of clouds.yaml `text`, or nothing when the file has no such
// cloud; `origin` names the file in errors. The same cloud's entry in `secure` (a
// secure.yaml), if any, is merged into it key by key, its values winning.
core::Result<std::optional<Credentials>>
parse_clouds_yaml(std::string_view text, const std::string& cloud, const std::string& origin,
                  const std::optional<SecureYaml>& secure = std::nullopt);

// Return the clouds.yaml files looked at, in order: $OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
// $XDG_CONFIG_HOME/openstack (or ~/.config/openstack), /etc/openstack.
std::vector<std::string> clouds_yaml_paths(const Getenv& getenv);

// Return the secure.yaml files looked at, in order: $OS_CLIENT_SECURE_FILE, then secure.yaml in
// the directories of clouds_yaml_paths.
std::vector<std::string> secure_yaml_paths(const Getenv& getenv);

// Return the credentials of the OS_* variables (empty auth_url when OS_AUTH_URL is unset).
Credentials credentials_from_env(const Getenv& getenv);

// Return the credentials to use: the clouds.yaml cloud named by `os_cloud` (--os-cloud), else
// $OS_CLOUD, else [OPENSTACK] cloud; else the OS_* variables when OS_AUTH_URL is set; else the
// [OPENSTACK] keys. Check that what the auth type needs is there.
// A secure.yaml that others may read or its group may change is refused (it holds passwords),
// unless `perms` is insecure.
core::Result<Credentials> resolve_credentials(const cloud::OpenStackConfig& config,
                                              const std::string& os_cloud,
                                              const Getenv& getenv,
                                              core::Perms perms = core::Perms::strict);

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
