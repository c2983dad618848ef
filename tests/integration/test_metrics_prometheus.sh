#!/usr/bin/env bash
# Load from a real Prometheus (Debian's prometheus) scraping a real node_exporter on 127.0.0.1,
# through poll-load and decide: high load leads to a scale-out decision; an instance without a
# series (or whose series vanished, or is NaN) to a missing sample and a hold. Also: bad PromQL
# (400 bad_data), Prometheus down, and the default query (node_exporter CPU, matched by host).
. "$(dirname "$0")/lib.sh"

command -v prometheus > /dev/null || fail "prometheus is not installed (scripts/deps.sh)"
command -v prometheus-node-exporter > /dev/null || fail "prometheus-node-exporter is not installed"

OUR_PIDS=()
stop_ours() {
  local pid
  for pid in "${OUR_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${OUR_PIDS[@]}"; do
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  done
}
trap 'rc=$?; stop_ours; cleanup $rc' EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# node_exporter with the textfile collector (the test's values) and the cpu collector (the
# default query).
mkdir -p "$T/textfile" "$T/prom-data"
NODE_PORT=$(free_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_PORT" \
  --collector.disable-defaults --collector.textfile --collector.cpu \
  --collector.textfile.directory="$T/textfile" > "$T/node.log" 2>&1 &
OUR_PIDS+=($!)

PROM_PORT=$(free_port)
cat > "$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NODE_PORT']
YML
prometheus --config.file="$T/prometheus.yml" --web.listen-address="127.0.0.1:$PROM_PORT" \
  --storage.tsdb.path="$T/prom-data" > "$T/prometheus.log" 2>&1 &
PROM_PID=$!
OUR_PIDS+=($PROM_PID)
PROM=http://127.0.0.1:$PROM_PORT
for _ in $(seq 100); do curl -fsS "$PROM/-/ready" > /dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$PROM/-/ready" > /dev/null || { cat "$T/prometheus.log"; fail "prometheus not ready"; }

# set_load "NAME VALUE"...: the textfile the exporter serves, replaced atomically.
set_load() {
  {
    echo "# TYPE sclman_test_load gauge"
    local pair
    for pair in "$@"; do
      echo "sclman_test_load{sclman_instance=\"${pair% *}\"} ${pair#* }"
    done
  } > "$T/textfile/sclman.prom.tmp"
  mv "$T/textfile/sclman.prom.tmp" "$T/textfile/sclman.prom"
}
# wait_query QUERY JQ: until the instant query's result satisfies JQ (bounded, 15 s).
wait_query() {
  local k
  for k in $(seq 150); do
    if curl -fsS -G "$PROM/api/v1/query" --data-urlencode "query=$1" 2>/dev/null \
        | jq -e "$2" > /dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  fail "prometheus never answered '$1' with $2"
}

prom_conf() {
  write_config
  cat >> "$SCLMAN_CONFIG" <<CONF
[METRICS]
source = prometheus
max_age = ${MAX_AGE:-60}
[PROMETHEUS]
url = $PROM
$*
CONF
}
prom_conf "query = sclman_test_load
label = sclman_instance
match = name"

sc create-cluster prom --web 2 --max 3 > /dev/null 2>> "$T/create.err"
sc create-cluster pmiss --web 1 --max 2 > /dev/null 2>> "$T/create.err"
[ "$(sqlite3 "$DB" "SELECT metrics FROM clusters WHERE name='prom'")" = prometheus ] \
  || fail "[METRICS] source is not the default of create-cluster"

set_load "prom-web-1 500" "prom-web-2 400.5"
wait_query 'count(sclman_test_load)' '.data.result[0].value[1] == "2"'

expect_exit 75 poll-load --state "$DB"
grep -q "instance=pmiss-web-1 error=\"no series with sclman_instance matching 'pmiss-web-1'\"" "$T/err" \
  || { cat "$T/err"; fail "instance without series not reported"; }
sleep 1.1
expect_exit 75 poll-load --state "$DB" --json
[ "$(jq -r '.[] | select(.instance=="prom-web-1") | .value' "$T/out")" = 500 ] || { cat "$T/out"; fail "value of prom-web-1"; }
[ "$(jq -r '.[] | select(.instance=="prom-web-2") | .value' "$T/out")" = 400.5 ] || { cat "$T/out"; fail "value of prom-web-2"; }
[ "$(jq -r '.[] | select(.instance=="pmiss-web-1") | .value' "$T/out")" = null ] || fail "pmiss has a value"
pass "one query gives each instance its series' value; an instance without one is missing"

expect_exit 0 decide --state "$DB"
decision() {
  sqlite3 "$DB" "SELECT d.action || ' ' || d.reason FROM decisions d JOIN clusters c ON c.id = d.cluster_id
                 WHERE c.name = '$1' ORDER BY d.id DESC LIMIT 1"
}
case "$(decision prom)" in "scale_out "*) ;; *) fail "prom: expected scale_out, got '$(decision prom)'";; esac
case "$(decision pmiss)" in "hold "*missing*|"hold "*stale*) ;; *) fail "pmiss: expected a hold on missing data, got '$(decision pmiss)'";; esac
pass "high load in Prometheus scales out; no series holds"

# A series that vanishes (the exporter stops exposing it) is missing at the next poll, and NaN
# counts as missing.
set_load "prom-web-1 NaN"
wait_query 'count(sclman_test_load)' '.data.result[0].value[1] == "1"'
expect_exit 75 poll-load --state "$DB" --json
[ "$(jq -r '.[] | select(.instance=="prom-web-1") | .error' "$T/out")" = "prometheus gave NaN for 'prom-web-1'" ] \
  || { cat "$T/out"; fail "NaN not reported"; }
[ "$(jq -r '.[] | select(.instance=="prom-web-2") | .value' "$T/out")" = null ] \
  || { cat "$T/out"; fail "vanished series still has a value"; }
pass "a vanished series and NaN are missing"

# Bad PromQL: Prometheus' 400 bad_data, for every instance of the source, is a configuration
# error (78) with Prometheus' own message, asked once (not retried as a temporary failure).
prom_conf 'query = sclman_test_load{'
expect_exit 78 poll-load --state "$DB" --json
jq -e '[.[] | .error | startswith("prometheus answered HTTP 400 bad_data: ")] | all' "$T/out" > /dev/null \
  || { cat "$T/out"; fail "bad_data not reported"; }
prom_msg=$(curl -sS -G "$PROM/api/v1/query" --data-urlencode 'query=sclman_test_load{' | jq -r .error)
[ -n "$prom_msg" ] || fail "prometheus gave no error message for bad PromQL"
grep -qF "poll-load: error: prometheus answered HTTP 400 bad_data: $prom_msg" "$T/err" \
  || { cat "$T/err"; fail "exit 78 without Prometheus' message '$prom_msg'"; }
! grep -q 'prometheus.retry' "$T/err" || fail "bad PromQL was retried"
pass "bad PromQL: exit 78 with Prometheus' message, not retried"

# The default query: CPU utilisation per node_exporter instance (127.0.0.1:NODE_PORT), matched
# to instances by host, so every local instance (127.0.0.1:*) gets it.
prom_conf ""
wait_query 'count(rate(node_cpu_seconds_total{mode="idle"}[2m]))' '.data.result | length == 1'
expect_exit 0 poll-load --state "$DB" --json
jq -e '[.[] | .value | type == "number" and . >= 0 and . <= 100] | all' "$T/out" > /dev/null \
  || { cat "$T/out"; fail "default query did not give a CPU percentage"; }
pass "the default query reads node_exporter's CPU utilisation"

# Faults between sclman and Prometheus: tests/support/fault_proxy.py answers 500, 502, 503,
# 429 with Retry-After, resets, timeouts, slow, truncated and invalid JSON bodies at 10, 30, 60
# and 100 % of requests while poll-load runs under --cron. Counted: runs, faults, retries,
# wrong values stored (must be 0: a fault is a missing sample, never a wrong one), runs over
# the deadline (0), exits other than 0 and 75 (0). At 100 % every sample is missing; once the
# faults stop, every instance has its value again.
ROUNDS=${FAULT_ROUNDS:-3}
DEADLINE=8
fault_proxy fp "$PROM" 11 3
write_config "man_run_deadline = $DEADLINE"
cat >> "$SCLMAN_CONFIG" <<CONF
[METRICS]
source = prometheus
max_age = 60
[PROMETHEUS]
url = http://127.0.0.1:$(cat "$T/fp.port")
query = sclman_test_load
label = sclman_instance
match = name
timeout_ms = 1500
CONF
set_load "prom-web-1 321" "prom-web-2 123" "pmiss-web-1 7"
wait_query 'sum(sclman_test_load)' '.data.result[0].value[1] == "451"'
start_ms=$(sqlite3 "$DB" "SELECT coalesce(max(ts), 0) + 1 FROM load_samples")
runs=0; over=0; bad_exit=0
for rate in 10 30 60 100; do
  echo "$rate" > "$T/fp.control"
  for _ in $(seq 1 "$ROUNDS"); do
    rc=0
    t0=$(date +%s%N)
    "$SCLMAN" poll-load --cron --state "$DB" >> "$T/fp.out" 2>> "$T/fp.err" || rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    runs=$((runs + 1))
    # The deadline bounds the work; process start-up on a loaded machine is outside it.
    if [ "$ms" -gt $(( (DEADLINE + 10) * 1000 )) ]; then
      over=$((over + 1)); echo "over deadline: poll-load took $ms ms" >&2
    fi
    case $rc in 0|75) ;; *) bad_exit=$((bad_exit + 1)); tail -3 "$T/fp.err" >&2 ;; esac
  done
done
# At 100 % of faults that lose the answer (every kind but `slow`, which delivers it late and so
# may rightly give a value), a run stores no value at all.
echo "100 500,502,503,429,reset,timeout,truncated,badjson,late_500" > "$T/fp.control"
rc=0
"$SCLMAN" poll-load --cron --state "$DB" >> "$T/fp.out" 2>> "$T/fp.err" || rc=$?
case $rc in 0|75) ;; *) bad_exit=$((bad_exit + 1)); tail -3 "$T/fp.err" >&2 ;; esac
last_ts=$(sqlite3 "$DB" "SELECT max(ts) FROM load_samples")
[ "$(sqlite3 "$DB" "SELECT count(*) FROM load_samples WHERE ts = $last_ts AND value IS NOT NULL")" = 0 ] \
  || fail "a poll with every request faulted stored a value"
echo 0 > "$T/fp.control"
sleep 1.1
expect_exit 0 poll-load --state "$DB" --json
[ "$(jq -r '.[] | select(.instance=="prom-web-1") | .value' "$T/out")" = 321 ] \
  || { cat "$T/out"; fail "no value for prom-web-1 after the faults stopped"; }
wrong=$(sqlite3 "$DB" "SELECT count(*) FROM load_samples s JOIN instances i ON i.id = s.instance_id
  WHERE s.ts >= $start_ms AND s.value IS NOT NULL AND s.value != CASE i.name
  WHEN 'prom-web-1' THEN 321 WHEN 'prom-web-2' THEN 123 WHEN 'pmiss-web-1' THEN 7 END")
stored=$(sqlite3 "$DB" "SELECT count(*) FROM load_samples WHERE ts >= $start_ms AND value IS NOT NULL")
faults=$(grep -c ' fault ' "$T/fp.log" || true)
kinds=$(grep -oE ' fault [a-z0-9_]+' "$T/fp.log" | awk '{print $2}' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
retries=$(grep -c 'prometheus.retry' "$T/fp.err" || true)
echo "prometheus faults: runs=$runs faults_injected=$faults ($kinds) retries=$retries values_stored=$stored wrong_values=$wrong over_deadline=$over bad_exit=$bad_exit"
[ "$wrong" = 0 ] || fail "$wrong wrong values stored under faults"
[ "$over" = 0 ] || fail "$over runs over the deadline"
[ "$bad_exit" = 0 ] || fail "$bad_exit runs exited with an unexpected code"
[ "$faults" -gt 0 ] || fail "no fault was injected"
[ "$retries" -gt 0 ] || fail "no transient failure was retried"
# Retry-After is honoured: every retry after a 429 (which carries Retry-After: 1) waited at
# least its second.
after_429=$(grep 'prometheus.retry .*HTTP 429' "$T/fp.err" | grep -oE 'wait_ms=[0-9]+' | cut -d= -f2 || true)
short=$(awk '$1 < 1000' <<< "$after_429" | wc -l)
[ "$short" = 0 ] || fail "$short retries after a 429 with Retry-After: 1 waited less than 1000 ms"
echo "prometheus faults: $(grep -c . <<< "$after_429" || true) retries after a 429, each waited >= 1000 ms"
pass "prometheus faults: $runs runs, $faults faults, $retries retries, 0 wrong values, 0 over deadline"

# Hostile series: a web VM that exports its own metrics can put anything in the label that maps
# a series to an instance, and any value. Under match = address: label values holding the
# injection string, a newline or 300 characters are refused and logged escaped
# (metrics.key_refused), one line each; a value of 1e300 is refused naming its instance; the
# other instance keeps its sample; decide does not scale out and upstream.conf does not change.
# Their own metric (hostile.prom beside sclman.prom), so the sections below see none of it.
prom_conf "query = sclman_hostile_load
label = sclman_instance
match = address"
sc create-cluster phos --web 2 --min 2 --max 4 > /dev/null 2>> "$T/create.err"
PHOS_UP=$T/instances/phos-lb-1/conf/upstream.conf
PHOS_SHA=$(sha256sum < "$PHOS_UP")
phos_addr() { sqlite3 "$DB" "SELECT address FROM instances WHERE name='phos-web-$1'"; }
INJECT='127.0.0.1:80; } server { listen 1; } upstream x { server 127.0.0.1'
LONG=$(printf '1%.0s' $(seq 300))
{
  echo "# TYPE sclman_hostile_load gauge"
  echo "sclman_hostile_load{sclman_instance=\"$(phos_addr 1)\"} 1e300"
  echo "sclman_hostile_load{sclman_instance=\"$(phos_addr 2)\"} 42"
  echo "sclman_hostile_load{sclman_instance=\"$INJECT\"} 500"
  echo "sclman_hostile_load{sclman_instance=\"127.0.0.1:80\\nserver 10.9.9.9:80\"} 500"
  echo "sclman_hostile_load{sclman_instance=\"$LONG\"} 500"
} > "$T/textfile/hostile.prom.tmp"
mv "$T/textfile/hostile.prom.tmp" "$T/textfile/hostile.prom"
wait_query 'count(sclman_hostile_load)' '.data.result[0].value[1] == "5"'
for _ in 1 2; do  # man_sensitivity = 2: two polls would be enough to act on
  sleep 1.1
  expect_exit 75 poll-load --state "$DB" --cluster phos --json
  grep -q 'poll_load.missing cluster=phos instance=phos-web-1 error="value 1e+300 is out of range' "$T/err" \
    || { cat "$T/err"; fail "prometheus: a value of 1e300 not refused naming phos-web-1"; }
  [ "$(jq -r '.[] | select(.instance=="phos-web-1") | .value' "$T/out")" = null ] || { cat "$T/out"; fail "prometheus: 1e300 kept"; }
  [ "$(jq -r '.[] | select(.instance=="phos-web-2") | .value' "$T/out")" = 42 ] || { cat "$T/out"; fail "prometheus: phos-web-2 lost its sample"; }
  [ "$(grep -c 'metrics.key_refused source=prometheus value=' "$T/err")" = 3 ] \
    || { cat "$T/err"; fail "prometheus: the three hostile labels not each refused once"; }
  grep -qF "value=\"$INJECT\" reason=no_ip_address_and_port" "$T/err" || { cat "$T/err"; fail "prometheus: the injection string not named"; }
  grep -qF 'value="127.0.0.1:80\\x0aserver 10.9.9.9:80"' "$T/err" || { cat "$T/err"; fail "prometheus: the newline not escaped"; }
  ! grep -q '^server 10.9.9.9' "$T/err" || fail "prometheus: a raw newline reached the log"
done
[ "$(sqlite3 "$DB" "SELECT ifnull(s.value, 'null') || ' ' || ifnull(s.missing, 'null') FROM load_samples s
   JOIN instances i ON i.id = s.instance_id WHERE i.name = 'phos-web-1' ORDER BY s.ts DESC LIMIT 1")" = "null out_of_range" ] \
  || fail "prometheus: 1e300 not stored as out_of_range"
expect_exit 0 decide --state "$DB" --cluster phos
case "$(decision phos)" in "scale_out "*) fail "phos: scaled out on a hostile value: $(decision phos)";; esac
expect_exit 0 scale-out --state "$DB" --cluster phos
[ "$(sha256sum < "$PHOS_UP")" = "$PHOS_SHA" ] || fail "prometheus: phos's upstream.conf changed"
rm "$T/textfile/hostile.prom"
sc delete-cluster phos > /dev/null 2>&1 || fail "delete-cluster phos"
pass "prometheus: hostile labels refused and logged escaped, 1e300 refused naming its instance, the other sampled, upstream.conf unchanged"

# A stale series: the target stops, Prometheus keeps answering its last value (last_over_time),
# and time_query dates it by its newest sample. Fresh low load scales in; once the newest
# sample is older than max_age (5 s), the next decision holds as stale, never scales in.
MAX_AGE=5 prom_conf "query = last_over_time(sclman_test_load[10m])
time_query = max_over_time(timestamp(sclman_test_load)[10m:1s])
label = sclman_instance
match = name"
set_load "prom-web-1 5" "prom-web-2 5" "pmiss-web-1 5"
wait_query 'sum(sclman_test_load)' '.data.result[0].value[1] == "15"'
# prom sits at its min of 2: room to scale in, or the check below cannot tell stale from min.
expect_exit 0 set-policy prom --min 1 --state "$DB"
for _ in 1 2 3; do
  sleep 1.1
  expect_exit 0 poll-load --state "$DB" --cluster prom
done
expect_exit 0 decide --state "$DB" --cluster prom --dry-run --json
[ "$(jq -r '.[0].action' "$T/out")" = scale_in ] \
  || { cat "$T/out"; fail "fresh low load did not scale in (the stale case below would prove nothing)"; }
kill "${OUR_PIDS[0]}"  # node_exporter: the target stops
sleep 7
curl -fsS -G "$PROM/api/v1/query" --data-urlencode 'query=last_over_time(sclman_test_load[10m])' \
  | jq -e '.data.result | length == 3' > /dev/null || fail "prometheus no longer answers the old series"
expect_exit 75 poll-load --state "$DB" --cluster prom --json
jq -e '[.[] | .value == null and (.error | test("^sample is [0-9]+s old \\(max_age 5s\\)$"))] | all' \
  "$T/out" > /dev/null || { cat "$T/out"; fail "a stale series was not stale"; }
[ "$(sqlite3 "$DB" "SELECT count(*) FROM load_samples WHERE missing = 'stale'")" -ge 2 ] \
  || fail "stale samples not stored as stale"
expect_exit 0 decide --state "$DB" --cluster prom
[ "$(decision prom)" = "hold stale_samples" ] || fail "prom: expected 'hold stale_samples', got '$(decision prom)'"
# Without time_query, timestamp() of a computed query is its evaluation time: that dates
# nothing, so the samples stay stale and the log says what to set.
MAX_AGE=5 prom_conf "query = last_over_time(sclman_test_load[10m])
label = sclman_instance
match = name"
expect_exit 75 poll-load --state "$DB" --cluster prom --json
jq -e '[.[] | .value == null and .error == "the source gave no time for the sample"] | all' \
  "$T/out" > /dev/null || { cat "$T/out"; fail "a value dated by the evaluation time was taken as fresh"; }
grep -q 'prometheus.time_query_gives_evaluation_time' "$T/err" || fail "no warning about time_query"
pass "a stale series (target stopped, newest sample older than max_age) holds as stale, never scales in"

prom_conf "query = sclman_test_load
label = sclman_instance
match = name"
# Prometheus down: every instance missing, exit 75, nothing else breaks.
kill "$PROM_PID"
for _ in $(seq 50); do alive "$PROM_PID" || break; sleep 0.1; done
expect_exit 75 poll-load --state "$DB" --json
jq -e '[.[] | .error | startswith("cannot reach ")] | all' "$T/out" > /dev/null \
  || { cat "$T/out"; fail "unreachable prometheus not reported"; }
expect_exit 0 decide --state "$DB"
case "$(decision pmiss)" in "hold "*) ;; *) fail "pmiss: expected a hold, got '$(decision pmiss)'";; esac
pass "prometheus down: samples missing, exit 75, decide holds"
