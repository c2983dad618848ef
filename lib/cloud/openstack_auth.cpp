#include "cloud/openstack_auth.hpp"

#include "core/file.hpp"
#include "core/log.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace cloud::openstack {

using core::ErrorKind;
using core::fail;

namespace {

std::string scalar(const YAML::Node& node, const char* key)
{
  const auto v = node[key];
  if (!v || !v.IsScalar()) {
    return {};
  }
  return v.as<std::string>();
}

void set_if(std::string& field, std::string value)
{
  if (!value.empty()) {
    field = std::move(value);
  }
}

core::Result<void> check(const Credentials& c)
{
  auto missing = [&](const char* what) {
    return fail(ErrorKind::config,
                fmt::format("openstack credentials from {} lack {}", c.source, what));
  };
  if (c.auth_url.empty()) {
    return missing("auth_url");
  }
  if (c.auth_type == "v3applicationcredential") {
    if (c.application_credential_secret.empty()) {
      return missing("application_credential_secret");
    }
    if (c.application_credential_id.empty()
        && (c.application_credential_name.empty()
            || (c.username.empty() && c.user_id.empty()))) {
      return missing("application_credential_id (or its name and the user)");
    }
    return {};
  }
  if (c.auth_type == "token") {
    if (c.token.empty()) {
      return missing("token");
    }
    if (c.project_name.empty() && c.project_id.empty()) {
      return missing("project_name");
    }
    return {};
  }
  if (c.auth_type != "password") {
    return fail(ErrorKind::config,
                fmt::format("unsupported openstack auth_type '{}' in {}: password, "
                            "v3applicationcredential or token",
                            c.auth_type, c.source));
  }
  if (c.username.empty() && c.user_id.empty()) {
    return missing("username");
  }
  if (c.password.empty()) {
    return missing("password");
  }
  if (c.project_name.empty() && c.project_id.empty()) {
    return missing("project_name");
  }
  return {};
}

std::string versioned(std::string url)
{
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  if (url.size() < 3 || url.substr(url.size() - 3) != "/v3") {
    url += "/v3";
  }
  return url;
}

// openstacksdk's names for the token plugin: both are Keystone v3's token method.
std::string canonical_auth_type(std::string type)
{
  return type == "v3token" ? std::string("token") : type;
}

// Return mapping `from` merged into a copy of mapping `into`, key by key (mappings in both
// merged the same way), the values of `from` winning: what openstacksdk does with secure.yaml.
YAML::Node merged(const YAML::Node& into, const YAML::Node& from)
{
  YAML::Node out = YAML::Clone(into);
  for (const auto& kv : from) {
    const auto key = kv.first.as<std::string>();
    if (kv.second.IsMap() && out[key] && out[key].IsMap()) {
      out[key] = merged(out[key], kv.second);
    } else {
      out[key] = YAML::Clone(kv.second);
    }
  }
  return out;
}

// Return `root`'s clouds mapping, or an error naming `origin`.
core::Result<YAML::Node> clouds_of(const YAML::Node& root, const std::string& origin)
{
  const auto clouds = root["clouds"];
  if (!clouds || !clouds.IsMap()) {
    return fail(ErrorKind::config, fmt::format("{}: no 'clouds' mapping", origin));
  }
  return clouds;
}

// Return the boolean `key` of `entry` (true/false, yes/no), nothing if absent.
core::Result<std::optional<bool>> boolean(const YAML::Node& entry, const char* key,
                                          const std::string& where)
{
  const auto v = entry[key];
  if (!v) {
    return std::optional<bool>{};
  }
  try {
    if (v.IsScalar()) {
      return std::optional<bool>{v.as<bool>()};
    }
  } catch (const YAML::Exception&) {
  }
  return fail(ErrorKind::config, fmt::format("{}: '{}' must be true or false", where, key));
}

} // namespace

core::Result<std::optional<Credentials>>
parse_clouds_yaml(std::string_view text, const std::string& cloud, const std::string& origin,
                  const std::optional<SecureYaml>& secure)
{
  try {
    const auto root = YAML::Load(std::string(text));
    TRY_ASSIGN(const auto clouds, clouds_of(root, origin));
    auto entry = clouds[cloud];
    if (!entry) {
      return std::optional<Credentials>{};
    }
    if (!entry.IsMap()) {
      return fail(ErrorKind::config, fmt::format("{}: cloud '{}' is not a mapping", origin, cloud));
    }
    Credentials c;
    c.source = fmt::format("clouds.yaml cloud '{}' in '{}'", cloud, origin);
    if (secure) {
      const auto secure_root = YAML::Load(secure->text);
      TRY_ASSIGN(const auto secure_clouds, clouds_of(secure_root, secure->origin));
      const auto secret = secure_clouds[cloud];
      if (secret && !secret.IsMap()) {
        return fail(ErrorKind::config,
                    fmt::format("{}: cloud '{}' is not a mapping", secure->origin, cloud));
      }
      if (secret) {
        entry = merged(entry, secret);
        c.source += fmt::format(" with '{}'", secure->origin);
      }
    }
    c.cloud = cloud;
    set_if(c.auth_type, canonical_auth_type(scalar(entry, "auth_type")));
    c.cacert = scalar(entry, "cacert");
    c.cert = scalar(entry, "cert");
    c.key = scalar(entry, "key");
    TRY_ASSIGN(c.verify, boolean(entry, "verify", c.source));
    TRY_ASSIGN(const auto insecure, boolean(entry, "insecure", c.source));
    if (insecure && !c.verify) {
      c.verify = !*insecure;
    }
    set_if(c.region_name, scalar(entry, "region_name"));
    set_if(c.interface, scalar(entry, "interface"));
    const auto auth = entry["auth"];
    if (auth && auth.IsMap()) {
      c.auth_url = scalar(auth, "auth_url");
      c.username = scalar(auth, "username");
      c.user_id = scalar(auth, "user_id");
      c.password = scalar(auth, "password");
      c.user_domain_name = scalar(auth, "user_domain_name");
      c.user_domain_id = scalar(auth, "user_domain_id");
      c.project_name = scalar(auth, "project_name");
      set_if(c.project_name, scalar(auth, "tenant_name"));
      c.project_id = scalar(auth, "project_id");
      c.project_domain_name = scalar(auth, "project_domain_name");
      c.project_domain_id = scalar(auth, "project_domain_id");
      c.application_credential_id = scalar(auth, "application_credential_id");
      c.application_credential_name = scalar(auth, "application_credential_name");
      c.application_credential_secret = scalar(auth, "application_credential_secret");
      c.token = scalar(auth, "token");
      const auto domain = scalar(auth, "domain_name");
      if (c.user_domain_name.empty() && c.user_domain_id.empty()) {
        c.user_domain_name = domain;
      }
      if (c.project_domain_name.empty() && c.project_domain_id.empty()) {
        c.project_domain_name = domain;
      }
    }
    return std::optional<Credentials>{c};
  } catch (const YAML::Exception& e) {
    return fail(ErrorKind::config, fmt::format("{}: malformed YAML: {}", origin, e.what()));
  }
}

std::vector<std::string> clouds_yaml_paths(const Getenv& getenv)
{
  std::vector<std::string> out;
  if (const char* f = getenv("OS_CLIENT_CONFIG_FILE"); f && *f) {
    out.emplace_back(f);
  }
  out.emplace_back("clouds.yaml");
  if (const char* xdg = getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    out.push_back(std::string(xdg) + "/openstack/clouds.yaml");
  } else if (const char* home = getenv("HOME"); home && *home) {
    out.push_back(std::string(home) + "/.config/openstack/clouds.yaml");
  }
  out.emplace_back("/etc/openstack/clouds.yaml");
  return out;
}

std::vector<std::string> secure_yaml_paths(const Getenv& getenv)
{
  std::vector<std::string> out;
  if (const char* f = getenv("OS_CLIENT_SECURE_FILE"); f && *f) {
    out.emplace_back(f);
  }
  auto rest = clouds_yaml_paths([&](const char* name) -> const char* {
    return std::string_view(name) == "OS_CLIENT_CONFIG_FILE" ? nullptr : getenv(name);
  });
  for (auto& path : rest) {
    path.replace(path.size() - std::string_view("clouds.yaml").size(), std::string::npos,
                 "secure.yaml");
    out.push_back(std::move(path));
  }
  return out;
}

Credentials credentials_from_env(const Getenv& getenv)
{
  auto env = [&](const char* name) {
    const char* v = getenv(name);
    return std::string(v ? v : "");
  };
  Credentials c;
  c.source = "the OS_* environment variables";
  c.auth_url = env("OS_AUTH_URL");
  set_if(c.auth_type, env("OS_AUTH_TYPE"));
  c.username = env("OS_USERNAME");
  c.user_id = env("OS_USER_ID");
  c.password = env("OS_PASSWORD");
  c.user_domain_name = env("OS_USER_DOMAIN_NAME");
  c.user_domain_id = env("OS_USER_DOMAIN_ID");
  c.project_name = env("OS_PROJECT_NAME");
  set_if(c.project_name, env("OS_TENANT_NAME"));
  c.project_id = env("OS_PROJECT_ID");
  c.project_domain_name = env("OS_PROJECT_DOMAIN_NAME");
  c.project_domain_id = env("OS_PROJECT_DOMAIN_ID");
  c.application_credential_id = env("OS_APPLICATION_CREDENTIAL_ID");
  c.application_credential_name = env("OS_APPLICATION_CREDENTIAL_NAME");
  c.application_credential_secret = env("OS_APPLICATION_CREDENTIAL_SECRET");
  c.token = env("OS_TOKEN");
  c.auth_type = canonical_auth_type(c.auth_type);
  c.region_name = env("OS_REGION_NAME");
  set_if(c.interface, env("OS_INTERFACE"));
  if (c.interface == "publicURL") {
    c.interface = "public";
  } else if (c.interface == "internalURL") {
    c.interface = "internal";
  } else if (c.interface == "adminURL") {
    c.interface = "admin";
  }
  return c;
}

namespace {

// Fill the TLS settings `c` lacks from OS_CACERT, OS_CERT, OS_KEY and OS_INSECURE, as the
// openstack client does.
core::Result<void> tls_from_env(Credentials& c, const Getenv& getenv)
{
  auto env = [&](const char* name) {
    const char* v = getenv(name);
    return std::string(v ? v : "");
  };
  if (c.cacert.empty()) {
    c.cacert = env("OS_CACERT");
  }
  if (c.cert.empty()) {
    c.cert = env("OS_CERT");
  }
  if (c.key.empty()) {
    c.key = env("OS_KEY");
  }
  if (!c.verify) {
    const auto insecure = env("OS_INSECURE");
    if (insecure == "true" || insecure == "True" || insecure == "1" || insecure == "yes") {
      c.verify = false;
    } else if (!insecure.empty() && insecure != "false" && insecure != "False"
               && insecure != "0" && insecure != "no") {
      return fail(ErrorKind::config,
                  fmt::format("OS_INSECURE '{}' must be true or false", core::printable(insecure, 20)));
    }
  }
  return {};
}

// Return the first secure.yaml that exists, checked like the config (it holds passwords).
core::Result<std::optional<SecureYaml>> find_secure_yaml(const Getenv& getenv, core::Perms perms)
{
  for (const auto& path : secure_yaml_paths(getenv)) {
    const auto text = core::read_file(path);
    if (!text) {
      continue;
    }
    TRY(core::check_file_mode(path, "secure.yaml", 027, perms));
    return std::optional<SecureYaml>{SecureYaml{*text, path}};
  }
  return std::optional<SecureYaml>{};
}

} // namespace

core::Result<Credentials> resolve_credentials(const cloud::OpenStackConfig& config,
                                              const std::string& os_cloud,
                                              const Getenv& getenv,
                                              core::Perms perms)
{
  std::string cloud = os_cloud;
  if (cloud.empty()) {
    if (const char* e = getenv("OS_CLOUD"); e && *e) {
      cloud = e;
    }
  }
  if (cloud.empty()) {
    cloud = config.cloud;
  }
  if (!cloud.empty()) {
    std::vector<std::string> looked;
    TRY_ASSIGN(const auto secure, find_secure_yaml(getenv, perms));
    for (const auto& path : clouds_yaml_paths(getenv)) {
      const auto text = core::read_file(path);
      if (!text) {
        continue;
      }
      looked.push_back(path);
      TRY_ASSIGN(auto found, parse_clouds_yaml(*text, cloud, path, secure));
      if (found) {
        // OS_PASSWORD fills a clouds.yaml that leaves the password out (as openstacksdk does).
        if (found->password.empty()) {
          if (const char* p = getenv("OS_PASSWORD"); p && *p) {
            found->password = p;
          }
        }
        TRY(tls_from_env(*found, getenv));
        TRY(check(*found));
        return *found;
      }
    }
    return fail(ErrorKind::config,
                fmt::format("no cloud '{}' in clouds.yaml (looked in: {})", cloud,
                            looked.empty() ? std::string("no clouds.yaml found")
                                           : fmt::format("{}", fmt::join(looked, ", "))));
  }
  if (const char* url = getenv("OS_AUTH_URL"); url && *url) {
    auto c = credentials_from_env(getenv);
    TRY(tls_from_env(c, getenv));
    TRY(check(c));
    return c;
  }
  Credentials c;
  c.source = "[OPENSTACK] in the config file";
  c.auth_url = config.auth_url;
  c.auth_type = config.auth_type;
  c.username = config.username;
  c.password = config.password;
  c.user_domain_name = config.user_domain_name;
  c.project_name = config.project_name;
  c.project_domain_name = config.project_domain_name;
  c.application_credential_id = config.application_credential_id;
  c.application_credential_secret = config.application_credential_secret;
  c.region_name = config.region_name;
  c.interface = config.interface;
  TRY(tls_from_env(c, getenv));
  TRY(check(c));
  return c;
}

std::string auth_request_body(const Credentials& c)
{
  using nlohmann::json;
  auto domain = [](const std::string& id, const std::string& name) {
    if (!id.empty()) {
      return json{{"id", id}};
    }
    return json{{"name", name.empty() ? std::string("Default") : name}};
  };
  json identity;
  if (c.auth_type == "v3applicationcredential") {
    json cred{{"secret", c.application_credential_secret}};
    if (!c.application_credential_id.empty()) {
      cred["id"] = c.application_credential_id;
    } else {
      cred["name"] = c.application_credential_name;
      cred["user"] = c.user_id.empty()
                       ? json{{"name", c.username},
                              {"domain", domain(c.user_domain_id, c.user_domain_name)}}
                       : json{{"id", c.user_id}};
    }
    identity = json{{"methods", {"application_credential"}}, {"application_credential", cred}};
    // An application credential is bound to its project: no scope may be given.
    return json{{"auth", {{"identity", identity}}}}.dump();
  }
  json project;
  if (!c.project_id.empty()) {
    project = json{{"id", c.project_id}};
  } else {
    project = json{{"name", c.project_name},
                   {"domain", domain(c.project_domain_id, c.project_domain_name)}};
  }
  if (c.auth_type == "token") {
    // A new token for the project from the one given (Keystone's token method).
    identity = json{{"methods", {"token"}}, {"token", {{"id", c.token}}}};
    return json{{"auth", {{"identity", identity}, {"scope", {{"project", project}}}}}}.dump();
  }
  json user{{"password", c.password}};
  if (!c.user_id.empty()) {
    user["id"] = c.user_id;
  } else {
    user["name"] = c.username;
    user["domain"] = domain(c.user_domain_id, c.user_domain_name);
  }
  identity = json{{"methods", {"password"}}, {"password", {{"user", user}}}};
  return json{{"auth", {{"identity", identity}, {"scope", {{"project", project}}}}}}.dump();
}

std::string pinned_auth_url(const Credentials& c)
{
  return versioned(c.auth_url);
}

std::string pinned_project(const Credentials& c)
{
  if (c.auth_type == "v3applicationcredential") {
    return "application_credential:"
           + (c.application_credential_id.empty()
                ? (c.user_id.empty() ? c.username : c.user_id) + "/"
                    + c.application_credential_name
                : c.application_credential_id);
  }
  if (!c.project_id.empty()) {
    return "id:" + c.project_id;
  }
  const auto& domain = c.project_domain_id.empty() ? c.project_domain_name : c.project_domain_id;
  return (domain.empty() ? std::string("Default") : domain) + "/" + c.project_name;
}

std::string identity_key(const Credentials& c)
{
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", versioned(c.auth_url), c.auth_type,
                     c.username + c.user_id, c.user_domain_name + c.user_domain_id,
                     c.project_name + c.project_id, c.project_domain_name + c.project_domain_id,
                     c.application_credential_id + c.application_credential_name, c.region_name);
}

} // namespace cloud::openstack
