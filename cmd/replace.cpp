// cmd/replace.cpp: `sclman replace CLUSTER`: a rolling replacement of the cluster's web
// instances (or, with --instance, of one) with ones on a new image or flavor (or the same ones:
// a refresh), one batch at a time through the normal states. The command starts it; every run
// of the chain carries it on (Engine::step_rollout); `status` shows it.
#include "actions.hpp"
#include "changes.hpp"
#include "core/log.hpp"
#include "core/names.hpp"
#include "engine/manual.hpp"
#include "report/views.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>


namespace cmd {

namespace {

// Print --json's document: the cluster and its rollout `r` (null id: one not started).
core::Result<void> print_rollout(Env& env, const state::Cluster& c, const state::Rollout& r)
{
  TRY_ASSIGN(const auto instances, env.store->instances(c.id));
  auto view = report::rollout_json(r, instances);
  if (r.id == 0) {
    // Not started: it would replace every live web instance.
    const auto total =
      std::count_if(instances.begin(), instances.end(), [&](const state::Instance& i) {
        return state::is_live_web(i) && (!r.instance || i.name == *r.instance);
      });
    view["id"] = nullptr;
    view["total"] = total;
    view["left"] = total;
    view["started_at"] = nullptr;
  }
  out(envelope(env.command, env.common.dry_run, {{"cluster", c.name}, {"rollout", view}})
        .dump(2));
  return {};
}

struct ReplaceOptions
{
  std::string cluster;
  std::optional<std::string> image;
  std::optional<std::string> flavor;
  std::optional<std::string> instance;
  int batch = 1;
  std::optional<int> min_in_service;
  int pause_s = 0;
  bool wait = false;
  bool cancel = false;
};

core::Result<void> cancel(Env& env, state::Cluster& c)
{
  TRY_ASSIGN(auto r, env.store->running_rollout(c.id));
  if (!r) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("no rollout of cluster '{}' is running", c.name));
  }
  if (env.dry_run() == DryRun::yes) {
    if (env.common.json) {
      r->status = state::RolloutStatus::cancelled;
      return print_rollout(env, c, *r);
    }
    out(fmt::format("would cancel rollout {} of '{}'", r->id, c.name));
    return {};
  }
  TRY(env.store->end_rollout(*r, state::RolloutStatus::cancelled, "cancelled by hand"));
  spdlog::info("rollout.cancelled cluster={} rollout={} batches={}", c.name, r->id, r->batches);
  if (env.common.json) {
    TRY_ASSIGN(const auto ended, env.store->last_rollout(c.id));
    return print_rollout(env, c, ended.value_or(*r));
  }
  out(fmt::format("rollout {} of '{}' cancelled after {} batches: new instances get image '{}' "
                  "and flavor '{}' again; the instances it made stay",
                  r->id, c.name, r->batches, core::printable(r->from_image, 64),
                  core::printable(r->from_flavor, 64)));
  return {};
}

// Check what the options ask of cluster `c`; return the rollout to start.
core::Result<state::Rollout> plan(const state::Cluster& c, const ReplaceOptions& o)
{
  state::Rollout r;
  r.instance = o.instance;
  r.cluster_id = c.id;
  r.from_image = c.image;
  r.from_flavor = c.flavor;
  r.to_image = o.image.value_or(c.image);
  r.to_flavor = o.flavor.value_or(c.flavor);
  for (const auto& [option, value, was] :
       {std::tuple{"--image", &r.to_image, &c.image},
        std::tuple{"--flavor", &r.to_flavor, &c.flavor}}) {
    // Sent to the cloud when a server is created (a JSON string, a query parameter); empty
    // only where the provider takes none (the cluster has none either).
    if (!core::is_printable(*value, 255) || (value->empty() && !was->empty())) {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("{} '{}': a name or id, printable text of 1 to 255 bytes",
                                    option, core::printable(*value, 40)));
    }
  }
  r.batch = o.batch;
  r.pause_s = o.pause_s;
  r.min_in_service = o.min_in_service.value_or(std::max(0, c.desired - o.batch));
  if (r.min_in_service > c.desired) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--min-in-service {} is above the desired size of '{}' ({})",
                                  r.min_in_service, c.name, c.desired));
  }
  return r;
}

// Return whether the cluster's rollout `id` still runs.
core::Result<bool> running(Env& env, const state::Cluster& c, std::int64_t id)
{
  TRY_ASSIGN(const auto r, env.store->running_rollout(c.id));
  return r && r->id == id;
}

core::Result<void> run_replace(Env& env, const ReplaceOptions& o)
{
  TRY(core::validate_cluster_name(o.cluster));
  TRY_ASSIGN(auto lock, env.lock_cluster(o.cluster));
  TRY_ASSIGN(auto found, env.store->find_cluster(o.cluster));
  if (!found || !state::is_live(found->status)) {
    return core::fail(core::ErrorKind::usage, fmt::format("no cluster named '{}'", o.cluster));
  }
  auto& c = *found;
  if (o.cancel) {
    return cancel(env, c);
  }
  if (c.status != state::ClusterStatus::active) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("cluster '{}' is still being created: replace it once it is "
                                  "active",
                                  c.name));
  }
  if (o.instance) {
    TRY(core::validate_instance_name(*o.instance));
    TRY(engine::check_member(*env.store, c, *o.instance, "replaced"));
  }
  TRY_ASSIGN(auto r, plan(c, o));
  TRY_ASSIGN(const auto already, env.store->running_rollout(c.id));
  if (already) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("rollout {} of '{}' is running; sclman replace {} --cancel "
                                  "stops it",
                                  already->id, c.name, c.name));
  }
  if (env.dry_run() == DryRun::yes && env.common.json) {
    return print_rollout(env, c, r);
  }
  if (env.dry_run() == DryRun::yes) {
    out(fmt::format("would replace {} of '{}' with image '{}' and flavor '{}', {} per batch, "
                    "at least {} in service, {} s between batches",
                    r.instance ? "'" + *r.instance + "'" : std::string("the web instances"),
                    c.name, core::printable(r.to_image, 64), core::printable(r.to_flavor, 64),
                    r.batch, r.min_in_service, r.pause_s));
    return {};
  }
  TRY_ASSIGN(const auto was, engine::instance_states(*env.store, c.id));
  TRY(env.store->start_rollout(r));
  c.image = r.to_image;
  c.flavor = r.to_flavor;
  spdlog::info("rollout.started cluster={} rollout={} instances={}{} from_image={} to_image={} "
               "from_flavor={} to_flavor={} batch={} min_in_service={} pause_s={}",
               c.name, r.id, r.total, r.instance ? " instance=" + *r.instance : std::string(),
               core::log_quote(r.from_image), core::log_quote(r.to_image),
               core::log_quote(r.from_flavor), core::log_quote(r.to_flavor), r.batch,
               r.min_in_service, r.pause_s);
  auto engine = env.engine_for(c);
  auto done = engine ? engine->reconcile(c, engine::Step::grow)
                     : core::Result<void>(tl::make_unexpected(engine.error()));
  if (!done) {
    // Nothing of it stays but the record of its failure: the cluster's image and flavor are
    // the old ones again, and what the run began is taken back.
    spdlog::error("rollout.failed cluster={} rollout={} error={}", c.name, r.id,
                  core::log_quote(done.error().message));
    TRY_ASSIGN(auto still, env.store->running_rollout(c.id));
    if (still && still->id == r.id) {
      TRY(env.store->end_rollout(*still, state::RolloutStatus::failed, done.error().message));
    }
    c.image = r.from_image;
    c.flavor = r.from_flavor;
    if (engine) {
      if (auto back = engine->take_back(c, was); !back) {
        spdlog::error("rollout.take_back_failed cluster={} error={}", c.name,
                      core::log_quote(back.error().message));
      }
    }
    return done;
  }
  while (o.wait && !engine->out_of_time()) {
    TRY_ASSIGN(const bool still, running(env, c, r.id));
    if (!still) {
      break;
    }
    env.clock.sleep_for(500);
    if (auto step = engine->reconcile(c, engine::Step::all); !step) {
      spdlog::warn("replace.retry_later cluster={} error={}", c.name,
                   core::log_quote(step.error().message));
    }
  }
  TRY_ASSIGN(const auto now, env.store->last_rollout(c.id));
  if (now && now->id == r.id && now->status == state::RolloutStatus::failed) {
    return core::fail(core::ErrorKind::upstream_rejected,
                      fmt::format("rollout {} of '{}' failed: {}", r.id, c.name,
                                  core::printable(now->error, 300)));
  }
  if (env.common.json && now) {
    return print_rollout(env, c, *now);
  }
  out(fmt::format("rollout {} of '{}': {} to image '{}' and flavor '{}', {} per batch: {}",
                  r.id, c.name,
                  r.instance ? "'" + *r.instance + "'" : fmt::format("{} web instances", r.total),
                  core::printable(r.to_image, 64), core::printable(r.to_flavor, 64), r.batch,
                  now && now->id == r.id && now->status == state::RolloutStatus::done
                    ? "done"
                    : "running (the chain carries it on; sclman status shows it)"));
  return {};
}

} // namespace

core::Result<void> replace_member(Env& env, const std::string& cluster,
                                  const std::string& instance)
{
  ReplaceOptions o;
  o.cluster = cluster;
  o.instance = instance;
  return run_replace(env, o);
}

void register_replace(CLI::App& app)
{
  auto o = std::make_shared<ReplaceOptions>();
  auto* sub = add_command(app, "replace",
                          "Replace a cluster's web instances, a batch at a time (new image or "
                          "flavor, or a refresh)",
                          Traits{true, false, Needs::state},
                          [o](Env& env) { return run_replace(env, *o); });
  sub->add_option("cluster", o->cluster, "Cluster name")->required();
  sub->add_option("--image", o->image, "The new instances' image (default: the cluster's)");
  sub->add_option("--flavor", o->flavor, "The new instances' flavor (default: the cluster's)");
  sub->add_option("--instance", o->instance,
                  "Replace only this web instance: its replacement boots first, then it drains");
  sub->add_option("--batch", o->batch, "Instances replaced per batch (default 1)")
    ->check(CLI::Range(1, state::k_max_rollout_batch));
  sub->add_option("--min-in-service", o->min_in_service,
                  "Never fewer in service while draining to make room (default: desired minus "
                  "batch)")
    ->check(CLI::Range(0, state::k_max_rollout_size));
  sub->add_option("--pause", o->pause_s, "Seconds between one batch's end and the next (default 0)")
    ->check(CLI::Range(0, state::k_max_rollout_pause_s));
  sub->add_flag("--wait", o->wait, "Carry the rollout on until it ends or the run deadline");
  sub->add_flag("--cancel", o->cancel, "Stop the running rollout; the cluster's old image and "
                                      "flavor come back")
    ->excludes("--image")
    ->excludes("--flavor")
    ->excludes("--instance")
    ->excludes("--batch")
    ->excludes("--min-in-service")
    ->excludes("--pause")
    ->excludes("--wait");
}

} // namespace cmd
