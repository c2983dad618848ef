#!/usr/bin/env bash
# Secrets and permissions. A whole chain (create-cluster, poll-load, decide, scale-out, scale-in,
# report, status --json, gc, delete-cluster) at debug and trace log level, with known secrets:
# the Chef client key (goiardi, auth on), the Sensu Go API key and the Sensu Core password (the
# fakes in tests/fakes), a cloud password in [OPENSTACK], in clouds.yaml and in OS_PASSWORD,
# a Prometheus bearer token. Then: none of them (nor any private key) is in stdout, stderr, the
# metrics textfile, the dashboard, the instances' files or the state file (.dump, the raw file,
# its WAL); the state file is 0600; no child process (the nginx daemons) has a secret in its
# command line or environment. TLS: an HTTPS server with a self-signed certificate (nginx, ssl)
# is refused with a clear error, also for Keystone before the password is sent; accepted with
# [TLS] ca_bundle and with [TLS] insecure = yes; a certificate for another host name is refused
# even with the CA.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/goiardi.sh"

TLS_NGINX=
stop_all() {
  [ -z "$TLS_NGINX" ] || kill -QUIT "$TLS_NGINX" 2>/dev/null || true
  goiardi_stop
}
trap 'rc=$?; stop_all; cleanup $rc' EXIT

SENSU_KEY=sg-apikey-7f3a9c1e5b2d
CORE_PW=core-pw-4d8e2a6c0b1f
OS_PW=os-conf-pw-9b1c7e3f5a2d
CY_PW=clouds-yaml-pw-2e6a8d4c1f3b
ENV_PW=env-os-pw-6c0e4a2b8d1f
PROM_TOKEN=prom-bearer-5c3e1a9b7d2f
export OS_PASSWORD=$ENV_PW

goiardi_start "$T/goiardi"
# The Chef key: its base64 lines are the secret (and any PEM private key in general).
CHEF_KEY_LINES=$(grep -v -- '-----' "$T/goiardi/admin.pem" | awk 'length($0) >= 40' | head -5)
SECRETS=("$SENSU_KEY" "$CORE_PW" "$OS_PW" "$CY_PW" "$ENV_PW" "$PROM_TOKEN")
while IFS= read -r line; do SECRETS+=("$line"); done <<< "$CHEF_KEY_LINES"
[ "${#SECRETS[@]}" -ge 9 ] || fail "could not read the chef key lines"

echo '[]' > "$T/go.json"
echo '[]' > "$T/core.json"
start_fake go --api-key "$SENSU_KEY"
start_fake core --user admin --password "$CORE_PW"

mkdir -p "$T/osconf"
cat > "$T/osconf/clouds.yaml" <<EOT
clouds:
  sec:
    auth:
      auth_url: https://127.0.0.1:1/v3
      username: demo
      password: $CY_PW
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
EOT
chmod 600 "$T/osconf/clouds.yaml"
export OS_CLIENT_CONFIG_FILE=$T/osconf/clouds.yaml
unset OS_CLOUD OS_AUTH_URL

# The config: every secret-bearing key set, debug level.
base_config() {
  write_config "man_drain_seconds = 1
man_cooldown = 0"
  cat >> "$SCLMAN_CONFIG" <<CONF
[METRICS]
max_age = 120
[SENSU]
url = http://127.0.0.1:$(cat "$T/core.port")
user = admin
password = $CORE_PW
[SENSU_GO]
url = http://127.0.0.1:$(cat "$T/go.port")
api_key = $SENSU_KEY
[PROMETHEUS]
url = https://127.0.0.1:${TLS_PORT:-1}
match = name
bearer_token = $PROM_TOKEN
[OPENSTACK]
os_auth_url = https://127.0.0.1:1/v3
os_username = demo
os_password = $OS_PW
os_project_name = demo
[LOCAL]
nginx = $T/nginx-wrap
[LOG]
level = debug
$*
CONF
  chef_config "register_timeout = 60"
}
base_config
chef_upload_roles
chmod 600 "$SCLMAN_CONFIG"

# Sensu Go events: the load check of each web instance, at load $1.
go_events() {
  local now n first=1
  now=$(date +%s)
  echo "["
  for n in shop-web-1 shop-web-2 shop-web-3 shop-web-4; do
    [ $first = 1 ] || echo ","
    first=0
    jq -cn --arg e "$n" --arg o "load | load1=$1" --argjson t "$now" \
      '{check: {metadata: {name: "load", namespace: "default"}, output: $o, status: 0,
        executed: $t, issued: $t, interval: 60, state: "passing"},
        entity: {entity_class: "agent", metadata: {name: $e, namespace: "default"}},
        metadata: {namespace: "default"}, timestamp: $t}'
  done
  echo "]"
}

OUT=$T/all.out
ERR=$T/all.err
M=$T/textfile/sclman.prom
mkdir -p "$T/textfile"
# run ARGS...: sclman at debug level (-v; -vv for trace every other time), outputs collected.
n_run=0
run() {
  local v=-v rc=0
  n_run=$((n_run + 1))
  [ $((n_run % 2)) = 0 ] && v=-vv
  echo "### sclman $*" >> "$ERR"
  "$SCLMAN" "$@" $v --state "$DB" --metrics-file "$M" >> "$OUT" 2>> "$ERR" || rc=$?
  return $rc
}

# The child processes: sclman runs nginx ([LOCAL] nginx) through this wrapper, which records
# the argv and environment each child got (nginx itself overwrites both in /proc with its
# process title, so /proc alone would show nothing), then execs the real nginx.
cat > "$T/nginx-wrap" <<WRAP
#!/bin/sh
{ echo "--- argv"; printf '%s\n' "\$@"; echo "--- env"; env; } >> "$T/children.log"
exec /usr/sbin/nginx "\$@"
WRAP
chmod 755 "$T/nginx-wrap"
check_children() {
  local pid found=0 s
  grep -q '^PATH=' "$T/children.log" || fail "the wrapper recorded no child environment"
  for s in "${SECRETS[@]}"; do
    if grep -qF -- "$s" "$T/children.log"; then
      fail "a child process got a secret (${s:0:6}...) in: $(grep -F -- "$s" "$T/children.log" | head -1 | cut -d= -f1)"
    fi
  done
  # And the command lines of the running daemons, as ps shows them.
  for pid in $(pgrep -f "nginx: .*$T/instances" || true); do
    found=1
    for s in "${SECRETS[@]}"; do
      tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -F -- "$s" > /dev/null \
        && fail "child $pid has a secret in its command line"
    done
  done
  [ $found = 1 ] || fail "no nginx child found to check"
  return 0
}

go_events 10 > "$T/go.json"
run create-cluster shop --web 2 --min 1 --max 4 --bootstrapper chef --balancer chef-search \
  --metrics sensu_go > /dev/null || { tail -20 "$ERR"; fail "create-cluster"; }
check_children
go_events 900 > "$T/go.json"
for k in 1 2 3; do
  run poll-load --cron || true
  run decide --cron || true
done
run scale-out --cron || true
[ "$(web_in_service shop)" -ge 3 ] || { tail -30 "$ERR"; fail "no scale-out on high load"; }
check_children
run status --json > /dev/null
run status shop > /dev/null
run scale-in --cluster shop --to 2 > /dev/null || { tail -20 "$ERR"; fail "scale-in"; }
# The drain ends after [CHEF] drain_seconds (2 here), then the next scale-in deletes the idle
# victim: the scale-out below must create a server, not take a draining one back.
sleep 2.2
run scale-in --cron || true
[ "$(status_q '[.[0].instances[] | select(.state=="draining")] | length')" = 0 ] ||
  fail "the victim still drains: $(status_q '[.[0].instances[] | select(.state=="draining") | .name]')"
run report --output "$T/www" > /dev/null
run gc > /dev/null || true
check_children
grep -q 'sclman_last_run_success{command="gc"}' "$M" || fail "no textfile written"
[ -s "$T/www/index.html" ] || fail "no dashboard written"
grep -q 'level=debug\|\[debug\]\| debug ' "$ERR" || grep -q 'debug' "$ERR" || fail "no debug lines logged"
grep -q 'http method=GET' "$ERR" || fail "debug lines of the HTTP requests missing"
pass "chain ran at debug/trace level: $(grep -c '^### ' "$ERR") commands, $(wc -l < "$ERR") log lines"

# The state file, its dump and its WAL. A run killed at a failpoint leaves its WAL behind
# (sqlite removes it when the last connection closes), created by sclman itself.
sqlite3 "$DB" .dump > "$T/state.dump"
rc=0
SCLMAN_FAILPOINTS=create_server.after=kill "$SCLMAN" scale-out --cluster shop --to 3 -v \
  --state "$DB" >> "$OUT" 2>> "$ERR" || rc=$?
[ "$rc" = 137 ] || fail "the run to be killed exited $rc"
[ -s "$DB-wal" ] || fail "no WAL left by the killed run"
cp "$DB-wal" "$T/wal.copy"
for f in "$DB" "$DB-wal" "$DB-shm"; do
  [ ! -e "$f" ] || [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode $(stat -c %a "$f"), want 600"
done
[ "$(stat -c %a "$(dirname "$DB")")" != 777 ] || fail "state directory world-writable"
pass "state file, WAL and shm 0600"
for k in 1 2; do run scale-out --cron || true; run gc --cron || true; done

# scan WHAT FILES...: no secret and no private key in any of FILES (directories recursively).
scan() {
  local what=$1 s
  shift
  for s in "${SECRETS[@]}"; do
    if grep -rlaF -- "$s" "$@" 2>/dev/null; then
      fail "a secret (${s:0:6}...) is in $what"
    fi
  done
  if grep -rlaE -- 'PRIVATE KEY|"private_key": *"' "$@" 2>/dev/null; then
    fail "a private key is in $what"
  fi
  return 0
}
scan "stdout" "$OUT"
scan "stderr (the logs)" "$ERR"
scan "the metrics textfile" "$M"
scan "the dashboard" "$T/www"
scan "the state dump" "$T/state.dump"
scan "the raw state file and its WAL" "$DB" "$T/wal.copy"
scan "the instances' files (nginx configs, logs)" "$T/instances"
pass "no secret in stdout, stderr, textfile, dashboard, state (dump, raw, WAL), instance files"

# Each assertion can fail: a key planted in each place is found.
echo "x $SENSU_KEY" > "$T/plant"
( scan "plant" "$T/plant" ) > /dev/null 2>&1 && fail "scan misses a planted secret"
sqlite3 "$T/plant.db" "CREATE TABLE t(v); INSERT INTO t VALUES('$CY_PW');"
( scan "plant" "$T/plant.db" ) > /dev/null 2>&1 && fail "scan misses a secret in a raw sqlite file"
echo "-----BEGIN RSA PRIVATE KEY-----" > "$T/plant"
( scan "plant" "$T/plant" ) > /dev/null 2>&1 && fail "scan misses a private key"
rm -f "$T/plant" "$T/plant.db"
pass "the scan finds a planted secret, in text and in a raw sqlite file, and a private key"

# TLS: nginx with a self-signed certificate for 127.0.0.1 standing in for Prometheus (and for
# Keystone: any HTTPS URL).
mkdir -p "$T/tls/conf" "$T/tls/logs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" 2> /dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other.example" \
  -addext "subjectAltName=DNS:other.example" -keyout "$T/tls/other-key.pem" \
  -out "$T/tls/other.pem" 2> /dev/null
TLS_PORT=$(goiardi_free_port)
OTHER_PORT=$(goiardi_free_port)
cat > "$T/tls/conf/nginx.conf" <<CONF
worker_processes 1;
pid $T/tls/logs/nginx.pid;
error_log $T/tls/logs/error.log;
events { worker_connections 64; }
http {
  access_log $T/tls/logs/access.log;
  # The time query dates the sample by the whole second before the evaluation time (.999).
  map \$msec \$sec { "~^(?<s>[0-9]+)[.]" \$s; }
  server {
    listen 127.0.0.1:$TLS_PORT ssl;
    ssl_certificate $T/tls/cert.pem;
    ssl_certificate_key $T/tls/key.pem;
    location = /api/v1/query {
      default_type application/json;
      if (\$arg_query ~ "timestamp") {
        return 200 '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"tlsc-web-1"},"value":[\$sec.999,"\$sec"]}]}}';
      }
      return 200 '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"tlsc-web-1"},"value":[\$msec,"12"]}]}}';
    }
    location / { return 404; }
  }
  server {
    listen 127.0.0.1:$OTHER_PORT ssl;
    ssl_certificate $T/tls/other.pem;
    ssl_certificate_key $T/tls/other-key.pem;
    location / { return 404; }
  }
}
CONF
/usr/sbin/nginx -p "$T/tls/" -c conf/nginx.conf -e "$T/tls/logs/error.log" \
  || fail "nginx with ssl did not start"
for k in $(seq 50); do [ -s "$T/tls/logs/nginx.pid" ] && break; sleep 0.1; done
TLS_NGINX=$(cat "$T/tls/logs/nginx.pid")
curl -fsS --cacert "$T/tls/cert.pem" "https://127.0.0.1:$TLS_PORT/api/v1/query" | jq -e '.status == "success"' > /dev/null \
  || fail "the TLS nginx does not answer with its certificate"

base_config
sc create-cluster tlsc --web 1 --max 2 --metrics prometheus > /dev/null 2> "$T/tlsc.err" \
  || { cat "$T/tlsc.err"; fail "create-cluster tlsc"; }
sample() { sqlite3 "$DB" "SELECT value FROM load_samples s JOIN instances i ON i.id = s.instance_id WHERE i.name = 'tlsc-web-1' ORDER BY s.ts DESC LIMIT 1"; }

# Default: verified against the system's CAs, so refused; nothing reached the server.
: > "$T/tls/logs/access.log"
expect_exit 78 poll-load --cluster tlsc --state "$DB"
grep -F "cannot verify the TLS certificate of 'https://127.0.0.1:$TLS_PORT/api/v1/query'" "$T/err" \
  | grep -F '[TLS] ca_bundle' > /dev/null || { cat "$T/err"; fail "self-signed certificate not refused with a clear error"; }
[ ! -s "$T/tls/logs/access.log" ] || fail "a request reached the server with an unverified certificate"
scan "the refusal" "$T/err" "$T/out"
pass "a self-signed certificate is refused by default, with an error naming [TLS] ca_bundle"

# [TLS] ca_bundle: accepted.
base_config "[TLS]
ca_bundle = $T/tls/cert.pem"
expect_exit 0 poll-load --cluster tlsc --state "$DB"
[ "$(sample)" = 12.0 ] || [ "$(sample)" = 12 ] || fail "no sample through the verified connection: $(sample)"
grep -q 'GET /api/v1/query' "$T/tls/logs/access.log" || fail "the server saw no query"
pass "accepted with [TLS] ca_bundle"

# The CA does not make another host name valid.
sed -i "s|^url = https://127.0.0.1:$TLS_PORT|url = https://127.0.0.1:$OTHER_PORT|" "$SCLMAN_CONFIG"
sed -i "s|^ca_bundle = .*|ca_bundle = $T/tls/other.pem|" "$SCLMAN_CONFIG"
expect_exit 78 poll-load --cluster tlsc --state "$DB"
grep -qF "cannot verify the TLS certificate of 'https://127.0.0.1:$OTHER_PORT" "$T/err" \
  || { cat "$T/err"; fail "a certificate for another host name was accepted"; }
pass "a certificate for another host name is refused even with its CA"

# [TLS] insecure = yes: accepted without a CA.
base_config "[TLS]
insecure = yes"
sqlite3 "$DB" "DELETE FROM load_samples"
expect_exit 0 poll-load --cluster tlsc --state "$DB"
[ -n "$(sample)" ] || fail "no sample with insecure = yes"
pass "accepted with [TLS] insecure = yes"

# A missing CA bundle: refused too, naming the option.
base_config "[TLS]
ca_bundle = $T/tls/missing.pem"
expect_exit 78 poll-load --cluster tlsc --state "$DB"
grep -qF "ca_bundle" "$T/err" || { cat "$T/err"; fail "a missing CA bundle is not named"; }
pass "a missing CA bundle is an error naming [TLS] ca_bundle"

# Keystone over HTTPS with the self-signed certificate: refused before the password is sent.
base_config
sed -i "s|auth_url: .*|auth_url: https://127.0.0.1:$TLS_PORT/v3|" "$T/osconf/clouds.yaml"
: > "$T/tls/logs/access.log"
rc=0
"$SCLMAN" create-cluster tlsos --provider openstack --os-cloud sec --listen 127.0.0.1 --flavor m1.tiny --image tiny \
  --network sclnet --web 1 -vv --state "$DB" > "$T/out" 2> "$T/err" || rc=$?
[ "$rc" != 0 ] || fail "create-cluster on an unverified Keystone succeeded"
grep -qF "cannot verify the TLS certificate of 'https://127.0.0.1:$TLS_PORT/v3/auth/tokens'" "$T/err" \
  || { cat "$T/err"; fail "Keystone's self-signed certificate not refused with a clear error (exit $rc)"; }
[ ! -s "$T/tls/logs/access.log" ] || fail "the password request reached an unverified Keystone"
scan "the Keystone refusal" "$T/err" "$T/out" "$DB"
pass "Keystone with a self-signed certificate: refused (exit $rc) before the password is sent"

# No shell ever sees a string from a user or a server: sclman starts programs only with execve
# (lib/core/process.cpp exec_child, an argv vector), never through system, popen or exec*p.
if grep -rnE '(^|[^_a-z])(system|popen|execl|execlp|execle|execv|execvp|execvpe)[[:space:]]*\(' \
     "$SCLMAN_SOURCE_DIR/lib" "$SCLMAN_SOURCE_DIR/cmd"; then
  fail "a call that may run a shell or search PATH"
fi
[ "$(grep -rn 'execve(' "$SCLMAN_SOURCE_DIR/lib" "$SCLMAN_SOURCE_DIR/cmd" | wc -l)" = 1 ] \
  || fail "execve is expected in one place (core::run_process's exec_child)"
pass "no shell: one execve with a fixed argv, no system/popen/exec*p"

run delete-cluster tlsc > /dev/null || fail "delete-cluster tlsc"
run delete-cluster shop > /dev/null || { tail -20 "$ERR"; fail "delete-cluster shop"; }
scan "the logs of delete-cluster" "$ERR" "$OUT"
pass "secrets test done"
