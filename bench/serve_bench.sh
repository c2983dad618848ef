#!/usr/bin/env bash
# bench/serve_bench.sh: reads per second and latency of `sclman serve` with 1,000 clusters in the
# state file, while the chain's state-writing steps run each minute (issue 17's target: 1,000
# reads/s at p99 under 50 ms on 2 cores).
#
#   SCLMAN=build/release/cmd/sclman bash bench/serve_bench.sh
#   CLUSTERS=1000 DURATION=120 CONNECTIONS=16 THREADS=8 bash bench/serve_bench.sh
#
# The state file is made with sqlite3 (as bench/decide_bench.sh makes its): CLUSTERS clusters of
# 1 LB and 2 web instances in service, a day of one sample a minute per web instance, one action
# an hour. Nothing runs behind the instances, so the "chain" here is its state-writing steps:
# each minute a fresh poll of every web instance (as poll-load writes it) and `sclman decide`
# over every cluster (1,000 decision rows); scale-out, scale-in and gc are left out (they would
# find no process behind the instances and start some). wrk (Debian's) runs DURATION seconds
# against one `sclman serve` with THREADS threads, with CONNECTIONS connections and a mix of
# reads, each for a random cluster: 60 % GET /v1/clusters/NAME (status --json of one cluster),
# 30 % GET .../decisions?limit=5 (why --json), 10 % GET .../history?minutes=10. It runs twice:
# without the chain, then with it (decide starts at 5 s and each minute after). Server and wrk
# share the machine's cores.
set -euo pipefail

SCLMAN=${SCLMAN:?set SCLMAN to a release build of sclman (cmake --preset release)}
CLUSTERS=${CLUSTERS:-1000}
DURATION=${DURATION:-120}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-8}
command -v wrk > /dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

T=$(mktemp -d /tmp/sclman-serve-bench.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null; rm -rf "$T"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
install -m 600 /dev/null "$T/sclman.conf"
cat > "$T/sclman.conf" <<CONF
[MANAGER]
man_run_deadline = 600
[SERVE]
listen = 127.0.0.1:$PORT
threads = $THREADS
CONF
export SCLMAN_CONFIG=$T/sclman.conf
DB=$T/sclman.db
now=$(date +%s%3N)
policy='{"kind":"threshold","min":1,"max":10,"sensitivity":3,"high":50,"low":10,"cooldown":120}'
"$SCLMAN" status --state "$DB" > /dev/null  # the schema
sqlite3 "$DB" > /dev/null <<SQL
PRAGMA synchronous = OFF;
DROP INDEX load_samples_cluster_ts;
DROP INDEX load_samples_ts;
BEGIN;
WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < $CLUSTERS)
INSERT INTO clusters (id, name, provider, bootstrapper, balancer, metrics, policy, desired,
                      status, created_at)
SELECT k, printf('c%04d', k), 'local', 'local', 'nginx', 'stub_status', '$policy', 2,
       'active', $now - 2 * 86400000 FROM c;
INSERT INTO instances (cluster_id, role, serial, name, address, state, created_at, state_since,
                       in_service_since)
SELECT id, 'lb', 1, name || '-lb-1', '127.0.0.1:1', 'in_service', created_at, created_at,
       created_at FROM clusters;
WITH RECURSIVE w(s) AS (SELECT 1 UNION ALL SELECT s + 1 FROM w WHERE s < 2)
INSERT INTO instances (cluster_id, role, serial, name, address, state, created_at, state_since,
                       in_service_since)
SELECT id, 'web', s, name || '-web-' || s, '127.0.0.1:1', 'in_service', created_at, created_at,
       created_at FROM clusters, w ORDER BY id, s;
WITH RECURSIVE m(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM m WHERE k < 1439)
INSERT INTO load_samples (instance_id, cluster_id, ts, value, raw)
SELECT i.id, i.cluster_id, $now - 10000 - m.k * 60000, 30 + (i.id * 7 + m.k) % 20, NULL
FROM instances i, m WHERE i.role = 'web' ORDER BY i.id, m.k DESC;
WITH RECURSIVE h(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM h WHERE k < 23)
INSERT INTO decisions (cluster_id, ts, action, from_size, to_size, reason, inputs, status,
                       done_at, explanation)
SELECT c.id, $now - 1800000 - h.k * 3600000, 'hold', 2, 2, 'bench', '{}', 'done',
       $now - 1800000 - h.k * 3600000, '{}'
FROM clusters c, h;
COMMIT;
CREATE INDEX load_samples_cluster_ts ON load_samples (cluster_id, ts);
CREATE INDEX load_samples_ts ON load_samples (ts);
ANALYZE;
SQL
TOKEN=$("$SCLMAN" token create bench --role viewer --state "$DB")

"$SCLMAN" serve --state "$DB" > /dev/null 2> "$T/serve.log" &
PIDS+=($!)
for _ in $(seq 100); do grep -q serve.listening "$T/serve.log" && break; sleep 0.05; done
grep -q serve.listening "$T/serve.log" || { cat "$T/serve.log" >&2; exit 1; }

cat > "$T/mix.lua" <<LUA
math.randomseed(17)
local token = "$TOKEN"
local clusters = $CLUSTERS
request = function()
  local k = math.random(1, clusters)
  local r = math.random()
  local path
  if r < 0.6 then
    path = string.format("/v1/clusters/c%04d", k)
  elseif r < 0.9 then
    path = string.format("/v1/clusters/c%04d/decisions?limit=5", k)
  else
    path = string.format("/v1/clusters/c%04d/history?minutes=10", k)
  end
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %.1f %.2f %.2f %.2f %.2f %d %d\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
LUA

# The chain's state-writing steps each minute from 5 s on, until told to stop.
chain() {
  sleep 5
  while [ ! -e "$T/stop" ]; do
    local t0=$SECONDS
    sqlite3 "$DB" "INSERT INTO load_samples (instance_id, cluster_id, ts, value)
                   SELECT id, cluster_id, $(date +%s%3N), 35 FROM instances WHERE role = 'web'"
    /usr/bin/time -f '%e' -o "$T/decide.time" "$SCLMAN" decide --cron --state "$DB" > /dev/null 2>&1 || true
    echo "decide $(cat "$T/decide.time") s" >> "$T/chain.log"
    while [ $((SECONDS - t0)) -lt 60 ] && [ ! -e "$T/stop" ]; do sleep 1; done
  done
}

run() {
  local label=$1
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$T/mix.lua" "http://127.0.0.1:$PORT" \
    > "$T/wrk.out" 2>&1
  read -r _ requests rps p50 p90 p99 max non2xx errors < <(grep '^RESULT' "$T/wrk.out")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$requests" "$rps" "$p50" "$p90" \
    "$p99" "$max" "$non2xx" "$errors"
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $CLUSTERS clusters, $DURATION s, $CONNECTIONS connections, $THREADS server threads, $SCLMAN"
echo "| run | requests | reads/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | non-2xx | socket errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
run "no chain"
chain &
PIDS+=($!)
run "chain each minute"
touch "$T/stop"
wait "${PIDS[-1]}" 2> /dev/null || true
echo
echo "chain during the second run: $(tr '\n' ';' < "$T/chain.log")"
echo "state file: $(du -m "$DB" | cut -f1) MiB; server RSS at the end: $(($(awk '/VmRSS/ {print $2}' "/proc/${PIDS[0]}/status") / 1024)) MiB"
