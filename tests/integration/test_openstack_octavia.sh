#!/usr/bin/env bash
# Octavia smoke test: the real Octavia 11 (Debian 12) that tests/support/octavia.sh starts
# (RabbitMQ and Keystone only from openstack.sh, MariaDB, octavia-api, octavia-worker with the
# amphora provider and noop drivers), driven with curl and jq as the demo user, asserting what
# Octavia answers at each step: a load balancer on a made-up VIP subnet goes ACTIVE; listener
# HTTP:80, pool ROUND_ROBIN, health monitor HTTP GET /healthz 200, two members (127.0.0.1 on
# two ports); a change sent while the LB is PENDING_UPDATE gets 409 "immutable" and succeeds
# after waiting for ACTIVE; a member's weight PUT to 0; the /status tree; ?tags= filtering;
# DELETE ?cascade=true, then 404. The Octavia balancer driver's test will build on this.
#
# Skips (exit 77, loudly) only when the OpenStack packages cannot be installed; with CI=true
# that is a failure instead.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/octavia.sh"

# 77 means skipped to ctest: any other way of ending with 77 is a failure.
SKIPPING=no
trap 'rc=$?; set +e; octavia_stop; [ $rc != 77 ] || [ $SKIPPING = yes ] || rc=1; cleanup $rc' EXIT

t_test=$SECONDS
openstack_install_or_skip "$T/install.log" "the Octavia test"
octavia_start "$T/os" || fail "Octavia did not come up"
echo "octavia: bring-up took ${OCT_BRINGUP_SECONDS} s"

# The demo user's token; Octavia's endpoint from the token's catalog.
curl -sf --max-time 30 -D "$T/auth.h" -o "$T/auth.json" -H 'Content-Type: application/json' \
  -d '{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo",
       "domain": {"id": "default"}, "password": "demo-secret"}}},
       "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}}' \
  "$OS_KEYSTONE_URL/v3/auth/tokens" || fail "no token for demo"
TOKEN=$(awk 'tolower($1) == "x-subject-token:" { print $2 }' "$T/auth.h" | tr -d '\r')
[ -n "$TOKEN" ] || fail "no X-Subject-Token"
LBAAS=$(jq -r '.token.catalog[] | select(.type == "load-balancer") | .endpoints[]
  | select(.interface == "public") | .url' "$T/auth.json")
[ "$LBAAS" = "$OCT_URL" ] || fail "catalog has load-balancer at '$LBAAS', not $OCT_URL"
LBAAS=$LBAAS/v2/lbaas
pass "token for demo; the catalog has load-balancer at $OCT_URL"

# oct METHOD PATH [JSON]: send it as demo; the body goes to $T/body, the status to $T/code.
oct() {
  curl -s --max-time 30 -o "$T/body" -w '%{http_code}' -X "$1" -H "X-Auth-Token: $TOKEN" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$LBAAS$2" > "$T/code" ||
    echo 000 > "$T/code"
}
code() { cat "$T/code"; }
body() { jq -r "$1" "$T/body"; }

# want CODE WHAT: the last answer had status CODE.
want() {
  [ "$(code)" = "$1" ] || fail "$2: HTTP $(code), not $1: $(head -c 400 "$T/body")"
}

# wait_active: until the LB is ACTIVE (at most 60 s); ERROR fails.
wait_active() {
  local _ st
  for _ in $(seq 1 300); do
    oct GET "/loadbalancers/$LB"
    want 200 "GET the load balancer"
    st=$(body .loadbalancer.provisioning_status)
    case $st in
      ACTIVE) return 0 ;;
      ERROR) fail "the load balancer went to ERROR" ;;
    esac
    sleep 0.2
  done
  fail "the load balancer is still $st after 60 s"
}

# change METHOD PATH JSON CODE WHAT: send a change; a 409 because the LB is busy (PENDING_*)
# waits for ACTIVE and sends it again (counted in CONFLICTS), at most 5 times.
CONFLICTS=0
change() {
  local _
  for _ in 1 2 3 4 5; do
    oct "$1" "$2" "$3"
    if [ "$(code)" = 409 ]; then
      body .faultstring | grep -qE 'is immutable and cannot be updated|^Invalid state PENDING_' ||
        fail "$5: 409 but not the immutable LB: $(cat "$T/body")"
      CONFLICTS=$((CONFLICTS + 1))
      wait_active
      continue
    fi
    want "$4" "$5"
    return 0
  done
  fail "$5: still 409 after 5 tries"
}

VIP_SUBNET=$(cat /proc/sys/kernel/random/uuid)  # noop network driver: any UUID will do
t0=$SECONDS
oct POST /loadbalancers "{\"loadbalancer\": {\"name\": \"smoke-lb\",
  \"vip_subnet_id\": \"$VIP_SUBNET\", \"tags\": [\"sclman\", \"sclman:cluster=smoke\"]}}"
want 201 "create the load balancer"
LB=$(body .loadbalancer.id)
[ "$(body .loadbalancer.provisioning_status)" = PENDING_CREATE ] ||
  fail "a new LB is $(body .loadbalancer.provisioning_status), not PENDING_CREATE"
wait_active
oct GET "/loadbalancers/$LB"
VIP=$(body .loadbalancer.vip_address)
if [ -z "$VIP" ] || [ "$VIP" = null ]; then
  fail "the active LB has no VIP address"
fi
pass "load balancer $LB ACTIVE in $((SECONDS - t0)) s, VIP $VIP on subnet $VIP_SUBNET"

change POST /listeners "{\"listener\": {\"name\": \"smoke-http\", \"protocol\": \"HTTP\",
  \"protocol_port\": 80, \"loadbalancer_id\": \"$LB\"}}" 201 "create the listener"
LISTENER=$(body .listener.id)
change POST /pools "{\"pool\": {\"name\": \"smoke-pool\", \"protocol\": \"HTTP\",
  \"lb_algorithm\": \"ROUND_ROBIN\", \"listener_id\": \"$LISTENER\"}}" 201 "create the pool"
POOL=$(body .pool.id)
change POST /healthmonitors "{\"healthmonitor\": {\"pool_id\": \"$POOL\", \"type\": \"HTTP\",
  \"delay\": 5, \"timeout\": 3, \"max_retries\": 2, \"max_retries_down\": 2,
  \"http_method\": \"GET\", \"url_path\": \"/healthz\", \"expected_codes\": \"200\"}}" \
  201 "create the health monitor"
HM=$(body .healthmonitor.id)
# The two members right after each other: the second finds the LB PENDING_UPDATE (409) unless
# the worker was quicker than curl, and is sent again once the LB is ACTIVE.
change POST "/pools/$POOL/members" '{"member": {"name": "smoke-web-1",
  "address": "127.0.0.1", "protocol_port": 18081}}' 201 "add member 1"
M1=$(body .member.id)
change POST "/pools/$POOL/members" '{"member": {"name": "smoke-web-2",
  "address": "127.0.0.1", "protocol_port": 18082}}' 201 "add member 2"
M2=$(body .member.id)
change PUT "/pools/$POOL/members/$M2" '{"member": {"weight": 0}}' 200 "member 2's weight to 0"
wait_active
[ "$CONFLICTS" -ge 1 ] || fail "no change met a busy LB (409): the wait-and-retry path was not exercised"
pass "listener, pool, health monitor, 2 members, weight 0: $CONFLICTS 409s on a busy LB waited out"

# What Octavia holds.
oct GET "/pools/$POOL/members"
want 200 "list the members"
[ "$(body '[.members[] | "\(.name) \(.address):\(.protocol_port) w\(.weight) \(.provisioning_status)"] | sort | join(", ")')" \
  = "smoke-web-1 127.0.0.1:18081 w1 ACTIVE, smoke-web-2 127.0.0.1:18082 w0 ACTIVE" ] ||
  fail "members: $(cat "$T/body")"
oct GET "/healthmonitors/$HM"
want 200 "GET the health monitor"
[ "$(body '.healthmonitor | "\(.type) \(.http_method) \(.url_path) \(.expected_codes) \(.pools[0].id)"')" \
  = "HTTP GET /healthz 200 $POOL" ] || fail "health monitor: $(cat "$T/body")"
oct GET "/pools/$POOL"
[ "$(body '.pool | "\(.protocol) \(.lb_algorithm) \(.healthmonitor_id) \(.listeners[0].id)"')" \
  = "HTTP ROUND_ROBIN $HM $LISTENER" ] || fail "pool: $(cat "$T/body")"
pass "members, weights, health monitor and pool as sent"

# The status tree: every object ACTIVE (operating_status never becomes ONLINE without amphora
# heartbeats: not asserted).
oct GET "/loadbalancers/$LB/status"
want 200 "GET the status tree"
tree=$(body '.statuses.loadbalancer | "\(.id) \(.provisioning_status) | "
  + ([.listeners[] | "\(.id) \(.provisioning_status) | "
  + ([.pools[] | "\(.id) \(.provisioning_status) hm \(.health_monitor.id) \(.health_monitor.provisioning_status) | "
  + ([.members[] | "\(.id) \(.provisioning_status)"] | sort | join(" "))] | join(""))] | join(""))')
[ "$tree" = "$LB ACTIVE | $LISTENER ACTIVE | $POOL ACTIVE hm $HM ACTIVE | $(printf '%s ACTIVE\n' "$M1" "$M2" | sort | paste -sd' ')" ] ||
  fail "status tree: $(cat "$T/body")"
pass "status tree: LB, listener, pool, health monitor, both members ACTIVE"

# ?tags= finds the LB by its cluster tag, and nothing for another cluster's.
oct GET "/loadbalancers?tags=sclman%3Acluster%3Dsmoke"
want 200 "list by tag"
[ "$(body '[.loadbalancers[].id] | join(" ")')" = "$LB" ] || fail "?tags= smoke: $(cat "$T/body")"
oct GET "/loadbalancers?tags=sclman%3Acluster%3Dother"
[ "$(body '.loadbalancers | length')" = 0 ] || fail "?tags= other: $(cat "$T/body")"
pass "?tags=sclman:cluster=smoke finds exactly the LB, another cluster's tag nothing"

# Delete with everything in it, then 404.
change DELETE "/loadbalancers/$LB?cascade=true" "" 204 "delete the LB (cascade)"
t0=$SECONDS
for _ in $(seq 1 150); do
  oct GET "/loadbalancers/$LB"
  [ "$(code)" = 404 ] && break
  [ "$(code)" = 200 ] || fail "GET during the delete: HTTP $(code)"
  sleep 0.2
done
[ "$(code)" = 404 ] || fail "the LB is still there 30 s after DELETE: $(cat "$T/body")"
oct GET "/pools/$POOL"
want 404 "the pool after the cascade"
pass "DELETE ?cascade=true: the LB is 404 after $((SECONDS - t0)) s, its pool too"

ARTIFACTS=${SCLMAN_ARTIFACTS:-$SCLMAN_SOURCE_DIR/build/test-artifacts}
mkdir -p "$ARTIFACTS"
echo "openstack: Octavia (with RabbitMQ and Keystone) brought up in ${OCT_BRINGUP_SECONDS} s, smoke test $((SECONDS - t_test)) s in all ($(date -u +%FT%TZ), $(nproc) cores)" \
  > "$ARTIFACTS/openstack-octavia-bringup.txt"
pass "Octavia smoke test: $((SECONDS - t_test)) s with the bring-up of ${OCT_BRINGUP_SECONDS} s"
