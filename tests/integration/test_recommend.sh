#!/usr/bin/env bash
# `simulate --cluster NAME` and `recommend NAME` replay a cluster's own recorded load. The
# cluster is real (local provider); a day of its polls is written into the state file (a surge
# at 12:00, two instances polled each minute), as poll-load would have written them over a day.
# Its policy, a threshold rule that almost never scales in, is wasteful on purpose. The replay of
# its own policy equals `simulate --trace` of the same load with the same policy in percent of
# the capacity; recommend picks the cheapest candidate within the budget and prints the
# set-policy command, which applies it; nothing changes until then.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 2 --min 1 --max 20 > /dev/null
sc set-policy shop --policy threshold --high 150 --low 1 --sensitivity 2 > /dev/null

# A day of minutes ending a minute ago: 120 in all, 600 from 12:00 to 13:00 (a surge that needs
# 3 instances of capacity 200), split over the two web instances (each reports half).
now=$(($(date +%s) * 1000))
start=$((now - 86400000))
start=$((start - start % 60000))
ids=$(sqlite3 "$DB" "SELECT id FROM instances WHERE name LIKE 'shop-web-%' ORDER BY id" | paste -sd' ')
cid=$(sqlite3 "$DB" "SELECT id FROM clusters WHERE name='shop'")
python3 - "$start" "$cid" $ids > "$T/samples.sql" <<'EOF'
import sys
start, cid, ids = int(sys.argv[1]), int(sys.argv[2]), [int(i) for i in sys.argv[3:]]
print("BEGIN;")
for m in range(1440):
    ts = start + m * 60000
    minute_of_day = (ts // 60000) % 1440
    total = 600 if 720 <= minute_of_day < 780 else 120
    for i in ids:
        print(f"INSERT INTO load_samples (instance_id, cluster_id, ts, value) VALUES ({i}, {cid}, {ts}, {total / len(ids)});")
print("COMMIT;")
EOF
sqlite3 "$DB" < "$T/samples.sql"
before=$(sqlite3 "$DB" "SELECT policy, desired FROM clusters WHERE name='shop'")

# The same load as a trace (the sum of each minute's samples), replayed with the cluster's
# policy in percent of the capacity (200: high 150 -> 75, low 1 -> 0.5).
sqlite3 -csv "$DB" "SELECT (ts - $start) / 1000, sum(value) FROM load_samples WHERE cluster_id = $cid GROUP BY ts ORDER BY ts" |
  { echo t_seconds,requests_per_second; cat; } > "$T/trace.csv"
policy=$(sc status --json | jq -c '.[0].policy | .high = .high / 2 | .low = .low / 2')
start_iso=$(date -u -d "@$((start / 1000))" +%Y-%m-%dT%H:%M:%SZ)
sc simulate --cluster shop --days 2 --capacity 200 --boot-delay 120 --json > "$T/cluster.json"
sc simulate --trace "$T/trace.csv" --capacity 200 --boot-delay 120 --start "$start_iso" \
  --policy "$policy" --json > "$T/trace.json"
jq -e '.[0].policy == "current" and .[0].cluster == "shop" and .[0].ticks == 1440 and .[0].capacity == 200' \
  "$T/cluster.json" > /dev/null || fail "simulate --cluster: $(jq -c '.[0]' "$T/cluster.json")"
for key in ticks instance_minutes tau_U theta_U tau_O changes boots; do
  [ "$(jq ".[0].$key" "$T/cluster.json")" = "$(jq ".[0].$key" "$T/trace.json")" ] ||
    fail "simulate --cluster and --trace differ in $key: $(jq ".[0].$key" "$T/cluster.json") != $(jq ".[0].$key" "$T/trace.json")"
done
sc simulate --cluster shop --days 2 --capacity 200 --boot-delay 120 --policy hpa --compare > "$T/cluster.txt"
head -1 "$T/cluster.txt" | grep -q "^cluster shop (.* to .*, its policy threshold as current): 1440 ticks of 60 s, capacity 200," ||
  fail "simulate --cluster header: $(head -1 "$T/cluster.txt")"
for run in current hpa threshold target-tracking oracle; do
  grep -qE "^$run +[0-9]" "$T/cluster.txt" || fail "simulate --cluster has no $run row: $(cat "$T/cluster.txt")"
done
pass "simulate --cluster replays the cluster's polls exactly as simulate --trace replays the same load ($(jq .[0].instance_minutes "$T/cluster.json") instance-minutes)"

# recommend: the candidates, the cheapest within the budget, and the command; nothing applied.
sc recommend shop --days 2 --capacity 200 --json > "$T/rec.json"
jq -e '[.runs[].policy] == ["current", "predictive", "hpa-tuned", "target-tracking-tuned", "predictive-tuned"]
       and .boot.source == "prior" and .boot.seconds == 300 and .capacity == 200 and .ticks == 1440
       and ([.sweeps[].tried] == [252, 42, 6])' "$T/rec.json" > /dev/null ||
  fail "recommend --json: $(jq -c '{runs: [.runs[].policy], boot, capacity, ticks, sweeps}' "$T/rec.json")"
# The recommended run is the cheapest of those within the budget (current on a tie).
want=$(jq -r '[.runs[] | select(.tau_U <= 1)] | min_by(.instance_minutes) | .policy' "$T/rec.json")
[ "$(jq -r .recommended "$T/rec.json")" = "$want" ] || fail "recommended $(jq -r .recommended "$T/rec.json"), want $want"
[ "$(sqlite3 "$DB" "SELECT policy, desired FROM clusters WHERE name='shop'")" = "$before" ] || fail "recommend changed the cluster"
sc recommend shop --days 2 --capacity 200 > "$T/rec.txt"
grep -q "^cluster shop: 1440 minutes of polls" "$T/rec.txt" || fail "recommend text: $(cat "$T/rec.txt")"
if [ "$want" = current ]; then
  grep -qx "recommendation: keep the current policy (the cheapest within the budget)" "$T/rec.txt" || fail "no keep line: $(cat "$T/rec.txt")"
  pass "recommend keeps the current policy, the cheapest within the budget"
else
  cmd=$(jq -r .command "$T/rec.json")
  case $cmd in "sclman set-policy shop --policy "*) ;; *) fail "recommend command: $cmd" ;; esac
  grep -qF "  $cmd" "$T/rec.txt" || fail "the text does not print the command: $(cat "$T/rec.txt")"
  # Apply it as an operator would (through the test's own config and state), then the cluster's
  # own policy replays as the recommended run did.
  eval "\"\$SCLMAN\" --config \"\$SCLMAN_CONFIG\" --state \"\$DB\" ${cmd#sclman }" > /dev/null ||
    fail "the recommended command failed: $cmd"
  sc simulate --cluster shop --days 2 --capacity 200 --boot-delay 300 --min 1 --max 20 --json > "$T/after.json"
  [ "$(jq '.[0].instance_minutes' "$T/after.json")" = "$(jq --arg w "$want" '.runs[] | select(.policy == $w) | .instance_minutes' "$T/rec.json")" ] ||
    fail "the applied policy replays to $(jq '.[0].instance_minutes' "$T/after.json") instance-minutes, recommend said $(jq --arg w "$want" '.runs[] | select(.policy == $w) | .instance_minutes' "$T/rec.json")"
  pass "recommend picks $want, the cheapest within the budget; its command applies it and it replays the same"
fi

# Bad requests: exit 64 with the reason.
expect_exit 64 recommend nosuch --state "$DB"
expect_one_line "no cluster named 'nosuch'"
expect_exit 64 simulate --cluster shop --trace "$T/trace.csv" --capacity 1 --boot-delay 0 --state "$DB"
expect_one_line "give one of --trace FILE and --cluster NAME"
sc create-cluster idle --web 1 > /dev/null
expect_exit 64 recommend idle --state "$DB"
expect_one_line "--capacity is needed: the policy of 'idle' (threshold) does not say how much load one instance carries"
expect_exit 64 recommend idle --capacity 100 --state "$DB"
expect_one_line "cluster 'idle' has 0 polls with a value in the last 7 days: nothing to replay"
pass "unknown cluster, --trace with --cluster, a policy without capacity, no history: exit 64"
