#!/usr/bin/env bash
# gc: prunes samples past the retention, expires stale decisions, repairs orphans both ways
# (a process sclman made that the state does not know; a state row whose process is gone), and
# leaves alone what sclman did not tag. Also: an interrupted intent is marked by the next run.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 3 --min 1 --max 4 > /dev/null
cid=$(sqlite3 "$DB" "SELECT id FROM clusters WHERE name='shop'")
now_ms=$(($(date +%s) * 1000))

# History: one sample 8 days old, one an hour old.
iid=$(sqlite3 "$DB" "SELECT id FROM instances WHERE name='shop-web-1'")
sqlite3 "$DB" "INSERT INTO load_samples VALUES ($iid, $cid, $((now_ms - 8*86400000)), 1.0, 10, NULL);
               INSERT INTO load_samples VALUES ($iid, $cid, $((now_ms - 3600000)), 2.0, 20, NULL);"
# A pending decision 10 minutes old (stale) and one just made.
sqlite3 "$DB" "INSERT INTO decisions (cluster_id, ts, action, from_size, to_size, reason, inputs, status)
               VALUES ($cid, $((now_ms - 600000)), 'scale_out', 3, 4, 'test', '{}', 'pending');"

# Orphan process: the state forgets shop-web-3 (as if a crash lost its row's update).
pid3=$(cat "$T/instances/shop-web-3/logs/nginx.pid")
sqlite3 "$DB" "UPDATE instances SET state='gone' WHERE name='shop-web-3'"
# Orphan row: shop-web-2's process dies.
kill_nginx shop-web-2
# Something sclman did not make, below its directory: left alone.
mkdir -p "$T/instances/not-ours"
echo keep > "$T/instances/not-ours/file"

sc gc --dry-run > "$T/dry" 2>&1
[ -d "$T/instances/shop-web-3" ] || fail "dry run deleted something"
alive "$pid3" || fail "dry run stopped a process"

sc gc --json > "$T/gc.json"
cat "$T/gc.json"
[ "$(jq .samples_pruned "$T/gc.json")" = 1 ] || fail "expected 1 sample pruned"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM load_samples")" = 1 ] || fail "recent sample lost"
[ "$(jq .decisions_expired "$T/gc.json")" = 1 ] || fail "stale decision not expired"
[ "$(sqlite3 "$DB" "SELECT status FROM decisions WHERE reason='test'")" = expired ] || fail "decision not expired"
[ "$(jq .orphan_servers "$T/gc.json")" = 1 ] || fail "orphan server not found"
[ ! -d "$T/instances/shop-web-3" ] || fail "orphan directory left"
sleep 0.3
alive "$pid3" && fail "orphan nginx $pid3 still runs"
[ "$(sqlite3 "$DB" "SELECT state FROM instances WHERE name='shop-web-2'")" = gone ] || fail "dead row not repaired"
[ ! -d "$T/instances/shop-web-2" ] || fail "dead instance directory left"
[ "$(cat "$T/instances/not-ours/file")" = keep ] || fail "gc touched what sclman did not tag"
pass "gc pruned, expired, and repaired orphans both ways"

# An nginx master below the instance root that no instance owns, its directory gone.
mkdir -p "$T/instances/shop-web-9/conf" "$T/instances/shop-web-9/logs" "$T/instances/shop-web-9/tmp"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed "s/listen 127.0.0.1:[0-9]*/listen 127.0.0.1:$port/" "$T/instances/shop-web-1/conf/nginx.conf" \
  > "$T/instances/shop-web-9/conf/nginx.conf"
/usr/sbin/nginx -p "$T/instances/shop-web-9/" -c conf/nginx.conf -e logs/error.log
pid9=$(cat "$T/instances/shop-web-9/logs/nginx.pid")
sc gc --json > "$T/gc.json"
[ "$(jq .orphan_servers "$T/gc.json") $(jq .orphan_processes "$T/gc.json")" != "0 0" ] || fail "untagged orphan process not found"
sleep 0.3
alive "$pid9" && fail "orphan process $pid9 still runs"
pass "gc stopped an nginx below its root that no instance owns"

# The cluster is back at its desired size after the chain runs.
chain
[ "$(web_in_service shop)" = 3 ] || fail "chain did not restore 3 instances"
pass "chain restored the size"

# A pending intent left by a run that died is marked interrupted by the next run.
sqlite3 "$DB" "INSERT INTO journal (ts, cluster, instance, op, status) VALUES ($now_ms, 'shop', 'shop-web-9', 'create_server', 'pending')"
sc scale-out 2> "$T/err" > /dev/null
grep -q "journal.interrupted cluster=shop instance=shop-web-9 op=create_server" "$T/err" || fail "interrupted intent not reported"
[ "$(sqlite3 "$DB" "SELECT status FROM journal WHERE instance='shop-web-9'")" = interrupted ] || fail "intent not marked"
pass "interrupted intent marked"

# --clear-failures resets the failure budget.
sqlite3 "$DB" "UPDATE clusters SET failures = 5 WHERE name='shop'"
sc gc --clear-failures > /dev/null
[ "$(sqlite3 "$DB" "SELECT failures FROM clusters WHERE name='shop'")" = 0 ] || fail "failures not cleared"
pass "failures cleared"
