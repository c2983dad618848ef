#!/usr/bin/env bash
# Two state files in one directory share instances/: each instance directory records the
# identity of the state file that made it. A create in the other state refuses it (no adopting
# of another state's nginx), and gc of one state never takes the other's instances for orphans.
. "$(dirname "$0")/lib.sh"
write_config
A=$T/a.db
B=$T/b.db
pid_of() { cat "$T/instances/$1/logs/nginx.pid"; }
in_service() {
  "$SCLMAN" status --json --state "$1" \
    | jq -r "[.[] | select(.name==\"$2\") | .instances[] | select(.role==\"web\" and .state==\"in_service\")] | length"
}

"$SCLMAN" create-cluster dup --web 1 --state "$A" > /dev/null
lb=$(pid_of dup-lb-1)
web=$(pid_of dup-web-1)
id_a=$(sqlite3 "$A" "SELECT uuid FROM state_identity")
id_b=$("$SCLMAN" status --state "$B" > /dev/null && sqlite3 "$B" "SELECT uuid FROM state_identity")
[ -n "$id_a" ] && [ -n "$id_b" ] && [ "$id_a" != "$id_b" ] || fail "identities '$id_a' '$id_b'"
[ "$(jq -r '."sclman:state"' "$T/instances/dup-web-1/sclman.json")" = "$id_a" ] \
  || fail "the instance directory does not name its state"

# The same cluster name in b: its creates are refused, a's processes stay a's.
rc=0
"$SCLMAN" create-cluster dup --web 1 --state "$B" > "$T/out" 2> "$T/err" || rc=$?
[ "$rc" != 0 ] || fail "b adopted a's instances"
grep -q "belongs to another state file (identity $id_a)" "$T/err" \
  || { cat "$T/err" >&2; fail "the refusal does not say why"; }
[ "$(in_service "$B" dup)" = 0 ] || fail "b shows a's instance in service"
[ "$(pid_of dup-web-1)" = "$web" ] && alive "$web" && alive "$lb" || fail "a's nginx was touched"
pass "a create in another state refuses the directory (identity $id_a)"

# b's own cluster beside a's.
"$SCLMAN" create-cluster other --web 1 --state "$B" > /dev/null
other=$(pid_of other-web-1)
"$SCLMAN" gc --state "$A" > /dev/null 2> "$T/err.a"
alive "$other" && [ -d "$T/instances/other-web-1" ] || { cat "$T/err.a" >&2; fail "gc of a stopped b's instance"; }
[ "$(in_service "$B" other)" = 1 ] || fail "b's instance is no longer in service"
# gc of b cleans up its failed 'dup' rows without touching a's directories and processes.
"$SCLMAN" gc --state "$B" > /dev/null 2> "$T/err.b"
alive "$web" && alive "$lb" && [ -f "$T/instances/dup-web-1/sclman.json" ] \
  || { cat "$T/err.b" >&2; fail "gc of b stopped or deleted a's instance"; }
[ "$(in_service "$A" dup)" = 1 ] || fail "a's instance is no longer in service"
curl -fsS "http://$("$SCLMAN" status --json --state "$A" | jq -r '.[0].lb_address')/" > /dev/null \
  || fail "a's cluster does not answer"
pass "gc of either state leaves the other's instances alone"

"$SCLMAN" delete-cluster dup --state "$B" > /dev/null 2>&1 || true
"$SCLMAN" delete-cluster other --state "$B" > /dev/null
"$SCLMAN" delete-cluster dup --state "$A" > /dev/null
