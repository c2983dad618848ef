#!/usr/bin/env bash
# Webhook receivers of sclman serve with a real Alertmanager (Debian's prometheus-alertmanager)
# and real nginx clusters: a firing alert scales a cluster out through the chain and holds its
# scale-in; its replayed delivery does nothing; once resolved the policy scales it back in. A
# json receiver with Idempotency-Key and a rate limit, a hold receiver, hostile payloads and
# tokens, and `why` naming webhook:NAME.
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 1"
command -v prometheus-alertmanager > /dev/null || {
  [ "${CI:-}" != true ] || fail "prometheus-alertmanager missing on CI"
  echo "SKIPPED LOUDLY: no prometheus-alertmanager" >&2; exit 77; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port); AMPORT=$(free_port); CAPPORT=$(free_port)
URL=http://127.0.0.1:$PORT
decisions() { sqlite3 "$DB" "SELECT count(*) FROM decisions"; }
desired() { sqlite3 "$DB" "SELECT desired FROM clusters WHERE name = 'shop'"; }
webhook_pending() { sqlite3 "$DB" "SELECT count(*) FROM decisions WHERE source = 'webhook:$1' AND status = 'pending'"; }
tick() { sc poll-load --cron > /dev/null 2>&1 || true; sc decide > /dev/null 2>> "$T/decide.log"; sc scale-out --cron > /dev/null; sc scale-in --cron > /dev/null; }
# post RECEIVER TOKEN BODY [HEADER]: the status in $T/status, the body in $T/body.
post() {
  local extra=()
  [ -z "${4:-}" ] || extra=(-H "$4")
  curl -sS -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $2" -H "Content-Type: application/json" \
    "${extra[@]}" --data-binary "$3" "$URL/v1/receivers/$1" > "$T/status"
}
expect_post() {
  post "$@"
  local want=${5:-200}
  [ "$(cat "$T/status")" = "$want" ] || { cat "$T/body" >&2; fail "POST /v1/receivers/$1: $(cat "$T/status"), expected $want"; }
}

sc create-cluster shop --web 2 --min 1 --max 5 > /dev/null
AM_TOKEN=$(sc receiver create am --cluster-label cluster --kind alertmanager --action scale-out --amount 2 --rate 60)
printf '%s' "$AM_TOKEN" > "$T/am.token"
sc receiver list | grep -q "^am  *alertmanager  *label cluster  *scale_out  *2  *60" || fail "receiver list: $(sc receiver list)"
! sc receiver list --json | grep -qF "$AM_TOKEN" || fail "receiver list shows the token"
expect_exit 64 receiver create am --cluster shop --kind json --action hold --amount 5 --state "$DB"
expect_exit 64 receiver create x --kind json --action hold --amount 5 --state "$DB"
expect_exit 64 receiver create x --cluster shop --kind json --action hold --amount 0 --state "$DB"
expect_exit 64 receiver create x --cluster nosuch --kind json --action hold --amount 5 --state "$DB"
pass "receiver create prints a token once; list never shows it; bad receivers are 64"

"$SCLMAN" serve --state "$DB" --listen "127.0.0.1:$PORT" > /dev/null 2> "$T/serve.log" &
SERVICE_PIDS+=($!)
# What Alertmanager sends, captured to be replayed.
mkdir -p "$T/captured"
python3 - "$CAPPORT" "$T/captured" <<'PY' &
import http.server, sys, itertools
port, out = int(sys.argv[1]), sys.argv[2]
n = itertools.count()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(f"{out}/{next(n):03d}.json", "wb") as f:
            f.write(body)
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
SERVICE_PIDS+=($!)
cat > "$T/alertmanager.yml" <<YML
route:
  receiver: sclman
  group_by: [alertname, cluster]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: sclman
    webhook_configs:
      - url: $URL/v1/receivers/am
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: $T/am.token
      - url: http://127.0.0.1:$CAPPORT/
        send_resolved: true
YML
prometheus-alertmanager --config.file="$T/alertmanager.yml" --storage.path="$T/am" \
  --web.listen-address="127.0.0.1:$AMPORT" --cluster.listen-address= > "$T/am.log" 2>&1 &
SERVICE_PIDS+=($!)
for _ in $(seq 200); do curl -fsS "http://127.0.0.1:$AMPORT/-/ready" > /dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$AMPORT/-/ready" > /dev/null || { cat "$T/am.log" >&2; fail "Alertmanager did not start"; }
# Under a loaded machine (ctest runs tests in parallel) the sanitizer build takes seconds to
# listen.
for _ in $(seq 300); do grep -q serve.listening "$T/serve.log" && break; sleep 0.1; done
grep -q serve.listening "$T/serve.log" || { cat "$T/serve.log" >&2; fail "sclman serve did not start"; }

# A firing alert for cluster shop: a pending decision +2 with source webhook:am.
starts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
alert() { printf '[{"labels":{"alertname":"HighLatency","cluster":"shop"},"startsAt":"%s"%s}]' "$starts" "$1"; }
curl -fsS -XPOST -H "Content-Type: application/json" --data "$(alert "")" "http://127.0.0.1:$AMPORT/api/v2/alerts" > /dev/null
for _ in $(seq 150); do [ "$(webhook_pending am)" = 1 ] && break; sleep 0.1; done
[ "$(webhook_pending am)" = 1 ] || { cat "$T/am.log" "$T/serve.log" >&2; fail "Alertmanager's notification made no pending decision"; }
[ "$(sqlite3 "$DB" "SELECT from_size || '->' || to_size FROM decisions WHERE source = 'webhook:am'")" = "2->4" ] \
  || fail "the alert's decision: $(sqlite3 "$DB" "SELECT * FROM decisions")"
tick
[ "$(desired)" = 4 ] && [ "$(web_in_service shop)" = 4 ] || fail "the chain did not carry out the alert's scale-out: desired $(desired)"
grep -q "decide.deferred cluster=shop" "$T/decide.log" || fail "decide did not defer to the webhook's decision"
sc why shop --last 5 | grep -q "asked for by webhook:am" || fail "why does not name webhook:am"
pass "Alertmanager's firing notification: decision 2->4 from webhook:am, carried out by the chain"

# While it fires, the policy (no load: it wants to scale in) is held.
for _ in 1 2 3 4; do tick; sleep 0.2; done
[ "$(desired)" = 4 ] || fail "the policy scaled in while the alert fired: desired $(desired)"
sqlite3 "$DB" "SELECT reason FROM decisions ORDER BY id DESC LIMIT 1" | grep -q "scale-in held by webhook:am while its alert fires" \
  || fail "no held decision: $(sqlite3 "$DB" "SELECT reason FROM decisions ORDER BY id DESC LIMIT 3")"
pass "while the alert fires, the policy's scale-in is held (decide says why)"

# The same notification delivered again does nothing.
firing=$(grep -l '"status":"firing"' "$T"/captured/*.json | head -1)
[ -n "$firing" ] || fail "nothing captured from Alertmanager"
before=$(decisions)
expect_post am "$AM_TOKEN" "$(cat "$firing")"
jq -e '.deliveries[0].outcome | startswith("duplicate")' "$T/body" > /dev/null || fail "replay: $(cat "$T/body")"
[ "$(decisions)" = "$before" ] && [ "$(webhook_pending am)" = 0 ] || fail "a replayed delivery acted again"
pass "the captured notification replayed: duplicate, nothing done"

# Resolved: the hold ends; with no load the policy scales back in.
curl -fsS -XPOST -H "Content-Type: application/json" --data "$(alert ",\"endsAt\":\"$(date -u -d '-1 sec' +%Y-%m-%dT%H:%M:%SZ)\"")" \
  "http://127.0.0.1:$AMPORT/api/v2/alerts" > /dev/null
for _ in $(seq 150); do [ "$(sqlite3 "$DB" "SELECT count(*) FROM holds WHERE ended_at IS NOT NULL")" = 1 ] && break; sleep 0.1; done
[ "$(sqlite3 "$DB" "SELECT count(*) FROM holds WHERE ended_at IS NOT NULL")" = 1 ] || { cat "$T/serve.log" >&2; fail "the resolved notification did not end the hold"; }
for _ in $(seq 8); do tick; [ "$(desired)" -lt 4 ] && break; sleep 0.3; done
[ "$(desired)" -lt 4 ] || fail "the policy did not scale back in after the alert resolved"
pass "resolved: the hold ended and the policy scaled back in (desired $(desired))"

# A json receiver: set the size, once per Idempotency-Key, at most 2 requests a minute.
DEPLOY=$(sc receiver create deploy --cluster shop --kind json --action set-desired --amount 5 --rate 2)
expect_post deploy "$DEPLOY" '{"reason":"launch"}' "Idempotency-Key: launch-1"
[ "$(webhook_pending deploy)" = 1 ] || fail "the json receiver made no pending decision: $(cat "$T/body")"
before=$(decisions)
expect_post deploy "$DEPLOY" '{"reason":"launch"}' "Idempotency-Key: launch-1"
jq -e '.deliveries[0].outcome | startswith("duplicate")' "$T/body" > /dev/null || fail "same key: $(cat "$T/body")"
[ "$(decisions)" = "$before" ] || fail "the same Idempotency-Key acted twice"
expect_post deploy "$DEPLOY" '{}' "Idempotency-Key: launch-2" 429
grep -qi "^Retry-After: 60" <(curl -sS -D - -o /dev/null -H "Authorization: Bearer $DEPLOY" --data '{}' "$URL/v1/receivers/deploy") \
  || fail "429 without Retry-After"
tick
[ "$(desired)" = 5 ] || fail "the json receiver's size was not carried out: desired $(desired)"
pass "json receiver: set-desired 5 carried out once per Idempotency-Key; the third request in a minute is 429"

# A hold receiver holds the policy altogether.
FREEZE=$(sc receiver create freeze --cluster shop --kind json --action hold --amount 600)
expect_post freeze "$FREEZE" '{}'
tick
sqlite3 "$DB" "SELECT reason FROM decisions WHERE source = 'policy' ORDER BY id DESC LIMIT 1" | grep -q "held by webhook:freeze until" \
  || fail "the hold receiver did not hold the policy: $(sqlite3 "$DB" "SELECT reason FROM decisions ORDER BY id DESC LIMIT 2")"
[ "$(desired)" = 5 ] || fail "desired changed under a hold"
pass "a hold receiver holds the policy (decide says until when)"

# Hostile deliveries: refused (400) or skipped, nothing acted on; wrong tokens are 401.
before=$(decisions)
for body in 'nope' '[]' '{"version":"3","alerts":[]}' '{"version":"4","alerts":{}}' \
  '{"version":"4","alerts":[{"status":"maybe","labels":{},"startsAt":"x","fingerprint":"ab"}]}' \
  '{"version":"4","alerts":[{"status":"firing","labels":{},"startsAt":"x","fingerprint":"XYZ"}]}' \
  '{"version":"4","alerts":[{"status":"firing","labels":[],"startsAt":"x","fingerprint":"ab"}]}' \
  '{"version":"4","alerts":[{"status":"firing","labels":{},"startsAt":"\u0000\n","fingerprint":"ab"}]}'; do
  expect_post am "$AM_TOKEN" "$body" "" 400
done
expect_post am "$AM_TOKEN" '{"version":"4","alerts":[{"status":"firing","labels":{"cluster":"Shop;rm -rf"},"startsAt":"t1","fingerprint":"ab"},{"status":"firing","labels":{"cluster":"nosuch"},"startsAt":"t1","fingerprint":"cd"},{"status":"firing","labels":{},"startsAt":"t1","fingerprint":"ef"}]}'
[ "$(jq '[.deliveries[].outcome | select(startswith("skipped"))] | length' "$T/body")" = 3 ] || fail "hostile labels: $(cat "$T/body")"
expect_post am "$DEPLOY" '{}' "" 401
expect_post nosuch "$AM_TOKEN" '{}' "" 401
expect_post am "not-a-token" '{}' "" 401
[ "$(decisions)" = "$before" ] || fail "a hostile delivery stored a decision"
sc receiver delete am > /dev/null
expect_post am "$AM_TOKEN" "$(cat "$firing")" "" 401
pass "hostile payloads 400, hostile labels skipped, wrong or deleted receivers 401; nothing acted on"
