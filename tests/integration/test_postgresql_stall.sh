#!/usr/bin/env bash
# A host stopped past its lease, with two hosts on one PostgreSQL database: host A's scale-out
# stops itself (SIGSTOP, failpoint create_server.before=stop) after it wrote its intent and
# before it creates the server; host B is refused the cluster while A's lock is fresh, takes it
# over once the lock is older than 3 x man_run_deadline, grows the cluster and shrinks it back
# (deleting the server A meant to create); A, given SIGCONT, finds its fencing number gone and
# acts on nothing: it makes no server again, leaves no orphan, its late writes are refused and
# logged, and gc on B finds nothing to clean.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/postgresql.sh"
. "$(dirname "$0")/two_hosts.sh"
pg_fixture
db=stall_$$
pg_createdb "$db" > /dev/null
q() { pg_psql "$db" -tAc "$1"; }
write_config "man_run_deadline = 4"
two_hosts "host=127.0.0.1 port=$PG_PORT dbname=$db user=sclman"
web_live() { q "SELECT name FROM instances WHERE role = 'web' AND state NOT IN ('gone', 'error') ORDER BY name" | tr '\n' ' '; }

sa create-cluster shop --web 1 --min 1 --max 3 > /dev/null
[ "$(web_live)" = "shop-web-1 " ] || fail "created: $(web_live)"

SCLMAN_FAILPOINTS=create_server.before=stop "$SCLMAN" --config "$T/a.conf" scale-out --cluster shop --to 2 \
  > "$T/a.out" 2> "$T/a.err" &
a_pid=$!
wait_stopped "$a_pid" "$T/a.err"
locked_at=$(date +%s%3N)
[ "$(q "SELECT count(*) FROM journal WHERE status = 'pending' AND op = 'create_server'")" = 1 ] \
  || fail "host A stopped without its intent: $(q 'SELECT * FROM journal')"
fence_a=$(q "SELECT fence FROM locks WHERE name = 'cluster:shop'")
pass "host A stopped after its intent, before creating the server (lock fence $fence_a)"

# While A's lock is fresh (4 s deadline: stale after 12 s), B is refused the cluster.
rc=0; sb scale-out --cluster shop --to 2 > "$T/b.out" 2> "$T/b.err" || rc=$?
[ "$rc" = 75 ] || fail "host B during A's lease: exit $rc, not 75: $(cat "$T/b.err")"
grep -q "cluster lock 'cluster:shop' is held by pid $a_pid" "$T/b.err" || fail "B's refusal: $(cat "$T/b.err")"
[ "$(web_live)" = "shop-web-1 shop-web-2 " ] || fail "B changed the instances: $(web_live)"
pass "host B is refused the cluster while A's lock is fresh: exit 75, naming A's pid"

# Past the lease: B takes the lock over with the next fencing number and grows the cluster.
wait_ms=$((locked_at + 12500 - $(date +%s%3N)))
[ "$wait_ms" -le 0 ] || sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
sb scale-out --cluster shop --to 2 > "$T/b.out" 2> "$T/b.err" || fail "host B after the lease: $(cat "$T/b.err")"
[ "$(q "SELECT count(*) FROM instances WHERE role = 'web' AND state = 'in_service'")" = 2 ] \
  || fail "B did not grow the cluster to 2: $(q 'SELECT name, state FROM instances')"
[ "$(q "SELECT fence FROM lock_fences WHERE name = 'cluster:shop'")" -gt "$fence_a" ] || fail "no new fencing number"
pass "host B took the lock over past the lease and grew shop to 2 ($(web_live))"
# B goes on: it scales back in, deleting the server A had set out to create (the newest).
sb scale-in --cluster shop --to 1 --wait > "$T/b.out" 2> "$T/b.err" || fail "host B's scale-in: $(cat "$T/b.err")"
after_b=$(web_live)
dirs_b=$(ls "$T/instances" | sort | tr '\n' ' ')
[ "$after_b" = "shop-web-1 " ] && [ "$dirs_b" = "shop-lb-1 shop-web-1 " ] \
  || fail "after B's scale-in: $after_b, directories $dirs_b"
pass "host B scaled back in to 1: shop-web-2 deleted"

# A wakes: its fencing number is gone, so it creates nothing and writes nothing.
kill -CONT "$a_pid"
rc=0; wait "$a_pid" || rc=$?
[ "$rc" = 75 ] || fail "host A after SIGCONT: exit $rc, not 75: $(cat "$T/a.err")"
grep -q "cluster lock 'cluster:shop' was taken over by .*while this run (fencing number $fence_a) held it" "$T/a.err" \
  || fail "A does not say why it stopped: $(cat "$T/a.err")"
[ "$(web_live)" = "$after_b" ] || fail "A changed the instances: $(web_live), was $after_b"
[ "$(ls "$T/instances" | sort | tr '\n' ' ')" = "$dirs_b" ] || fail "A made a server: $(ls "$T/instances")"
sb gc --json > "$T/gc.json" || fail "gc on B: $(cat "$T/gc.json")"
[ "$(jq '.orphan_processes + .orphan_servers + .instances_cleaned' "$T/gc.json")" = 0 ] \
  || fail "gc found something to clean: $(cat "$T/gc.json")"
[ "$(q "SELECT count(*) FROM journal WHERE status = 'pending'")" = 0 ] || fail "pending intents: $(q 'SELECT * FROM journal')"
pass "host A after SIGCONT: exit 75, its writes refused and logged, no server made again, gc finds nothing"

sb delete-cluster shop > /dev/null
[ -z "$(ls "$T/instances")" ] || fail "left: $(ls "$T/instances")"
pg_psql postgres -qc "DROP DATABASE $db" > /dev/null
pass "deleted"
