#!/usr/bin/env bash
# cron/sclman.cron and cron/sclman-chain: absolute paths, the chain behind flock -n, guarded by
# test -x (nothing happens once the package is removed), quiet when nothing goes wrong, it
# drives a cluster (a killed instance is replaced by the next minute's run), and a failed step
# leaves the rest to run and is the chain's exit code.
. "$(dirname "$0")/lib.sh"
write_config
printf '[STATE]\npath = %s\n' "$DB" >> "$SCLMAN_CONFIG"
cron="$SCLMAN_SOURCE_DIR/cron/sclman.cron"

chain="$SCLMAN_SOURCE_DIR/cron/sclman-chain"

# The package's user runs them (it owns the state directory), never root.
[ -z "$(grep -v '^#' "$cron" | grep -E '^\* \* \* \* \* root ')" ] || fail "a cron line runs as root"
line=$(grep -v '^#' "$cron" | grep -E '^\* \* \* \* \* sclman .*flock')
[ -n "$line" ] || fail "no each-minute line for the user sclman"
command=${line#\* \* \* \* \* sclman }
[ "$command" = "test -x /usr/lib/sclman/sclman-chain && /usr/bin/flock -n /var/lib/sclman/cron.lock /usr/lib/sclman/sclman-chain --syslog --metrics-file /var/lib/sclman/metrics/sclman.prom" ] \
  || fail "the chain line is not the guarded chain behind flock -n: $command"
grep -q "^  for step in poll-load decide scale-out scale-in; do$" "$chain" && grep -q '^run_step gc "$@"$' "$chain" \
  || fail "the chain's steps"
grep -q '^set -- --cron --config "$config"$' "$chain" && grep -q '^  "$sclman" "$name" "$@"$' "$chain" \
  && grep -q '^    run_step "$step" "$@"$' "$chain" || fail "a step without --cron --config"
grep -q '^sclman=/usr/bin/sclman$' "$chain" && grep -q '^config=/etc/sclman/sclman.conf$' "$chain" \
  || fail "the chain does not use absolute paths"
report=$(grep -v '^#' "$cron" | grep -E '^\* \* \* \* \* sclman test -x /usr/bin/sclman && /usr/bin/sclman report --cron --config /etc/sclman/sclman.conf --output /var/cache/sclman/www$')
[ -n "$report" ] || fail "no guarded each-minute report line"
pass "cron lines: guarded by test -x, flock -n, the chain with absolute paths, --cron and --config, the report"

# After `dpkg -r` the conffile stays: each line must then do nothing, quietly.
for l in "$command" "${report#\* \* \* \* \* sclman }"; do
  gone=${l//\/usr\/lib\/sclman\/sclman-chain/$T/gone/sclman-chain}
  gone=${gone//\/usr\/bin\/sclman/$T/gone/sclman}
  out=$(sh -c "$gone" 2>&1) || true
  [ -z "$out" ] || fail "a line printed with sclman removed: $out"
done
pass "with sclman removed, both lines do nothing and print nothing"

# Run the line as cron would, with this test's binary, config and lock.
sed -e "s|^sclman=/usr/bin/sclman$|sclman=$SCLMAN|" -e "s|^config=/etc/sclman/sclman.conf$|config=$SCLMAN_CONFIG|" \
  "$chain" > "$T/sclman-chain"
chmod +x "$T/sclman-chain"
local_command=${command//\/usr\/lib\/sclman\/sclman-chain/$T/sclman-chain}
local_command=${local_command//\/var\/lib\/sclman\/cron.lock/$T/cron.lock}
# This test's textfile, and no syslog: the machine's own logging is not this test's.
local_command=${local_command//\/var\/lib\/sclman\/metrics\/sclman.prom/$T/minute.prom}
local_command=${local_command// --syslog/}
sc create-cluster shop --web 2 > /dev/null
sh -c "$local_command" > "$T/cron.out" 2>&1 || fail "cron line failed: $(cat "$T/cron.out")"
[ ! -s "$T/cron.out" ] || fail "a quiet minute printed: $(cat "$T/cron.out")"
grep -qx 'sclman_last_run_success{command="gc"} 1' "$T/minute.prom" || fail "the minute's textfile: $(cat "$T/minute.prom")"
pass "a quiet minute prints nothing"

kill_nginx shop-web-1
sh -c "$local_command" > "$T/cron.out" 2>&1 || true
[ "$(web_in_service shop)" = 2 ] || fail "the cron minute did not replace the killed instance"
grep -q "instance.dead cluster=shop instance=shop-web-1" "$T/cron.out" || fail "cron output does not say what happened"
pass "the next minute replaced a killed instance and said so"

# A minute that overlaps a running one skips (flock -n), and the running one is not disturbed.
printf '%s\n' "$local_command" > "$T/minute.sh"
start_together "sh $T/minute.sh" "sh $T/minute.sh"
rcs="$(cat "$T/rc.1") $(cat "$T/rc.2")"
case "$rcs" in
  "0 0"|"0 1"|"1 0") ;;
  *) fail "overlapping minutes exited $rcs" ;;
esac
sqlite3 "$DB" "PRAGMA integrity_check" | grep -x ok > /dev/null || fail "integrity check failed"
[ "$(web_in_service shop)" = 2 ] || fail "overlapping minutes changed the size"
pass "overlapping minutes: exits $rcs"

# A failed step: the steps after it still run, and the chain exits with the first failure's
# code (a stand-in for sclman that records each step and fails decide with 75, gc with 70).
cat > "$T/fake-sclman" <<'EOT'
#!/bin/sh
echo "$1" >> "${0%/*}/steps"
echo "$*" >> "${0%/*}/args"
case $1 in decide) exit 75 ;; gc) exit 70 ;; esac
exit 0
EOT
chmod +x "$T/fake-sclman"
sed -e "s|^sclman=/usr/bin/sclman$|sclman=$T/fake-sclman|" "$chain" > "$T/fake-chain"
rc=0; sh "$T/fake-chain" --report "$T/www" || rc=$?
[ "$rc" = 75 ] || fail "the chain exited $rc after decide failed with 75, not 75"
# (The stand-in prints no man_ticks_per_minute: one tick.)
[ "$(grep -vx config "$T/steps" | tr '\n' ' ')" = "poll-load decide scale-out scale-in gc report " ] || fail "steps run: $(cat "$T/steps")"
# --metrics-file and --syslog reach every step (the report too), in any order.
: > "$T/steps"; : > "$T/args"
sh "$T/fake-chain" --syslog --metrics-file "$T/m.prom" --report "$T/www" || true
[ "$(grep -c -- "--cron --config /etc/sclman/sclman.conf --metrics-file $T/m.prom --log syslog" "$T/args")" = 6 ] \
  || fail "--metrics-file and --syslog did not reach every step: $(cat "$T/args")"
for bad in extra "--report" "--metrics-file" "--report ''" "--syslog --bogus"; do
  : > "$T/steps"
  rc=0; eval "sh \"\$T/fake-chain\" $bad" 2> /dev/null || rc=$?
  [ "$rc" = 64 ] && [ ! -s "$T/steps" ] || fail "a bad argument ($bad): exit $rc, steps $(cat "$T/steps")"
done
# With the real binary and a config that does not exist: every step fails the same way.
sed -e "s|^sclman=/usr/bin/sclman$|sclman=$SCLMAN|" -e "s|^config=/etc/sclman/sclman.conf$|config=$T/missing.conf|" \
  "$chain" > "$T/bad-chain"
rc=0; sh "$T/bad-chain" > "$T/bad.out" 2>&1 || rc=$?
[ "$rc" = 78 ] || fail "the chain with a missing config exited $rc, not 78: $(cat "$T/bad.out")"
[ "$(grep -c 'error' "$T/bad.out")" -ge 5 ] || fail "not every step ran and said why: $(cat "$T/bad.out")"
# With --metrics-file, the failed minute is in the textfile: each step's exit code 78, not a
# success (the config error happens before anything else).
rc=0; sh "$T/bad-chain" --metrics-file "$T/chain.prom" > /dev/null 2>&1 || rc=$?
for step in poll-load decide scale-out scale-in gc; do
  grep -qx "sclman_last_run_exit_code{command=\"$step\"} 78" "$T/chain.prom" \
    && grep -qx "sclman_last_run_success{command=\"$step\"} 0" "$T/chain.prom" \
    || fail "the textfile does not record $step's failure: $(cat "$T/chain.prom")"
done
pass "a failed step: the rest still run, the chain exits with the first failure (75; 78 for a missing config, 64 for a bad argument)"
