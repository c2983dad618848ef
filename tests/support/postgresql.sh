# Start and stop a private PostgreSQL 15 (Debian's) for the tests: its own initdb in a fresh
# directory, TCP on 127.0.0.1 only, fsync off (test data; PG_DURABLE=1 keeps it on). Stops only the process it started,
# by pid. As root, the server runs as the postgres user (it refuses to run as root).
#
# Source it, then: pg_start DIR; pg_createdb NAME (prints a libpq connection string);
# pg_restart DIR; pg_stop.
# Sets PG_PORT, PG_PID and PG_DATA. Or run it (ctest's postgresql fixture, one server for every
# test that needs one):
#   bash postgresql.sh start DIR   starts a server that outlives the script; DIR/url holds the
#                                  connection string of database 'sclman', DIR/pid its pid
#   bash postgresql.sh stop DIR    stops it
# Role 'sclman' needs no password; role 'sclman_pw' (password in DIR/password) must give one.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PID=
PG_PORT=
PG_DATA=

pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# pg_start DIR: initdb in DIR/data (DIR is made, owned by the server's user), start the server
# in the background and wait until it answers (at most 30 s).
pg_start() {
  local dir=$1
  mkdir -p "$dir"
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  PG_DATA=$dir/data
  PG_PORT=$(pg_free_port)
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --no-locale -E UTF8 \
    > "$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  cat > "$PG_DATA/pg_hba.conf" <<HBA
local all all trust
host all sclman_pw 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
HBA
  pg_run "$dir" || return 1
  pg_psql postgres -c "CREATE ROLE sclman LOGIN SUPERUSER" \
    -c "CREATE ROLE sclman_pw LOGIN PASSWORD 'pw-$PG_PORT-$$'" \
    -c "CREATE DATABASE sclman OWNER sclman" > /dev/null || return 1
  pg_psql sclman -c "GRANT ALL ON SCHEMA public TO sclman_pw" > /dev/null || return 1
  echo "pw-$PG_PORT-$$" > "$dir/password"
}

# pg_run DIR: start the server of DIR/data on PG_PORT in the background and wait until it
# answers (at most 30 s); PG_PID is then the postmaster's pid.
pg_run() {
  local dir=$1
  # setsid: the server is not in the caller's process group (ctest's kill of a timed-out
  # test, a ^C), and it is stopped by its pid.
  # Test data needs no durability; PG_DURABLE=1 (the benchmarks) keeps PostgreSQL's defaults.
  local fast=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
  [ "${PG_DURABLE:-0}" != 1 ] || fast=()
  pg_as_owner setsid "$PG_BIN/postgres" -D "$PG_DATA" -p "$PG_PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$dir" "${fast[@]}" -c max_connections=300 \
    -c log_min_messages=warning >> "$dir/postgres.log" 2>&1 < /dev/null &
  PG_PID=$!
  local k
  for k in $(seq 1 300); do
    if [ -s "$PG_DATA/postmaster.pid" ] \
       && pg_as_owner "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
      # The postmaster's own pid (runuser forks it as a child).
      PG_PID=$(head -1 "$PG_DATA/postmaster.pid")
      return 0
    fi
    kill -0 "$PG_PID" 2>/dev/null || { cat "$dir/postgres.log" >&2; return 1; }
    sleep 0.1
  done
  echo "PostgreSQL did not answer on 127.0.0.1:$PG_PORT within 30 s" >&2
  cat "$dir/postgres.log" >&2
  return 1
}

# pg_restart DIR: stop the server started above (a fast shutdown: every session is cut) and
# start it again on the same data and port, as a restart or a failover looks to its clients.
pg_restart() {
  pg_stop
  pg_run "$1"
}

# pg_psql DB ARGS...: psql as the superuser, on the server started above.
pg_psql() {
  local db=$1
  shift
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" "$@"
}

# pg_createdb NAME [OWNER]: make database NAME, owned by OWNER (sclman); print its connection
# string (as OWNER).
pg_createdb() {
  pg_psql postgres -c "CREATE DATABASE \"$1\" OWNER ${2:-sclman}" > /dev/null || return 1
  echo "host=127.0.0.1 port=$PG_PORT dbname=$1 user=${2:-sclman}"
}

# pg_stop: stop the server started above (fast shutdown, then KILL after 20 s), if it runs.
pg_stop() {
  [ -n "$PG_PID" ] || return 0
  kill -CONT "$PG_PID" 2>/dev/null || true
  kill -INT "$PG_PID" 2>/dev/null || true
  local k
  for k in $(seq 1 200); do
    kill -0 "$PG_PID" 2>/dev/null || { PG_PID=; return 0; }
    sleep 0.1
  done
  kill -KILL "$PG_PID" 2>/dev/null || true
  PG_PID=
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      rm -rf "$2"
      pg_start "$2"
      echo "host=127.0.0.1 port=$PG_PORT dbname=sclman user=sclman" > "$2/url"
      echo "$PG_PID" > "$2/pid"
      echo "$PG_PORT" > "$2/port"
      echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT, pid $PG_PID"
      ;;
    stop)
      PG_PID=$(cat "$2/pid" 2>/dev/null || true)
      pg_stop
      rm -rf "$2"
      ;;
    *)
      echo "usage: $0 start|stop DIR" >&2
      exit 64
      ;;
  esac
fi
