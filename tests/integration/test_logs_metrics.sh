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

# --log syslog: the lines reach the syslog socket. A private mount namespace puts a socket this
# test listens on at /dev/log, so nothing of the machine's own logging is touched.
if unshare -m true 2> /dev/null; then
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(3)
try:
    while True:
        print(s.recv(65536).decode(errors="replace"), flush=True)
except OSError:
    pass' "$T/log.sock" > "$T/syslog.out" &
  listener=$!
  for k in $(seq 1 50); do [ -S "$T/log.sock" ] && break; sleep 0.1; done
  unshare -m bash -c 'mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && touch /dev/log &&
    mount --bind "$1" /dev/log && shift && exec "$@"' _ "$T/log.sock" \
    "$SCLMAN" poll-load --state "$DB" --log syslog > /dev/null 2> "$T/stderr.out" || true
  wait $listener || true
  grep -q 'sclman\[[0-9]*\]: poll-load poll_load.done samples=2' "$T/syslog.out" \
    || fail "no syslog line: $(cat "$T/syslog.out" "$T/stderr.out")"
  [ ! -s "$T/stderr.out" ] || fail "--log syslog still wrote to stderr"
  pass "--log syslog sends the lines to /dev/log"
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
grep -qx 'sclman_errors_total{command="delete-cluster",kind="usage"} 1' "$M" || fail "error not counted"
grep -qx 'sclman_decisions_total{action="hold"} 1' "$M" || fail "decisions not counted"
grep -qx 'sclman_decisions_total{action="scale_out"} 1' "$M" || fail "manual decision not counted"
grep -qx 'sclman_actions_total{op="create_server",outcome="done"} 4' "$M" || fail "actions not counted"
grep -qx 'sclman_cluster_size{cluster="shop"} 3' "$M" || fail "cluster size not exported"
ls "$T/textfile" | grep -v '^sclman.prom$' > /dev/null && fail "temporary files left beside the textfile"
if command -v promtool > /dev/null; then
  promtool check metrics < "$M" || fail "promtool rejects the textfile"
  pass "promtool check metrics accepts the textfile"
else
  [ "${CI:-}" = true ] && fail "promtool is not installed (scripts/deps.sh installs prometheus)"
  echo "SKIPPED LOUDLY: no promtool here" >&2
fi
pass "textfile records runs, decisions, actions, errors and sizes"
