# Start and stop a private goiardi (Debian's Chef server) for the integration tests: loopback
# only, authentication on, its own conf root and data files below a directory the caller owns.
# Source it, then: goiardi_start DIR [extra goiardi flags...]; goiardi_stop. Sets GOIARDI_URL,
# GOIARDI_DIR and GOIARDI_PID. Stops only the process it started, by pid.

GOIARDI_BIN=${GOIARDI_BIN:-/usr/bin/goiardi}
GOIARDI_PID=
GOIARDI_DIR=
GOIARDI_PORT=
GOIARDI_URL=

# Return a TCP port on 127.0.0.1 that nothing listens on now.
goiardi_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# goiardi_start DIR [flags]: start goiardi with its files in DIR (created), wait until it answers
# (at most 10 s). A second start in the same DIR reuses its data and keys (and its port).
goiardi_start() {
  GOIARDI_DIR=$1
  shift
  mkdir -p "$GOIARDI_DIR/lfs"
  if [ -z "$GOIARDI_PORT" ]; then
    GOIARDI_PORT=$(goiardi_free_port)
  fi
  GOIARDI_URL=http://127.0.0.1:$GOIARDI_PORT
  "$GOIARDI_BIN" --use-auth -I 127.0.0.1 -P "$GOIARDI_PORT" -H 127.0.0.1 \
    --conf-root "$GOIARDI_DIR" -D "$GOIARDI_DIR/data.bin" -i "$GOIARDI_DIR/index.bin" -F 1 \
    --local-filestore-dir "$GOIARDI_DIR/lfs" --time-slew 15m --disable-webui "$@" \
    >> "$GOIARDI_DIR/goiardi.log" 2>&1 &
  GOIARDI_PID=$!
  local k
  for k in $(seq 1 100); do
    if [ -s "$GOIARDI_DIR/admin.pem" ] \
       && curl -s -o /dev/null "$GOIARDI_URL/" 2>/dev/null; then
      chmod 600 "$GOIARDI_DIR"/*.pem
      return 0
    fi
    kill -0 "$GOIARDI_PID" 2>/dev/null || { cat "$GOIARDI_DIR/goiardi.log" >&2; return 1; }
    sleep 0.1
  done
  echo "goiardi did not answer on $GOIARDI_URL within 10 s" >&2
  cat "$GOIARDI_DIR/goiardi.log" >&2
  return 1
}

# goiardi_stop: stop the goiardi this shell started (TERM, then KILL after 5 s), if it runs.
goiardi_stop() {
  [ -n "$GOIARDI_PID" ] || return 0
  kill -CONT "$GOIARDI_PID" 2>/dev/null || true
  kill -TERM "$GOIARDI_PID" 2>/dev/null || true
  local k
  for k in $(seq 1 50); do
    kill -0 "$GOIARDI_PID" 2>/dev/null || { wait "$GOIARDI_PID" 2>/dev/null || true; GOIARDI_PID=; return 0; }
    sleep 0.1
  done
  kill -KILL "$GOIARDI_PID" 2>/dev/null || true
  wait "$GOIARDI_PID" 2>/dev/null || true
  GOIARDI_PID=
}

# chef_api METHOD PATH [BODY]: call the goiardi started above as its admin user, through the
# independent Python client (tests/support/goiardi_api.py); prints the JSON body, status 0 for
# 2xx. CHEF_API_USER and CHEF_API_KEY override the identity.
chef_api() {
  python3 "$SCLMAN_SOURCE_DIR/tests/support/goiardi_api.py" --url "$GOIARDI_URL" \
    --user "${CHEF_API_USER:-admin}" --key "${CHEF_API_KEY:-$GOIARDI_DIR/admin.pem}" "$@" 2>/dev/null
}

# chef_q PATH JQ: print JQ applied to GET PATH ("null" for a missing object).
chef_q() {
  { chef_api GET "$1" || true; } | jq -r "$2"
}

# chef_exists PATH: true if GET PATH answers 2xx.
chef_exists() {
  chef_api GET "$1" > /dev/null
}

# chef_upload_roles: the example roles of etc/chef/roles.
chef_upload_roles() {
  local f
  for f in "$SCLMAN_SOURCE_DIR"/etc/chef/roles/*.json; do
    chef_api POST /roles "$(cat "$f")" > /dev/null || return 1
  done
}

# chef_config [extra [CHEF] lines]: append a [CHEF] section for this goiardi to $SCLMAN_CONFIG.
chef_config() {
  config_section CHEF "server_url = $GOIARDI_URL
client_name = admin
client_key = $GOIARDI_DIR/admin.pem
drain_seconds = 2
request_timeout_ms = 2000" "$*" >> "$SCLMAN_CONFIG"
}

# chef_search CLUSTER: the in-service web nodes' names, as the LB's search sees them, sorted.
chef_search() {
  chef_q "/search/node?q=role:web%20AND%20chef_environment:$1%20AND%20sclman_in_service:true" \
    '.rows[].name' | sort | tr '\n' ' ' | sed 's/ $//'
}
