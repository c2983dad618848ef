// The API's actions. Without ?now=1 an action is an intent: a pending decision with source
// api:TOKEN that the cron chain's next scale-out or scale-in carries out (decide leaves it be).
// With ?now=1 it runs as the command line's scale-out or scale-in --to does, under the same
// cluster lock, and answers with what that run did.
#include "core/log.hpp"
#include "core/names.hpp"
#include "engine/decisions.hpp"
#include "policy/policy.hpp"
#include "report/views.hpp"
#include "serve/routes.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace serve::detail {

namespace {

using Json = nlohmann::json;

struct Resize
{
  int to = 0;
  bool force = false;
};

// Parse the body of POST /v1/clusters/{name}/actions: {"action": "resize", "to": N} and an
// optional "force": true|false. The body is untrusted: anything else (another action, another
// key, a size that is not an integer from 0 to 10000) is a usage error that does not echo it.
core::Result<Resize> parse_action(const Request& request)
{
  const auto body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return core::fail(core::ErrorKind::usage, "the body is not a JSON object");
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "action" && key != "to" && key != "force") {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("unknown key '{}' (an action has 'action', 'to' and 'force')",
                                    core::printable(key, 40)));
    }
  }
  const auto action = body.find("action");
  if (action == body.end() || !action->is_string() || action->get<std::string>() != "resize") {
    return core::fail(core::ErrorKind::usage, "'action' must be \"resize\"");
  }
  const auto to = body.find("to");
  if (to == body.end() || !to->is_number_integer() || to->get<std::int64_t>() < 0
      || to->get<std::int64_t>() > 10000) {
    return core::fail(core::ErrorKind::usage, "'to' must be an integer from 0 to 10000");
  }
  const auto force = body.find("force");
  if (force != body.end() && !force->is_boolean()) {
    return core::fail(core::ErrorKind::usage, "'force' must be true or false");
  }
  return Resize{static_cast<int>(to->get<std::int64_t>()),
                force != body.end() && force->get<bool>()};
}

core::Result<Response> post_action(Call& call)
{
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(const bool now, call.flag_param("now"));
  TRY_ASSIGN(const auto resize, parse_action(call.request));
  return resize_cluster(call, c, resize.to, now, resize.force);
}

// Return the integer `key` of `body` in [lo, hi], nothing when absent; a usage error else.
core::Result<std::optional<int>> int_field(const Json& body, const char* key, int lo, int hi)
{
  const auto it = body.find(key);
  if (it == body.end()) {
    return std::optional<int>{};
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("'{}' must be an integer from {} to {}", key, lo, hi));
  }
  return std::optional<int>{static_cast<int>(it->get<std::int64_t>())};
}

// Parse a JSON object body whose keys are all in `allowed`; a usage error else.
core::Result<Json> object_body(const Request& request, std::initializer_list<const char*> allowed)
{
  auto body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return core::fail(core::ErrorKind::usage, "the body is not a JSON object");
  }
  for (const auto& item : body.items()) {
    const std::string key = item.key();
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* k) { return key == k; })
        == allowed.end()) {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("unknown key '{}'", core::printable(key, 40)));
    }
  }
  return body;
}

core::Result<Response> post_cluster(Call& call)
{
  TRY_ASSIGN(const auto body, object_body(call.request, {"name", "web", "min", "max"}));
  const auto name = body.find("name");
  if (name == body.end() || !name->is_string()) {
    return core::fail(core::ErrorKind::usage, "'name' must be a cluster name");
  }
  CreateSpec spec;
  spec.name = name->get<std::string>();
  TRY(core::validate_cluster_name(spec.name));
  TRY_ASSIGN(const auto web, int_field(body, "web", 1, 1000));
  if (!web) {
    return core::fail(core::ErrorKind::usage, "'web' must be an integer from 1 to 1000");
  }
  spec.web = *web;
  TRY_ASSIGN(spec.min, int_field(body, "min", 0, 10000));
  TRY_ASSIGN(spec.max, int_field(body, "max", 1, 10000));
  const auto& now = call.api.options().actions.create_now;
  if (!now) {
    return core::fail(core::ErrorKind::internal, "this server cannot create clusters");
  }
  TRY_ASSIGN(const auto ran, now(spec));
  call.audit_detail = fmt::format("created cluster '{}' with {} web", spec.name, spec.web);
  TRY_ASSIGN(const auto c, call.store->find_cluster(spec.name));
  Json view = nullptr;
  if (c) {
    TRY_ASSIGN(view, report::cluster_json(*call.store, *c, false));
  }
  return json_response(201, Json{{"cluster", view}, {"run", ran}});
}

core::Result<Response> delete_cluster(Call& call)
{
  TRY_ASSIGN(const auto c, call.cluster());
  const auto& now = call.api.options().actions.delete_now;
  if (!now) {
    return core::fail(core::ErrorKind::internal, "this server cannot delete clusters");
  }
  TRY_ASSIGN(const auto ran, now(c.name));
  call.audit_detail = fmt::format("deleted cluster '{}'", c.name);
  return json_response(200, Json{{"cluster", c.name}, {"run", ran}});
}

core::Result<Response> put_policy(Call& call)
{
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(const auto body, object_body(call.request, {"policy", "min", "max"}));
  PolicySpec spec;
  if (const auto p = body.find("policy"); p != body.end()) {
    if (!p->is_string() || !core::is_printable(p->get<std::string>(), 40)
        || p->get<std::string>().empty()) {
      return core::fail(core::ErrorKind::usage, "'policy' must be the name of a preset");
    }
    spec.policy = p->get<std::string>();
  }
  TRY_ASSIGN(spec.min, int_field(body, "min", 0, 10000));
  TRY_ASSIGN(spec.max, int_field(body, "max", 1, 10000));
  if (spec.policy.empty() && !spec.min && !spec.max) {
    return core::fail(core::ErrorKind::usage, "give one of 'policy', 'min' and 'max'");
  }
  const auto& now = call.api.options().actions.set_policy_now;
  if (!now) {
    return core::fail(core::ErrorKind::internal, "this server cannot change policies");
  }
  TRY_ASSIGN(const auto ran, now(c.name, spec));
  call.audit_detail = fmt::format("policy of '{}' set", c.name);
  return json_response(200, ran);
}

// POST /v1/clusters/{name}/instances/{instance}/remove and .../replace: `act` on the instance.
template <class Act> core::Result<Response> on_instance(Call& call, Act act)
{
  TRY_ASSIGN(const auto c, call.cluster());
  const auto& instance = call.params.at(1);
  if (auto valid = core::validate_instance_name(instance); !valid) {
    call.status = 404;
    return tl::make_unexpected(valid.error());
  }
  return act(call, c, instance);
}

core::Result<Response> post_remove(Call& call)
{
  return on_instance(call, remove_instance);
}

core::Result<Response> post_replace(Call& call)
{
  return on_instance(call, replace_instance);
}

// Answer an action on `c` that ran now (`ran`, what `what` names): the cluster's newest
// decision and the run's output, or the run's error.
core::Result<Response> ran_now(Call& call, const state::Cluster& c,
                               const core::Result<Json>& ran, const std::string& what)
{
  TRY_ASSIGN(const auto rows, call.store->decisions(c.id, 1));
  call.audit_detail = fmt::format("{}: {}", what, ran ? "done" : ran.error().message);
  if (!ran) {
    return tl::make_unexpected(ran.error());
  }
  return json_response(
    200, Json{{"cluster", c.name},
              {"decision", rows.empty() ? Json(nullptr) : report::decision_json(rows.front())},
              {"run", *ran}});
}

// Refuse `force` (403) unless the caller's token may force.
core::Result<void> check_force(Call& call, bool force)
{
  if (force && !(call.token && call.token->force)) {
    call.status = 403;
    return core::fail(core::ErrorKind::usage,
                      fmt::format("token '{}' may not force (outside the policy's [min, max]); "
                                  "sclman token create NAME --role operator --force makes one "
                                  "that may",
                                  call.token ? call.token->name : std::string()));
  }
  return {};
}

} // namespace

core::Result<Response> remove_instance(Call& call, const state::Cluster& c,
                                       const std::string& instance)
{
  TRY_ASSIGN(const bool force, call.flag_param("force"));
  TRY(check_force(call, force));
  const auto& now = call.api.options().actions.remove_now;
  if (!now) {
    return core::fail(core::ErrorKind::internal, "this server cannot remove instances");
  }
  return ran_now(call, c, now(c.name, instance, call.source(), force),
                 fmt::format("remove {}{}", instance, force ? " (forced)" : ""));
}

core::Result<Response> replace_instance(Call& call, const state::Cluster& c,
                                        const std::string& instance)
{
  const auto& now = call.api.options().actions.replace_now;
  if (!now) {
    return core::fail(core::ErrorKind::internal, "this server cannot replace instances");
  }
  const auto ran = now(c.name, instance);
  call.audit_detail =
    fmt::format("replace {}: {}", instance, ran ? "rollout started" : ran.error().message);
  if (!ran) {
    return tl::make_unexpected(ran.error());
  }
  return json_response(202, Json{{"cluster", c.name},
                                 {"instance", instance},
                                 {"rollout", ran->value("rollout", Json(nullptr))},
                                 {"message", "the replacement boots; once it is in service the "
                                             "instance drains (the chain carries it on)"},
                                 {"run", *ran}});
}

core::Result<Response> resize_cluster(Call& call, const state::Cluster& c, int to, bool now,
                                      bool force)
{
  TRY(check_force(call, force));
  if (force && !now) {
    return core::fail(core::ErrorKind::usage,
                      "'force' acts at once: add ?now=1 (an intent stays within the policy)");
  }
  const Resize resize{to, force};
  TRY_ASSIGN(const auto policy, policy::policy_from_json(c.policy));
  if (resize.to == c.desired) {
    call.audit_detail = fmt::format("resize to {}: already so", resize.to);
    return json_response(200, Json{{"cluster", c.name},
                                   {"desired", c.desired},
                                   {"decision", nullptr},
                                   {"message", fmt::format("'{}' is at {} already", c.name,
                                                           c.desired)}});
  }
  engine::TakeOptions take;
  take.action = resize.to > c.desired ? state::DecisionAction::scale_out
                                      : state::DecisionAction::scale_in;
  take.to = resize.to;
  take.write = false;
  take.force = resize.force;
  // The same checks as scale-out or scale-in --to: within [min, max], and not below the
  // instances protected from scale-in.
  TRY(engine::take_decision(*call.store, c, policy, take, call.store->now()));
  if (now) {
    const auto& run_now = call.api.options().actions.resize_now;
    if (!run_now) {
      return core::fail(core::ErrorKind::internal, "this server cannot act now");
    }
    return ran_now(call, c, run_now(c.name, take.action, resize.to, call.source(), force),
                   fmt::format("resize to {} now{}", resize.to, force ? " (forced)" : ""));
  }
  state::DecisionRow row;
  row.cluster_id = c.id;
  row.ts = call.store->now();
  row.action = take.action;
  row.from_size = c.desired;
  row.to_size = resize.to;
  row.reason = "asked for through sclman serve";
  row.source = call.source();
  row.inputs = "{}";
  row.explanation = "{}";
  row.status = state::DecisionStatus::pending;
  TRY(engine::record_decision(*call.store, row));
  call.audit_detail = fmt::format("resize to {}: decision {} pending", resize.to, row.id);
  return json_response(
    202, Json{{"cluster", c.name},
              {"decision", report::decision_json(row)},
              {"message", "pending: the chain's next scale-out or scale-in carries it out"}});
}

std::vector<Route> action_routes()
{
  return {
    {{"POST", "/v1/clusters/{name}/actions", Need::operator_}, true, post_action},
    {{"POST", "/v1/clusters", Need::operator_}, true, post_cluster},
    {{"DELETE", "/v1/clusters/{name}", Need::admin}, true, delete_cluster},
    {{"PUT", "/v1/clusters/{name}/policy", Need::operator_}, true, put_policy},
    {{"POST", "/v1/clusters/{name}/instances/{instance}/remove", Need::operator_}, true,
     post_remove},
    {{"POST", "/v1/clusters/{name}/instances/{instance}/replace", Need::operator_}, true,
     post_replace},
  };
}

} // namespace serve::detail
