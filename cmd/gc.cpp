// cmd/gc.cpp: `sclman gc`: prune old samples and decisions, expire stale decisions, clean up
// failed instances, finish interrupted deletes, and repair orphans both ways.
#include "cloud/local.hpp"
#include "cloud/openstack_cluster.hpp"
#include "core/failpoint.hpp"
#include "core/log.hpp"
#include "local/nginx.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>
#include <set>

namespace cmd {

namespace {

struct Options
{
  std::string cluster;
  bool clear_failures = false;
};

struct Counts
{
  int samples = 0;
  int decisions_pruned = 0;
  int decisions_expired = 0;
  int instances_cleaned = 0;
  int orphan_servers = 0;
  int orphan_processes = 0;
  int never_registered = 0;
  int orphan_registrations = 0;  // Chef nodes and clients without an instance
};

// Mark booting instances whose Chef node never registered within the deadline as error (the
// cleanup below then deletes them).
core::Result<void> check_registrations(Env& env, state::Cluster& c, cm::Bootstrapper& b,
                                       Counts& counts)
{
  TRY_ASSIGN(auto instances, env.store->instances(c.id));
  for (auto& i : instances) {
    if (i.state != state::InstanceState::active
        && i.state != state::InstanceState::bootstrapping) {
      continue;
    }
    TRY_ASSIGN(const auto late, b.registration_overdue(engine::Engine::ref(c, i)));
    if (late) {
      TRY(env.store->transition(i, state::InstanceState::error, *late));
      spdlog::warn("gc.never_registered cluster={} instance={}", c.name, i.name);
      ++counts.never_registered;
    }
  }
  return {};
}

core::Result<void> clean_cluster(Env& env, state::Cluster& c, const Options& o, Counts& counts)
{
  if (o.clear_failures && c.failures != 0) {
    spdlog::info("gc.failures_cleared cluster={} failures={}", c.name, c.failures);
    if (env.dry_run() == DryRun::no) {
      TRY(env.store->set_failures(c.id, 0));
    }
  }
  if (env.dry_run() == DryRun::yes) {
    TRY_ASSIGN(const auto instances, env.store->instances(c.id));
    for (const auto& i : instances) {
      if (i.state == state::InstanceState::error || c.status == state::ClusterStatus::deleting) {
        out(fmt::format("would delete instance '{}' ({})", i.name, state::to_string(i.state)));
      }
    }
    return {};
  }
  TRY_ASSIGN(auto engine, env.engine_for(c));
  TRY(engine.check_health(c));
  TRY_ASSIGN(auto drivers, env.drivers->for_cluster(c));
  TRY(check_registrations(env, c, *drivers.bootstrapper, counts));
  TRY_ASSIGN(auto instances, env.store->instances(c.id));
  for (auto& i : instances) {
    if (i.state == state::InstanceState::error || c.status == state::ClusterStatus::deleting) {
      spdlog::info("gc.instance_cleanup cluster={} instance={} state={} error={}",
                   c.name,
                   i.name,
                   state::to_string(i.state),
                   core::log_quote(i.error));
      const auto error = i.error;
      TRY(engine.destroy(c, i));
      SCLMAN_FAILPOINT("gc_cleanup.after_destroy");
      if (!error.empty()) {
        i.error = error;  // keep why it failed, for the operator
        TRY(env.store->update_instance(i));
      }
      ++counts.instances_cleaned;
    }
  }
  TRY_ASSIGN(const auto remaining, env.store->instances(c.id));
  std::set<std::string> live;
  for (const auto& i : remaining) {
    live.insert(i.name);
  }
  TRY_ASSIGN(const int orphans, drivers.bootstrapper->remove_orphans(c.name, live));
  counts.orphan_registrations += orphans;
  if (c.status == state::ClusterStatus::deleting) {
    TRY(drivers.bootstrapper->retire_cluster(c.name));
    TRY(env.store->set_cluster_status(c.id, state::ClusterStatus::deleted));
    spdlog::info("gc.cluster_deleted cluster={}", c.name);
  }
  return {};
}

// Servers and nginx masters below the local root that no live instance owns.
core::Result<void> clean_orphans(Env& env, Counts& counts)
{
  namespace fs = std::filesystem;
  const auto& root = env.drivers->local_root();
  TRY_ASSIGN(const auto names, env.store->live_instance_names());
  const std::set<std::string> known(names.begin(), names.end());
  TRY_ASSIGN(const auto servers, env.drivers->local_provider->list());
  for (const auto& s : servers) {
    if (known.count(s.name)) {
      continue;
    }
    if (s.cluster.empty()) {
      spdlog::warn("gc.untagged_left_alone path={}/{}", root, s.name);
      continue;
    }
    // Only the cluster's lock holder may touch its servers.
    auto lock = env.lock_cluster(s.cluster);
    if (!lock) {
      continue;
    }
    spdlog::info("gc.orphan_server cluster={} server={}", s.cluster, s.name);
    ++counts.orphan_servers;
    if (env.dry_run() == DryRun::yes) {
      continue;
    }
    TRY_ASSIGN(const auto jid, env.store->begin_intent(s.cluster, s.name, "delete_orphan"));
    SCLMAN_FAILPOINT("gc_orphan.before");
    auto removed = env.drivers->local_provider->remove(
      core::InstanceRef{s.cluster, s.name, s.role, s.address, s.id});
    TRY(env.store->finish_intent(jid, removed.has_value(),
                                 removed ? "" : removed.error().message));
    TRY(removed);
  }
  for (const auto& [pid, prefix] : local::masters_below(root)) {
    const auto name = fs::path(prefix).filename().string();
    if (known.count(name) || fs::path(prefix).parent_path() != fs::path(root)) {
      continue;
    }
    spdlog::info("gc.orphan_process pid={} prefix={}", pid, prefix);
    ++counts.orphan_processes;
    if (env.dry_run() == DryRun::no) {
      TRY(local::Nginx(env.config.local.nginx, prefix).stop(10'000));
    }
  }
  return {};
}

// Nova servers tagged `sclman` that no live instance owns, older than [OPENSTACK]
// orphan_grace (a create may be under way in another run). Untagged servers are never listed.
core::Result<void> clean_openstack_orphans(Env& env,
                                           const std::vector<state::Cluster>& clusters,
                                           Counts& counts)
{
  std::set<std::string> columns;
  for (const auto& c : clusters) {
    if (cloud::is_openstack_provider(c.provider)) {
      columns.insert(c.provider);
    }
  }
  if (env.config.manager.provider == "openstack") {
    columns.insert("openstack");
  }
  if (columns.empty()) {
    return {};
  }
  // Live instance name -> the id of its server ("" until a create answered).
  std::map<std::string, std::string> known;
  for (const auto& c : clusters) {
    TRY_ASSIGN(const auto instances, env.store->instances(c.id));
    for (const auto& i : instances) {
      known[i.name] = i.cloud_id;
    }
  }
  const auto now = env.clock.now();
  const core::Millis grace = core::Millis(env.config.openstack.orphan_grace) * 1000;
  for (const auto& column : columns) {
    TRY_ASSIGN(auto* nova, env.drivers->openstack->nova(column));
    TRY_ASSIGN(const auto servers, nova->tagged_servers());
    for (const auto& s : servers) {
      // A second server with a live instance's name (a create sent twice) is an orphan too:
      // the instance owns only the server whose id it recorded.
      if (const auto it = known.find(s.name);
          it != known.end() && (it->second.empty() || it->second == s.id)) {
        continue;
      }
      const auto server = nova->to_server(s);
      if (server.cluster.empty()) {
        spdlog::warn("gc.orphan_without_cluster_left_alone server={} id={}", s.name, s.id);
        continue;
      }
      if (s.created == 0 || now - s.created < grace) {
        spdlog::info("gc.orphan_in_grace cluster={} server={} id={}", server.cluster, s.name,
                     s.id);
        continue;
      }
      auto lock = env.lock_cluster(server.cluster);
      if (!lock) {
        continue;
      }
      spdlog::info("gc.orphan_server cluster={} server={} id={}", server.cluster, s.name, s.id);
      ++counts.orphan_servers;
      if (env.dry_run() == DryRun::yes) {
        continue;
      }
      TRY_ASSIGN(const auto jid, env.store->begin_intent(server.cluster, s.name, "delete_orphan"));
      auto removed = nova->remove(core::InstanceRef{server.cluster, s.name, server.role, "", s.id});
      TRY(env.store->finish_intent(jid, removed.has_value(),
                                   removed ? "" : removed.error().message));
      TRY(removed);
    }
  }
  return {};
}

core::Result<void> run_gc(Env& env, const Options& o)
{
  TRY_ASSIGN(auto clusters, env.select_clusters(o.cluster));
  const auto now = env.clock.now();
  Counts counts;
  const core::Millis retention = core::Millis(env.config.manager.retention_days) * 86'400'000;
  if (env.dry_run() == DryRun::no) {
    TRY_ASSIGN(counts.samples, env.store->prune_samples(now - retention));
    TRY_ASSIGN(counts.decisions_pruned, env.store->prune_decisions(now - retention));
    TRY_ASSIGN(counts.decisions_expired,
               env.store->expire_decisions(now
                                           - core::Millis(env.config.manager.decision_ttl) * 1000));
  }
  std::optional<core::Error> busy;
  for (auto& c : clusters) {
    auto lock = env.lock_cluster(c.name);
    if (!lock) {
      busy = lock.error();
      continue;
    }
    TRY(clean_cluster(env, c, o, counts));
  }
  if (o.cluster.empty()) {
    TRY(clean_orphans(env, counts));
    TRY(clean_openstack_orphans(env, clusters, counts));
  }
  spdlog::info("gc.done samples_pruned={} decisions_pruned={} decisions_expired={} "
               "instances_cleaned={} orphan_servers={} orphan_processes={} never_registered={} "
               "orphan_registrations={}",
               counts.samples,
               counts.decisions_pruned,
               counts.decisions_expired,
               counts.instances_cleaned,
               counts.orphan_servers,
               counts.orphan_processes,
               counts.never_registered,
               counts.orphan_registrations);
  if (env.common.json) {
    out(nlohmann::json{{"samples_pruned", counts.samples},
                       {"decisions_pruned", counts.decisions_pruned},
                       {"decisions_expired", counts.decisions_expired},
                       {"instances_cleaned", counts.instances_cleaned},
                       {"orphan_servers", counts.orphan_servers},
                       {"orphan_processes", counts.orphan_processes},
                       {"never_registered", counts.never_registered},
                       {"orphan_registrations", counts.orphan_registrations}}
          .dump(2));
  }
  if (busy) {
    return tl::make_unexpected(*busy);
  }
  return {};
}

} // namespace

void register_gc(CLI::App& app)
{
  auto o = std::make_shared<Options>();
  auto* sub = add_command(app, "gc",
                          "Prune history, clean up failed instances, repair orphans",
                          Traits{true, true, Needs::state},
                          [o](Env& env) { return run_gc(env, *o); });
  sub->add_option("--cluster", o->cluster, "Only this cluster (no orphan scan)");
  sub->add_flag("--clear-failures", o->clear_failures,
                "Reset the failed-action count so scaling resumes");
}

} // namespace cmd
