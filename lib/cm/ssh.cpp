#include "cm/ssh.hpp"

#include "cm/cloud_init.hpp"
#include "core/file.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "local/instance_dir.hpp"
#include "local/nginx.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string_view>
#include <unistd.h>

namespace cm {

namespace fs = std::filesystem;
using core::ErrorKind;
using core::fail;

namespace {

constexpr const char* k_script_path = "/usr/local/sbin/sclman-lb-apply";
constexpr const char* k_upstream_dir = "/etc/nginx/sclman";
constexpr std::string_view k_base64 =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

// Return `text` if it is one OpenSSH public key line of type ssh-ed25519: the type, base64,
// and an optional comment of printable ASCII. Keys are read back from files: hostile.
core::Result<std::string> parse_public_key(const std::string& text)
{
  std::string line = text;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  const std::string type = "ssh-ed25519 ";
  if (line.compare(0, type.size(), type) != 0) {
    return fail(ErrorKind::state, fmt::format("not an ssh-ed25519 public key: '{}'",
                                              core::printable(line, 60)));
  }
  const auto blob_end = line.find(' ', type.size());
  const auto blob = line.substr(type.size(), blob_end == std::string::npos
                                               ? std::string::npos
                                               : blob_end - type.size());
  const bool base64 = !blob.empty() && blob.size() <= 200
                      && blob.find_first_not_of(k_base64) == std::string::npos;
  if (!base64 || !core::is_printable(line, 300) || line.find('"') != std::string::npos) {
    return fail(ErrorKind::state, fmt::format("not an ssh-ed25519 public key: '{}'",
                                              core::printable(line, 60)));
  }
  return type + blob;  // the comment is dropped: nothing of it reaches a file elsewhere
}

// Return `text` if it is an OpenSSH private key: its armour lines around base64 lines.
core::Result<std::string> parse_private_key(const std::string& text)
{
  const std::string begin = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  const std::string end = "-----END OPENSSH PRIVATE KEY-----\n";
  const bool framed = text.size() > begin.size() + end.size() && text.size() < 8192
                      && text.compare(0, begin.size(), begin) == 0
                      && text.compare(text.size() - end.size(), end.size(), end) == 0;
  const auto body = framed ? text.substr(begin.size(), text.size() - begin.size() - end.size())
                           : std::string("-");
  const bool base64_lines =
    std::all_of(body.begin(), body.end(),
                [](char c) { return c == '\n' || k_base64.find(c) != std::string_view::npos; });
  if (!base64_lines) {
    return fail(ErrorKind::state, "not an OpenSSH private key");
  }
  return text;
}

// Return the last line of `text` that is not blank, printable: what ssh and sclman-lb-apply
// end with is the error (ssh's "Host key verification failed." comes after a banner of @).
std::string last_line(std::string text)
{
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.pop_back();
  }
  const auto start = text.find_last_of('\n');
  return core::printable(start == std::string::npos ? text : text.substr(start + 1), 200);
}

// Return the LB's nginx server block (in /etc/nginx/conf.d on the LB server): the upstream list
// sclman pushes, proxied unbuffered, and stub_status for sclman's health check.
std::string render_server_block(const std::string& name, int port)
{
  return fmt::format("# Written by sclman for LB server {}; sclman-lb-apply rewrites only\n"
                     "# {}/upstream.conf.\n"
                     "include {}/upstream.conf;\n"
                     "server {{\n"
                     "    listen {} default_server;\n"
                     "    listen [::]:{} default_server;\n"
                     "    location = {} {{\n"
                     "        stub_status;\n"
                     "    }}\n"
                     "    location / {{\n"
                     "{}"
                     "    }}\n"
                     "}}\n",
                     name, k_upstream_dir, k_upstream_dir, port, port, local::k_status_path,
                     local::proxy_directives("        "));
}

} // namespace

std::vector<core::KeyDef> ssh_keys()
{
  using S = SshConfig;
  return {
    {"SSH", "ssh", core::path(&S::ssh)},
    {"SSH", "ssh_keygen", core::path(&S::ssh_keygen)},
    {"SSH", "user", core::set_with(&S::user, parse_user_name)},
    {"SSH", "port", core::int_in(&S::port, 1, 65535)},
    {"SSH", "timeout", core::int_in(&S::timeout, 1, 600)},
  };
}

core::Result<std::string> parse_user_name(std::string_view v)
{
  const bool ok = !v.empty() && v.size() <= 32 && v[0] != '-'
                  && !std::isdigit(static_cast<unsigned char>(v[0]))
                  && v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-")
                       == std::string_view::npos;
  if (!ok) {
    return core::bad_value(v, "a user name of 1-32 characters a-z, 0-9, '_' and '-', "
                              "not starting with '-' or a digit");
  }
  return std::string(v);
}

const std::string& lb_apply_script()
{
  static const std::string text =
#include "lb_apply_script.inc"
    ;
  return text;
}

std::string render_lb_server_user_data(const std::string& name, const std::string& cluster,
                                       const std::string& user, int port, const LbKeys& keys)
{
  std::string out = "#cloud-config\n";
  out += fmt::format("# sclman: LB server '{}' of cluster '{}'. sclman pushes its upstream list\n"
                     "# over SSH to sclman-lb-apply; this document holds its SSH host key.\n",
                     name, cluster);
  // The host key sclman knows, so that it trusts this server and no other.
  out += "ssh_deletekeys: true\n";
  out += "ssh_genkeytypes: []\n";
  out += "ssh_keys:\n";
  out += "  ed25519_private: |\n";
  yaml_block(out, "    ", keys.host_private);
  out += "  ed25519_public: " + yaml_string(keys.host_public) + "\n";
  out += "users:\n";
  out += "  - default\n";
  out += "  - name: " + yaml_string(user) + "\n";
  out += "    lock_passwd: true\n";
  out += "    shell: /bin/sh\n";
  out += "    sudo: " + yaml_string(fmt::format("ALL=(root) NOPASSWD: {}", k_script_path)) + "\n";
  out += "    ssh_authorized_keys:\n";
  out += "      - " + yaml_string(fmt::format("restrict,command=\"{}\" {} sclman@{}",
                                              k_script_path, keys.client_public, cluster))
         + "\n";
  out += "write_files:\n";
  out += fmt::format("  - path: {}\n", k_script_path);
  out += "    owner: root:root\n";
  out += "    permissions: '0755'\n";
  out += "    content: |\n";
  yaml_block(out, "      ", lb_apply_script());
  out += fmt::format("  - path: {}/upstream.conf\n", k_upstream_dir);
  out += "    permissions: '0644'\n";
  out += "    content: |\n";
  yaml_block(out, "      ", local::render_upstream({}));
  out += "  - path: /etc/nginx/conf.d/sclman-lb.conf\n";
  out += "    permissions: '0644'\n";
  out += "    content: |\n";
  yaml_block(out, "      ", render_server_block(name, port));
  out += "runcmd:\n";
  out += "  - [rm, -f, /etc/nginx/sites-enabled/default]\n";
  out += "  - [systemctl, restart, nginx]\n";
  return out;
}

core::Result<std::string> SshChannel::dir_of(const std::string& name) const
{
  TRY_ASSIGN(const auto dir, local::instance_dir(m_root, name));
  return dir + "/ssh";
}

core::Result<LbKeys> SshChannel::keys(const std::string& name)
{
  TRY_ASSIGN(const auto dir, dir_of(name));
  std::error_code ec;
  if (!fs::exists(dir + "/known_hosts", ec)) {
    // Made aside and renamed into place: two runs at once keep one pair, never half of each.
    const auto parent = fs::path(dir).parent_path();
    fs::create_directories(parent, ec);
    const auto tmp = fmt::format("{}/ssh.new.{}", parent.string(), ::getpid());
    fs::remove_all(tmp, ec);
    fs::create_directory(tmp, ec);
    if (ec) {
      return fail(ErrorKind::state, fmt::format("cannot create '{}': {}", tmp, ec.message()));
    }
    fs::permissions(tmp, fs::perms::owner_all, ec);
    for (const char* key : {"id_ed25519", "host_ed25519"}) {
      TRY_ASSIGN(const auto made,
                 core::run_process({m_config.ssh_keygen, "-q", "-t", "ed25519", "-N", "", "-C",
                                    "sclman@" + name, "-f", tmp + "/" + key}));
      if (made.exit_code != 0) {
        fs::remove_all(tmp, ec);
        return fail(ErrorKind::internal, fmt::format("ssh-keygen failed for '{}': {}", name,
                                                     last_line(made.err)));
      }
    }
    TRY_ASSIGN(const auto host_public,
               parse_public_key(core::read_file(tmp + "/host_ed25519.pub").value_or("")));
    TRY(core::write_file_atomic(tmp + "/known_hosts", name + " " + host_public + "\n"));
    fs::rename(tmp, dir, ec);
    if (ec) {
      fs::remove_all(tmp, ec);  // another run made them first: theirs stand
    } else {
      spdlog::info("ssh.keys_made lb={}", name);
    }
  }
  LbKeys keys;
  TRY_ASSIGN(keys.client_public,
             parse_public_key(core::read_file(dir + "/id_ed25519.pub").value_or("")));
  TRY_ASSIGN(keys.host_public,
             parse_public_key(core::read_file(dir + "/host_ed25519.pub").value_or("")));
  TRY_ASSIGN(keys.host_private,
             parse_private_key(core::read_file(dir + "/host_ed25519").value_or("")));
  return keys;
}

core::Result<void> SshChannel::forget(const std::string& name)
{
  TRY_ASSIGN(const auto dir, dir_of(name));
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) {
    return fail(ErrorKind::state, fmt::format("cannot delete '{}': {}", dir, ec.message()));
  }
  fs::remove(fs::path(dir).parent_path(), ec);  // only if empty: a stand-in keeps its own
  return {};
}

core::Result<std::vector<std::string>> SshChannel::command(const std::string& name,
                                                           const core::IpAddress& address,
                                                           const std::string& request) const
{
  TRY_ASSIGN(const auto dir, dir_of(name));
  if (dir.find_first_of("\"\\ \t\r\n") != std::string::npos) {
    // ssh reads an -o value as its config file would: such a path would not stay one path.
    return fail(ErrorKind::config, fmt::format("the state directory '{}' has a blank, quote or "
                                               "backslash: ssh cannot be given its known hosts",
                                               core::printable(dir)));
  }
  if (request != "show" && request != "apply") {
    return fail(ErrorKind::internal, "ssh request: show or apply");
  }
  return std::vector<std::string>{
    m_config.ssh, "-F", "/dev/null", "-i", dir + "/id_ed25519",
    "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
    "-o", "UserKnownHostsFile=" + dir + "/known_hosts", "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "HostKeyAlias=" + name, "-o", fmt::format("ConnectTimeout={}", m_config.timeout),
    "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=2", "-o", "LogLevel=ERROR",
    "-p", std::to_string(m_config.port), "-l", m_config.user, "--", address.to_string(),
    request};
}

core::Result<std::string> SshChannel::request(const core::InstanceRef& lb,
                                              const std::string& request,
                                              const std::string& input)
{
  // The address comes back from the state file: parsed, and only its IP is used.
  TRY_ASSIGN(const auto endpoint, core::Endpoint::parse(lb.address));
  TRY_ASSIGN(const auto argv, command(lb.name, endpoint.address(), request));
  core::ProcessOptions o;
  o.input = input;
  o.timeout_ms = m_config.timeout * 1000 + 5000;
  TRY_ASSIGN(const auto r, core::run_process(argv, o));
  const auto where = fmt::format("LB server {} at {} port {}", lb.name, endpoint.ip(),
                                 m_config.port);
  if (r.exit_code == 0) {
    return r.out;
  }
  if (r.exit_code == 64 || r.exit_code == 65 || r.exit_code == 66) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("{} refuses '{}': {}", where, request, last_line(r.err)), "ssh");
  }
  if (r.exit_code == 255 && r.err.find("Host key verification failed") != std::string::npos) {
    // Whoever answers there is not the server sclman booted (an address reused, a man in the
    // middle): nothing is sent to it, and it is not a hiccup to retry blindly.
    return fail(ErrorKind::upstream_rejected,
                fmt::format("{} shows another SSH host key than the one sclman gave it: "
                            "refused ({})",
                            where, last_line(r.err)),
                "ssh");
  }
  if (r.exit_code == 255) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("cannot reach {} over SSH: {}", where, last_line(r.err)), "ssh");
  }
  return fail(ErrorKind::upstream_transient,
              fmt::format("{}: '{}' exited {}: {}", where, request, r.exit_code,
                          last_line(r.err)),
              "ssh");
}

core::Result<std::string> SshLbBootstrapper::user_data(const core::InstanceRef& instance)
{
  if (instance.role != core::Role::lb) {
    return ForwardingBootstrapper::user_data(instance);
  }
  TRY_ASSIGN(const auto keys, m_channel.keys(instance.name));
  return render_lb_server_user_data(instance.name, instance.cluster, m_channel.config().user,
                                    m_port, keys);
}

core::Result<bool> SshLbBootstrapper::bootstrap(const core::InstanceRef& instance)
{
  TRY_ASSIGN(const bool done, ForwardingBootstrapper::bootstrap(instance));
  if (!done || instance.role != core::Role::lb) {
    return done;
  }
  auto shown = m_channel.request(instance, "show");
  if (!shown && shown.error().kind == ErrorKind::upstream_transient) {
    // Booting: sshd or cloud-init not there yet. The boot timeout bounds the wait.
    spdlog::info("ssh.lb_not_ready lb={} error={}", instance.name,
                 core::log_quote(shown.error().message));
    return false;
  }
  TRY(shown);
  return true;
}

core::Result<void> SshLbBootstrapper::decommission(const core::InstanceRef& instance)
{
  TRY(ForwardingBootstrapper::decommission(instance));
  if (instance.role == core::Role::lb) {
    TRY(m_channel.forget(instance.name));
  }
  return {};
}

} // namespace cm
