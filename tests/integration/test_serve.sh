#!/usr/bin/env bash
# sclman serve against a real local cluster (nginx on 127.0.0.1): tokens and roles, every route
# checked against /v1/openapi.json (status and schema), the seed's /counters.json and
# /lbmembers.json, a resize asked for as an intent that the cron chain carries out and one run
# now (?now=1), hostile requests refused with the CLI's error kinds and nothing stored, the
# audit log, remove and replace of one member, HTTPS, and reads answered while a run holds the
# cluster's lock.
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 1"
CHECK="/usr/bin/python3 $SCLMAN_SOURCE_DIR/tests/support/openapi_check.py"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT

start_serve() {
  "$SCLMAN" serve --state "$DB" "$@" > "$T/serve.out" 2> "$T/serve.log" &
  SERVE_PID=$!
  SERVICE_PIDS+=($SERVE_PID)
  for _ in $(seq 600); do grep -q serve.listening "$T/serve.log" && return; sleep 0.05; done
  cat "$T/serve.log" >&2
  fail "sclman serve did not start"
}
stop_serve() {
  kill "$SERVE_PID"
  for _ in $(seq 100); do alive "$SERVE_PID" || break; sleep 0.05; done
  ! alive "$SERVE_PID" || fail "sclman serve did not stop on SIGTERM"
  wait "$SERVE_PID" || fail "sclman serve exited $? on SIGTERM, not 0"
}

# call TOKEN METHOD PATH [BODY]: the response's status in $T/status, its body in $T/body.
call() {
  local auth=() data=()
  [ -z "$1" ] || auth=(-H "Authorization: Bearer $1")
  [ $# -lt 4 ] || data=(-H "Content-Type: application/json" --data-binary "$4")
  curl -sS -o "$T/body" -w '%{http_code}' -X "$2" "${auth[@]}" "${data[@]}" "$URL$3" > "$T/status"
}
# expect TOKEN METHOD PATH STATUS [BODY]: call, then check the status and the body's schema.
expect() {
  local status=$4
  call "$1" "$2" "$3" "${@:5}"
  [ "$(cat "$T/status")" = "$status" ] || { cat "$T/body" >&2; fail "$2 $3: status $(cat "$T/status"), expected $status"; }
  $CHECK "$T/openapi.json" "$2" "${3%%\?*}" "$status" "$T/body" || fail "$2 $3 $status does not match the OpenAPI document"
}
decisions() { sqlite3 "$DB" "SELECT count(*) FROM decisions"; }
desired() { sqlite3 "$DB" "SELECT desired FROM clusters WHERE name = 'shop'"; }

sc create-cluster shop --web 2 --min 1 --max 4 > /dev/null
VIEWER=$(sc token create watcher --role viewer)
OPERATOR=$(sc token create ops --role operator)
ADMIN=$(sc token create boss --role admin)
[[ "$VIEWER" =~ ^sclman_[A-Za-z0-9_-]{43}$ ]] || fail "token create printed '$VIEWER'"
sc token list > "$T/tokens"
for t in "$VIEWER" "$OPERATOR" "$ADMIN"; do
  ! grep -qF "$t" "$T/tokens" || fail "token list shows a token"
  ! sqlite3 "$DB" .dump | grep -qF "$t" || fail "the state file holds a token in clear"
done
grep -q "^ops  *operator" "$T/tokens" || fail "token list: $(cat "$T/tokens")"
expect_exit 64 token create ops --role viewer --state "$DB"
expect_exit 64 token create 'Bad;Name' --role viewer --state "$DB"
expect_exit 64 token revoke nobody --state "$DB"
pass "token create prints a token once; list and the state file never show it; bad names are 64"

start_serve --listen "127.0.0.1:$PORT"
curl -fsS "$URL/v1/openapi.json" > "$T/openapi.json"
jq -e '.openapi == "3.1.0"' "$T/openapi.json" > /dev/null || fail "no OpenAPI document"

# Every route, as the role it needs, against the document.
expect "$VIEWER" GET /v1/clusters 200
jq -e '.[0].name == "shop" and .[0].size == 2' "$T/body" > /dev/null || fail "clusters: $(cat "$T/body")"
expect "$VIEWER" GET /v1/clusters/shop 200
expect "$VIEWER" GET /v1/clusters/shop/instances 200
[ "$(jq length "$T/body")" = 3 ] || fail "instances: $(cat "$T/body")"
expect "$VIEWER" "GET" "/v1/clusters/shop/instances?all=1" 200
expect "$VIEWER" GET /v1/clusters/shop/decisions 200
sc poll-load > /dev/null
expect "$VIEWER" GET "/v1/clusters/shop/history?minutes=5" 200
[ "$(jq '.samples | length' "$T/body")" -ge 2 ] || fail "history: $(cat "$T/body")"
expect "$VIEWER" GET /v1/clusters/shop/policy 200
jq -e '.min == 1 and .max == 4' "$T/body" > /dev/null || fail "policy: $(cat "$T/body")"
expect "$ADMIN" GET /v1/audit 200
expect "$VIEWER" GET /counters.json 200
jq -e '.[0] | .groupname == "shop" and .count == 2 and .basic_count == 1' "$T/body" > /dev/null \
  || fail "counters.json: $(cat "$T/body")"
expect "$VIEWER" GET /lbmembers.json 200
[ "$(jq '[.[] | select(.groupname == "shop" and .ipaddr == "127.0.0.1")] | length' "$T/body")" = 3 ] \
  || fail "lbmembers.json: $(cat "$T/body")"
pass "every GET route answers as /v1/openapi.json documents, the seed's shapes included"

# Authentication and roles: nothing, a malformed or unknown token: 401; too small a role: 403.
expect "" GET /v1/clusters 401
jq -e '.error.kind == "usage" and .error.exit_code == 64' "$T/body" > /dev/null || fail "401 body: $(cat "$T/body")"
expect "sclman_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /v1/clusters 401
expect "not-a-token" GET /counters.json 401
expect "$VIEWER" GET /v1/audit 403
before=$(decisions)
expect "$VIEWER" POST /v1/clusters/shop/actions 403 '{"action":"resize","to":3}'
[ "$(decisions)" = "$before" ] || fail "a viewer's action stored a decision"
sc token revoke watcher > /dev/null
expect "$VIEWER" GET /v1/clusters 401
VIEWER=$(sc token create watcher2 --role viewer)
pass "no token, a forged or revoked one: 401; a viewer on an action or the audit log: 403"

# Hostile requests: refused with the CLI's kinds, nothing stored.
before=$(decisions)
for body in 'not json' '[]' '{"action":"resize"}' '{"action":"resize","to":"3"}' \
            '{"action":"resize","to":-1}' '{"action":"resize","to":1e9}' '{"action":"resize","to":3.5}' \
            '{"action":"resize","to":3,"force":"yes"}' '{"action":"rm -rf","to":3}' \
            '{"action":"resize","to":99}' '{"action":"resize","to":0}'; do
  expect "$OPERATOR" POST /v1/clusters/shop/actions 400 "$body"
  jq -e '.error.kind == "usage" and .error.exit_code == 64' "$T/body" > /dev/null || fail "body $body: $(cat "$T/body")"
done
expect "$OPERATOR" POST /v1/clusters/nosuch/actions 404 '{"action":"resize","to":3}'
expect "$OPERATOR" POST "/v1/clusters/shop/actions?now=maybe" 400 '{"action":"resize","to":3}'
expect "$VIEWER" GET "/v1/clusters/shop/decisions?limit=0" 400
expect "$VIEWER" GET "/v1/clusters/shop/decisions?limit=1%0a2" 400
expect "$VIEWER" GET "/v1/clusters/Shop%2F..%2Fx" 404
head -c 70000 /dev/zero | tr '\0' 'x' > "$T/big"
code=$(curl -sS -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $OPERATOR" \
  -H "Content-Type: application/json" --data-binary @"$T/big" "$URL/v1/clusters/shop/actions")
[ "$code" = 413 ] || fail "a 70 KB body: status $code, not 413"
code=$(curl -sS -o "$T/body" -w '%{http_code}' "$URL/v2/nothing")
[ "$code" = 404 ] || fail "an unknown route: $code"
code=$(curl -sS -o /dev/null -D "$T/headers" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $ADMIN" "$URL/v1/clusters")
[ "$code" = 405 ] && grep -qi "^Allow: GET" "$T/headers" || fail "DELETE /v1/clusters: $code, $(cat "$T/headers")"
[ "$(decisions)" = "$before" ] && [ "$(desired)" = 2 ] || fail "a refused request changed the state"
pass "hostile bodies, parameters, sizes and paths: 400/404/405/413 with the CLI's kinds; nothing stored"

# An intent: a pending decision with its source that the chain's scale-out carries out (decide
# leaves it be).
expect "$OPERATOR" POST /v1/clusters/shop/actions 202 '{"action":"resize","to":3}'
jq -e '.decision | .status == "pending" and .source == "api:ops" and .to == 3' "$T/body" > /dev/null \
  || fail "intent: $(cat "$T/body")"
[ "$(web_in_service shop)" = 2 ] || fail "an intent acted before the chain ran"
sc decide > /dev/null 2> "$T/decide.err"
grep -q "decide.deferred cluster=shop" "$T/decide.err" || fail "decide did not leave the intent be: $(cat "$T/decide.err")"
sc scale-out > /dev/null
[ "$(desired)" = 3 ] && [ "$(web_in_service shop)" = 3 ] || fail "the chain did not carry out the intent: desired $(desired)"
[ "$(sqlite3 "$DB" "SELECT status || ' ' || source FROM decisions WHERE to_size = 3 ORDER BY id DESC LIMIT 1")" = "done api:ops" ] \
  || fail "the intent's decision is not done"
sc why shop --last 3 | grep -q "asked for by api:ops (sclman serve)" || fail "why does not name the source"
pass "an intent (202) waits for the chain: decide defers, scale-out carries it out, why names api:ops"

# Now (?now=1): the command line's run, under the same lock; the answer says what it did.
expect "$OPERATOR" POST "/v1/clusters/shop/actions?now=1" 200 '{"action":"resize","to":4}'
jq -e '.decision | .status == "done" and .source == "api:ops" and .from == 3 and .to == 4' "$T/body" > /dev/null \
  || fail "now: $(cat "$T/body")"
jq -e '.run.clusters[0].desired_after == 4' "$T/body" > /dev/null || fail "now: run: $(cat "$T/body")"
[ "$(web_in_service shop)" = 4 ] || fail "?now=1 did not reach 4 in service"
expect "$OPERATOR" POST "/v1/clusters/shop/actions?now=1" 200 '{"action":"resize","to":4}'
jq -e '.decision == null' "$T/body" > /dev/null || fail "a resize to the size it has: $(cat "$T/body")"
LB=$(lb_address shop)
serves_through "$LB" shop-web-1 shop-web-2 shop-web-3 shop-web-4
pass "?now=1 runs scale-out --to 4 at once (decision done, source api:ops); the LB serves all 4"

# Create, change the policy of and delete a cluster, as the command line does.
expect "$OPERATOR" POST /v1/clusters 201 '{"name":"blog","web":1,"max":3}'
jq -e '.cluster.name == "blog" and .cluster.size == 1 and .cluster.max == 3' "$T/body" > /dev/null \
  || fail "create: $(cat "$T/body")"
curl -fsS "http://$(lb_address blog)/" | grep -q "sclman web instance blog-web-1" || fail "blog does not serve"
expect "$OPERATOR" POST /v1/clusters 400 '{"name":"blog","web":1}'
grep -q "already exists" "$T/body" || fail "a second blog: $(cat "$T/body")"
for body in '{"name":"Blog","web":1}' '{"name":"x","web":0}' '{"name":"x","web":"1"}' \
            '{"name":"x","web":1,"provider":"openstack"}' '{"web":1}' '{"name":["x"],"web":1}'; do
  expect "$OPERATOR" POST /v1/clusters 400 "$body"
done
expect "$OPERATOR" PUT /v1/clusters/blog/policy 200 '{"min":1,"max":2}'
jq -e '.changed and .new.max == 2' "$T/body" > /dev/null || fail "set policy: $(cat "$T/body")"
for body in '{}' '{"max":0}' '{"policy":"nosuch"}' '{"min":3,"max":2}' '{"cooldown":5}' '{"policy":""}'; do
  expect "$OPERATOR" PUT /v1/clusters/blog/policy 400 "$body"
done
expect "$VIEWER" PUT /v1/clusters/blog/policy 403 '{"max":3}'
expect "$OPERATOR" DELETE /v1/clusters/blog 403
expect "$ADMIN" DELETE /v1/clusters/blog 200
[ "$(sqlite3 "$DB" "SELECT status FROM clusters WHERE name = 'blog'")" = deleted ] || fail "blog not deleted"
[ ! -e "$T/instances/blog-lb-1" ] || fail "blog's LB was left on disk"
expect "$ADMIN" DELETE /v1/clusters/blog 404
pass "POST /v1/clusters, PUT .../policy and DELETE (admin) run create-cluster, set-policy and delete-cluster; hostile bodies 400"

# A failed run now: the CLI's error kind and exit code, a failed decision, nothing else.
kill "$SERVE_PID"; wait "$SERVE_PID" || true
SCLMAN_FAILPOINTS=drain.before_lb=auth start_serve --listen "127.0.0.1:$PORT"
expect "$OPERATOR" POST "/v1/clusters/shop/actions?now=1" 502 '{"action":"resize","to":3}'
jq -e '.error.kind == "upstream_auth" and .error.exit_code == 77' "$T/body" > /dev/null || fail "failed now: $(cat "$T/body")"
[ "$(desired)" = 4 ] && [ "$(web_in_service shop)" = 4 ] || fail "a failed run now changed desired ($(desired)) or the instances"
[ "$(sqlite3 "$DB" "SELECT status || ' ' || source FROM decisions ORDER BY id DESC LIMIT 1")" = "failed api:ops" ] \
  || fail "a failed run now left no failed decision"
stop_serve
start_serve --listen "127.0.0.1:$PORT"
pass "a run now that fails (auth, 77): 502 with kind upstream_auth, a failed decision, nothing else"

# Remove one member (drained first), by the API and by the command line.
expect "$OPERATOR" POST /v1/clusters/shop/instances/shop-web-1/remove 200 "{}"
jq -e '.decision | .action == "scale_in" and .from == 4 and .to == 3 and .status == "done" and .source == "api:ops"' \
  "$T/body" > /dev/null || fail "remove: $(cat "$T/body")"
[ "$(sqlite3 "$DB" "SELECT state FROM instances WHERE name = 'shop-web-1'")" = draining ] || fail "shop-web-1 is not draining"
! lb_applied shop-lb-1 | grep -qF "$(sqlite3 "$DB" "SELECT address FROM instances WHERE name = 'shop-web-1'")" \
  || fail "the LB still forwards to shop-web-1"
sc scale-in --wait > /dev/null
[ "$(sqlite3 "$DB" "SELECT state FROM instances WHERE name = 'shop-web-1'")" = gone ] && [ "$(desired)" = 3 ] \
  && [ "$(web_in_service shop)" = 3 ] || fail "scale-in did not finish the removal: desired $(desired)"
expect "$OPERATOR" POST /v1/clusters/shop/instances/shop-lb-1/remove 400 "{}"
expect "$OPERATOR" POST /v1/clusters/shop/instances/shop-web-1/remove 400 "{}"
expect "$OPERATOR" POST /v1/clusters/shop/instances/shop-web-9/remove 400 "{}"
expect "$OPERATOR" POST "/v1/clusters/shop/instances/x;y/remove" 404 "{}"
expect "$VIEWER" POST /v1/clusters/shop/instances/shop-web-2/remove 403 "{}"
sc protect shop shop-web-2 > /dev/null
expect "$OPERATOR" POST /v1/clusters/shop/instances/shop-web-2/remove 400 "{}"
grep -q "protected from scale-in" "$T/body" || fail "removing a protected instance: $(cat "$T/body")"
sc unprotect shop shop-web-2 > /dev/null
sc remove shop shop-web-2 > /dev/null
[ "$(desired)" = 2 ] && [ "$(sqlite3 "$DB" "SELECT source FROM decisions ORDER BY id DESC LIMIT 1")" = manual ] \
  || fail "sclman remove: desired $(desired)"
sc set-policy shop --min 2 > /dev/null
expect_exit 64 remove shop shop-web-3 --state "$DB"
grep -q "below its minimum 2" "$T/err" || fail "remove below min: $(cat "$T/err")"
sc set-policy shop --min 1 > /dev/null
sc scale-in --wait > /dev/null
[ "$(web_in_service shop)" = 2 ] || fail "shop-web-2 was not deleted"
pass "remove (API and CLI): drained at once, out of the LB, desired one less, deleted by scale-in; LB, gone, protected, below-min refused"

# The audit log: each action and each refusal, with the token's name; never a token.
expect "$ADMIN" GET "/v1/audit?limit=1000" 200
jq -e '[.[] | select(.token == "ops" and .method == "POST" and .status == 202)] | length == 1' "$T/body" > /dev/null \
  || fail "audit lacks the intent"
jq -e '[.[] | select(.token == "watcher" and .status == 403)] | length == 2' "$T/body" > /dev/null \
  || fail "audit lacks the viewer's refusals"
jq -e '[.[] | select(.token == "" and .status == 401)] | length >= 3' "$T/body" > /dev/null \
  || fail "audit lacks the 401s"
jq -e '[.[] | select(.status == 400)] | length >= 11' "$T/body" > /dev/null || fail "audit lacks the refused bodies"
for t in "$VIEWER" "$OPERATOR" "$ADMIN"; do
  ! grep -qF "$t" "$T/body" "$T/serve.log" || fail "a token appears in the audit log or the server's log"
done
pass "the audit log has every action and refusal with its token's name, and no token"

# Replace one member through the API: its replacement boots first, then it drains.
old=$(sqlite3 "$DB" "SELECT name FROM instances WHERE role = 'web' AND state = 'in_service' ORDER BY serial LIMIT 1")
expect "$VIEWER" POST "/v1/clusters/shop/instances/$old/replace" 403 "{}"
expect "$OPERATOR" POST /v1/clusters/shop/instances/shop-lb-1/replace 400 "{}"
expect "$OPERATOR" POST "/v1/clusters/shop/instances/x;y/replace" 404 "{}"
[ -z "$(sqlite3 "$DB" "SELECT id FROM rollouts")" ] || fail "a refused replace started a rollout"
expect "$OPERATOR" POST "/v1/clusters/shop/instances/$old/replace" 202 "{}"
jq -e --arg old "$old" '.rollout | .instance == $old and .status == "running" and .total == 1' "$T/body" > /dev/null \
  || fail "replace: $(cat "$T/body")"
expect "$OPERATOR" POST "/v1/clusters/shop/instances/$old/replace" 400 "{}"
grep -q "rollout 1 of 'shop' is running" "$T/body" || fail "a second replace: $(cat "$T/body")"
for _ in $(seq 30); do
  [ "$(sqlite3 "$DB" "SELECT status FROM rollouts WHERE id = 1")" = running ] || break
  sc scale-out > /dev/null 2>&1; sc scale-in > /dev/null 2>&1; sleep 0.3
done
[ "$(sqlite3 "$DB" "SELECT status FROM rollouts WHERE id = 1")" = done ] || fail "the rollout did not end: $(sqlite3 "$DB" "SELECT * FROM rollouts")"
[ "$(sqlite3 "$DB" "SELECT state FROM instances WHERE name = '$old'")" = gone ] && [ "$(web_in_service shop)" = 2 ] \
  && [ "$(desired)" = 2 ] || fail "after the replacement: $(sqlite3 "$DB" "SELECT name, state FROM instances")"
# The new instance was in service before the old one was chosen to drain.
[ "$(sqlite3 "$DB" "SELECT count(*) FROM instances i, scale_in_victims v WHERE v.instance = '$old' AND i.role = 'web' AND i.name <> '$old' AND i.state = 'in_service' AND i.in_service_since <= v.ts AND i.created_at > (SELECT started_at FROM rollouts WHERE id = 1)")" = 1 ] \
  || fail "the replacement was not in service before $old drained: $(sqlite3 "$DB" "SELECT * FROM scale_in_victims; SELECT name, created_at, in_service_since FROM instances")"
expect "$ADMIN" GET "/v1/audit?limit=5" 200
jq -e --arg d "replace $old: rollout started" '[.[] | select(.detail == $d and .token == "ops")] | length == 1' "$T/body" > /dev/null \
  || fail "the audit log lacks the replacement: $(cat "$T/body")"
pass "replace (API): $old replaced by a new instance that served first, 2 in service; viewer, LB, bad name and a second one refused"

# force: a token made with --force may act outside [min, max]; the bound moves with the size,
# stored only once the run succeeds. The command line's --force does the same.
policy_q() { sqlite3 "$DB" "SELECT json_extract(policy, '\$.$1') FROM clusters WHERE name = 'shop'"; }
FORCER=$(sc token create breakglass --role operator --force)
sc token list | grep -q "^breakglass  *operator  *yes" || fail "token list: $(sc token list)"
expect_exit 64 token create peeker --role viewer --force --state "$DB"
before=$(state_dump)
expect "$OPERATOR" POST "/v1/clusters/shop/actions?now=1" 403 '{"action":"resize","to":5,"force":true}'
expect "$ADMIN" POST "/v1/clusters/shop/instances/$(sqlite3 "$DB" "SELECT name FROM instances WHERE role = 'web' AND state = 'in_service' LIMIT 1")/remove?force=1" 403 "{}"
expect "$FORCER" POST /v1/clusters/shop/actions 400 '{"action":"resize","to":5,"force":true}'
expect "$FORCER" POST "/v1/clusters/shop/actions?now=1" 400 '{"action":"resize","to":5}'
[ "$(state_dump)" = "$before" ] || fail "a refused force changed the state file"
expect "$FORCER" POST "/v1/clusters/shop/actions?now=1" 200 '{"action":"resize","to":5,"force":true}'
jq -e '.decision | .status == "done" and .source == "api:breakglass" and .to == 5' "$T/body" > /dev/null \
  || fail "forced resize: $(cat "$T/body")"
[ "$(policy_q max)" = 5 ] && [ "$(desired)" = 5 ] && [ "$(web_in_service shop)" = 5 ] \
  || fail "after a forced resize to 5: max $(policy_q max), desired $(desired), $(web_in_service shop) in service"
# A forced run that fails stores no policy: only its failed decision.
rc=0
SCLMAN_FAILPOINTS=create_server.before=auth "$SCLMAN" scale-out --cluster shop --to 7 --force --state "$DB" > /dev/null 2> "$T/err" || rc=$?
[ $rc = 77 ] && [ "$(policy_q max)" = 5 ] && [ "$(desired)" = 5 ] \
  || fail "a failed forced scale-out: exit $rc, max $(policy_q max), desired $(desired)"
[ "$(sqlite3 "$DB" "SELECT status FROM decisions ORDER BY id DESC LIMIT 1")" = failed ] || fail "no failed decision"
expect_exit 64 scale-out --cluster shop --to 7 --state "$DB"
expect_exit 64 scale-out --cluster shop --force --state "$DB"
sc set-policy shop --min 5 > /dev/null
victim=$(sqlite3 "$DB" "SELECT name FROM instances WHERE role = 'web' AND state = 'in_service' ORDER BY serial LIMIT 1")
expect "$FORCER" POST "/v1/clusters/shop/instances/$victim/remove" 400 "{}"
expect "$FORCER" POST "/v1/clusters/shop/instances/$victim/remove?force=1" 200 "{}"
[ "$(policy_q min)" = 4 ] && [ "$(desired)" = 4 ] || fail "forced remove: min $(policy_q min), desired $(desired)"
sc scale-in --cluster shop --to 3 --force > /dev/null || fail "scale-in --to 3 --force"
[ "$(policy_q min)" = 3 ] && [ "$(desired)" = 3 ] || fail "scale-in --force: min $(policy_q min), desired $(desired)"
sc scale-in --wait > /dev/null
sc set-policy shop --min 1 --max 4 > /dev/null
[ "$(web_in_service shop)" = 3 ] || fail "$(web_in_service shop) in service after the forced actions, not 3"
pass "force: 403 without the capability, never an intent; with it resize to 5 and remove below min move the bound; a failed forced run stores no policy; CLI --force the same"

# Reads go on while a run holds the cluster's lock; an action now meets busy (409, exit 75).
# A read that waited for a lock would wait out the state's 10 s lock timeout: 5 s tells that
# apart from a slow moment of a loaded machine (two reads of 50 took over a second in a full
# ctest run with -j4 on 2 cores).
sqlite3 "$DB" "INSERT INTO locks (name, pid, host, acquired_at) VALUES ('cluster:shop', $$, '$(hostname)', $(date +%s%3N))"
slow=0
for _ in $(seq 50); do
  t0=$(date +%s%N)
  expect "$VIEWER" GET /v1/clusters/shop 200
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ] || slow=$((slow + 1))
done
[ "$slow" = 0 ] || fail "$slow reads took 5 s or more while the lock was held"
expect "$OPERATOR" POST "/v1/clusters/shop/actions?now=1" 409 '{"action":"resize","to":2}'
jq -e '.error.kind == "busy" and .error.exit_code == 75' "$T/body" > /dev/null || fail "busy: $(cat "$T/body")"
sqlite3 "$DB" "DELETE FROM locks WHERE name = 'cluster:shop'"
pass "50 reads under 5 s each while a run holds the lock; an action now gets 409 busy"
stop_serve

# HTTPS with a configured certificate; a key others may read is refused (78).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2> /dev/null
chmod 644 "$T/key.pem"
cat >> "$SCLMAN_CONFIG" <<CONF
[SERVE]
listen = 127.0.0.1:$PORT
tls_cert = $T/cert.pem
tls_key = $T/key.pem
request_timeout = 2
CONF
expect_exit 78 serve --state "$DB"
grep -q "TLS key" "$T/err" || fail "a readable TLS key: $(cat "$T/err")"
chmod 600 "$T/key.pem"
start_serve
URL=https://127.0.0.1:$PORT
curl -fsS --cacert "$T/cert.pem" -H "Authorization: Bearer $VIEWER" "$URL/counters.json" | jq -e '.[0].groupname == "shop"' > /dev/null \
  || fail "no answer over HTTPS"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/counters.json" 2> /dev/null || true)
[ "$code" != 200 ] || fail "plain HTTP answered on the HTTPS port"
# A POST without a body (no Content-Length) is read until request_timeout, then refused saying why.
code=$(curl -sS -m 20 --cacert "$T/cert.pem" -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $OPERATOR" "$URL/v1/clusters/shop/actions")
[ "$code" = 400 ] && grep -q "needs a body with Content-Length" "$T/body" || fail "a POST without a body: $code $(cat "$T/body")"
stop_serve
pass "HTTPS with [SERVE] tls_cert and tls_key; a key others may read is refused (78); a POST without a body is told it needs Content-Length"
