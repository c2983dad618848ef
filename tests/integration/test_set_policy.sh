#!/usr/bin/env bash
# `sclman set-policy`: changes the stored policy of an existing cluster, prints old -> new, and
# the next decide uses it; --dry-run stores nothing; bad values are one error line, exit 64,
# and leave the state file as it was.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 1 --min 1 --max 3 > /dev/null
LB=$(lb_address shop)
policy_q() { sqlite3 "$DB" "SELECT policy FROM clusters WHERE name='shop'" | jq -r "$1"; }
[ "$(policy_q .kind)" = threshold ] || fail "create-cluster did not store the threshold policy"

# --dry-run: says what would change, stores nothing.
before=$(state_dump)
sc set-policy shop --policy target --target 50 --dry-run > "$T/dry.txt"
grep -q "would change cluster 'shop': policy threshold -> target" "$T/dry.txt" \
  || fail "dry run output: $(cat "$T/dry.txt")"
[ "$(state_dump)" = "$before" ] || fail "--dry-run changed the state file"
pass "--dry-run changes nothing"

# Switch to target tracking: the bounds are kept, every change is printed as old -> new.
sc set-policy shop --policy target --target 50 > "$T/set.txt"
grep -q "cluster 'shop': policy threshold -> target" "$T/set.txt" || fail "no old -> new line: $(cat "$T/set.txt")"
grep -q 'kind: "threshold" -> "target"' "$T/set.txt" || fail "kind change not listed: $(cat "$T/set.txt")"
grep -q 'target: - -> 50' "$T/set.txt" || fail "target change not listed: $(cat "$T/set.txt")"
[ "$(policy_q '[.kind, .target, .min, .max, .tolerance_out] | @csv')" = '"target",50,1,3,0.1' ] \
  || fail "stored policy: $(policy_q .)"
sc set-policy shop --json > "$T/same.json"
jq -e '.changed == false and .old == .new and .new.kind == "target"' "$T/same.json" > /dev/null \
  || fail "set-policy without options changed something: $(cat "$T/same.json")"
pass "the policy is stored, bounds kept, changes listed"

# The next decide uses it: one poll at ~300 req/s against a target of 50 scales out by the HPA
# rule (the threshold rule would still wait for a second poll above its high mark).
"$SCLMAN_LOADGEN" --url "http://$LB/" --concurrency 4 --rate 300 --duration 300 > "$T/load.json" &
LOADGEN_PIDS+=($!)
sleep 1
sc poll-load > /dev/null || true
sleep 1
sc poll-load > /dev/null
sc decide > /dev/null
row=$(sqlite3 "$DB" "SELECT action || ' ' || reason || ' ' || to_size FROM decisions ORDER BY id DESC LIMIT 1")
[ "$row" = "scale_out metric_above_target 3" ] || fail "decide did not use the new policy: '$row'"
[ "$(sqlite3 "$DB" "SELECT explanation FROM decisions ORDER BY id DESC LIMIT 1" | jq -r .rule)" = target ] \
  || fail "the decision's rule is not target"
pass "the next decide uses the new policy"
kill -INT "${LOADGEN_PIDS[0]}" 2> /dev/null || true
wait "${LOADGEN_PIDS[0]}" || true

# Other options and --set: each key is validated and stored.
sc set-policy shop --cooldown 30 --warmup 60 --flap-budget 4 --min 2 \
  --set 'schedule=[{"cron":"0 8 * * 1-5","tz":"+01:00","min":2,"max":3}]' > "$T/set2.txt"
[ "$(policy_q '[.cooldown, .warmup, .flap_budget, .min, .schedule[0].cron] | @csv')" = '30,60,4,2,"0 8 * * 1-5"' ] \
  || fail "stored policy after options: $(policy_q .)"
grep -q "desired size 1 is outside \[2, 3\]" "$T/set2.txt" || fail "no note that desired is below the new min: $(cat "$T/set2.txt")"
sc set-policy shop --policy threshold > /dev/null
[ "$(policy_q '[.kind, .high, .min, .schedule[0].min] | @csv')" = '"threshold",150,2,2' ] \
  || fail "switching preset lost the bounds or schedule: $(policy_q .)"
pass "options, --set and a preset switch keep what they should"

# Bad values: one line, exit 64, nothing stored.
before=$(state_dump)
bad() {  # bad MESSAGE ARGS...
  local message=$1
  shift
  expect_exit 64 set-policy "$@" --state "$DB"
  expect_one_line "$message"
  [ "$(state_dump)" = "$before" ] || fail "set-policy $* changed the state file"
}
bad "cannot set the policy of 'shop': min 5 is greater than max 3" shop --min 5
bad "unknown policy 'magic'" shop --policy magic
bad "unknown policy key 'colour'" shop --set colour=red
bad "--set 'nokey': expected KEY=VALUE" shop --set nokey
bad "invalid cron minute field '61'" shop --set 'schedule=[{"cron":"61 * * * *","min":1,"max":2}]'
bad "low 200 must be at least 0 and below high 150" shop --low 200
bad "sensitivity 0 must be at least 1" shop --sensitivity 0
bad "no cluster named 'nosuch'" nosuch --max 4
bad "--max" shop --max lots
pass "bad values: one error line, exit 64, state unchanged"

# Integer keys refuse fractions and values out of range before converting them (3600.5 was
# stored as 3600, 5e9 refused as season -2147483648), and the message shows the value as typed
# (not 5000000000 or 1e+67); number options refuse NaN and ''; no message carries a JSON
# library's exception text.
bad "cannot set the policy of 'shop': key 'seasons': 3600.5 is not an integer" \
  shop --policy predictive --set 'seasons=[3600.5]'
bad "cannot set the policy of 'shop': seasons 5e9 must be in [3600, 3024000]" \
  shop --policy predictive --set 'seasons=[5e9]'
bad "cannot set the policy of 'shop': seasons 1e67 must be in [3600, 3024000]" \
  shop --policy predictive --set 'seasons=[1e67]'
bad "cannot set the policy of 'shop': seasons 4294967296 must be in [3600, 3024000]" \
  shop --policy predictive --set 'seasons=[4294967296]'
bad "cannot set the policy of 'shop': cooldown 5e9 must be at most 2147483647" \
  shop --set cooldown=5e9
bad "cannot set the policy of 'shop': key 'horizon': 3600.5 is not an integer" \
  shop --policy predictive --set horizon=3600.5
bad "cannot set the policy of 'shop': capacity -1E+67 must be above 0" \
  shop --policy predictive --set capacity=-1E+67
bad "cooldown -1e300 must be at least 0" shop --set cooldown=-1e300
bad "key 'sensitivity': \"12\" is not an integer" shop --set 'sensitivity="12"'
bad "key 'target': \"NaN\" is not a number" shop --policy target --set target=NaN
bad "key 'high': \"NaN\" is not a number" shop --high NaN
bad "key 'high': \"\" is not a number" shop --high ''
bad "schedule[0]: key 'max' is missing" shop --set 'schedule=[{"cron":"0 8 * * *","min":2}]'
grep -q "json.exception" "$T/err" && fail "a message carries a library's exception text"
[ "$(policy_q .kind)" = threshold ] || fail "a refused change was stored: $(policy_q .)"
pass "integer keys refuse fractions and out-of-range values, number keys NaN and ''"

"$SCLMAN" set-policy --help > "$T/help.txt"
grep -qE '^ +seasons +predictive +list of integers in \[3600, 3024000\]' "$T/help.txt" \
  || fail "set-policy --help does not list the policy keys: $(cat "$T/help.txt")"
pass "set-policy --help lists the policy keys with their types and ranges"

"$SCLMAN" completion bash > "$T/completion.bash"
grep -qE '^ +set-policy\) words=".*--policy.*--set' "$T/completion.bash" || fail "bash completion lacks set-policy"
pass "bash completion knows set-policy"

sc delete-cluster shop > /dev/null
