# Start and stop OpenStack Zed (Debian 12's packages) on 127.0.0.1 for the integration tests:
# RabbitMQ, Keystone, Placement, Glance, Neutron (ML2 flat, no agents), Nova (API, conductor,
# scheduler, compute with the fake virt driver), all on SQLite below one directory.
# Source it, then: openstack_start DIR [all|keystone|keystone-neutron]; ...; openstack_stop.
# Sets OS_KEYSTONE_URL, OS_TRANSPORT_URL, OS_BRINGUP_SECONDS and OS_DEMO_PROJECT. `keystone`
# starts RabbitMQ and Keystone only (users, projects and roles set up; no other service
# registered), for tests of a service of their own on top; `keystone-neutron` adds Neutron with
# sclnet, the external sclext and a router (tests/support/octavia.sh: floating IPs). Stops only
# the processes it started, by pid.
# See /work/shared/LAB-NOTES.md for where each step comes from.

OS_PY=/usr/bin/python3
OS_SUPPORT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OS_PASTE=/usr/local/share/sclman-openstack
OS_PIDS=()
OS_DIR=
OS_KEYSTONE_URL=
OS_TRANSPORT_URL=

os_free_port() {
  $OS_PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

os_log() { echo "openstack: $*" >&2; }

# os_bg NAME CMD...: run CMD in the background with its output in DIR/log/NAME.log.
os_bg() {
  local name=$1
  shift
  "$@" < /dev/null >> "$OS_DIR/log/$name.log" 2>&1 &
  OS_PIDS+=($!)
  eval "OS_PID_${name//-/_}=$!"
}

# os_wait_http URL SECONDS NAME: wait until URL answers with any HTTP status.
os_wait_http() {
  local k
  for k in $(seq 1 $(($2 * 5))); do
    if curl -s -o /dev/null --max-time 2 "$1"; then
      return 0
    fi
    sleep 0.2
  done
  os_log "$3 did not answer on $1 within $2 s"
  tail -n 40 "$OS_DIR/log/$3.log" >&2 || true
  return 1
}

# MariaDB, for the services that SQLite cannot carry: Octavia's migrations do not run on it,
# and Nova's four processes on one SQLite file left the probe server in BUILD for 180 s in
# two bring-ups in a row on CI (2026-12-05, four tests on two cores). Under load here they
# logged "database is locked" despite the 20 s busy wait (in WAL mode a transaction that read
# before another wrote cannot write: SQLite fails it at once), and a conductor that fails
# before the instance exists leaves only the build request, which the API lists as BUILD.
# A throwaway database, so no durability (the data directory is on tmpfs when /dev/shm is one:
# on this VM's disk every CREATE TABLE waits for fsyncs and Octavia's migrations took 14 s
# instead of 3 s).
OS_MARIADB_OPTS=(--no-defaults --skip-name-resolve --innodb-buffer-pool-size=32M
  --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0)
OS_DB_SOCK=
OS_DB_DATADIR=

# os_mariadb_run SOCK: make the data directory, then become mariadbd (exec: its pid is the
# job's).
os_mariadb_run() {
  mariadb-install-db "${OS_MARIADB_OPTS[@]}" --datadir="$OS_DB_DATADIR" --user="$(id -un)" \
    --auth-root-authentication-method=normal --skip-test-db || return 1
  exec /usr/sbin/mariadbd "${OS_MARIADB_OPTS[@]}" --datadir="$OS_DB_DATADIR" --socket="$1" \
    --skip-networking --pid-file="$OS_DIR/mysql/pid" --user="$(id -un)" \
    --log-error="$OS_DIR/log/mariadb-server.log"
}

# os_mariadb_start: start MariaDB below OS_DIR in the background (once; openstack_stop stops
# it and removes its data). OS_DB_SOCK is its socket.
os_mariadb_start() {
  [ -z "$OS_DB_SOCK" ] || return 0
  mkdir -p "$OS_DIR"/{log,mysql}
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    OS_DB_DATADIR=$(mktemp -d /dev/shm/sclman-os-db.XXXXXX)
  else
    OS_DB_DATADIR=$OS_DIR/mysql/data
  fi
  OS_DB_SOCK=$OS_DIR/mysql/sock
  os_bg mariadb-server os_mariadb_run "$OS_DB_SOCK"
}

# os_mariadb_create CHARSET DB...: wait (at most 60 s) until MariaDB answers, then create the
# databases.
os_mariadb_create() {
  local charset=$1 _ db
  shift
  for _ in $(seq 1 300); do
    mariadb --no-defaults --socket="$OS_DB_SOCK" -u root -e 'SELECT 1' > /dev/null 2>&1 && break
    sleep 0.2
  done
  for db in "$@"; do
    mariadb --no-defaults --socket="$OS_DB_SOCK" -u root \
      -e "CREATE DATABASE $db CHARACTER SET $charset" || {
      os_log "MariaDB: cannot create $db"
      tail -n 30 "$OS_DIR/log/mariadb-server.log" >&2
      return 1
    }
  done
}

# os_db_url DB CHARSET: the SQLAlchemy URL of database DB on that MariaDB.
os_db_url() { echo "mysql+pymysql://root@localhost/$1?unix_socket=$OS_DB_SOCK&charset=$2"; }

# os_wal DB...: switch SQLite files to WAL, so a reader does not lock out a writer (Keystone,
# Placement, Glance and Neutron, one process each, stay on SQLite). Every connection URL also
# carries ?timeout=20 (SQLite's busy wait, 5 s by default).
# (Nova's keystonemiddleware passes its own token along as X-Service-Token: the service users
# get the `service` role in openstack_api.py setup, or Neutron and Glance answer 401.)
# The -common packages that ship these commands want debconf and systemd: call their modules.
glance-manage() { $OS_PY -c 'import sys; sys.argv[0] = "glance-manage"; from glance.cmd.manage import main; sys.exit(main())' "$@"; }
neutron-db-manage() { $OS_PY -c 'import sys; sys.argv[0] = "neutron-db-manage"; from neutron.db.migration.cli import main; sys.exit(main())' "$@"; }
nova-manage() { $OS_PY -c 'import sys; sys.argv[0] = "nova-manage"; from nova.cmd.manage import main; sys.exit(main())' "$@"; }

os_wal() {
  local db
  for db in "$@"; do
    sqlite3 "$db" 'PRAGMA journal_mode=WAL;' > /dev/null
  done
}

os_authtoken() { # section for keystonemiddleware and service users
  cat <<EOT
[keystone_authtoken]
www_authenticate_uri = $OS_KEYSTONE_URL
auth_url = $OS_KEYSTONE_URL
auth_type = password
username = $1
password = svc
project_name = service
user_domain_name = Default
project_domain_name = Default
service_token_roles_required = true
EOT
}

os_service_user() { # [SECTION] for a client of another service
  cat <<EOT
[$1]
auth_type = password
auth_url = $OS_KEYSTONE_URL
username = $2
password = svc
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
valid_interfaces = public
EOT
}

# cloud_entry NAME AUTH_URL: the clouds.yaml entry of the demo user at AUTH_URL (for the
# tests' clouds.yaml files).
cloud_entry() {
  cat <<EOT
  $1:
    auth:
      auth_url: $2
      username: demo
      password: demo-secret
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
EOT
}

# openstack_install_or_skip LOG WHAT: install the packages (openstack_install.sh, its output in
# LOG). When they cannot be installed, the test skips loudly (exit 77 with SKIPPING=yes, which
# its EXIT trap checks), or fails (lib.sh's fail) with CI=true.
openstack_install_or_skip() {
  local t0=$SECONDS
  if ! bash "$OS_SUPPORT/openstack_install.sh" > "$1" 2>&1; then
    tail -n 20 "$1" >&2
    if [ "${CI:-}" = true ]; then
      fail "cannot install the OpenStack packages (CI=true: no skipping)"
    fi
    echo "SKIPPED LOUDLY: the OpenStack packages cannot be installed here (root and apt needed);" \
      "$2 did not run" >&2
    SKIPPING=yes
    exit 77
  fi
  echo "openstack: install check took $((SECONDS - t0)) s"
}

openstack_start() {
  OS_DIR=$1
  local services=${2:-all}
  mkdir -p "$OS_DIR"/{log,rabbit,keystone,placement,glance/images,neutron,nova/instances,locks,py}
  local t0=$SECONDS
  local p_epmd p_rabbit p_ks p_pl p_gl p_ne p_nova
  # OS_RABBIT_PORT and OS_KEYSTONE_PORT, when set, are the ports to use (a caller that starts
  # its own service at the same time needs the URLs before this returns: octavia.sh).
  p_epmd=$(os_free_port)
  p_rabbit=${OS_RABBIT_PORT:-$(os_free_port)}; p_ks=${OS_KEYSTONE_PORT:-$(os_free_port)}
  p_pl=$(os_free_port); p_gl=$(os_free_port); p_ne=$(os_free_port); p_nova=$(os_free_port)
  OS_KEYSTONE_URL=http://127.0.0.1:$p_ks
  local transport=rabbit://guest:guest@127.0.0.1:$p_rabbit/
  OS_TRANSPORT_URL=$transport
  local base=$OS_DIR
  if [ "$services" = all ]; then
    os_mariadb_start
  fi

  # RabbitMQ, with its own epmd, both on 127.0.0.1.
  echo "sclmanopenstacktestcookie" > "$OS_DIR/rabbit/.erlang.cookie"
  chmod 400 "$OS_DIR/rabbit/.erlang.cookie"
  ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$p_epmd \
    os_bg epmd /usr/bin/epmd -address 127.0.0.1 -port "$p_epmd"
  cat > "$OS_DIR/rabbit/rabbitmq.conf" <<EOT
listeners.tcp.default = 127.0.0.1:$p_rabbit
loopback_users.guest = true
EOT
  echo '[].' > "$OS_DIR/rabbit/enabled_plugins"
  HOME=$OS_DIR/rabbit ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$p_epmd \
  RABBITMQ_NODENAME=sclman@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_NODE_PORT=$p_rabbit RABBITMQ_DIST_PORT=$(os_free_port) \
  RABBITMQ_CONFIG_FILE=$OS_DIR/rabbit/rabbitmq RABBITMQ_MNESIA_BASE=$OS_DIR/rabbit/mnesia \
  RABBITMQ_LOG_BASE=$OS_DIR/rabbit/log RABBITMQ_ENABLED_PLUGINS_FILE=$OS_DIR/rabbit/enabled_plugins \
  RABBITMQ_PID_FILE=$OS_DIR/rabbit/pid \
    os_bg rabbit /usr/lib/rabbitmq/bin/rabbitmq-server

  # Keystone.
  cat > "$OS_DIR/keystone/keystone.conf" <<EOT
[database]
connection = sqlite:///$base/keystone/keystone.db?timeout=20
[token]
provider = fernet
[fernet_tokens]
key_repository = $base/keystone/fernet-keys
[fernet_receipts]
key_repository = $base/keystone/fernet-keys
[credential]
key_repository = $base/keystone/credential-keys
[identity]
# bcrypt's fewest rounds: every password set or checked (service users, the demo user, each
# client's token) costs 0.2 s of CPU at the default 12, several seconds on a loaded machine.
password_hash_rounds = 4
EOT
  local kc="--config-file $OS_DIR/keystone/keystone.conf"
  keystone-manage $kc db_sync >> "$OS_DIR/log/setup.log" 2>&1 || { tail "$OS_DIR/log/setup.log" >&2; return 1; }
  # What `keystone-manage fernet_setup` and `credential_setup` make (key 0 staged, key 1
  # primary: Fernet keys, url-safe base64 of 32 random bytes, 0600 in a 0700 directory),
  # without two more keystone-manage processes (2 s of CPU each).
  local repo
  for repo in "$base/keystone/fernet-keys" "$base/keystone/credential-keys"; do
    mkdir -m 700 "$repo" && (umask 177 && for k in 0 1; do
      head -c 32 /dev/urandom | base64 | tr '+/' '-_' > "$repo/$k"
    done) || return 1
  done
  keystone-manage $kc bootstrap --bootstrap-password admin-secret \
    --bootstrap-admin-url "$OS_KEYSTONE_URL/v3" --bootstrap-internal-url "$OS_KEYSTONE_URL/v3" \
    --bootstrap-public-url "$OS_KEYSTONE_URL/v3" --bootstrap-region-id RegionOne \
    >> "$OS_DIR/log/setup.log" 2>&1 || { tail "$OS_DIR/log/setup.log" >&2; return 1; }
  os_wal "$OS_DIR/keystone/keystone.db"
  OS_KEYSTONE_CONFIG_FILES=$OS_DIR/keystone/keystone.conf \
    os_bg keystone uwsgi-core --plugin python3 --http-socket "127.0.0.1:$p_ks" \
      --wsgi-file /usr/bin/keystone-wsgi-public --threads 1 --processes 1 \
      --add-header 'Connection: close' --die-on-term
  os_wait_http "$OS_KEYSTONE_URL/v3" 60 keystone || return 1
  local api="$OS_PY $OS_SUPPORT/openstack_api.py $OS_KEYSTONE_URL"
  OS_DEMO_PROJECT=$($api setup | $OS_PY -c 'import json,sys; print(json.load(sys.stdin)["demo_project"])') || return 1
  if [ "$services" = keystone ]; then
    OS_BRINGUP_SECONDS=$((SECONDS - t0))
    os_log "RabbitMQ and Keystone up in ${OS_BRINGUP_SECONDS} s"
    return 0
  fi
  $api register network neutron "http://127.0.0.1:$p_ne" || return 1
  if [ "$services" = all ]; then
  $api register placement placement "http://127.0.0.1:$p_pl" || return 1
  $api register image glance "http://127.0.0.1:$p_gl" || return 1
  $api register compute nova "http://127.0.0.1:$p_nova/v2.1" || return 1

  # Placement.
  cat > "$OS_DIR/placement/placement.conf" <<EOT
[placement_database]
connection = sqlite:///$base/placement/placement.db?timeout=20
[api]
auth_strategy = keystone
$(os_authtoken placement)
EOT
  placement-manage --config-file "$OS_DIR/placement/placement.conf" db sync >> "$OS_DIR/log/setup.log" 2>&1 || { tail "$OS_DIR/log/setup.log" >&2; return 1; }
  os_wal "$OS_DIR/placement/placement.db"
  cat > "$OS_DIR/py/placement_wsgi.py" <<'EOT'
from placement.wsgi import init_application
application = init_application()
EOT
  OS_PLACEMENT_CONFIG_DIR=$OS_DIR/placement \
    os_bg placement uwsgi-core --plugin python3 --http-socket "127.0.0.1:$p_pl" \
      --wsgi-file "$OS_DIR/py/placement_wsgi.py" --threads 1 --processes 1 \
      --add-header 'Connection: close' --die-on-term

  # Glance.
  cat > "$OS_DIR/glance/glance-api.conf" <<EOT
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $p_gl
workers = 1
enabled_backends = file:file
[database]
connection = sqlite:///$base/glance/glance.db?timeout=20
[glance_store]
default_backend = file
[file]
filesystem_store_datadir = $base/glance/images
[paste_deploy]
flavor = keystone
config_file = $OS_PASTE/glance/api-paste.ini
[oslo_concurrency]
lock_path = $base/locks
$(os_authtoken glance)
EOT
  glance-manage --config-file "$OS_DIR/glance/glance-api.conf" db_sync >> "$OS_DIR/log/setup.log" 2>&1 || { tail "$OS_DIR/log/setup.log" >&2; return 1; }
  os_wal "$OS_DIR/glance/glance.db"
  os_bg glance $OS_PY -c "import sys; sys.argv = ['glance-api', '--config-file', '$OS_DIR/glance/glance-api.conf']; from glance.cmd.api import main; main()"

  fi  # all

  # Neutron: ML2 flat, a mechanism driver that binds every port, no agents.
  mkdir -p "$OS_DIR/py/sclman_mech-1.0.dist-info"
  cp "$OS_SUPPORT/openstack_mech.py" "$OS_DIR/py/sclman_mech.py"
  printf 'Metadata-Version: 2.1\nName: sclman-mech\nVersion: 1.0\n' > "$OS_DIR/py/sclman_mech-1.0.dist-info/METADATA"
  printf '[neutron.ml2.mechanism_drivers]\nsclman_bind_all = sclman_mech:BindAll\n' > "$OS_DIR/py/sclman_mech-1.0.dist-info/entry_points.txt"
  cat > "$OS_DIR/neutron/neutron.conf" <<EOT
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $p_ne
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $transport
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
api_paste_config = $OS_PASTE/neutron/api-paste.ini
state_path = $base/neutron
[database]
connection = sqlite:///$base/neutron/neutron.db?timeout=20
[oslo_concurrency]
lock_path = $base/locks
[agent]
root_helper = true
$(os_authtoken neutron)
$(os_service_user nova neutron)
[ml2]
type_drivers = flat
tenant_network_types =
mechanism_drivers = sclman_bind_all
extension_drivers = port_security
[ml2_type_flat]
flat_networks = physnet1,physnet2
[securitygroup]
firewall_driver = noop
EOT
  export PYTHONPATH=$OS_DIR/py${PYTHONPATH:+:$PYTHONPATH}
  $OS_PY - "$base/neutron/neutron.db" >> "$OS_DIR/log/setup.log" 2>&1 <<'EOT' || { tail "$OS_DIR/log/setup.log" >&2; return 1; }
import sys
import sqlalchemy
from neutron.db.migration.models import head
engine = sqlalchemy.create_engine('sqlite:///' + sys.argv[1])
head.get_metadata().create_all(engine)
EOT
  neutron-db-manage --config-file "$OS_DIR/neutron/neutron.conf" stamp heads >> "$OS_DIR/log/setup.log" 2>&1 || { tail "$OS_DIR/log/setup.log" >&2; return 1; }
  os_wal "$OS_DIR/neutron/neutron.db"
  os_bg neutron $OS_PY -c "import sys; sys.argv = ['neutron-server', '--config-file', '$OS_DIR/neutron/neutron.conf']; from neutron.cmd.eventlet.server import main; main()"

  if [ "$services" = keystone-neutron ]; then
    os_wait_http "http://127.0.0.1:$p_ne/" 60 neutron || return 1
    $api networks >> "$OS_DIR/log/setup.log" 2>&1 || { tail -n 30 "$OS_DIR/log/setup.log" >&2; return 1; }
    OS_BRINGUP_SECONDS=$((SECONDS - t0))
    os_log "RabbitMQ, Keystone and Neutron up in ${OS_BRINGUP_SECONDS} s"
    return 0
  fi

  # Nova.
  cat > "$OS_DIR/nova/nova.conf" <<EOT
[DEFAULT]
transport_url = $transport
compute_driver = fake.FakeDriver
host = sclman-compute
my_ip = 127.0.0.1
state_path = $base/nova
instances_path = $base/nova/instances
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = $p_nova
osapi_compute_workers = 1
use_neutron = true
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
[api]
auth_strategy = keystone
[api_database]
connection = $(os_db_url nova_api utf8)
[database]
connection = $(os_db_url nova utf8)
[wsgi]
api_paste_config = $OS_PASTE/nova/api-paste.ini
[oslo_concurrency]
lock_path = $base/locks
[scheduler]
discover_hosts_in_cells_interval = 10
workers = 1
[conductor]
workers = 1
[vnc]
enabled = false
[glance]
valid_interfaces = public
region_name = RegionOne
$(os_authtoken nova)
$(os_service_user placement placement)
$(os_service_user neutron neutron)
EOT
  local nc="--config-file $OS_DIR/nova/nova.conf"
  os_mariadb_create utf8 nova_api nova_cell0 nova || return 1
  { nova-manage $nc api_db sync \
    && nova-manage $nc cell_v2 map_cell0 --database_connection "$(os_db_url nova_cell0 utf8)" \
    && nova-manage $nc cell_v2 create_cell --name cell1 \
    && nova-manage $nc db sync; } >> "$OS_DIR/log/setup.log" 2>&1 || { tail -n 30 "$OS_DIR/log/setup.log" >&2; return 1; }
  local m
  for m in api conductor scheduler compute; do
    os_bg "nova-$m" $OS_PY -c "import sys; sys.argv = ['nova-$m', '--config-file', '$OS_DIR/nova/nova.conf']; from nova.cmd.$m import main; main()"
  done
  # OS_ZONES="a b c": one more fake compute host per zone after the first (sclman-compute-2,
  # ...), each in a host aggregate whose availability zone is that zone (below).
  local zones=(${OS_ZONES:-}) z
  for ((z = 1; z < ${#zones[@]}; z++)); do
    printf '[DEFAULT]\nhost = sclman-compute-%d\n' $((z + 1)) > "$OS_DIR/nova/compute-$((z + 1)).conf"
    os_bg "nova-compute-$((z + 1))" $OS_PY -c "import sys; sys.argv = ['nova-compute', '--config-file', '$OS_DIR/nova/nova.conf', '--config-file', '$OS_DIR/nova/compute-$((z + 1)).conf']; from nova.cmd.compute import main; main()"
  done
  os_wait_http "http://127.0.0.1:$p_pl/" 60 placement || return 1
  os_wait_http "http://127.0.0.1:$p_gl/" 60 glance || return 1
  os_wait_http "http://127.0.0.1:$p_ne/" 60 neutron || return 1
  os_wait_http "http://127.0.0.1:$p_nova/" 90 nova-api || return 1
  $api resources >> "$OS_DIR/log/setup.log" 2>&1 || { tail -n 30 "$OS_DIR/log/setup.log" >&2; return 1; }
  # The compute service registers itself, then is mapped into cell1.
  local k
  for k in $(seq 1 90); do
    nova-manage $nc cell_v2 discover_hosts >> "$OS_DIR/log/setup.log" 2>&1 || true
    if $api compute-up "${#zones[@]}" 2>/dev/null; then
      break
    fi
    sleep 1
  done
  $api compute-up "${#zones[@]}" || { os_log "nova-compute did not register"; tail -n 30 "$OS_DIR/log/nova-compute.log" >&2; return 1; }
  if [ ${#zones[@]} -gt 0 ]; then
    local hosts=(sclman-compute)
    for ((z = 1; z < ${#zones[@]}; z++)); do hosts+=("sclman-compute-$((z + 1))"); done
    local pairs=()
    for ((z = 0; z < ${#zones[@]}; z++)); do pairs+=("${hosts[$z]}=${zones[$z]}"); done
    $api zones "${pairs[@]}" >> "$OS_DIR/log/setup.log" 2>&1 || { os_log "cannot make the zones"; tail -n 30 "$OS_DIR/log/setup.log" >&2; return 1; }
  fi
  # Registered is not schedulable yet (NoValidHost until placement has the node's inventory):
  # boot and delete one server.
  $api probe >> "$OS_DIR/log/setup.log" 2>&1 || { os_log "no server reached ACTIVE"; tail -n 30 "$OS_DIR/log/setup.log" >&2; return 1; }
  OS_BRINGUP_SECONDS=$((SECONDS - t0))
  os_log "services up in ${OS_BRINGUP_SECONDS} s"
}

# os_stop PID...: TERM them all, then wait for each in turn (KILL after 10 s), and take them
# out of OS_PIDS.
os_stop() {
  local pid k left=()
  for pid in "$@"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do
    for k in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for pid in "${OS_PIDS[@]}"; do
    [[ " $* " == *" $pid "* ]] || left+=("$pid")
  done
  OS_PIDS=("${left[@]}")
}

# openstack_stop: stop what openstack_start started, newest first.
openstack_stop() {
  local i newest_first=()
  for ((i = ${#OS_PIDS[@]} - 1; i >= 0; i--)); do
    newest_first+=("${OS_PIDS[$i]}")
  done
  os_stop "${newest_first[@]}"
  if [ -n "$OS_DB_DATADIR" ]; then
    rm -rf "$OS_DB_DATADIR"
  fi
  OS_DB_SOCK='' OS_DB_DATADIR=''
}
