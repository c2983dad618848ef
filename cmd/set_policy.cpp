// cmd/set_policy.cpp: `sclman set-policy CLUSTER [--policy NAME] [--min N ...]`: validate and
// store a new policy for an existing cluster; the next `decide` uses it.
#include "changes.hpp"
#include "policy/change.hpp"
#include "policy/policy.hpp"
#include "policy/schedule.hpp"
#include "actions.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>

namespace cmd {

namespace {

struct SetPolicyOptions
{
  std::string name;
  std::string policy;
  std::map<std::string, std::optional<int>> integers;  // --min, --cooldown, ... by policy key
  // --high, --victim, ...: text, read as --set values are, so errors show the value as given
  // ("NaN", "")
  std::map<std::string, std::optional<std::string>> numbers;
  std::vector<std::string> sets;  // KEY=VALUE, VALUE in JSON (a bare word is a string)
};

// Return the change `o` asks for, with the marks threshold and step take from `config`.
core::Result<policy::Change> change_of(const SetPolicyOptions& o, const core::Config& config)
{
  const auto& m = config.manager;
  policy::Change change{o.policy, m.sensitivity, m.high_load, m.low_load, m.cooldown, {}};
  for (const auto& [key, value] : o.integers) {
    if (value) {
      change.settings.emplace_back(key, std::to_string(*value));
    }
  }
  for (const auto& [key, text] : o.numbers) {
    if (text) {
      change.settings.emplace_back(key, *text);
    }
  }
  for (const auto& kv : o.sets) {
    TRY_ASSIGN(auto setting, policy::parse_setting(kv));
    change.settings.push_back(std::move(setting));
  }
  return change;
}

core::Result<void> run_set_policy(Env& env, const SetPolicyOptions& o)
{
  TRY_ASSIGN(const auto clusters, env.select_clusters(o.name));
  auto c = clusters.front();
  TRY_ASSIGN(auto lock, env.lock_cluster(c.name));
  // Read again under the lock: a run that held it may have changed the row.
  TRY_ASSIGN(const auto fresh, env.store->find_cluster(c.name));
  if (!fresh) {
    return core::fail(core::ErrorKind::usage, fmt::format("no cluster named '{}'", c.name));
  }
  c = *fresh;
  TRY_ASSIGN(const auto old_config, policy::policy_from_json(c.policy));
  if (!o.policy.empty()) {
    TRY(policy::preset(o.policy));  // an unknown preset is a usage error of its own
  }
  TRY_ASSIGN(const auto change, change_of(o, env.config));
  auto config = policy::apply(old_config, change).and_then([&](policy::PolicyConfig p) {
    return policy::check_ceiling(p, env.config.manager.max_instances).map([&] { return p; });
  });
  if (!config) {
    return core::fail(core::ErrorKind::usage, fmt::format("cannot set the policy of '{}': {}",
                                                          c.name, config.error().message));
  }
  const auto before = nlohmann::json::parse(policy::to_json(old_config));
  const auto after_text = policy::to_json(*config);
  const auto after = nlohmann::json::parse(after_text);
  const auto diff = policy::changed_keys(old_config, *config);
  if (env.dry_run() == DryRun::no && !diff.empty()) {
    TRY(env.store->set_policy(c.id, after_text));
    spdlog::info("set_policy.changed cluster={} policy={}", c.name, after_text);
  }
  if (env.common.json) {
    out(envelope(env.command, env.common.dry_run,
                 {{"cluster", c.name}, {"old", before}, {"new", after}, {"changed", !diff.empty()}})
          .dump(2));
    return {};
  }
  if (diff.empty()) {
    out(fmt::format("cluster '{}': policy unchanged ({})", c.name,
                    policy::to_string(old_config.kind)));
    return {};
  }
  std::string text = fmt::format("{}cluster '{}': policy {} -> {}\n",
                                 env.common.dry_run ? "would change " : "", c.name,
                                 policy::to_string(old_config.kind),
                                 policy::to_string(config->kind));
  for (const auto& line : diff) {
    text += "  " + line + "\n";
  }
  if (c.desired < config->min_size || c.desired > config->max_size) {
    text += fmt::format("  desired size {} is outside [{}, {}]: the next decide corrects it\n",
                        c.desired, config->min_size, config->max_size);
  }
  out(text);
  return {};
}

} // namespace

core::Result<void> set_policy(Env& env, const PolicyRequest& r)
{
  SetPolicyOptions o;
  o.name = r.name;
  o.policy = r.policy;
  o.integers["min"] = r.min;
  o.integers["max"] = r.max;
  return run_set_policy(env, o);
}

void register_set_policy(CLI::App& app)
{
  auto o = std::make_shared<SetPolicyOptions>();
  auto* sub = add_command(app, "set-policy", "Change the scaling policy of a cluster",
                          Traits{true, true, Needs::state},
                          [o](Env& env) { return run_set_policy(env, *o); });
  sub->add_option("cluster", o->name, "The cluster")->required();
  sub->add_option("--policy", o->policy,
                  "Switch to a preset: threshold, step, target, hpa, target-tracking, "
                  "predictive (min, max and schedule are kept)");
  sub->add_option("--min", o->integers["min"], "Never fewer web instances");
  sub->add_option("--max", o->integers["max"], "Never more web instances");
  sub->add_option("--cooldown", o->integers["cooldown"],
                  "Seconds after an action before the next");
  sub->add_option("--scale-in-cooldown", o->integers["scale_in_cooldown"],
                  "Seconds after an action before a scale-in (-1: --cooldown)");
  sub->add_option("--warmup", o->integers["warmup"],
                  "Seconds a new instance's samples are left out");
  sub->add_option("--stale", o->integers["stale"],
                  "Seconds after which the newest poll counts as missing");
  sub->add_option("--flap-budget", o->integers["flap_budget"],
                  "At most this many size changes per rolling hour (0: no limit)");
  sub->add_option("--victim", o->numbers["victim"],
                  "Which in-service instance a scale-in drains first: newest, oldest, "
                  "least-busy or oldest-image");
  sub->add_option("--sensitivity", o->integers["sensitivity"],
                  "threshold, step: consecutive polls");
  sub->add_option("--high", o->numbers["high"],
                  "threshold, step: per-instance load above which a poll is high");
  sub->add_option("--low", o->numbers["low"],
                  "threshold, step: per-instance load below which a poll is calm");
  sub->add_option("--target", o->numbers["target"], "target: the per-instance load to track");
  sub->add_option("--capacity", o->numbers["capacity"],
                  "predictive: the load of one full instance");
  sub->add_option("--set", o->sets,
                  "Any policy key as KEY=JSON (sclman(1) lists them), e.g. "
                  "--set 'schedule=[{\"cron\":\"0 8 * * 1-5\",\"min\":4,\"max\":10}]'; repeatable");
  sub->footer("Policy keys for --set (name, rules that read it, type and range):\n"
              + policy::key_help());
}

} // namespace cmd
