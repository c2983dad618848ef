#!/usr/bin/env bash
# sclman on real OpenStack services (Zed from Debian 12, on 127.0.0.1, SQLite, Nova's fake virt
# driver): one bring-up, then every OpenStack scenario in sequence, asserting what Nova holds
# at each step:
#   1. create-cluster: LB on this host, 2 web servers on Nova, ACTIVE with fixed addresses;
#   2. grow to 3 and shrink back to 2 through the cron chain (poll-load, decide, scale-out,
#      scale-in), driven by load that the test writes into the Sensu Core fake;
#   3. a server deleted through the API behind sclman's back is noticed and replaced;
#   4. gc deletes a server tagged for the cluster that the state does not know, after the
#      grace period, and never an untagged one;
#   5. over quota: a scale-out that can only partly succeed records exactly what exists, names
#      the quota, and does not retry beyond the failure budget;
#   6. delete-cluster: Nova holds none of the cluster's servers.
# The fake driver's servers run nothing, so [OPENSTACK] stand_in = yes: a local nginx stands in
# for each ACTIVE web server (the LB and health checks reach it); Nova's state decides the rest.
#
# Skips (exit 77, loudly) only when the OpenStack packages cannot be installed; with CI=true
# that is a failure instead. SCLMAN_OS_REUSE=FILE (development only) reuses services started
# by hand: FILE holds OS_KEYSTONE_URL=, OS_DEMO_PROJECT= and OS_NOVA_API_LOG= lines.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/openstack.sh"

FAKE_PIDS=()
stop_all() {
  local pid
  for pid in "${FAKE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  openstack_stop
}
# 77 means skipped to ctest: any other way of ending with 77 (a command of sclman exiting 77
# under set -e) is a failure.
SKIPPING=no
trap 'rc=$?; set +e; stop_all; [ $rc != 77 ] || [ $SKIPPING = yes ] || rc=1; (exit $rc); cleanup' EXIT

if [ -n "${SCLMAN_OS_REUSE:-}" ]; then
  # shellcheck disable=SC1090
  . "$SCLMAN_OS_REUSE"
  OS_BRINGUP_SECONDS=reused
else
  t_install=$SECONDS
  if ! bash "$SCLMAN_SOURCE_DIR/tests/support/openstack_install.sh" > "$T/install.log" 2>&1; then
    tail -n 20 "$T/install.log" >&2
    if [ "${CI:-}" = true ]; then
      fail "cannot install the OpenStack packages (CI=true: no skipping)"
    fi
    echo "SKIPPED LOUDLY: the OpenStack packages cannot be installed here (root and apt needed);" \
      "the OpenStack tests did not run" >&2
    SKIPPING=yes
    exit 77
  fi
  echo "openstack: install check took $((SECONDS - t_install)) s"
  openstack_start "$T/os" || fail "the OpenStack services did not come up"
  OS_NOVA_API_LOG=$T/os/log/nova-api.log
fi
echo "openstack: bring-up took ${OS_BRINGUP_SECONDS} s"
ARTIFACTS=${SCLMAN_ARTIFACTS:-$SCLMAN_SOURCE_DIR/build/test-artifacts}
mkdir -p "$ARTIFACTS"
echo "openstack: services brought up in ${OS_BRINGUP_SECONDS} s ($(date -u +%FT%TZ), $(nproc) cores)" \
  > "$ARTIFACTS/openstack-bringup.txt"
API="/usr/bin/python3 $SCLMAN_SOURCE_DIR/tests/support/openstack_api.py $OS_KEYSTONE_URL"

# The load source: the Sensu Core fake, whose results this test writes.
python3 "$SCLMAN_SOURCE_DIR/tests/fakes/sensu_core.py" --port-file "$T/sensu.port" \
  --data "$T/sensu.json" --log "$T/sensu.log" &
FAKE_PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/sensu.port" ] && break; sleep 0.05; done
[ -s "$T/sensu.port" ] || fail "the Sensu fake did not start"

mkdir -p "$T/osconf"
cat > "$T/osconf/clouds.yaml" <<EOT
clouds:
  lab:
    auth:
      auth_url: $OS_KEYSTONE_URL
      username: demo
      password: demo-secret
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
EOT
export OS_CLIENT_CONFIG_FILE=$T/osconf/clouds.yaml
unset OS_CLOUD OS_AUTH_URL
# A server normally goes BUILD -> ACTIVE in seconds here; with SQLite behind Nova the conductor
# sometimes fails a build ("database is locked") and leaves it in BUILD for good: sclman's boot
# timeout marks it error and replaces it (so the names below are compared with the state, not
# written out).
write_config "man_boot_timeout = 45
man_failure_budget = 3
man_run_deadline = 120"
cat >> "$SCLMAN_CONFIG" <<EOT
[METRICS]
max_age = 600
[SENSU]
url = http://127.0.0.1:$(cat "$T/sensu.port")
check = load
metric = load1
[OPENSTACK]
network = sclnet
stand_in = yes
orphan_grace = 15
request_timeout_ms = 60000
EOT

# Names of the servers Nova holds for cluster $1 with status $2 (any status when empty).
nova_names() {
  $API servers | jq -r --arg c "sclman:cluster=$1" --arg s "${2:-}" \
    '[.[] | select(.tags | index($c)) | select($s == "" or .status == $s) | .name] | sort | join(" ")'
}
# Names of the web instances of cluster $1 that the state holds as existing (not gone/error).
state_names() {
  status_q "[.[] | select(.name==\"$1\") | .instances[] | select(.role==\"web\" and .state!=\"gone\" and .state!=\"error\") | .name] | sort | join(\" \")"
}
# Wait (at most $2 tries, 2 s apart) until the ACTIVE servers Nova holds for cluster $1 are the
# state's existing web instances.
nova_matches_state() {
  local k
  for k in $(seq 1 "$2"); do
    [ "$(nova_names "$1" ACTIVE)" = "$(state_names "$1")" ] && return 0
    sleep 2
  done
  echo "nova: $(nova_names "$1") / state: $(state_names "$1")" >&2
  return 1
}
# Write one Sensu result per web instance of cluster $1 with load $2.
set_load() {
  local now names
  now=$(date +%s)
  names=$(status_q "[.[] | select(.name==\"$1\") | .instances[] | select(.role==\"web\") | .name] | join(\" \")")
  jq -n --arg names "$names" --argjson load "$2" --argjson t "$now" \
    '[$names | split(" ")[] | select(. != "") | {client: ., check: {name: "load",
      command: "check-load", status: 0, output: "LOAD OK | load1=\($load)", issued: $t,
      executed: $t, interval: 60, duration: 0.01}}]' > "$T/sensu.json.tmp"
  mv "$T/sensu.json.tmp" "$T/sensu.json"
}
# Run the cron chain (with load $3 for cluster $1) until it has $2 web instances in service
# and no instance booting or draining (at most $4 runs).
chain_until() {
  local k
  for k in $(seq 1 "$4"); do
    set_load "$1" "$3"
    sc poll-load --cron >> "$T/chain.log" 2>&1 || true
    sc decide --cron >> "$T/chain.log" 2>&1 || true
    sc scale-out --cron >> "$T/chain.log" 2>&1 || true
    sc scale-in --cron >> "$T/chain.log" 2>&1 || true
    if [ "$(web_in_service "$1")" = "$2" ] && [ "$(state_names "$1" | wc -w)" = "$2" ]; then
      return 0
    fi
    sleep 2
  done
  tail -n 40 "$T/chain.log" >&2
  return 1
}
# Run scale-out until cluster $1 has $2 web instances in service (at most $3 runs).
grow_until() {
  local k
  for k in $(seq 1 "$3"); do
    sc scale-out --cluster "$1" --cron >> "$T/grow.log" 2>&1 || true
    [ "$(web_in_service "$1")" = "$2" ] && return 0
    sleep 2
  done
  tail -n 40 "$T/grow.log" >&2
  return 1
}
posts() { grep -c '"POST /v2.1/servers HTTP' "$OS_NOVA_API_LOG" || true; }

# 1. Create: LB on this host, 2 web servers on Nova (create-cluster finishes in later runs).
sc create-cluster shop --provider openstack --os-cloud lab --flavor m1.tiny --image tiny \
  --network sclnet --web 2 --min 2 --max 4 --metrics sensu --sensitivity 2 --cooldown 1 \
  > "$T/create.out" 2> "$T/create.err" || true
grow_until shop 2 60 || { cat "$T/create.err" >&2; fail "shop did not reach 2 web instances"; }
nova_matches_state shop 10 || fail "nova holds $(nova_names shop)"
[ "$(state_names shop | wc -w)" = 2 ] || fail "the state holds $(state_names shop)"
W1=$(state_names shop | cut -d' ' -f1)
$API servers | jq -e --arg n "$W1" '[.[] | select(.name==$n) | .addresses[] | startswith("10.20.0.")] | any' > /dev/null \
  || fail "$W1 has no fixed address on sclnet"
$API servers | jq -e --arg n "$W1" '.[] | select(.name==$n) | .metadata["sclman:role"] == "web"
                      and (.tags | index("sclman:cluster=shop"))' > /dev/null \
  || fail "$W1 lacks its tags or metadata"
[ "$(sqlite3 "$DB" "SELECT provider FROM clusters WHERE name='shop'")" = "openstack:lab" ] \
  || fail "the cluster does not record its cloud"
LB=$(lb_address shop)
curl -fsS "http://$LB/" > /dev/null || fail "the LB does not serve"
[ -s "$T/openstack-token.json" ] && [ "$(stat -c %a "$T/openstack-token.json")" = 600 ] \
  || fail "no 0600 token cache"
grep -q "gAAAA" "$T/create.err" "$T/grow.log" && fail "a token appears in the logs"
auths=$(grep -c "openstack.authenticated" "$T/create.err" "$T/grow.log" | awk -F: '{s += $2} END {print s}')
[ "$auths" = 1 ] || fail "authenticated $auths times: the token cache is not reused across runs"
pass "created shop: nova holds $(nova_names shop ACTIVE), LB $LB serves, one token for all runs"

# 2. Grow to 3 on high load and shrink back to 2 on low load, through the cron chain.
chain_until shop 3 500 40 || fail "shop did not grow to 3 on high load"
nova_matches_state shop 10 || fail "after growing nova holds $(nova_names shop)"
[ "$(nova_names shop ACTIVE | wc -w)" = 3 ] || fail "nova holds $(nova_names shop)"
pass "grew to 3 on load: nova holds $(nova_names shop ACTIVE)"
chain_until shop 2 1 40 || fail "shop did not shrink to 2 on low load"
sc gc --cluster shop > /dev/null 2>&1 || true
nova_matches_state shop 30 || fail "after shrinking nova holds $(nova_names shop)"
[ "$(nova_names shop)" = "$(state_names shop)" ] || fail "after scale-in nova holds $(nova_names shop)"
[ "$(nova_names shop | wc -w)" = 2 ] || fail "after scale-in nova holds $(nova_names shop)"
curl -fsS "http://$LB/" > /dev/null || fail "the LB does not serve after scale-in"
pass "shrank to 2 on load: nova holds $(nova_names shop)"

# 3. A server deleted behind sclman's back is noticed and replaced.
VICTIM=$(state_names shop | cut -d' ' -f1)
$API delete "$VICTIM"
grow_until shop 2 60 || fail "the deleted server was not replaced"
grep -q "openstack.server_lost instance=$VICTIM" "$T/grow.log" || fail "the loss was not logged"
[ "$(status_q ".[] | select(.name==\"shop\") | .instances[] | select(.name==\"$VICTIM\") | .state")" = error ] \
  || fail "$VICTIM is not marked error"
sc gc --cluster shop > /dev/null 2>&1 || true
nova_matches_state shop 10 || fail "after replacement nova holds $(nova_names shop)"
[ "$(nova_names shop)" = "$(state_names shop)" ] || fail "after replacement nova holds $(nova_names shop)"
case " $(nova_names shop) " in *" $VICTIM "*) fail "nova still holds $VICTIM";; esac
curl -fsS "http://$LB/" > /dev/null || fail "the LB does not serve after the replacement"
pass "deleted $VICTIM behind sclman's back: noticed, replaced; nova holds $(nova_names shop)"

# 4. gc deletes an orphan with sclman's tags after the grace period, never an untagged server.
$API create shop-web-99 sclman sclman:cluster=shop sclman:role=web > /dev/null
$API create bystander > /dev/null
born=$SECONDS
sc gc > "$T/gc1.out" 2> "$T/gc1.err" || true
grep -q "gc.orphan_in_grace cluster=shop server=shop-web-99" "$T/gc1.err" \
  || { cat "$T/gc1.err" >&2; fail "gc did not see the orphan in its grace period"; }
case " $(nova_names shop) " in *" shop-web-99 "*) ;; *) fail "gc deleted within the grace period: $(nova_names shop)";; esac
while [ $((SECONDS - born)) -le 16 ]; do sleep 1; done
sc gc > "$T/gc2.out" 2> "$T/gc2.err" || { cat "$T/gc2.err" >&2; fail "gc failed"; }
grep -q "gc.orphan_server cluster=shop server=shop-web-99" "$T/gc2.err" || { cat "$T/gc2.err" >&2; fail "gc did not delete the orphan"; }
for _ in $(seq 1 30); do [ "$(nova_names shop)" = "$(state_names shop)" ] && break; sleep 1; done
[ "$(nova_names shop)" = "$(state_names shop)" ] || fail "gc left the tagged orphan: $(nova_names shop)"
$API servers | jq -e '[.[] | select(.name=="bystander")] | length == 1' > /dev/null || fail "gc touched the untagged server"
pass "gc deleted the tagged orphan after its grace period, left the untagged server alone"

# 5. Quota: 4 instances for the project (bystander + 2 web servers use 3). Scale-out to 4 sends
# two creates: one server is made; the other is refused, either at once (403) or, when both
# POSTs pass the API's count together, by the conductor's quota recheck (the server goes to
# ERROR with the quota in its fault). Either way the instance is recorded as error with the
# quota named, nothing is retried within the run, and later runs send at most one create each
# until the failure budget (3) stops scale-out.
sc gc --clear-failures > /dev/null 2>&1 || true
$API quota "$OS_DEMO_PROJECT" 4
before=$(posts)
sc scale-out --cluster shop --to 4 > "$T/q.out" 2> "$T/q.err" || true
[ $(($(posts) - before)) = 2 ] || { cat "$T/q.err" >&2; fail "scale-out --to 4 sent $(($(posts) - before)) creates, expected 2"; }
stopped=no
for k in $(seq 1 20); do
  b=$(posts)
  sc scale-out --cluster shop --cron > "$T/q.run" 2>&1 || true
  cat "$T/q.run" >> "$T/q.err"
  [ $(($(posts) - b)) -le 1 ] || fail "retry storm: run $k sent $(($(posts) - b)) creates"
  if grep -q "scale_out.stopped cluster=shop" "$T/q.run" && [ "$(posts)" = "$b" ]; then
    stopped=yes
    break
  fi
  sleep 2
done
[ $stopped = yes ] || { tail -n 30 "$T/q.err" >&2; fail "scale-out did not stop at the failure budget"; }
grep -q "openstack.retry" "$T/q.err" && { cat "$T/q.err" >&2; fail "a quota error was retried"; }
grep -q "Quota exceeded for instances" "$T/q.err" || { cat "$T/q.err" >&2; fail "no quota error named"; }
# Runs after the stop send no create; let the one made server finish booting (ACTIVE and in
# service, or error past the boot timeout if the SQLite-backed conductor lost it).
booting='[.[] | select(.name=="shop") | .instances[] | select(.role=="web" and (.state | test("requested|building|active|bootstrapping")))] | length'
b=$(posts)
for _ in $(seq 1 40); do
  sc scale-out --cluster shop --cron >> "$T/q.err" 2>&1 || true
  [ "$(status_q "$booting")" = 0 ] && break
  sleep 2
done
[ "$(posts)" = "$b" ] || fail "scale-out sent a create after stopping"
[ "$(status_q "$booting")" = 0 ] || fail "an instance is still booting"
n_creates=$(($(posts) - before))
errors=$(status_q '[.[] | select(.name=="shop") | .instances[] | select(.state=="error" and (.error | test("Quota exceeded")))] | length')
[ "$errors" = $((n_creates - 1)) ] || fail "$errors instances in error with the quota named, $n_creates creates sent (1 made)"
# Exactly what exists: every server Nova holds for the cluster is an instance of the state
# (ACTIVE ones in service, one refused by the recheck in error), and the reverse.
existing=$(sqlite3 "$DB" "SELECT name FROM instances WHERE role = 'web' AND state != 'gone'
                         AND (state != 'error' OR cloud_id != '') ORDER BY name" | tr '\n' ' ' | sed 's/ $//')
[ "$(nova_names shop)" = "$existing" ] || fail "nova holds '$(nova_names shop)', the state '$existing'"
nova_matches_state shop 5 || fail "nova holds $(nova_names shop ACTIVE) ACTIVE, the state $(state_names shop)"
pass "quota: $n_creates creates, 1 made, $errors refused and recorded with the quota named, stopped at the budget; nova holds $(nova_names shop), the state the same"
sc gc --cluster shop > /dev/null 2>&1 || true
nova_matches_state shop 15 || fail "after gc nova holds $(nova_names shop)"
$API quota "$OS_DEMO_PROJECT" 10
sc gc --clear-failures > /dev/null 2>&1 || true

# 6. Delete the cluster: Nova holds none of its servers afterwards, the bystander stays.
sc delete-cluster shop > "$T/del.out" 2> "$T/del.err" || true
for _ in $(seq 1 20); do
  [ -z "$(nova_names shop)" ] && [ "$(status_q '.[] | select(.name=="shop") | .status')" = deleted ] && break
  sc gc --cron >> "$T/del.err" 2>&1 || true
  sleep 2
done
[ -z "$(nova_names shop)" ] || { cat "$T/del.err" >&2; fail "after delete-cluster nova holds $(nova_names shop)"; }
$API servers | jq -e '[.[] | select(.name=="bystander")] | length == 1' > /dev/null || fail "bystander was deleted"
pass "deleted shop: nova holds none of its servers, the untagged one stays; bring-up took ${OS_BRINGUP_SECONDS} s"
