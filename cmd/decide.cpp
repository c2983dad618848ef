// cmd/decide.cpp: `sclman decide`: evaluate each cluster's policy on its history and store the
// decision with its inputs and reason. scale-out and scale-in carry it out.
#include "core/log.hpp"
#include "engine/decisions.hpp"
#include "engine/history.hpp"
#include "report/views.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace cmd {

namespace {

// A cluster's line of the report: its decision of this tick, or the pending one it defers to.
struct DecideEntry
{
  std::string cluster;
  state::DecisionRow row;
  bool deferred = false;
};

core::Result<void> run_decide(Env& env, const std::string& only)
{
  TRY_ASSIGN(auto clusters, env.select_clusters(only));
  const auto now = env.clock.now();
  const core::Millis max_age = core::Millis(env.config.metrics.max_age) * 1000;
  std::vector<DecideEntry> entries;
  std::erase_if(clusters,
                [](const state::Cluster& c) { return c.status != state::ClusterStatus::active; });
  const auto decide_one = [&](state::Cluster& c) -> core::Result<void> {
    TRY_ASSIGN(const auto config, policy::policy_from_json(c.policy));
    // A size someone asked for through sclman serve is carried out by this tick's scale-out
    // or scale-in before the policy decides again; superseding it would drop it unseen.
    TRY_ASSIGN(const auto pending, env.store->pending_decision(c.id));
    if (pending && state::external_source(pending->source)
        && now - pending->ts <= core::Millis(env.config.manager.decision_ttl) * 1000) {
      spdlog::info("decide.deferred cluster={} decision={} source={}", c.name, pending->id,
                   pending->source);
      entries.push_back({c.name, *pending, true});
      return {};
    }
    // The chain polls man_ticks_per_minute times a minute: a predictive horizon left to the
    // boot time covers one of those polls, not a minute (as simulate --tick does).
    TRY_ASSIGN(const auto history,
               engine::load_history(*env.store, c, config, now, max_age,
                                    env.config.manager.boot_timeout,
                                    60 / env.config.manager.ticks_per_minute));
    const auto decision = policy::decide(history, config, now);
    auto row = engine::decision_row(c, decision, now);
    // A webhook receiver's hold (sclman serve) restrains the policy while it lasts.
    TRY_ASSIGN(const auto holds, env.store->active_holds(c.id, now));
    if (engine::apply_holds(row, holds)) {
      spdlog::info("decide.held cluster={} reason={}", c.name, core::log_quote(row.reason));
    }
    entries.push_back({c.name, std::move(row), false});
    return {};
  };
  // The clusters' locks are held until the decisions are stored, in one transaction: one
  // commit a tick, not one a cluster. Those decided before a cluster that failed are stored.
  state::LockSet locks(*env.store);
  const auto busy = engine::for_each_locked(env.locker(), clusters, decide_one, {}, &locks);
  std::vector<state::DecisionRow> rows;
  for (const auto& e : entries) {
    if (!e.deferred) {
      rows.push_back(e.row);
    }
  }
  if (env.dry_run() == DryRun::no) {
    TRY(engine::record_decisions(*env.store, rows));
  }
  locks.release();
  nlohmann::json report = nlohmann::json::array();
  std::size_t next = 0;
  for (auto& e : entries) {
    if (!e.deferred) {
      e.row.id = rows[next++].id;
      const auto level = e.row.action == policy::Action::hold ? spdlog::level::debug
                                                              : spdlog::level::info;
      spdlog::log(level, "decide.decision cluster={} action={} from={} to={} reason={}",
                  e.cluster, policy::to_string(e.row.action), e.row.from_size, e.row.to_size,
                  e.row.reason);
    }
    auto view = report::decision_json(e.row);
    view["cluster"] = e.cluster;
    if (!e.deferred) {
      // With --dry-run nothing is stored for `why`: the explanation is shown here instead.
      view["explanation"] = nlohmann::json::parse(e.row.explanation);
    }
    report.push_back(std::move(view));
  }
  if (!busy) {
    return tl::make_unexpected(busy.error());
  }
  if (env.common.json) {
    out(report.dump(2));
  } else if (!env.common.cron) {
    for (const auto& d : report) {
      out(fmt::format("{:<20} {:<9} {}->{} {}",
                      d["cluster"].get<std::string>(),
                      d["action"].get<std::string>(),
                      d["from"].get<int>(),
                      d["to"].get<int>(),
                      d["reason"].get<std::string>()));
    }
  }
  if (*busy) {
    return tl::make_unexpected(**busy);
  }
  return {};
}

} // namespace

void register_decide(CLI::App& app)
{
  auto only = std::make_shared<std::string>();
  auto* sub = add_command(app, "decide", "Evaluate each cluster's policy and record a decision",
                          Traits{true, true, Needs::state},
                          [only](Env& env) { return run_decide(env, *only); });
  sub->add_option("--cluster", *only, "Only this cluster");
}

} // namespace cmd
