#!/usr/bin/env bash
# Paths sclman reads and writes are checked for what they are: a config that is not a regular
# file (/dev/zero, a fifo, a directory) is exit 78 at once, never a hang or the defaults; a
# --metrics-file that exists and is not a regular file (a device node, a fifo, a symlink, a
# directory) is left as it is, with a warning, and the run's exit status stays 0. Device nodes
# are made below the test's own directory: /dev itself is never written to.
. "$(dirname "$0")/lib.sh"
write_config
sc create-cluster shop --web 1 > /dev/null

mkfifo "$T/fifo.conf"
for config in /dev/zero "$T" "$T/fifo.conf"; do
  rc=0
  timeout 10 "$SCLMAN" status --config "$config" --state "$DB" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" != 124 ] || fail "status --config $config hangs"
  [ "$rc" = 78 ] || { cat "$T/err" >&2; fail "status --config $config exited $rc, expected 78"; }
  expect_one_line "config file '$config' is not a regular file"
done
pass "a config that is not a regular file is exit 78 at once (/dev/zero, a directory, a fifo)"

# The textfile where nothing is yet and over a regular file: written (the control).
sc gc --metrics-file "$T/new.prom" > /dev/null
grep -q '^sclman_last_run_success{command="gc"} 1$' "$T/new.prom" || fail "textfile not written"
sc gc --metrics-file "$T/new.prom" > /dev/null
[ -f "$T/new.prom" ] && [ ! -L "$T/new.prom" ] || fail "textfile over a regular file not written"

echo "kept" > "$T/target"
ln -s "$T/target" "$T/link.prom"
mkfifo "$T/fifo.prom"
mkdir "$T/dir.prom"
kinds="symlink fifo directory"
paths="$T/link.prom $T/fifo.prom $T/dir.prom"
if mknod "$T/null.prom" c 1 3 2> /dev/null; then
  kinds+=" character"
  paths+=" $T/null.prom"
else
  echo "SKIPPED LOUDLY: mknod not allowed here; the device node case is not checked" >&2
fi
type_of() { stat -c %F "$1"; }
for p in $paths; do
  before=$(type_of "$p")
  rc=0
  timeout 20 "$SCLMAN" gc --state "$DB" --metrics-file "$p" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" = 0 ] || { cat "$T/err" >&2; fail "gc --metrics-file $p exited $rc"; }
  grep -q "run.metrics_not_written file=$p .*not a regular file" "$T/err" \
    || { cat "$T/err" >&2; fail "no warning for --metrics-file $p"; }
  [ "$(type_of "$p")" = "$before" ] || fail "$p was a $before, is now a $(type_of "$p")"
done
[ "$(cat "$T/target")" = kept ] || fail "the symlink's target was written"
[ -z "$(ls "$T" | grep '\.tmp\.')" ] || fail "a temporary file was left: $(ls "$T")"
pass "--metrics-file leaves a $kinds alone, warns, exit 0"
