#!/usr/bin/env bash
# bench/two_hosts_bench.sh: the chain's time per tick at 1,000 clusters of 10 web instances
# (10,000 instances) on each state backend, and how fast the database grows per day of history.
#
#   SCLMAN=build/release/cmd/sclman bash bench/two_hosts_bench.sh
#   CLUSTERS=100 TICKS=3 SCLMAN=... bash bench/two_hosts_bench.sh   (a quick run)
#   SETUPS="postgresql:1" PG_DURABLE=0 SCLMAN=... bash bench/two_hosts_bench.sh   (one setup,
#   PostgreSQL without fsync or synchronous_commit)
#
# Setups, each from an empty state: SQLite, one host (a state file is one host's); PostgreSQL,
# one host; PostgreSQL, two hosts (two state directories, one database), whose chains run each
# tick at the same moment and share the clusters (docs/TWO-HOSTS.md). A tick is what the cron
# chain runs but scale-out: poll-load, decide and scale-in, each with --cron, timed on each host
# as the wall time of the three; TICKS ticks, the first one untimed. scale-out is left out: it
# checks that each instance's own nginx master runs (the local provider), and these instances
# are rows pointing at shared ports, so it would find them all dead and replace them.
# On PostgreSQL, each timed tick also counts the server's WAL flushes (pg_stat_wal.wal_sync):
# each is a commit that waited for the disk.
# Then the state's size is measured before and after GROWTH_TICKS more ticks of poll-load and
# decide, and the growth per tick is scaled to a day of one tick a minute (1,440 ticks).
#
# What is real: the sclman binary, its SQLite file (WAL) and Debian's PostgreSQL 15 with its
# durable defaults (fsync on; PG_DURABLE=1 of tests/support/postgresql.sh), on 127.0.0.1;
# Debian's prometheus scraping a node_exporter whose textfile collector serves one load series
# per instance (the poll); ten nginx processes with stub_status, each listening on 1,000
# loopback ports (the instances' addresses). What is fake: the
# clusters and instances, inserted as in_service rows pointing at those ports (no LB, no
# per-instance nginx). The load is steady and between the thresholds, so every decision holds:
# the time is the chain's bookkeeping, not the cloud's.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
SCLMAN=${SCLMAN:?set SCLMAN to a release build of sclman (cmake --preset release)}
CLUSTERS=${CLUSTERS:-1000}
TICKS=${TICKS:-6}
GROWTH_TICKS=${GROWTH_TICKS:-10}
PORT_BASE=${PORT_BASE:-20000}
NGINX=${NGINX:-/usr/sbin/nginx}
n=$((CLUSTERS * 10))
SETUPS=${SETUPS:-sqlite:1 postgresql:1 postgresql:2}
for setup in $SETUPS; do
  case $setup in
    sqlite:1|postgresql:[1-9]) ;;
    *) echo "SETUPS: '$setup' is not sqlite:1 or postgresql:HOSTS (1 to 9)" >&2; exit 64 ;;
  esac
done

T=$(mktemp -d /tmp/sclman-bench2.XXXXXX)
chmod 755 "$T"
PIDS=()
. "$here/tests/support/postgresql.sh"
cleanup() {
  local pid f
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for f in "$T"/nginx-*/nginx.pid; do
    [ -f "$f" ] && kill -QUIT "$(cat "$f")" 2>/dev/null || true
  done
  pg_stop
  sleep 0.5
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

. "$here/bench/fixtures.sh"

# write_config FILE STATE_PATH [URL]: the config of one host.
write_config() {
  install -m 600 /dev/null "$1"
  cat > "$1" <<CONF
[MANAGER]
man_high_load = 1000
man_low_load = 1
man_run_deadline = 300
[STATE]
path = $2
${3:+url = $3}
[METRICS]
source = prometheus
max_age = 600
parallel = 64
[HEALTH]
path = /nginx_status
[LOCAL]
health_timeout_ms = 5000
[PROMETHEUS]
url = $PROM
query = sclman_bench_load
label = sclman_instance
match = name
CONF
}

# fill CONFIG: the schema (through sclman), then the clusters and instances, in SQL that both
# backends take, through sqlite3 or psql.
fill() {
  local config=$1 sql=$T/fill.sql policy now
  "$SCLMAN" status --config "$config" > /dev/null
  policy=$("$SCLMAN" create-cluster tmpl --web 10 --max 20 --dry-run --config "$config" 2> /dev/null \
             | sed -n 's/.* policy \({.*}\)$/\1/p')
  [ -n "$policy" ] || { echo "cannot get a policy" >&2; exit 1; }
  now=$(( $(date +%s) * 1000 - 3600000 ))
  python3 - "$CLUSTERS" "$policy" "$PORT_BASE" "$now" > "$sql" <<'PY'
import sys
clusters, policy, base, now = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
q = lambda s: "'" + s.replace("'", "''") + "'"
print("BEGIN;")
for c in range(clusters):
    print("INSERT INTO clusters (name, provider, bootstrapper, balancer, metrics, policy, desired,"
          f" status, created_at) VALUES ('c{c:04d}', 'local', 'local', 'nginx', 'prometheus',"
          f" {q(policy)}, 10, 'active', {now});")
    rows = ", ".join(
        f"((SELECT id FROM clusters WHERE name = 'c{c:04d}'), 'web', {s}, 'c{c:04d}-web-{s}',"
        f" '127.0.0.1:{base + c * 10 + s - 1}', 'in_service', {now}, {now}, {now})"
        for s in range(1, 11))
    print("INSERT INTO instances (cluster_id, role, serial, name, address, state, created_at,"
          f" state_since, in_service_since) VALUES {rows};")
print("COMMIT;")
PY
  if [ -n "${DBNAME:-}" ]; then
    pg_psql "$DBNAME" -f "$sql" > /dev/null
  else
    sqlite3 "$STATE" < "$sql"
  fi
}

# tick CONFIG...: one tick of the chain on each host at once; prints each host's wall seconds.
tick() {
  local config k=0
  for config in "$@"; do
    k=$((k + 1))
    (
      s=$(date +%s%N)
      for step in poll-load decide scale-in; do
        "$SCLMAN" "$step" --cron --config "$config" 2>> "$T/host-$k.err" \
          || echo "$step failed on host $k: $(tail -2 "$T/host-$k.err")" >&2
      done
      echo "$(( ($(date +%s%N) - s) / 1000000 ))" > "$T/tick-$k"
    ) &
  done
  wait
  k=0
  for config in "$@"; do
    k=$((k + 1))
    printf '%s ' "$(awk '{printf "%.2f", $1 / 1000}' "$T/tick-$k")"
  done
  echo
}

# size: the state's size in bytes (SQLite: the file after a checkpoint; PostgreSQL: the
# database).
size() {
  if [ -n "${DBNAME:-}" ]; then
    pg_psql "$DBNAME" -tAc "CHECKPOINT; SELECT pg_database_size(current_database())" | tail -1
  else
    sqlite3 "$STATE" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
    stat -c %s "$STATE"
  fi
}

# flushes: how many times PostgreSQL has synced its WAL to disk so far (pg_stat_wal, the whole
# server: the bench's database is the only one in use), each a commit waiting for the disk;
# 0 on SQLite.
flushes() {
  if [ -n "${DBNAME:-}" ]; then
    sleep 0.3  # a backend's statistics reach the view when it exits
    pg_psql "$DBNAME" -tAc "SELECT wal_sync FROM pg_stat_wal" | tail -1
  else
    echo 0
  fi
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# run NAME HOSTS: one setup from an empty state; prints its table row.
run() {
  local name=$1 hosts=$2 configs=() h t growth_start growth_end
  if [ "$name" = sqlite ]; then
    DBNAME=
    STATE=$T/sqlite/sclman.db
    mkdir -p "$T/sqlite"
    write_config "$T/sqlite.conf" "$STATE"
    configs=("$T/sqlite.conf")
  else
    DBNAME=bench_${name//-/_}_$hosts
    pg_createdb "$DBNAME" > /dev/null
    for h in $(seq 1 "$hosts"); do
      mkdir -p "$T/$DBNAME-$h"
      write_config "$T/$DBNAME-$h.conf" "$T/$DBNAME-$h/sclman.db" \
        "host=127.0.0.1 port=$PG_PORT dbname=$DBNAME user=sclman"
      configs+=("$T/$DBNAME-$h.conf")
    done
  fi
  fill "${configs[0]}"
  : > "$T/ticks"
  : > "$T/flushes"
  for t in $(seq 1 "$TICKS"); do
    # Each tick in a slot of its own (the hosts' claims are per slot of 60 s).
    sleep $((60 - $(date +%s) % 60)).2
    f0=$(flushes)
    line=$(tick "${configs[@]}")
    f1=$(flushes)
    [ "$t" = 1 ] || { echo "$line" >> "$T/ticks"; echo $((f1 - f0)) >> "$T/flushes"; }
  done
  local per_host=""
  for h in $(seq 1 "${#configs[@]}"); do
    per_host+="$(awk -v c="$h" '{print $c}' "$T/ticks" | median) / "
  done
  growth_start=$(size)
  for t in $(seq 1 "$GROWTH_TICKS"); do
    sleep 1.05
    for config in "${configs[@]}"; do
      "$SCLMAN" poll-load --cron --config "$config" 2>> "$T/growth.err" > /dev/null
      "$SCLMAN" decide --cron --config "$config" 2>> "$T/growth.err" > /dev/null
    done
  done
  growth_end=$(size)
  local per_day
  per_day=$(awk -v a="$growth_start" -v b="$growth_end" -v t="$GROWTH_TICKS" \
    'BEGIN {printf "%.0f", (b - a) / t * 1440 / 1048576}')
  echo "| $name | $hosts | $CLUSTERS | $n | ${per_host% / } | $(median < "$T/flushes") | $(awk -v a="$growth_end" 'BEGIN {printf "%.1f", a / 1048576}') | $per_day |"
}

start_nginx "$n"
# Steady load between the thresholds below (40.5 to 59.5 a web instance): every decision holds.
start_prometheus "$n" 40 20 5s
# PG_DURABLE=0: fsync and synchronous_commit off (what the commits' flushes cost).
PG_DURABLE=${PG_DURABLE:-1} pg_start "$T/pg" > /dev/null
echo "| backend | hosts | clusters | instances | tick wall s (median, per host) | WAL flushes a tick (all hosts) | state MiB after | growth MiB/day (1 tick/min) |"
echo "|---|---:|---:|---:|---|---:|---:|---:|"
# SETUPS="postgresql:1" runs only that one.
for setup in $SETUPS; do
  run "${setup%:*}" "${setup#*:}"
done
