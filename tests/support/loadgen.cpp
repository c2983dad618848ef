// sclman-loadgen: a bounded HTTP load generator for tests and the demo. Every request opens its
// own connection (the client the issue names: one connection per request), so a failed request
// is a real failure and not a keep-alive connection closed by a reload. Stops by itself after
// --duration seconds or --requests requests, or on SIGINT/SIGTERM, then prints one JSON object:
// {"requests":N,"ok":N,"non_200":N,"errors":N,"by_instance":{"shop-web-1":N,...}}.
// Only 127.0.0.1 is accepted as a target.
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int)
{
  g_stop = true;
}

struct Totals
{
  long requests = 0;
  long ok = 0;
  long non_200 = 0;
  long errors = 0;
  std::map<std::string, long> by_instance;
  std::map<std::string, long> error_kinds;
};

std::mutex g_mutex;
Totals g_totals;

// One request on a fresh connection; return the status (0 on a transport error) and the body.
int request_once(int port, const std::string& path, std::string& body, std::string& error)
{
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket";
    return 0;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return 0;
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    error = std::string("send: ") + std::strerror(errno);
    ::close(fd);
    return 0;
  }
  std::string response;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
      break;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      error = std::string("recv: ") + std::strerror(errno);
      ::close(fd);
      return 0;
    }
    response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) {
    error = "malformed response";
    return 0;
  }
  const int status = std::atoi(response.c_str() + 9);
  const auto split = response.find("\r\n\r\n");
  body = split == std::string::npos ? std::string() : response.substr(split + 4);
  return status;
}

} // namespace

int main(int argc, char** argv)
{
  int port = 0;
  std::string path = "/";
  int concurrency = 4;
  double duration = 10;
  double rate = 0;  // total requests per second, 0 = as fast as possible
  long max_requests = 10'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--url") {
      // http://127.0.0.1:PORT[/path]
      const std::string prefix = "http://127.0.0.1:";
      if (value.rfind(prefix, 0) != 0) {
        std::fprintf(stderr, "sclman-loadgen: only http://127.0.0.1:PORT targets\n");
        return 64;
      }
      port = std::atoi(value.c_str() + prefix.size());
      const auto slash = value.find('/', prefix.size());
      if (slash != std::string::npos) {
        path = value.substr(slash);
      }
    } else if (flag == "--concurrency") {
      concurrency = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--duration") {
      duration = std::atof(value.c_str());
    } else if (flag == "--rate") {
      rate = std::atof(value.c_str());
    } else if (flag == "--requests") {
      max_requests = std::atol(value.c_str());
    } else {
      std::fprintf(stderr, "sclman-loadgen: unknown flag %s\n", flag.c_str());
      return 64;
    }
  }
  if (port <= 0 || duration <= 0 || duration > 3600) {
    std::fprintf(stderr,
                 "usage: sclman-loadgen --url http://127.0.0.1:PORT/ [--concurrency N] "
                 "[--duration S<=3600] [--rate R] [--requests N]\n");
    return 64;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(duration);
  std::atomic<long> issued{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      const double per_thread = rate > 0 ? rate / concurrency : 0;
      auto next = std::chrono::steady_clock::now()
                  + std::chrono::duration<double>(per_thread > 0 ? t / rate : 0);
      while (!g_stop && std::chrono::steady_clock::now() < end && issued++ < max_requests) {
        if (per_thread > 0) {
          std::this_thread::sleep_until(next);
          next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(1.0 / per_thread));
        }
        std::string body;
        std::string error;
        const int status = request_once(port, path, body, error);
        std::lock_guard<std::mutex> lock(g_mutex);
        ++g_totals.requests;
        if (status == 200) {
          ++g_totals.ok;
          const std::string marker = "sclman web instance ";
          if (body.rfind(marker, 0) == 0) {
            auto name = body.substr(marker.size());
            name = name.substr(0, name.find_first_of(" \n"));
            ++g_totals.by_instance[name];
          }
        } else if (status == 0) {
          ++g_totals.errors;
          ++g_totals.error_kinds[error];
        } else {
          ++g_totals.non_200;
          ++g_totals.error_kinds["HTTP " + std::to_string(status)];
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const double seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"requests\":%ld,\"ok\":%ld,\"non_200\":%ld,\"errors\":%ld,\"seconds\":%.2f,"
              "\"by_instance\":{",
              g_totals.requests, g_totals.ok, g_totals.non_200, g_totals.errors, seconds);
  bool first = true;
  for (const auto& [name, count] : g_totals.by_instance) {
    std::printf("%s\"%s\":%ld", first ? "" : ",", name.c_str(), count);
    first = false;
  }
  std::printf("},\"error_kinds\":{");
  first = true;
  for (const auto& [name, count] : g_totals.error_kinds) {
    std::printf("%s\"%s\":%ld", first ? "" : ",", name.c_str(), count);
    first = false;
  }
  std::printf("}}\n");
  return 0;
}
