#!/usr/bin/env bash
# A scale-out while a web instance drains takes that instance back into service (booted and
# healthy, it costs nothing) instead of booting a new one: no new instance row, no new nginx,
# the LB forwards to it again and it answers through the LB. A draining instance whose service
# died is not taken back: a new one boots. A long request held on shop-web-2 keeps it draining
# (idle, its drain would end in the scale-in's own run).
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 120"

sc create-cluster shop --web 2 --min 1 --max 4 > /dev/null
LB=$(lb_address shop)
rows() { sqlite3 "$DB" "SELECT count(*) FROM instances WHERE role = 'web'"; }
state_of() { sqlite3 "$DB" "SELECT state FROM instances WHERE name = '$1'"; }
upstreams() { grep -c "server " "$T/instances/shop-lb-1/conf/upstream.conf" || true; }

serve_slow shop-web-2 120
hold_request shop-web-2
sc scale-in --cluster shop --to 1 > /dev/null 2>&1 || fail "scale-in --to 1"
[ "$(state_of shop-web-2)" = draining ] || fail "shop-web-2 is $(state_of shop-web-2), not draining"
[ "$(upstreams)" = 1 ] || fail "the LB forwards to $(upstreams) web instances while shop-web-2 drains"
sc scale-out --cluster shop --to 2 2> "$T/out.err" > /dev/null || { cat "$T/out.err" >&2; fail "scale-out --to 2"; }
grep -q "instance.reclaimed cluster=shop instance=shop-web-2" "$T/out.err" || fail "no reclaim logged: $(cat "$T/out.err")"
[ "$(state_of shop-web-2)" = in_service ] || fail "shop-web-2 is $(state_of shop-web-2) after the scale-out"
[ "$(rows)" = 2 ] || fail "the scale-out added a row: $(rows) web rows"
[ "$(upstreams)" = 2 ] || fail "the LB forwards to $(upstreams) web instances, not 2"
seen=""
for _ in $(seq 1 8); do seen+=$(curl -fsS "http://$LB/"); done
echo "$seen" | grep -q "sclman web instance shop-web-2" || fail "shop-web-2 does not answer through the LB"
pass "scale-out --to 2 while shop-web-2 drained took it back: no new instance, the LB serves it"

# Its service dead while it drains: not taken back, a new instance boots.
[ "$(in_flight shop-web-2)" -ge 1 ] || fail "the held request on shop-web-2 ended"
sc scale-in --cluster shop --to 1 > /dev/null 2>&1 || fail "scale-in --to 1 (again)"
[ "$(state_of shop-web-2)" = draining ] || fail "shop-web-2 is $(state_of shop-web-2), not draining"
kill "$(cat "$T/instances/shop-web-2/logs/nginx.pid")"
for _ in $(seq 1 50); do kill -0 "$(cat "$T/instances/shop-web-2/logs/nginx.pid" 2>/dev/null)" 2>/dev/null || break; sleep 0.1; done
sc scale-out --cluster shop --to 2 2> "$T/out2.err" > /dev/null || { cat "$T/out2.err" >&2; fail "scale-out --to 2 (dead)"; }
grep -q "instance.not_reclaimed cluster=shop instance=shop-web-2" "$T/out2.err" || fail "no refusal logged: $(cat "$T/out2.err")"
[ "$(state_of shop-web-3)" = in_service ] || fail "shop-web-3 is '$(state_of shop-web-3)', not in service"
[ "$(state_of shop-web-2)" = draining ] || fail "the dead shop-web-2 is $(state_of shop-web-2)"
pass "a draining instance whose nginx died is not taken back: shop-web-3 booted instead"
kill "$HELD" 2> /dev/null || true
