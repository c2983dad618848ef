#include "local/nginx.hpp"

#include "core/config.hpp"
#include "core/file.hpp"
#include "core/process.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

namespace local {

namespace fs = std::filesystem;

using core::ErrorKind;
using core::fail;

namespace {

constexpr const char* k_temp_paths =
  "  client_body_temp_path tmp/client_body;\n"
  "  proxy_temp_path tmp/proxy;\n"
  "  fastcgi_temp_path tmp/fastcgi;\n"
  "  uwsgi_temp_path tmp/uwsgi;\n"
  "  scgi_temp_path tmp/scgi;\n";

std::string main_block(int worker_connections)
{
  return fmt::format("# Written by sclman. Changes are overwritten.\n"
                     "worker_processes 1;\n"
                     "pid logs/nginx.pid;\n"
                     "error_log logs/error.log warn;\n"
                     "events {{ worker_connections {}; }}\n",
                     worker_connections);
}

// Return the contents of `path`, empty if it cannot be read.
std::string read_file(const std::string& path)
{
  return core::read_file(path).value_or(std::string());
}

std::string first_line(const std::string& text)
{
  auto line = text.substr(0, text.find('\n'));
  return line;
}

// Run `argv` without a shell, stdout/stderr to `log_path`; return the exit status.
core::Result<int> run_program(const std::vector<std::string>& argv, const std::string& log_path)
{
  core::ProcessOptions o;
  o.output_path = log_path;
  TRY_ASSIGN(const auto r, core::run_process(argv, o));
  return r.exit_code;
}

bool alive(pid_t pid)
{
  if (::kill(pid, 0) != 0 && errno == ESRCH) {
    return false;
  }
  // A zombie (no init reaping it) is dead for our purposes.
  const auto stat = read_file(fmt::format("/proc/{}/stat", pid));
  const auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

// Return the pids of the worker processes of `master` that still accept (not shutting down).
std::vector<pid_t> accepting_workers(pid_t master)
{
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const auto stat = read_file(entry.path().string() + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) {
      continue;
    }
    // Fields after the name: state ppid ...
    std::istringstream fields(stat.substr(close + 2));
    char state = 0;
    long ppid = 0;
    fields >> state >> ppid;
    if (ppid != master || state == 'Z') {
      continue;
    }
    const auto cmdline = read_file(entry.path().string() + "/cmdline");
    if (cmdline.rfind("nginx: worker process", 0) == 0
        && cmdline.find("shutting down") == std::string::npos) {
      out.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return out;
}

// The status page answers this host only: sclman connects from the loopback addresses, or,
// to an LB listening elsewhere, from the address it connects to.
std::string status_allow(const core::Endpoint& listen)
{
  std::string out = "      allow 127.0.0.1;\n      allow ::1;\n";
  const auto ip = listen.ip();
  if (!listen.address().is_any() && ip != "127.0.0.1" && ip != "::1") {
    out += fmt::format("      allow {};\n", ip);
  }
  return out;
}

std::string with_slash(std::string prefix)
{
  if (prefix.empty() || prefix.back() != '/') {
    prefix += '/';
  }
  return prefix;
}

} // namespace

std::string render_web_config(const std::string& name, const core::Endpoint& listen,
                              int worker_connections)
{
  return main_block(worker_connections)
         + fmt::format("http {{\n"
                       "  access_log off;\n"
                       "{}"
                       "  server {{\n"
                       "    listen {};\n"
                       "    location = {} {{\n"
                       "      stub_status;\n"
                       "{}"
                       "      deny all;\n"
                       "    }}\n"
                       "    location / {{\n"
                       "      default_type text/plain;\n"
                       "      return 200 \"sclman web instance {:<{}}\\n\";\n"
                       "    }}\n"
                       "  }}\n"
                       "}}\n",
                       k_temp_paths,
                       listen.to_string(),
                       k_status_path,
                       status_allow(listen),
                       name,
                       k_page_name_width);
}

std::string proxy_directives(std::string_view indent)
{
  std::string out;
  for (const char* line : {"proxy_pass http://sclman_backends;",
                           // Buffered, a reload's old worker (nginx 1.22) exits in the middle of
                           // a response its backend still streams, cutting it off; unbuffered it
                           // serves it to the end. A slow client then holds its backend
                           // connection, which is what a drain waits for.
                           "proxy_buffering off;",
                           "proxy_connect_timeout 2s;",
                           "proxy_next_upstream error timeout http_502 http_503;",
                           "proxy_next_upstream_tries 3;"}) {
    out += fmt::format("{}{}\n", indent, line);
  }
  return out;
}

std::string render_lb_config(const std::string& name, const core::Endpoint& listen,
                             int worker_connections)
{
  return main_block(worker_connections)
         + fmt::format("http {{\n"
                       "  access_log off;\n"
                       "{}"
                       "  include upstream.conf;\n"
                       "  server {{\n"
                       "    listen {};\n"
                       "    # LB {}\n"
                       "    location = {} {{\n"
                       "      stub_status;\n"
                       "{}"
                       "      deny all;\n"
                       "    }}\n"
                       "    location / {{\n"
                       "{}"
                       "    }}\n"
                       "  }}\n"
                       "}}\n",
                       k_temp_paths,
                       listen.to_string(),
                       name,
                       k_status_path,
                       status_allow(listen),
                       proxy_directives("      "));
}

std::string render_upstream(const std::vector<core::Endpoint>& backends)
{
  std::string out = "# Written by sclman. Changes are overwritten.\nupstream sclman_backends {\n";
  for (const auto& b : backends) {
    out += fmt::format("  server {} max_fails=1 fail_timeout=5s;\n", b.to_string());
  }
  if (backends.empty()) {
    // nginx wants at least one server; this one refuses every connection.
    out += "  server 127.0.0.1:9 down; # sclman: no backend in service\n";
  }
  out += "}\n";
  return out;
}

std::vector<core::Endpoint> parse_upstream(std::string_view text)
{
  std::vector<core::Endpoint> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string keyword;
    std::string address;
    words >> keyword >> address;
    if (keyword != "server" || line.find(" down;") != std::string::npos) {
      continue;
    }
    if (auto endpoint = core::Endpoint::parse(address)) {
      out.push_back(*endpoint);
    }
  }
  return out;
}

std::pair<int, int> listen_port_span(std::string_view ephemeral_range)
{
  constexpr int k_floor = 10000;
  int low = 32768;
  int high = 60999;
  std::istringstream words{std::string(ephemeral_range)};
  std::string a;
  std::string b;
  std::string extra;
  words >> a >> b;
  auto lo = core::parse_int_in(a, 1, 65535);
  auto hi = core::parse_int_in(b, 1, 65535);
  if (lo && hi && *lo <= *hi && !(words >> extra)) {
    low = *lo;
    high = *hi;
  }
  const std::pair<int, int> below{k_floor, std::min(low - 1, 65535)};
  const std::pair<int, int> above{std::max(high + 1, k_floor), 65535};
  const auto width = [](std::pair<int, int> s) { return s.second - s.first; };
  if (width(below) < 0 && width(above) < 0) {
    return {k_floor, 65535};  // the whole range is ephemeral: no span is safe, take them all
  }
  return width(below) >= width(above) ? below : above;
}

namespace {

// Return true when a socket can be bound to 127.0.0.1:`port` now.
bool can_bind(int port)
{
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

} // namespace

core::Result<int> free_port(const std::set<int>& taken)
{
  const auto [low, high] = listen_port_span(read_file("/proc/sys/net/ipv4/ip_local_port_range"));
  std::random_device seed;
  std::mt19937 pick(seed());
  std::uniform_int_distribution<int> port_in(low, high);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = port_in(pick);
    if (!taken.count(port) && can_bind(port)) {
      return port;
    }
  }
  return fail(ErrorKind::internal,
              fmt::format("cannot find a free port on 127.0.0.1 in {}..{}", low, high));
}

core::Result<void> Nginx::make_dirs() const
{
  std::error_code ec;
  for (const char* sub : {"conf", "logs", "tmp"}) {
    fs::create_directories(fs::path(m_prefix) / sub, ec);
    if (ec) {
      return fail(ErrorKind::state,
                  fmt::format("cannot create '{}/{}': {}", m_prefix, sub, ec.message()));
    }
  }
  return {};
}

core::Result<void> Nginx::test(const std::string& conf) const
{
  if (access(m_binary.c_str(), X_OK) != 0) {
    return fail(ErrorKind::config, fmt::format("cannot run nginx '{}': {}", m_binary,
                                               std::strerror(errno)));
  }
  const std::string log = m_prefix + "/logs/test.out";
  TRY_ASSIGN(const int status,
             run_program({m_binary, "-t", "-q", "-p", with_slash(m_prefix), "-c", conf, "-e",
                          "logs/error.log"},
                         log));
  if (status != 0) {
    return fail(ErrorKind::upstream_rejected,
                fmt::format("nginx rejects config '{}': {}", conf, first_line(read_file(log))),
                "nginx");
  }
  return {};
}

core::Result<pid_t> Nginx::start() const
{
  if (access(m_binary.c_str(), X_OK) != 0) {
    return fail(ErrorKind::config, fmt::format("cannot run nginx '{}': {}", m_binary,
                                               std::strerror(errno)));
  }
  if (auto pid = running_pid()) {
    return *pid;
  }
  ::unlink(pid_path().c_str());
  const std::string log = m_prefix + "/logs/start.out";
  TRY_ASSIGN(const int status,
             run_program({m_binary, "-p", with_slash(m_prefix), "-c", "conf/nginx.conf", "-e",
                          "logs/error.log"},
                         log));
  if (status != 0) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("nginx in '{}' did not start: {}", m_prefix, first_line(read_file(log))),
                "nginx");
  }
  // The master writes its pid file after it has daemonized.
  for (int i = 0; i < 300; ++i) {
    if (auto pid = running_pid()) {
      return *pid;
    }
    m_clock.sleep_for(10);
  }
  return fail(ErrorKind::upstream_transient,
              fmt::format("nginx in '{}' wrote no pid file", m_prefix),
              "nginx");
}

std::optional<pid_t> Nginx::running_pid() const
{
  const auto text = read_file(pid_path());
  if (text.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  const long pid = std::strtol(text.c_str(), &end, 10);
  if (pid <= 1 || end == text.c_str()) {
    return std::nullopt;
  }
  const auto p = static_cast<pid_t>(pid);
  if (!alive(p) || !is_master_of(p, m_prefix)) {
    return std::nullopt;
  }
  return p;
}

core::Result<void> Nginx::reload() const
{
  const auto pid = running_pid();
  if (!pid) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("nginx in '{}' is not running", m_prefix),
                "nginx");
  }
  const auto before = accepting_workers(*pid);
  if (::kill(*pid, SIGHUP) != 0) {
    return fail(ErrorKind::upstream_transient,
                fmt::format("cannot signal nginx pid {}: {}", *pid, std::strerror(errno)),
                "nginx");
  }
  // The reload is done when no worker of the old generation accepts any more and a new one
  // does: from then on every new connection sees the new config.
  const auto deadline = m_clock.steady() + 5000;
  while (m_clock.steady() < deadline) {
    const auto now = accepting_workers(*pid);
    const bool old_gone = std::none_of(now.begin(), now.end(), [&](pid_t w) {
      return std::find(before.begin(), before.end(), w) != before.end();
    });
    if (old_gone && !now.empty()) {
      return {};
    }
    m_clock.sleep_for(5);
  }
  spdlog::warn("nginx.reload_slow pid={} prefix={}", *pid, m_prefix);
  return {};
}

core::Result<void> Nginx::stop(int timeout_ms) const
{
  const auto pid = running_pid();
  if (!pid) {
    return {};
  }
  ::kill(*pid, SIGQUIT);
  const auto deadline = m_clock.steady() + timeout_ms;
  while (alive(*pid) && m_clock.steady() < deadline) {
    m_clock.sleep_for(20);
  }
  if (alive(*pid)) {
    spdlog::warn("nginx.stop_forced pid={} prefix={}", *pid, m_prefix);
    ::kill(*pid, SIGTERM);
    m_clock.sleep_for(500);
    if (alive(*pid)) {
      ::kill(*pid, SIGKILL);
    }
  }
  return {};
}

bool is_master_of(pid_t pid, const std::string& prefix)
{
  const auto cmdline = read_file(fmt::format("/proc/{}/cmdline", pid));
  if (cmdline.rfind("nginx: master process", 0) != 0) {
    return false;
  }
  return cmdline.find(" -p " + with_slash(prefix) + " ") != std::string::npos;
}

std::vector<std::pair<pid_t, std::string>> masters_below(const std::string& root)
{
  std::vector<std::pair<pid_t, std::string>> out;
  const std::string needle = " -p " + with_slash(root);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const auto cmdline = read_file(entry.path().string() + "/cmdline");
    if (cmdline.rfind("nginx: master process", 0) != 0) {
      continue;
    }
    const auto at = cmdline.find(needle);
    if (at == std::string::npos) {
      continue;
    }
    const auto start = at + 4;
    const auto end = cmdline.find(' ', start);
    auto prefix = cmdline.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!prefix.empty() && prefix.back() == '/') {
      prefix.pop_back();
    }
    out.emplace_back(static_cast<pid_t>(std::stol(name)), prefix);
  }
  return out;
}

} // namespace local
