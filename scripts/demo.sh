#!/usr/bin/env bash
# The main job end to end on the embedded default (the local provider: real nginx processes on
# 127.0.0.1): build, create a cluster of 2, put load on its LB, run the cron chain (every 3
# seconds here instead of every minute), watch it grow, stop the load, watch it shrink back,
# clean up. Ends by itself within a few minutes. Set SCLMAN_SKIP_DEPS=1 to skip apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/progress.sh
if [ "${SCLMAN_SKIP_DEPS:-0}" != 1 ]; then
  # The demo needs no OpenStack services.
  step "Installing Debian packages (scripts/deps.sh; minutes on a fresh machine)" \
    /tmp/sclman-deps.log env SCLMAN_DEPS_OPENSTACK=no bash scripts/deps.sh
fi
# SCLMAN_DEMO_SCLMAN and SCLMAN_DEMO_LOADGEN (tests/integration/test_readme.sh) run the demo
# with binaries built already instead of building the release preset.
# SCLMAN_DEMO_PHASE_SECONDS (default 240) bounds the growth and the shrink each: the test sets
# more, since it shares two cores with other tests.
phase_limit=${SCLMAN_DEMO_PHASE_SECONDS:-240}
if [ -n "${SCLMAN_DEMO_SCLMAN:-}" ]; then
  S=$SCLMAN_DEMO_SCLMAN
  LOADGEN=${SCLMAN_DEMO_LOADGEN:?set SCLMAN_DEMO_LOADGEN with SCLMAN_DEMO_SCLMAN}
else
  step "Configuring (cmake --preset release)" /tmp/sclman-configure.log cmake --preset release
  step "Building sclman (release preset, $(nproc) jobs)" /tmp/sclman-build.log \
    cmake --build --preset release -j"$(nproc)"
  S=$PWD/build/release/cmd/sclman
  LOADGEN=$PWD/build/release/tests/sclman-loadgen
fi

D=$(mktemp -d /tmp/sclman-demo.XXXXXX)
export SCLMAN_CONFIG=$D/sclman.conf
install -m 600 /dev/null "$SCLMAN_CONFIG"  # sclman refuses a config others may read
cat > "$SCLMAN_CONFIG" <<CONF
# Demo settings: thresholds in requests per second per web instance, short cooldown and drain.
[MANAGER]
man_sensitivity = 2
man_high_load = 150
man_low_load = 20
man_cooldown = 5
man_drain_seconds = 3
[STATE]
path = $D/sclman.db
[LOG]
level = warn
CONF
load_pid=""
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  "$S" delete-cluster demo > /dev/null 2>&1 || true
  rm -rf "$D"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
tick() {
  "$S" poll-load --cron || true
  "$S" decide --cron
  "$S" scale-out --cron
  "$S" scale-in --cron
  "$S" gc --cron
  "$S" status demo --json | jq -r --arg t "$1" '.[0] |
    "t=\($t)s  in service \(.size)  booting \(.booting)  desired \(.desired)  last decision: " +
    (if .last_decision then "\(.last_decision.action) \(.last_decision.from)->\(.last_decision.to) (\(.last_decision.reason))" else "-" end)'
  sqlite3 "$D/sclman.db" "SELECT '        load per instance: ' || group_concat(i.name || '=' || printf('%.0f', s.value), '  ')
    FROM load_samples s JOIN instances i ON i.id = s.instance_id
    WHERE s.ts = (SELECT max(ts) FROM load_samples) AND s.value IS NOT NULL"
}

say "sclman $("$S" --version | cut -d' ' -f2-)"
say "create-cluster demo --web 2 --min 2 --max 4 (state and instances in $D)"
"$S" create-cluster demo --web 2 --min 2 --max 4
LB=$("$S" status demo --json | jq -r '.[0].lb_address')
say "the LB at http://$LB/ answers:"
curl -fsS "http://$LB/"

say "load: 1500 requests per second at the LB, one connection per request (high mark: 150 per instance)"
"$LOADGEN" --url "http://$LB/" --concurrency 6 --rate 1500 --duration 900 > "$D/load.json" &
load_pid=$!
start=$(date +%s)
while :; do
  sleep 3
  now=$(( $(date +%s) - start ))
  tick "$now"
  size=$("$S" status demo --json | jq '.[0].size')
  if [ "$size" -ge 4 ]; then break; fi
  if [ "$now" -ge "$phase_limit" ]; then echo "did not grow to 4 within $phase_limit s"; exit 1; fi
done
sleep 3
kill -INT "$load_pid" 2>/dev/null || true; wait "$load_pid" || true; load_pid=""
say "load stopped: $(jq -c '{requests, ok, non_200, errors, by_instance}' "$D/load.json")"

say "no load: the cluster shrinks back to its minimum of 2"
start=$(date +%s)
while :; do
  sleep 3
  now=$(( $(date +%s) - start ))
  tick "$now"
  st=$("$S" status demo --json)
  if [ "$(jq '.[0].size' <<< "$st")" -le 2 ] && \
     [ "$(jq '[.[0].instances[] | select(.state=="draining" or .state=="deleting")] | length' <<< "$st")" = 0 ]; then
    break
  fi
  if [ "$now" -ge "$phase_limit" ]; then echo "did not shrink within $phase_limit s"; exit 1; fi
done

say "status"
"$S" status demo --all
say "decisions that changed the size"
sqlite3 -column -header "$D/sclman.db" "SELECT datetime(ts/1000, 'unixepoch') AS time, action, from_size AS 'from', to_size AS 'to', reason, status FROM decisions WHERE action != 'hold'"
say "delete-cluster demo"
"$S" delete-cluster demo
