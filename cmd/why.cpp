// cmd/why.cpp: `sclman why CLUSTER [--last N]`: the explanation `decide` stored with each of the
// cluster's last decisions: samples used and dropped, computed values, the rule that won and
// why the others did not, and the clamps applied.
#include "core/log.hpp"
#include "core/time.hpp"
#include "policy/policy.hpp"
#include "report/views.hpp"
#include "run.hpp"

#include <fmt/format.h>

#include <limits>

namespace cmd {

namespace {

struct WhyOptions
{
  std::string name;
  int last = 5;
};

std::string decision_text(const state::DecisionRow& d, const nlohmann::json& explanation)
{
  std::string text = fmt::format("decision {} at {} ({})\n", d.id, core::iso8601_utc(d.ts),
                                 state::to_string(d.status));
  if (explanation.is_null()) {
    text += fmt::format("{} {} -> {} ({})\n", policy::to_string(d.action), d.from_size,
                        d.to_size, d.reason);
    if (d.source == state::k_source_manual) {
      text += "  set by hand (scale-out or scale-in --to): no policy ran\n";
    } else if (state::external_source(d.source)) {
      text += fmt::format("  asked for by {} (sclman serve): no policy ran\n", d.source);
    } else {
      text += "  no explanation stored (made before sclman kept them)\n";
    }
    return text;
  }
  auto decision = policy::decision_from_json(explanation.dump());
  if (!decision) {
    return text + "  " + decision.error().message + "\n";
  }
  return text + policy::explain_text(*decision);
}

core::Result<void> run_why(Env& env, const WhyOptions& o)
{
  if (o.last < 1) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--last {} must be at least 1", o.last));
  }
  TRY_ASSIGN(const auto clusters, env.select_clusters(o.name));
  const auto& c = clusters.front();
  TRY_ASSIGN(const auto rows, env.store->decisions(c.id, o.last));
  // The last scale-ins' victims, and why each was chosen ([POLICY] victim).
  TRY_ASSIGN(const auto victims, env.store->victims(c.id, o.last));
  if (env.common.json) {
    out(report::decisions_json(c, rows, victims).dump(2));
    return {};
  }
  std::string text;
  TRY_ASSIGN(const auto rejected, env.store->rejected(c.id));
  for (const auto& r : rejected) {
    text += fmt::format("kept out of the LB since {}: {}: {}\n", core::iso8601_utc(r.since),
                        r.name, r.reason);
  }
  TRY_ASSIGN(const auto instances, env.store->instances(c.id));
  for (const auto& i : instances) {
    if (i.unhealthy_since) {
      text += fmt::format("unhealthy, out of the LB since {}: {}: {}\n",
                          core::iso8601_utc(*i.unhealthy_since), i.name, i.error);
    }
  }
  for (const auto& v : victims) {
    text += fmt::format("scale-in victim at {}: {} (victim {}): {}\n", core::iso8601_utc(v.ts),
                        v.instance, v.victim_policy, core::printable(v.reason, 200));
  }
  if (rows.empty()) {
    out(text + fmt::format("cluster '{}' has no decisions yet: `sclman decide` makes them",
                           c.name));
    return {};
  }
  for (const auto& d : rows) {
    if (!text.empty()) {
      text += "\n";
    }
    text += decision_text(d, report::explanation_json(d));
  }
  out(text);
  return {};
}

} // namespace

void register_why(CLI::App& app)
{
  auto o = std::make_shared<WhyOptions>();
  auto* sub = add_command(app, "why", "Explain a cluster's last decisions",
                          Traits{false, true, Needs::read_state},
                          [o](Env& env) { return run_why(env, *o); });
  sub->add_option("cluster", o->name, "The cluster")->required();
  sub->add_option("--last", o->last, "How many of the newest decisions (default 5)");
}

} // namespace cmd
