#!/usr/bin/env bash
# bench/decide_bench.sh: the cost of one `sclman decide` over 1,000 clusters when the state file
# holds 1 day and when it holds 30 days of samples. The window queries use indexes, so the two
# must cost the same; the EXPLAIN QUERY PLAN of each query is printed as proof.
#
#   SCLMAN=build-release/cmd/sclman bash bench/decide_bench.sh
#   CLUSTERS=1000 DAYS="1 8 30" POLICIES="threshold predictive" RUNS=5 bash bench/decide_bench.sh
#
# The state file is made with sqlite3, not by the commands (30 days of polls would take 30 days):
# CLUSTERS clusters of WEB in-service web instances, one sample per web instance per minute for
# DAYS days up to now (a daily wave, so the predictive policy has seasons to use), and one
# carried-out action per cluster per hour. Each number of days is a fresh file, and each policy
# in turn is every cluster's policy in it. decide runs once to warm the page cache, then RUNS
# times with --dry-run (the policy evaluation and the reads, without the decision rows), then
# RUNS times for real (1,000 decision rows written too). Before each policy's runs, one fresh
# poll is added (the fill and the runs before it take minutes). The table shows the median by
# wall time, from GNU time (wall, user+system CPU, maximum RSS). The predictive policy reads up
# to a week back (its weekly season), so its 1-day file has less history to use than the 8-
# and 30-day ones: compare 8 with 30 days for it.
set -euo pipefail

SCLMAN=${SCLMAN:?set SCLMAN to a release build of sclman (cmake --preset release)}
CLUSTERS=${CLUSTERS:-1000}
WEB=${WEB:-1}
DAYS=${DAYS:-"1 8 30"}
POLICIES=${POLICIES:-"threshold predictive"}
RUNS=${RUNS:-5}

T=$(mktemp -d /tmp/sclman-decide-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
cat > "$T/sclman.conf" <<'CONF'
[MANAGER]
man_run_deadline = 600
CONF
export SCLMAN_CONFIG=$T/sclman.conf

policy_json() {
  case $1 in
    threshold) echo '{"kind":"threshold","min":1,"max":10,"sensitivity":3,"high":50,"low":10,"cooldown":120}' ;;
    predictive) echo '{"preset":"predictive","min":1,"max":10,"capacity":100}' ;;
    *) echo "unknown policy $1" >&2; exit 64 ;;
  esac
}

# fill DB DAYS POLICY_JSON NOW_MS: the clusters, instances, samples and actions.
fill() {
  local db=$1 days=$2 policy=$3 now=$4
  "$SCLMAN" status --state "$db" > /dev/null  # creates the schema
  sqlite3 "$db" > /dev/null <<SQL
PRAGMA synchronous = OFF;
-- Secondary indexes are built after the bulk insert (sorting once is far cheaper).
DROP INDEX load_samples_cluster_ts;
DROP INDEX load_samples_ts;
BEGIN;
WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < $CLUSTERS)
INSERT INTO clusters (id, name, provider, bootstrapper, balancer, metrics, policy, desired,
                      status, created_at)
SELECT k, printf('c%04d', k), 'local', 'local', 'nginx', 'stub_status', '$policy', $WEB,
       'active', $now - ($days + 1) * 86400000 FROM c;
WITH RECURSIVE w(s) AS (SELECT 1 UNION ALL SELECT s + 1 FROM w WHERE s < $WEB)
INSERT INTO instances (cluster_id, role, serial, name, address, state, created_at, state_since,
                       in_service_since)
SELECT id, 'web', s, name || '-web-' || s, '127.0.0.1:1', 'in_service', created_at, created_at,
       created_at FROM clusters, w ORDER BY id, s;
-- One poll a minute, newest at now - 10 s; a daily wave between 10 and 90 per instance.
WITH RECURSIVE m(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM m WHERE k < $days * 1440 - 1)
INSERT INTO load_samples (instance_id, cluster_id, ts, value, raw)
SELECT i.id, i.cluster_id, $now - 10000 - m.k * 60000,
       50 + 40 * sin(6.283185307 * (($now - m.k * 60000) % 86400000) / 86400000.0)
          + (i.id * 7 + m.k) % 5,
       NULL
FROM instances i, m ORDER BY i.id, m.k DESC;
-- One carried-out action per cluster per hour (decide reads those within its window).
WITH RECURSIVE h(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM h WHERE k < $days * 24 - 1)
INSERT INTO decisions (cluster_id, ts, action, from_size, to_size, reason, inputs, status,
                       done_at, explanation)
SELECT c.id, $now - 1800000 - h.k * 3600000, 'hold', $WEB, $WEB, 'bench', '{}', 'done',
       $now - 1800000 - h.k * 3600000, '{}'
FROM clusters c, h;
COMMIT;
CREATE INDEX load_samples_cluster_ts ON load_samples (cluster_id, ts);
CREATE INDEX load_samples_ts ON load_samples (ts);
ANALYZE;
SQL
}

# timed LABEL ARGS...: run sclman decide ARGS RUNS times; print the median "wall cpu rss".
timed() {
  local label=$1
  shift
  local k
  : > "$T/times"
  for k in $(seq 1 "$RUNS"); do
    /usr/bin/time -f '%e %U %S %M' -o "$T/time" "$SCLMAN" decide --cron "$@" > /dev/null
    awk '{printf "%.2f %.2f %.1f\n", $1, $2 + $3, $4 / 1024}' "$T/time" >> "$T/times"
  done
  sort -n "$T/times" | sed -n "$(((RUNS + 1) / 2))p" | sed "s/^/$label /"
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $CLUSTERS clusters x $WEB web, $RUNS runs each, $SCLMAN"
echo "| policy | days | samples | file (MiB) | decide --dry-run wall (s) | CPU (s) | RSS (MiB) | decide wall (s) | CPU (s) | RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
last_days=$(echo "$DAYS" | awk '{print $NF}')
for days in $DAYS; do
  db=$T/$days.db
  now=$(date +%s%3N)
  start=$(date +%s.%N)
  fill "$db" "$days" "$(policy_json threshold)" "$now"
  samples=$(sqlite3 "$db" "SELECT count(*) FROM load_samples")
  size=$(du -m "$db" | cut -f1)
  echo "  $days d: $samples samples, $size MiB, filled in $(printf '%.0f' "$(echo "$(date +%s.%N) - $start" | bc)") s" >> "$T/fills"
  for policy in $POLICIES; do
    # One file per number of days; each policy in turn is every cluster's policy.
    sqlite3 "$db" "UPDATE clusters SET policy = '$(policy_json "$policy")'"
    # A fresh poll, as poll-load writes each minute: filling and the runs before took minutes,
    # and a newest poll older than max_age is missing data, which decide does not evaluate.
    sqlite3 "$db" "INSERT INTO load_samples (instance_id, cluster_id, ts, value)
                   SELECT id, cluster_id, $(date +%s%3N), 55 FROM instances"
    "$SCLMAN" decide --cron --dry-run --state "$db" > /dev/null  # warm the page cache
    read -r _ dry_wall dry_cpu dry_rss < <(timed dry --dry-run --state "$db")
    read -r _ wall cpu rss < <(timed real --state "$db")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$policy" "$days" \
      "$samples" "$size" "$dry_wall" "$dry_cpu" "$dry_rss" "$wall" "$cpu" "$rss"
    # What the runs decided (the policy really ran on the samples, not on missing data).
    "$SCLMAN" decide --dry-run --json --state "$db" 2> /dev/null \
      | jq -r '[.[] | "\(.action) \(.reason) rule=\(.explanation.rule)"] | group_by(.)
               | map("\(length) x \(.[0])") | join(", ")' \
      | sed "s/^/  $policy $days d: /" >> "$T/outcomes"
  done
  if [ "$days" = "$last_days" ]; then
    {
      echo "query plans ($days days):"
      sqlite3 "$db" "EXPLAIN QUERY PLAN SELECT instance_id, cluster_id, ts, value, raw FROM load_samples WHERE cluster_id = 1 AND ts BETWEEN 0 AND $now ORDER BY ts, instance_id"
      sqlite3 "$db" "EXPLAIN QUERY PLAN SELECT done_at, from_size, to_size FROM decisions WHERE cluster_id = 1 AND status = 'done' AND done_at >= 0 ORDER BY done_at"
    } > "$T/plans"
  fi
  rm -f "$db" "$db"-wal "$db"-shm
done
echo
cat "$T/fills" "$T/outcomes"
echo
cat "$T/plans"
