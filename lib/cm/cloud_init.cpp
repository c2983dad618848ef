#include "cm/cloud_init.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace cm {

using nlohmann::json;

std::string yaml_string(const std::string& s)
{
  return json(s).dump();
}

void yaml_block(std::string& out, const std::string& indent, const std::string& text)
{
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    out += indent + line + "\n";
  }
}

std::string render_chef_user_data(const ChefUserData& d)
{
  std::string out = "#cloud-config\n";
  out += fmt::format("# sclman: Chef node '{}' of cluster '{}' ({}). The first chef-client run\n"
                     "# registers as that node; this document holds a private key.\n",
                     d.node_name,
                     d.cluster,
                     d.role);
  if (!d.client_key.empty()) {
    out += "write_files:\n";
    out += "  - path: /etc/chef/client.pem\n";
    out += "    owner: root:root\n";
    out += "    permissions: '0600'\n";
    out += "    content: |\n";
    yaml_block(out, "      ", d.client_key);
  }
  out += "chef:\n";
  out += "  install_type: omnibus\n";
  out += "  force_install: false\n";
  out += "  server_url: " + yaml_string(d.server_url) + "\n";
  out += "  node_name: " + yaml_string(d.node_name) + "\n";
  out += "  environment: " + yaml_string(d.environment) + "\n";
  if (!d.validation_name.empty()) {
    out += "  validation_name: " + yaml_string(d.validation_name) + "\n";
    out += "  validation_cert: |\n";
    yaml_block(out, "    ", d.validation_key);
  }
  out += "  run_list:\n";
  for (const auto& item : d.run_list) {
    out += "    - " + yaml_string(item) + "\n";
  }
  out += "  initial_attributes:\n";
  out += "    sclman:\n";
  out += "      cluster: " + yaml_string(d.cluster) + "\n";
  out += "      role: " + yaml_string(d.role) + "\n";
  out += "  exec: true\n";
  return out;
}

} // namespace cm
