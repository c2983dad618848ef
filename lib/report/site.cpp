#include "report/site.hpp"

#include "report/dashboard.hpp"
#include "report/views.hpp"

#include <algorithm>
#include <map>

namespace report {

namespace {

core::Result<ClusterView> view_of(state::Store& store, const state::Cluster& c,
                                  const nlohmann::json& status, core::Millis since)
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
  v.desired = c.desired;
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
  for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
    if (it->ts >= since) {
      v.decisions.push_back(
        {it->ts, policy::to_string(it->action), it->from_size, it->to_size, it->reason,
         state::to_string(it->status)});
    }
  }
  for (const auto& i : status["instances"]) {
    v.members.push_back({i["name"].get<std::string>(), i["role"].get<std::string>(),
                         i["address"].get<std::string>(), i["state"].get<std::string>(),
                         i["age_seconds"].get<core::Millis>() * 1000, i.value("error", "")});
  }
  return v;
}

nlohmann::json history_json(const ClusterView& v)
{
  nlohmann::json load = nlohmann::json::array();
  for (const auto& p : v.load) {
    load.push_back({p.ts, p.value});
  }
  nlohmann::json size = nlohmann::json::array();
  for (const auto& p : v.size_history) {
    size.push_back({p.ts, p.value});
  }
  nlohmann::json decisions = nlohmann::json::array();
  for (const auto& d : v.decisions) {
    if (d.action != "hold") {
      decisions.push_back({{"ts", d.ts}, {"action", d.action}, {"from", d.from}, {"to", d.to},
                           {"reason", d.reason}, {"status", d.status}});
    }
  }
  return {{"name", v.name}, {"load", load}, {"size", size}, {"decisions", decisions}};
}

} // namespace

core::Result<Site> assemble_site(state::Store& store, Millis now, Millis window)
{
  TRY_ASSIGN(const auto clusters, store.clusters());
  Site site;
  site.status = nlohmann::json::array();
  nlohmann::json history = nlohmann::json::array();
  std::vector<ClusterView> views;
  for (const auto& c : clusters) {
    TRY_ASSIGN(auto s, cluster_json(store, c, false));
    TRY_ASSIGN(auto v, view_of(store, c, s, now - window));
    history.push_back(history_json(v));
    site.status.push_back(std::move(s));
    views.push_back(std::move(v));
  }
  site.history = nlohmann::json{{"generated", now}, {"clusters", history}};
  // The charts start at the oldest data within the window, so a young cluster fills them.
  Millis from = now;
  for (const auto& v : views) {
    if (!v.load.empty()) {
      from = std::min(from, v.load.front().ts);
    }
    if (!v.decisions.empty()) {
      from = std::min(from, v.decisions.front().ts);
    }
  }
  from = std::max(now - window, from - (now - from) / 20 - 1000);
  site.html = render_html(views, from, now);
  site.clusters = views.size();
  return site;
}

} // namespace report
