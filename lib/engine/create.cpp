#include "engine/create.hpp"

#include "core/log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace engine {

core::Result<std::string> health_lines(const core::Config& config,
                                       const std::vector<std::string>& options)
{
  std::string lines;
  for (const auto& kv : options) {
    const auto eq = kv.find('=');
    lines += eq == std::string::npos ? kv + "\n"
                                     : kv.substr(0, eq) + " = " + kv.substr(eq + 1) + "\n";
  }
  if (auto checked = core::health_over(config.health, lines); !checked) {
    return core::fail(core::ErrorKind::usage, "--" + checked.error().message);
  }
  return lines;
}

namespace {

// Delete every instance of `cluster` (the LB first, as delete-cluster does), then its
// bootstrapper setup and what its servers shared (a Nova server group); return what could not
// be removed now, or "".
core::Result<std::string> remove_made(state::Store& store, Engine& engine, const Drivers& drivers,
                                      state::Cluster& cluster)
{
  TRY_ASSIGN(auto instances, store.instances(cluster.id));
  std::string left;
  for (const auto role : {state::Role::lb, state::Role::web}) {
    for (auto& i : instances) {
      if (i.role != role || i.state == state::InstanceState::gone) {
        continue;
      }
      if (i.state == state::InstanceState::requested && i.cloud_id.empty()) {
        // Never created (a create of unknown outcome leaves an orphan for gc).
        TRY(store.transition(i, state::InstanceState::gone));
        continue;
      }
      if (auto removed = engine.destroy(cluster, i); !removed) {
        spdlog::error("create_cluster.cleanup_failed cluster={} instance={} error={}",
                      cluster.name, i.name, core::log_quote(removed.error().message));
        left += (left.empty() ? "" : ", ") + i.name;
      }
    }
  }
  if (left.empty()) {
    TRY(retire_cluster(drivers, cluster.name));
  }
  return left;
}

} // namespace

bool resumable(const state::Cluster& existing)
{
  return existing.status == state::ClusterStatus::creating
         || existing.status == state::ClusterStatus::failed;
}

core::Error fail_creation(state::Store& store, Engine& engine, const Drivers& drivers,
                          state::Cluster& cluster, const core::Error& why, KeepFailed keep)
{
  spdlog::error("create_cluster.failed cluster={} keep={} error={}", cluster.name,
                keep == KeepFailed::yes ? "yes" : "no", core::log_quote(why.message));
  std::string what = "everything it made is kept (--keep-failed): see status, and "
                     "delete-cluster removes it";
  if (keep == KeepFailed::no) {
    auto left = remove_made(store, engine, drivers, cluster);
    if (!left) {
      what = fmt::format("removing what it made failed ({}): delete-cluster finishes it",
                         left.error().message);
    } else if (!left->empty()) {
      what = fmt::format("{} could not be removed yet: delete-cluster or gc finishes it", *left);
    } else {
      what = "its LB and web instances were removed";
    }
  }
  cluster.status = state::ClusterStatus::failed;
  if (auto marked = store.set_cluster_status(cluster.id, cluster.status); !marked) {
    return marked.error();
  }
  core::Error e = why;
  e.kind = core::ErrorKind::upstream_transient;
  e.retry_after.reset();
  e.message = fmt::format("cannot create cluster '{}': {}; the cluster is failed and {} "
                          "(create-cluster again retries it)",
                          cluster.name, why.message, what);
  return e;
}

} // namespace engine
