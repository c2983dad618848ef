// Webhook receivers: POST /v1/receivers/NAME with the receiver's own token. An Alertmanager
// receiver takes webhook payload version 4 (each alert firing or resolved; the cluster is the
// receiver's, or the value of its cluster label); a json receiver takes any JSON object. A
// delivery acts once: an alert's fingerprint, start time and status, or the request's
// Idempotency-Key, seen before does nothing again. Its action is a pending decision with source
// webhook:NAME that the chain carries out (within the policy's [min, max]), or a hold.
#include "core/log.hpp"
#include "core/names.hpp"
#include "core/time.hpp"
#include "engine/decisions.hpp"
#include "policy/policy.hpp"
#include "serve/routes.hpp"
#include "serve/token.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>

namespace serve::detail {

namespace {

using Json = nlohmann::json;

// How long the scale-in hold of a firing alert lasts when no resolved notification comes.
constexpr core::Millis k_alert_hold_ms = 24 * 3600 * 1000;
// The most alerts one Alertmanager notification may carry.
constexpr std::size_t k_max_alerts = 1000;

// One thing a delivery asks for: an alert (firing or resolved), or a json receiver's call.
struct Item
{
  std::string key;        // idempotency key ("" for none)
  bool resolved = false;
  std::string fingerprint;  // the alert's, "" for json
  std::string alertname;    // the alert's name, escaped for reasons ("" for json)
  std::optional<std::string> cluster_label;  // the value of the receiver's cluster label
};

core::Result<void> bad(std::string_view what)
{
  return core::fail(core::ErrorKind::usage, std::string(what));
}

bool fingerprint_shaped(std::string_view f)
{
  return !f.empty() && f.size() <= 64 && std::all_of(f.begin(), f.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// Parse an Alertmanager notification (webhook payload version 4). The payload is untrusted:
// only the fields used are read, each checked; anything else about it is a usage error.
core::Result<std::vector<Item>> parse_alertmanager(const Json& body,
                                                   const state::Receiver& r)
{
  const auto version = body.find("version");
  if (version == body.end() || !version->is_string() || version->get<std::string>() != "4") {
    TRY(bad("not an Alertmanager notification of payload version 4"));
  }
  const auto alerts = body.find("alerts");
  if (alerts == body.end() || !alerts->is_array() || alerts->size() > k_max_alerts) {
    TRY(bad(fmt::format("'alerts' must be a list of at most {} alerts", k_max_alerts)));
  }
  std::vector<Item> items;
  for (const auto& a : *alerts) {
    if (!a.is_object()) {
      TRY(bad("an alert is not an object"));
    }
    const auto status = a.value("status", Json());
    const auto fingerprint = a.value("fingerprint", Json());
    const auto starts = a.value("startsAt", Json());
    const auto labels = a.value("labels", Json());
    if (!status.is_string()
        || (status.get<std::string>() != "firing" && status.get<std::string>() != "resolved")) {
      TRY(bad("an alert's 'status' must be \"firing\" or \"resolved\""));
    }
    if (!fingerprint.is_string() || !fingerprint_shaped(fingerprint.get<std::string>())) {
      TRY(bad("an alert's 'fingerprint' must be 1 to 64 lowercase hex digits"));
    }
    if (!starts.is_string() || !core::is_printable(starts.get<std::string>(), 64)) {
      TRY(bad("an alert's 'startsAt' must be a time (printable, at most 64 characters)"));
    }
    if (!labels.is_object()) {
      TRY(bad("an alert's 'labels' must be an object"));
    }
    Item item;
    item.resolved = status.get<std::string>() == "resolved";
    item.fingerprint = fingerprint.get<std::string>();
    item.key = fmt::format("am:{}:{}:{}", item.fingerprint, starts.get<std::string>(),
                           status.get<std::string>());
    const auto name = labels.value("alertname", Json());
    item.alertname = name.is_string() ? core::printable(name.get<std::string>(), 64) : "?";
    if (!r.cluster_label.empty()) {
      const auto value = labels.value(r.cluster_label, Json());
      if (value.is_string()) {
        item.cluster_label = value.get<std::string>();
      }
    }
    items.push_back(std::move(item));
  }
  return items;
}

// The size `r` asks `c` to take (within the policy's [min, max]), and the reason.
std::pair<int, std::string> target(const state::Receiver& r, const state::Cluster& c,
                                   const policy::PolicyConfig& p, const Item& item)
{
  int to = c.desired;
  std::string what;
  switch (r.action) {
  case state::ReceiverAction::scale_out:
    to = c.desired + r.amount;
    what = fmt::format("scale out by {}", r.amount);
    break;
  case state::ReceiverAction::scale_in:
    to = c.desired - r.amount;
    what = fmt::format("scale in by {}", r.amount);
    break;
  case state::ReceiverAction::set_desired:
    to = r.amount;
    what = fmt::format("set the size to {}", r.amount);
    break;
  case state::ReceiverAction::hold:
    break;
  }
  const int bounded = std::clamp(to, p.min_size, p.max_size);
  if (bounded != to) {
    what += fmt::format(", bounded by [min {}, max {}]", p.min_size, p.max_size);
  }
  const auto by = item.alertname.empty() ? std::string("a call")
                                         : fmt::format("alert {} firing", item.alertname);
  return {bounded, fmt::format("{} (webhook {}): {}", by, r.name, what)};
}

// Act on `item` for receiver `r`; return what it did.
core::Result<std::string> act(Call& call, const state::Receiver& r, const Item& item,
                              std::string& cluster_name)
{
  auto& store = *call.store;
  cluster_name = r.cluster;
  if (item.cluster_label) {
    if (!core::validate_cluster_name(*item.cluster_label)) {
      return fmt::format("skipped: label {} is '{}', not a cluster name", r.cluster_label,
                         core::printable(*item.cluster_label, 40));
    }
    cluster_name = *item.cluster_label;
  } else if (cluster_name.empty()) {
    return fmt::format("skipped: the alert has no label {}", r.cluster_label);
  }
  TRY_ASSIGN(const auto found, store.find_cluster(cluster_name));
  if (!found || found->status != state::ClusterStatus::active) {
    return fmt::format("skipped: no active cluster named '{}'", cluster_name);
  }
  const auto& c = *found;
  const auto source = "webhook:" + r.name;
  const auto now = store.now();
  if (item.resolved) {
    TRY_ASSIGN(const int ended, store.end_holds(c.id, source, item.fingerprint));
    return ended ? std::string("resolved: its hold on the cluster ended")
                 : std::string("resolved: nothing to end");
  }
  TRY_ASSIGN(const auto policy, policy::policy_from_json(c.policy));
  state::DecisionRow row;
  row.cluster_id = c.id;
  row.ts = now;
  row.from_size = c.desired;
  row.inputs = "{}";
  row.explanation = "{}";
  row.source = source;
  if (r.action == state::ReceiverAction::hold) {
    state::Hold h;
    h.cluster_id = c.id;
    h.source = source;
    h.scope = state::HoldScope::all;
    h.key = item.fingerprint;
    h.until = now + core::Millis(r.amount) * 1000;
    TRY(store.insert_hold(h));
    row.action = state::DecisionAction::hold;
    row.to_size = c.desired;
    row.status = state::DecisionStatus::noop;
    row.reason = fmt::format("{} (webhook {}): hold the policy until {}",
                             item.alertname.empty() ? std::string("a call")
                                                    : "alert " + item.alertname + " firing",
                             r.name, core::iso8601_utc(h.until));
    TRY(engine::record_decision(store, row));
    return fmt::format("held until {} (decision {})", core::iso8601_utc(h.until), row.id);
  }
  const auto [to, reason] = target(r, c, policy, item);
  if (!item.fingerprint.empty() && r.action == state::ReceiverAction::scale_out) {
    // Until the alert resolves, the policy does not take back what it asked for.
    state::Hold h;
    h.cluster_id = c.id;
    h.source = source;
    h.scope = state::HoldScope::scale_in;
    h.key = item.fingerprint;
    h.until = now + k_alert_hold_ms;
    TRY(store.insert_hold(h));
  }
  if (to == c.desired) {
    return fmt::format("nothing to do: '{}' is at {} ({})", c.name, c.desired, reason);
  }
  row.action = to > c.desired ? state::DecisionAction::scale_out : state::DecisionAction::scale_in;
  row.to_size = to;
  row.reason = reason;
  row.status = state::DecisionStatus::pending;
  TRY(engine::record_decision(store, row));
  return fmt::format("decision {} pending: {} -> {}", row.id, c.desired, to);
}

core::Result<Response> post_receiver(Call& call)
{
  auto& store = *call.store;
  const auto& name = call.params.at(0);
  // The same answer for a receiver that does not exist and a wrong token: 401.
  std::optional<state::Receiver> receiver;
  if (core::validate_cluster_name(name)) {
    TRY_ASSIGN(receiver, store.find_receiver(name));
  }
  const auto bearer = bearer_token(call.request.authorization);
  const auto hash = bearer ? token_hash(*bearer) : std::string();
  if (!receiver || !bearer
      || CRYPTO_memcmp(hash.data(), receiver->hash.data(), hash.size()) != 0) {
    call.status = 401;
    call.headers["WWW-Authenticate"] = "Bearer realm=\"sclman\"";
    return core::fail(core::ErrorKind::usage, "this needs the receiver's token: Authorization: "
                                              "Bearer sclman_...");
  }
  const auto& r = *receiver;
  call.audit_token = "receiver:" + r.name;
  const auto now = store.now();
  TRY_ASSIGN(const int recent, store.requests_since(r.id, now - 60'000));
  if (recent >= r.rate_per_minute) {
    call.status = 429;
    call.headers["Retry-After"] = "60";
    return core::fail(core::ErrorKind::upstream_transient,
                      fmt::format("receiver '{}' took {} requests in the last minute, its limit",
                                  r.name, recent));
  }
  // Counted before the body is read: malformed requests count against the limit too.
  TRY(store.record_delivery(r.id, "", "request"));
  const auto body = Json::parse(call.request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return core::fail(core::ErrorKind::usage, "the body is not a JSON object");
  }
  const auto& idem = call.request.idempotency_key;
  if (!idem.empty() && !core::is_printable(idem, 200)) {
    return core::fail(core::ErrorKind::usage,
                      "Idempotency-Key must be at most 200 printable characters");
  }
  std::vector<Item> items;
  if (r.kind == state::ReceiverKind::alertmanager) {
    TRY_ASSIGN(items, parse_alertmanager(body, r));
  } else {
    Item item;
    item.key = idem.empty() ? std::string() : "key:" + idem;
    items.push_back(std::move(item));
  }
  auto out = Json::array();
  std::string summary;
  // One transaction: a delivery is taken, and acted on, whole or not at all.
  TRY_ASSIGN(auto tx, state::Transaction::begin(store.db()));
  for (const auto& item : items) {
    std::string cluster;
    std::string outcome;
    bool fresh = true;
    if (!item.key.empty()) {
      TRY_ASSIGN(fresh, store.record_delivery(r.id, item.key, "taken"));
    }
    if (!fresh) {
      outcome = "duplicate: taken before, nothing done";
    } else {
      auto acted = act(call, r, item, cluster);
      if (!acted) {
        return tl::make_unexpected(acted.error());
      }
      outcome = *acted;
    }
    out.push_back({{"key", item.key.empty() ? Json(nullptr) : Json(item.key)},
                   {"cluster", cluster.empty() ? Json(nullptr) : Json(cluster)},
                   {"outcome", outcome}});
    summary += (summary.empty() ? "" : "; ") + outcome;
  }
  TRY(tx.commit());
  call.audit_detail = summary.substr(0, 500);
  return json_response(200, Json{{"receiver", r.name}, {"deliveries", std::move(out)}});
}

core::Result<Response> list_receivers(Call& call)
{
  TRY_ASSIGN(const auto receivers, call.store->receivers());
  auto out = Json::array();
  for (const auto& r : receivers) {
    out.push_back({{"name", r.name},
                   {"kind", state::to_string(r.kind)},
                   {"cluster", r.cluster.empty() ? Json(nullptr) : Json(r.cluster)},
                   {"cluster_label", r.cluster_label.empty() ? Json(nullptr)
                                                             : Json(r.cluster_label)},
                   {"action", state::to_string(r.action)},
                   {"amount", r.amount},
                   {"rate_per_minute", r.rate_per_minute},
                   {"created", core::iso8601_utc(r.created_at)}});
  }
  return json_response(200, out);
}

} // namespace

std::vector<Route> receiver_routes()
{
  return {
    {{"GET", "/v1/receivers", Need::admin}, false, list_receivers},
    {{"POST", "/v1/receivers/{name}", Need::receiver}, true, post_receiver},
  };
}

} // namespace serve::detail
