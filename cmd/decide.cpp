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

core::Result<void> run_decide(Env& env, const std::string& only)
{
  TRY_ASSIGN(auto clusters, env.select_clusters(only));
  const auto now = env.clock.now();
  const core::Millis max_age = core::Millis(env.config.metrics.max_age) * 1000;
  nlohmann::json report = nlohmann::json::array();
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
      auto view = report::decision_json(*pending);
      view["cluster"] = c.name;
      report.push_back(std::move(view));
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
    if (env.dry_run() == DryRun::no) {
      TRY(engine::record_decision(*env.store, row));
    }
    const auto level = decision.action == policy::Action::hold ? spdlog::level::debug
                                                                : spdlog::level::info;
    spdlog::log(level, "decide.decision cluster={} action={} from={} to={} reason={}", c.name,
                policy::to_string(row.action), row.from_size, row.to_size, row.reason);
    auto view = report::decision_json(row);
    view["cluster"] = c.name;
    // With --dry-run nothing is stored for `why`: the explanation is shown here instead.
    view["explanation"] = nlohmann::json::parse(row.explanation);
    report.push_back(std::move(view));
    return {};
  };
  TRY_ASSIGN(const auto busy, engine::for_each_locked(env.locker(), clusters, decide_one));
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
  if (busy) {
    return tl::make_unexpected(*busy);
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
