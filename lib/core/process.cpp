#include "core/process.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace core {

namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v)
{
  std::vector<char*> out;
  for (const auto& s : v) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

void close_pair(int fds[2])
{
  for (int i = 0; i < 2; ++i) {
    if (fds[i] >= 0) {
      ::close(fds[i]);
      fds[i] = -1;
    }
  }
}

// SIGPIPE ignored while it lives: a child that exits without reading its input must not end
// sclman; the write then fails with EPIPE instead.
class IgnoreSigpipe
{
public:
  IgnoreSigpipe()
  {
    struct sigaction ignore{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &m_before);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &m_before, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

private:
  struct sigaction m_before{};
};

// Return the exit code of a wait status: 128 + N when signal N ended it.
int exit_code_of(int status)
{
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int wait_for(pid_t pid)
{
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return exit_code_of(status);
}

using Deadline = std::chrono::steady_clock::time_point;

Deadline deadline_of(const ProcessOptions& options)
{
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
}

std::string timeout_message(const std::string& program, int timeout_ms)
{
  return fmt::format("'{}' did not end within {} ms", program, timeout_ms);
}

// Wait for child `pid` until `deadline`; past it, kill it and return the timeout error.
Result<ProcessResult> wait_until(pid_t pid, Deadline deadline, const std::string& program,
                                 int timeout_ms)
{
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      ProcessResult result;
      result.exit_code = exit_code_of(status);
      return result;
    }
    if (done < 0 && errno != EINTR) {
      return fail(ErrorKind::internal, fmt::format("cannot wait for '{}'", program));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      wait_for(pid);
      return fail(ErrorKind::upstream_transient, timeout_message(program, timeout_ms));
    }
    ::usleep(2000);
  }
}

// In the child, once its standard descriptors are set: close every other descriptor of ours
// (the state file, a lock), restore SIGPIPE and become the program. sclman's only execve.
[[noreturn]] void exec_child(std::vector<char*>& args, std::vector<char*>& env)
{
  for (int fd = 3; fd < 1024; ++fd) {
    ::close(fd);
  }
  std::signal(SIGPIPE, SIG_DFL);
  ::execve(args[0], args.data(), env.data());
  _exit(127);
}

// Run the program with its output to options.output_path (see ProcessOptions).
Result<ProcessResult> run_to_file(std::vector<char*>& args, std::vector<char*>& env,
                                  const ProcessOptions& options)
{
  const pid_t pid = ::fork();
  if (pid < 0) {
    return fail(ErrorKind::internal, fmt::format("cannot fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    const int out = ::open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                           0600);
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || null < 0) {
      _exit(127);
    }
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    exec_child(args, env);  // a daemon it leaves inherits nothing of ours
  }
  return wait_until(pid, deadline_of(options), args[0], options.timeout_ms);
}

} // namespace

std::vector<std::string> child_environment(const char* const* environment)
{
  std::vector<std::string> out;
  for (auto e = environment; e && *e; ++e) {
    const std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    if (name == "PATH" || name == "TZ" || name == "LANG" || name.substr(0, 3) == "LC_") {
      out.emplace_back(entry);
    }
  }
  return out;
}

Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options)
{
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return fail(ErrorKind::internal, "run_process: argv[0] must be an absolute path");
  }
  if (::access(argv[0].c_str(), X_OK) != 0) {
    return fail(ErrorKind::config,
                fmt::format("cannot run '{}': {}", argv[0], std::strerror(errno)));
  }
  auto env_strings = child_environment(environ);
  env_strings.insert(env_strings.end(), options.environment.begin(), options.environment.end());
  auto args = c_strings(argv);
  auto env = c_strings(env_strings);
  if (!options.output_path.empty()) {
    return run_to_file(args, env, options);
  }
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0
      || ::pipe2(err, O_CLOEXEC) != 0) {
    close_pair(in);
    close_pair(out);
    close_pair(err);
    return fail(ErrorKind::internal, fmt::format("cannot make a pipe: {}", std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    close_pair(in);
    close_pair(out);
    close_pair(err);
    return fail(ErrorKind::internal, fmt::format("cannot fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    exec_child(args, env);
  }
  const IgnoreSigpipe no_sigpipe;
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  int to_child = in[1];
  ::fcntl(to_child, F_SETFL, O_NONBLOCK);
  ProcessResult result;
  std::size_t written = 0;
  if (options.input.empty()) {
    ::close(to_child);
    to_child = -1;
  }
  const auto deadline = deadline_of(options);
  std::string error;
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
    if (left <= 0) {
      error = timeout_message(argv[0], options.timeout_ms);
      break;
    }
    pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0},
                     {err_open ? err[0] : -1, POLLIN, 0},
                     {to_child, POLLOUT, 0}};
    if (::poll(fds, 3, static_cast<int>(left)) < 0) {
      if (errno == EINTR) {
        continue;
      }
      error = fmt::format("cannot poll '{}': {}", argv[0], std::strerror(errno));
      break;
    }
    if (to_child >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const auto n = ::write(to_child, options.input.data() + written,
                             options.input.size() - written);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        written = options.input.size();  // it closed its input: what it read is what it got
      }
      if (written == options.input.size()) {
        ::close(to_child);
        to_child = -1;
      }
    }
    char buf[16384];
    for (int i = 0; i < 2; ++i) {
      bool& open = i == 0 ? out_open : err_open;
      if (!open || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        continue;
      }
      const auto n = ::read(i == 0 ? out[0] : err[0], buf, sizeof buf);
      if (n > 0) {
        auto& into = i == 0 ? result.out : result.err;
        const std::size_t limit = i == 0 ? options.max_output : std::size_t{65536};
        if (into.size() + static_cast<std::size_t>(n) > limit) {
          if (i == 0) {
            error = fmt::format("'{}' wrote more than {} bytes", argv[0], limit);
          }
          into.append(buf, limit - into.size());
          if (i == 0) {
            break;
          }
        } else {
          into.append(buf, static_cast<std::size_t>(n));
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        open = false;
      }
    }
    if (!error.empty()) {
      break;
    }
  }
  if (to_child >= 0) {
    ::close(to_child);
  }
  ::close(out[0]);
  ::close(err[0]);
  if (!error.empty()) {
    ::kill(pid, SIGKILL);
    wait_for(pid);
    return fail(ErrorKind::upstream_transient, error);
  }
  // Its output closed, it may still run (a child that closed its descriptors): the deadline
  // holds until it exits.
  TRY_ASSIGN(const auto ended, wait_until(pid, deadline, argv[0], options.timeout_ms));
  result.exit_code = ended.exit_code;
  return result;
}

} // namespace core
