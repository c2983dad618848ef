#!/usr/bin/env bash
# `sclman why`: decide stores the full explanation of each decision (samples used and dropped
# with their reasons, computed values, the rule that won, the clamps applied) and `why` prints it
# as text and JSON. Cases: a missing first sample, a scale-out clamped at max, a scale-out,
# samples dropped for warm-up, a stale poll, an unknown cluster, and the predictive horizon from
# the prior and then the measured boot time.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 1 --min 1 --max 1 > /dev/null
LB=$(lb_address shop)
[ "$(sqlite3 "$DB" "SELECT count(*) FROM pragma_table_info('decisions') WHERE name='explanation'")" = 1 ] \
  || fail "the decisions table has no explanation column"

# Before any decision.
sc why shop > "$T/why0"
grep -q "no decisions yet" "$T/why0" || fail "why on a cluster without decisions: $(cat "$T/why0")"
[ "$(sc why shop --json | jq length)" = 0 ] || fail "why --json without decisions is not []"

# The first poll has no rate yet (a counter needs two reads): the sample is missing.
"$SCLMAN_LOADGEN" --url "http://$LB/" --concurrency 4 --rate 600 --duration 300 > "$T/load.json" &
LOADGEN_PIDS+=($!)
sleep 1
sc poll-load > /dev/null || true
sc decide > /dev/null
sc why shop --last 1 --json > "$T/w1.json"
jq -e 'length == 1' "$T/w1.json" > /dev/null || fail "why --last 1 printed $(jq length "$T/w1.json") decisions"
jq -e '.[0].explanation.rule == "missing_data" and .[0].reason == "missing_samples"' "$T/w1.json" > /dev/null \
  || fail "missing sample not explained: $(cat "$T/w1.json")"
jq -e '.[0].explanation.samples.list == [{"instance":"shop-web-1","use":"missing","value":null,"detail":"no value in this poll"}]' \
  "$T/w1.json" > /dev/null || fail "missing sample not listed with its reason: $(jq .[0].explanation.samples "$T/w1.json")"
pass "a missing sample is listed with its reason"

# Two polls above the high mark (150 req/s): threshold_high proposes 2, max 1 clamps it.
for k in 1 2; do sleep 1; sc poll-load > /dev/null; done
sc decide > /dev/null
sc why shop --last 1 --json > "$T/w2.json"
jq -e '.[0].explanation | .rule == "threshold_high" and .proposed == 2' "$T/w2.json" > /dev/null \
  || fail "the winning rule is not stored: $(cat "$T/w2.json")"
jq -e '.[0] | .action == "hold" and .reason == "at_max"' "$T/w2.json" > /dev/null \
  || fail "the clamped decision is not a hold at max: $(jq -c '.[0] | [.action, .reason]' "$T/w2.json")"
jq -e '.[0].explanation.clamps == [{"name":"max","from":2,"to":1}]' "$T/w2.json" > /dev/null \
  || fail "the max clamp is not stored: $(jq -c .[0].explanation.clamps "$T/w2.json")"
jq -e '.[0].explanation.samples | .used == 1 and .list[0].use == "used" and .list[0].value > 150' \
  "$T/w2.json" > /dev/null || fail "the used sample is not listed: $(jq -c .[0].explanation.samples "$T/w2.json")"
jq -e '.[0].explanation.inputs | .high_polls == 2 and .high == 150 and .load > 150' "$T/w2.json" > /dev/null \
  || fail "the computed values are not stored: $(jq -c .[0].explanation.inputs "$T/w2.json")"
sc why shop --last 1 > "$T/w2.txt"
grep -q "clamp max: 2 -> 1" "$T/w2.txt" || fail "why text lacks the clamp: $(cat "$T/w2.txt")"
grep -q "rule: threshold_high proposed 2" "$T/w2.txt" || fail "why text lacks the rule: $(cat "$T/w2.txt")"
grep -qE "shop-web-1 +[0-9.]+ used" "$T/w2.txt" || fail "why text lacks the sample: $(cat "$T/w2.txt")"
pass "a scale-out clamped at max: rule, values, sample and clamp explained"

# Room to grow: the same load now scales out, and the other direction is said not to hold.
sc set-policy shop --max 3 > /dev/null
sleep 1
sc poll-load > /dev/null
sc decide > /dev/null
sc why shop --last 1 --json > "$T/w3.json"
jq -e '.[0] | .action == "scale_out" and .to == 2 and .explanation.clamps == []' "$T/w3.json" > /dev/null \
  || fail "no unclamped scale-out: $(cat "$T/w3.json")"
pass "a scale-out without clamps"

# Warm-up: with a warm-up longer than the instance's time in service, its sample is dropped.
sc set-policy shop --warmup 3600 > /dev/null
sleep 1
sc poll-load > /dev/null
sc decide > /dev/null
sc why shop --last 1 --json > "$T/w4.json"
jq -e '.[0] | .reason == "warming_up" and .explanation.samples.dropped_warmup == 1 and .explanation.samples.used == 0' \
  "$T/w4.json" > /dev/null || fail "warm-up not explained: $(cat "$T/w4.json")"
jq -e '.[0].explanation.samples.list[0] | .use == "warmup" and (.detail | test("warm-up 3600 s"))' \
  "$T/w4.json" > /dev/null || fail "the warming sample lacks its reason: $(jq -c .[0].explanation.samples.list "$T/w4.json")"
pass "a sample dropped for warm-up, with its reason"

# Stale: the newest poll is older than the policy's stale time.
sc set-policy shop --warmup 0 --stale 1 > /dev/null
sleep 2.2
sc decide > /dev/null
sc why shop --last 1 --json > "$T/w5.json"
jq -e '.[0] | .reason == "stale_samples" and .explanation.samples.stale == true and .explanation.rule == "missing_data"' \
  "$T/w5.json" > /dev/null || fail "stale poll not explained: $(cat "$T/w5.json")"
pass "a stale poll is explained"

# --last N, newest first; text shows each decision with its time and status.
sc why shop --last 3 --json > "$T/w6.json"
jq -e 'length == 3 and .[0].reason == "stale_samples" and .[1].reason == "warming_up" and .[2].action == "scale_out"' \
  "$T/w6.json" > /dev/null || fail "--last 3 is not the newest three: $(jq -c 'map(.reason)' "$T/w6.json")"
[ "$(sc why shop | grep -c '^decision ')" = 5 ] || fail "why prints other than the default 5 decisions"
pass "--last and the default of 5"

# Sizes set by hand have no policy explanation, and say so.
sc scale-out --cluster shop --to 3 > /dev/null || true  # the decision row comes first
sc why shop --last 1 > "$T/w7.txt"
grep -q "set by hand" "$T/w7.txt" || fail "a manual decision is not explained as such: $(cat "$T/w7.txt")"
[ "$(sc why shop --last 1 --json | jq '.[0].explanation')" = null ] || fail "a manual decision has an explanation"
pass "a size set by hand is shown as such"

expect_exit 64 why nosuch --state "$DB"
expect_one_line "no cluster named 'nosuch'"
expect_exit 64 why shop --last 0 --state "$DB"
expect_one_line "--last 0 must be at least 1"
pass "unknown cluster and bad --last are usage errors (64)"

"$SCLMAN" completion bash > "$T/completion.bash"
grep -qE '^ +why\) words=".*--last' "$T/completion.bash" || fail "bash completion lacks why --last"
pass "bash completion knows why"

# The predictive rule covers the boot time of the cluster's own instances plus one poll: the
# prior (man_boot_timeout, 300 s by default) until five web instances were measured from launch
# to in service, then their 90th percentile.
sc create-cluster fore --web 1 --max 6 > /dev/null
sc set-policy fore --policy predictive > /dev/null
sc decide --cluster fore > /dev/null
sc why fore --last 1 > "$T/fore1"
grep -qF "horizon: 360 s: boot time 300 s (prior: man_boot_timeout 300 s: 1 of the 5 instances needed measured) + one poll (60 s), at least 240 s" \
  "$T/fore1" || fail "why does not show the prior boot time: $(cat "$T/fore1")"
sc scale-out --cluster fore --to 5 > /dev/null
sc decide --cluster fore > /dev/null
sc why fore --last 1 --json > "$T/fore2.json"
# What the state file says: the longest of the five launch-to-in-service times, rounded up.
want=$(sqlite3 "$DB" "SELECT max((in_service_since - created_at + 999) / 1000) FROM instances
                      WHERE name LIKE 'fore-web-%' AND in_service_since IS NOT NULL")
jq -e --argjson want "$want" '.[0].explanation.boot == {"seconds": $want, "source": "measured",
        "samples": 5, "detail": "p90 of the last 5 instances'"'"' launch to in service", "poll_s": 60}
      and .[0].explanation.horizon_s == ([$want + 60, 240] | max)' "$T/fore2.json" > /dev/null ||
  fail "why --json does not show the measured boot time ($want s): $(jq -c '.[0].explanation | {boot, horizon_s}' "$T/fore2.json")"
horizon=$((want + 60 > 240 ? want + 60 : 240))
sc why fore --last 1 | grep -qF "horizon: $horizon s: boot time $want s (measured: p90 of the last 5 instances' launch to in service) + one poll (60 s), at least 240 s" ||
  fail "why does not show the measured boot time: $(sc why fore --last 1)"
pass "the predictive horizon is the prior boot time plus a poll (360 s), then the measured one ($want s) plus a poll, at least 240 s ($horizon s)"
sc delete-cluster fore > /dev/null

kill -INT "${LOADGEN_PIDS[0]}" 2> /dev/null || true
wait "${LOADGEN_PIDS[0]}" || true
sc delete-cluster shop > /dev/null
