#!/usr/bin/env bash
# bench/poll_metrics.sh: the cost of one `sclman poll-load` over C clusters x 10 web instances,
# for the prometheus and stub_status sources, at several sizes. Everything runs on 127.0.0.1
# below a private temporary directory and is stopped by pid at the end.
#
#   SCLMAN=build-release/cmd/sclman bash bench/poll_metrics.sh
#   SIZES="100 1000 10000" SOURCES="prometheus stub_status" RUNS=3 bash bench/poll_metrics.sh
#
# What is real: the sclman binary and its state file; Debian's prometheus, scraping a real
# node_exporter whose textfile collector serves one series per instance; for stub_status, real
# nginx processes (one per 1,000 instances), each listening on 1,000 loopback ports with
# stub_status, so 10,000 instances are 10,000 distinct host:port pairs and 10,000 HTTP requests
# on fresh connections. What is fake: the clusters and instances, inserted with sqlite3 as
# in_service rows pointing at those ports (no LB, no per-instance nginx). Each size is a fresh
# state file; the timed run is the second poll-load (the first fills the counters stub_status
# needs for a rate), repeated RUNS times; the table shows the median run by wall time.
# Measured with GNU time: wall clock, user+system CPU, maximum resident set size.
set -euo pipefail

SCLMAN=${SCLMAN:?set SCLMAN to a release build of sclman (cmake --preset release)}
SIZES=${SIZES:-"100 1000 10000"}
SOURCES=${SOURCES:-"prometheus stub_status"}
RUNS=${RUNS:-3}
# stub_status ports: PORT_BASE .. PORT_BASE + N - 1, below the ephemeral range (32768-60999 on
# Debian) so that no client connection holds one of them.
PORT_BASE=${PORT_BASE:-20000}
NGINX=${NGINX:-/usr/sbin/nginx}

T=$(mktemp -d /tmp/sclman-bench.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for f in "$T"/nginx-*/nginx.pid; do
    [ -f "$f" ] && kill -QUIT "$(cat "$f")" 2>/dev/null || true
  done
  sleep 0.5
  rm -rf "$T"
}
trap cleanup EXIT

. "$(dirname "$0")/fixtures.sh"

# fill_state DB N SOURCE: N/10 clusters of 10 in_service web instances; instance k listens on
# PORT_BASE + k (stub_status) and is named cNNNN-web-M (the Prometheus label).
fill_state() {
  local db=$1 n=$2 source=$3
  "$SCLMAN" status --state "$db" > /dev/null  # creates the schema
  local policy
  policy=$("$SCLMAN" create-cluster tmpl --web 10 --max 20 --dry-run --state "$db" 2> /dev/null \
             | sed -n 's/.* policy \({.*}\)$/\1/p')
  [ -n "$policy" ] || { echo "cannot get a policy" >&2; exit 1; }
  python3 - "$db" "$n" "$source" "$policy" "$PORT_BASE" <<'PY'
import sqlite3, sys, time
db, n, source, policy, base = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
now = int(time.time() * 1000) - 3600_000
con = sqlite3.connect(db)
with con:
    k = 0
    for c in range(n // 10):
        name = f"c{c:04d}"
        cur = con.execute(
            "INSERT INTO clusters (name, provider, bootstrapper, balancer, metrics, policy, desired,"
            " status, created_at) VALUES (?, 'local', 'local', 'nginx', ?, ?, 10, 'active', ?)",
            (name, source, policy, now))
        cid = cur.lastrowid
        for s in range(1, 11):
            con.execute(
                "INSERT INTO instances (cluster_id, role, serial, name, address, state, created_at,"
                " state_since, in_service_since) VALUES (?, 'web', ?, ?, ?, 'in_service', ?, ?, ?)",
                (cid, s, f"{name}-web-{s}", f"127.0.0.1:{base + k}", now, now, now))
            k += 1
PY
}

# measure SOURCE N: print "wall_s cpu_s rss_kib requests" of the median of RUNS timed polls.
measure() {
  local source=$1 n=$2 db="$T/state-$1-$2.db" run
  rm -f "$db"*
  fill_state "$db" "$n" "$source"
  cat > "$T/sclman.conf" <<CONF
[METRICS]
max_age = 600
parallel = 64
[LOCAL]
health_timeout_ms = 5000
[PROMETHEUS]
url = ${PROM:-http://127.0.0.1:9}
query = sclman_bench_load
label = sclman_instance
match = name
CONF
  export SCLMAN_CONFIG="$T/sclman.conf"
  "$SCLMAN" poll-load --cron --state "$db" 2> "$T/warm.err" \
    || { tail -3 "$T/warm.err" >&2; echo "warm-up poll-load failed" >&2; exit 1; }
  for run in $(seq "$RUNS"); do
    sleep 1.05  # a new tick (samples are keyed by ms) and a fresh rate
    /usr/bin/time -f '%e %U %S %M' -o "$T/time.$run" \
      "$SCLMAN" poll-load --cron --state "$db" 2> "$T/poll.err" \
      || { tail -3 "$T/poll.err" >&2; echo "poll-load failed" >&2; exit 1; }
    local missing
    missing=$(sqlite3 "$db" "SELECT count(*) FROM load_samples WHERE value IS NULL AND ts = (SELECT max(ts) FROM load_samples)")
    [ "$missing" = 0 ] || { echo "$source n=$n: $missing missing samples" >&2; exit 1; }
  done
  for run in $(seq "$RUNS"); do
    read -r wall user sys rss < "$T/time.$run"
    echo "$wall $(echo "$user + $sys" | bc) $rss"
  done | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}

echo "| source | instances | clusters | wall (s) | CPU user+sys (s) | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|"
for source in $SOURCES; do
  for n in $SIZES; do
    if [ "$source" = prometheus ]; then start_prometheus "$n"; else start_nginx "$n"; fi
    measure "$source" "$n" > "$T/result"
    read -r wall cpu rss < "$T/result"
    printf '| %s | %d | %d | %.2f | %.2f | %.1f |\n' "$source" "$n" $((n / 10)) "$wall" "$cpu" \
      "$(echo "scale=1; $rss / 1024" | bc)"
    if [ "$source" = prometheus ]; then stop_prometheus; else stop_nginx; fi
  done
done
