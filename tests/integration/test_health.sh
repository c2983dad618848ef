#!/usr/bin/env bash
# In-service health checks ([HEALTH]) on the local provider, against real nginx: a web
# instance whose nginx runs but answers 503 is out of the LB after one run (unhealthy, shown by
# status and why), back after it answers again, and replaced once it has been out for the
# grace; a client of the LB sees no failed request while the broken instance is out.
. "$(dirname "$0")/lib.sh"
write_config
cat >> "$SCLMAN_CONFIG" <<'EOT'
[HEALTH]
path = /ready
interval = 1
timeout = 2
healthy_threshold = 2
unhealthy_threshold = 3
grace = 600
EOT

sc create-cluster shop --web 2 --max 4 > /dev/null
LB=$(lb_address shop)
web1=$(sqlite3 "$DB" "SELECT address FROM instances WHERE name='shop-web-1'")
upstream=$T/instances/shop-lb-1/conf/upstream.conf
grep -q "$web1" "$upstream" || fail "shop-web-1 not in the LB"

# answer NAME CODE: make the web instance NAME's nginx answer CODE on every page (its process
# keeps running: only an HTTP check sees it), and wait until it does.
answer() {
  local conf=$T/instances/$1/conf/nginx.conf addr
  addr=$(sqlite3 "$DB" "SELECT address FROM instances WHERE name='$1'")
  sed -i -E "s/return [0-9]+ \"sclman web/return $2 \"sclman web/" "$conf"
  reload_nginx "$1"
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/ready")" = "$2" ] && return 0
    sleep 0.1
  done
  fail "$1 does not answer $2 after its reload"
}

unhealthy_since() {
  status_q ".[] | select(.name==\"shop\") | .instances[] | select(.name==\"$1\") | .unhealthy_since"
}

# Healthy instances stay: a run checks each once.
sc scale-out 2> "$T/run0.log" > /dev/null
[ "$(unhealthy_since shop-web-1)" = null ] || fail "a healthy instance was marked unhealthy"
grep -q "instance.unhealthy" "$T/run0.log" && fail "a healthy instance was reported unhealthy"
pass "healthy instances pass their checks and stay in the LB"

# Broken: out after one run, still counted (no replacement within the grace).
answer shop-web-1 503
sc scale-out 2> "$T/run1.log" > /dev/null
grep -q "$web1" "$upstream" && fail "the LB still forwards to the unhealthy shop-web-1"
[ "$(unhealthy_since shop-web-1)" != null ] || fail "shop-web-1 not marked unhealthy"
grep -q 'instance.unhealthy cluster=shop instance=shop-web-1 reason="GET /ready answered 503"' \
  "$T/run1.log" || fail "no instance.unhealthy log line: $(cat "$T/run1.log")"
sc status | grep -E "shop-web-1 .* unhealthy " > /dev/null || fail "status does not show shop-web-1 unhealthy: $(sc status)"
sc why shop | grep -q "unhealthy, out of the LB since .*: shop-web-1: 3 health checks in a row failed: GET /ready answered 503" ||
  fail "why does not say why shop-web-1 is out: $(sc why shop)"
[ "$(status_q '.[] | select(.name=="shop") | [.instances[] | select(.role=="web" and .state!="gone")] | length')" = 2 ] ||
  fail "a replacement was booted within the grace"
# Every request through the LB is answered by the healthy instance.
for _ in $(seq 1 20); do
  curl -fsS "http://$LB/" | grep -q "sclman web instance shop-web-2" || fail "a request through the LB failed or reached shop-web-1"
done
pass "an instance answering 503 is out of the LB after one run, shown unhealthy by status and why; 20 requests through the LB all served"

# Answering again: back after healthy_threshold passes.
answer shop-web-1 200
sc scale-out 2> "$T/run2.log" > /dev/null
grep -q "$web1" "$upstream" || fail "shop-web-1 not back in the LB after it answered again"
[ "$(unhealthy_since shop-web-1)" = null ] || fail "shop-web-1 still unhealthy"
grep -q "instance.healthy cluster=shop instance=shop-web-1 passes=2" "$T/run2.log" ||
  fail "no instance.healthy log line: $(cat "$T/run2.log")"
pass "an instance that answers again is back in the LB after two passes"

# Broken past the grace: error, replaced in the same run, gc deletes it. (The grace is 600 s
# above, so that a loaded machine's slow runs never reach it; 2 s here, read by the next run.)
answer shop-web-1 500
sed -i 's/^grace = 600$/grace = 2/' "$SCLMAN_CONFIG"
grep -q '^grace = 2$' "$SCLMAN_CONFIG" || fail "cannot set the grace"
sc scale-out > /dev/null 2>&1
[ "$(unhealthy_since shop-web-1)" != null ] || fail "shop-web-1 not marked unhealthy the second time"
[ "$(web_in_service shop)" = 2 ] || fail "shop-web-1 replaced before its grace"
sleep 3
sc scale-out 2> "$T/run3.log" > /dev/null
[ "$(sqlite3 "$DB" "SELECT state FROM instances WHERE name='shop-web-1'")" = error ] ||
  fail "shop-web-1 not in error after the grace: $(cat "$T/run3.log")"
sqlite3 "$DB" "SELECT error FROM instances WHERE name='shop-web-1'" |
  grep -qE "^unhealthy for [0-9]+ s \(grace 2 s\): 3 health checks in a row failed: GET /ready answered 500$" ||
  fail "no reason stored: $(sqlite3 "$DB" "SELECT error FROM instances WHERE name='shop-web-1'")"
[ "$(web_in_service shop)" = 2 ] || fail "shop-web-1 not replaced: $(sc status)"
web3=$(sqlite3 "$DB" "SELECT address FROM instances WHERE name='shop-web-3'")
grep -q "$web3" "$upstream" || fail "the replacement shop-web-3 is not in the LB"
sc gc > /dev/null
[ "$(sqlite3 "$DB" "SELECT state FROM instances WHERE name='shop-web-1'")" = gone ] || fail "gc did not delete shop-web-1"
pass "past the grace the unhealthy instance is replaced in one run (shop-web-3) and deleted by gc"

# A bad [HEALTH] value is refused before anything runs.
printf '[HEALTH]\npath = ready\n' > "$T/bad.conf"
chmod 600 "$T/bad.conf"
SCLMAN_CONFIG=$T/bad.conf expect_exit 78 status --state "$DB"
grep -q "path" "$T/err" || fail "the error does not name the key: $(cat "$T/err")"
pass "[HEALTH] path without a leading / is refused (exit 78)"

# A cluster's own [HEALTH] keys (create-cluster --health KEY=VALUE) are used for it alone.
sc create-cluster two --web 1 --health path=/custom --health unhealthy_threshold=1 > /dev/null
[ "$(status_q '.[] | select(.name=="two") | .health | "\(.path) \(.unhealthy_threshold)"')" = "/custom 1" ] ||
  fail "status --json does not show two's health keys: $(status_q '.[] | select(.name=="two") | .health')"
answer two-web-1 503
sc scale-out --cluster two 2> "$T/two.log" > /dev/null
grep -q 'instance.unhealthy cluster=two instance=two-web-1 reason="GET /custom answered 503"' "$T/two.log" ||
  fail "two's check did not use its own path: $(cat "$T/two.log")"
[ "$(sqlite3 "$DB" "SELECT error FROM instances WHERE name='two-web-1'")" = "1 health checks in a row failed: GET /custom answered 503" ] ||
  fail "two's check did not use its own threshold: $(sqlite3 "$DB" "SELECT error FROM instances WHERE name='two-web-1'")"
expect_exit 64 create-cluster three --web 1 --health path=nope --state "$DB"
grep -q -- "--health key 'path': invalid value 'nope'" "$T/err" || fail "a bad --health is not named: $(cat "$T/err")"
[ -z "$(sqlite3 "$DB" "SELECT name FROM clusters WHERE name='three'")" ] || fail "a refused create left a row"
# Read back from the state file, the keys go through the same parser.
sqlite3 "$DB" "UPDATE clusters SET health = 'path = /x'||char(10)||'nginx = /bin/sh' WHERE name='two'"
expect_exit 74 status --state "$DB"
grep -q "table 'clusters' row [0-9]* has health '" "$T/err" || fail "a bad stored health is not named: $(cat "$T/err")"
pass "create-cluster --health: two checks /custom with threshold 1, a bad key is exit 64, a bad stored one exit 74"

# unhealthy_since read back from the state is checked: a time of 0 or less, or one on an
# instance not in service, is a state error naming the row.
sqlite3 "$DB" "UPDATE clusters SET health = '' WHERE name='two'"
sqlite3 "$DB" "UPDATE instances SET unhealthy_since = -5 WHERE name='shop-web-2'"
expect_exit 74 status --state "$DB"
grep -q "table 'instances' row [0-9]* has unhealthy_since -5 in state in_service" "$T/err" || fail "a bad unhealthy_since is not named: $(cat "$T/err")"
sqlite3 "$DB" "UPDATE instances SET unhealthy_since = 1700000000000 WHERE name='shop-web-1'"
sqlite3 "$DB" "UPDATE instances SET unhealthy_since = NULL WHERE name='shop-web-2'"
expect_exit 74 status --all --state "$DB"
grep -q "has unhealthy_since 1700000000000 in state gone" "$T/err" || fail "unhealthy_since on a gone instance is not refused: $(cat "$T/err")"
pass "a hostile unhealthy_since in the state file is exit 74, naming the row"
