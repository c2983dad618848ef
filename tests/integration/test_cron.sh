#!/usr/bin/env bash
# cron/sclman.cron: absolute paths, the chain behind flock -n, quiet when nothing goes wrong,
# and it drives a cluster (a killed instance is replaced by the next minute's run).
. "$(dirname "$0")/lib.sh"
write_config
printf '[STATE]\npath = %s\n' "$DB" >> "$SCLMAN_CONFIG"
cron="$SCLMAN_SOURCE_DIR/cron/sclman.cron"

line=$(grep -v '^#' "$cron" | grep -E '^\* \* \* \* \* root .*flock')
[ -n "$line" ] || fail "no each-minute line for root"
command=${line#\* \* \* \* \* root }
echo "$command" | grep '^/usr/bin/flock -n /var/lib/sclman/cron.lock ' > /dev/null || fail "chain is not behind flock -n"
for step in poll-load decide scale-out scale-in gc; do
  echo "$command" | grep "/usr/bin/sclman $step --cron --config /etc/sclman/sclman.conf" > /dev/null \
    || fail "cron line lacks an absolute '$step --cron --config' step"
done
report=$(grep -v '^#' "$cron" | grep -E '^\* \* \* \* \* root /usr/bin/sclman report --cron --config /etc/sclman/sclman.conf --output /')
[ -n "$report" ] || fail "no each-minute report line"
pass "cron lines: flock -n, absolute paths, every step with --cron and --config, the report"

# Run the line as cron would, with this test's binary, config and lock.
local_command=${command//\/usr\/bin\/sclman/$SCLMAN}
local_command=${local_command//\/etc\/sclman\/sclman.conf/$SCLMAN_CONFIG}
local_command=${local_command//\/var\/lib\/sclman\/cron.lock/$T/cron.lock}
sc create-cluster shop --web 2 > /dev/null
sh -c "$local_command" > "$T/cron.out" 2>&1 || fail "cron line failed: $(cat "$T/cron.out")"
[ ! -s "$T/cron.out" ] || fail "a quiet minute printed: $(cat "$T/cron.out")"
pass "a quiet minute prints nothing"

master=$(cat "$T/instances/shop-web-1/logs/nginx.pid")
kill -KILL $(ps -o pid= --ppid "$master") "$master"
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
