// Webhook receivers: deliveries through serve::Api over a real state file (tokens, rate limit,
// idempotency, Alertmanager payloads, holds), the holds decide applies, and hostile rows.
#include "../state/temp_store.hpp"
#include "engine/decisions.hpp"
#include "serve/api.hpp"
#include "serve/token.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_receivers {

namespace {

using Json = nlohmann::json;

struct ReceiverState : state_test::ShopState
{
  std::optional<serve::Api> api;

  ReceiverState()
  {
    REQUIRE(store->set_policy(cluster.id, R"({"min":1,"max":4})"));
    serve::ApiOptions o;
    o.state = store->location();
    o.clock = &clock;
    api.emplace(std::move(o));
  }

  // Make receiver `name` and return its token.
  std::string receiver(const std::string& name, state::ReceiverKind kind,
                       state::ReceiverAction action, int amount, int rate = 600)
  {
    auto secret = serve::new_token();
    REQUIRE(secret);
    state::Receiver r;
    r.name = name;
    r.kind = kind;
    r.cluster = "shop";
    r.action = action;
    r.amount = amount;
    r.rate_per_minute = rate;
    r.hash = serve::token_hash(*secret);
    REQUIRE(store->insert_receiver(r));
    return *secret;
  }

  serve::Response post(const std::string& name, const std::string& token, const std::string& body,
                       const std::string& key = {})
  {
    serve::Request r;
    r.method = "POST";
    r.path = "/v1/receivers/" + name;
    r.authorization = "Bearer " + token;
    r.idempotency_key = key;
    r.body = body;
    return api->handle(r);
  }

  std::vector<state::DecisionRow> decisions()
  {
    auto rows = store->decisions(cluster.id, 1000);
    REQUIRE(rows);
    return *rows;
  }
};

std::string notification(const std::string& status, const std::string& fingerprint,
                         const std::string& labels = R"({"alertname":"Busy"})")
{
  return fmt::format(R"({{"version":"4","status":"{0}","alerts":[{{"status":"{0}","labels":{1},)"
                     R"("startsAt":"2026-12-07T00:00:00Z","fingerprint":"{2}"}}]}})",
                     status, labels, fingerprint);
}

} // namespace

TEST_CASE("a receiver takes only its own token; a missing receiver looks the same", "[serve]")
{
  ReceiverState s;
  const auto a = s.receiver("a", state::ReceiverKind::json, state::ReceiverAction::scale_out, 1);
  const auto b = s.receiver("b", state::ReceiverKind::json, state::ReceiverAction::scale_out, 1);
  CHECK(s.post("a", a, "{}").status == 200);
  const auto wrong = s.post("a", b, "{}");
  const auto missing = s.post("nosuch", a, "{}");
  const auto bad_name = s.post("A;b", a, "{}");
  CHECK(wrong.status == 401);
  CHECK(missing.status == 401);
  CHECK(bad_name.status == 401);
  CHECK(wrong.body == missing.body);
  CHECK(s.post("a", "sclman_" + std::string(43, 'x'), "{}").status == 401);
  REQUIRE(s.store->delete_receiver("a"));
  CHECK(s.post("a", a, "{}").status == 401);
}

TEST_CASE("a json receiver acts once per Idempotency-Key, within the policy's bounds and its "
          "rate",
          "[serve]")
{
  ReceiverState s;
  const auto t = s.receiver("grow", state::ReceiverKind::json, state::ReceiverAction::scale_out,
                            5, 3);
  auto r = s.post("grow", t, "{}", "k1");
  REQUIRE(r.status == 200);
  auto rows = s.decisions();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].source == "webhook:grow");
  CHECK(rows[0].status == state::DecisionStatus::pending);
  CHECK(rows[0].to_size == 4);  // 2 + 5, bounded by max 4
  CHECK_THAT(rows[0].reason, Catch::Contains("bounded by [min 1, max 4]"));
  r = s.post("grow", t, "{}", "k1");
  CHECK(Json::parse(r.body)["deliveries"][0]["outcome"].get<std::string>().starts_with(
    "duplicate"));
  CHECK(s.decisions().size() == 1);
  CHECK(s.post("grow", t, "{}", std::string("bad\nkey")).status == 400);
  // Three requests in a minute were taken (the bad one counts): the fourth is 429.
  r = s.post("grow", t, "{}", "k2");
  CHECK(r.status == 429);
  CHECK(r.headers["Retry-After"] == "60");
  CHECK(Json::parse(r.body)["error"]["exit_code"] == 75);
  s.clock.t += 61'000;
  CHECK(s.post("grow", t, "{}", "k2").status == 200);
}

TEST_CASE("an Alertmanager receiver scales out on firing, holds scale-in until resolved",
          "[serve]")
{
  ReceiverState s;
  const auto t = s.receiver("am", state::ReceiverKind::alertmanager,
                            state::ReceiverAction::scale_out, 1);
  REQUIRE(s.post("am", t, notification("firing", "0a1b")).status == 200);
  auto rows = s.decisions();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].to_size == 3);
  CHECK_THAT(rows[0].reason, Catch::Contains("alert Busy firing (webhook am)"));
  auto holds = s.store->active_holds(s.cluster.id, s.clock.now());
  REQUIRE(holds);
  REQUIRE(holds->size() == 1);
  CHECK((*holds)[0].scope == state::HoldScope::scale_in);
  // The same alert again: nothing; resolved: the hold ends, once.
  REQUIRE(s.post("am", t, notification("firing", "0a1b")).status == 200);
  CHECK(s.decisions().size() == 1);
  auto r = s.post("am", t, notification("resolved", "0a1b"));
  CHECK(Json::parse(r.body)["deliveries"][0]["outcome"] == "resolved: its hold on the cluster "
                                                            "ended");
  CHECK(s.store->active_holds(s.cluster.id, s.clock.now())->empty());
  // Hostile payloads are refused whole, and store nothing.
  std::string many = R"({"version":"4","alerts":[)";
  for (int i = 0; i < 1001; ++i) {
    many += fmt::format(R"({}{{"status":"firing","labels":{{}},"startsAt":"t","fingerprint":"{:x}"}})",
                        i ? "," : "", i + 1);
  }
  many += "]}";
  for (const auto& body : {many, std::string(R"({"version":4,"alerts":[]})"),
                           notification("firing", "0A1B"), notification("pending", "ab"),
                           notification("firing", std::string(65, 'a')),
                           notification("firing", "ab", "[]")}) {
    CAPTURE(body.substr(0, 120));
    CHECK(s.post("am", t, body).status == 400);
  }
  CHECK(s.decisions().size() == 1);
}

TEST_CASE("holds restrain the policy's decision: scale_in holds scale-in, all holds everything",
          "[serve]")
{
  state::DecisionRow in;
  in.action = state::DecisionAction::scale_in;
  in.from_size = 3;
  in.to_size = 2;
  in.status = state::DecisionStatus::pending;
  in.reason = "calm";
  state::Hold scale_in{1, 1, "webhook:am", state::HoldScope::scale_in, "ab", 0, 10'000};
  state::Hold all{2, 1, "webhook:freeze", state::HoldScope::all, "", 0, 10'000};
  auto row = in;
  CHECK(engine::apply_holds(row, {scale_in}));
  CHECK(row.action == state::DecisionAction::hold);
  CHECK(row.to_size == 3);
  CHECK(row.status == state::DecisionStatus::noop);
  CHECK_THAT(row.reason, Catch::Contains("scale-in held by webhook:am"));
  auto out = in;
  out.action = state::DecisionAction::scale_out;
  out.to_size = 4;
  auto kept = out;
  CHECK_FALSE(engine::apply_holds(kept, {scale_in}));
  CHECK(kept.action == state::DecisionAction::scale_out);
  CHECK(engine::apply_holds(out, {all}));
  CHECK(out.action == state::DecisionAction::hold);
  CHECK_THAT(out.reason, Catch::Contains("held by webhook:freeze until"));
  auto none = in;
  CHECK_FALSE(engine::apply_holds(none, {}));
  CHECK(none.action == state::DecisionAction::scale_in);
}

TEST_CASE("hostile receiver and hold rows read back are state errors", "[serve]")
{
  ReceiverState s;
  s.receiver("r", state::ReceiverKind::json, state::ReceiverAction::hold, 60);
  auto& db = s.store->db();
  for (const auto* sql :
       {"UPDATE receivers SET kind = 'shell'", "UPDATE receivers SET action = 'rm'",
        "UPDATE receivers SET cluster = '../etc'", "UPDATE receivers SET amount = -1",
        "UPDATE receivers SET amount = 86401", "UPDATE receivers SET rate_per_minute = 0",
        "UPDATE receivers SET cluster = ''", "UPDATE receivers SET cluster_label = 'a-b'",
        "UPDATE receivers SET name = 'R'", "UPDATE receivers SET hash = 'short'"}) {
    CAPTURE(sql);
    if (!state_test::write_hostile(db, sql)) {
      continue;
    }
    auto all = s.store->receivers();
    REQUIRE_FALSE(all);
    CHECK(all.error().kind == core::ErrorKind::state);
    state_test::undo_hostile(db);
  }
  state::Hold h{0, s.cluster.id, "webhook:r", state::HoldScope::all, "", 0, s.clock.now() + 1000};
  REQUIRE(s.store->insert_hold(h));
  for (const auto* sql : {"UPDATE holds SET scope = 'none'", "UPDATE holds SET source = 'evil'",
                          "UPDATE holds SET key = char(10)"}) {
    CAPTURE(sql);
    if (!state_test::write_hostile(db, sql)) {
      continue;
    }
    auto holds = s.store->active_holds(s.cluster.id, s.clock.now());
    REQUIRE_FALSE(holds);
    CHECK(holds.error().kind == core::ErrorKind::state);
    state_test::undo_hostile(db);
  }
}

TEST_CASE("gc prunes deliveries, audit rows and holds past the retention", "[serve]")
{
  ReceiverState s;
  const auto t = s.receiver("r", state::ReceiverKind::json, state::ReceiverAction::hold, 60);
  REQUIRE(s.post("r", t, "{}", "old").status == 200);  // a request, a key, a hold; audit row
  const auto old = s.clock.now();
  s.clock.t += 3'600'000;
  REQUIRE(s.post("r", t, "{}", "new").status == 200);
  // Before the first hold ran out: the first request's 2 deliveries and its audit row.
  auto pruned = s.store->prune_serve(old + 1);
  REQUIRE(pruned);
  CHECK(*pruned == 3);
  // Once it has: the hold too; nothing of the second request.
  pruned = s.store->prune_serve(old + 120'000);
  REQUIRE(pruned);
  CHECK(*pruned == 1);
  auto again = s.store->prune_serve(old + 120'000);
  CHECK(*again == 0);
  // ... the newer delivery's key still dedups.
  auto r = s.post("r", t, "{}", "new");
  CHECK(nlohmann::json::parse(r.body)["deliveries"][0]["outcome"].get<std::string>().starts_with(
    "duplicate"));
}

} // namespace unit_test_receivers
