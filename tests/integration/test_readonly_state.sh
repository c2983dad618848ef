#!/usr/bin/env bash
# Commands that only read (status, why, report) open the state file read-only: they work on a
# state file on a read-only file system (a read-only bind mount in a private mount namespace
# here: as root, permissions would not stop a write), read changes still in its write-ahead
# log, and leave a writable state file as it was (no run record).
. "$(dirname "$0")/lib.sh"
write_config
sc create-cluster shop --web 1 > /dev/null
sc decide --cron

if ! unshare -m true 2> /dev/null; then
  [ "${CI:-}" != true ] || fail "cannot make a mount namespace on CI"
  echo "SKIPPED LOUDLY: no mount namespace here; read-only state not checked" >&2
  exit 77
fi

# run_ro DIR ARGS...: sclman ARGS with DIR mounted read-only (in a namespace of its own).
run_ro() {
  local dir=$1
  shift
  unshare -m bash -c 'd=$1; shift
    mount --bind "$d" "$d" && mount -o remount,ro,bind "$d" || exit 98
    if touch "$d/.probe" 2> /dev/null; then echo "still writable" >&2; exit 99; fi
    exec "$@"' _ "$dir" "$SCLMAN" "$@"
}

# A copy closed cleanly: the database file alone (WAL mode, no -wal or -shm beside it).
mkdir "$T/ro"
sqlite3 "$DB" ".backup $T/ro/sclman.db"
[ ! -e "$T/ro/sclman.db-wal" ] || fail "the copy has a -wal file"
run_ro "$T/ro" status --json --state "$T/ro/sclman.db" > "$T/status.json" 2> "$T/err" \
  || { cat "$T/err" >&2; fail "status cannot read a state file on a read-only file system"; }
[ "$(jq -r '.[0].name' "$T/status.json")" = shop ] || fail "status did not show the cluster"
run_ro "$T/ro" why shop --state "$T/ro/sclman.db" > "$T/why" 2> "$T/err" \
  || { cat "$T/err" >&2; fail "why cannot read a state file on a read-only file system"; }
grep -q . "$T/why" || fail "why printed nothing"
run_ro "$T/ro" report --output "$T/report" --state "$T/ro/sclman.db" 2> "$T/err" \
  || { cat "$T/err" >&2; fail "report cannot read a state file on a read-only file system"; }
[ -s "$T/report/index.html" ] || fail "report wrote no index.html"
rc=0
run_ro "$T/ro" decide --state "$T/ro/sclman.db" > /dev/null 2> "$T/err" || rc=$?
[ "$rc" = 74 ] || fail "decide (it writes) exited $rc on a read-only state file, expected 74"
pass "status, why and report read a state file on a read-only file system; decide is exit 74"

# A copy a writer left with changes in its write-ahead log (-wal and -shm beside it).
mkdir "$T/wal"
sqlite3 "$DB" ".backup $T/wal/sclman.db"
python3 - "$T/wal/sclman.db" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA wal_autocheckpoint = 0")
c.execute("UPDATE clusters SET desired = 7")
c.commit()
os._exit(0)  # no close: no checkpoint, the change stays in the -wal file
PY
[ -s "$T/wal/sclman.db-wal" ] && [ -e "$T/wal/sclman.db-shm" ] || fail "no -wal and -shm left"
run_ro "$T/wal" status --json --state "$T/wal/sclman.db" > "$T/status.json" 2> "$T/err" \
  || { cat "$T/err" >&2; fail "status cannot read a read-only state file with a -wal"; }
[ "$(jq -r '.[0].desired' "$T/status.json")" = 7 ] || fail "status missed the change in the -wal file"
# Without the -shm file a reader cannot use the -wal: a clear error, never the old data.
rm "$T/wal/sclman.db-shm"
rc=0
run_ro "$T/wal" status --state "$T/wal/sclman.db" > /dev/null 2> "$T/err" || rc=$?
[ "$rc" = 74 ] || { cat "$T/err" >&2; fail "status without -shm exited $rc, expected 74"; }
grep -q "write-ahead log '$T/wal/sclman.db-wal' holds changes" "$T/err" || fail "unclear error: $(cat "$T/err")"
pass "a read-only state file's -wal is read (with its -shm), or refused clearly (without)"

# On a writable file system the read-only commands leave the state file as it was.
runs=$(sqlite3 "$DB" "SELECT count(*) FROM runs")
sc status > /dev/null
sc why shop > /dev/null
sc report --output "$T/report2" > /dev/null
[ "$(sqlite3 "$DB" "SELECT count(*) FROM runs")" = "$runs" ] || fail "a read-only command recorded its run"
pass "status, why and report leave the state file as it was"
