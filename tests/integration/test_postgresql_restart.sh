#!/usr/bin/env bash
# PostgreSQL restarts in the middle of a run, with two hosts on it (a server of this test's own,
# so that the restart cuts no other test's sessions): host A's scale-out has created its server
# and not yet recorded it (stopped at failpoint create_server.after=stop) when the server
# restarts; A, resumed, finds its connection gone and exits 75 at its next write; the next run,
# on host B, finds A's pending intent, adopts the server A made and finishes the scale-out:
# no orphan, no duplicate, no committed sample lost. Host B reaches the server through a
# connection string of two hosts, the first one down.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/postgresql.sh"
. "$(dirname "$0")/two_hosts.sh"
# Beside the test's directory, not in it: the server runs as user postgres, which may not enter $T.
PGDIR=$(mktemp -d /tmp/sclman-pg-restart.XXXXXX)
trap 'rc=$?; pg_stop; rm -rf "$PGDIR"; cleanup $rc' EXIT
pg_start "$PGDIR" > /dev/null || fail "PostgreSQL did not start"
db=restart
pg_createdb "$db" > /dev/null
q() { pg_psql "$db" -tAc "$1"; }
write_config
# Host B's connection string names two servers, the first one down (port 1), with
# target_session_attrs=read-write: libpq connects to whichever is the primary, as after a
# failover.
two_hosts "host=127.0.0.1 port=$PG_PORT dbname=$db user=sclman" \
  "host=127.0.0.1,127.0.0.1 port=1,$PG_PORT dbname=$db user=sclman target_session_attrs=read-write"

sa create-cluster shop --web 1 --min 1 --max 3 > /dev/null
sa poll-load > /dev/null
sleep 1.1
sa poll-load > /dev/null
samples=$(q "SELECT count(*) FROM load_samples")
[ "$samples" -ge 2 ] || fail "samples before the restart: $samples"

SCLMAN_FAILPOINTS=create_server.after=stop "$SCLMAN" --config "$T/a.conf" scale-out --cluster shop --to 2 \
  > "$T/a.out" 2> "$T/a.err" &
a_pid=$!
wait_stopped "$a_pid" "$T/a.err"
[ -d "$T/instances/shop-web-2" ] || fail "host A stopped before its server was made"
pg_restart "$PGDIR" || fail "PostgreSQL did not start again"
kill -CONT "$a_pid"
rc=0; wait "$a_pid" || rc=$?
[ "$rc" = 75 ] || fail "host A after the restart: exit $rc, not 75: $(cat "$T/a.err")"
grep -q "state database '$db' on 127.0.0.1:$PG_PORT" "$T/a.err" || fail "A's error does not name the database: $(cat "$T/a.err")"
[ "$(q "SELECT count(*) FROM journal WHERE status = 'pending' AND op = 'create_server'")" = 1 ] \
  || fail "A's intent is not pending: $(q 'SELECT * FROM journal')"
pass "PostgreSQL restarted while host A's scale-out held an unrecorded server: A exits 75 ($(grep -m1 "error:" "$T/a.err"))"

sb scale-out --cluster shop --to 2 > "$T/b.out" 2> "$T/b.err" || fail "host B's next run: $(cat "$T/b.err")"
[ "$(q "SELECT name FROM instances WHERE role = 'web' AND state = 'in_service' ORDER BY name" | tr '\n' ' ')" = "shop-web-1 shop-web-2 " ] \
  || fail "after B's run: $(q 'SELECT name, state FROM instances')"
[ "$(ls "$T/instances" | sort | tr '\n' ' ')" = "shop-lb-1 shop-web-1 shop-web-2 " ] \
  || fail "instance directories: $(ls "$T/instances")"
[ "$(q "SELECT count(*) FROM journal WHERE status = 'pending'")" = 0 ] || fail "pending: $(q 'SELECT * FROM journal')"
sb gc --json > "$T/gc.json" || fail "gc on B"
[ "$(jq '.orphan_processes + .orphan_servers + .instances_cleaned' "$T/gc.json")" = 0 ] \
  || fail "gc found something to clean: $(cat "$T/gc.json")"
[ "$(q "SELECT count(*) FROM load_samples")" -ge "$samples" ] || fail "samples lost"
curl -fsS "http://$(sb status --json | jq -r '.[0].lb_address')/" > /dev/null || fail "the LB does not serve"
pass "host B's next run adopted A's server: 2 web in service, no orphan or duplicate, $samples samples kept"

sb delete-cluster shop > /dev/null
[ -z "$(ls "$T/instances")" ] || fail "left: $(ls "$T/instances")"
pass "deleted"
