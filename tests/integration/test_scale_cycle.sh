#!/usr/bin/env bash
# The whole chain on the local provider: a cluster of 2 grows under load, the new instance
# serves through the LB, it shrinks back to 2 when the load stops, and a client that opens a
# connection per request sees no failed request through every change.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 2 --min 2 --max 3 > /dev/null
[ "$(web_in_service shop)" = 2 ] || fail "cluster did not start with 2 web instances"
LB=$(lb_address shop)
curl -fsS "http://$LB/" | grep "sclman web instance shop-web-" > /dev/null || fail "LB does not serve"
pass "created shop with 2 web instances behind $LB"

# Phase 1: high load (about 600 req/s per instance against a high mark of 150).
"$SCLMAN_LOADGEN" --url "http://$LB/" --concurrency 4 --rate 1200 --duration 900 > "$T/load1.json" &
LOADGEN_PIDS+=($!)
grown=0
for tick in $(seq 1 30); do
  chain
  if [ "$(web_in_service shop)" = 3 ]; then
    grown=1
    break
  fi
  sleep 1
done
[ $grown = 1 ] || fail "cluster did not grow to 3 under load"
pass "grew to 3 after $tick ticks"
# The new instance serves through the LB.
seen=""
for k in $(seq 1 12); do
  seen+=$(curl -fsS "http://$LB/")
done
echo "$seen" | grep "sclman web instance shop-web-3" > /dev/null || fail "shop-web-3 never answered through the LB"
pass "shop-web-3 answers through the LB"
# More ticks at max: no growth beyond 3.
for k in 1 2 3; do chain; sleep 1; done
[ "$(web_in_service shop)" = 3 ] || fail "cluster left max 3 under load"
kill -INT "${LOADGEN_PIDS[0]}"
wait "${LOADGEN_PIDS[0]}" || true
cat "$T/load1.json"
[ "$(jq .errors "$T/load1.json")" = 0 ] || fail "failed requests under scale-out: $(cat "$T/load1.json")"
[ "$(jq .non_200 "$T/load1.json")" = 0 ] || fail "non-200 answers under scale-out"
[ "$(jq '.by_instance["shop-web-3"] // 0' "$T/load1.json")" -gt 0 ] || fail "load never reached shop-web-3"
pass "no failed request while growing ($(jq .requests "$T/load1.json") requests)"

# Phase 2: light load (30 req/s in all: 10 to 15 per instance, under the low mark of 20), through scale-in and drain.
"$SCLMAN_LOADGEN" --url "http://$LB/" --concurrency 2 --rate 30 --duration 900 > "$T/load2.json" &
LOADGEN_PIDS+=($!)
shrunk=0
for tick in $(seq 1 40); do
  chain
  if [ "$(web_in_service shop)" = 2 ] && [ "$(status_q '[.[0].instances[] | select(.state=="draining" or .state=="deleting")] | length')" = 0 ]; then
    shrunk=1
    break
  fi
  sleep 1
done
[ $shrunk = 1 ] || fail "cluster did not shrink back to 2"
pass "shrank to 2 after $tick ticks"
for k in 1 2 3 4; do chain; sleep 1; done
[ "$(web_in_service shop)" = 2 ] || fail "cluster went below its minimum of 2"
kill -INT "${LOADGEN_PIDS[1]}"
wait "${LOADGEN_PIDS[1]}" || true
cat "$T/load2.json"
[ "$(jq .errors "$T/load2.json")" = 0 ] || fail "failed requests under scale-in: $(cat "$T/load2.json")"
[ "$(jq .non_200 "$T/load2.json")" = 0 ] || fail "non-200 answers under scale-in"
pass "no failed request while shrinking ($(jq .requests "$T/load2.json") requests)"

# The victim (newest first) is gone: out of the LB, its process and directory removed.
victim=$(sqlite3 "$DB" "SELECT name FROM instances WHERE role='web' AND state='gone'")
[ "$victim" = shop-web-3 ] || fail "expected shop-web-3 to be the victim, got '$victim'"
[ ! -d "$T/instances/shop-web-3" ] || fail "victim's directory is still there"
grep -q "$(sqlite3 "$DB" "SELECT address FROM instances WHERE name='shop-web-3'")" \
  "$T/instances/shop-lb-1/conf/upstream.conf" && fail "LB still lists the victim"
# Every decision is stored with its reason and inputs.
[ "$(sqlite3 "$DB" "SELECT count(*) FROM decisions WHERE action='scale_out' AND status='done' AND reason='load_above_high'")" -ge 1 ] \
  || fail "no done scale_out decision with its reason"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM decisions WHERE action='scale_in' AND status='done' AND reason='load_below_low'")" -ge 1 ] \
  || fail "no done scale_in decision with its reason"
sqlite3 "$DB" "SELECT inputs FROM decisions WHERE action='scale_out' LIMIT 1" | jq -e '.high_polls == 2' > /dev/null \
  || fail "decision inputs are not stored"
pass "decisions stored with reasons and inputs"

sc delete-cluster shop > /dev/null
[ -z "$(ls "$T/instances")" ] || fail "delete-cluster left directories: $(ls "$T/instances")"
pass "deleted"
