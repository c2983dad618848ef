// cmd/serve.cpp: `sclman serve`: the JSON API (lib/serve) over HTTP or HTTPS with cpp-httplib.
//
// cpp-httplib (Debian's libcpp-httplib-dev, built with OpenSSL) was chosen over civetweb and
// libmicrohttpd: it is C++ with a thread pool, per-request size and time limits and TLS through
// the OpenSSL sclman already links, and it leaves routing to us (docs/OPERATIONS.md, "sclman
// serve", compares the three).
#include "actions.hpp"
#include "scale.hpp"
#include "serve/api.hpp"
#include "serve/config.hpp"
#include "shell.hpp"

#include "core/endpoint.hpp"
#include "core/file.hpp"
#include "core/log.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <pthread.h>
#include <thread>

namespace cmd {

namespace {

struct ServeOptions
{
  std::string listen;  // overrides [SERVE] listen
};

// Run `fn` as command `command` runs on the command line, in a run of its own (its own state
// connection, drivers and deadline), and return what it prints with --json.
core::Result<nlohmann::json> run_now(const Env& base, const std::string& command,
                                     const std::function<core::Result<void>(Env&)>& fn)
{
  Env run;
  run.command = command;
  run.common = base.common;
  run.common.json = true;
  run.common.dry_run = false;
  run.config = base.config;
  run.deadline = core::steady_now() + core::Millis(run.config.manager.run_deadline) * 1000;
  TRY_ASSIGN(auto store, state::Store::open(base.store->location(), run.clock));
  run.store.emplace(std::move(store));
  TRY_ASSIGN(const auto owner, run.store->identity());
  TRY_ASSIGN(run.drivers, engine::DriverSet::make(run.config, run.store->directory(), owner,
                                                  run.clock));
  std::string printed;
  core::Result<void> done;
  {
    CaptureOut capture(printed);
    done = fn(run);
  }
  if (!done) {
    return tl::make_unexpected(done.error());
  }
  auto j = nlohmann::json::parse(printed, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

// Carry out size `to` on `cluster` as `sclman scale-out|scale-in --cluster C --to N` does
// (`action`: which of the two, as the caller's check chose it).
core::Result<nlohmann::json> resize_now(const Env& base, const std::string& cluster,
                                        state::DecisionAction action, int to,
                                        const std::string& source, bool force)
{
  const auto direction = action == state::DecisionAction::scale_out ? Direction::out
                                                                     : Direction::in;
  ScaleOptions o;
  o.cluster = cluster;
  o.to = to;
  o.source = source;
  o.force = force;
  return run_now(base, direction == Direction::out ? "scale-out" : "scale-in",
                 [&](Env& env) { return run_scale(env, direction, o); });
}

serve::Request to_request(const httplib::Request& r)
{
  serve::Request out;
  out.method = r.method;
  out.path = r.path;
  for (const auto& [k, v] : r.params) {
    out.query.emplace(k, v);
  }
  out.authorization = r.get_header_value("Authorization");
  out.idempotency_key = r.get_header_value("Idempotency-Key");
  out.cookie = r.get_header_value("Cookie");
  out.content_type = r.get_header_value("Content-Type");
  out.body = r.body;
  return out;
}

void set_response(const serve::Response& from, httplib::Response& to)
{
  to.status = from.status;
  for (const auto& [k, v] : from.headers) {
    to.set_header(k, v);
  }
  to.set_header("Cache-Control", "no-store");
  to.set_header("X-Content-Type-ServeOptions", "nosniff");
  to.set_content(from.body, from.content_type.c_str());
}

core::Result<void> run_serve(Env& env, const ServeOptions& o)
{
  auto settings = env.config.section<serve::ServeConfig>();
  if (!o.listen.empty()) {
    settings.listen = o.listen;
  }
  const auto listen = core::Endpoint::parse(settings.listen);
  if (!listen) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--listen: {}", listen.error().message));
  }
  if (settings.tls_cert.empty() != settings.tls_key.empty()) {
    return core::fail(core::ErrorKind::config,
                      "[SERVE] tls_cert and tls_key go together: set both for HTTPS, or neither");
  }
  const bool tls = !settings.tls_cert.empty();
  if (tls) {
    TRY(core::check_file_mode(settings.tls_key, "TLS key", 077, env.config.perms));
  }
  serve::ApiOptions api_options;
  api_options.state = env.store->location();
  api_options.config = env.config;
  api_options.tls = tls;
  api_options.actions.resize_now = [&env](const std::string& c, state::DecisionAction action,
                                          int to, const std::string& source, bool force) {
    return resize_now(env, c, action, to, source, force);
  };
  api_options.actions.create_now = [&env](const serve::CreateSpec& spec) {
    return run_now(env, "create-cluster", [&](Env& run) {
      return create_cluster(run, CreateRequest{spec.name, spec.web, spec.min, spec.max});
    });
  };
  api_options.actions.delete_now = [&env](const std::string& c) {
    return run_now(env, "delete-cluster", [&](Env& run) { return delete_cluster(run, c); });
  };
  api_options.actions.remove_now = [&env](const std::string& c, const std::string& instance,
                                          const std::string& source, bool force) {
    return run_now(env, "remove",
                   [&](Env& run) { return remove_member(run, c, instance, source, force); });
  };
  api_options.actions.replace_now = [&env](const std::string& c, const std::string& instance) {
    return run_now(env, "replace", [&](Env& run) { return replace_member(run, c, instance); });
  };
  api_options.actions.set_policy_now = [&env](const std::string& c,
                                              const serve::PolicySpec& spec) {
    return run_now(env, "set-policy", [&](Env& run) {
      return set_policy(run, PolicyRequest{c, spec.policy, spec.min, spec.max});
    });
  };
  serve::Api api(std::move(api_options));

  std::unique_ptr<httplib::Server> server;
  if (tls) {
    auto ssl = std::make_unique<httplib::SSLServer>(settings.tls_cert.c_str(),
                                                    settings.tls_key.c_str());
    if (!ssl->is_valid()) {
      return core::fail(core::ErrorKind::config,
                        fmt::format("[SERVE] tls_cert '{}' and tls_key '{}' are not a usable "
                                    "certificate and key (PEM)",
                                    settings.tls_cert, settings.tls_key));
    }
    server = std::move(ssl);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  const auto threads = static_cast<std::size_t>(settings.threads);
  server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server->set_payload_max_length(std::size_t(settings.max_body_kib) * 1024);
  server->set_read_timeout(settings.request_timeout, 0);
  server->set_write_timeout(settings.request_timeout, 0);
  server->set_keep_alive_timeout(5);
  // Small JSON answers on kept-alive connections: without it Nagle and delayed ACKs add tens of
  // milliseconds to each (bench/serve_bench.sh).
  server->set_tcp_nodelay(true);
  const auto handler = [&api](const httplib::Request& req, httplib::Response& res) {
    set_response(api.handle(to_request(req)), res);
  };
  for (auto* method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
    const std::string m = method;
    if (m == "GET") {
      server->Get(".*", handler);
    } else if (m == "POST") {
      server->Post(".*", handler);
    } else if (m == "PUT") {
      server->Put(".*", handler);
    } else if (m == "DELETE") {
      server->Delete(".*", handler);
    } else {
      server->Patch(".*", handler);
    }
  }
  // What cpp-httplib refuses before a handler runs (a body over max_body_kib: 413, a bad
  // request line or a body it cannot read: 400) gets the API's JSON error too. A POST, PUT or
  // PATCH without Content-Length (curl -X POST without data) is read to the connection's end,
  // which a client that keeps the connection open never sends: say so.
  server->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) {
      return;
    }
    const bool has_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    const auto message =
      res.status == 413 ? "the request body is larger than [SERVE] max_body_kib allows"
      : has_body && !req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")
        ? "a POST, PUT or PATCH needs a body with Content-Length (send {} when there is "
          "nothing to say, as curl --data '{}' does)"
        : "the request was refused";
    res.set_content(serve::error_body(core::fail(core::ErrorKind::usage, message).value()),
                    "application/json");
  });

  // SIGTERM and SIGINT stop the server: blocked here (the pool's threads inherit the mask),
  // taken by one thread that waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::atomic<bool> stopping = false;
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stopping = true;
    spdlog::info("serve.stopping signal={}", sig == SIGTERM ? "TERM" : "INT");
    server->stop();
  });
  // Wake the waiter when the server ends on its own (it takes the signal sent to the process).
  const auto end_waiter = [&] {
    if (!stopping) {
      kill(getpid(), SIGTERM);
    }
    waiter.join();
  };
  if (!server->bind_to_port(listen->ip(), listen->port())) {
    end_waiter();
    return core::fail(core::ErrorKind::config,
                      fmt::format("cannot listen on {} (in use, or not an address of this "
                                  "host)",
                                  listen->to_string()));
  }
  spdlog::info("serve.listening address={} tls={} threads={} state={}", listen->to_string(),
               tls ? "yes" : "no", threads, core::log_quote(env.store->path()));
  const bool ok = server->listen_after_bind();
  end_waiter();
  if (!ok && !stopping) {
    return core::fail(core::ErrorKind::internal, "the server stopped listening");
  }
  spdlog::info("serve.stopped");
  return {};
}

} // namespace

void register_serve(CLI::App& app)
{
  auto o = std::make_shared<ServeOptions>();
  auto* sub = add_command(app, "serve", "Serve the JSON API (and the seed's /counters.json and "
                                        "/lbmembers.json) until SIGTERM",
                          Traits{false, false, Needs::state},
                          [o](Env& env) { return run_serve(env, *o); });
  sub->add_option("--listen", o->listen,
                  "Address and port to listen on (else [SERVE] listen, 127.0.0.1:8470)");
}

} // namespace cmd
