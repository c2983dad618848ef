# Fixtures the benchmarks share (bench/poll_metrics.sh, bench/two_hosts_bench.sh): web
# instances as ports of a few real nginx processes, and a Prometheus with one load series per
# instance. Source it after setting T (a private directory), PIDS=() (stopped by the caller),
# PORT_BASE and NGINX.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nginx N: ceil(N/1000) nginx masters, each on up to 1,000 consecutive ports.
start_nginx() {
  local n=$1 k=0 first
  while [ $((k * 1000)) -lt "$n" ]; do
    local d="$T/nginx-$k"
    mkdir -p "$d/logs" "$d/tmp"
    first=$((PORT_BASE + k * 1000))
    {
      echo "worker_processes 1; pid $d/nginx.pid; error_log $d/logs/error.log warn;"
      echo "worker_rlimit_nofile 8192; events { worker_connections 4096; }"
      echo "http { access_log off; client_body_temp_path $d/tmp; proxy_temp_path $d/tmp;"
      echo "fastcgi_temp_path $d/tmp; uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp; server {"
      local p
      for p in $(seq "$first" $((first + 999 < PORT_BASE + n - 1 ? first + 999 : PORT_BASE + n - 1))); do
        echo "listen 127.0.0.1:$p;"
      done
      echo "location = /nginx_status { stub_status; } } }"
    } > "$d/nginx.conf"
    "$NGINX" -p "$d" -c "$d/nginx.conf" 2> "$d/logs/start.log" \
      || { cat "$d/logs/start.log" >&2; echo "nginx $k did not start (ports $first..)" >&2; exit 1; }
    k=$((k + 1))
  done
}

stop_nginx() {
  local f
  for f in "$T"/nginx-*/nginx.pid; do
    [ -f "$f" ] || continue
    kill -QUIT "$(cat "$f")" 2>/dev/null || true
  done
  sleep 0.5
  rm -rf "$T"/nginx-*
}

PROM_PID=
NODE_PID=
# start_prometheus N [BASE MOD SCRAPE]: node_exporter serving N series
# sclman_bench_load{sclman_instance="cNNNN-web-M"} = BASE + k % MOD + 0.5 (default 0, 97),
# Prometheus scraping it each SCRAPE (default 1s); wait until all N are queryable. Sets PROM.
start_prometheus() {
  local n=$1 base=${2:-0} mod=${3:-97} scrape=${4:-1s}
  mkdir -p "$T/textfile" "$T/prom-data"
  python3 - "$n" "$base" "$mod" > "$T/textfile/bench.prom" <<'PY'
import sys
n, base, mod = (int(a) for a in sys.argv[1:4])
print("# TYPE sclman_bench_load gauge")
for k in range(n):
    print(f'sclman_bench_load{{sclman_instance="c{k // 10:04d}-web-{k % 10 + 1}"}} {base + k % mod}.5')
PY
  local node_port prom_port
  node_port=$(free_port)
  prometheus-node-exporter --web.listen-address="127.0.0.1:$node_port" \
    --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$T/textfile" > "$T/node.log" 2>&1 &
  NODE_PID=$!
  PIDS+=($NODE_PID)
  prom_port=$(free_port)
  printf 'global:\n  scrape_interval: %s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' \
    "$scrape" "$node_port" > "$T/prometheus.yml"
  prometheus --config.file="$T/prometheus.yml" --web.listen-address="127.0.0.1:$prom_port" \
    --storage.tsdb.path="$T/prom-data" > "$T/prometheus.log" 2>&1 &
  PROM_PID=$!
  PIDS+=($PROM_PID)
  PROM=http://127.0.0.1:$prom_port
  local k
  for k in $(seq 300); do
    if curl -fsS -G "$PROM/api/v1/query" --data-urlencode 'query=count(sclman_bench_load)' 2>/dev/null \
        | jq -e ".data.result[0].value[1] == \"$n\"" > /dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "prometheus never had $n series" >&2
  exit 1
}

stop_prometheus() {
  kill "$PROM_PID" "$NODE_PID" 2>/dev/null || true
  wait "$PROM_PID" "$NODE_PID" 2>/dev/null || true
  rm -rf "$T/textfile" "$T/prom-data"
}

