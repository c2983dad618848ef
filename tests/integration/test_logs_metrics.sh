#!/usr/bin/env bash
# Logs as JSON lines for log shippers, and --metrics-file: a node_exporter textfile written
# atomically after each run, with the last run of each command, decisions and actions by kind,
# errors by kind and each cluster's size; promtool accepts it.
. "$(dirname "$0")/lib.sh"
write_config
M=$T/textfile/sclman.prom
mkdir -p "$T/textfile"

sc create-cluster shop --web 2 --max 4 --log-format json > /dev/null 2> "$T/log.json"
[ -s "$T/log.json" ] || fail "no JSON log lines"
while IFS= read -r line; do
  echo "$line" | jq -e 'has("time") and has("level") and has("command") and has("event")' > /dev/null \
    || fail "not a JSON log line: $line"
done < "$T/log.json"
jq -c 'select(.event == "instance.in_service" and .cluster == "shop" and .instance == "shop-web-1")' \
  "$T/log.json" | grep . > /dev/null || fail "instance.in_service event not found with its fields"
pass "JSON log lines carry event and fields"

# Errors too, config errors included: one JSON line (event run.failed), nothing else.
printf '[MANAGER]\nman_sensitivity = many\n' > "$T/bad.conf"
chmod 600 "$T/bad.conf"
rc=0
"$SCLMAN" status --state "$DB" --config "$T/bad.conf" --log-format json > /dev/null 2> "$T/err.json" || rc=$?
[ $rc = 78 ] || fail "a config error exited $rc, not 78"
[ "$(wc -l < "$T/err.json")" = 1 ] || fail "a config error with --log-format json wrote: $(cat "$T/err.json")"
jq -e '.event == "run.failed" and .level == "error" and .command == "status" and .kind == "config"
       and .exit_code == "78" and (.error | contains("man_sensitivity")) and has("time")' "$T/err.json" > /dev/null \
  || fail "not the error as a JSON line: $(cat "$T/err.json")"
rc=0
"$SCLMAN" delete-cluster nosuch --state "$DB" --log-format json > /dev/null 2> "$T/err2.json" || rc=$?
[ $rc = 64 ] && jq -e '.event == "run.failed" and .kind == "usage" and .exit_code == "64"' "$T/err2.json" > /dev/null \
  || fail "a usage error with --log-format json (exit $rc): $(cat "$T/err2.json")"
pass "errors with --log-format json are one JSON line each (run.failed with kind, exit_code, error), config errors too"

# --log syslog: the lines reach the syslog socket. A private mount namespace puts a socket this
# test listens on at /dev/log, so nothing of the machine's own logging is touched.
if unshare -m true 2> /dev/null; then
  python3 "$SCLMAN_SOURCE_DIR/tests/support/syslog_listener.py" "$T/log.sock" > "$T/syslog.out" &
  listener=$!
  for k in $(seq 1 50); do [ -S "$T/log.sock" ] && break; sleep 0.1; done
  DB=$DB T=$T unshare -m bash -c 'mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && touch /dev/log &&
    mount --bind "$1" /dev/log && shift && "$@" poll-load --state "$DB" --log syslog 2> "$T/stderr.out";
    "$@" status --state "$DB" --config "$T/bad.conf" --log syslog 2> "$T/stderr2.out"; true' _ "$T/log.sock" \
    "$SCLMAN" > /dev/null || true
  wait $listener || true
  grep -q 'sclman\[[0-9]*\]: poll-load poll_load.done samples=2' "$T/syslog.out" \
    || fail "no syslog line: $(cat "$T/syslog.out" "$T/stderr.out")"
  [ ! -s "$T/stderr.out" ] || fail "--log syslog still wrote to stderr"
  grep -q 'sclman\[[0-9]*\]: status run.failed exit_code=78 kind=config error=.*man_sensitivity' "$T/syslog.out" \
    || fail "the config error did not reach syslog: $(cat "$T/syslog.out")"
  grep -q "^sclman status: error: .*man_sensitivity" "$T/stderr2.out" || fail "the error line left stderr: $(cat "$T/stderr2.out")"
  pass "--log syslog sends the lines to /dev/log, errors too (config errors included), and the error line still to stderr"
else
  [ "${CI:-}" != true ] || fail "cannot make a mount namespace on CI"
  echo "SKIPPED LOUDLY: no mount namespace here; --log syslog not checked" >&2
fi

for c in poll-load decide scale-out scale-in gc; do
  sc $c --cron --metrics-file "$M"
done
sc scale-out --cluster shop --to 3 --metrics-file "$M" > /dev/null
sc delete-cluster nosuch --metrics-file "$M" 2> /dev/null || true
cat "$M"
grep -qx 'sclman_last_run_success{command="gc"} 1' "$M" || fail "gc run not recorded"
grep -qx 'sclman_last_run_exit_code{command="delete-cluster"} 64' "$M" || fail "failed run not recorded"
# Two: the one above, and the one with --log-format json.
grep -qx 'sclman_errors_total{command="delete-cluster",kind="usage"} 2' "$M" || fail "error not counted"
grep -qx 'sclman_decisions_total{action="hold"} 1' "$M" || fail "decisions not counted"
grep -qx 'sclman_decisions_total{action="scale_out"} 1' "$M" || fail "manual decision not counted"
grep -qx 'sclman_actions_total{op="create_server",outcome="done"} 4' "$M" || fail "actions not counted"
grep -qx 'sclman_cluster_size{cluster="shop"} 3' "$M" || fail "cluster size not exported"
success_ts=$(sed -n 's/^sclman_last_success_timestamp_seconds{command="gc"} //p' "$M")
[ -n "$success_ts" ] || fail "no last success of gc"
# gc fails twice on a config error (the state file is never opened): its lines say so, its last
# success stays, the other commands' and clusters' lines stay.
for _ in 1 2; do
  "$SCLMAN" gc --state "$DB" --config "$T/bad.conf" --metrics-file "$M" 2> /dev/null && fail "gc with a bad config succeeded"
done
grep -qx 'sclman_last_run_exit_code{command="gc"} 78' "$M" && grep -qx 'sclman_last_run_success{command="gc"} 0' "$M" \
  || fail "a config error is not in the textfile: $(grep 'command="gc"' "$M")"
grep -qx "sclman_last_success_timestamp_seconds{command=\"gc\"} $success_ts" "$M" || fail "gc's last success changed: $(grep 'command="gc"' "$M")"
grep -qx 'sclman_cluster_size{cluster="shop"} 3' "$M" && grep -qx 'sclman_last_run_success{command="decide"} 1' "$M" \
  || fail "a config error lost the other lines: $(cat "$M")"
sc gc --metrics-file "$M" > /dev/null 2>&1 || fail "gc"
grep -qx 'sclman_last_run_success{command="gc"} 1' "$M" || fail "gc's success after the failures not recorded"
ls "$T/textfile" | grep -v '^sclman.prom$' > /dev/null && fail "temporary files left beside the textfile"
if command -v promtool > /dev/null; then
  promtool check metrics < "$M" || fail "promtool rejects the textfile"
  pass "promtool check metrics accepts the textfile"
else
  [ "${CI:-}" = true ] && fail "promtool is not installed (scripts/deps.sh installs prometheus)"
  echo "SKIPPED LOUDLY: no promtool here" >&2
fi
pass "textfile records runs, decisions, actions, errors and sizes"
