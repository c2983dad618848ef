#!/usr/bin/env bash
# A size given by hand (scale-out/scale-in --to) is stored only once carried out: a run that
# fails (a failpoint that fails as an upstream would: auth, exit 77) leaves a decision 'failed'
# with its error and nothing else durable (desired size, instances, LB), and the next cron run
# does not carry it out. One that succeeds stores the size and a decision 'done'.
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 1"

sc create-cluster shop --web 2 --min 1 --max 4 > /dev/null
LB=$(lb_address shop)
desired() { sqlite3 "$DB" "SELECT desired FROM clusters WHERE name = 'shop'"; }
last() { sqlite3 "$DB" "SELECT action || ' ' || from_size || '->' || to_size || ' ' || status
                       FROM decisions ORDER BY id DESC LIMIT 1"; }
live() { sqlite3 "$DB" "SELECT name || '=' || state FROM instances WHERE state != 'gone' ORDER BY name" | tr '\n' ' '; }
backends() { grep -c "server " "$T/instances/shop-lb-1/conf/upstream.conf" || true; }
before=$(live)

# scale-out --to 3 whose create fails (exit 77).
rc=0; SCLMAN_FAILPOINTS=create_server.before=auth sc scale-out --cluster shop --to 3 \
  > /dev/null 2> "$T/out.err" || rc=$?
[ "$rc" = 77 ] || { cat "$T/out.err" >&2; fail "a failed scale-out --to exited $rc, not 77"; }
[ "$(desired)" = 2 ] || fail "a failed scale-out --to stored desired $(desired)"
[ "$(last)" = "scale_out 2->3 failed" ] || fail "last decision: $(last)"
sqlite3 "$DB" "SELECT error FROM decisions ORDER BY id DESC LIMIT 1" | grep -q "failpoint 'create_server.before'" \
  || fail "the failed decision lacks its error"
[ "$(live)" = "$before" ] || fail "instances after a failed scale-out: $(live), before: $before"
[ ! -e "$T/instances/shop-web-3" ] || fail "shop-web-3 was left on disk"
sc status --json | jq -e '.[0].last_decision | .status == "failed" and (.error | test("failpoint"))' > /dev/null \
  || fail "status does not show the failed decision with its error"
sc scale-out --cron > /dev/null 2>&1
[ "$(web_in_service shop)" = 2 ] && [ "$(desired)" = 2 ] || fail "the next run carried out the failed --to"
pass "a failed scale-out --to 3 (77) stored only a failed decision; the next run stays at 2"

# scale-in --to 1 that fails once it has begun to drain (the victim goes back in service).
rc=0; SCLMAN_FAILPOINTS=drain.before_lb=auth sc scale-in --cluster shop --to 1 \
  > /dev/null 2> "$T/in.err" || rc=$?
[ "$rc" = 77 ] || { cat "$T/in.err" >&2; fail "a failed scale-in --to exited $rc, not 77"; }
[ "$(desired)" = 2 ] || fail "a failed scale-in --to stored desired $(desired)"
[ "$(last)" = "scale_in 2->1 failed" ] || fail "last decision: $(last)"
[ "$(live)" = "$before" ] || fail "instances after a failed scale-in: $(live), before: $before"
[ "$(backends)" = 2 ] || fail "the LB has $(backends) backends after a failed scale-in"
sc scale-in --cron > /dev/null 2>&1
[ "$(web_in_service shop)" = 2 ] || fail "the next run carried out the failed scale-in --to"
pass "a failed scale-in --to 1 (77) stored only a failed decision; the victim is back in service"

# The same commands that succeed store the size and a decision done.
sc scale-out --cluster shop --to 3 > /dev/null
[ "$(desired)" = 3 ] && [ "$(last)" = "scale_out 2->3 done" ] || fail "scale-out --to 3: desired $(desired), $(last)"
[ "$(web_in_service shop)" = 3 ] || fail "scale-out --to 3 did not reach 3"
sc scale-in --cluster shop --to 2 --wait > /dev/null
[ "$(desired)" = 2 ] && [ "$(last)" = "scale_in 3->2 done" ] || fail "scale-in --to 2: desired $(desired), $(last)"
curl -fsS "http://$LB/" > /dev/null || fail "the LB does not serve"
pass "a scale-out --to and a scale-in --to that succeed are stored as done"
