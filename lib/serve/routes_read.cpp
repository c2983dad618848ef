// The API's reads: clusters, instances, decisions, history, policy, the audit log, and the
// seed's /counters.json and /lbmembers.json.
#include "core/endpoint.hpp"
#include "core/time.hpp"
#include "policy/policy.hpp"
#include "report/views.hpp"
#include "serve/routes.hpp"

#include <algorithm>
#include <map>

namespace serve::detail {

namespace {

using Json = nlohmann::json;

core::Result<Response> list_clusters(Call& call)
{
  TRY_ASSIGN(const auto clusters, call.store->clusters());
  auto out = Json::array();
  for (const auto& c : clusters) {
    TRY_ASSIGN(auto view, report::cluster_json(*call.store, c, false));
    out.push_back(std::move(view));
  }
  return json_response(200, out);
}

core::Result<Response> get_cluster(Call& call)
{
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(auto view, report::cluster_json(*call.store, c, false));
  return json_response(200, view);
}

core::Result<Response> list_instances(Call& call)
{
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(const bool all, call.flag_param("all"));
  TRY_ASSIGN(auto view, report::cluster_json(*call.store, c, all));
  return json_response(200, view["instances"]);
}

core::Result<Response> list_decisions(Call& call)
{
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(const int limit, call.int_param("limit", 1, 1000, 20));
  TRY_ASSIGN(const auto rows, call.store->decisions(c.id, limit));
  TRY_ASSIGN(const auto victims, call.store->victims(c.id, limit));
  return json_response(200, report::decisions_json(c, rows, victims));
}

core::Result<Response> get_history(Call& call)
{
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(const int minutes, call.int_param("minutes", 1, 60 * 24 * 31, 60));
  const auto to = call.store->now();
  const auto from = to - core::Millis(minutes) * 60'000;
  TRY_ASSIGN(const auto instances, call.store->instances(c.id, true));
  std::map<std::int64_t, std::string> names;
  for (const auto& i : instances) {
    names[i.id] = i.name;
  }
  TRY_ASSIGN(const auto samples, call.store->samples_between(c.id, from, to));
  auto list = Json::array();
  for (const auto& s : samples) {
    const auto name = names.find(s.instance_id);
    list.push_back({{"ts", s.ts},
                    {"instance", name == names.end() ? Json(nullptr) : Json(name->second)},
                    {"load", s.value ? Json(*s.value) : Json(nullptr)},
                    {"missing", s.value ? Json(nullptr) : Json(policy::to_string(s.missing))}});
  }
  return json_response(200, Json{{"cluster", c.name}, {"from", from}, {"to", to},
                                 {"samples", std::move(list)}});
}

core::Result<Response> get_policy(Call& call)
{
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(const auto config, policy::policy_from_json(c.policy));
  return json_response(200, Json::parse(policy::to_json(config)));
}

core::Result<Response> list_audit(Call& call)
{
  TRY_ASSIGN(const int limit, call.int_param("limit", 1, 10000, 100));
  TRY_ASSIGN(const auto rows, call.store->audit(limit));
  auto out = Json::array();
  for (const auto& a : rows) {
    out.push_back({{"id", a.id},
                   {"ts", a.ts},
                   {"time", core::iso8601_utc(a.ts)},
                   {"token", a.token},
                   {"method", a.method},
                   {"path", a.path},
                   {"status", a.status},
                   {"detail", a.detail}});
  }
  return json_response(200, out);
}

// The seed's MySQL rows had dates as "YYYY-MM-DD HH:MM:SS"; ActiveRecord gave them as ISO 8601.
Json seed_date(core::Millis ms)
{
  return core::iso8601_utc(ms);
}

// GET /counters.json: one row per cluster, newest first, as the seed's `counter` table:
// count is the desired size, basic_count the policy's minimum.
core::Result<Response> seed_counters(Call& call)
{
  TRY_ASSIGN(auto clusters, call.store->clusters());
  std::sort(clusters.begin(), clusters.end(), [](const auto& a, const auto& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  });
  auto out = Json::array();
  for (const auto& c : clusters) {
    TRY_ASSIGN(const auto config, policy::policy_from_json(c.policy));
    TRY_ASSIGN(const auto last, call.store->decisions(c.id, 1));
    core::Millis updated = c.created_at;
    if (!last.empty() && last.front().done_at) {
      updated = std::max(updated, *last.front().done_at);
    }
    out.push_back({{"id", c.id},
                   {"groupname", c.name},
                   {"count", c.desired},
                   {"basic_count", config.min_size},
                   {"created_date", seed_date(c.created_at)},
                   {"updated_date", seed_date(updated)}});
  }
  return json_response(200, out);
}

// GET /lbmembers.json: one row per instance of every cluster (LB and web, not gone), newest
// first, as the seed's `lbmembers` table: ipaddr is the address without its port ("" before
// it has one).
core::Result<Response> seed_lbmembers(Call& call)
{
  TRY_ASSIGN(const auto clusters, call.store->clusters());
  std::vector<std::pair<state::Instance, std::string>> rows;
  for (const auto& c : clusters) {
    TRY_ASSIGN(const auto instances, call.store->instances(c.id));
    for (const auto& i : instances) {
      rows.emplace_back(i, c.name);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.first.created_at != b.first.created_at ? a.first.created_at > b.first.created_at
                                                    : a.first.id > b.first.id;
  });
  auto out = Json::array();
  for (const auto& [i, cluster] : rows) {
    std::string ip;
    if (auto e = core::Endpoint::parse(i.address)) {
      ip = e->ip();
    } else if (auto a = core::IpAddress::parse(i.address)) {
      ip = a->to_string();
    }
    out.push_back({{"id", i.id},
                   {"instancename", i.name},
                   {"ipaddr", ip},
                   {"groupname", cluster},
                   {"created_date", seed_date(i.created_at)},
                   {"updated_date", seed_date(i.state_since)}});
  }
  return json_response(200, out);
}

} // namespace

std::vector<Route> read_routes()
{
  return {
    {{"GET", "/v1/clusters", Need::viewer}, false, list_clusters},
    {{"GET", "/v1/clusters/{name}", Need::viewer}, false, get_cluster},
    {{"GET", "/v1/clusters/{name}/instances", Need::viewer}, false, list_instances},
    {{"GET", "/v1/clusters/{name}/decisions", Need::viewer}, false, list_decisions},
    {{"GET", "/v1/clusters/{name}/history", Need::viewer}, false, get_history},
    {{"GET", "/v1/clusters/{name}/policy", Need::viewer}, false, get_policy},
    {{"GET", "/v1/audit", Need::admin}, false, list_audit},
    {{"GET", "/counters.json", Need::viewer}, false, seed_counters},
    {{"GET", "/lbmembers.json", Need::viewer}, false, seed_lbmembers},
  };
}

} // namespace serve::detail
