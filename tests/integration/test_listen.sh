#!/usr/bin/env bash
# create-cluster --listen: the LB on this host listens on the address and port given, and only
# there; the cluster's address in status is that one; the chain keeps working through it; an
# IPv6 literal works; the state file's copy is parsed again when read, so an edited one stops the
# command instead of reaching the LB's config. Refusals of bad values (host names, port 0, the
# wildcard without --allow-wildcard, OpenStack without --listen) are rows of
# test_bad_args_table.sh.
. "$(dirname "$0")/lib.sh"
write_config

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# 1. 127.0.0.2 (loopback, but not the default 127.0.0.1) and a fixed port.
PORT=$(free_port)
sc create-cluster shop --web 2 --listen "127.0.0.2:$PORT" > /dev/null
[ "$(lb_address shop)" = "127.0.0.2:$PORT" ] || fail "status gives the LB as $(lb_address shop)"
[ "$(sqlite3 "$DB" "SELECT lb_listen || ' ' || lb_port FROM clusters WHERE name='shop'")" = "127.0.0.2 $PORT" ] \
  || fail "the state does not keep the listen address"
grep -q "^    listen 127.0.0.2:$PORT;" "$T/instances/shop-lb-1/conf/nginx.conf" \
  || fail "the LB's nginx.conf does not listen on 127.0.0.2:$PORT"
curl -fsS "http://127.0.0.2:$PORT/" | grep -q "sclman web instance shop-web-" || fail "the LB does not serve on 127.0.0.2"
if curl -fsS --max-time 2 "http://127.0.0.1:$PORT/" > /dev/null 2>&1; then
  fail "the LB answers on 127.0.0.1:$PORT too"
fi
# Its status page (sclman's health check of the LB) answers sclman through that address.
curl -fsS "http://127.0.0.2:$PORT/nginx_status" | grep -q "Active connections" \
  || fail "the LB's status page does not answer this host on 127.0.0.2"
pass "the LB listens on 127.0.0.2:$PORT only, status and the state say so, it serves"

# 2. The chain goes on through it: a scale-out by hand and the LB forwards to the new instance.
sc scale-out --cluster shop --to 3 > /dev/null 2>&1
seen=""
for _ in $(seq 1 12); do seen+=$(curl -fsS "http://127.0.0.2:$PORT/"); done
echo "$seen" | grep -q "sclman web instance shop-web-3" || fail "shop-web-3 never answered through 127.0.0.2"
chain
[ "$(lb_address shop)" = "127.0.0.2:$PORT" ] || fail "the chain moved the LB to $(lb_address shop)"
pass "scale-out through the chain: shop-web-3 answers through 127.0.0.2:$PORT"

# 3. IPv6: [::1] and a free port (the bare address form).
if ip -6 addr show dev lo 2>/dev/null | grep -q "inet6 ::1/128"; then
  sc create-cluster six --web 1 --listen ::1 > /dev/null
  SIX=$(lb_address six)
  case $SIX in "[::1]:"*) ;; *) fail "the IPv6 LB is at '$SIX'";; esac
  curl -fsS -g "http://$SIX/" | grep -q "sclman web instance six-web-1" || fail "the LB does not serve on $SIX"
  sc delete-cluster six > /dev/null
  pass "an IPv6 LB on $SIX serves"
else
  echo "note: no ::1 on lo here; the IPv6 case is left to the unit tests"
fi

# 4. An edited state file: a hostile lb_listen is a state error naming the row, and nothing of
# it reaches a config.
sc create-cluster bad --web 1 --listen "127.0.0.3:$(free_port)" > /dev/null
conf=$(sha256sum "$T/instances/bad-lb-1/conf/nginx.conf")
sqlite3 "$DB" "UPDATE clusters SET lb_listen = '127.0.0.1:80; } server { listen 81' WHERE name = 'bad'"
rc=0
sc status bad > "$T/out" 2> "$T/err" || rc=$?
[ $rc = 74 ] || { cat "$T/err"; fail "status on a hostile lb_listen exited $rc"; }
grep -q "lb_listen bad address" "$T/err" || { cat "$T/err"; fail "the error does not name lb_listen"; }
[ "$(sha256sum "$T/instances/bad-lb-1/conf/nginx.conf")" = "$conf" ] || fail "the LB's config changed"
sqlite3 "$DB" "UPDATE clusters SET lb_listen = '127.0.0.3', lb_port = 70000 WHERE name = 'bad'"
rc=0
sc status bad > "$T/out" 2> "$T/err" || rc=$?
[ $rc = 74 ] || fail "status on lb_port 70000 exited $rc, not 74"
grep -q "lb_port 70000, not an integer from 1 to 65535" "$T/err" || { cat "$T/err"; fail "the error does not name lb_port"; }
pass "a hostile lb_listen or lb_port in the state file is a state error (exit $rc), the LB's config unchanged"
