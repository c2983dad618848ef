#include "report/views.hpp"

#include "core/names.hpp"
#include "core/operating.hpp"
#include "core/time.hpp"
#include "policy/policy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>
#include <sstream>

namespace report {

namespace {

// Return `text` as a JSON string, or null when it is empty (a value the row does not have).
nlohmann::json text_or_null(const std::string& text)
{
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

} // namespace

nlohmann::json millis_or_null(const std::optional<core::Millis>& t)
{
  return t ? nlohmann::json(*t) : nlohmann::json(nullptr);
}

nlohmann::json rollout_json(const std::optional<state::Rollout>& r,
                            const std::vector<state::Instance>& instances)
{
  if (!r) {
    return nullptr;
  }
  int left = 0;
  for (const auto& i : instances) {
    left += state::replaced_by(i, *r) && state::is_live_web(i) ? 1 : 0;
  }
  return {
    {"id", r->id},
    {"status", state::to_string(r->status)},
    {"from", {{"image", r->from_image}, {"flavor", r->from_flavor}}},
    {"to", {{"image", r->to_image}, {"flavor", r->to_flavor}}},
    {"batch", r->batch},
    {"min_in_service", r->min_in_service},
    {"pause_s", r->pause_s},
    {"total", r->total},
    {"left", left},
    {"batches", r->batches},
    {"surge", r->surge},
    {"started_at", r->started_at},
    {"batch_started_at", millis_or_null(r->batch_started_at)},
    {"batch_ended_at", millis_or_null(r->batch_ended_at)},
    {"ended_at", millis_or_null(r->ended_at)},
    {"error", text_or_null(r->error)},
    {"instance", r->instance ? nlohmann::json(*r->instance) : nlohmann::json(nullptr)},
  };
}

nlohmann::json decision_json(const state::DecisionRow& d)
{
  nlohmann::json inputs = nlohmann::json::object();
  try {
    inputs = nlohmann::json::parse(d.inputs);
  } catch (const nlohmann::json::exception&) {
    inputs = d.inputs;
  }
  nlohmann::json j = {
    {"id", d.id},
    {"ts", d.ts},
    {"action", policy::to_string(d.action)},
    {"from", d.from_size},
    {"to", d.to_size},
    {"reason", d.reason},
    {"source", d.source},
    {"status", state::to_string(d.status)},
    {"inputs", inputs},
  };
  if (!d.error.empty()) {
    j["error"] = d.error;
  }
  return j;
}

core::Result<nlohmann::json> cluster_json(state::Store& store, const state::Cluster& c,
                                          bool include_gone)
{
  TRY_ASSIGN(const auto instances, store.instances(c.id, include_gone));
  TRY_ASSIGN(const auto last, store.decisions(c.id, 1));
  TRY_ASSIGN(const auto rollout, store.last_rollout(c.id));
  const auto now = store.now();
  std::string lb_address;
  std::string public_address;  // the LB's floating IP and port, if it has one
  nlohmann::json lb_id = nullptr;  // the provider id of the cluster's LB, once it has one
  std::string lb_listener;         // its balancer's listener and pool ("" if none)
  std::string lb_pool;
  int size = 0;
  int booting = 0;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : instances) {
    if (i.role == state::Role::lb && i.state == state::InstanceState::in_service) {
      lb_address = i.address;
      // Its floating IP, with the port it serves on.
      const auto serving = core::Endpoint::parse(i.address);
      if (i.public_address && serving) {
        if (auto e = core::Endpoint::from_ip(*i.public_address, serving->port())) {
          public_address = e->to_string();
        }
      }
    }
    // The LB in service, else the first not gone (a lost one stays in error until gc).
    if (i.role == state::Role::lb && i.state != state::InstanceState::gone
        && !i.cloud_id.empty()
        && (lb_id.is_null() || i.state == state::InstanceState::in_service)) {
      lb_id = i.cloud_id;
      lb_listener = i.lb_listener_id;
      lb_pool = i.lb_pool_id;
    }
    if (i.role == state::Role::web && i.state == state::InstanceState::in_service) {
      ++size;
    }
    if (i.role == state::Role::web && state::is_booting(i.state)) {
      ++booting;
    }
    nlohmann::json row = {
      {"name", i.name},
      {"role", state::to_string(i.role)},
      {"address", i.address},
      {"state", state::to_string(i.state)},
      // What the provider knows it by (Nova's server id, the local instance directory).
      {"provider_id", text_or_null(i.cloud_id)},
      {"age_seconds", (now - i.created_at) / 1000},
      {"state_since", i.state_since},
      // In service but out of the balancer since then: it failed its health checks ([HEALTH];
      // `error` says how). Null while healthy.
      {"unhealthy_since", millis_or_null(i.unhealthy_since)},
      // Its member's status as the balancer reports it (Octavia's health monitor: "ONLINE",
      // "ERROR", "NO_MONITOR"), null when the balancer reports none.
      {"lb_status",
       i.lb_status ? nlohmann::json(core::to_string(*i.lb_status)) : nlohmann::json(nullptr)},
      // Protected from scale-in (sclman protect): never a victim.
      {"protected", i.protected_from_scale_in},
      // What it was created with ("" when the provider takes none: local).
      {"image", i.image},
      {"flavor", i.flavor},
      // While draining: its connections with a request in flight, as its stub_status said at
      // connections_at (ms); null when not measured.
      {"connections", i.connections ? nlohmann::json(*i.connections) : nlohmann::json(nullptr)},
      {"connections_at", millis_or_null(i.connections_at)},
      // The availability zone it was requested in and its Nova server group (null: none).
      {"availability_zone", text_or_null(i.availability_zone)},
      {"server_group", text_or_null(i.server_group)},
    };
    if (!i.error.empty()) {
      row["error"] = i.error;
    }
    list.push_back(row);
  }
  TRY_ASSIGN(const auto rejected_rows, store.rejected(c.id));
  nlohmann::json rejected = nlohmann::json::array();
  for (const auto& r : rejected_rows) {
    rejected.push_back({{"name", r.name}, {"reason", r.reason}, {"since", r.since}});
  }
  nlohmann::json policy_json = nlohmann::json::object();
  try {
    policy_json = nlohmann::json::parse(c.policy);
  } catch (const nlohmann::json::exception&) {
  }
  if (!policy_json.is_object()) {
    policy_json = nlohmann::json::object();
  }
  // The cluster's own [HEALTH] keys (create-cluster --health), as stored: "key = value" lines.
  nlohmann::json health = nlohmann::json::object();
  std::istringstream health_in(c.health);
  for (std::string line; std::getline(health_in, line);) {
    if (const auto eq = line.find(" = "); eq != std::string::npos) {
      health[line.substr(0, eq)] = line.substr(eq + 3);
    }
  }
  nlohmann::json j = {
    {"name", c.name},
    {"status", state::to_string(c.status)},
    {"provider", c.provider},
    // The cloud the cluster was created on (its name is in `provider`), null without one.
    {"cloud", c.cloud_auth_url.empty() && c.cloud_project.empty()
                ? nlohmann::json(nullptr)
                : nlohmann::json{{"auth_url", c.cloud_auth_url}, {"project", c.cloud_project}}},
    {"lb_address", lb_address},
    // Where clients outside the cloud reach it: the LB server's floating IP (null if none).
    {"public_address", text_or_null(public_address)},
    // The policy of its servers' Nova server group (sclman-NAME), null for none.
    {"server_group", text_or_null(c.server_group)},
    // The availability zones its web servers spread over ([] for none).
    {"availability_zones", c.availability_zones},
    {"health", health},
    // The balancer's objects by id: the LB instance's provider id (Octavia's load balancer,
    // the server balancer's Nova server); Octavia's listener and pool (null for the others).
    {"balancer_ids",
     {{"load_balancer", lb_id},
      {"listener", text_or_null(lb_listener)},
      {"pool", text_or_null(lb_pool)}}},
    {"size", size},
    {"booting", booting},
    {"desired", c.desired},
    {"min", policy_json.value("min", 0)},
    {"max", policy_json.value("max", 0)},
    {"policy", policy_json},
    {"failures", c.failures},
    {"last_decision", last.empty() ? nlohmann::json(nullptr) : decision_json(last.front())},
    {"instances", list},
    {"rejected", rejected},
    // Its latest rolling replacement (sclman replace), running or ended; null if none.
    {"rollout", rollout_json(rollout, instances)},
  };
  return j;
}

std::string clusters_table(const nlohmann::json& report, bool with_instances)
{
  std::string text = fmt::format("{:<20} {:<9} {:<21} {:>4} {:>7} {:>3} {:>3} {:<10} {}\n",
                                 "CLUSTER", "STATUS", "LB", "SIZE", "DESIRED", "MIN", "MAX",
                                 "POLICY", "LAST DECISION");
  for (const auto& c : report) {
    std::string last = "-";
    if (!c["last_decision"].is_null()) {
      const auto& d = c["last_decision"];
      last = fmt::format("{} {}->{} {} ({})",
                         d["action"].get<std::string>(),
                         d["from"].get<int>(),
                         d["to"].get<int>(),
                         d["reason"].get<std::string>(),
                         d["status"].get<std::string>());
    }
    text += fmt::format("{:<20} {:<9} {:<21} {:>4} {:>7} {:>3} {:>3} {:<10} {}\n",
                        c["name"].get<std::string>(),
                        c["status"].get<std::string>(),
                        c["lb_address"].get<std::string>().empty()
                          ? "-"
                          : c["lb_address"].get<std::string>(),
                        c["size"].get<int>(),
                        c["desired"].get<int>(),
                        c["min"].get<int>(),
                        c["max"].get<int>(),
                        c["policy"].value("kind", "?"),
                        last);
    if (const auto pub = c.value("public_address", nlohmann::json(nullptr)); !pub.is_null()) {
      text += fmt::format("  public address {}\n", pub.get<std::string>());
    }
    if (const auto g = c.value("server_group", nlohmann::json(nullptr)); !g.is_null()) {
      text += fmt::format("  server group sclman-{} ({})\n", c["name"].get<std::string>(),
                          g.get<std::string>());
    }
    if (const auto r = c.value("rollout", nlohmann::json(nullptr)); !r.is_null()) {
      const auto status = r["status"].get<std::string>();
      text += fmt::format(
        "  rollout {} {}{}: image '{}' -> '{}', flavor '{}' -> '{}', {} of {} left, batch {} "
        "({} per batch){}\n",
        r["id"].get<std::int64_t>(), status,
        r.value("instance", nlohmann::json(nullptr)).is_null()
          ? std::string()
          : " of " + r["instance"].get<std::string>(),
        r["from"]["image"].get<std::string>(),
        r["to"]["image"].get<std::string>(), r["from"]["flavor"].get<std::string>(),
        r["to"]["flavor"].get<std::string>(), r["left"].get<int>(), r["total"].get<int>(),
        r["batches"].get<int>(), r["batch"].get<int>(),
        r["error"].is_null() ? std::string() : ": " + r["error"].get<std::string>());
    }
    if (const auto zones = c.value("availability_zones", nlohmann::json::array());
        !zones.empty()) {
      text += fmt::format("  availability zones {}\n",
                          fmt::join(zones.get<std::vector<std::string>>(), ", "));
    }
    for (const auto& r : c["rejected"]) {
      text += fmt::format("  rejected {}: {}\n", r["name"].get<std::string>(),
                          r["reason"].get<std::string>());
    }
    if (!with_instances) {
      continue;
    }
    for (const auto& i : c["instances"]) {
      const auto lb_status = i.value("lb_status", nlohmann::json(nullptr));
      const auto connections = i.value("connections", nlohmann::json(nullptr));
      const auto zone = i.value("availability_zone", nlohmann::json(nullptr));
      text += fmt::format("  {:<28} {:<4} {:<21} {:<13} {:>6}{}{}{}{}{}\n",
                          i["name"].get<std::string>(),
                          i["role"].get<std::string>(),
                          i["address"].get<std::string>().empty()
                            ? "-"
                            : i["address"].get<std::string>(),
                          i["unhealthy_since"].is_null() ? i["state"].get<std::string>()
                                                         : std::string("unhealthy"),
                          core::human_age(i["age_seconds"].get<core::Millis>() * 1000),
                          lb_status.is_null() ? "" : "  lb " + lb_status.get<std::string>(),
                          zone.is_null() ? "" : "  zone " + zone.get<std::string>(),
                          i.value("protected", false) ? "  protected" : "",
                          connections.is_null()
                            ? std::string()
                            : fmt::format("  {} in flight", connections.get<int>()),
                          i.contains("error") ? "  " + i["error"].get<std::string>() : "");
    }
  }
  return text;
}

nlohmann::json explanation_json(const state::DecisionRow& d)
{
  try {
    auto j = nlohmann::json::parse(d.explanation.empty() ? "{}" : d.explanation);
    if (j.is_object() && !j.empty()) {
      return j;
    }
  } catch (const nlohmann::json::exception&) {
    // an unreadable explanation is shown as none; the row itself is still shown
  }
  return nullptr;
}

nlohmann::json decisions_json(const state::Cluster& c, const std::vector<state::DecisionRow>& rows,
                              const std::vector<state::VictimRow>& victims)
{
  auto report = nlohmann::json::array();
  core::Millis until = std::numeric_limits<core::Millis>::max();
  for (const auto& d : rows) {
    auto view = decision_json(d);
    view["cluster"] = c.name;
    view["time"] = core::iso8601_utc(d.ts);
    view["explanation"] = explanation_json(d);
    auto chosen = nlohmann::json::array();
    for (const auto& v : victims) {
      if (v.ts >= d.ts && v.ts < until) {
        chosen.push_back({{"instance", v.instance},
                          {"victim_policy", v.victim_policy},
                          {"reason", v.reason},
                          {"time", core::iso8601_utc(v.ts)}});
      }
    }
    view["victims"] = std::move(chosen);
    until = d.ts;
    report.push_back(std::move(view));
  }
  return report;
}

} // namespace report
