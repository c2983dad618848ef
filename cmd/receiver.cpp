// cmd/receiver.cpp: `sclman receiver create NAME ... | list | delete NAME`: the webhook
// receivers of sclman serve (POST /v1/receivers/NAME). Each has a token of its own, printed
// once when made; the state file keeps its SHA-256.
#include "core/names.hpp"
#include "core/time.hpp"
#include "run.hpp"
#include "serve/token.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cmd {

namespace {

struct ReceiverOptions
{
  std::string action;
  std::string name;
  std::string cluster;
  std::string cluster_label;
  std::string kind;
  std::string what;  // --action
  std::optional<int> amount;
  int rate = 6;
};

core::Result<void> create_receiver(Env& env, const ReceiverOptions& o)
{
  if (o.name.empty()) {
    return core::fail(core::ErrorKind::usage, "receiver create needs a NAME");
  }
  if (auto valid = core::validate_cluster_name(o.name); !valid) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("receiver name: {}", valid.error().message));
  }
  if (o.cluster.empty() == o.cluster_label.empty()) {
    return core::fail(core::ErrorKind::usage,
                      "receiver create needs one of --cluster NAME and --cluster-label LABEL");
  }
  state::Receiver r;
  r.name = o.name;
  const auto kind = state::parse_receiver_kind(o.kind);
  if (!kind) {
    return core::fail(core::ErrorKind::usage,
                      "receiver create needs --kind alertmanager or json");
  }
  r.kind = *kind;
  if (!o.cluster_label.empty() && r.kind != state::ReceiverKind::alertmanager) {
    return core::fail(core::ErrorKind::usage, "--cluster-label is for --kind alertmanager");
  }
  if (!o.cluster.empty()) {
    TRY_ASSIGN(const auto c, env.select_clusters(o.cluster));
    r.cluster = c.front().name;
  }
  r.cluster_label = o.cluster_label;
  std::string what = o.what;
  std::replace(what.begin(), what.end(), '-', '_');
  const auto action = state::parse_receiver_action(what);
  if (!action) {
    return core::fail(core::ErrorKind::usage, "receiver create needs --action scale-out, "
                                              "scale-in, set-desired or hold");
  }
  r.action = *action;
  if (!o.amount) {
    return core::fail(core::ErrorKind::usage,
                      "receiver create needs --amount (instances, the size, or seconds of a "
                      "hold)");
  }
  const int lo = r.action == state::ReceiverAction::set_desired ? 0 : 1;
  if (*o.amount < lo || *o.amount > state::k_max_receiver_amount) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--amount {} is not from {} to {}", *o.amount, lo,
                                  state::k_max_receiver_amount));
  }
  r.amount = *o.amount;
  r.rate_per_minute = o.rate;
  TRY_ASSIGN(const auto secret, serve::new_token());
  r.hash = serve::token_hash(secret);
  TRY(env.store->insert_receiver(r));
  if (env.common.json) {
    out(nlohmann::json{{"name", r.name}, {"token", secret}}.dump(2));
  } else {
    out(secret);
  }
  return {};
}

core::Result<void> list_receivers(Env& env)
{
  TRY_ASSIGN(const auto receivers, env.store->receivers());
  if (env.common.json) {
    auto list = nlohmann::json::array();
    for (const auto& r : receivers) {
      list.push_back({{"name", r.name},
                      {"kind", state::to_string(r.kind)},
                      {"cluster", r.cluster},
                      {"cluster_label", r.cluster_label},
                      {"action", state::to_string(r.action)},
                      {"amount", r.amount},
                      {"rate_per_minute", r.rate_per_minute},
                      {"created", core::iso8601_utc(r.created_at)}});
    }
    out(list.dump(2));
    return {};
  }
  out(fmt::format("{:<32} {:<12} {:<24} {:<11} {:>6} {:>5}", "NAME", "KIND", "CLUSTER", "ACTION",
                  "AMOUNT", "RATE"));
  for (const auto& r : receivers) {
    out(fmt::format("{:<32} {:<12} {:<24} {:<11} {:>6} {:>5}", r.name, state::to_string(r.kind),
                    r.cluster.empty() ? "label " + r.cluster_label : r.cluster,
                    state::to_string(r.action), r.amount, r.rate_per_minute));
  }
  return {};
}

core::Result<void> run_receiver(Env& env, const ReceiverOptions& o)
{
  if (o.action == "create") {
    return create_receiver(env, o);
  }
  if (!o.cluster.empty() || !o.cluster_label.empty() || !o.kind.empty() || !o.what.empty()
      || o.amount) {
    return core::fail(core::ErrorKind::usage,
                      "--cluster, --cluster-label, --kind, --action and --amount are for "
                      "receiver create");
  }
  if (o.action == "list") {
    if (!o.name.empty()) {
      return core::fail(core::ErrorKind::usage, "receiver list takes no NAME");
    }
    return list_receivers(env);
  }
  if (o.name.empty()) {
    return core::fail(core::ErrorKind::usage, "receiver delete needs a NAME");
  }
  TRY(env.store->delete_receiver(o.name));
  out(env.common.json ? nlohmann::json{{"name", o.name}, {"deleted", true}}.dump(2)
                      : fmt::format("deleted receiver '{}'", o.name));
  return {};
}

} // namespace

void register_receiver(CLI::App& app)
{
  auto o = std::make_shared<ReceiverOptions>();
  auto* sub = add_command(app, "receiver", "Make, list or delete the webhook receivers of "
                                           "sclman serve (receiver create NAME ..., list, "
                                           "delete NAME)",
                          Traits{false, true, Needs::state},
                          [o](Env& env) { return run_receiver(env, *o); });
  sub->add_option("action", o->action, "create, list or delete")
    ->required()
    ->check(CLI::IsMember({"create", "list", "delete"}));
  sub->add_option("name", o->name, "The receiver's name (as a cluster's: a-z, 0-9, '-')");
  sub->add_option("--cluster", o->cluster, "create: the cluster it acts on");
  sub->add_option("--cluster-label", o->cluster_label,
                  "create, alertmanager: the alert label whose value names the cluster");
  sub->add_option("--kind", o->kind, "create: alertmanager (webhook payload version 4) or json")
    ->check(CLI::IsMember({"alertmanager", "json"}));
  sub->add_option("--action", o->what,
                  "create: scale-out or scale-in (by --amount instances), set-desired (to "
                  "--amount), hold (the policy, for --amount seconds)")
    ->check(CLI::IsMember({"scale-out", "scale-in", "set-desired", "hold"}));
  sub->add_option("--amount", o->amount, "create: instances, a size, or seconds");
  sub->add_option("--rate", o->rate, "create: requests taken per minute; more get 429 (default 6)")
    ->check(CLI::Range(1, 600));
}

} // namespace cmd
