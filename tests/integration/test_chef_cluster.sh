#!/usr/bin/env bash
# The chef bootstrapper and the chef-search balancer on the local provider against a real Chef
# server (Debian's goiardi, auth on, loopback): create a cluster, scale it out and in through the
# normal commands, lose an instance, gc orphans and a node that never registered, delete it; at
# each step check what goiardi holds (environment, nodes, clients, attributes) and what the LB
# forwards to.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/goiardi.sh"
trap 'rc=$?; goiardi_stop; cleanup $rc' EXIT

goiardi_start "$T/goiardi"
write_config "man_drain_seconds = 1"
chef_config "register_timeout = 60"

CREATE=(create-cluster shop --web 2 --min 1 --max 5 --bootstrapper chef --balancer chef-search)

# Roles missing: a config error naming the role, and nothing left behind.
expect_exit 78 "${CREATE[@]}" --state "$DB"
grep -q "role 'lb' does not exist on chef server" "$T/err" || { cat "$T/err"; fail "missing role not named"; }
[ -z "$(sqlite3 "$DB" "SELECT name FROM clusters")" ] || fail "a failed create-cluster left a cluster row"
chef_exists /environments/shop && fail "a failed create-cluster left an environment"
pass "missing role named, nothing created"

chef_upload_roles
sc "${CREATE[@]}" > /dev/null 2> "$T/create.err" || { cat "$T/create.err"; fail "create-cluster"; }
[ "$(sqlite3 "$DB" "SELECT bootstrapper || ' ' || balancer FROM clusters WHERE name='shop'")" = "chef chef-search" ] \
  || fail "cluster columns do not record the drivers"
grep -q "PRIVATE KEY" "$T/create.err" && fail "a private key reached the log"

addr() { sqlite3 "$DB" "SELECT address FROM instances WHERE name='$1'"; }
applied() { lb_applied shop-lb-1; }
addrs_of() { local n; for n in "$@"; do addr "$n"; done | sort | tr '\n' ' ' | sed 's/ $//'; }
# check_chef IN_SERVICE... : goiardi holds exactly the live instances as nodes and clients of
# environment shop, in service are exactly the given web nodes, and the LB forwards to them.
check_chef() {
  local live nodes clients n want
  live=$(sqlite3 "$DB" "SELECT name FROM instances WHERE state!='gone' ORDER BY name" | tr '\n' ' ' | sed 's/ $//')
  nodes=$(chef_q /environments/shop/nodes 'keys[]' | sort | tr '\n' ' ' | sed 's/ $//')
  clients=$(chef_q /clients 'keys[] | select(startswith("shop-"))' | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$nodes" = "$live" ] || fail "$1: nodes '$nodes', live instances '$live'"
  [ "$clients" = "$live" ] || fail "$1: clients '$clients', live instances '$live'"
  shift
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$(chef_search shop)" = "$want" ] || fail "search finds '$(chef_search shop)', want '$want'"
  for n in $(sqlite3 "$DB" "SELECT name FROM instances WHERE state!='gone'"); do
    local role env rl
    role=${n#shop-}; role=${role%-*}
    [ "$(chef_q "/nodes/$n" .chef_environment)" = shop ] || fail "node $n not in environment shop"
    [ "$(chef_q "/nodes/$n" '.run_list | join(",")')" = "role[$role]" ] || fail "node $n run list"
    [ "$(chef_q "/nodes/$n" .normal.sclman.cluster)" = shop ] || fail "node $n lacks sclman.cluster"
  done
  [ "$(applied)" = "$(addrs_of "$@")" ] || fail "LB forwards to '$(applied)', want '$(addrs_of "$@")'"
}
# lb_serves NAME...: each named instance answers through the LB within 20 requests.
lb_serves() { serves_through "$(lb_address shop)" "$@"; }

[ "$(chef_q /environments/shop .name)" = shop ] || fail "environment shop missing"
check_chef "created" shop-web-1 shop-web-2
[ "$(chef_q /nodes/shop-lb-1 '.run_list[0]')" = "role[lb]" ] || fail "LB node run list"
[ "$(chef_q /nodes/shop-web-1 .automatic.ipaddress)" = 127.0.0.1 ] || fail "ipaddress not set"
[ "$(chef_q /nodes/shop-web-1 .normal.sclman.port)" = "$(addr shop-web-1 | cut -d: -f2)" ] || fail "port attribute"
[ "$(chef_q /nodes/shop-web-1 .normal.sclman.in_service)" = true ] || fail "in_service not true"
lb_serves shop-web-1 shop-web-2
pass "created: environment, 3 nodes and clients, 2 web nodes in service, LB forwards to them"

sc scale-out --cluster shop --to 3 > /dev/null
check_chef "scaled out" shop-web-1 shop-web-2 shop-web-3
lb_serves shop-web-3
pass "scale-out: shop-web-3 registered, in service, forwarded to"

# Scale-in: first out of service (attribute false, out of the search and the LB), node and client
# still there during the drain; then both deleted and the instance gone.
sc scale-in --cluster shop --to 2 > /dev/null
[ "$(sqlite3 "$DB" "SELECT state FROM instances WHERE name='shop-web-3'")" = draining ] || fail "shop-web-3 not draining"
[ "$(chef_q /nodes/shop-web-3 .normal.sclman.in_service)" = false ] || fail "draining node still in service"
[ "$(chef_search shop)" = "shop-web-1 shop-web-2" ] || fail "draining node still found by search"
[ "$(applied)" = "$(addrs_of shop-web-1 shop-web-2)" ] || fail "LB still forwards to the draining node"
chef_exists /clients/shop-web-3 || fail "client deleted before the drain ended"
curl -fsS "http://$(addr shop-web-3)/" > /dev/null || fail "draining instance stopped before the drain ended"
# Someone deleted the client meanwhile: a 404 is success.
chef_api DELETE /clients/shop-web-3 > /dev/null
sc scale-in --cluster shop --wait > /dev/null
[ "$(sqlite3 "$DB" "SELECT state FROM instances WHERE name='shop-web-3'")" = gone ] || fail "shop-web-3 not gone"
chef_exists /nodes/shop-web-3 && fail "node shop-web-3 left behind"
check_chef "scaled in" shop-web-1 shop-web-2
pass "scale-in: out of service, drained, node and client deleted (one already gone), instance gone"

# An instance dies: out of service at once, replaced; gc deletes its node and client.
kill_nginx shop-web-1
sc scale-out > /dev/null 2>&1 || true
[ "$(chef_q /nodes/shop-web-1 .normal.sclman.in_service)" = false ] || fail "dead node still in service"
sc scale-out > /dev/null 2>&1 || true
sc gc > /dev/null
check_chef "dead instance replaced" shop-web-2 shop-web-4
pass "dead instance: out of service, replaced, its node and client deleted by gc"

# gc: orphans of environment shop (node and client, or client alone) are deleted; a node that
# is not sclman's is left alone.
chef_api POST /clients '{"name":"shop-web-98","admin":false}' > /dev/null
chef_api POST /clients '{"name":"shop-web-99","admin":false}' > /dev/null
chef_api POST /nodes '{"name":"shop-web-99","chef_environment":"shop","run_list":["role[web]"],"normal":{"sclman":{"cluster":"shop","in_service":false}}}' > /dev/null
chef_api POST /nodes '{"name":"foreign","chef_environment":"shop","run_list":[]}' > /dev/null
sc gc --json > "$T/gc.json"
[ "$(jq .orphan_registrations "$T/gc.json")" = 2 ] || { cat "$T/gc.json"; fail "gc did not count 2 orphans"; }
for o in nodes/shop-web-99 clients/shop-web-99 clients/shop-web-98; do
  chef_exists "/$o" && fail "gc left orphan $o"
done
chef_exists /nodes/foreign || fail "gc deleted a node sclman did not make"
chef_api DELETE /nodes/foreign > /dev/null
check_chef "after gc" shop-web-2 shop-web-4
pass "gc: orphan nodes and clients deleted, a foreign node left alone"

# A node that never registered (its first chef-client run never reported) within
# register_timeout: gc marks the instance error and deletes it; scale-out replaces it.
chef_api GET /nodes/shop-web-4 | jq -c ".automatic = {} | .normal.sclman.in_service = false | .normal.sclman.created_at = $(( ($(date +%s) - 120) * 1000 ))" > "$T/node.json"
chef_api PUT /nodes/shop-web-4 "$(cat "$T/node.json")" > /dev/null
sqlite3 "$DB" "UPDATE instances SET state='bootstrapping' WHERE name='shop-web-4'"
sc gc --json > "$T/gc.json"
[ "$(jq .never_registered "$T/gc.json")" = 1 ] || { cat "$T/gc.json"; fail "gc did not find the unregistered node"; }
sqlite3 "$DB" "SELECT error FROM instances WHERE name='shop-web-4'" | grep "did not register within 60 s" > /dev/null \
  || fail "unregistered instance lacks its reason"
chef_exists /nodes/shop-web-4 && fail "unregistered node left behind"
sc scale-out > /dev/null
check_chef "unregistered node replaced" shop-web-2 shop-web-5
pass "gc: a node that never registered marks its instance error and is deleted; replaced"

sc delete-cluster shop > /dev/null
chef_exists /environments/shop && fail "environment shop left behind"
[ -z "$(chef_q /nodes 'keys[] | select(startswith("shop-"))')" ] || fail "nodes left behind"
[ -z "$(chef_q /clients 'keys[] | select(startswith("shop-"))')" ] || fail "clients left behind"
[ -z "$(ls "$T/instances")" ] || fail "instances left behind"
pass "delete-cluster: nodes, clients, then the environment deleted"
