#!/usr/bin/env bash
# Faults from the services: the cron chain runs many times with tests/support/fault_proxy.py
# between sclman and the real Chef server (goiardi) and the Sensu Go fake, injecting 500, 502,
# 503, 429 with Retry-After, connection resets, timeouts, slow and truncated bodies, invalid
# JSON and "acted then failed" answers at 10, 30, 60 and 100 % of requests. Counted: runs,
# faults injected, duplicates (an instance created twice, or two nginx for one instance: must be
# 0), runs over the deadline (must be 0), and, once the faults stop and the chain has run
# again, orphans (Chef nodes or clients, nginx processes or instance directories without a live
# instance: must be 0) and convergence (size within [min, max], Chef, the LB and the state
# agree). FAULT_ROUNDS (default 3) rounds per rate.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/goiardi.sh"

trap 'rc=$?; goiardi_stop; cleanup $rc' EXIT

ROUNDS=${FAULT_ROUNDS:-3}
DEADLINE=15

goiardi_start "$T/goiardi"
chef_upload_roles
echo '[]' > "$T/go.json"
start_fake go --api-key faults-key

fault_proxy chef "$GOIARDI_URL" 7 4
fault_proxy sensu "http://127.0.0.1:$(cat "$T/go.port")" 7 4
set_rate() { echo "$1" > "$T/chef.control"; echo "$1" > "$T/sensu.control"; }

write_config "man_drain_seconds = 1
man_cooldown = 0
man_sensitivity = 1
man_run_deadline = $DEADLINE"
cat >> "$SCLMAN_CONFIG" <<CONF
[METRICS]
max_age = 120
[SENSU]
timeout_ms = 1500
[SENSU_GO]
url = http://127.0.0.1:$(cat "$T/sensu.port")
api_key = faults-key
CONF
GOIARDI_URL_DIRECT=$GOIARDI_URL
GOIARDI_URL=http://127.0.0.1:$(cat "$T/chef.port") chef_config "register_timeout = 600
request_timeout_ms = 1500"

# Sensu Go events for every web instance the cluster may have, at load $1.
load() {
  local now n first=1
  now=$(date +%s)
  {
    echo "["
    for n in $(seq 1 40); do
      [ $first = 1 ] || echo ","
      first=0
      jq -cn --arg e "shop-web-$n" --arg o "load | load1=$1" --argjson t "$now" \
        '{check: {metadata: {name: "load"}, output: $o, status: 0, executed: $t},
          entity: {metadata: {name: $e}}, timestamp: $t}'
    done
    echo "]"
  } > "$T/go.json.tmp"
  mv "$T/go.json.tmp" "$T/go.json"
}

load 100
sc create-cluster shop --web 2 --min 1 --max 4 --bootstrapper chef --balancer chef-search \
  --metrics sensu_go > /dev/null 2> "$T/create.err" || { cat "$T/create.err"; fail "create-cluster"; }

runs=0
max_ms=0
over=0
dups=0
bad_exit=0
# cmd ARGS...: one cron run; counts it, its time against the deadline, and bad exit codes.
cmd() {
  local rc=0 t0 t1
  t0=$(date +%s%N)
  "$SCLMAN" "$@" --cron --state "$DB" >> "$T/runs.out" 2>> "$T/runs.err" || rc=$?
  t1=$(date +%s%N)
  runs=$((runs + 1))
  [ $(( (t1 - t0) / 1000000 )) -le $max_ms ] || max_ms=$(( (t1 - t0) / 1000000 ))
  # The deadline bounds the work; process start-up under ASan on a loaded 2-core machine is
  # outside it, hence the margin.
  if [ $(( (t1 - t0) / 1000000 )) -gt $(( (DEADLINE + 10) * 1000 )) ]; then
    over=$((over + 1))
    echo "over deadline: $* took $(( (t1 - t0) / 1000000 )) ms" >&2
  fi
  case $rc in
    0|75|76) ;;
    *) bad_exit=$((bad_exit + 1)); echo "sclman $* exited $rc" >&2; tail -3 "$T/runs.err" >&2 ;;
  esac
}
# Duplicates now: an instance created twice (journal), or two nginx masters for one prefix.
count_dups() {
  local d
  d=$(sqlite3 "$DB" "SELECT count(*) FROM (SELECT instance FROM journal WHERE op='create_server' AND status='done' GROUP BY cluster, instance HAVING count(*) > 1)")
  dups=$((dups + d))
  d=$(pgrep -af "nginx: master process .* -p $T/instances/" | grep -oE -- "-p $T/instances/[^ ]+" | sort | uniq -d | wc -l)
  dups=$((dups + d))
}
chain_once() {
  cmd poll-load
  cmd decide
  cmd scale-out
  cmd scale-in
  cmd gc
  count_dups
}

for rate in 10 30 60 100; do
  set_rate "$rate"
  for r in $(seq 1 "$ROUNDS"); do
    # Load swings so that the cluster grows, then shrinks, under the faults at each rate.
    # Manual resizes too, so that creates and deletes (with their Chef calls) meet the faults
    # whatever the policy decides.
    if [ "$r" = 1 ]; then
      load 900
      cmd scale-out --cluster shop --to 3
    else
      load 5
      cmd scale-in --cluster shop --to 1
    fi
    chain_once
  done
  echo "rate $rate %: $runs runs so far, faults $(cat "$T/chef.log" "$T/sensu.log" | grep -c ' fault ')"
done

set_rate 0
load 100
faults=$(cat "$T/chef.log" "$T/sensu.log" | grep -c ' fault ' || true)
kinds=$(cat "$T/chef.log" "$T/sensu.log" | grep -oE ' fault [a-z0-9_]+' | awk '{print $2}' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')

# After the faults: the chain converges.
GOIARDI_URL=$GOIARDI_URL_DIRECT
live() { sqlite3 "$DB" "SELECT name FROM instances WHERE state NOT IN ('gone') ORDER BY name" | tr '\n' ' ' | sed 's/ $//'; }
converged() {
  local nodes clients in_service size lb_want lb_got
  nodes=$(chef_q /environments/shop/nodes 'keys[]' | sort | tr '\n' ' ' | sed 's/ $//')
  clients=$(chef_q /clients 'keys[] | select(startswith("shop-"))' | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$nodes" = "$(live)" ] && [ "$clients" = "$(live)" ] || return 1
  [ -z "$(sqlite3 "$DB" "SELECT name FROM instances WHERE state NOT IN ('gone','in_service')")" ] || return 1
  size=$(web_in_service shop)
  [ "$size" -ge 1 ] && [ "$size" -le 4 ] || return 1
  lb_want=$(sqlite3 "$DB" "SELECT address FROM instances WHERE role='web' AND state='in_service' ORDER BY address" | tr '\n' ' ')
  lb_got=$(awk '$1=="server" && !/ down;/ {print $2}' "$T/instances/shop-lb-1/conf/upstream.applied" | tr -d ';' | sort | tr '\n' ' ')
  [ "$lb_want" = "$lb_got" ] || return 1
  return 0
}
ok=0
for k in $(seq 1 15); do
  chain_once
  if converged; then ok=1; break; fi
  sleep 1
done
[ $ok = 1 ] || { sc status --json; echo "live: $(live)"; fail "did not converge after the faults stopped"; }

# Orphans: Chef objects, nginx processes and instance directories without a live instance.
count_orphans() {
  local n d p live_names
  orphans=0
  live_names=" $(live) "
  for n in $(chef_q /nodes 'keys[] | select(startswith("shop-"))') $(chef_q /clients 'keys[] | select(startswith("shop-"))'); do
    [[ "$live_names" == *" $n "* ]] || { orphans=$((orphans + 1)); echo "orphan chef object $n" >&2; }
  done
  for d in "$T"/instances/*/; do
    [ -d "$d" ] || continue
    n=$(basename "$d")
    [[ "$live_names" == *" $n "* ]] || { orphans=$((orphans + 1)); echo "orphan instance directory $n" >&2; }
  done
  for p in $(pgrep -f "nginx: master process .* -p $T/instances/" || true); do
    n=$(tr '\0' ' ' < "/proc/$p/cmdline" | grep -oE "instances/[^/ ]+" | head -1 | cut -d/ -f2)
    [[ "$live_names" == *" $n "* ]] || { orphans=$((orphans + 1)); echo "orphan nginx $p ($n)" >&2; }
  done
}
count_orphans
final_orphans=$orphans

# The counters can fail: a planted orphan client and directory, and a second create of one
# instance in the journal, are counted.
chef_api POST /clients '{"name":"shop-web-97","admin":false}' > /dev/null
mkdir "$T/instances/shop-web-98"
count_orphans 2> /dev/null
[ "$orphans" = 2 ] || fail "planted orphans counted as $orphans, want 2"
chef_api DELETE /clients/shop-web-97 > /dev/null
rmdir "$T/instances/shop-web-98"
final_dups=$dups
sqlite3 "$DB" "INSERT INTO journal (ts, cluster, instance, op, status) SELECT ts, cluster, instance, op, status FROM journal WHERE op='create_server' AND status='done' LIMIT 1"
count_dups
[ "$dups" -gt "$final_dups" ] || fail "a planted duplicate create was not counted"
dups=$final_dups
orphans=$final_orphans

creates=$(sqlite3 "$DB" "SELECT count(*) FROM journal WHERE op='create_server' AND status='done'")
deletes=$(sqlite3 "$DB" "SELECT count(*) FROM journal WHERE op='delete_server' AND status='done'")
echo "faults: creates=$creates deletes=$deletes longest_run_ms=$max_ms (deadline ${DEADLINE}000)"
echo "faults: runs=$runs faults_injected=$faults ($kinds) duplicates=$dups orphans=$orphans over_deadline=$over bad_exit=$bad_exit size=$(web_in_service shop)"
[ "$dups" = 0 ] || fail "$dups duplicates"
[ "$orphans" = 0 ] || fail "$orphans orphans"
[ "$over" = 0 ] || fail "$over runs over the deadline"
[ "$bad_exit" = 0 ] || fail "$bad_exit runs exited with an unexpected code"
[ "$faults" -gt 0 ] || fail "no fault was injected"
pass "faults: $runs runs, $faults faults injected, 0 duplicates, 0 orphans, 0 over deadline; converged"
