#!/usr/bin/env bash
# Load from Sensu Core 1.x (GET /results) and Sensu Go (GET .../events), through poll-load and
# decide, against the protocol fakes in tests/fakes/ (Sensu cannot be installed here): high
# load in the check output or metric points leads to a scale-out decision; a missing or stale
# result, or a broken Sensu, to a missing sample and a hold. Also: pagination (several pages
# per poll), basic auth and API keys (never logged), and the original tool's "a warning or
# critical event means high load" mode.
. "$(dirname "$0")/lib.sh"

start_fake core --user admin --password core-secret-pw
start_fake go --api-key go-secret-key-1234
CORE=http://127.0.0.1:$(cat "$T/core.port")
GO=http://127.0.0.1:$(cat "$T/go.port")

sensu_conf() {
  write_config
  cat >> "$SCLMAN_CONFIG" <<CONF
[METRICS]
max_age = 60
[SENSU]
url = $CORE
user = admin
password = ${CORE_PASSWORD:-core-secret-pw}
page_size = 2
$*
[SENSU_GO]
url = $GO
api_key = go-secret-key-1234
CONF
}
sensu_conf

# A Sensu Core result, as GET /results lists them.
core_result() {  # CLIENT CHECK STATUS OUTPUT [EXECUTED]
  jq -cn --arg c "$1" --arg k "$2" --argjson s "$3" --arg o "$4" --argjson e "${5:-$(date +%s)}" \
    '{client: $c, check: {name: $k, command: "check-load.rb", subscribers: ["web"],
      interval: 60, status: $s, output: $o, issued: $e, executed: $e, duration: 0.03,
      history: [0, 0, $s]}}'
}
# A Sensu Go event with an optional metric point.
go_event() {  # ENTITY CHECK OUTPUT [POINT_NAME POINT_VALUE]
  local now
  now=$(date +%s)
  jq -cn --arg e "$1" --arg k "$2" --arg o "$3" --arg pn "${4:-}" --argjson pv "${5:-0}" \
    --argjson t "$now" \
    '{check: {metadata: {name: $k, namespace: "default"}, output: $o, status: 0,
      executed: $t, issued: $t, interval: 60, state: "passing"},
      entity: {entity_class: "agent", metadata: {name: $e, namespace: "default"}},
      metadata: {namespace: "default"}, timestamp: $t, sequence: 1}
     + (if $pn == "" then {} else
        {metrics: {handlers: [], points: [{name: $pn, value: $pv, timestamp: ($t * 1000),
          tags: []}]}} end)'
}

sc create-cluster core --web 2 --max 3 --metrics sensu > /dev/null 2>> "$T/create.err"
sc create-cluster old --web 1 --max 2 --metrics sensu > /dev/null 2>> "$T/create.err"
sc create-cluster miss --web 1 --max 2 --metrics sensu > /dev/null 2>> "$T/create.err"
sc create-cluster gocl --web 1 --max 2 --metrics sensu_go > /dev/null 2>> "$T/create.err"
[ "$(sqlite3 "$DB" "SELECT metrics FROM clusters WHERE name='gocl'")" = sensu_go ] \
  || fail "--metrics not stored in the cluster"
expect_exit 64 create-cluster bad --web 1 --metrics graphite --state "$DB"
pass "create-cluster --metrics stores the source; an unknown one is a usage error"

write_data() {
  {
    echo "["
    core_result core-web-1 load 0 "OK - load average: 5.0, 1, 1|load1=500.0;800;900;0; load5=1;2;3;0;"
    echo ","; core_result core-web-2 load 1 "$(printf 'core-web-2.load_avg.one 480 %s' "$(date +%s)")"
    echo ","; core_result core-web-1 keepalive 0 "Keepalive sent from client 2 seconds ago"
    echo ","; core_result old-web-1 load 0 "x | load1=500" $(( $(date +%s) - 600 ))
    echo ","; core_result other-host load 0 "x | load1=1"
    echo "]"
  } > "$T/core.json"
  {
    echo "["
    go_event gocl-web-1 load "ignored | load1=1" gocl-web-1.load.load1 450
    echo ","; go_event gocl-web-1 keepalive "ok"
    echo ","; go_event someone-else load "x | load1=2"
    echo "]"
  } > "$T/go.json"
}
write_data

# Two polls (man_sensitivity = 2). Missing and stale samples make poll-load exit 75, but every
# instance that has data still gets its sample.
expect_exit 75 poll-load --state "$DB"
grep -q "instance=miss-web-1 error=\"no result of check 'load' for 'miss-web-1'\"" "$T/err" \
  || { cat "$T/err"; fail "missing result not reported"; }
grep -q "instance=old-web-1 error=\"sample is 60[0-9]s old (max_age 60s)\"" "$T/err" \
  || { cat "$T/err"; fail "stale result not reported"; }
sleep 1.1
write_data
expect_exit 75 poll-load --state "$DB"
value() {
  sqlite3 "$DB" "SELECT ifnull(s.value, 'null') FROM load_samples s JOIN instances i ON i.id = s.instance_id
                 WHERE i.name = '$1' ORDER BY s.ts DESC LIMIT 1"
}
[ "$(value core-web-1)" = 500.0 ] || fail "perfdata value not stored: $(value core-web-1)"
[ "$(value core-web-2)" = 480.0 ] || fail "graphite value not stored: $(value core-web-2)"
[ "$(value gocl-web-1)" = 450.0 ] || fail "metric point value not stored: $(value gocl-web-1)"
[ "$(value old-web-1)" = null ] || fail "stale value stored as fresh"
[ "$(value miss-web-1)" = null ] || fail "missing value not stored as missing"
# [SENSU] page_size = 2 for both. Sensu Core: 5 results = 3 requests per poll (the 2nd and
# 3rd at once); Sensu Go: 3 events = 2 requests, the second with the Sensu-Continue token.
[ "$(grep -c '^GET /results?filter.check.name=load&limit=2&offset=' "$T/core.log")" = 6 ] \
  || { cat "$T/core.log"; fail "sensu core not read in pages of 2"; }
[ "$(grep -c 'GET /api/core/v2/namespaces/default/events?limit=2' "$T/go.log")" = 4 ] \
  || { cat "$T/go.log"; fail "sensu go not read in pages of 2"; }
grep -q 'continue=' "$T/go.log" || fail "Sensu-Continue not followed"
pass "values from perfdata, graphite and metric points; stale and missing stored as missing"

expect_exit 0 decide --state "$DB"
decision() {
  sqlite3 "$DB" "SELECT d.action || ' ' || d.reason FROM decisions d JOIN clusters c ON c.id = d.cluster_id
                 WHERE c.name = '$1' ORDER BY d.id DESC LIMIT 1"
}
case "$(decision core)" in "scale_out "*) ;; *) fail "core: expected scale_out, got '$(decision core)'";; esac
case "$(decision gocl)" in "scale_out "*) ;; *) fail "gocl: expected scale_out, got '$(decision gocl)'";; esac
case "$(decision miss)" in "hold "*missing*|"hold "*stale*) ;; *) fail "miss: expected a hold on missing data, got '$(decision miss)'";; esac
case "$(decision old)" in "hold "*missing*|"hold "*stale*) ;; *) fail "old: expected a hold on missing data, got '$(decision old)'";; esac
pass "high load from Sensu Core and Sensu Go scales out; missing and stale data hold"

# A broken Sensu Go (500) gives missing samples for its clusters only; Sensu Core clusters
# still get theirs.
echo 500 > "$T/go.json.status"
expect_exit 75 poll-load --state "$DB" --json
[ "$(jq -r '.[] | select(.instance=="gocl-web-1") | .error' "$T/out")" = "sensu_go answered HTTP 500: internal error occurred (after 3 attempts)" ] \
  || { cat "$T/out"; fail "sensu go error not reported"; }
[ "$(jq -r '.[] | select(.instance=="core-web-1") | .value' "$T/out")" = 500 ] \
  || fail "a broken sensu go stopped the sensu core clusters"
rm "$T/go.json.status"
pass "a failing source leaves the others' samples"

# Credentials: a wrong password is an auth failure; neither password nor API key is logged,
# even at debug level.
sensu_conf
CORE_PASSWORD=wrong-pw-5678 sensu_conf
expect_exit 75 poll-load --state "$DB" -vv
grep -q 'sensu answered HTTP 401' "$T/err" || { cat "$T/err"; fail "401 not reported"; }
if grep -qE 'wrong-pw-5678|core-secret-pw|go-secret-key-1234' "$T/err" "$T/out"; then
  fail "a secret appears in the output"
fi
[ "$(tail -1 "$T/core.log")" = "GET /results?filter.check.name=load&limit=2&offset=0 401" ] \
  || fail "fake did not refuse the wrong password"
pass "wrong password: 401 reported, secrets never logged"

# The original tool's rule: a warning or critical result on the check means high load.
sensu_conf "format = status
event_load = 1000"
write_data
sc poll-load --dry-run --json > "$T/status.json" 2> /dev/null || true
[ "$(jq -r '.[] | select(.instance=="core-web-1") | .value' "$T/status.json")" = 0 ] \
  || { cat "$T/status.json"; fail "status OK is not load 0"; }
[ "$(jq -r '.[] | select(.instance=="core-web-2") | .value' "$T/status.json")" = 1000 ] \
  || { cat "$T/status.json"; fail "a warning is not event_load"; }
pass "status mode: warning means event_load, OK means 0"

# Hostile values from Sensu: a web VM can publish any client (entity) name and any check output
# or metric point. A load of 1e300 is refused and names its instance; clients named with the
# injection string, a newline or 300 characters match no instance (under match = host each is
# logged escaped as metrics.key_refused); the other instance keeps its sample; decide does not
# scale out and the LB's upstream.conf does not change. Fresh clusters: the ones above hold
# pending scale-out decisions that a scale-out here would carry out.
sensu_conf
sc create-cluster hos --web 2 --min 2 --max 4 --metrics sensu > /dev/null 2>> "$T/create.err"
sc create-cluster hgo --web 1 --min 1 --max 2 --metrics sensu_go > /dev/null 2>> "$T/create.err"
INJECT='127.0.0.1:80; } server { listen 1; } upstream x { server 127.0.0.1'
NEWLINE=$'127.0.0.1\nserver 10.9.9.9:80'
LONG=$(printf 'a%.0s' $(seq 300))
up_sha() { sha256sum < "$T/instances/$1-lb-1/conf/upstream.conf"; }
HOS_SHA=$(up_sha hos)
HGO_SHA=$(up_sha hgo)
hostile_data() {  # the load of hos-web-1 and of hgo-web-1's metric point
  {
    echo "["
    core_result hos-web-1 load 0 "OK | load1=$1"
    echo ","; core_result hos-web-2 load 0 "OK | load1=42"
    echo ","; core_result "$INJECT" load 0 "OK | load1=500"
    echo ","; core_result "$NEWLINE" load 0 "OK | load1=500"
    echo ","; core_result "$LONG" load 0 "OK | load1=500"
    echo "]"
  } > "$T/core.json"
  {
    echo "["
    go_event hgo-web-1 load "x" hgo-web-1.load.load1 "$2"
    echo ","; go_event "$INJECT" load "x" "$INJECT.load.load1" 500
    echo ","; go_event "$NEWLINE" load "x" load1 500
    echo "]"
  } > "$T/go.json"
}
hostile_data 1e300 1e300
for _ in 1 2; do  # man_sensitivity = 2: two polls would be enough to act on
  sleep 1.1
  expect_exit 75 poll-load --state "$DB" --cluster hos
  grep -q 'poll_load.missing cluster=hos instance=hos-web-1 error=".*out of range' "$T/err" \
    || { cat "$T/err"; fail "sensu: a load of 1e300 not refused naming hos-web-1"; }
  ! grep -q 'instance=hos-web-2' "$T/err" || { cat "$T/err"; fail "sensu: hos-web-2 lost its sample"; }
  expect_exit 75 poll-load --state "$DB" --cluster hgo
  grep -q 'poll_load.missing cluster=hgo instance=hgo-web-1 error=".*out of range' "$T/err" \
    || { cat "$T/err"; fail "sensu go: a metric point of 1e300 not refused naming hgo-web-1"; }
done
[ "$(value hos-web-1)" = null ] || fail "sensu: 1e300 stored as $(value hos-web-1)"
[ "$(value hgo-web-1)" = null ] || fail "sensu go: 1e300 stored as $(value hgo-web-1)"
[ "$(value hos-web-2)" = 42.0 ] || fail "sensu: hos-web-2's value is $(value hos-web-2), want 42.0"
for c in hos hgo; do
  expect_exit 0 decide --state "$DB" --cluster $c
  case "$(decision $c)" in "scale_out "*) fail "$c: scaled out on a hostile value: $(decision $c)";; esac
  expect_exit 0 scale-out --state "$DB" --cluster $c
done
[ "$(up_sha hos)" = "$HOS_SHA" ] || fail "sensu: hos's upstream.conf changed"
[ "$(up_sha hgo)" = "$HGO_SHA" ] || fail "sensu go: hgo's upstream.conf changed"
pass "sensu: a load of 1e300 (check output, metric point) refused naming its instance; hostile client names match none; upstream.conf unchanged"

# match = host: each client name is parsed as an address; the hostile ones are refused and
# logged escaped, one line each, and the good client (127.0.0.1, every local instance's host)
# still gives both instances their sample.
sensu_conf "match = host"
hostile_data 1e300 1
jq -c --argjson good "$(core_result 127.0.0.1 load 0 'OK | load1=42')" '. + [$good]' "$T/core.json" > "$T/core.json.new"
mv "$T/core.json.new" "$T/core.json"
sleep 1.1
expect_exit 0 poll-load --state "$DB" --cluster hos
# Five: the three hostile names, and hos-web-1 and hos-web-2, which are no addresses either.
[ "$(grep -c 'metrics.key_refused source=sensu value=' "$T/err")" = 5 ] \
  || { cat "$T/err"; fail "sensu: the client names that are no address not each refused once"; }
grep -qF 'metrics.key_refused source=sensu value="127.0.0.1:80; } server { listen 1; } upstream x { server 127.0.0.1" reason=no_ip_address' "$T/err" \
  || { cat "$T/err"; fail "sensu: the injection string not named"; }
grep -qF 'value="127.0.0.1\\x0aserver 10.9.9.9:80"' "$T/err" || { cat "$T/err"; fail "sensu: the newline not escaped"; }
! grep -q '^server 10.9.9.9' "$T/err" || fail "sensu: a raw newline reached the log"
[ "$(value hos-web-1)" = 42.0 ] && [ "$(value hos-web-2)" = 42.0 ] \
  || fail "sensu: the good client did not give both instances a value"
expect_exit 0 decide --state "$DB" --cluster hos
expect_exit 0 scale-out --state "$DB" --cluster hos
[ "$(up_sha hos)" = "$HOS_SHA" ] || fail "sensu: hos's upstream.conf changed under match = host"
pass "sensu match = host: hostile client names refused and logged escaped; the others sampled; upstream.conf unchanged"
