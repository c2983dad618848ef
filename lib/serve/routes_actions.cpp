// The API's actions. Without ?now=1 an action is an intent: a pending decision with source
// api:TOKEN that the cron chain's next scale-out or scale-in carries out (decide leaves it be).
// With ?now=1 it runs as the command line's scale-out or scale-in --to does, under the same
// cluster lock, and answers with what that run did.
#include "core/log.hpp"
#include "engine/decisions.hpp"
#include "policy/policy.hpp"
#include "report/views.hpp"
#include "serve/routes.hpp"

#include <fmt/format.h>

namespace serve::detail {

namespace {

using Json = nlohmann::json;

struct Resize
{
  int to = 0;
};

// Parse the body of POST /v1/clusters/{name}/actions: {"action": "resize", "to": N}. The body
// is untrusted: anything else (another action, another key, a size that is not an integer
// from 0 to 10000) is a usage error that does not echo it.
core::Result<Resize> parse_action(const Request& request)
{
  const auto body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return core::fail(core::ErrorKind::usage, "the body is not a JSON object");
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "action" && key != "to") {
      return core::fail(core::ErrorKind::usage,
                        fmt::format("unknown key '{}' (an action has 'action' and 'to')",
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
  return Resize{static_cast<int>(to->get<std::int64_t>())};
}

core::Result<Response> post_action(Call& call)
{
  TRY_ASSIGN(const auto c, call.cluster());
  TRY_ASSIGN(const bool now, call.flag_param("now"));
  TRY_ASSIGN(const auto resize, parse_action(call.request));
  return resize_cluster(call, c, resize.to, now);
}

} // namespace

core::Result<Response> resize_cluster(Call& call, const state::Cluster& c, int to, bool now)
{
  const Resize resize{to};
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
  // The same checks as scale-out or scale-in --to: within [min, max], and not below the
  // instances protected from scale-in.
  TRY(engine::take_decision(*call.store, c, policy, take, call.store->now()));
  if (now) {
    const auto& run_now = call.api.options().actions.resize_now;
    if (!run_now) {
      return core::fail(core::ErrorKind::internal, "this server cannot act now");
    }
    auto ran = run_now(c.name, resize.to, call.source());
    TRY_ASSIGN(const auto rows, call.store->decisions(c.id, 1));
    call.audit_detail = fmt::format("resize to {} now: {}", resize.to,
                                    ran ? "done" : ran.error().message);
    if (!ran) {
      return tl::make_unexpected(ran.error());
    }
    return json_response(
      200, Json{{"cluster", c.name},
                {"decision", rows.empty() ? Json(nullptr) : report::decision_json(rows.front())},
                {"run", *ran}});
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
  };
}

} // namespace serve::detail
