#!/usr/bin/env bash
# Crash consistency on one host and its SQLite state file: for every failpoint compiled into
# sclman, a scenario killed there (SIGKILL), then the same host's chain repairs; the invariants
# are checked after each (tests/integration/crash_lib.sh).
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 1
man_sensitivity = 1000"
sed -i 's/^man_drain_seconds = 2$//' "$SCLMAN_CONFIG"

A_ARGS=(--state "$DB")
on_b() { sc "$@"; }
chain_b() { chain; }
dbq() { sqlite3 "$DB" "$1"; }
db_reset() { rm -f "$DB" "$DB-wal" "$DB-shm"; }
db_check() { [ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ]; }
. "$(dirname "$0")/crash_lib.sh"
run_crash_scenarios
