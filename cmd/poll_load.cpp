// cmd/poll_load.cpp: `sclman poll-load`: one load sample per web instance in service, from each
// cluster's metrics source, asked in bulk.
#include "core/log.hpp"
#include "engine/poll.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>

namespace cmd {

namespace {

struct PollLoadTarget
{
  state::Cluster cluster;
  state::Instance instance;
};

core::Result<void> run_poll_load(Env& env, const std::string& only)
{
  TRY_ASSIGN(auto clusters, env.select_clusters(only));
  const auto ts = env.clock.now();
  state::LockSet locks(*env.store);
  std::map<metrics::MetricsSource*, std::vector<PollLoadTarget>> by_source;
  std::erase_if(clusters, [](const state::Cluster& c) { return !state::is_live(c.status); });
  const auto collect = [&](state::Cluster& c) -> core::Result<void> {
    TRY_ASSIGN(const auto drivers, env.drivers->for_cluster(c));
    TRY_ASSIGN(const auto instances, env.store->instances(c.id));
    for (const auto& i : instances) {
      if (i.role == state::Role::web && i.state == state::InstanceState::in_service) {
        by_source[drivers.metrics].push_back(PollLoadTarget{c, i});
      }
    }
    return {};
  };
  TRY_ASSIGN(const auto busy, engine::for_each_locked(env.locker(), clusters, collect, {}, &locks));
  std::vector<state::Sample> samples;
  nlohmann::json report = nlohmann::json::array();
  int missing = 0;
  std::optional<core::Error> config_error;  // a source's settings are wrong: no tick mends it
  const core::Millis max_age = core::Millis(env.config.metrics.max_age) * 1000;
  for (auto& [source, targets] : by_source) {
    std::vector<core::InstanceRef> refs;
    refs.reserve(targets.size());
    for (const auto& t : targets) {
      refs.push_back(engine::Engine::ref(t.cluster, t.instance));
    }
    // The run's deadline bounds the poll too: requests still open then are cut, and their
    // instances get a missing sample.
    source->set_deadline(env.deadline);
    const auto readings = source->poll(refs);
    for (size_t k = 0; k < targets.size(); ++k) {
      const auto& t = targets[k];
      TRY_ASSIGN(auto polled, engine::sample_of(*env.store, t.instance, readings[k], ts, max_age));
      const auto& s = polled.sample;
      const auto& error = polled.error;
      if (readings[k].error_kind == core::ErrorKind::config && !config_error) {
        config_error = core::make_error(core::ErrorKind::config, readings[k].error);
      }
      if (!polled.note.empty()) {
        spdlog::info("poll_load.counter_reset cluster={} instance={} note={}", t.cluster.name,
                     t.instance.name, core::log_quote(polled.note));
      }
      if (!error.empty()) {
        ++missing;
        spdlog::warn("poll_load.missing cluster={} instance={} error={}",
                     t.cluster.name,
                     t.instance.name,
                     core::log_quote(error));
      }
      report.push_back({{"cluster", t.cluster.name},
                        {"instance", t.instance.name},
                        {"ts", ts},
                        {"value", s.value ? nlohmann::json(*s.value) : nlohmann::json(nullptr)},
                        {"raw", s.raw ? nlohmann::json(*s.raw) : nlohmann::json(nullptr)},
                        {"error", error}});
      samples.push_back(s);
    }
  }
  if (env.dry_run() == DryRun::no) {
    TRY(env.store->insert_samples(samples));
  }
  if (env.common.json) {
    out(report.dump(2));
  } else if (!env.common.cron) {
    for (const auto& row : report) {
      out(fmt::format("{:<20} {:<28} {}",
                      row["cluster"].get<std::string>(),
                      row["instance"].get<std::string>(),
                      row["value"].is_null() ? std::string("-")
                                             : fmt::format("{:.2f}", row["value"].get<double>())));
    }
  }
  spdlog::info("poll_load.done samples={} missing={}", samples.size(), missing);
  if (config_error) {
    return tl::make_unexpected(*config_error);
  }
  if (missing > 0) {
    return core::fail(core::ErrorKind::upstream_transient,
                      fmt::format("{} of {} instances gave no sample", missing, samples.size()));
  }
  if (busy) {
    return tl::make_unexpected(*busy);
  }
  return {};
}

} // namespace

void register_poll_load(CLI::App& app)
{
  auto only = std::make_shared<std::string>();
  auto* sub = add_command(app, "poll-load", "Store one load sample per web instance in service",
                          Traits{true, true, Needs::state},
                          [only](Env& env) { return run_poll_load(env, *only); });
  sub->add_option("--cluster", *only, "Only this cluster");
}

} // namespace cmd
