#!/usr/bin/env bash
# Two sclman hosts on one PostgreSQL database (docs/TWO-HOSTS.md): two state directories, one
# [STATE] url, one shared [LOCAL] instances_dir (the local provider's "cloud"), 20 clusters, and
# the cron chain (cron/sclman-chain, 4 ticks a minute) started on both at once, as cron does.
# Each cluster is acted on by exactly one host in each tick: one load sample per cluster in
# each tick both chains ran (none lost), no sample and no decision twice in any tick; both
# hosts do a share of the work; the clusters under load grow on whichever host has them, with
# no instance made twice and no orphan.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/postgresql.sh"
. "$(dirname "$0")/two_hosts.sh"
pg_fixture
db=two_hosts_$$
pg_createdb "$db" > /dev/null
q() { pg_psql "$db" -tAc "$1"; }
url="host=127.0.0.1 port=$PG_PORT dbname=$db user=sclman"
clusters=20

write_config "man_ticks_per_minute = 4
man_run_deadline = 50
man_high_load = 100"
two_hosts "$url"
status_a() { sa status --json | jq -r "$1"; }

for i in $(seq -w 1 $clusters); do
  sa create-cluster "c$i" --web 1 --min 1 --max 2 > /dev/null
done
[ "$(status_a '[.[] | select(.status == "active")] | length')" = $clusters ] \
  || fail "not all $clusters clusters are active: $(sa status)"
[ "$(ls "$T/instances" | wc -l)" = $((clusters * 2)) ] || fail "instances: $(ls "$T/instances")"
[ ! -e "$T/host-a/sclman.db" ] && [ ! -e "$T/host-b/sclman.db" ] || fail "a state file was made"
[ "$(sb status --json | jq -r 'length')" = $clusters ] || fail "host b does not see the clusters"
pass "$clusters clusters made on host a, in $db; host b sees them; their instances in one directory"

# The chain of each host, as the package installs it, with its config; each call of sclman
# logs at debug level (the `<command>.skipped` lines) to that host's log.
chain="$SCLMAN_SOURCE_DIR/cron/sclman-chain"
for h in a b; do
  cat > "$T/sclman-$h" <<EOT
#!/bin/sh
echo "\$(date +%s%3N) \$1" >> "$T/$h.calls"
exec "$SCLMAN" "\$@" --verbose 2>> "$T/$h.log"
EOT
  chmod +x "$T/sclman-$h"
  sed -e "s|^sclman=/usr/bin/sclman$|sclman=$T/sclman-$h|" \
      -e "s|^config=/etc/sclman/sclman.conf$|config=$T/$h.conf|" "$chain" > "$T/chain-$h"
done
# Load on two clusters (their LBs), so that they grow, on whichever host has them.
for c in c03 c17; do
  lb=$(status_a ".[] | select(.name == \"$c\") | .lb_address")
  "$SCLMAN_LOADGEN" --url "http://$lb/" --concurrency 4 --rate 600 --duration 300 > "$T/load-$c.json" &
  LOADGEN_PIDS+=($!)
done
sleep 2
# Both chains start on a slot boundary (as cron's start would), within a second of each other.
now=$(date +%s)
sleep $((15 - now % 15)).1
started=$(date +%s%3N)
sh "$T/chain-a" > "$T/chain-a.out" 2>&1 &
chain_a=$!
sleep 0.3
sh "$T/chain-b" > "$T/chain-b.out" 2>&1 &
chain_b=$!
rc_a=0; wait $chain_a || rc_a=$?
rc_b=0; wait $chain_b || rc_b=$?
ended=$(date +%s%3N)
for pid in "${LOADGEN_PIDS[@]}"; do kill -INT "$pid" 2> /dev/null || true; done
[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ] \
  || fail "the chains exited $rc_a and $rc_b: $(cat "$T/chain-a.out" "$T/chain-b.out"; grep -h ' error \| warning ' "$T/a.log" "$T/b.log" | head -20)"

# One sample and one decision per cluster per tick (slot of 15 s). A chain skips a tick that
# its previous one overran (a loaded machine): in a slot where both chains ran their tick, every
# cluster is polled once; in any slot, none twice.
slot_first=$((started / 15000))
slot_last=$(((ended - 1) / 15000))
ran() { awk -v s="$2" '$2 == "poll-load" && int($1 / 15000) == s' "$T/$1.calls" | grep -q .; }
# An instance sampled twice in a tick was polled by both hosts.
twice=$(q "SELECT instance_id, ts / 15000, count(*) FROM load_samples WHERE ts >= $started AND ts < $ended
           GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5")
[ -z "$twice" ] || fail "instances polled twice in one tick: $twice"
samples=$(q "SELECT c.name, s.ts / 15000 FROM load_samples s JOIN clusters c ON c.id = s.cluster_id
             WHERE s.ts >= $started AND s.ts < $ended GROUP BY 1, 2 ORDER BY 1, 2")
ticks=0
for slot in $(seq "$slot_first" "$slot_last"); do
  ran a "$slot" && ran b "$slot" || continue
  n=$(awk -F'|' -v s="$slot" '$2 == s' <<< "$samples" | wc -l)
  [ "$n" = $clusters ] || fail "tick $slot: $n clusters polled, not $clusters (a lost sample)"
  ticks=$((ticks + 1))
done
[ "$ticks" -ge 2 ] || fail "both chains ran in $ticks ticks only: $(cat "$T/a.calls" "$T/b.calls")"
twice=$(q "SELECT c.name, d.ts / 15000, count(*) FROM decisions d JOIN clusters c ON c.id = d.cluster_id
           WHERE d.ts >= $started AND d.ts < $ended AND d.reason != 'manual' GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 5")
[ -z "$twice" ] || fail "clusters decided twice in one tick: $twice"
pass "$ticks ticks run by both chains (slots $slot_first to $slot_last): each of $clusters clusters polled once in each, none polled or decided twice in any"

# Both hosts did a share: each skipped the clusters the other had (logged at debug level).
for h in a b; do
  other=$([ $h = a ] && echo b || echo a)
  n=$(grep -c 'poll-load.skipped' "$T/$h.log" || true)
  [ "$n" -gt 0 ] || fail "host $h never left a cluster to host $other"
  eval "skipped_$h=$n"
done
pass "both hosts worked: host a left $skipped_a cluster-ticks to b, host b $skipped_b to a"

# The clusters under load grew, once each: 2 web instances, no instance made twice, every
# instance directory one the state holds, every state instance running.
for c in c03 c17; do
  [ "$(status_a "[.[] | select(.name == \"$c\") | .instances[] | select(.role == \"web\" and .state == \"in_service\")] | length")" = 2 ] \
    || fail "$c did not grow to 2 under load: $(sa status)"
done
[ "$(q "SELECT count(*) FROM instances WHERE state NOT IN ('gone', 'error')")" = $((clusters * 2 + 2)) ] \
  || fail "instances: $(q "SELECT name, state FROM instances ORDER BY name")"
[ "$(q "SELECT count(*) FROM (SELECT name FROM instances WHERE state NOT IN ('gone', 'error') GROUP BY name HAVING count(*) > 1) d")" = 0 ] \
  || fail "an instance name twice"
held=$(q "SELECT name FROM instances WHERE state NOT IN ('gone', 'error') ORDER BY name")
[ "$(ls "$T/instances" | sort)" = "$held" ] \
  || fail "instance directories and the state differ: $(diff <(ls "$T/instances" | sort) <(echo "$held"))"
[ "$(q "SELECT count(*) FROM journal WHERE status = 'pending'")" = 0 ] || fail "pending intents left"
pass "c03 and c17 grew to 2 on load; $((clusters * 2 + 2)) instances, none twice, no orphan, no pending intent"

for i in $(seq -w 1 $clusters); do
  if [ $((10#$i % 2)) = 0 ]; then sa delete-cluster "c$i" > /dev/null; else sb delete-cluster "c$i" > /dev/null; fi
done
[ -z "$(ls "$T/instances")" ] || fail "delete-cluster left directories: $(ls "$T/instances")"
pg_psql postgres -c "DROP DATABASE $db" > /dev/null
pass "deleted from both hosts, nothing left"
