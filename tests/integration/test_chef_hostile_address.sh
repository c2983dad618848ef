#!/usr/bin/env bash
# A web VM writes its own Chef node: hostile automatic.ipaddress (and port) values set through the
# Chef API on one node of a chef-search cluster (real goiardi, real nginx). The value never
# reaches the LB's config (no injected server block), the node is kept out and named by status,
# why, the log and the metrics textfile, the other node keeps being served, and fixing the value
# brings the node back.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/goiardi.sh"
trap 'rc=$?; goiardi_stop; cleanup $rc' EXIT

goiardi_start "$T/goiardi"
write_config "man_drain_seconds = 1"
chef_config "register_timeout = 60"
chef_upload_roles
sc create-cluster shop --web 2 --min 1 --max 5 --bootstrapper chef --balancer chef-search \
  > /dev/null 2> "$T/create.err" || { cat "$T/create.err"; fail "create-cluster"; }

UP=$T/instances/shop-lb-1/conf/upstream.conf
addr() { sqlite3 "$DB" "SELECT address FROM instances WHERE name='$1'"; }
# lb_serves NAME...: each named instance answers through the LB within 20 requests.
lb_serves() { serves_through "$(lb_address shop)" "$@"; }
# set_attr JQ: apply JQ to node shop-web-1 through the Chef API, as its chef-client could.
set_attr() {
  chef_api GET /nodes/shop-web-1 | jq -c "$1" > "$T/node.json"
  chef_api PUT /nodes/shop-web-1 "$(cat "$T/node.json")" > /dev/null || fail "PUT node: $1"
}
# tick: one scale-out as cron runs it, its log in $T/tick.err; it must exit 0.
tick() {
  sc scale-out --cron --metrics-file "$T/metrics.prom" > /dev/null 2> "$T/tick.err" \
    || { cat "$T/tick.err"; fail "scale-out failed after: $1"; }
}
servers() { awk '$1=="server" {print $2}' "$UP" | sort | tr '\n' ' ' | sed 's/ $//'; }

WEB1=$(addr shop-web-1)
WEB2=$(addr shop-web-2)
[ "$(servers)" = "$(printf '%s\n' "$WEB1" "$WEB2" | sort | tr '\n' ' ' | sed 's/ $//')" ] \
  || fail "LB does not forward to both web nodes: $(servers)"
lb_serves shop-web-1 shop-web-2
pass "cluster up, LB forwards to shop-web-1 and shop-web-2"

# The first hostile value takes shop-web-1 out; later ones leave the config file as it is.
INJECT="127.0.0.1:80; } server { listen 8099; location / { return 200 'owned'; } } upstream x { server 127.0.0.1"
LONG=$(printf '1%.0s' $(seq 1 300))
first=yes
i=0
for jq_set in ".automatic.ipaddress = \"$INJECT\"" \
              '.automatic.ipaddress = "127.0.0.1\nserver 10.9.9.9:80"' \
              '.automatic.ipaddress = "127.0.0.1;"' \
              '.automatic.ipaddress = "}"' \
              '.automatic.ipaddress = "web1.example.net"' \
              ".automatic.ipaddress = \"$LONG\"" \
              '.automatic.ipaddress = "127.0.0.\u00ff"' \
              '.automatic.ipaddress = 3' \
              '.automatic.ipaddress = "127.0.0.1" | .normal.sclman.port = 0' \
              '.automatic.ipaddress = "127.0.0.1" | .normal.sclman.port = 70000'; do
  i=$((i + 1))
  before=$(md5sum < "$UP")
  set_attr "$jq_set"
  tick "$jq_set"
  [ "$(servers)" = "$WEB2" ] || fail "value $i: LB forwards to '$(servers)', want '$WEB2' only"
  [ "$first" = yes ] || [ "$(md5sum < "$UP")" = "$before" ] || fail "value $i changed the LB config"
  first=no
  grep -qE "owned|8099|10\.9\.9\.9|example|;\s*;|\}\s*server" "$UP" && { cat "$UP"; fail "value $i reached the LB config"; }
  curl -fsS "http://127.0.0.1:8099/" > /dev/null 2>&1 && fail "value $i: the injected server answers"
  grep -q "lb.rejected cluster=shop node=shop-web-1 reason=" "$T/tick.err" \
    || { cat "$T/tick.err"; fail "value $i: no error naming the node in the log"; }
  # One log line per rejection: a newline in the value never starts a line of its own.
  grep -q "^server 10.9.9.9" "$T/tick.err" && fail "value $i: a raw newline reached the log"
  LC_ALL=C grep -q $'[\x80-\xff]' "$T/tick.err" && fail "value $i: a non-ASCII byte reached the log"
  [ "$(status_q '.[0].rejected[0].name')" = shop-web-1 ] || fail "value $i: status does not name the node"
  sc status > "$T/status.txt"
  grep -q "rejected shop-web-1: " "$T/status.txt" || { cat "$T/status.txt"; fail "value $i: status text"; }
  sc why shop > "$T/why.txt"
  grep -q "kept out of the LB since .*: shop-web-1: " "$T/why.txt" || { cat "$T/why.txt"; fail "value $i: why"; }
  grep -q 'sclman_cluster_rejected{cluster="shop"} 1' "$T/metrics.prom" || fail "value $i: metrics textfile"
  lb_serves shop-web-2
done
grep -q "port 70000 is not from 1 to 65535" "$T/status.txt" || fail "the last reason does not name the port"
pass "10 hostile values: kept out of the LB, named by log, status, why and metrics; shop-web-2 served"

# A valid IPv6 literal is an address: accepted and rendered in brackets.
set_attr ".automatic.ipaddress = \"::1\" | .normal.sclman.port = ${WEB1##*:}"
# Not under --cron (which logs warnings only), so the info line of its return shows.
sc scale-out > /dev/null 2> "$T/tick.err" || { cat "$T/tick.err"; fail "scale-out failed after: ipv6"; }
grep -q "lb.accepted cluster=shop node=shop-web-1" "$T/tick.err" || { cat "$T/tick.err"; fail "no lb.accepted line"; }
grep -q "server \[::1\]:${WEB1##*:} " "$UP" || { cat "$UP"; fail "IPv6 literal not rendered in brackets"; }
[ "$(status_q '.[0].rejected | length')" = 0 ] || fail "a valid IPv6 literal was rejected"
pass "a valid IPv6 literal is accepted (lb.accepted) and rendered as [::1]:port"

# Fixed: the node is back in the LB and no longer named.
set_attr ".automatic.ipaddress = \"127.0.0.1\""
tick "fixed"
[ "$(servers)" = "$(printf '%s\n' "$WEB1" "$WEB2" | sort | tr '\n' ' ' | sed 's/ $//')" ] \
  || fail "fixed node not back: $(servers)"
[ "$(status_q '.[0].rejected | length')" = 0 ] || fail "status still names the fixed node"
grep -q 'sclman_cluster_rejected{cluster="shop"} 0' "$T/metrics.prom" || fail "metrics still count the node"
lb_serves shop-web-1 shop-web-2
pass "fixed value: shop-web-1 back in the LB and served, no longer named"

sc delete-cluster shop > /dev/null
