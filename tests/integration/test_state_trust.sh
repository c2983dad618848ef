#!/usr/bin/env bash
# The state file is an input too: a name read back from it goes through the names parser (a
# cluster or instance named ../../x is a state error naming its table and row, and nothing is
# made outside the instance root), and a desired size outside the policy's bounds is clamped
# where it is acted on, logged, and acted on in bounded batches within the run's deadline.
. "$(dirname "$0")/lib.sh"
write_config "man_run_deadline = 10"
ESCAPE=$(dirname "$T")/sclman-escape-$$
escaped_cleanup() {
  local rc=$?
  for pidfile in "$ESCAPE"*/logs/nginx.pid; do
    [ -f "$pidfile" ] && kill -QUIT "$(cat "$pidfile")" 2> /dev/null || true
  done
  rm -rf "$ESCAPE"*
  cleanup $rc
}
trap escaped_cleanup EXIT

sc create-cluster shop --web 1 --max 5 > /dev/null
cid=$(sqlite3 "$DB" "SELECT id FROM clusters WHERE name='shop'")
before=$(state_dump)

# A cluster row named ../../sclman-escape-PID (as a bad edit or a hostile tool could write).
bad="../../$(basename "$ESCAPE")"
sqlite3 "$DB" "INSERT INTO clusters (name, provider, bootstrapper, balancer, metrics, policy,
                 desired, status, created_at)
               SELECT '$bad', provider, bootstrapper, balancer, metrics, policy, 1, 'active',
                 created_at FROM clusters WHERE id = $cid"
bid=$(sqlite3 "$DB" "SELECT id FROM clusters WHERE name='$bad'")
for command in "scale-out --cron" "status" "gc --cron" "decide --cron"; do
  expect_exit 74 $command --state "$DB"
  expect_one_line "table 'clusters' row $bid has an invalid cluster name '$bad'"
done
ls -d "$ESCAPE"* 2> /dev/null && fail "a directory was made outside the instance root"
sqlite3 "$DB" "DELETE FROM clusters WHERE id = $bid"

# An instance row renamed the same way.
iid=$(sqlite3 "$DB" "SELECT id FROM instances WHERE name='shop-web-1'")
sqlite3 "$DB" "UPDATE instances SET name = '$bad-web-1' WHERE id = $iid"
for command in "scale-out --cron" "status" "gc --cron"; do
  expect_exit 74 $command --state "$DB"
  expect_one_line "table 'instances' row $iid has an invalid instance name '$bad-web-1'"
done
ls -d "$ESCAPE"* 2> /dev/null && fail "a directory was made outside the instance root"
sqlite3 "$DB" "UPDATE instances SET name = 'shop-web-1' WHERE id = $iid"
[ "$(state_dump)" = "$before" ] || fail "the failed runs changed the state"
pass "names read back from the state are parsed: exit 74 naming table and row, nothing outside the root"

# A corrupted desired size: max 5, desired 1,000,000.
sqlite3 "$DB" "UPDATE clusters SET desired = 1000000 WHERE id = $cid"
start=$(date +%s)
rc=0
timeout 60 "$SCLMAN" scale-out --cron --state "$DB" > "$T/out" 2> "$T/err" || rc=$?
took=$(($(date +%s) - start))
[ "$rc" = 0 ] || { cat "$T/err" >&2; fail "scale-out exited $rc"; }
rows=$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE cluster_id = $cid AND role = 'web'")
[ "$rows" = 5 ] || fail "scale-out made $rows web rows, expected the max 5"
grep -q "cluster.desired_out_of_bounds cluster=shop stored=1000000 min=1 max=5 acting_on=5" "$T/err" \
  || { cat "$T/err" >&2; fail "the bad stored value was not logged"; }
[ "$took" -le 20 ] || fail "scale-out took $took s (deadline 10 s)"
[ "$(web_in_service shop)" = 5 ] || fail "the cluster did not reach its max 5"
pass "desired 1000000 with max 5: clamped to 5, logged, $rows rows in $took s"

# The ceiling of the config below the policy's max: acted on as the ceiling.
write_config "man_run_deadline = 10
man_max = 3
man_max_instances = 3"
sc scale-in --cron 2> "$T/err"
grep -q "cluster.desired_out_of_bounds cluster=shop stored=1000000 min=1 max=3 acting_on=3" "$T/err" \
  || { cat "$T/err" >&2; fail "the ceiling was not applied"; }
[ "$(web_in_service shop)" = 3 ] || fail "scale-in did not drain to the ceiling 3"
expect_exit 64 create-cluster zz --web 1000000 --max 1000000 --state "$DB"
expect_one_line "max 1000000 is above the ceiling of 3 instances ([MANAGER] man_max_instances)"
expect_exit 64 create-cluster zz --web 4 --state "$DB"
expect_one_line "max 4 is above the ceiling of 3 instances"
expect_exit 64 set-policy shop --max 4 --state "$DB"
expect_one_line "max 4 is above the ceiling of 3 instances"
pass "man_max_instances: a ceiling for create-cluster, set-policy and the stored size"

# Bounded batches within the deadline: create-cluster of 30 requests 20 web instances in its
# run, stops at the deadline, and later runs finish it.
write_config "man_run_deadline = 4"
start=$(date +%s)
rc=0
timeout 60 "$SCLMAN" create-cluster big --web 30 --state "$DB" > "$T/out" 2> "$T/err" || rc=$?
took=$(($(date +%s) - start))
bid=$(sqlite3 "$DB" "SELECT id FROM clusters WHERE name='big'")
rows=$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE cluster_id = $bid AND role = 'web'")
[ "$rc" = 75 ] || { cat "$T/err" >&2; fail "create-cluster big exited $rc, expected 75 (not up yet)"; }
[ "$rows" -le 20 ] || fail "create-cluster requested $rows web instances in one run"
[ "$took" -le 14 ] || fail "create-cluster took $took s (deadline 4 s)"
grep -q "scale_out.batch cluster=big requested=20 left_for_next_run=10" "$T/err" \
  || { cat "$T/err" >&2; fail "the batch was not logged"; }
for _ in $(seq 10); do
  [ "$(web_in_service big)" = 30 ] && break
  sc scale-out --cron --cluster big 2> /dev/null || true
done
[ "$(web_in_service big)" = 30 ] || fail "later runs did not finish the cluster: $(web_in_service big) of 30"
pass "create-cluster --web 30: $rows web requested in $took s (deadline 4 s), later runs finished it"
