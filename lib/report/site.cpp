#include "report/site.hpp"

#include "report/dashboard.hpp"
#include "report/views.hpp"

#include "policy/policy.hpp"

#include <algorithm>
#include <map>

namespace report {

namespace {

// Return the lines of `policy` (stored JSON) that the load chart shows: threshold and step
// rules act above high and below low, target tracks its target, predictive plans with the
// capacity of one instance. Nothing for a policy that does not parse.
std::vector<Reference> load_references(const std::string& policy)
{
  const auto p = policy::policy_from_json(policy);
  if (!p) {
    return {};
  }
  switch (p->kind) {
  case policy::Kind::threshold:
  case policy::Kind::step:
    return {{"high", p->high}, {"low", p->low}};
  case policy::Kind::target:
    return {{"target", p->target}};
  case policy::Kind::predictive:
    return {{"capacity", p->capacity}};
  }
  return {};
}

// Return the desired size over [since, now] as a step series: the size the first decision in
// the window started from, then each carried-out decision's size from when it was carried out.
std::vector<Point> desired_history(const std::vector<state::DecisionRow>& newest_first,
                                   int desired_now, Millis since, Millis now)
{
  std::vector<Point> points;
  for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) {
    if (it->ts < since || it->action == policy::Action::hold
        || it->status != state::DecisionStatus::done) {
      continue;
    }
    if (points.empty()) {
      points.push_back({since, static_cast<double>(it->from_size)});
    }
    points.push_back({std::clamp(it->done_at.value_or(it->ts), since, now),
                      static_cast<double>(it->to_size)});
  }
  if (points.empty() || points.back().value != desired_now) {
    points.push_back({points.empty() ? since : now, static_cast<double>(desired_now)});
  }
  return points;
}

// Return how many web instances were booting over [since, now] as a step series: each one from
// its creation until it came into service, or until it left its last state without serving.
std::vector<Point> booting_history(const std::vector<state::Instance>& instances, Millis since,
                                   Millis now)
{
  std::map<Millis, int> change;  // ts -> instances that started (+) and stopped (-) booting
  int at_start = 0;
  for (const auto& i : instances) {
    if (i.role != state::Role::web) {
      continue;
    }
    Millis end = now + 1;  // still booting
    if (i.in_service_since) {
      end = *i.in_service_since;
    } else if (!state::is_booting(i.state)) {
      end = i.state_since;
    }
    if (end <= since || end <= i.created_at || i.created_at > now) {
      continue;
    }
    if (i.created_at <= since) {
      ++at_start;
    } else {
      ++change[i.created_at];
    }
    if (end <= now) {
      --change[end];
    }
  }
  std::vector<Point> points = {{since, static_cast<double>(at_start)}};
  int n = at_start;
  for (const auto& [ts, delta] : change) {
    if (delta != 0) {
      n += delta;
      points.push_back({ts, static_cast<double>(n)});
    }
  }
  return points;
}

core::Result<ClusterView> view_of(state::Store& store, const state::Cluster& c,
                                  const nlohmann::json& status, core::Millis since,
                                  core::Millis now, const SiteOptions& o)
{
  ClusterView v;
  v.name = c.name;
  v.status = state::to_string(c.status);
  v.lb_address = status["lb_address"].get<std::string>();
  if (const auto pub = status.value("public_address", nlohmann::json(nullptr)); !pub.is_null()) {
    v.public_address = pub.get<std::string>();
  }
  v.policy = status["policy"].value("kind", "?");
  v.size = status["size"].get<int>();
  v.booting = status["booting"].get<int>();
  v.desired = c.desired;
  v.failures = c.failures;
  v.failure_budget = o.failure_budget;
  v.load_references = load_references(c.policy);
  v.min = status["min"].get<int>();
  v.max = status["max"].get<int>();
  TRY_ASSIGN(const auto samples, store.samples_since(c.id, since));
  // One point per poll: the mean of the present values, and how many instances were polled.
  std::map<core::Millis, std::pair<double, int>> load;
  std::map<core::Millis, int> polled;
  for (const auto& s : samples) {
    ++polled[s.ts];
    if (s.value) {
      load[s.ts].first += *s.value;
      load[s.ts].second += 1;
    }
  }
  for (const auto& [ts, sum] : load) {
    v.load.push_back({ts, sum.first / sum.second});
  }
  for (const auto& [ts, n] : polled) {
    v.size_history.push_back({ts, static_cast<double>(n)});
  }
  TRY_ASSIGN(const auto decisions, store.decisions(c.id, 10'000));
  v.desired_history = desired_history(decisions, c.desired, since, now);
  TRY_ASSIGN(const auto all_instances, store.instances(c.id, true));
  v.booting_history = booting_history(all_instances, since, now);
  for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
    if (it->ts >= since) {
      v.decisions.push_back(
        {it->ts, policy::to_string(it->action), it->from_size, it->to_size, it->reason,
         state::to_string(it->status)});
    }
  }
  // Each instance's value at the cluster's last poll.
  std::map<std::string, double> last_load;
  if (!samples.empty()) {
    const auto last_poll = samples.back().ts;
    for (const auto& i : all_instances) {
      for (auto s = samples.rbegin(); s != samples.rend() && s->ts == last_poll; ++s) {
        if (s->instance_id == i.id && s->value) {
          last_load[i.name] = *s->value;
        }
      }
    }
  }
  for (const auto& i : status["instances"]) {
    const auto name = i["name"].get<std::string>();
    const auto last = last_load.find(name);
    v.members.push_back({name, i["role"].get<std::string>(), i["address"].get<std::string>(),
                         i["state"].get<std::string>(),
                         i["age_seconds"].get<core::Millis>() * 1000, i.value("error", ""),
                         !i["unhealthy_since"].is_null(),
                         last == last_load.end() ? std::nullopt
                                                 : std::optional<double>(last->second)});
  }
  return v;
}

} // namespace

Millis charts_from(const std::vector<ClusterView>& views, Millis now, Millis window)
{
  // The charts start at the oldest data within the window, so a young cluster fills them.
  Millis from = now;
  for (const auto& v : views) {
    if (!v.load.empty()) {
      from = std::min(from, v.load.front().ts);
    }
    if (!v.decisions.empty()) {
      from = std::min(from, v.decisions.front().ts);
    }
    if (v.booting_history.size() > 1) {
      from = std::min(from, v.booting_history[1].ts);
    }
  }
  return std::max(now - window, from - (now - from) / 20 - 1000);
}

core::Result<ChainHealth> store_chain_health(state::Store& store, core::Millis now,
                                             core::Millis tick_ms)
{
  TRY_ASSIGN(const auto runs, store.runs());
  std::vector<StepRun> steps;
  for (const auto& r : runs) {
    steps.push_back({r.command, r.ts, r.exit_code, r.last_success});
  }
  return chain_health(steps, now, tick_ms);
}

core::Result<ClusterView> cluster_view(state::Store& store, const state::Cluster& c,
                                       const nlohmann::json& status, core::Millis now,
                                       const SiteOptions& o)
{
  return view_of(store, c, status, now - o.window, now, o);
}

namespace {

nlohmann::json history_json(const ClusterView& v)
{
  // Each series as [[ts, value], ...].
  const auto pairs = [](const std::vector<Point>& points) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : points) {
      list.push_back({p.ts, p.value});
    }
    return list;
  };
  nlohmann::json references = nlohmann::json::object();
  for (const auto& r : v.load_references) {
    references[r.name] = r.value;
  }
  nlohmann::json decisions = nlohmann::json::array();
  for (const auto& d : v.decisions) {
    if (d.action != "hold") {
      decisions.push_back({{"ts", d.ts}, {"action", d.action}, {"from", d.from}, {"to", d.to},
                           {"reason", d.reason}, {"status", d.status}});
    }
  }
  return {{"name", v.name},
          {"load", pairs(v.load)},
          {"size", pairs(v.size_history)},
          {"desired", pairs(v.desired_history)},
          {"booting", pairs(v.booting_history)},
          {"references", references},
          {"attention", attention(v)},
          {"decisions", decisions}};
}

nlohmann::json chain_json(const ChainHealth& h)
{
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : h.steps) {
    steps.push_back({{"command", s.command},
                     {"ts", s.ts},
                     {"exit_code", s.exit_code},
                     {"last_success", millis_or_null(s.last_success)}});
  }
  return {{"last_run", millis_or_null(h.last_run)},
          {"last_success", millis_or_null(h.last_success)},
          {"stale", h.stale},
          {"warning", h.warning.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.warning)},
          {"steps", steps}};
}

} // namespace

core::Result<Site> assemble_site(state::Store& store, Millis now, const SiteOptions& o)
{
  const Millis window = o.window;
  TRY_ASSIGN(const auto clusters, store.clusters());
  TRY_ASSIGN(const auto chain, store_chain_health(store, now, o.tick_ms));
  Site site;
  site.status = nlohmann::json::array();
  nlohmann::json history = nlohmann::json::array();
  std::vector<ClusterView> views;
  for (const auto& c : clusters) {
    TRY_ASSIGN(auto s, cluster_json(store, c, false));
    TRY_ASSIGN(auto v, cluster_view(store, c, s, now, o));
    history.push_back(history_json(v));
    site.status.push_back(std::move(s));
    views.push_back(std::move(v));
  }
  site.history =
    nlohmann::json{{"generated", now}, {"chain", chain_json(chain)}, {"clusters", history}};
  const Millis from = charts_from(views, now, window);
  site.html = render_html(views, chain, from, now);
  site.clusters = views.size();
  return site;
}

} // namespace report
