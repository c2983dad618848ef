# Two sclman hosts on one PostgreSQL database, for the test_postgresql_* tests (docs/TWO-HOSTS.md).
# Source it after lib.sh and tests/support/postgresql.sh.
#   pg_fixture            the server of ctest's postgresql fixture: sets PG_PORT
#   two_hosts URL [URL_B] state directories $T/host-a and $T/host-b, configs $T/a.conf and
#                         $T/b.conf: $SCLMAN_CONFIG (as the test wrote it), the shared
#                         [LOCAL] instances_dir $T/instances, and [STATE] url URL (URL_B for b)
#   sa ARGS / sb ARGS     sclman as host a / host b
#   wait_stopped PID      wait (at most 30 s) until process PID stopped itself (a failpoint's
#                         stop mode); fail otherwise, showing FILE (its error output)

pg_fixture() {
  : "${SCLMAN_PG_DIR:?set SCLMAN_PG_DIR to the directory of the postgresql fixture}"
  [ -s "$SCLMAN_PG_DIR/port" ] || fail "no PostgreSQL in $SCLMAN_PG_DIR (ctest's postgresql:start)"
  PG_PORT=$(cat "$SCLMAN_PG_DIR/port")
}

two_hosts() {
  local h url
  mkdir -m 700 "$T/host-a" "$T/host-b"
  for h in a b; do
    url=$1
    [ $h = a ] || url=${2:-$1}
    install -m 600 /dev/null "$T/$h.conf"
    sed "s|^\[LOCAL\]$|[LOCAL]\ninstances_dir = $T/instances|" "$SCLMAN_CONFIG" > "$T/$h.conf"
    printf '[STATE]\npath = %s\nurl = %s\n' "$T/host-$h/sclman.db" "$url" >> "$T/$h.conf"
  done
}

sa() { "$SCLMAN" --config "$T/a.conf" "$@"; }
sb() { "$SCLMAN" --config "$T/b.conf" "$@"; }

wait_stopped() {
  local _
  for _ in $(seq 1 300); do
    grep -q '^State:.*(stopped)' "/proc/$1/status" 2> /dev/null && return 0
    sleep 0.1
  done
  fail "process $1 did not stop at its failpoint: $(cat "$2")"
}
