// cmd/status.cpp: `sclman status [NAME]` (alias `list`): clusters, instances, last decisions.
#include "report/views.hpp"
#include "run.hpp"

namespace cmd {

namespace {

struct StatusOptions
{
  std::string name;
  bool all = false;
  bool brief = false;
  bool names = false;
};

core::Result<void> run_status(Env& env, const StatusOptions& o)
{
  TRY_ASSIGN(const auto clusters, env.select_clusters(o.name));
  if (o.names) {
    for (const auto& c : clusters) {
      out(c.name);
    }
    return {};
  }
  nlohmann::json report = nlohmann::json::array();
  for (const auto& c : clusters) {
    TRY_ASSIGN(auto view, report::cluster_json(*env.store, c, o.all));
    report.push_back(std::move(view));
  }
  if (env.common.json) {
    out(report.dump(2));
  } else {
    out(report::clusters_table(report, !o.brief));
  }
  return {};
}

} // namespace

void register_status(CLI::App& app)
{
  auto o = std::make_shared<StatusOptions>();
  auto* sub = add_command(app, "status", "Show clusters, their instances and last decisions",
                          Traits{false, true, Needs::read_state},
                          [o](Env& env) { return run_status(env, *o); });
  sub->alias("list");
  sub->add_option("name", o->name, "Only this cluster");
  sub->add_flag("--all", o->all, "Include deleted (gone) instances");
  sub->add_flag("--brief", o->brief, "One line per cluster");
  sub->add_flag("--names", o->names, "Only the clusters' names, one per line (for scripts and "
                                     "completion)");
}

} // namespace cmd
