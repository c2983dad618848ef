#!/usr/bin/env bash
# sclman on real OpenStack services (Zed from Debian 12, on 127.0.0.1, SQLite, Nova's fake virt
# driver): one bring-up, then every OpenStack scenario in sequence, asserting what Nova holds
# at each step:
#   1. create-cluster: LB on this host, 2 web servers on Nova, ACTIVE with fixed addresses;
#   2. grow to 3 and shrink back to 2 through the cron chain (poll-load, decide, scale-out,
#      scale-in), driven by load that the test writes into the Sensu Core fake;
#   3. a server deleted through the API behind sclman's back is noticed and replaced;
#   4. gc deletes a server tagged for the cluster that the state does not know, and a second
#      server with a live instance's name, after the grace period, and never an untagged one;
#   5. over quota: a scale-out that can only partly succeed records exactly what exists, names
#      the quota, and does not retry beyond the failure budget;
#   6. delete-cluster: Nova holds none of the cluster's servers;
#   6c. availability zones: a cluster spread over three zones stays balanced through a grow
#      and a shrink, as Nova places its servers;
#   6d. the server balancer without Chef: the LB is a Nova server that sclman configures over
#      SSH (a real sshd plays its cloud-init from the user data); traffic, 0 failed requests
#      through a scale-out and a drain, a server with another host key gets nothing, delete;
#   7. a second cluster with the chef bootstrapper and the chef-search balancer against a real
#      goiardi: create, scale out, scale in, a server lost and replaced, gc, delete, asserting
#      what Nova holds (servers, the Chef bootstrap in their user data) and what goiardi holds
#      (environment, nodes, clients, attributes, search) and what the LB forwards to;
#   7b. the server balancer: the LB is a Nova server of role lb (Chef), traffic through it, 0
#      failed requests through a scale-out and a drain, a stopped web nginx out and replaced;
#      protect, reclaim, and sclman replace (a failed rollout, then 4 servers to a new image
#      under load, 0 failed requests);
#   8. faults: tests/support/fault_proxy.py between sclman and Keystone and Nova, injecting
#      429 and 413 with Retry-After, 503/500 bursts, and resets, timeouts and late forwards after
#      or around a create Nova accepts; no duplicate server, Retry-After honoured (from the
#      logs), state and Nova agree, nothing left after gc and delete-cluster.
# The fake driver's servers run nothing, so [OPENSTACK] stand_in = yes: a local nginx stands in
# for each ACTIVE web server (the LB and health checks reach it); Nova's state decides the rest.
#
# Skips (exit 77, loudly) only when the OpenStack packages cannot be installed; with CI=true
# that is a failure instead. SCLMAN_OS_REUSE=FILE (development only) reuses services started
# by hand: FILE holds OS_KEYSTONE_URL=, OS_DEMO_PROJECT= and OS_NOVA_API_LOG= lines.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/openstack.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/goiardi.sh"

stop_all() {
  goiardi_stop
  openstack_stop
}
# 77 means skipped to ctest: any other way of ending with 77 (a command of sclman exiting 77
# under set -e) is a failure.
SKIPPING=no
trap 'rc=$?; set +e; stop_all; [ $rc != 77 ] || [ $SKIPPING = yes ] || rc=1; cleanup $rc' EXIT

if [ -n "${SCLMAN_OS_REUSE:-}" ]; then
  # shellcheck disable=SC1090
  . "$SCLMAN_OS_REUSE"
  OS_BRINGUP_SECONDS=reused
else
  openstack_install_or_skip "$T/install.log" "the OpenStack tests"
  # The services are Debian's, not what this test judges: a bring-up that fails (once seen here
  # with four tests sharing two cores: no probe server reached ACTIVE in 180 s) is stopped and
  # tried once more from scratch, saying so.
  # Three availability zones, a fake compute host in each (scenario 6c).
  export OS_ZONES="sclaz-a sclaz-b sclaz-c"
  if ! openstack_start "$T/os"; then
    echo "openstack: the services did not come up; stopping them and starting once more" >&2
    openstack_stop
    OS_PIDS=()
    mv "$T/os" "$T/os.failed"
    openstack_start "$T/os" || fail "the OpenStack services did not come up, twice"
  fi
  OS_NOVA_API_LOG=$T/os/log/nova-api.log
fi
echo "openstack: bring-up took ${OS_BRINGUP_SECONDS} s"
ARTIFACTS=${SCLMAN_ARTIFACTS:-$SCLMAN_SOURCE_DIR/build/test-artifacts}
mkdir -p "$ARTIFACTS"
echo "openstack: services brought up in ${OS_BRINGUP_SECONDS} s ($(date -u +%FT%TZ), $(nproc) cores)" \
  > "$ARTIFACTS/openstack-bringup.txt"
API="/usr/bin/python3 $SCLMAN_SOURCE_DIR/tests/support/openstack_api.py $OS_KEYSTONE_URL"

# The load source: the Sensu Core fake, whose results this test writes.
start_fake core

mkdir -p "$T/osconf"
{ echo "clouds:"; cloud_entry lab "$OS_KEYSTONE_URL"; } > "$T/osconf/clouds.yaml"
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
url = http://127.0.0.1:$(cat "$T/core.port")
check = load
metric = load1
[OPENSTACK]
network = sclnet
stand_in = yes
orphan_grace = 30
request_timeout_ms = 60000
EOT

# Names of the servers Nova holds for cluster $1 with status $2 (any status when empty).
# A server whose status is DELETED is gone for every user of Nova (sclman's delete ends there
# too, like at a 404): with SQLite behind Nova, a loaded machine once left such a record in the
# list after its delete had been confirmed, so it is not counted as held.
nova_names() {
  $API servers | jq -r --arg c "sclman:cluster=$1" --arg s "${2:-}" \
    '[.[] | select(.tags | index($c)) | select(.status != "DELETED" and .status != "SOFT_DELETED")
      | select($s == "" or .status == $s) | .name] | sort | join(" ")'
}
# Print what Nova holds of cluster $1, with status and id (for a failure's message).
nova_detail() {
  $API servers | jq -c --arg c "sclman:cluster=$1" '.[] | select(.tags | index($c)) | {name, id, status}' >&2
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
      executed: $t, interval: 60, duration: 0.01}}]' > "$T/core.json.tmp"
  mv "$T/core.json.tmp" "$T/core.json"
}
# Run the cron chain (with load $3 for cluster $1) until it has $2 web instances in service
# and no instance booting or draining (at most $4 runs).
chain_until() {
  local k
  for k in $(seq 1 "$4"); do
    # Once the cluster has its $2 web instances (booting or draining ones counted), the load
    # goes in band (30: between the policy's low 10 and high 50), so that the policy holds
    # while the last one boots, however long Nova takes, instead of going on to the next size
    # (a CI run grew to 4 when web-3 booted slower than two polls).
    if [ "$(state_names "$1" | wc -w)" = "$2" ]; then
      set_load "$1" 30
    else
      set_load "$1" "$3"
    fi
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
# The status of cluster $1 in the state file (status --json leaves deleted clusters out).
cluster_status() { sqlite3 "$DB" "SELECT status FROM clusters WHERE name = '$1'"; }
# Delete cluster $1 (logging to $2), with gc runs until Nova holds none of its servers and
# the state has it deleted (at most 20 tries); fail otherwise.
delete_and_wait() {
  sc delete-cluster "$1" > /dev/null 2> "$2" || true
  for _ in $(seq 1 20); do
    [ -z "$(nova_names "$1")" ] && [ "$(cluster_status "$1")" = deleted ] && break
    sc gc --cron >> "$2" 2>&1 || true
    sleep 2
  done
  [ -z "$(nova_names "$1")" ] || { cat "$2" >&2; nova_detail "$1"; fail "after delete-cluster nova holds $(nova_names "$1")"; }
  [ "$(cluster_status "$1")" = deleted ] || fail "$1 is $(cluster_status "$1"), not deleted"
}

# grow_and_drain_under_load CLUSTER LB APPLIED SERVING: a client load through LB while CLUSTER
# grows to 3 and drains back to 2 (scale-in --wait); APPLIED and SERVING name functions that
# print what the LB forwards to and the state's in-service addresses, equal after each step.
# Fails on any failed request; the load's report is $T/CLUSTER-load.json.
grow_and_drain_under_load() {
  local c=$1 lb=$2 applied=$3 serving=$4
  "$SCLMAN_LOADGEN" --url "http://$lb/" --concurrency 2 --rate 200 --duration 900 > "$T/$c-load.json" &
  LOADGEN_PIDS+=($!)
  sc scale-out --cluster "$c" --to 3 > /dev/null 2>> "$T/$c.err" || true
  grow_until "$c" 3 60 || fail "$c did not grow to 3"
  [ "$($applied)" = "$($serving)" ] || fail "after the scale-out $c's LB forwards to '$($applied)', in service '$($serving)'"
  sc scale-in --cluster "$c" --to 2 --wait > /dev/null 2>> "$T/$c.err" || { tail -n 20 "$T/$c.err" >&2; fail "scale-in --wait on $c"; }
  [ "$(state_names "$c" | wc -w)" = 2 ] || fail "$c did not shrink to 2: $(state_names "$c")"
  sleep 1
  kill -INT "${LOADGEN_PIDS[-1]}"; wait "${LOADGEN_PIDS[-1]}" || true
  unset 'LOADGEN_PIDS[-1]'
  [ "$(jq .errors "$T/$c-load.json")" = 0 ] && [ "$(jq .non_200 "$T/$c-load.json")" = 0 ] \
    || fail "failed requests through $c's LB server during scale-out and drain: $(cat "$T/$c-load.json")"
  [ "$(jq '.by_instance | length' "$T/$c-load.json")" -ge 3 ] || fail "the load did not reach 3 web servers: $(cat "$T/$c-load.json")"
  [ "$($applied)" = "$($serving)" ] || fail "after the scale-in $c's LB forwards to '$($applied)', in service '$($serving)'"
}

# stop_one_web_until_replaced CLUSTER APPLIED SERVING [CHECK]: stop the nginx of CLUSTER's
# first web server (DOWN); the next run finds it down and the LB no longer forwards to it
# (APPLIED, a function, no longer lists its address; CHECK, a function given DOWN, checks more);
# after the grace it is replaced and the LB forwards to exactly SERVING's addresses.
stop_one_web_until_replaced() {
  local c=$1 applied=$2 serving=$3 check=${4:-} down_addr
  DOWN=$(state_names "$c" | cut -d' ' -f1)
  down_addr=$(status_q ".[] | select(.name==\"$c\") | .instances[] | select(.name==\"$DOWN\") | .address")
  kill "$(cat "$T/instances/$DOWN/logs/nginx.pid")"
  sc scale-out --cluster "$c" > /dev/null 2> "$T/$c-down.log" || true
  grep -Eq "instance[.](unhealthy|dead) cluster=$c instance=$DOWN " "$T/$c-down.log" || fail "$DOWN not found down: $(cat "$T/$c-down.log")"
  case " $($applied) " in *" $down_addr "*) fail "$c's LB still forwards to $DOWN ($down_addr) after one run";; esac
  [ -z "$check" ] || $check "$DOWN"
  sleep 4
  for _ in $(seq 1 60); do
    sc scale-out --cluster "$c" --cron >> "$T/grow.log" 2>&1 || true
    [ "$(web_in_service "$c")" = 2 ] && ! state_names "$c" | grep -qw "$DOWN" && break
    sleep 2
  done
  ! state_names "$c" | grep -qw "$DOWN" || fail "$DOWN was not replaced"
  [ "$(web_in_service "$c")" = 2 ] || fail "$c did not get back to 2 in service"
  [ "$($applied)" = "$($serving)" ] || fail "after the replacement $c's LB forwards to '$($applied)', in service '$($serving)'"
}

# 1. Create: LB on this host, 2 web servers on Nova (create-cluster finishes in later runs).
sc create-cluster shop --provider openstack --os-cloud lab --listen 127.0.0.1 --flavor m1.tiny --image tiny \
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
# status --json gives each web instance its Nova server id.
ids_nova=$($API servers | jq -r '[.[] | select((.tags | index("sclman:cluster=shop")) and .status=="ACTIVE") | "\(.name)=\(.id)"] | sort | join(" ")')
ids_status=$(sc status --json | jq -r '[.[] | select(.name=="shop") | .instances[] | select(.role=="web" and .state!="error") | "\(.name)=\(.provider_id)"] | sort | join(" ")')
[ "$ids_nova" = "$ids_status" ] || fail "status --json gives '$ids_status', nova holds '$ids_nova'"
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
# A second server with the name of a live instance (what a create sent twice would leave).
TWIN=$(state_names shop | cut -d' ' -f1)
TWIN_ID=$(sqlite3 "$DB" "SELECT cloud_id FROM instances WHERE name='$TWIN'")
$API create "$TWIN" sclman sclman:cluster=shop sclman:role=web > /dev/null
$API create bystander > /dev/null
# The orphan last, so that it is the youngest. Nova stamps it when its API gets to the request,
# which on a busy machine is seconds after the request was sent: its age counts from the answer.
$API create shop-web-99 sclman sclman:cluster=shop sclman:role=web > /dev/null
born=$SECONDS
sc gc > "$T/gc1.out" 2> "$T/gc1.err" || true
grep -q "gc.orphan_in_grace cluster=shop server=shop-web-99" "$T/gc1.err" \
  || { cat "$T/gc1.err" >&2; fail "gc did not see the orphan in its grace period"; }
case " $(nova_names shop) " in *" shop-web-99 "*) ;; *) fail "gc deleted within the grace period: $(nova_names shop)";; esac
while [ $((SECONDS - born)) -le 31 ]; do sleep 1; done
sc gc > "$T/gc2.out" 2> "$T/gc2.err" || { cat "$T/gc2.err" >&2; fail "gc failed"; }
grep -q "gc.orphan_server cluster=shop server=shop-web-99" "$T/gc2.err" || { cat "$T/gc2.err" >&2; fail "gc did not delete the orphan"; }
grep -q "gc.orphan_server cluster=shop server=$TWIN " "$T/gc2.err" || { cat "$T/gc2.err" >&2; fail "gc did not delete the second $TWIN"; }
for _ in $(seq 1 30); do [ "$(nova_names shop)" = "$(state_names shop)" ] && break; sleep 1; done
[ "$(nova_names shop)" = "$(state_names shop)" ] || fail "gc left the tagged orphan: $(nova_names shop)"
$API servers | jq -e '[.[] | select(.name=="bystander")] | length == 1' > /dev/null || fail "gc touched the untagged server"
$API servers | jq -e --arg n "$TWIN" --arg id "$TWIN_ID" '[.[] | select(.name==$n) | .id] == [$id]' > /dev/null \
  || fail "gc did not keep exactly $TWIN's own server $TWIN_ID"
pass "gc deleted the tagged orphan and a second $TWIN after the grace period, kept $TWIN's own server and the untagged one"

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
delete_and_wait shop "$T/del.err"
$API servers | jq -e '[.[] | select(.name=="bystander")] | length == 1' > /dev/null || fail "bystander was deleted"
pass "deleted shop: nova holds none of its servers, the untagged one stays; bring-up took ${OS_BRINGUP_SECONDS} s"

# 6b. The cluster keeps its cloud: made with OS_CLOUD=other (no --os-cloud), every later
# command acts on 'other' without the variable (none is the default cloud here: [OPENSTACK]
# names none); when 'other' names another project, or is gone from clouds.yaml, a command on
# the cluster is a config error (78) naming it, and acts on no other cloud.
cp "$T/osconf/clouds.yaml" "$T/osconf/clouds.lab"
{ cat "$T/osconf/clouds.lab"; cloud_entry other "$OS_KEYSTONE_URL"; } > "$T/osconf/clouds.yaml"
OS_CLOUD=other sc create-cluster oth --provider openstack --listen 127.0.0.1 --flavor m1.tiny --image tiny \
  --network sclnet --web 1 --min 1 --max 2 --metrics sensu > "$T/oth.out" 2> "$T/oth.err" || true
[ "$(sqlite3 "$DB" "SELECT provider || ' ' || cloud_project FROM clusters WHERE name='oth'")" \
  = "openstack:other Default/demo" ] || { cat "$T/oth.err" >&2; fail "oth does not record cloud 'other'"; }
sc status --json | jq -e --arg u "$OS_KEYSTONE_URL" '.[] | select(.name=="oth") | .cloud.project == "Default/demo"
                     and (.cloud.auth_url | startswith($u | rtrimstr("/")))' > /dev/null \
  || fail "status --json does not show oth's cloud"
grow_until oth 1 60 || { cat "$T/oth.err" >&2; fail "oth did not come up without OS_CLOUD"; }
nova_matches_state oth 10 || fail "oth: nova holds $(nova_names oth)"
{ cat "$T/osconf/clouds.lab"; cloud_entry other "$OS_KEYSTONE_URL" | sed 's/project_name: demo/project_name: admin/'; } \
  > "$T/osconf/clouds.yaml"
rc=0; OS_CLOUD=lab sc scale-out --cluster oth > /dev/null 2> "$T/oth.moved" || rc=$?
[ "$rc" = 78 ] || fail "scale-out on a moved cloud exited $rc, not 78"
grep -q "cluster 'oth' was created on cloud 'other'.*project 'Default/admin'" "$T/oth.moved" \
  || fail "no clear message for a moved cloud: $(cat "$T/oth.moved")"
cp "$T/osconf/clouds.lab" "$T/osconf/clouds.yaml"
for cmd in "scale-in --cluster oth" "gc" "delete-cluster oth"; do
  rc=0; sc $cmd > /dev/null 2> "$T/oth.gone" || rc=$?
  [ "$rc" = 78 ] || fail "$cmd with cloud 'other' gone exited $rc, not 78"
  grep -q "cluster 'oth' was created on cloud 'other': no cloud 'other'" "$T/oth.gone" \
    || fail "$cmd: no clear message for a cloud gone: $(cat "$T/oth.gone")"
done
[ "$(cluster_status oth)" = active ] || fail "oth is $(cluster_status oth) after its cloud went"
[ -n "$(nova_names oth)" ] || fail "oth's server went while its cloud was gone"
{ cat "$T/osconf/clouds.lab"; cloud_entry other "$OS_KEYSTONE_URL"; } > "$T/osconf/clouds.yaml"
delete_and_wait oth "$T/oth.del"
cp "$T/osconf/clouds.lab" "$T/osconf/clouds.yaml"
pass "oth keeps cloud 'other' without OS_CLOUD; a moved or gone cloud is exit 78 for it, nothing acted on"

# 6c. Availability zones (issue 19): the test cloud has three zones, sclaz-a, sclaz-b and
# sclaz-c (one fake compute host each, in a host aggregate per zone). Cluster zon spreads over
# them: 3 web servers are one per zone, grown to 6 two per zone, shrunk to 3 one per zone
# again, as Nova placed them (OS-EXT-AZ:availability_zone); the state and status record the
# zone of each.
t_zones=$SECONDS
sc create-cluster zon --provider openstack --os-cloud lab --listen 127.0.0.1 --flavor m1.tiny --image tiny \
  --network sclnet --web 3 --min 1 --max 6 --availability-zones sclaz-a,sclaz-b,sclaz-c \
  > "$T/zon.out" 2> "$T/zon.err" || true
grow_until zon 3 60 || { tail -n 20 "$T/zon.err" >&2; fail "zon did not reach 3 web servers"; }
# zone_counts: "ZONE=N ..." of zon's ACTIVE web servers as Nova placed them.
zone_counts() {
  $API servers | jq -r '[.[] | select(.tags | index("sclman:cluster=zon")) | select(.status == "ACTIVE")
    | select(.name | contains("-web-")) | .zone] | group_by(.) | map("\(.[0])=\(length)") | join(" ")'
}
# Every web server's zone in Nova is the one the state requested it in.
zones_agree() {
  local nova state
  nova=$($API servers | jq -r '[.[] | select(.tags | index("sclman:cluster=zon")) | select(.status == "ACTIVE")
    | select(.name | contains("-web-")) | "\(.name)=\(.zone)"] | sort | join(" ")')
  state=$(status_q '[.[] | select(.name=="zon") | .instances[] | select(.role=="web" and .state=="in_service")
    | "\(.name)=\(.availability_zone)"] | sort | join(" ")')
  [ "$nova" = "$state" ] || { echo "nova: $nova / state: $state" >&2; return 1; }
}
nova_matches_state zon 10 || fail "zon: nova holds $(nova_names zon)"
[ "$(zone_counts)" = "sclaz-a=1 sclaz-b=1 sclaz-c=1" ] || fail "zon's 3 servers are in zones $(zone_counts)"
zones_agree || fail "zon's zones in nova and the state differ"
sc scale-out --cluster zon --to 6 > /dev/null 2>> "$T/zon.err" || true
grow_until zon 6 60 || fail "zon did not grow to 6"
nova_matches_state zon 10 || fail "zon: nova holds $(nova_names zon)"
[ "$(zone_counts)" = "sclaz-a=2 sclaz-b=2 sclaz-c=2" ] || fail "zon's 6 servers are in zones $(zone_counts)"
zones_agree || fail "zon's zones in nova and the state differ after the scale-out"
sc scale-in --cluster zon --to 3 --wait > /dev/null 2>> "$T/zon.err" || { tail -n 20 "$T/zon.err" >&2; fail "scale-in --to 3 on zon"; }
nova_matches_state zon 15 || fail "zon: nova holds $(nova_names zon) after the scale-in"
[ "$(zone_counts)" = "sclaz-a=1 sclaz-b=1 sclaz-c=1" ] || fail "zon's 3 servers after the scale-in are in zones $(zone_counts)"
zones_agree || fail "zon's zones in nova and the state differ after the scale-in"
sc status zon > "$T/zon-status.txt"
grep -q "^  availability zones sclaz-a, sclaz-b, sclaz-c" "$T/zon-status.txt" && grep -Eq "^  zon-web-[0-9]+ .* zone sclaz-c" "$T/zon-status.txt" \
  || fail "status: $(cat "$T/zon-status.txt")"
delete_and_wait zon "$T/zon-del.log"
pass "availability zones: zon held its web servers one per zone at 3, two per zone at 6, one per zone after the scale-in to 3, as Nova placed them ($((SECONDS - t_zones)) s)"

# A create-cluster that fails after its first web server (a failpoint fails the third create:
# the LB, grp-web-1 in the new server group, then grp-web-2) removes what it made, its Nova
# server group too.
group_of() { $API server-groups | jq -r --arg n "sclman-$1" '[.[] | select(.name==$n) | .name] | join(" ")'; }
rc=0
SCLMAN_FAILPOINTS=create_server.before=transient@3 sc create-cluster grp --provider openstack --os-cloud lab \
  --listen 127.0.0.1 --flavor m1.tiny --image tiny --network sclnet --web 2 --server-group soft-anti-affinity \
  > "$T/grp.out" 2> "$T/grp.err" || rc=$?
[ $rc = 75 ] || { tail -n 20 "$T/grp.err" >&2; fail "the failed create-cluster grp exited $rc, not 75"; }
grep -q "openstack.server_group_created cluster=grp" "$T/grp.err" && grep -q "openstack.server_created server=grp-web-1" "$T/grp.err" \
  || fail "grp-web-1 was not created in its server group: $(tail -n 20 "$T/grp.err")"
[ "$(cluster_status grp)" = failed ] || fail "grp is $(cluster_status grp), not failed"
for _ in $(seq 1 10); do [ -z "$(nova_names grp)" ] && break; sleep 1; done
[ -z "$(nova_names grp)" ] || fail "the failed create-cluster left servers: $(nova_names grp)"
[ -z "$(group_of grp)" ] || fail "the failed create-cluster left its server group $(group_of grp)"
sc delete-cluster grp > /dev/null 2>&1 || fail "delete-cluster grp (failed)"
pass "a create-cluster that failed after its first web server left nothing in nova: no server, no server group"

# 6d. The server balancer without Chef (issue 13): cluster baz's LB is a Nova server that sclman
# configures over SSH. Its user data makes nginx, an account whose only key is sclman's,
# restricted to sclman-lb-apply, and a host key sclman made; sclman pushes each upstream list
# over SSH. The fake virt driver runs nothing, so this test plays the server's cloud-init: from
# the user data Nova holds it takes the host key, the key line and the script, and starts a real
# sshd on 127.0.0.1 whose sessions apply to the LB's stand-in nginx. Checked: the user data;
# traffic through the LB reaches every web server; the list nginx loaded is the in-service one
# after a scale-out and a drain under a client load with 0 failed requests; a server that shows
# another host key gets nothing pushed (the list stays); delete-cluster removes the keys.
. "$SCLMAN_SOURCE_DIR/tests/support/lb_sshd.sh"
t_baz=$SECONDS
SSH_PORT=$(lb_sshd_port)
cat >> "$SCLMAN_CONFIG" <<EOT
[SSH]
user = root
port = $SSH_PORT
timeout = 10
EOT
sc create-cluster baz --provider openstack --os-cloud lab --flavor m1.tiny --image tiny \
  --network sclnet --web 2 --min 1 --max 3 --metrics sensu --bootstrapper local \
  --balancer server --health interval=1 --health unhealthy_threshold=2 --health grace=3 \
  > "$T/baz.out" 2> "$T/baz.err" || true
baz_q() { status_q ".[] | select(.name==\"baz\") | $1"; }
# The LB server is in Nova with its user data; until something answers SSH it stays
# bootstrapping (sclman says ssh.lb_not_ready) and the cluster has no address.
for _ in $(seq 1 30); do
  grep -q "ssh.lb_not_ready lb=baz-lb-1 " "$T/baz.err" && break
  sc scale-out --cluster baz >> "$T/baz.err" 2>&1 || true
  sleep 1
done
grep -q "ssh.lb_not_ready lb=baz-lb-1 " "$T/baz.err" || { tail -n 20 "$T/baz.err" >&2; fail "no ssh.lb_not_ready for baz-lb-1"; }
$API servers > "$T/baz.servers"
jq -r '.[] | select(.name=="baz-lb-1") | .user_data // ""' "$T/baz.servers" | base64 -d > "$T/baz-lb-1.user-data"
head -n 1 "$T/baz-lb-1.user-data" | grep -qx '#cloud-config' || fail "baz-lb-1's user data is not a cloud-config: $(head -c 200 "$T/baz-lb-1.user-data")"
/usr/bin/python3 - "$T/baz-lb-1.user-data" "$SCLMAN_SOURCE_DIR/etc/lb/sclman-lb-apply" "$T/instances/baz-lb-1/ssh" <<'PY' || fail "baz-lb-1's user data"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
files = {f["path"]: f["content"] for f in doc["write_files"]}
assert files["/usr/local/sbin/sclman-lb-apply"] == open(sys.argv[2]).read(), "the script differs from etc/lb"
assert "include /etc/nginx/sclman/upstream.conf;" in files["/etc/nginx/conf.d/sclman-lb.conf"]
host = doc["ssh_keys"]["ed25519_public"]
known = open(sys.argv[3] + "/known_hosts").read()
assert known == "baz-lb-1 " + host + "\n", (known, host)
key = open(sys.argv[3] + "/id_ed25519.pub").read().split()[1]
line = [u for u in doc["users"] if isinstance(u, dict)][0]["ssh_authorized_keys"][0]
assert line.split()[2] == key, "the authorized key is not sclman's"
assert "PRIVATE" not in open(sys.argv[3] + "/id_ed25519.pub").read()
PY
[ "$(stat -c %a "$T/instances/baz-lb-1/ssh")" = 700 ] || fail "the key directory is not mode 700"
[ "$(baz_q '.instances[] | select(.role=="lb") | .state')" = bootstrapping ] \
  || fail "baz-lb-1 is $(baz_q '.instances[] | select(.role=="lb") | .state') before anything answers SSH"
baz_nginx() { echo "/usr/sbin/nginx -p $T/instances/$1/ -c conf/nginx.conf"; }
lb_sshd_start "$T/sshd-baz" "$T/baz-lb-1.user-data" "$SSH_PORT" "$T/instances/baz-lb-1/conf" \
  $(baz_nginx baz-lb-1) || fail "cannot play baz-lb-1's cloud-init"
sc scale-out --cluster baz >> "$T/baz.err" 2>&1 || true
grow_until baz 2 60 || { tail -n 30 "$T/baz.err" >&2; fail "baz did not reach 2 web instances"; }
BAZ_LB=$(lb_address baz)
[ "$(baz_q '.instances[] | select(.role=="lb") | .state')" = in_service ] || fail "baz-lb-1 is not in service"
# baz_applied: the addresses the LB's nginx loaded (what sclman-lb-apply wrote after nginx
# took it); baz_serving: the state's in-service web instances.
baz_applied() { lb_applied baz-lb-1; }
baz_serving() { in_service_addresses baz; }
[ -n "$(baz_serving)" ] && [ "$(baz_applied)" = "$(baz_serving)" ] || fail "baz's LB loaded '$(baz_applied)', in service '$(baz_serving)'"
grep -q "lb.pushed lb=baz-lb-1 backends=2" "$T/baz.err" || fail "no lb.pushed for baz-lb-1"
nova_lb=$(jq -r '.[] | select(.name=="baz-lb-1") | .addresses[0]' "$T/baz.servers")
[ "$(jq -r .nova_address "$T/instances/baz-lb-1/stand_in.json")" = "$nova_lb:80" ] || fail "baz-lb-1's stand-in is not for Nova's $nova_lb"
serves_through "$BAZ_LB" $(baz_q '[.instances[] | select(.role=="web" and .state=="in_service") | .name] | join(" ")')
pass "server balancer over SSH: baz's LB is Nova server baz-lb-1 ($nova_lb, stand-in $BAZ_LB), booted from a cloud-config with sclman's host key and restricted key; it stayed bootstrapping until SSH answered, then got the in-service list pushed and forwards to it"

# A client load through the LB while baz grows to 3 and drains back to 2.
grow_and_drain_under_load baz "$BAZ_LB" baz_applied baz_serving
pass "server balancer over SSH: $(jq .requests "$T/baz-load.json") requests through baz-lb-1 while baz grew to 3 and drained to 2, 0 failed"

# A server at that address with another host key: sclman pushes nothing to it and says why.
# A web server's nginx stops meanwhile: the list the LB loaded stays as it was; with the right
# key back, the next runs take the dead one out and its replacement in.
lb_sshd_stop
mkdir -p "$T/sshd-impostor"
ssh-keygen -q -t ed25519 -N "" -f "$T/sshd-impostor/key"
/usr/bin/python3 - "$T/baz-lb-1.user-data" "$T/sshd-impostor" > "$T/impostor.user-data" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
doc["ssh_keys"]["ed25519_private"] = open(sys.argv[2] + "/key").read()
doc["ssh_keys"]["ed25519_public"] = open(sys.argv[2] + "/key.pub").read().strip()
print("#cloud-config\n" + yaml.safe_dump(doc))
PY
lb_sshd_start "$T/sshd-impostor" "$T/impostor.user-data" "$SSH_PORT" "$T/instances/baz-lb-1/conf" \
  $(baz_nginx baz-lb-1) || fail "cannot start the impostor's sshd"
before=$(baz_applied)
DOWN=$(state_names baz | cut -d' ' -f1)
kill "$(cat "$T/instances/$DOWN/logs/nginx.pid")"
for _ in $(seq 1 3); do sc scale-out --cluster baz >> "$T/baz-impostor.log" 2>&1 || true; sleep 1; done
grep -q "shows another SSH host key than the one sclman gave it: refused (Host key verification failed.)" "$T/baz-impostor.log" || fail "no host key failure against the impostor: $(tail -n 5 "$T/baz-impostor.log")"
[ "$(baz_applied)" = "$before" ] || fail "a server with another host key got a list pushed: $(baz_applied)"
grep -q "Accepted publickey" "$T/sshd-impostor/sshd.log" && fail "sclman authenticated to the impostor"
lb_sshd_stop
lb_sshd_start "$T/sshd-baz" "$T/baz-lb-1.user-data" "$SSH_PORT" "$T/instances/baz-lb-1/conf" \
  $(baz_nginx baz-lb-1) || fail "cannot restart baz-lb-1's sshd"
for _ in $(seq 1 60); do
  sc scale-out --cluster baz --cron >> "$T/grow.log" 2>&1 || true
  [ "$(web_in_service baz)" = 2 ] && ! state_names baz | grep -qw "$DOWN" && break
  sleep 2
done
state_names baz | grep -qw "$DOWN" && fail "$DOWN was not replaced"
[ "$(baz_applied)" = "$(baz_serving)" ] || fail "after the impostor baz's LB loaded '$(baz_applied)', in service '$(baz_serving)'"
pass "server balancer over SSH: a server with another host key got nothing pushed (Host key verification failed, its list unchanged while $DOWN was down); with its own key back, $DOWN went out and its replacement in"

# A web server whose nginx stops, with the LB answering: out of the pushed list after one run,
# replaced after the grace.
stop_one_web_until_replaced baz baz_applied baz_serving
pass "server balancer over SSH: $DOWN (nginx stopped) out of the pushed list in one run and replaced"

delete_and_wait baz "$T/baz-del.log"
[ -d "$T/instances/baz-lb-1/ssh" ] && fail "delete-cluster left baz-lb-1's keys"
lb_sshd_stop
pass "server balancer over SSH: deleted baz, nova holds nothing of it and its keys are gone ($((SECONDS - t_baz)) s for this scenario)"

# 7. Chef on OpenStack: cluster cafe with the chef bootstrapper and the chef-search balancer
# against goiardi. Nova's servers get the Chef bootstrap as user data (the client key of their
# node); the fake virt driver runs nothing, so each stand-in does on this host what the
# server's first chef-client run would (sclman registers the node, as on the local provider),
# and the LB (on this host) takes its members from Chef search.
t_chef=$SECONDS
goiardi_start "$T/goiardi" || fail "goiardi did not start"
chef_upload_roles || fail "cannot upload the roles"
chef_config "register_timeout = 120"
# check_cafe STEP: Nova holds exactly the state's web servers, each with the Chef bootstrap of
# its node as user data (the key of its Chef client); goiardi holds environment cafe and exactly
# the live instances as nodes and clients, in place and registered; search finds the web nodes
# in service and the LB forwards to exactly their addresses. (One status and one server list
# per check: each sclman or API call costs a second here.)
check_cafe() {
  local live nodes clients serving n port applied want node
  nova_matches_state cafe 10 || fail "$1: nova holds $(nova_names cafe)"
  sc status --json > "$T/cafe.status"
  $API servers > "$T/cafe.servers"
  cafe_q() { jq -r "[.[] | select(.name==\"cafe\") | .instances[] | $1] | sort | join(\" \")" "$T/cafe.status"; }
  live=$(cafe_q 'select(.state!="gone") | .name')
  serving=$(cafe_q 'select(.role=="web" and .state=="in_service") | .name')
  # A build Nova failed (ERROR; it happens with SQLite behind Nova under load) is an instance in
  # error whose server gc deletes later: both sides leave it out.
  [ "$(jq -r '[.[] | select((.tags | index("sclman:cluster=cafe")) and .status != "ERROR") | .name] | sort | join(" ")' "$T/cafe.servers")" \
    = "$(cafe_q 'select(.role=="web" and .state!="gone" and .state!="error") | .name')" ] \
    || fail "$1: nova and the state differ: $(nova_names cafe)"
  [ "$(chef_q /environments/cafe .name)" = cafe ] || fail "$1: no environment cafe"
  nodes=$(chef_q /environments/cafe/nodes 'keys[]' | sort | tr '\n' ' ' | sed 's/ $//')
  clients=$(chef_q /clients 'keys[] | select(startswith("cafe-"))' | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$nodes" = "$live" ] || fail "$1: chef nodes '$nodes', live instances '$live'"
  [ "$clients" = "$live" ] || fail "$1: chef clients '$clients', live instances '$live'"
  [ "$(chef_search cafe)" = "$serving" ] || fail "$1: search finds '$(chef_search cafe)', in service '$serving'"
  # The node of an instance in error never registered (its server failed to build).
  for n in $(cafe_q 'select(.state!="gone" and .state!="error") | .name'); do
    chef_api GET "/nodes/$n" > "$T/node.json" || fail "$1: no node $n"
    node() { jq -r "$1" "$T/node.json"; }
    [ "$(node .chef_environment)" = cafe ] || fail "$1: node $n not in environment cafe"
    [ "$(node .normal.sclman.cluster)" = cafe ] || fail "$1: node $n lacks sclman.cluster"
    case $n in *-lb-*) continue;; esac
    [ "$(node '.run_list | join(",")')" = "role[web]" ] || fail "$1: node $n run list"
    port=$(cafe_q "select(.name==\"$n\") | .address" | cut -d: -f2)
    [ "$(node .automatic.ipaddress)" = 127.0.0.1 ] || fail "$1: node $n not registered"
    [ "$(node .normal.sclman.port)" = "$port" ] || fail "$1: node $n port is not its stand-in's"
    chef_q "/clients/$n" .public_key > "$T/client.pub"
    jq -r --arg n "$n" '.[] | select(.name==$n) | .user_data // ""' "$T/cafe.servers" > "$T/ud.b64"
    /usr/bin/python3 - "$T/ud.b64" "$T/client.pub" "$n" "$GOIARDI_URL" <<'PY' || fail "$1: the user data of $n is not its Chef bootstrap"
import base64, subprocess, sys, yaml
ud, pub, name, url = open(sys.argv[1]).read().strip(), open(sys.argv[2]).read(), sys.argv[3], sys.argv[4]
doc = yaml.safe_load(base64.b64decode(ud))
chef = doc["chef"]
assert chef["node_name"] == name and chef["environment"] == "cafe", chef
assert chef["server_url"] == url and chef["run_list"] == ["role[web]"], chef
key = [f for f in doc["write_files"] if f["path"] == "/etc/chef/client.pem"][0]["content"]
def spki(args, pem):
    return subprocess.run(["openssl"] + args, input=pem.encode(), check=True,
                          capture_output=True).stdout.decode()
derived = spki(["pkey", "-pubout"], key)
held = spki(["rsa", "-RSAPublicKey_in", "-pubout"] if "RSA PUBLIC" in pub else ["pkey", "-pubin", "-pubout"], pub)
assert derived == held, "the key in the user data is not the one of client " + name
PY
  done
  applied=$(lb_applied cafe-lb-1)
  want=$(for n in $serving; do cafe_q "select(.name==\"$n\") | .address"; done | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$applied" = "$want" ] || fail "$1: the LB forwards to '$applied', want '$want'"
  CAFE_LIVE=$live
  CAFE_SERVING=$serving
}
# cafe_serves NAME...: each named web server's stand-in answers through the LB.
cafe_serves() { serves_through "$(lb_address cafe)" "$@"; }

sc create-cluster cafe --provider openstack --os-cloud lab --listen 127.0.0.1 --flavor m1.tiny --image tiny \
  --network sclnet --web 2 --min 1 --max 4 --metrics sensu --bootstrapper chef \
  --balancer chef-search > "$T/cafe.out" 2> "$T/cafe.err" || true
grow_until cafe 2 60 || { tail -n 30 "$T/cafe.err" >&2; fail "cafe did not reach 2 web instances"; }
[ "$(sqlite3 "$DB" "SELECT bootstrapper || ' ' || balancer FROM clusters WHERE name='cafe'")" = "chef chef-search" ] \
  || fail "cafe does not record its drivers"
check_cafe "created"
[ "$(chef_q /nodes/cafe-lb-1 '.run_list[0]')" = "role[lb]" ] || fail "the LB node's run list"
# shellcheck disable=SC2086
cafe_serves $CAFE_SERVING
grep -q "PRIVATE KEY" "$T/cafe.err" "$T/grow.log" && fail "a private key reached the log"
pass "chef on openstack: created cafe, nova holds $(nova_names cafe ACTIVE) with their Chef bootstrap as user data; goiardi holds $CAFE_LIVE; the LB forwards to the searched nodes"

sc scale-out --cluster cafe --to 3 > /dev/null 2>> "$T/cafe.err" || true
grow_until cafe 3 60 || fail "cafe did not grow to 3"
check_cafe "scaled out"
pass "chef on openstack: scaled out, nova holds $(nova_names cafe ACTIVE), search finds $(chef_search cafe)"

sc scale-in --cluster cafe --to 2 > /dev/null 2>> "$T/cafe.err" || true
VICTIM=$(status_q '[.[] | select(.name=="cafe") | .instances[] | select(.state=="draining") | .name] | join(" ")')
[ -n "$VICTIM" ] && [ "$(echo "$VICTIM" | wc -w)" = 1 ] || fail "one web instance should drain, not '$VICTIM'"
[ "$(chef_q "/nodes/$VICTIM" .normal.sclman.in_service)" = false ] || fail "draining $VICTIM still in service in chef"
case " $(chef_search cafe) " in *" $VICTIM "*) fail "draining $VICTIM still found by search";; esac
chef_exists "/clients/$VICTIM" || fail "the client of $VICTIM was deleted before the drain ended"
sc scale-in --cluster cafe --wait > /dev/null 2>> "$T/cafe.err" || { tail -n 20 "$T/cafe.err" >&2; fail "scale-in --wait"; }
chef_exists "/nodes/$VICTIM" && fail "node $VICTIM left behind"
case " $(nova_names cafe) " in *" $VICTIM "*) fail "nova still holds $VICTIM";; esac
check_cafe "scaled in"
pass "chef on openstack: scaled in, $VICTIM drained out of search, deleted from nova and chef"

# A server deleted behind sclman's back: replaced; gc deletes its node and client.
LOST=$(state_names cafe | cut -d' ' -f1)
$API delete "$LOST"
grow_until cafe 2 60 || fail "cafe's lost server was not replaced"
sc gc --cluster cafe > /dev/null 2>&1 || true
chef_exists "/nodes/$LOST" && fail "gc left the node of $LOST"
chef_exists "/clients/$LOST" && fail "gc left the client of $LOST"
check_cafe "replaced"
pass "chef on openstack: $LOST lost and replaced; gc deleted its node and client"

sc delete-cluster cafe > "$T/cafe-del.out" 2>> "$T/cafe.err" || true
for _ in $(seq 1 20); do
  [ -z "$(nova_names cafe)" ] && [ "$(cluster_status cafe)" = deleted ] && break
  sc gc --cron >> "$T/cafe.err" 2>&1 || true
  sleep 2
done
[ -z "$(nova_names cafe)" ] || fail "after delete-cluster nova holds $(nova_names cafe)"
[ "$(cluster_status cafe)" = deleted ] || fail "cafe is $(cluster_status cafe), not deleted"
chef_exists /environments/cafe && fail "environment cafe left behind"
[ -z "$(chef_q /nodes 'keys[] | select(startswith("cafe-"))')" ] || fail "cafe's nodes left behind"
[ -z "$(chef_q /clients 'keys[] | select(startswith("cafe-"))')" ] || fail "cafe's clients left behind"
pass "chef on openstack: deleted cafe, nova and goiardi hold nothing of it ($((SECONDS - t_chef)) s for this scenario)"

# 7b. The server balancer (issue 13): cluster bar's LB is a Nova server of role lb whose own
# chef-client renders the Chef search. The fake virt driver runs nothing, so its stand-in does
# here what that chef-client would: the LB nginx, its upstream list from the search. Checked:
# Nova holds bar-lb-1 with the Chef bootstrap of role lb as user data; goiardi its node; the
# cluster's address is the LB server's (its stand-in for Nova's fixed address); traffic through
# it reaches the web servers; a client load during a scale-out and a drain sees 0 failed
# requests; a web server whose nginx stopped is out of the LB after one run and replaced after
# the grace; gc keeps the LB server; delete-cluster leaves nothing in Nova or goiardi.
t_server=$SECONDS
sc create-cluster bar --provider openstack --os-cloud lab --flavor m1.tiny --image tiny \
  --network sclnet --web 2 --min 1 --max 4 --metrics sensu --bootstrapper chef \
  --balancer server --floating-network sclext --server-group soft-anti-affinity --health interval=1 \
  --health unhealthy_threshold=2 --health grace=3 > "$T/bar.out" 2> "$T/bar.err" || true
grow_until bar 2 60 || { tail -n 30 "$T/bar.err" >&2; fail "bar did not reach 2 web instances"; }
bar_q() { status_q ".[] | select(.name==\"bar\") | $1"; }
[ "$(bar_q '.instances[] | select(.role=="lb") | "\(.name) \(.state)"')" = "bar-lb-1 in_service" ] \
  || fail "bar's LB server is not in service: $(bar_q '.instances[] | select(.role=="lb")')"
BAR_LB=$(lb_address bar)
[ "$(bar_q '.instances[] | select(.role=="lb") | .address')" = "$BAR_LB" ] \
  || fail "bar's address $BAR_LB is not its LB server's"
$API servers > "$T/bar.servers"
jq -r '.[] | select(.name=="bar-lb-1") | "\(.status) \(.tags | index("sclman:cluster=bar") != null)"' \
  "$T/bar.servers" | grep -qx "ACTIVE true" || fail "nova does not hold bar-lb-1 ACTIVE and tagged"
jq -r '.[] | select(.name=="bar-lb-1") | .user_data // ""' "$T/bar.servers" > "$T/ud.b64"
/usr/bin/python3 - "$T/ud.b64" "$GOIARDI_URL" <<'PY' || fail "the user data of bar-lb-1 is not the Chef bootstrap of role lb"
import base64, sys, yaml
doc = yaml.safe_load(base64.b64decode(open(sys.argv[1]).read().strip()))
chef = doc["chef"]
assert chef["node_name"] == "bar-lb-1" and chef["environment"] == "bar", chef
assert chef["server_url"] == sys.argv[2] and chef["run_list"] == ["role[lb]"], chef
PY
[ "$(chef_q /nodes/bar-lb-1 '.run_list | join(",")')" = "role[lb]" ] || fail "the LB server's node run list"
[ "$(chef_q /nodes/bar-lb-1 .chef_environment)" = bar ] || fail "the LB server's node is not in bar"
# Its stand-in stands for the server Nova holds: the address Nova gave bar-lb-1.
nova_lb=$(jq -r '.[] | select(.name=="bar-lb-1") | .addresses[0]' "$T/bar.servers")
[ "$(jq -r .nova_address "$T/instances/bar-lb-1/stand_in.json")" = "$nova_lb:80" ] \
  || fail "bar-lb-1's stand-in is not for Nova's $nova_lb: $(cat "$T/instances/bar-lb-1/stand_in.json")"
nova_lb_id=$(jq -r '.[] | select(.name=="bar-lb-1") | .id' "$T/bar.servers")
[ "$(jq -r .nova_id "$T/instances/bar-lb-1/stand_in.json")" = "$nova_lb_id" ] \
  && [ "$(bar_q '.instances[] | select(.role=="lb") | .provider_id')" = "$nova_lb_id" ] \
  && [ "$(bar_q .balancer_ids.load_balancer)" = "$nova_lb_id" ] \
  || fail "bar-lb-1's server id in the state is not Nova's $nova_lb_id"
# bar_fips: "ADDRESS SERVER_ID" of each floating IP tagged for bar (Neutron's view).
bar_fips() { $API floatingips | jq -r '[.[] | select(.tags | index("sclman:cluster=bar")) | "\(.address) \(.server_id)"] | join(", ")'; }
# Its floating IP (from sclext) is on bar-lb-1's port, tagged; status shows it with the LB's port.
for _ in $(seq 1 5); do [ -n "$(bar_fips)" ] && break; sc scale-out --cluster bar > /dev/null 2>&1 || true; done
FIP=$(bar_fips | cut -d' ' -f1)
[ "$(bar_fips)" = "$FIP $nova_lb_id" ] || fail "floating IPs of bar: '$(bar_fips)', want one on bar-lb-1 ($nova_lb_id)"
case $FIP in 203.0.113.*) ;; *) fail "bar's floating IP $FIP is not from sclext";; esac
[ "$(bar_q .public_address)" = "$FIP:${BAR_LB##*:}" ] || fail "status --json public_address $(bar_q .public_address), want $FIP"
sc status | grep -q "^  public address $FIP:" || fail "status does not show the public address: $(sc status)"
# Its servers are in the Nova server group sclman-bar (soft-anti-affinity): created with the
# scheduler hint, Nova lists each as a member.
bar_group() { $API server-groups | jq -r '[.[] | select(.name=="sclman-bar") | "\(.policies | join(",")) \(.members | join(","))"] | join("; ")'; }
bar_ids=$(jq -r '[.[] | select(.tags | index("sclman:cluster=bar")) | select(.status != "DELETED") | .id] | sort | join(",")' "$T/bar.servers")
[ "$(bar_group)" = "soft-anti-affinity $bar_ids" ] || fail "server group sclman-bar: '$(bar_group)', want soft-anti-affinity with $bar_ids"
[ "$(bar_q .server_group)" = soft-anti-affinity ] || fail "status --json server_group: $(bar_q .server_group)"
# bar_applied: the addresses the LB server's nginx forwards to; bar_serving: the state's.
bar_applied() { lb_applied bar-lb-1; }
bar_serving() { in_service_addresses bar; }
[ "$(bar_applied)" = "$(bar_serving)" ] || fail "bar's LB forwards to '$(bar_applied)', in service '$(bar_serving)'"
serves_through "$BAR_LB" $(bar_q '[.instances[] | select(.role=="web" and .state=="in_service") | .name] | join(" ")')
pass "server balancer: bar's LB is Nova server bar-lb-1 ($nova_lb, stand-in $BAR_LB, floating IP $FIP) with role lb from Chef, in server group sclman-bar with its web servers; it forwards to the searched web servers"

# A client load through the LB server while bar grows to 3 and drains back to 2.
grow_and_drain_under_load bar "$BAR_LB" bar_applied bar_serving
pass "server balancer: $(jq .requests "$T/bar-load.json") requests through the LB server while bar grew to 3 and drained to 2, 0 failed"

# A web server whose nginx stopped: out of the LB after one run, replaced after the grace.
# (A stand-in's nginx is its process: the run finds it not running, instance.dead; on a real
# server, whose nginx stops while Nova holds it ACTIVE, the HTTP check finds it unhealthy.)
bar_not_in_search() { case " $(chef_search bar) " in *" $1 "*) fail "search still finds $1";; esac; }
stop_one_web_until_replaced bar bar_applied bar_serving bar_not_in_search
sc gc --cluster bar > /dev/null 2>&1 || true
$API servers | jq -r '.[] | select(.name=="bar-lb-1") | .status' | grep -qx ACTIVE || fail "gc deleted the LB server"
pass "server balancer: $DOWN (nginx stopped) out of the LB in one run and replaced; gc kept the LB server"

# Issue 19 on OpenStack: a protected web server survives a scale-in to min (1); then a
# scale-out while a web server drains takes it back into service, and Nova gets no create.
PROT=$(state_names bar | cut -d' ' -f2)
sc protect bar "$PROT" > /dev/null 2>> "$T/bar.err" || fail "protect bar $PROT"
sc scale-in --cluster bar --to 1 --wait > /dev/null 2>> "$T/bar.err" || { tail -n 20 "$T/bar.err" >&2; fail "scale-in --to 1 on bar"; }
[ "$(state_names bar)" = "$PROT" ] || fail "after a scale-in to 1 bar has '$(state_names bar)', not the protected $PROT"
[ "$(nova_names bar ACTIVE | tr ' ' '\n' | grep -c -- '-web-')" = 1 ] && nova_names bar ACTIVE | grep -qw "$PROT" \
  || fail "nova holds $(nova_names bar ACTIVE), not the protected $PROT alone"
sc unprotect bar "$PROT" > /dev/null 2>> "$T/bar.err" || fail "unprotect bar $PROT"
pass "protect on openstack: the protected $PROT survived a scale-in of bar to 1"
sc scale-out --cluster bar --to 2 > /dev/null 2>> "$T/bar.err" || true
grow_until bar 2 60 || fail "bar did not grow back to 2"
sc scale-in --cluster bar --to 1 > /dev/null 2>> "$T/bar.err" || true
RECLAIM=$(bar_q '[.instances[] | select(.state=="draining") | .name] | join(" ")')
[ -n "$RECLAIM" ] && [ "$(echo "$RECLAIM" | wc -w)" = 1 ] || fail "one web server of bar should drain, not '$RECLAIM'"
before=$(posts)
sc scale-out --cluster bar --to 2 > /dev/null 2> "$T/bar-reclaim.log" || { cat "$T/bar-reclaim.log" >&2; fail "scale-out during the drain"; }
grep -q "instance.reclaimed cluster=bar instance=$RECLAIM " "$T/bar-reclaim.log" || fail "$RECLAIM was not reclaimed: $(cat "$T/bar-reclaim.log")"
[ "$(posts)" = "$before" ] || fail "nova got $(( $(posts) - before )) creates for a scale-out that reclaimed $RECLAIM"
[ "$(web_in_service bar)" = 2 ] || fail "bar has $(web_in_service bar) in service after the reclaim"
case " $(chef_search bar) " in *" $RECLAIM "*) ;; *) fail "search does not find the reclaimed $RECLAIM";; esac
[ "$(bar_applied)" = "$(bar_serving)" ] || fail "after the reclaim bar's LB forwards to '$(bar_applied)'"
pass "reclaim on openstack: a scale-out while $RECLAIM drained took it back (no create sent to nova), back in search and the LB"

# Issue 19 on OpenStack: rolling replacement. First to an image Glance does not hold: the new
# server fails, the rollout fails (exit 76), bar keeps its servers and gets image tiny back.
# Then bar grown to 4 is replaced to image tiny2 under client load through the LB server, two
# servers per batch (booted above the size, then the old ones drained): 0 failed requests, and
# every web server on tiny2 in Nova, in the state, in search and in the LB; back to 2 after.
before_servers=$(state_names bar)
expect_exit 76 replace bar --image nosuch-image --wait --state "$DB"
grep -q "rollout 1 of 'bar' failed: bar-web-[0-9]* failed" "$T/err" || fail "replace to a missing image said: $(cat "$T/err")"
[ "$(bar_q .rollout.status)" = failed ] || fail "rollout after a missing image: $(bar_q .rollout)"
[ "$(sqlite3 "$DB" "SELECT image FROM clusters WHERE name = 'bar'")" = tiny ] || fail "bar's image is not tiny again"
[ "$(state_names bar)" = "$before_servers" ] && [ "$(web_in_service bar)" = 2 ] \
  || fail "after the failed rollout bar has '$(state_names bar)', not '$before_servers' in service"
sc gc --cluster bar > /dev/null 2>&1 || true
sc gc --cluster bar --clear-failures > /dev/null 2>&1 || true
pass "replace to an image Glance does not hold: the rollout failed, bar kept $before_servers and image tiny"

sc scale-out --cluster bar --to 4 > /dev/null 2>> "$T/bar.err" || true
grow_until bar 4 60 || fail "bar did not grow to 4"
before_servers=$(state_names bar)
"$SCLMAN_LOADGEN" --url "http://$BAR_LB/" --concurrency 2 --rate 200 --duration 900 > "$T/bar-replace-load.json" &
LOADGEN_PIDS+=($!)
sleep 1
sc replace bar --image tiny2 --batch 2 > "$T/bar-replace.out" 2>> "$T/bar.err" || { tail -n 20 "$T/bar.err" >&2; fail "replace bar --image tiny2"; }
t_replace=$SECONDS
for _ in $(seq 1 90); do
  sc scale-out --cluster bar --cron >> "$T/bar-replace.log" 2>&1 || true
  sc scale-in --cluster bar --cron >> "$T/bar-replace.log" 2>&1 || true
  [ "$(bar_q .rollout.status)" = running ] || break
  sleep 2
done
sleep 1
kill -INT "${LOADGEN_PIDS[-1]}"; wait "${LOADGEN_PIDS[-1]}" || true
unset 'LOADGEN_PIDS[-1]'
[ "$(bar_q .rollout.status)" = done ] || { tail -n 30 "$T/bar-replace.log" >&2; fail "the rollout of bar did not end: $(bar_q .rollout)"; }
[ "$(jq .errors "$T/bar-replace-load.json")" = 0 ] && [ "$(jq .non_200 "$T/bar-replace-load.json")" = 0 ] \
  || fail "failed requests through bar's LB server during the rollout: $(cat "$T/bar-replace-load.json")"
tiny2=$($API image-id tiny2)
web_images=$($API servers | jq -r '[.[] | select(.tags | index("sclman:cluster=bar")) | select(.name | contains("-web-"))
  | select(.status == "ACTIVE") | .image] | unique | join(" ")')
[ "$web_images" = "$tiny2" ] || fail "bar's web servers in Nova run images '$web_images', not tiny2 ($tiny2)"
[ "$(bar_q '[.instances[] | select(.role=="web" and .state=="in_service") | .image] | unique | join(" ")')" = tiny2 ] \
  || fail "bar's web instances in the state: $(bar_q '[.instances[] | select(.role=="web") | "\(.name) \(.state) \(.image)"]')"
[ "$(web_in_service bar)" = 4 ] || fail "bar has $(web_in_service bar) in service after the rollout"
[ "$(bar_q .rollout.batches)" = 2 ] || fail "the rollout took $(bar_q .rollout.batches) batches, not 2"
for old in $before_servers; do
  state_names bar | grep -qw "$old" && fail "$old was not replaced"
done
[ "$(bar_applied)" = "$(bar_serving)" ] || fail "after the rollout bar's LB forwards to '$(bar_applied)', in service '$(bar_serving)'"
[ "$(chef_search bar)" = "$(state_names bar)" ] || fail "after the rollout search finds '$(chef_search bar)', not '$(state_names bar)'"
pass "replace on openstack: bar's 4 web servers replaced by $(state_names bar) on tiny2, 2 per batch, in $((SECONDS - t_replace)) s under $(jq .requests "$T/bar-replace-load.json") requests through the LB server, 0 failed"

# Long requests through the LB server survive the scale-in of their web servers: with a drain
# deadline of 60 s, bar shrinks from 4 to 2 while 8 long requests (16 KiB at 1 KiB/s, ~16 s)
# run through the LB server, two on each web server. Each ends whole, and each victim is
# deleted once idle, before the deadline.
sed 's/^man_drain_seconds = .*/man_drain_seconds = 60/' "$SCLMAN_CONFIG" > "$T/longdrain.conf"
chmod 600 "$T/longdrain.conf"
grep -q "^man_drain_seconds = 60" "$T/longdrain.conf" || fail "no drain deadline to raise in $SCLMAN_CONFIG"
for w in $(state_names bar); do serve_slow "$w" 16; done
slow_pids=()
for n in 1 2 3 4 5 6 7 8; do
  ( rc=0; curl -fsS -o "$T/bslow.$n" "http://$BAR_LB/slow" 2> "$T/bslow.$n.err" || rc=$?; echo $rc > "$T/bslow.$n.rc" ) &
  slow_pids+=($!)
done
for _ in $(seq 100); do
  busy=0
  for w in $(state_names bar); do [ "$(in_flight "$w")" -ge 1 ] && busy=$((busy + 1)); done
  [ $busy = 4 ] && break
  sleep 0.1
done
[ $busy = 4 ] || fail "the long requests reached $busy of bar's 4 web servers"
t_long=$SECONDS
sc scale-in --cluster bar --to 2 --wait --config "$T/longdrain.conf" > /dev/null 2> "$T/bar-long.err" \
  || { tail -n 20 "$T/bar-long.err" >&2; fail "scale-in --to 2 on bar under long requests"; }
wait "${slow_pids[@]}"
[ "$(web_in_service bar)" = 2 ] && [ "$(state_names bar | wc -w)" = 2 ] || fail "bar has $(state_names bar) after the scale-in, not 2"
for n in 1 2 3 4 5 6 7 8; do
  [ "$(cat "$T/bslow.$n.rc")" = 0 ] || fail "long request $n through the LB server failed: $(cat "$T/bslow.$n.err")"
  whole=0
  for f in "$SLOW_DIR"/bar-web-*.bin; do cmp -s "$T/bslow.$n" "$f" && whole=1; done
  [ $whole = 1 ] || fail "long request $n came back cut short ($(stat -c %s "$T/bslow.$n") bytes)"
done
[ "$(grep -c "instance.drained cluster=bar .*idle" "$T/bar-long.err")" = 2 ] \
  || fail "the victims were not deleted once idle: $(grep "instance.drained" "$T/bar-long.err")"
pass "long requests through the LB server: bar shrank from 4 to 2 while 8 ran (16 KiB at 1 KiB/s), all 8 ended whole; both victims deleted once idle ($((SECONDS - t_long)) s)"

# The LB server deleted behind sclman's back cannot come back in place (its address went with
# it): the next runs make bar-lb-2, the cluster's address becomes its address, and gc forgets
# bar-lb-1 (its stand-in stops).
$API delete bar-lb-1
lb_serving() { bar_q '[.instances[] | select(.role=="lb" and .state=="in_service") | .name] | join(" ")'; }
for _ in $(seq 1 60); do
  sc scale-out --cluster bar >> "$T/bar-lost.log" 2>&1 || true
  [ "$(lb_serving)" = bar-lb-2 ] && break
  sleep 2
done
[ "$(lb_serving)" = bar-lb-2 ] || { tail -n 30 "$T/bar-lost.log" >&2; fail "no new LB server after bar-lb-1 was lost"; }
grep -q 'lb.replaced cluster=bar instance=bar-lb-1' "$T/bar-lost.log" || fail "no lb.replaced for bar-lb-1"
NEW_LB=$(lb_address bar)
[ "$NEW_LB" != "$BAR_LB" ] || fail "bar's address did not change with its LB server"
for _ in $(seq 1 10); do [ "$(lb_applied bar-lb-2)" = "$(bar_serving)" ] && break; sc scale-out --cluster bar > /dev/null 2>&1 || true; sleep 1; done
[ "$(lb_applied bar-lb-2)" = "$(bar_serving)" ] || fail "bar-lb-2 forwards to '$(lb_applied bar-lb-2)', in service '$(bar_serving)'"
curl -fsS "http://$NEW_LB/" | grep -q "sclman web instance bar-web-" || fail "bar-lb-2 does not serve"
sc gc > "$T/bar-gc.log" 2>&1 || true
[ -d "$T/instances/bar-lb-1" ] && fail "gc left bar-lb-1's stand-in"
# bar-lb-2 has its own floating IP; bar-lb-1's, held by no port since Nova deleted its server,
# was deleted by gc.
new_lb_id=$(bar_q '.instances[] | select(.name=="bar-lb-2") | .provider_id')
for _ in $(seq 1 5); do [ "$(bar_fips | wc -w)" = 2 ] && [ "$(bar_fips)" != "$FIP $nova_lb_id" ] && break; sc scale-out --cluster bar > /dev/null 2>&1 || true; done
NEW_FIP=$(bar_fips | cut -d' ' -f1)
[ "$(bar_fips)" = "$NEW_FIP $new_lb_id" ] || fail "floating IPs of bar after the LB was replaced: '$(bar_fips)', want one on bar-lb-2"
grep -q "gc.orphan_floating_ip address=$FIP " "$T/bar-gc.log" && grep -q "orphan_addresses=1 " "$T/bar-gc.log" \
  || fail "gc did not delete bar-lb-1's floating IP $FIP: $(cat "$T/bar-gc.log")"
[ "$(bar_q .public_address)" = "$NEW_FIP:${NEW_LB##*:}" ] || fail "status shows $(bar_q .public_address), not bar-lb-2's $NEW_FIP"
chef_exists /nodes/bar-lb-1 && fail "gc left bar-lb-1's node"
pass "server balancer: bar-lb-1 lost behind sclman's back, replaced by bar-lb-2 at $NEW_LB (floating IP $NEW_FIP; gc deleted $FIP), which serves"

delete_and_wait bar "$T/bar-del.log"
chef_exists /environments/bar && fail "environment bar left behind"
[ -z "$(chef_q /nodes 'keys[] | select(startswith("bar-"))')" ] || fail "bar's nodes left behind"
[ -d "$T/instances/bar-lb-2" ] && fail "the LB server's stand-in was left"
[ -z "$(bar_fips)" ] || fail "floating IPs of bar left behind: $(bar_fips)"
[ -z "$(bar_group)" ] || fail "server group sclman-bar left behind: $(bar_group)"
pass "server balancer: deleted bar, nova (servers, server group, floating IPs) and goiardi hold nothing of it ($((SECONDS - t_server)) s for this scenario)"

# 8. Faults between sclman and Keystone and Nova: a fault proxy in front of each (the Keystone
# one rewrites Nova's URL in the catalog to the Nova one's), reached through a second cloud,
# labf. Faults are queued for given requests (each used once: the queue files end empty) or
# drawn at random at a rate. Nova's 429 and 413 carry Retry-After: 2, so sclman's retries of
# them must log wait_ms=2000. Requests time out after 8 s here; late faults hang for 12 s.
t_faults=$SECONDS
NOVA_PUBLIC=$(curl -fsS -D "$T/ks.headers" -o "$T/ks.token" -H 'Content-Type: application/json' \
  -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"demo","domain":{"name":"Default"},"password":"demo-secret"}}},"scope":{"project":{"name":"demo","domain":{"name":"Default"}}}}}' \
  "$OS_KEYSTONE_URL/v3/auth/tokens" && jq -r '.token.catalog[] | select(.type=="compute") | .endpoints[] | select(.interface=="public") | .url' "$T/ks.token")
NOVA_BASE=$(echo "$NOVA_PUBLIC" | grep -oE '^http://127\.0\.0\.1:[0-9]+') || fail "no nova endpoint on 127.0.0.1 in the catalog: $NOVA_PUBLIC"
: > "$T/novaf.rewrite"
fault_proxy novaf "$NOVA_BASE" 11 12 --retry-after 2 --rewrite-file "$T/novaf.rewrite"
fault_proxy ksf "$OS_KEYSTONE_URL" 11 12 --retry-after 2 \
  --rewrite "$NOVA_BASE/=http://127.0.0.1:$(cat "$T/novaf.port")/"
cloud_entry labf "http://127.0.0.1:$(cat "$T/ksf.port")" >> "$T/osconf/clouds.yaml"
sed -i 's/^request_timeout_ms = 60000$/request_timeout_ms = 8000/' "$SCLMAN_CONFIG"
grep -q '^request_timeout_ms = 8000$' "$SCLMAN_CONFIG" || fail "cannot set the request timeout"
# rush_dups: names Nova holds more than one server of, for cluster rush (must stay empty).
rush_dups() {
  $API servers | jq -r '[.[] | select(.tags | index("sclman:cluster=rush")) | .name] | group_by(.) | map(select(length > 1) | .[0]) | join(" ")'
}
# frun ARGS...: one sclman run through the faults; 0 and 75 (transient: the next run goes on)
# are the only acceptable exit codes.
frun() {
  local rc=0
  sc "$@" >> "$T/faults.out" 2>> "$T/faults.err" || rc=$?
  case $rc in 0|75) ;; *) tail -n 20 "$T/faults.err" >&2; fail "sclman $* exited $rc under faults";; esac
  [ -z "$(rush_dups)" ] || fail "nova holds duplicate servers: $(rush_dups)"
}
# rush_until N RUNS CMD...: run CMD until rush has N web instances in service and nothing booting,
# draining or deleting.
rush_until() {
  local n=$1 runs=$2 k busy
  shift 2
  busy='[.[] | select(.name=="rush") | .instances[] | select(.role=="web" and (.state | test("requested|building|active|bootstrapping|draining|deleting")))] | length'
  for k in $(seq 1 "$runs"); do
    frun "$@"
    [ "$(web_in_service rush)" = "$n" ] && [ "$(status_q "$busy")" = 0 ] && return 0
    sleep 1
  done
  tail -n 30 "$T/faults.err" >&2
  fail "rush did not settle at $n web instances"
}

# Creates: Keystone answers 503 then 429 to the first authentications; Nova 429 and 413 to the
# first creates, then resets the connection after it accepted one, then holds one (longer than
# sclman's timeout) before forwarding it; a look-up by name gets a 500.
printf '%s\n' 'POST /v3/auth/tokens 503' 'POST /v3/auth/tokens 429' > "$T/ksf.queue"
printf '%s\n' 'POST ^/v2.1/servers$ 429' 'POST ^/v2.1/servers$ 413' \
  'POST ^/v2.1/servers$ late_reset' 'GET ^/v2.1/servers/detail 500' \
  'POST ^/v2.1/servers$ late_forward' > "$T/novaf.queue"
frun create-cluster rush --provider openstack --os-cloud labf --listen 127.0.0.1 --flavor m1.tiny --image tiny \
  --network sclnet --web 2 --min 1 --max 4 --metrics sensu
rush_until 2 40 scale-out --cluster rush --cron
[ ! -s "$T/ksf.queue" ] || fail "keystone faults not delivered: $(cat "$T/ksf.queue")"
[ ! -s "$T/novaf.queue" ] || fail "nova faults not delivered: $(cat "$T/novaf.queue")"
grep -qE 'openstack.retry service=keystone attempt=[0-9]+ wait_ms=2000 .*keystone 429' "$T/faults.err" \
  || { grep openstack.retry "$T/faults.err" >&2; fail "keystone's Retry-After not honoured"; }
grep -qE 'openstack.retry service=nova op=create server=rush-web-[0-9]+ attempt=[0-9]+ wait_ms=2000 .*compute 429' "$T/faults.err" \
  || { grep openstack.retry "$T/faults.err" >&2; fail "nova's 429 Retry-After not honoured"; }
grep -qE 'openstack.retry service=nova op=create server=rush-web-[0-9]+ attempt=[0-9]+ wait_ms=2000 .*compute 413' "$T/faults.err" \
  || { grep openstack.retry "$T/faults.err" >&2; fail "nova's 413 Retry-After not honoured"; }
[ "$(grep -c 'openstack.create_unknown server=rush-web-' "$T/faults.err")" -ge 2 ] \
  || fail "the reset and held creates were not treated as of unknown outcome"
grep -q 'openstack.create_lost' "$T/faults.err" && fail "a create nova accepted was taken for lost"
posts_through=$(grep -c '^POST /v2.1/servers ' "$T/novaf.log")
reached=$(grep -cE '^POST /v2.1/servers (-> 202|fault late_(reset|forward) \(upstream 202\))' "$T/novaf.log")
nova_matches_state rush 10 || fail "nova holds $(nova_names rush ACTIVE), the state $(state_names rush)"
[ "$(nova_names rush | wc -w)" = 2 ] && [ "$reached" = 2 ] \
  || fail "nova accepted $reached creates and holds $(nova_names rush) for 2 instances"
pass "faults on create: $posts_through POSTs (429, 413, reset after 202, held past the timeout), $reached accepted, no duplicate; Retry-After 2 s waited as wait_ms=2000; nova holds $(nova_names rush)"

# Bursts: 40 % of Keystone and Nova requests answered 503, 500 or 429 while rush grows to 3 and
# shrinks to 1 (the chain's runs go on through them: exit 0 or 75 only).
echo "40 503,500,429" > "$T/novaf.control"
echo "40 503,500,429" > "$T/ksf.control"
frun scale-out --cluster rush --to 3
rush_until 3 40 scale-out --cluster rush --cron
frun scale-in --cluster rush --to 1
rush_until 1 40 scale-in --cluster rush --cron
echo 0 > "$T/novaf.control"
echo 0 > "$T/ksf.control"
bursts=$(cat "$T/novaf.log" "$T/ksf.log" | grep -cE ' fault (503|500|429)$')
[ "$bursts" -ge 5 ] || fail "only $bursts faults injected in the bursts"
grep -qE 'openstack.retry service=(nova|compute) ' "$T/faults.err" || fail "no nova request was retried"
frun gc
nova_matches_state rush 10 || fail "after the bursts nova holds $(nova_names rush ACTIVE), the state $(state_names rush)"
[ "$(nova_names rush)" = "$(state_names rush)" ] || fail "after gc nova holds '$(nova_names rush)', the state '$(state_names rush)'"
# The state records each server by Nova's id, not only by name.
ids_nova=$($API servers | jq -r '[.[] | select(.tags | index("sclman:cluster=rush")) | "\(.name)=\(.id)"] | sort | join(" ")')
ids_state=$(sqlite3 "$DB" "SELECT i.name || '=' || i.cloud_id FROM instances i JOIN clusters c ON c.id = i.cluster_id
                          WHERE c.name = 'rush' AND i.role = 'web' AND i.state NOT IN ('gone', 'error') ORDER BY i.name" | tr '\n' ' ' | sed 's/ $//')
[ "$ids_nova" = "$ids_state" ] || fail "nova holds '$ids_nova', the state '$ids_state'"
pass "bursts: $bursts faults (503, 500, 429), rush grew to 3 and shrank to 1; no duplicate; nova holds $(nova_names rush), as the state"

# Hostile addresses from Nova (issue 14): while the proxy turns every fixed address in Nova's
# answers into an nginx injection string, rush grows by one. The new server is an error naming
# the value, the LB's upstream list does not change, the instance in service keeps serving
# with the address it entered service with (its own server, read back each run with the
# hostile address, is logged as openstack.address_refused, not taken for lost). With honest
# answers again, the next runs replace the refused one and gc deletes its server.
rush_up=$T/instances/rush-lb-1/conf/upstream.conf
[ -f "$rush_up" ] || fail "no upstream.conf for rush's LB"
up_before=$(md5sum < "$rush_up")
printf '"addr": "10.20.0.\t"addr": "10.20.0.1:80; } server { listen 9999; } #10.20.0.\n' > "$T/novaf.rewrite"
frun scale-out --cluster rush --to 2
hostile=
for _ in $(seq 1 30); do
  hostile=$(status_q '.[] | select(.name=="rush") | .instances[] | select(.state=="error" and (.error | contains("listen 9999"))) | .name' | head -1)
  [ -n "$hostile" ] && break
  frun scale-out --cluster rush --cron
  sleep 1
done
: > "$T/novaf.rewrite"
[ -n "$hostile" ] || { tail -n 20 "$T/faults.err" >&2; fail "no rush instance was refused for its hostile Nova address"; }
status_q ".[] | select(.name==\"rush\") | .instances[] | select(.name==\"$hostile\") | .error" |
  grep -q "10.20.0.1:80; } server { listen 9999; }" || fail "$hostile's error does not quote the value"
[ "$(md5sum < "$rush_up")" = "$up_before" ] || fail "rush's upstream.conf changed for a hostile address: $(cat "$rush_up")"
grep -q "9999" "$rush_up" && fail "the injection string reached rush's upstream.conf"
curl -fsS "http://$(lb_address rush)/" > /dev/null || fail "rush's LB does not serve while $hostile is refused"
[ "$(web_in_service rush)" = 1 ] || fail "rush has $(web_in_service rush) web instances in service, not 1"
grep -q 'openstack.address_refused instance=rush-web-1 error=' "$T/faults.err" ||
  fail "the in-service rush-web-1's refused Nova address was not logged"
rush_until 2 40 scale-out --cluster rush --cron
frun gc
nova_matches_state rush 10 || fail "after the hostile address nova holds $(nova_names rush ACTIVE), the state $(state_names rush)"
pass "hostile Nova address: $hostile refused as an error quoting it, rush's LB config unchanged and serving; replaced once Nova answered honestly, gc deleted its server"

# Deletes through faults: a 503 and a 500 on the DELETEs, a reset after one was accepted.
printf '%s\n' 'DELETE ^/v2.1/servers/ 503' 'DELETE ^/v2.1/servers/ 500' \
  'DELETE ^/v2.1/servers/ late_reset' > "$T/novaf.queue"
frun delete-cluster rush
for _ in $(seq 1 20); do
  [ -z "$(nova_names rush)" ] && [ "$(cluster_status rush)" = deleted ] && break
  frun gc --cron
  sleep 1
done
[ -z "$(nova_names rush)" ] || fail "after delete-cluster nova holds $(nova_names rush)"
[ "$(cluster_status rush)" = deleted ] || fail "rush is $(cluster_status rush), not deleted"
[ ! -s "$T/novaf.queue" ] || fail "delete faults not delivered: $(cat "$T/novaf.queue")"
all=$(cat "$T/novaf.log" "$T/ksf.log" | grep -c ' fault ')
kinds=$(cat "$T/novaf.log" "$T/ksf.log" | grep -oE ' fault [a-z0-9_]+' | awk '{print $2}' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
echo "faults: $all injected ($kinds), $(grep -c . "$T/novaf.log") nova and $(grep -c . "$T/ksf.log") keystone requests through the proxies, $(grep -c 'openstack.retry' "$T/faults.err") retries logged"
pass "faults: delete-cluster through faults left nothing in nova; $all faults in all ($((SECONDS - t_faults)) s for this scenario)"
