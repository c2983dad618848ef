# Crash consistency at every failpoint, shared by test_crash_failpoints.sh (SQLite, one host) and
# test_postgresql_crash_failpoints.sh (PostgreSQL, two hosts). For every failpoint compiled into
# sclman (between an intent, its side effect and its recording), a scenario runs on host A with
# SCLMAN_FAILPOINTS set, so that its process is SIGKILLed right there; then host B's chain
# repairs, and the invariants are checked: no orphaned process or directory, no LB backend that
# is not an instance in service, no duplicate instance, the size within [min, max], no committed
# load sample lost, no rollout left running.
#
# The test defines, before sourcing this file after lib.sh:
#   A_ARGS     the arguments every command of host A gets (its state);
#   on_b       a function: sclman ARGS... as host B;
#   chain_b    a function: host B's cron chain, once;
#   dbq SQL    print the rows of SQL on the state, one per line, columns joined by |;
#   db_reset   make the state empty (no cluster, no row);
#   db_check   the database's own consistency check (true when it passes).
# Instances live in $T/instances. Then it calls run_crash_scenarios.

mapfile -t failpoints < <(grep -rhoE 'SCLMAN_FAILPOINT(_TRY)?\("[a-z_.]+"\)' "$SCLMAN_SOURCE_DIR/lib" "$SCLMAN_SOURCE_DIR/cmd" \
  | sed -E 's/.*\("(.*)"\)/\1/' | sort -u)
[ ${#failpoints[@]} -ge 10 ] || fail "found only ${#failpoints[@]} failpoints"

fp=""
fired=0
# Run one scenario step: with the failpoint armed until it fires.
step() {
  local rc=0
  if [ $fired = 0 ]; then
    SCLMAN_FAILPOINTS=$fp "$SCLMAN" "$@" "${A_ARGS[@]}" > "$T/step.out" 2> "$T/step.err" || rc=$?
    if [ $rc = 137 ]; then
      fired=1
      echo "  killed at $fp during: $*"
      recover
      return 0
    fi
  else
    "$SCLMAN" "$@" "${A_ARGS[@]}" > "$T/step.out" 2> "$T/step.err" || rc=$?
  fi
  [ $rc = 0 ] || [ $rc = 75 ] || { cat "$T/step.err" >&2; fail "[$fp] sclman $* exited $rc"; }
}

recover() {
  local status
  status=$(dbq "SELECT status FROM clusters WHERE name='shop' AND status != 'deleted'")
  if [ "$status" = creating ]; then
    on_b create-cluster shop --web 2 --min 1 --max 4 > /dev/null 2>&1 || fail "[$fp] create-cluster did not resume"
  fi
  chain_b > /dev/null 2>&1 || true
  sleep 1.2
  chain_b > /dev/null 2>&1 || true
  # A rollout the kill interrupted: the chain carries it on to its end.
  for _ in $(seq 1 30); do
    [ -z "$(dbq "SELECT id FROM rollouts WHERE status = 'running'" 2>/dev/null)" ] && break
    sleep 0.6
    chain_b > /dev/null 2>&1 || true
  done
  if [ -n "$status" ] && [ "$status" != deleting ]; then
    check_invariants
  fi
}

# Instance names the state knows as not gone.
live_names() {
  dbq "SELECT name FROM instances WHERE state != 'gone'" | sort
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
    name=$(dbq "SELECT name FROM instances WHERE address='$addr' AND role='web' AND state='in_service'")
    [ -n "$name" ] || fail "[$fp] LB forwards to $addr, which is no instance in service"
    pidfile="$T/instances/$name/logs/nginx.pid"
    alive "$(cat "$pidfile" 2>/dev/null || echo 0)" || fail "[$fp] LB forwards to $name, whose nginx is gone"
  done
  local in_lb in_service desired
  in_lb=$(awk '$1=="server" && !/ down;/' "$applied" | wc -l)
  in_service=$(dbq "SELECT count(*) FROM instances WHERE role='web' AND state='in_service'")
  desired=$(dbq "SELECT desired FROM clusters WHERE name='shop' AND status!='deleted'")
  [ "$in_lb" = "$in_service" ] || fail "[$fp] LB has $in_lb backends, $in_service in service"
  [ "$in_service" = "$desired" ] || fail "[$fp] $in_service in service, desired $desired"
  [ "$in_service" -ge 1 ] && [ "$in_service" -le 4 ] || fail "[$fp] size $in_service outside [1, 4]"
  local samples
  samples=$(dbq "SELECT count(*) FROM load_samples")
  [ "$samples" -ge "$samples_committed" ] || fail "[$fp] load samples lost: $samples < $samples_committed"
  db_check || fail "[$fp] the database's own check"
  [ -z "$(dbq "SELECT id FROM rollouts WHERE status = 'running'")" ] || fail "[$fp] a rollout still runs"
}

run_crash_scenarios() {
  runs=0
  for fp in "${failpoints[@]}"; do
    fired=0
    samples_committed=0
    stop_our_nginx
    sleep 0.2
    rm -rf "$T/instances"
    db_reset
    step create-cluster shop --web 2 --min 1 --max 4
    step poll-load
    step poll-load
    samples_committed=$(dbq "SELECT count(*) FROM load_samples" 2>/dev/null || echo 0)
    step scale-out --cluster shop --to 3
    # A web instance dies: the next scale-out replaces it, gc cleans it up.
    kill_nginx shop-web-1 --if-running
    step scale-out
    step gc
    # The state forgets a live instance: gc stops the orphan, scale-out restores the size.
    victim=$(dbq "SELECT name FROM instances WHERE role='web' AND state='in_service' ORDER BY serial DESC LIMIT 1")
    dbq "UPDATE instances SET state='gone' WHERE name='$victim'"
    step gc
    step scale-out
    # A rolling replacement of the three web instances in one batch.
    step replace shop --image v2 --batch 3 --wait
    step scale-in --cluster shop --to 1 --wait
    [ $fired = 1 ] || check_invariants
    step delete-cluster shop
    if [ $fired = 1 ]; then
      # Whatever was interrupted, two more gc runs and a delete-cluster finish the cluster.
      on_b gc > /dev/null 2>&1 || true
      if [ -n "$(dbq "SELECT name FROM clusters WHERE status != 'deleted'")" ]; then
        on_b delete-cluster shop > /dev/null 2>&1 || fail "[$fp] delete-cluster did not finish"
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
}
