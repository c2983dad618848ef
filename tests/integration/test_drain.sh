#!/usr/bin/env bash
# Drain until idle, and the victim policy, on the local provider (real nginx web instances behind
# a real nginx LB, man_drain_seconds = 120):
# - an idle victim's drain ends in the same scale-in run, in under a second;
# - long requests (16 KiB at 1 KiB/s from the instance, ~16 s; each instance its own bytes)
#   through the LB survive the scale-in of their instance: it drains, status shows its requests in flight, and it is deleted
#   by the first run after they ended, long before the deadline;
# - set-policy --victim oldest drains the oldest, least-busy the one without requests in flight
#   (a request held on the newest), and `why` names each victim and why;
# - a hostile --victim is exit 64 and changes nothing.
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 120"

sc create-cluster shop --web 3 --min 1 --max 5 > /dev/null
state_of() { sqlite3 "$DB" "SELECT state FROM instances WHERE name = '$1'"; }
addr() { sqlite3 "$DB" "SELECT address FROM instances WHERE name = '$1'"; }
live() { sqlite3 "$DB" "SELECT name FROM instances WHERE role = 'web' AND state = 'in_service' ORDER BY serial" | tr '\n' ' '; }
LB=$(lb_address shop)

# The newest (shop-web-3) is idle: drained and deleted in the same run.
sc scale-in --cluster shop --to 2 > /dev/null 2> "$T/in.err" || { cat "$T/in.err" >&2; fail "scale-in --to 2"; }
[ "$(state_of shop-web-3)" = gone ] || fail "the idle shop-web-3 is $(state_of shop-web-3) after its scale-in run"
after=$(sed -n 's/.*instance\.drained cluster=shop instance=shop-web-3 after_ms=\([0-9]*\) .*idle.*/\1/p' "$T/in.err")
[ -n "$after" ] || { cat "$T/in.err" >&2; fail "no idle drain logged for shop-web-3"; }
[ "$after" -lt 1000 ] || fail "the idle drain took $after ms"
pass "an idle victim drained in $after ms, deleted by the same run (deadline 120 s)"

serve_slow shop-web-1 16
serve_slow shop-web-2 16
# Four long requests through the LB (round robin: two on each instance).
for n in 1 2 3 4; do
  ( rc=0; curl -fsS -o "$T/slow.$n" "http://$LB/slow" 2> "$T/slow.$n.err" || rc=$?; echo $rc > "$T/slow.$n.rc" ) &
done
for _ in $(seq 100); do
  [ "$(in_flight shop-web-2)" -ge 1 ] && break
  sleep 0.1
done
[ "$(in_flight shop-web-2)" -ge 1 ] || fail "no long request reached shop-web-2"
sc scale-in --cluster shop --to 1 > /dev/null 2> "$T/in2.err" || { cat "$T/in2.err" >&2; fail "scale-in --to 1"; }
[ "$(state_of shop-web-2)" = draining ] || fail "busy shop-web-2 is $(state_of shop-web-2), not draining"
sc status shop > "$T/status.txt"
grep -E "^  shop-web-2 .* draining .* [1-9][0-9]* in flight" "$T/status.txt" > /dev/null ||
  fail "status does not show shop-web-2's requests in flight: $(cat "$T/status.txt")"
[ "$(status_q '.[0].instances[] | select(.name == "shop-web-2") | .connections')" -ge 1 ] ||
  fail "status --json: $(sc status --json)"
pass "shop-web-2 drains while its long requests run; status shows them in flight"

# A run while they still run leaves it draining; the first run after they end deletes it.
sc scale-in --cluster shop > /dev/null 2>&1 || fail "scale-in while the requests run"
[ "$(state_of shop-web-2)" = draining ] || fail "shop-web-2 is $(state_of shop-web-2) with requests in flight"
wait
from_web2=0
for n in 1 2 3 4; do
  [ "$(cat "$T/slow.$n.rc")" = 0 ] || fail "long request $n failed: $(cat "$T/slow.$n.err")"
  if cmp -s "$T/slow.$n" "$SLOW_DIR/shop-web-2.bin"; then
    from_web2=$((from_web2 + 1))
  else
    cmp -s "$T/slow.$n" "$SLOW_DIR/shop-web-1.bin" || fail "long request $n came back cut short ($(stat -c %s "$T/slow.$n") bytes)"
  fi
done
[ "$from_web2" -ge 1 ] || fail "no long request came whole from the drained shop-web-2"
sc scale-in --cluster shop > /dev/null 2> "$T/in3.err" || fail "scale-in after the requests"
[ "$(state_of shop-web-2)" = gone ] || fail "idle shop-web-2 is $(state_of shop-web-2)"
grep -q "instance.drained cluster=shop instance=shop-web-2 .*idle" "$T/in3.err" ||
  fail "shop-web-2 was not deleted as idle: $(cat "$T/in3.err")"
pass "all 4 long requests completed whole (16 KiB each, $from_web2 from the drained shop-web-2); shop-web-2 deleted once idle, before the deadline"

# --victim oldest: of shop-web-1 (oldest), 4 and 5, scale-in --to 2 drains shop-web-1.
sc scale-out --cluster shop --to 3 > /dev/null 2>&1 || fail "scale-out --to 3"
[ "$(live)" = "shop-web-1 shop-web-4 shop-web-5 " ] || fail "after scale-out: $(live)"
sc set-policy shop --victim oldest > /dev/null || fail "set-policy --victim oldest"
sc scale-in --cluster shop --to 2 --wait > /dev/null 2>&1 || fail "scale-in --to 2 (oldest)"
[ "$(live)" = "shop-web-4 shop-web-5 " ] || fail "victim oldest left $(live)"
sc why shop > "$T/why.txt"
grep -q "scale-in victim at .*: shop-web-1 (victim oldest): the oldest in service (since " "$T/why.txt" ||
  fail "why does not name shop-web-1: $(cat "$T/why.txt")"
pass "victim oldest: shop-web-1 drained; why names it and why"

# least-busy: a long request held on the newest (shop-web-5) directly; shop-web-4 is idle.
serve_slow shop-web-5 16
hold_request shop-web-5
sc set-policy shop --victim least-busy > /dev/null || fail "set-policy --victim least-busy"
sc scale-in --cluster shop --to 1 > /dev/null 2>&1 || fail "scale-in --to 1 (least-busy)"
[ "$(live)" = "shop-web-5 " ] || fail "victim least-busy left $(live)"
sc why shop > "$T/why.txt"
grep -q "shop-web-4 (victim least-busy): the least busy: 0 open connections, the next (shop-web-5) has 1" "$T/why.txt" ||
  fail "why does not explain least-busy: $(cat "$T/why.txt")"
# why --json: each decision carries the victims its scale-in chose (the manual --to 1 the newest).
sc why shop --json > "$T/why.json"
[ "$(jq -r '.[0].victims | map("\(.instance) \(.victim_policy)") | join(",")' "$T/why.json")" = "shop-web-4 least-busy" ] ||
  fail "why --json: the newest decision's victims: $(jq -c '.[0].victims' "$T/why.json")"
[ "$(jq -r '.[1].victims | map(.instance) | join(",")' "$T/why.json")" = "shop-web-1" ] ||
  fail "why --json: the decision before: $(jq -c '.[1].victims' "$T/why.json")"
jq -e '.[0].victims[0].reason | startswith("the least busy: 0 open connections")' "$T/why.json" > /dev/null ||
  fail "why --json gives no reason: $(jq -c '.[0].victims' "$T/why.json")"
pass "victim least-busy: the idle shop-web-4 drained, not the newest shop-web-5 with a request; why --json gives each decision its victims"

before=$(state_dump)
for v in random Newest "oldest;rm" ""; do
  expect_exit 64 set-policy shop --victim "$v" --state "$DB"
done
[ "$(state_dump)" = "$before" ] || fail "a refused --victim changed the state"
pass "set-policy --victim random, Newest, 'oldest;rm' and '': exit 64, state unchanged"
kill "$HELD" 2> /dev/null || true
