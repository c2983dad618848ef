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
trap 'rc=$?; stop_ours; (exit $rc); cleanup' EXIT

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
max_age = 60
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

# Bad PromQL: Prometheus' 400 bad_data, for every instance of the source.
prom_conf 'query = sclman_test_load{'
expect_exit 75 poll-load --state "$DB" --json
jq -e '[.[] | .error | startswith("prometheus answered HTTP 400 bad_data: ")] | all' "$T/out" > /dev/null \
  || { cat "$T/out"; fail "bad_data not reported"; }
pass "bad PromQL: 400 bad_data reported for each instance"

# The default query: CPU utilisation per node_exporter instance (127.0.0.1:NODE_PORT), matched
# to instances by host, so every local instance (127.0.0.1:*) gets it.
prom_conf ""
wait_query 'count(rate(node_cpu_seconds_total{mode="idle"}[2m]))' '.data.result | length == 1'
expect_exit 0 poll-load --state "$DB" --json
jq -e '[.[] | .value | type == "number" and . >= 0 and . <= 100] | all' "$T/out" > /dev/null \
  || { cat "$T/out"; fail "default query did not give a CPU percentage"; }
pass "the default query reads node_exporter's CPU utilisation"

# Prometheus down: every instance missing, exit 75, nothing else breaks.
kill "$PROM_PID"
for _ in $(seq 50); do alive "$PROM_PID" || break; sleep 0.1; done
expect_exit 75 poll-load --state "$DB" --json
jq -e '[.[] | .error | startswith("cannot reach ")] | all' "$T/out" > /dev/null \
  || { cat "$T/out"; fail "unreachable prometheus not reported"; }
expect_exit 0 decide --state "$DB"
case "$(decision pmiss)" in "hold "*) ;; *) fail "pmiss: expected a hold, got '$(decision pmiss)'";; esac
pass "prometheus down: samples missing, exit 75, decide holds"
