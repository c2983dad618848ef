#!/usr/bin/env bash
# Crash consistency with two hosts on one PostgreSQL database: for every failpoint compiled into
# sclman, host A's command is killed there (SIGKILL), then host B (its own state directory, the
# same [STATE] url and [LOCAL] instances_dir) finishes the work with its chain; the invariants
# are checked after each (tests/integration/crash_lib.sh): no orphan, no duplicate, no committed
# sample lost. Host A's lock is taken over at once: its holder is a process of this machine that
# is gone (across machines, once it is older than 3 x man_run_deadline).
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/postgresql.sh"
. "$(dirname "$0")/two_hosts.sh"
pg_fixture
db=crash_$$
write_config "man_drain_seconds = 1
man_sensitivity = 1000"
sed -i 's/^man_drain_seconds = 2$//' "$SCLMAN_CONFIG"
two_hosts "host=127.0.0.1 port=$PG_PORT dbname=$db user=sclman"

A_ARGS=(--config "$T/a.conf")
on_b() { sb "$@"; }
chain_b() {
  on_b poll-load --cron || true
  on_b decide --cron
  on_b scale-out --cron
  on_b scale-in --cron
  on_b gc --cron
}
dbq() { pg_psql "$db" -tAc "$1"; }
db_reset() {
  pg_psql postgres -qc "DROP DATABASE IF EXISTS $db" > /dev/null
  pg_createdb "$db" > /dev/null
}
# PostgreSQL checks its constraints on each write; here: the database answers, and no row
# refers to a cluster that is not there.
db_check() {
  [ "$(dbq "SELECT count(*) FROM instances i LEFT JOIN clusters c ON c.id = i.cluster_id WHERE c.id IS NULL")" = 0 ]
}
. "$(dirname "$0")/crash_lib.sh"
run_crash_scenarios
[ ! -e "$T/host-a/sclman.db" ] && [ ! -e "$T/host-b/sclman.db" ] || fail "a state file was made"
pg_psql postgres -qc "DROP DATABASE $db" > /dev/null
pass "host B repaired after each kill of host A; no state file on either host"
