# Shared helpers of the integration tests: a private directory, a test config, the real binary,
# and clean-up that stops only the nginx processes this test started (by pid, from pid files
# below its own directory). SCLMAN_KEEP=1 keeps the directory afterwards (for debugging).
set -euo pipefail

: "${SCLMAN:?set SCLMAN to the sclman binary}"
: "${SCLMAN_LOADGEN:?set SCLMAN_LOADGEN to the sclman-loadgen binary}"
: "${SCLMAN_SOURCE_DIR:?set SCLMAN_SOURCE_DIR to the source tree}"

T=$(mktemp -d /tmp/sclman-it.XXXXXX)
DB=$T/sclman.db
export SCLMAN_CONFIG=$T/sclman.conf
# sclman refuses a config file others may read (it can hold passwords): the test config is
# made private before anything writes it (a redirection into it keeps its mode, as sed -i does).
install -m 600 /dev/null "$SCLMAN_CONFIG"
LOADGEN_PIDS=()
SERVICE_PIDS=()  # fault proxies and Sensu fakes the helpers below started

stop_our_nginx() {
  local pidfile pid
  # Beside the test's state file, or one a directory down (a state directory of its own).
  for pidfile in "$T"/instances/*/logs/nginx.pid "$T"/*/instances/*/logs/nginx.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -- "-p ${pidfile%/logs/nginx.pid}/" > /dev/null; then
      kill -QUIT "$pid" 2>/dev/null || true
    fi
  done
}

# kill_nginx NAME [--if-running]: SIGKILL the nginx of local instance NAME behind sclman's back
# (a crash); one that does not run fails the test, unless --if-running. Its master leads its
# own process group: killing the group gets every worker (a list of the master's children,
# taken first, missed a worker forked meanwhile on a loaded machine, which lived on after the
# test, answering on the instance's port). SIGKILL is delivered when the kernel schedules it:
# wait (at most 10 s) until no process of the group is left.
kill_nginx() {
  local master
  master=$(cat "$T/instances/$1/logs/nginx.pid" 2>/dev/null || true)
  if [ -z "$master" ] || ! kill -0 "$master" 2>/dev/null; then
    [ "${2:-}" = --if-running ] || fail "$1's nginx does not run"
    return 0
  fi
  [ "$(ps -o pgid= -p "$master" | tr -d ' ')" = "$master" ] ||
    fail "$1's nginx master leads no process group"
  kill -KILL -- "-$master"
  for _ in $(seq 1 100); do pgrep -g "$master" > /dev/null || break; sleep 0.1; done
  ! pgrep -g "$master" > /dev/null || fail "$1's nginx processes outlived SIGKILL"
}

# cleanup [RC]: stop what lib.sh started, remove $T, exit RC (default: the status it was called
# with). A test's own EXIT trap passes its saved status: `trap 'rc=$?; stop_x; cleanup $rc' EXIT`
# (not `(exit $rc); cleanup`: under set -e that subshell's failure ends the trap first).
cleanup() {
  local rc=${1:-$?}
  for pid in "${LOADGEN_PIDS[@]}" "${SERVICE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_our_nginx
  sleep 0.3
  [ -z "${SLOW_DIR:-}" ] || rm -rf "$SLOW_DIR"
  if [ $rc -ne 0 ]; then
    echo "--- state of the failed test ($T)" >&2
    "$SCLMAN" status --all --state "$DB" >&2 2>/dev/null || true
  fi
  [ -n "${SCLMAN_KEEP:-}" ] || rm -rf "$T"
  exit $rc
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

pass() {
  echo "ok: $*"
}

# Write the test config: small thresholds, a short drain and no cooldown, so that a cycle
# takes seconds. Extra lines go in [MANAGER].
write_config() {
  {
    config_section MANAGER "man_sensitivity = 2
man_high_load = 150
man_low_load = 20
man_cooldown = 2
man_drain_seconds = 2
man_run_deadline = 30" "$*"
    config_section LOCAL "health_timeout_ms = 2000
worker_connections = 512" ""
  } > "$SCLMAN_CONFIG"
}

# config_section NAME DEFAULTS EXTRA: print section [NAME] with the DEFAULTS lines, where a line
# of EXTRA with the same key replaces the default (sclman rejects a key set twice), then the
# rest of EXTRA.
config_section() {
  local line key
  echo "[$1]"
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    key=${line%%=*}
    key=${key%"${key##*[! ]}"}
    grep -qE "^[[:space:]]*${key}[[:space:]]*=" <<< "$3" || printf '%s\n' "$line"
  done <<< "$2"
  [ -z "$3" ] || printf '%s\n' "$3"
}

# True if process PID runs (a zombie nobody reaped does not count).
alive() {
  [ -e "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# Start the commands given as arguments at the same moment (they spin on a file, which one
# touch releases); wait for them; their exit codes go to $T/rc.N, outputs to $T/out.N, $T/err.N.
start_together() {
  rm -f "$T/go"
  local n=0 cmd
  for cmd in "$@"; do
    n=$((n + 1))
    ( while [ ! -e "$T/go" ]; do sleep 0.001; done
      rc=0; eval "$cmd" > "$T/out.$n" 2> "$T/err.$n" || rc=$?; echo $rc > "$T/rc.$n" ) &
  done
  sleep 0.3
  touch "$T/go"
  wait
}

# reload_nginx NAME: reload the nginx of local instance NAME (a HUP) and return once no worker
# of the old generation accepts any more: until then a request may still reach one and be
# answered with the old config.
reload_nginx() {
  local master old w accepting
  master=$(cat "$T/instances/$1/logs/nginx.pid")
  old=$(pgrep -P "$master" || true)
  kill -HUP "$master"
  for _ in $(seq 200); do
    accepting=0
    for w in $old; do
      if [ -e "/proc/$w" ] && ! tr '\0' ' ' < "/proc/$w/cmdline" 2> /dev/null | grep -q "shutting down"; then
        accepting=1
      fi
    done
    [ $accepting = 0 ] && return 0
    sleep 0.05
  done
  fail "the old workers of $1's nginx still accept after a reload"
}

# serve_slow NAME SECONDS: NAME's nginx (a local instance of this test) also serves /slow, a
# long request of its own: SECONDS KiB at 1 KiB/s. The file lies in $SLOW_DIR, where nginx's
# workers (nobody) can read it ($T is mode 700); cleanup removes it.
serve_slow() {
  local conf=$T/instances/$1/conf/nginx.conf address
  if [ -z "${SLOW_DIR:-}" ]; then
    SLOW_DIR=$(mktemp -d /tmp/sclman-slow.XXXXXX)
    chmod 755 "$SLOW_DIR"
  fi
  head -c "$(($2 * 1024))" /dev/urandom > "$SLOW_DIR/$1.bin"
  chmod 644 "$SLOW_DIR/$1.bin"
  python3 - "$conf" "$SLOW_DIR/$1.bin" <<'PY'
import sys
conf, body = sys.argv[1], sys.argv[2]
text = open(conf).read()
old = "    location / {\n"
assert text.count(old) == 1, "location / not found"
open(conf, "w").write(text.replace(old, "    location = /slow {\n      alias %s;\n"
                                   "      default_type application/octet-stream;\n"
                                   "      limit_rate 1k;\n    }\n" % body + old))
PY
  # An old worker would answer without /slow at once.
  reload_nginx "$1"
  address=$(sqlite3 "$DB" "SELECT address FROM instances WHERE name = '$1'")
  for _ in $(seq 100); do
    [ "$(curl -sS -o /dev/null -w '%{http_code}' -r 0-0 "http://$address/slow")" = 206 ] && return 0
    sleep 0.05
  done
  fail "$1 does not serve /slow"
}

# in_flight NAME: the requests in flight on NAME's nginx now (its stub_status), besides this one.
in_flight() {
  local address
  address=$(sqlite3 "$DB" "SELECT address FROM instances WHERE name = '$1'")
  curl -fsS "http://$address/nginx_status" |
    sed -n 's/^Reading: \([0-9]*\) Writing: \([0-9]*\) .*/\1 \2/p' | { read -r r w; echo $((r + w - 1)); }
}

# hold_request NAME: start one request of /slow (serve_slow) straight to NAME, not through the
# LB; return once it is in flight, with the curl's pid in HELD (cleanup does not stop it: kill it,
# or let it end).
hold_request() {
  local address
  address=$(sqlite3 "$DB" "SELECT address FROM instances WHERE name = '$1'")
  curl -sS -o /dev/null "http://$address/slow" 2> "$T/held.err" &
  HELD=$!
  for _ in $(seq 300); do
    [ "$(in_flight "$1")" -ge 1 ] && return 0
    sleep 0.1
  done
  fail "no request in flight on $1 ($address) after 30 s: curl $(kill -0 "$HELD" 2> /dev/null && echo running || echo ended) ($(cat "$T/held.err")); its status page: $(curl -sS "http://$address/nginx_status" 2>&1); its error log: $(tail -n 5 "$T/instances/$1/logs/error.log" 2>&1)"
}

# sclman with the test state file.
sc() {
  "$SCLMAN" "$@" --state "$DB"
}

# Run `sclman ARGS...`, expect exit code CODE; the error output goes to $T/err.
expect_exit() {
  local code=$1
  shift
  local rc=0
  "$SCLMAN" "$@" > "$T/out" 2> "$T/err" || rc=$?
  if [ "$rc" != "$code" ]; then
    echo "stdout:" >&2; cat "$T/out" >&2
    echo "stderr:" >&2; cat "$T/err" >&2
    fail "sclman $* exited $rc, expected $code"
  fi
}

# Expect exactly one line on stderr from the last expect_exit, containing TEXT.
expect_one_line() {
  local lines
  lines=$(wc -l < "$T/err")
  [ "$lines" = 1 ] || { cat "$T/err" >&2; fail "expected one error line, got $lines"; }
  grep -qF -- "$1" "$T/err" || { cat "$T/err" >&2; fail "error line lacks '$1'"; }
}

# fault_proxy NAME UPSTREAM SEED HANG [ARGS...]: tests/support/fault_proxy.py in front of
# UPSTREAM, at rate 0 until "RATE [FAULTS]" is written to $T/NAME.control, with the faults for
# given requests queued in $T/NAME.queue (empty at first); its port is in $T/NAME.port, one line
# per request in $T/NAME.log; a timeout fault hangs HANG seconds; ARGS go to the proxy as they
# are. cleanup stops it.
fault_proxy() {
  echo 0 > "$T/$1.control"
  : > "$T/$1.queue"
  python3 "$SCLMAN_SOURCE_DIR/tests/support/fault_proxy.py" --upstream "$2" \
    --port-file "$T/$1.port" --log "$T/$1.log" --control "$T/$1.control" \
    --queue "$T/$1.queue" --seed "$3" --hang "$4" --slow 0.1 "${@:5}" &
  SERVICE_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.05; done
  [ -s "$T/$1.port" ] || fail "fault proxy $1 did not start"
}

# start_fake NAME ARGS...: tests/fakes/sensu_NAME.py serving $T/NAME.json, its port in
# $T/NAME.port, its log in $T/NAME.log; ARGS go to the fake. Waits (bounded) for the port.
# cleanup stops it.
start_fake() {
  local name=$1
  shift
  python3 "$SCLMAN_SOURCE_DIR/tests/fakes/sensu_$name.py" --port-file "$T/$name.port" \
    --data "$T/$name.json" --log "$T/$name.log" "$@" &
  SERVICE_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
  [ -s "$T/$name.port" ] || fail "fake sensu_$name did not start"
}

# Print a jq expression evaluated on `sclman status --json`.
status_q() {
  sc status --json | jq -r "$1"
}

web_in_service() {
  status_q "[.[] | select(.name==\"$1\") | .instances[] | select(.role==\"web\" and .state==\"in_service\")] | length"
}

lb_address() {
  status_q ".[] | select(.name==\"$1\") | .lb_address"
}

# lb_applied LB: the addresses the nginx of LB instance LB (here, or its stand-in) has loaded,
# sorted, one line.
lb_applied() { awk '$1=="server" && !/ down;/ {print $2}' "$T/instances/$1/conf/upstream.applied" 2>/dev/null | tr -d ';' | sort | tr '\n' ' ' | sed 's/ $//'; }
# in_service_addresses CLUSTER: the addresses of CLUSTER's web instances in service, as lb_applied.
in_service_addresses() { status_q "[.[] | select(.name==\"$1\") | .instances[] | select(.role==\"web\" and .state==\"in_service\") | .address] | sort | join(\" \")"; }
# serves_through LB NAME...: in 20 requests through the LB at address LB, each named web
# instance answers.
serves_through() {
  local lb=$1 seen="" n
  shift
  for _ in $(seq 1 20); do seen+=$(curl -fsS "http://$lb/")$'\n'; done
  for n in "$@"; do echo "$seen" | grep -q "sclman web instance $n " || fail "$n never answered through the LB at $lb"; done
}

# The cron chain once (what cron/sclman.cron runs each minute, without the flock fence).
chain() {
  sc poll-load --cron || true
  sc decide --cron
  sc scale-out --cron
  sc scale-in --cron
  sc gc --cron
}

# Dump the state tables that must not change under a failed command.
state_dump() {
  sqlite3 "$DB" ".dump clusters instances decisions journal load_samples"
}
