#include "cloud/openstack_auth.hpp"

#include "core/file.hpp"

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
  if (c.auth_type != "password") {
    return fail(ErrorKind::config,
                fmt::format("unsupported openstack auth_type '{}' in {}: password or "
                            "v3applicationcredential",
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

} // namespace

core::Result<std::optional<Credentials>>
parse_clouds_yaml(std::string_view text, const std::string& cloud, const std::string& origin)
{
  try {
    const auto root = YAML::Load(std::string(text));
    const auto clouds = root["clouds"];
    if (!clouds || !clouds.IsMap()) {
      return fail(ErrorKind::config, fmt::format("{}: no 'clouds' mapping", origin));
    }
    const auto entry = clouds[cloud];
    if (!entry) {
      return std::optional<Credentials>{};
    }
    if (!entry.IsMap()) {
      return fail(ErrorKind::config, fmt::format("{}: cloud '{}' is not a mapping", origin, cloud));
    }
    Credentials c;
    c.source = fmt::format("clouds.yaml cloud '{}' in '{}'", cloud, origin);
    c.cloud = cloud;
    set_if(c.auth_type, scalar(entry, "auth_type"));
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

core::Result<Credentials> resolve_credentials(const cloud::OpenStackConfig& config,
                                              const std::string& os_cloud,
                                              const Getenv& getenv)
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
    for (const auto& path : clouds_yaml_paths(getenv)) {
      const auto text = core::read_file(path);
      if (!text) {
        continue;
      }
      looked.push_back(path);
      TRY_ASSIGN(auto found, parse_clouds_yaml(*text, cloud, path));
      if (found) {
        // OS_PASSWORD fills a clouds.yaml that leaves the password out (as openstacksdk does).
        if (found->password.empty()) {
          if (const char* p = getenv("OS_PASSWORD"); p && *p) {
            found->password = p;
          }
        }
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
  json user{{"password", c.password}};
  if (!c.user_id.empty()) {
    user["id"] = c.user_id;
  } else {
    user["name"] = c.username;
    user["domain"] = domain(c.user_domain_id, c.user_domain_name);
  }
  identity = json{{"methods", {"password"}}, {"password", {{"user", user}}}};
  json project;
  if (!c.project_id.empty()) {
    project = json{{"id", c.project_id}};
  } else {
    project = json{{"name", c.project_name},
                   {"domain", domain(c.project_domain_id, c.project_domain_name)}};
  }
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
