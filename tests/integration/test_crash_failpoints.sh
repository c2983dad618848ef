#!/usr/bin/env bash
# Crash consistency: for every failpoint compiled into sclman (between an intent, its side effect
# and its recording), run a scenario that passes it with SCLMAN_FAILPOINTS set, so that the
# process is SIGKILLed right there; then let the normal chain repair and check the invariants:
# no orphaned process or directory, no LB backend that is not an instance in service, no
# duplicate instance, the size within [min, max], no committed load sample lost, no rollout
# left running.
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 1
man_sensitivity = 1000"
sed -i 's/^man_drain_seconds = 2$//' "$SCLMAN_CONFIG"

mapfile -t failpoints < <(grep -rhoE 'SCLMAN_FAILPOINT(_TRY)?\("[a-z_.]+"\)' "$SCLMAN_SOURCE_DIR/lib" "$SCLMAN_SOURCE_DIR/cmd" \
  | sed -E 's/.*\("(.*)"\)/\1/' | sort -u)
[ ${#failpoints[@]} -ge 10 ] || fail "found only ${#failpoints[@]} failpoints"

fp=""
fired=0
# Run one scenario step: with the failpoint armed until it fires.
step() {
  local rc=0
  if [ $fired = 0 ]; then
    SCLMAN_FAILPOINTS=$fp "$SCLMAN" "$@" --state "$DB" > "$T/step.out" 2> "$T/step.err" || rc=$?
    if [ $rc = 137 ]; then
      fired=1
      echo "  killed at $fp during: $*"
      recover
      return 0
    fi
  else
    "$SCLMAN" "$@" --state "$DB" > "$T/step.out" 2> "$T/step.err" || rc=$?
  fi
  [ $rc = 0 ] || [ $rc = 75 ] || { cat "$T/step.err" >&2; fail "[$fp] sclman $* exited $rc"; }
}

recover() {
  local status
  status=$(sqlite3 "$DB" "SELECT status FROM clusters WHERE name='shop' AND status != 'deleted'")
  if [ "$status" = creating ]; then
    sc create-cluster shop --web 2 --min 1 --max 4 > /dev/null 2>&1 || fail "[$fp] create-cluster did not resume"
  fi
  chain > /dev/null 2>&1 || true
  sleep 1.2
  chain > /dev/null 2>&1 || true
  # A rollout the kill interrupted: the chain carries it on to its end.
  for _ in $(seq 1 30); do
    [ -z "$(sqlite3 "$DB" "SELECT id FROM rollouts WHERE status = 'running'" 2>/dev/null)" ] && break
    sleep 0.6
    chain > /dev/null 2>&1 || true
  done
  if [ -n "$status" ] && [ "$status" != deleting ]; then
    check_invariants
  fi
}

# Instance names the state knows as not gone.
live_names() {
  sqlite3 "$DB" "SELECT name FROM instances WHERE state != 'gone'" | sort
}

check_invariants() {
  local live dirs name pidfile pid addr
  live=$(live_names)
  # No orphaned directory, no duplicate: every directory is a live instance's, once.
  dirs=$(ls "$T/instances" 2>/dev/null | sort)
  for name in $dirs; do
    echo "$live" | grep -x "$name" > /dev/null || fail "[$fp] orphan directory $name"
  done
  # No orphaned process: every nginx master below our root belongs to a live instance.
  for pid in $(pgrep -f "nginx: master process .* -p $T/instances/" || true); do
    alive "$pid" || continue
    name=$(tr '\0' ' ' < "/proc/$pid/cmdline" | sed -E "s|.* -p $T/instances/([^/]+)/.*|\1|")
    echo "$live" | grep -x "$name" > /dev/null || fail "[$fp] orphan nginx $pid ($name)"
  done
  # The LB forwards exactly to in-service web instances whose process runs.
  local applied="$T/instances/shop-lb-1/conf/upstream.applied"
  [ -f "$applied" ] || fail "[$fp] LB never applied a list"
  for addr in $(awk '$1=="server" && !/ down;/ {print $2}' "$applied"); do
    name=$(sqlite3 "$DB" "SELECT name FROM instances WHERE address='$addr' AND role='web' AND state='in_service'")
    [ -n "$name" ] || fail "[$fp] LB forwards to $addr, which is no instance in service"
    pidfile="$T/instances/$name/logs/nginx.pid"
    alive "$(cat "$pidfile" 2>/dev/null || echo 0)" || fail "[$fp] LB forwards to $name, whose nginx is gone"
  done
  local in_lb in_service desired
  in_lb=$(awk '$1=="server" && !/ down;/' "$applied" | wc -l)
  in_service=$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE role='web' AND state='in_service'")
  desired=$(sqlite3 "$DB" "SELECT desired FROM clusters WHERE name='shop' AND status!='deleted'")
  [ "$in_lb" = "$in_service" ] || fail "[$fp] LB has $in_lb backends, $in_service in service"
  [ "$in_service" = "$desired" ] || fail "[$fp] $in_service in service, desired $desired"
  [ "$in_service" -ge 1 ] && [ "$in_service" -le 4 ] || fail "[$fp] size $in_service outside [1, 4]"
  local samples
  samples=$(sqlite3 "$DB" "SELECT count(*) FROM load_samples")
  [ "$samples" -ge "$samples_committed" ] || fail "[$fp] load samples lost: $samples < $samples_committed"
  [ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ] || fail "[$fp] integrity check"
  [ -z "$(sqlite3 "$DB" "SELECT id FROM rollouts WHERE status = 'running'")" ] || fail "[$fp] a rollout still runs"
}

runs=0
for fp in "${failpoints[@]}"; do
  fired=0
  samples_committed=0
  stop_our_nginx
  sleep 0.2
  rm -rf "$T/instances" "$DB" "$DB-wal" "$DB-shm"
  step create-cluster shop --web 2 --min 1 --max 4
  step poll-load
  step poll-load
  samples_committed=$(sqlite3 "$DB" "SELECT count(*) FROM load_samples" 2>/dev/null || echo 0)
  step scale-out --cluster shop --to 3
  # A web instance dies: the next scale-out replaces it, gc cleans it up.
  pidfile=$(ls "$T"/instances/shop-web-1/logs/nginx.pid 2>/dev/null || true)
  if [ -n "$pidfile" ]; then
    master=$(cat "$pidfile")
    kill -KILL $(ps -o pid= --ppid "$master" 2>/dev/null) "$master" 2>/dev/null || true
  fi
  step scale-out
  step gc
  # The state forgets a live instance: gc stops the orphan, scale-out restores the size.
  victim=$(sqlite3 "$DB" "SELECT name FROM instances WHERE role='web' AND state='in_service' ORDER BY serial DESC LIMIT 1")
  sqlite3 "$DB" "UPDATE instances SET state='gone' WHERE name='$victim'"
  step gc
  step scale-out
  # A rolling replacement of the three web instances in one batch.
  step replace shop --image v2 --batch 3 --wait
  step scale-in --cluster shop --to 1 --wait
  [ $fired = 1 ] || check_invariants
  step delete-cluster shop
  if [ $fired = 1 ]; then
    # Whatever was interrupted, two more gc runs and a delete-cluster finish the cluster.
    sc gc > /dev/null 2>&1 || true
    if [ -n "$(sqlite3 "$DB" "SELECT name FROM clusters WHERE status != 'deleted'")" ]; then
      sc delete-cluster shop > /dev/null 2>&1 || fail "[$fp] delete-cluster did not finish"
    fi
  fi
  [ $fired = 1 ] || fail "failpoint $fp was never reached by the scenario"
  [ -z "$(ls "$T/instances" 2>/dev/null)" ] || fail "[$fp] left directories: $(ls "$T/instances")"
  [ -z "$(live_names)" ] || fail "[$fp] left instances: $(live_names)"
  for pid in $(pgrep -f "nginx: master process .* -p $T/instances/" || true); do
    alive "$pid" && fail "[$fp] left nginx $pid running"
  done
  runs=$((runs + 1))
done
pass "$runs failpoints, each killed once and repaired by the chain"
