// cmd/set_policy.cpp: `sclman set-policy CLUSTER [--policy NAME] [--min N ...]`: validate and
// store a new policy for an existing cluster; the next `decide` uses it.
#include "policy/policy.hpp"
#include "policy/schedule.hpp"
#include "run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

namespace cmd {

namespace {

struct Options
{
  std::string name;
  std::string policy;
  std::optional<int> min;
  std::optional<int> max;
  std::optional<int> cooldown;
  std::optional<int> scale_in_cooldown;
  std::optional<int> warmup;
  std::optional<int> stale;
  std::optional<int> flap_budget;
  std::optional<int> sensitivity;
  // The number options are kept as text and read as --set values are, so that the policy's
  // key table checks them and its message shows the value as given ("NaN", "").
  std::optional<std::string> high;
  std::optional<std::string> low;
  std::optional<std::string> target;
  std::optional<std::string> capacity;
  std::vector<std::string> sets;  // KEY=VALUE, VALUE in JSON (a bare word is a string)
};

core::Error usage(std::string message)
{
  return core::make_error(core::ErrorKind::usage, std::move(message));
}

// Return the JSON value of `text` as given to --set or a number option: JSON if it parses,
// else the text as a string (a bare word such as percent).
nlohmann::json value_of(const std::string& text)
{
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return text;
  }
}

// Return the policy JSON object `o` asks for, starting from the cluster's `current` one.
core::Result<nlohmann::json> requested(const nlohmann::json& current, const Options& o,
                                       const core::Config& config)
{
  nlohmann::json j = current;
  if (!o.policy.empty()) {
    // A new kind starts from its preset's defaults; the cluster keeps its bounds and schedule.
    auto preset = policy::preset(o.policy);
    if (!preset) {
      return tl::make_unexpected(preset.error());
    }
    if (preset->kind == policy::Kind::threshold || preset->kind == policy::Kind::step) {
      // As create-cluster: the original tool's rule takes its marks from [MANAGER].
      preset->sensitivity = config.manager.sensitivity;
      preset->high = config.manager.high_load;
      preset->low = config.manager.low_load;
      preset->cooldown_s = config.manager.cooldown;
    }
    j = nlohmann::json::parse(policy::to_json(*preset));
    for (const char* key : {"min", "max", "schedule"}) {
      if (current.contains(key)) {
        j[key] = current[key];
      }
    }
  }
  const auto put = [&j](const char* key, const auto& value) {
    if (value) {
      j[key] = *value;
    }
  };
  put("min", o.min);
  put("max", o.max);
  put("cooldown", o.cooldown);
  put("scale_in_cooldown", o.scale_in_cooldown);
  put("warmup", o.warmup);
  put("stale", o.stale);
  put("flap_budget", o.flap_budget);
  put("sensitivity", o.sensitivity);
  const auto put_text = [&j](const char* key, const std::optional<std::string>& text) {
    if (text) {
      j[key] = value_of(*text);
    }
  };
  put_text("high", o.high);
  put_text("low", o.low);
  put_text("target", o.target);
  put_text("capacity", o.capacity);
  for (const auto& kv : o.sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return tl::make_unexpected(usage(fmt::format("--set '{}': expected KEY=VALUE", kv)));
    }
    j[kv.substr(0, eq)] = value_of(kv.substr(eq + 1));
  }
  return j;
}

// Return "key: old -> new" lines for the keys that differ.
std::vector<std::string> changes(const nlohmann::json& before, const nlohmann::json& after)
{
  std::set<std::string> keys;
  for (const auto& item : before.items()) {
    keys.insert(item.key());
  }
  for (const auto& item : after.items()) {
    keys.insert(item.key());
  }
  std::vector<std::string> out;
  for (const auto& k : keys) {
    const auto a = before.contains(k) ? before[k].dump() : std::string("-");
    const auto b = after.contains(k) ? after[k].dump() : std::string("-");
    if (a != b) {
      out.push_back(fmt::format("{}: {} -> {}", k, a, b));
    }
  }
  return out;
}

core::Result<void> run_set_policy(Env& env, const Options& o)
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
  const auto before = nlohmann::json::parse(policy::to_json(old_config));
  TRY_ASSIGN(const auto wanted, requested(before, o, env.config));
  auto config = policy::policy_from_json(wanted.dump());
  if (!config) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("cannot set the policy of '{}': {}", c.name,
                                  config.error().message));
  }
  if (auto capped = policy::check_ceiling(*config, env.config.manager.max_instances); !capped) {
    return core::fail(core::ErrorKind::usage, fmt::format("cannot set the policy of '{}': {}",
                                                          c.name, capped.error().message));
  }
  const auto after_text = policy::to_json(*config);
  const auto after = nlohmann::json::parse(after_text);
  const auto diff = changes(before, after);
  if (env.dry_run() == DryRun::no && !diff.empty()) {
    TRY(env.store->set_policy(c.id, after_text));
    spdlog::info("set_policy.changed cluster={} policy={}", c.name, after_text);
  }
  if (env.common.json) {
    out(nlohmann::json{{"cluster", c.name},
                       {"old", before},
                       {"new", after},
                       {"changed", !diff.empty()},
                       {"dry_run", env.common.dry_run}}
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

void register_set_policy(CLI::App& app)
{
  auto o = std::make_shared<Options>();
  auto* sub = add_command(app, "set-policy", "Change the scaling policy of a cluster",
                          Traits{true, true, Needs::state},
                          [o](Env& env) { return run_set_policy(env, *o); });
  sub->add_option("cluster", o->name, "The cluster")->required();
  sub->add_option("--policy", o->policy,
                  "Switch to a preset: threshold, step, target, hpa, target-tracking, "
                  "predictive (min, max and schedule are kept)");
  sub->add_option("--min", o->min, "Never fewer web instances");
  sub->add_option("--max", o->max, "Never more web instances");
  sub->add_option("--cooldown", o->cooldown, "Seconds after an action before the next");
  sub->add_option("--scale-in-cooldown", o->scale_in_cooldown,
                  "Seconds after an action before a scale-in (-1: --cooldown)");
  sub->add_option("--warmup", o->warmup, "Seconds a new instance's samples are left out");
  sub->add_option("--stale", o->stale, "Seconds after which the newest poll counts as missing");
  sub->add_option("--flap-budget", o->flap_budget,
                  "At most this many size changes per rolling hour (0: no limit)");
  sub->add_option("--sensitivity", o->sensitivity, "threshold, step: consecutive polls");
  sub->add_option("--high", o->high, "threshold, step: per-instance load above which a poll is high");
  sub->add_option("--low", o->low, "threshold, step: per-instance load below which a poll is calm");
  sub->add_option("--target", o->target, "target: the per-instance load to track");
  sub->add_option("--capacity", o->capacity, "predictive: the load of one full instance");
  sub->add_option("--set", o->sets,
                  "Any policy key as KEY=JSON (sclman(1) lists them), e.g. "
                  "--set 'schedule=[{\"cron\":\"0 8 * * 1-5\",\"min\":4,\"max\":10}]'; repeatable");
  sub->footer("Policy keys for --set (name, rules that read it, type and range):\n"
              + policy::key_help());
}

} // namespace cmd
