// An LB server that sclman configures itself over SSH (the server balancer without Chef): the
// server boots nginx from its user data, and sclman pushes each new upstream list to one
// forced command, sclman-lb-apply (etc/lb), through a key that can run nothing else, to a
// host key sclman made and knows.
#pragma once

#include "cm/bootstrapper.hpp"
#include "core/config.hpp"
#include "core/endpoint.hpp"
#include "core/instance_ref.hpp"
#include "core/result.hpp"

#include <string>
#include <vector>

namespace cm {

// [SSH]: how sclman reaches an LB server it configures itself.
struct SshConfig
{
  std::string ssh = "/usr/bin/ssh";
  std::string ssh_keygen = "/usr/bin/ssh-keygen";
  std::string user = "sclman";  // the account the user data makes for sclman's key
  int port = 22;                // sshd's port on the LB server
  int timeout = 20;             // seconds one request may take, connecting included
};

// Return the keys of [SSH].
std::vector<core::KeyDef> ssh_keys();

// Parse an account name for the LB server: a POSIX portable user name, 1-32 characters of
// [a-z0-9_-], not starting with '-' or a digit.
core::Result<std::string> parse_user_name(std::string_view v);

// The SSH keys of one LB server: sclman's client key (its private half never leaves this host)
// and the server's host key (both halves go into its user data; sclman trusts only it).
struct LbKeys
{
  std::string client_public;  // "ssh-ed25519 AAAA... COMMENT"
  std::string host_private;   // OpenSSH private key (PEM-like text)
  std::string host_public;    // "ssh-ed25519 AAAA..."
};

// Return the #cloud-config of LB server `name` of `cluster`: the account `user` whose only
// authorized key is `keys.client_public` restricted to sclman-lb-apply, the host key, the
// script, nginx's server block on `port` and an upstream list with no backend; nginx restarted.
// It holds a private key: never log it.
std::string render_lb_server_user_data(const std::string& name, const std::string& cluster,
                                       const std::string& user, int port, const LbKeys& keys);

// Return the text of sclman-lb-apply (etc/lb/sclman-lb-apply, built in).
const std::string& lb_apply_script();

class SshChannel
{
public:
  // Keys live in `root`/NAME/ssh (root: the state directory's instances).
  SshChannel(SshConfig config, std::string root)
    : m_config(std::move(config)), m_root(std::move(root))
  {
  }

  const SshConfig& config() const { return m_config; }

  // Make the keys of LB server `name` unless it has them; return them.
  core::Result<LbKeys> keys(const std::string& name);
  // Delete the keys of LB server `name`; absent is success.
  core::Result<void> forget(const std::string& name);

  // Send `request` ("show" or "apply", with `input`) to the LB server `lb` and return its
  // output. The address is parsed from the state (hostile) and only the parsed IP reaches
  // ssh's command line. A server that cannot be reached is upstream_transient; one that refuses
  // the request (sclman-lb-apply exits 64 or 65, or nginx rejects the list) upstream_rejected.
  core::Result<std::string> request(const core::InstanceRef& lb, const std::string& request,
                                    const std::string& input = {});

  // Return the argument vector of ssh for `request` to `address` (for the tests).
  core::Result<std::vector<std::string>> command(const std::string& name,
                                                 const core::IpAddress& address,
                                                 const std::string& request) const;

private:
  core::Result<std::string> dir_of(const std::string& name) const;

  SshConfig m_config;
  std::string m_root;
};

// The bootstrapper of an LB server configured over SSH. Web instances, the cluster-wide steps
// and, on a stand-in, the LB's local nginx are `inner`'s (may be null: an image-only web server
// needs nothing).
class SshLbBootstrapper : public ForwardingBootstrapper
{
public:
  SshLbBootstrapper(SshChannel& channel, Bootstrapper* inner, int port)
    : ForwardingBootstrapper(inner), m_channel(channel), m_port(port)
  {
  }

  core::Result<std::string> user_data(const core::InstanceRef& instance) override;
  // An LB server has converged once sclman-lb-apply answers over SSH. Whether it runs is the
  // inner bootstrapper's and the health check's to say: an SSH hiccup is no dead LB.
  core::Result<bool> bootstrap(const core::InstanceRef& instance) override;
  core::Result<void> decommission(const core::InstanceRef& instance) override;

private:
  SshChannel& m_channel;
  int m_port;
};

} // namespace cm
