#!/usr/bin/env bash
# sclman replace on the local provider: a rolling replacement of a cluster of 4 under client
# load (sclman-loadgen) gives 0 failed requests and ends with every web instance on the new
# image, batch by batch through the chain; the LB never forwards to fewer than the desired size;
# status and status --json show the progress; a second replace while one runs, --cancel with
# none, and bad arguments are exit 64 and change nothing; --dry-run changes nothing; SIGKILL in
# the middle of a replace, then the chain resumes it and finishes it; --instance replaces one
# instance and refuses the LB, an unknown or protected one.
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 2
man_sensitivity = 1000"

sc create-cluster shop --web 4 --min 2 --max 6 > /dev/null
LB=$(lb_address shop)
images() { sqlite3 "$DB" "SELECT name || '=' || image FROM instances WHERE role = 'web' AND state IN ('requested', 'building', 'active', 'bootstrapping', 'in_service') ORDER BY serial" | tr '\n' ' '; }
rollout_q() { status_q ".[0].rollout$1"; }
upstreams() { awk '$1=="server" && !/ down;/' "$T/instances/shop-lb-1/conf/upstream.applied" | wc -l; }
# Run the chain until the rollout no longer runs (at most 40 ticks, counted in $tick); keep the
# fewest backends the LB forwarded to after a tick in $fewest.
until_rollout_ends() {
  fewest=99
  for tick in $(seq 1 40); do
    chain > /dev/null 2>&1
    local n
    n=$(upstreams)
    [ "$n" -lt "$fewest" ] && fewest=$n
    [ "$(rollout_q .status)" = running ] || return 0
    sleep 0.5
  done
}

# --dry-run and refusals change nothing.
before=$(state_dump)
sc replace shop --image v2 --batch 2 --dry-run > "$T/out" || fail "replace --dry-run"
grep -q "would replace the web instances of 'shop' with image 'v2'" "$T/out" || fail "dry run said: $(cat "$T/out")"
expect_exit 64 replace shop --cancel --state "$DB"
grep -q "no rollout of cluster 'shop' is running" "$T/err" || fail "--cancel with none: $(cat "$T/err")"
expect_exit 64 replace shop --image v2 --min-in-service 5 --state "$DB"
grep -q -- "--min-in-service 5 is above the desired size of 'shop' (4)" "$T/err" || fail "$(cat "$T/err")"
expect_exit 64 replace shop --image "$(printf 'v2\033[2J')" --state "$DB"
[ "$before" = "$(state_dump)" ] || fail "a dry run or a refused replace changed the state file"
pass "replace --dry-run, --cancel with none, --min-in-service above the size, a hostile image: nothing changed"

# Under load: replace shop's 4 web instances, 2 per batch; the chain carries it on.
"$SCLMAN_LOADGEN" --url "http://$LB/" --concurrency 4 --rate 300 --duration 900 > "$T/load.json" &
LOADGEN_PIDS+=($!)
sleep 1
sc replace shop --image v2 --batch 2 --pause 1 > "$T/out" 2> "$T/replace.err" || { cat "$T/replace.err" >&2; fail "replace"; }
grep -q "rollout 1 of 'shop': 4 web instances to image 'v2'" "$T/out" || fail "replace said: $(cat "$T/out")"
[ "$(rollout_q .status)" = running ] || fail "status --json rollout: $(status_q '.[0].rollout')"
[ "$(sqlite3 "$DB" "SELECT image FROM clusters WHERE name = 'shop'")" = v2 ] || fail "the cluster's image is not v2"
expect_exit 64 replace shop --image v3 --state "$DB"
grep -q "rollout 1 of 'shop' is running" "$T/err" || fail "a second replace: $(cat "$T/err")"
sc status shop > "$T/status.txt"
grep -qE "^  rollout 1 running: image '[^']+' -> 'v2', flavor '([^']*)' -> '\1', [0-9] of 4 left, batch 1 \(2 per batch\)" "$T/status.txt" \
  || fail "status: $(cat "$T/status.txt")"
until_rollout_ends
[ "$(rollout_q .status)" = done ] || fail "the rollout did not end in 40 ticks: $(status_q '.[0].rollout') $(images)"
sleep 1
kill -INT "${LOADGEN_PIDS[0]}"
wait "${LOADGEN_PIDS[0]}" || true
[ "$(jq .errors "$T/load.json")" = 0 ] && [ "$(jq .non_200 "$T/load.json")" = 0 ] \
  || fail "failed requests during the rollout: $(cat "$T/load.json")"
[ "$(images)" = "shop-web-5=v2 shop-web-6=v2 shop-web-7=v2 shop-web-8=v2 " ] || fail "after the rollout: $(images)"
[ "$(rollout_q .batches)" = 2 ] && [ "$(rollout_q .left)" = 0 ] || fail "rollout: $(status_q '.[0].rollout')"
[ "$fewest" -ge 4 ] || fail "the LB forwarded to $fewest web instances during the rollout, fewer than 4"
for k in 5 6 7 8; do
  [ "$(jq ".by_instance[\"shop-web-$k\"] // 0" "$T/load.json")" -gt 0 ] || fail "no request reached shop-web-$k: $(cat "$T/load.json")"
done
pass "replace of 4 instances, 2 per batch, in $tick ticks: $(jq .requests "$T/load.json") requests, 0 failed; the LB kept >= $fewest; all on v2"

# SIGKILL right after the batch started (its row written, nothing drained or booted yet); the
# chain resumes the rollout and finishes it.
rc=0
SCLMAN_FAILPOINTS=rollout.batch_started "$SCLMAN" replace shop --image v3 --batch 3 --state "$DB" > /dev/null 2>&1 || rc=$?
[ $rc = 137 ] || fail "replace under the failpoint exited $rc, not 137 (SIGKILL)"
[ "$(rollout_q .status)" = running ] && [ "$(rollout_q .batches)" = 1 ] || fail "after the kill: $(status_q '.[0].rollout')"
until_rollout_ends
[ "$(rollout_q .status)" = done ] || fail "the chain did not finish the killed rollout: $(status_q '.[0].rollout') $(images)"
[ "$(images)" = "shop-web-9=v3 shop-web-10=v3 shop-web-11=v3 shop-web-12=v3 " ] || fail "after the resumed rollout: $(images)"
[ "$(upstreams)" = 4 ] || fail "the LB forwards to $(upstreams) web instances, not 4"
[ -z "$(sqlite3 "$DB" "SELECT name FROM instances WHERE state NOT IN ('gone', 'in_service')")" ] \
  || fail "instances left half way: $(sqlite3 "$DB" "SELECT name, state FROM instances WHERE state NOT IN ('gone', 'in_service')")"
pass "replace SIGKILLed after its batch started: the chain resumed it, all 4 on v3 in $tick ticks"

# --cancel: the old image comes back for new instances; the instances made stay.
sc replace shop --image v4 --batch 1 > /dev/null 2>&1 || fail "replace --image v4"
sc replace shop --cancel > "$T/out" || fail "replace --cancel"
grep -q "rollout 3 of 'shop' cancelled after 1 batches: new instances get image 'v3'" "$T/out" || fail "cancel said: $(cat "$T/out")"
[ "$(sqlite3 "$DB" "SELECT image FROM clusters WHERE name = 'shop'")" = v3 ] || fail "the cluster's image is not v3 after --cancel"
[ "$(rollout_q .status)" = cancelled ] || fail "after --cancel: $(status_q '.[0].rollout')"
for tick in 1 2 3 4 5 6; do chain > /dev/null 2>&1; sleep 0.5; done
[ "$(web_in_service shop)" = 4 ] || fail "$(web_in_service shop) in service after the cancel, not 4"
pass "replace --cancel: the cluster's image is v3 again, 4 in service"

# --instance: only that web instance is replaced; its replacement serves before it drains.
one=$(sqlite3 "$DB" "SELECT name FROM instances WHERE role = 'web' AND state = 'in_service' ORDER BY serial LIMIT 1")
before=$(state_dump)
expect_exit 64 replace shop --instance shop-lb-1 --state "$DB"
grep -q "'shop-lb-1' is the load balancer: only web instances can be replaced" "$T/err" || fail "--instance of the LB: $(cat "$T/err")"
expect_exit 64 replace shop --instance shop-web-99 --state "$DB"
grep -q "cluster 'shop' has no instance 'shop-web-99'" "$T/err" || fail "--instance unknown: $(cat "$T/err")"
expect_exit 64 replace shop --instance "../$one" --state "$DB"
sc protect shop "$one" > /dev/null || fail "protect $one"
before=$(state_dump)
expect_exit 64 replace shop --instance "$one" --state "$DB"
grep -q "'$one' is protected from scale-in" "$T/err" || fail "--instance of a protected one: $(cat "$T/err")"
[ "$before" = "$(state_dump)" ] || fail "a refused replace --instance changed the state file"
sc unprotect shop "$one" > /dev/null || fail "unprotect $one"
kept=$(images | tr ' ' '\n' | grep -v "^$one=" | grep -v '^$' | tr '\n' ' ')
sc replace shop --instance "$one" > "$T/out" 2> "$T/replace.err" || { cat "$T/replace.err" >&2; fail "replace --instance"; }
grep -q "rollout 4 of 'shop': '$one' to image 'v3'" "$T/out" || fail "replace --instance said: $(cat "$T/out")"
[ "$(rollout_q .instance)" = "$one" ] && [ "$(rollout_q .total)" = 1 ] || fail "status --json rollout: $(status_q '.[0].rollout')"
until_rollout_ends
[ "$(rollout_q .status)" = done ] || fail "the one-instance rollout did not end: $(status_q '.[0].rollout') $(images)"
[ "$(sqlite3 "$DB" "SELECT state FROM instances WHERE name = '$one'")" = gone ] || fail "$one is not gone: $(images)"
after=$(images)
case "$after" in "$kept"*) ;; *) fail "other instances changed: before '$kept', after '$after'" ;; esac
[ "$(web_in_service shop)" = 4 ] && [ "$fewest" -ge 4 ] || fail "$(web_in_service shop) in service, the LB kept >= $fewest"
pass "replace --instance $one: only it was replaced (now $after), the LB kept >= $fewest; the LB, unknown, hostile and protected names refused"

# delete-cluster ends a running rollout with the cluster.
sc replace shop --image v5 > /dev/null 2>&1 || fail "replace --image v5"
sc delete-cluster shop > /dev/null 2>&1 || fail "delete-cluster shop"
[ "$(sqlite3 "$DB" "SELECT status || ':' || error FROM rollouts ORDER BY id DESC LIMIT 1")" = "cancelled:cluster deleted" ] \
  || fail "the rollout of the deleted cluster: $(sqlite3 "$DB" "SELECT * FROM rollouts ORDER BY id DESC LIMIT 1")"
pass "delete-cluster cancelled the running rollout"
