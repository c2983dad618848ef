// Real nginx processes on 127.0.0.1, each with its own prefix directory: the machinery of the
// embedded default (local provider, local bootstrapper, nginx balancer).
#pragma once

#include "core/clock.hpp"
#include "core/endpoint.hpp"
#include "core/result.hpp"

#include <optional>
#include <set>
#include <utility>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace local {

// Page bodies have one fixed length, so that load generators that compare lengths (ab) do not
// count a different instance as a failure.
inline constexpr int k_page_name_width = 48;

// The path where every instance's nginx (web and LB) serves stub_status, to this host only.
inline constexpr std::string_view k_status_path = "/nginx_status";

// Return the web instance's nginx.conf, listening on `listen`: a page naming the instance and
// stub_status at k_status_path, readable from this host only.
std::string render_web_config(const std::string& name, const core::Endpoint& listen,
                              int worker_connections);

// Return the directives of an LB's `location /`, each line after `indent`: proxy to upstream
// sclman_backends, unbuffered (a reload then never cuts a long response short), the next
// backend on an error.
std::string proxy_directives(std::string_view indent);

// Return the LB's nginx.conf, listening on `listen` (create-cluster --listen): proxies to
// upstream `sclman_backends` from conf/upstream.conf.
std::string render_lb_config(const std::string& name, const core::Endpoint& listen,
                             int worker_connections);

// Return conf/upstream.conf for `backends`. Only parsed endpoints can be rendered: a value from
// outside reaches the LB's config through core::Endpoint's parser or not at all.
std::string render_upstream(const std::vector<core::Endpoint>& backends);

// Return the backends listed in an upstream.conf text (as rendered by render_upstream); a line
// whose address does not parse is left out.
std::vector<core::Endpoint> parse_upstream(std::string_view text);

// Return the span of ports free_port chooses from, given the text of
// /proc/sys/net/ipv4/ip_local_port_range ("LOW HIGH", the kernel's ephemeral ports): the wider
// span of 10000..65535 outside it, so that no client connection's source port can take the port
// between its choice and nginx's bind. Text that is not two ports in order counts as Linux's
// default, 32768 to 60999.
std::pair<int, int> listen_port_span(std::string_view ephemeral_range);

// Return a TCP port on 127.0.0.1, from listen_port_span, that nothing is bound to now and that
// is not in `taken` (the ports other instances have recorded but may not listen on now).
core::Result<int> free_port(const std::set<int>& taken = {});

class Nginx
{
public:
  // Every wait (for the pid file, a reload, a stop) goes through `clock`.
  Nginx(std::string binary, std::string prefix, core::Clock& clock)
    : m_binary(std::move(binary)), m_prefix(std::move(prefix)), m_clock(clock)
  {
  }

  const std::string& prefix() const { return m_prefix; }
  std::string conf_path() const { return m_prefix + "/conf/nginx.conf"; }
  std::string pid_path() const { return m_prefix + "/logs/nginx.pid"; }

  // Create conf/, logs/ and tmp/ below the prefix.
  core::Result<void> make_dirs() const;
  // Check `conf` (a path) with `nginx -t`; the error names the first line nginx printed.
  core::Result<void> test(const std::string& conf) const;
  // Start the master (it daemonizes) and return its pid once the pid file names it.
  core::Result<pid_t> start() const;
  // Return the master's pid if it runs and is the nginx of this prefix.
  std::optional<pid_t> running_pid() const;
  // Send HUP to the master: a graceful reload.
  core::Result<void> reload() const;
  // Stop gracefully (QUIT), then TERM and KILL after `timeout_ms`; absent is success.
  core::Result<void> stop(int timeout_ms) const;

private:
  std::string m_binary;
  std::string m_prefix;
  core::Clock& m_clock;
};

// Return the pids of nginx masters whose prefix lies below `root`, with that prefix.
std::vector<std::pair<pid_t, std::string>> masters_below(const std::string& root);

// Return true if `pid` is an nginx master started with prefix `prefix`.
bool is_master_of(pid_t pid, const std::string& prefix);

} // namespace local
