# Start and stop Octavia 11 (Zed, Debian 12's python3-octavia) on 127.0.0.1 for the integration
# tests, on top of tests/support/openstack.sh's RabbitMQ, Keystone and Neutron (started here
# with `openstack_start DIR keystone-neutron`: no Nova, Glance or Placement; Neutron holds the
# floating IPs and VIP ports sclman makes): a private MariaDB (Octavia's migrations cannot run
# on SQLite), a CA, octavia-api under uwsgi and octavia-worker, with the amphora provider and
# its noop amphora and compute drivers (no VMs; operating_status never becomes ONLINE). The
# API's network driver is the real one (allowed_address_pairs: a VIP subnet or port is checked
# in Neutron, and the API makes the VIP port there), the worker's the noop one (nothing is
# plugged, and the worker deletes no VIP port: Neutron keeps the octavia-lb-* ports).
# Source it, then: octavia_start DIR; ...; octavia_stop. Sets OCT_URL (the `load-balancer`
# endpoint registered in Keystone), OCT_BRINGUP_SECONDS and what openstack_start sets; the demo
# user has the role `load-balancer_member`. Stops only the processes it started, by pid.
# See /work/shared/LAB-NOTES.md ("Octavia 11") and docs/OPENSTACK.md for the traps.

declare -F openstack_start > /dev/null || . "$(dirname "${BASH_SOURCE[0]}")/openstack.sh"

OCT_URL=

# oct_db CONF: create Octavia's database on openstack.sh's MariaDB, run its migrations.
oct_db() {
  os_mariadb_create utf8mb4 octavia && octavia-db-manage --config-file "$1" upgrade head
}

# oct_ca DIR: a CA with an encrypted key (passphrase in DIR/ca.pass) and a client certificate
# it signed. Without a CA in [certificates] every LB goes to ERROR: the amphora flow signs a
# certificate for its (noop) amphora even here.
oct_ca() {
  local d=$1
  head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$d/ca.pass"
  openssl req -x509 -newkey rsa:2048 -sha256 -days 30 -subj /CN=sclman-test-octavia-ca \
    -keyout "$d/ca.key" -passout "file:$d/ca.pass" -out "$d/ca.pem" &&
  openssl req -newkey rsa:2048 -nodes -subj /CN=sclman-test-octavia-client \
    -keyout "$d/client.key" -out "$d/client.csr" &&
  openssl x509 -req -sha256 -days 30 -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -passin "file:$d/ca.pass" -CAcreateserial -out "$d/client.crt" &&
  cat "$d/client.crt" "$d/client.key" > "$d/client.pem"
}

octavia_start() {
  local dir=$1
  local t0=$SECONDS
  OS_DIR=$dir
  mkdir -p "$dir"/{log,mysql,octavia/certs,locks,py}
  local conf=$dir/octavia/octavia.conf certs=$dir/octavia/certs
  local p_oct
  p_oct=$(os_free_port)
  OCT_URL=http://127.0.0.1:$p_oct
  # Everything of Octavia's starts while RabbitMQ and Keystone do (octavia-api's and the
  # worker's imports alone take half a minute on a busy machine): their ports are chosen here.
  OS_RABBIT_PORT=$(os_free_port) OS_KEYSTONE_PORT=$(os_free_port)
  OS_KEYSTONE_URL=http://127.0.0.1:$OS_KEYSTONE_PORT

  # MariaDB and Octavia's schema.
  os_mariadb_start
  printf '[database]\nconnection = %s\n' "$(os_db_url octavia utf8mb4)" > "$dir/octavia/db.conf"
  oct_db "$dir/octavia/db.conf" >> "$dir/log/octavia-db.log" 2>&1 &
  local p_db=$!
  oct_ca "$certs" >> "$dir/log/setup.log" 2>&1 || { os_log "CA: see $dir/log/setup.log"; return 1; }

  cat > "$conf" <<EOT
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:$OS_RABBIT_PORT/
host = sclman-octavia
[oslo_messaging_rabbit]
# The worker starts before RabbitMQ listens: retry every second, not with a growing backoff.
rabbit_retry_interval = 1
rabbit_retry_backoff = 0
rabbit_interval_max = 1
[api_settings]
bind_host = 127.0.0.1
bind_port = $p_oct
api_base_uri = $OCT_URL
auth_strategy = keystone
default_provider_driver = amphora
enabled_provider_drivers = amphora:Amphora provider with noop drivers (sclman tests)
[database]
connection = $(os_db_url octavia utf8mb4)
[controller_worker]
amphora_driver = amphora_noop_driver
compute_driver = compute_noop_driver
network_driver = network_noop_driver
image_driver = image_noop_driver
volume_driver = volume_noop_driver
loadbalancer_topology = SINGLE
workers = 1
client_ca = $certs/ca.pem
[task_flow]
jobboard_enabled = False
[oslo_messaging]
# octavia-worker runs a V1 consumer too, which needs a topic (else it dies and is forked
# again and again); the amphora provider (V2) casts to octavia_provisioning_v2.
topic = octavia_prov
[certificates]
cert_generator = local_cert_generator
ca_certificate = $certs/ca.pem
ca_private_key = $certs/ca.key
ca_private_key_passphrase = $(cat "$certs/ca.pass")
[haproxy_amphora]
client_cert = $certs/client.pem
server_ca = $certs/ca.pem
[oslo_concurrency]
lock_path = $dir/locks
$(os_authtoken octavia)
$(os_service_user service_auth octavia)
EOT
  # octavia-api checks a VIP against the real Neutron (allowed_address_pairs_driver: a VIP port
  # sclman made is looked up there, its subnet and address taken from it); the worker keeps the
  # noop network driver, which allocates the VIP the API validated without plugging anything.
  printf '[controller_worker]\nnetwork_driver = allowed_address_pairs_driver\n[neutron]\nregion_name = RegionOne\nendpoint_type = public\n' \
    > "$dir/octavia/api-network.conf"
  cat > "$dir/py/octavia_wsgi.py" <<EOT
from octavia.api.app import setup_app
application = setup_app(argv=['octavia-api', '--config-file', '$conf', '--config-file', '$dir/octavia/api-network.conf'])
EOT
  os_bg octavia-worker "$OS_PY" /usr/bin/octavia-worker --config-file "$conf"
  os_bg octavia-api uwsgi-core --plugin python3 --http-socket "127.0.0.1:$p_oct" \
    --wsgi-file "$dir/py/octavia_wsgi.py" --threads 4 --processes 1 \
    --add-header 'Connection: close' --die-on-term

  openstack_start "$dir" keystone-neutron || return 1
  $OS_PY "$OS_SUPPORT/openstack_api.py" "$OS_KEYSTONE_URL" octavia "$OCT_URL" \
    >> "$dir/log/setup.log" 2>&1 || { tail "$dir/log/setup.log" >&2; return 1; }
  if ! wait $p_db; then
    os_log "Octavia's database did not come up"
    tail -n 30 "$dir/log/octavia-db.log" "$dir/log/mariadb-server.log" >&2
    return 1
  fi
  os_wait_http "$OCT_URL/" 60 octavia-api || return 1
  # A cast the API sends before the worker's consumer has declared its queue is lost (the LB
  # would stay PENDING_CREATE for good): wait for that declaration.
  oct_wait_worker || return 1
  OCT_BRINGUP_SECONDS=$((SECONDS - t0))
  os_log "Octavia up in ${OCT_BRINGUP_SECONDS} s"
}

# oct_wait_worker: wait (at most 60 s) until RabbitMQ has the queue of octavia-worker's V2
# consumer (a passive declare answers 404 before; its declarations are only debug log lines).
oct_wait_worker() {
  "$OS_PY" - "amqp://${OS_TRANSPORT_URL#rabbit://}/" octavia_provisioning_v2 <<'EOT' && return 0
import sys
import time

import kombu

deadline = time.time() + 60
while time.time() < deadline:
    try:
        with kombu.Connection(sys.argv[1], connect_timeout=2) as c:
            c.default_channel.queue_declare(queue=sys.argv[2], passive=True)
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(1)
EOT
  os_log "octavia-worker did not declare its queue within 60 s"
  tail -n 40 "$OS_DIR/log/octavia-worker.log" >&2
  return 1
}

# octavia_worker_signal STOP|CONT: stop or continue octavia-worker (its master and the consumer
# processes it forked). While it is stopped, a change the API accepts leaves the load balancer
# PENDING_UPDATE (the cast waits in RabbitMQ): the one way to keep it busy for exactly as long
# as a test needs, where a stream of updates from the side leaves the outcome to timing.
octavia_worker_signal() {
  [ -n "${OS_PID_octavia_worker:-}" ] || return 1
  # shellcheck disable=SC2046
  kill -"$1" "$OS_PID_octavia_worker" $(pgrep -P "$OS_PID_octavia_worker")
}

# octavia_stop: stop what octavia_start started (with RabbitMQ and Keystone), remove the
# database's data directory. The worker and the API go first: a worker whose RabbitMQ is gone
# spends 8 s on reconnects before it ends. Nothing of the worker's is kept, so it is killed
# (its master, then the consumer processes the master forked): a graceful stop takes seconds.
octavia_stop() {
  if [ -n "${OS_PID_octavia_worker:-}" ]; then
    # shellcheck disable=SC2046
    kill -KILL "$OS_PID_octavia_worker" $(pgrep -P "$OS_PID_octavia_worker") 2>/dev/null || true
  fi
  os_stop ${OS_PID_octavia_worker:+"$OS_PID_octavia_worker"} ${OS_PID_octavia_api:+"$OS_PID_octavia_api"}
  OS_PID_octavia_worker='' OS_PID_octavia_api=''
  openstack_stop
}
