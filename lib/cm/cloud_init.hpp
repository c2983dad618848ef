// The cloud-init user data of a Chef node: what its first chef-client run needs.
#pragma once

#include <string>
#include <vector>

namespace cm {

// What the VM's cloud-init needs for its first chef-client run.
struct ChefUserData
{
  std::string server_url;
  std::string node_name;
  std::string environment;
  std::vector<std::string> run_list;
  std::string client_key;       // validatorless: the node's own client key (PEM)
  std::string validation_name;  // classic: the validator the VM registers through
  std::string validation_key;   // classic: the validator's key (PEM)
  std::string cluster;
  std::string role;
};

// Return `s` as a YAML scalar (JSON's double-quoted strings are valid YAML): any text is data.
std::string yaml_string(const std::string& s);

// Append `text` to `out`, each line after `indent` (the body of a YAML block scalar, `|`).
void yaml_block(std::string& out, const std::string& indent, const std::string& text);

// Return the #cloud-config document (cloud-init's `chef` module, the client key written to
// /etc/chef/client.pem with mode 0600 by `write_files`). It holds a secret: never log it.
std::string render_chef_user_data(const ChefUserData& data);

} // namespace cm
