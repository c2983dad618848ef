#!/usr/bin/env bash
# `sclman simulate` through the binary: a tiny hand-made trace gives hand-computed metrics and
# per-tick supply; bad trace files are one error line and exit 64; --compare --json prints one
# object per policy with the keys the issue requires; --start maps t=0 to a wall-clock time so
# that scheduled min/max fire; --drain reports what the reclaim rule saves.
. "$(dirname "$0")/lib.sh"
write_config

# HPA's rule without tolerance, stabilization or rate limit: desired = ceil(load / 100 %).
HPA='{"preset":"hpa","target":100,"tolerance":0,"down_stabilization":0,"up_limit_percent":1000}'

# A 30 s step, averaged per 60 s tick to 10 10 30 30 30 10 10 10 req/s; C = 10 gives demand
# D = 1 1 3 3 3 1 1 1. With --min 2 and a boot delay of 120 s (hand-computed):
#   t0, t1: 2 instances at 50 %, HPA wants 1, min keeps 2.
#   t2: 150 % on 2 -> 3; the third is launched at 180 s and serves from the tick at 300 s.
#   t3, t4: S = 2 < D = 3, billed 3 (HPA sees 300 % of load spread on 3: no more).
#   t5: S = 3 at 33 %: HPA wants 1, min keeps 2; the youngest goes at 360 s.
#   t6, t7: S = 2.
# S = 2 2 2 2 2 3 2 2, billed B = 2 2 2 3 3 3 2 2 (19 instance-minutes), sum D = 14.
cat > "$T/tiny.csv" <<'CSV'
t_seconds,requests_per_second
0,5
30,15
60,10
90,10
120,20
150,40
180,30
210,30
240,30
270,30
300,0
330,20
360,10
390,10
420,10
450,10
CSV
sc_sim() { "$SCLMAN" simulate --capacity 10 --boot-delay 120 "$@"; }

sc_sim --trace "$T/tiny.csv" --min 2 --policy "$HPA" --json --series "$T/series.csv" > "$T/tiny.json"
jq -e 'length == 1 and .[0].policy == "hpa" and .[0].ticks == 8' "$T/tiny.json" > /dev/null \
  || fail "unexpected runs: $(cat "$T/tiny.json")"
near() {  # near JQ-PATH VALUE: the number at PATH is VALUE within 1e-6
  jq -e --argjson v "$2" "(($1) - \$v) | . * . < 1e-12" "$T/tiny.json" > /dev/null \
    || fail "$1 is $(jq "$1" "$T/tiny.json"), expected $2"
}
near '.[0].tau_U' 37.5                      # 3 of 8 ticks under
near '.[0].theta_U' 12.5                    # (1/3 + 1/3 + 1/3) / 8
near '.[0].tau_O' 62.5                      # t0 t1 t5 t6 t7 over
near '.[0].theta_O' 75                      # (1 + 1 + 2 + 1 + 1) / 8
near '.[0].instability' "$(echo 'scale=12; 300/7' | bc)"  # dS vs dD differ at t2, t5, t6 of 7
near '.[0].changes' 2
near '.[0].instance_minutes' 19
near '.[0].oracle_minutes' 14
near '.[0].cost_vs_oracle' "$(echo 'scale=12; 19/14' | bc)"
[ "$(cut -d, -f3 "$T/series.csv" | tail -n +2 | paste -sd' ')" = "1 1 3 3 3 1 1 1" ] \
  || fail "demand per tick: $(cat "$T/series.csv")"
[ "$(cut -d, -f4 "$T/series.csv" | tail -n +2 | paste -sd' ')" = "2 2 2 2 2 3 2 2" ] \
  || fail "supply per tick: $(cat "$T/series.csv")"
[ "$(cut -d, -f5 "$T/series.csv" | tail -n +2 | paste -sd' ')" = "2 2 2 3 3 3 2 2" ] \
  || fail "billed per tick: $(cat "$T/series.csv")"
pass "a hand-computed replay: metrics and per-tick supply through the binary"

# Bad traces: one line naming the file, the line and the fault; exit 64.
bad() {  # bad NAME MESSAGE CONTENT
  printf '%b' "$3" > "$T/$1.csv"
  expect_exit 64 simulate --trace "$T/$1.csv" --capacity 10 --boot-delay 0
  expect_one_line "$2"
  grep -qF "$T/$1.csv" "$T/err" || fail "the error does not name the file: $(cat "$T/err")"
}
bad no_header "line 1: missing header" '0,5\n60,6\n'
bad not_increasing "line 5: time does not increase: 60 after 120" 't_seconds,requests_per_second\n0,5\n60,6\n120,7\n60,8\n'
bad negative "line 3: negative rate -6" 't_seconds,requests_per_second\n0,5\n60,-6\n'
bad irregular "line 4: irregular step: 90 s after 60 s steps" 't_seconds,requests_per_second\n0,5\n60,6\n150,7\n'
# Rates whose demand overflowed an int made cost/oracle 0.000 and tau_U 0.00 % with exit 0.
bad huge "line 3: rate 1000000000000 is above 1000000000 requests per second" 't_seconds,requests_per_second\n0,5\n60,1e12\n120,7\n'
bad huger "line 2: rate 1e+308 is above" 't_seconds,requests_per_second\n0,1e308\n60,6\n'
expect_exit 64 simulate --trace "$T/absent.csv" --capacity 10 --boot-delay 0
expect_one_line "cannot read trace"
pass "bad trace files: one error line each, exit 64"

# --compare --json: one object per policy with the required keys, then the oracle.
sc_sim --trace "$T/tiny.csv" --policy "$HPA" --compare --json > "$T/cmp.json"
[ "$(jq -c 'map(.policy)' "$T/cmp.json")" = '["hpa","threshold","hpa","target-tracking","oracle"]' ] \
  || fail "compare runs: $(jq -c 'map(.policy)' "$T/cmp.json")"
for key in policy theta_U theta_O tau_U tau_O instability changes instance_minutes cost_vs_oracle; do
  jq -e --arg k "$key" 'all(.[]; has($k))' "$T/cmp.json" > /dev/null || fail "a run lacks '$key'"
done
# Shares of ticks and theta_U are within 0..100; theta_O is not bounded (S - D can exceed D).
jq -e 'all(.[]; ([.theta_U, .tau_U, .tau_O, .instability] | all(. >= 0 and . <= 100)) and .theta_O >= 0)' \
  "$T/cmp.json" > /dev/null || fail "percentages outside 0..100: $(cat "$T/cmp.json")"
jq -e '.[-1] | .cost_vs_oracle == 1 and .tau_U == 0 and .tau_O == 0' "$T/cmp.json" > /dev/null \
  || fail "the oracle is not supply = demand"
pass "--compare --json: one object per policy with the required keys"

# HPA as Kubernetes runs it: the hpa runs sync every 15 s within each 60 s tick, the others once.
[ "$(jq -c 'map(.sync)' "$T/cmp.json")" = '[15,60,15,60,0]' ] || fail "sync periods: $(jq -c 'map(.sync)' "$T/cmp.json")"
sc_sim --trace "$T/tiny.csv" --policy "$HPA" --compare --json --hpa-sync 0 > "$T/cmp0.json"
[ "$(jq -c 'map(.sync)' "$T/cmp0.json")" = '[60,60,60,60,0]' ] || fail "--hpa-sync 0: $(jq -c 'map(.sync)' "$T/cmp0.json")"
sc_sim --trace "$T/tiny.csv" --policy hpa | head -1 | grep -q "; hpa syncs every 15 s$" || fail "the header does not say how hpa syncs"
expect_exit 64 simulate --trace "$T/tiny.csv" --capacity 10 --boot-delay 0 --policy hpa --hpa-sync 25
expect_one_line "a sync period of 25 s does not divide the tick of 60 s"
pass "the hpa runs sync every 15 s (--hpa-sync), a period that does not divide the tick is refused"

# --sweep: the peer over its grid on the trace read once; the cheapest within the budget.
sc_sim --trace "$T/tiny.csv" --policy "$HPA" --sweep target-tracking --sweep hpa --budget 50 --json > "$T/sweep.json"
jq -e '.[-2].policy == "target-tracking-tuned" and .[-2].sweep == {"peer":"target-tracking","budget_tau_U":50,"tried":42,"held":.[-2].sweep.held}
       and .[-2].sweep.held >= 1 and .[-2].tau_U <= 50
       and .[-1].policy == "hpa-tuned" and .[-1].sweep.tried == 252 and .[-1].sync == 15' "$T/sweep.json" > /dev/null ||
  fail "--sweep: $(jq -c '.[] | {policy, sweep, tau_U}' "$T/sweep.json")"
sc_sim --trace "$T/tiny.csv" --sweep hpa > "$T/sweep.txt"
grep -qE '^sweep hpa: [0-9]+ of 252 configurations hold tau_U <= 1%; the cheapest: \{' "$T/sweep.txt" ||
  grep -qx 'sweep hpa: none of 252 configurations holds tau_U <= 1%' "$T/sweep.txt" || fail "--sweep text: $(cat "$T/sweep.txt")"
sc_sim --trace "$T/tiny.csv" --sweep predictive --budget 50 --json > "$T/sweep_p.json"
jq -e '.[-1].sweep.peer == "predictive" and .[-1].sweep.tried == 6
       and (.[-1].sweep.held == 0 or (.[-1].policy == "predictive-tuned" and .[-1].tau_U <= 50
                                       and (.[-1].config | has("quantile_low"))))' "$T/sweep_p.json" > /dev/null ||
  fail "--sweep predictive: $(jq -c '.[-1] | {policy, sweep, tau_U, config}' "$T/sweep_p.json")"
expect_exit 64 simulate --trace "$T/tiny.csv" --capacity 10 --boot-delay 0 --sweep threshold
expect_exit 64 simulate --trace "$T/tiny.csv" --capacity 10 --boot-delay 0 --sweep hpa --budget 101
pass "--sweep reports the cheapest configuration of each peer within the tau_U budget"

# --start: a schedule raises min to 4 at 09:00 UTC and back to 1 at 18:00. A flat trace at
# demand 1; starting at 08:58 the 09:00 entry fires at the second tick, so 3 more instances are
# billed from the third tick on. From the default start (1970-01-01T00:00Z) it never fires.
{ echo t_seconds,requests_per_second; for i in $(seq 0 9); do echo "$((i * 60)),10"; done; } > "$T/flat.csv"
SCHED='{"preset":"hpa","target":100,"tolerance":0,"down_stabilization":0,"schedule":[{"cron":"0 9 * * *","tz":"UTC","min":4,"max":10},{"cron":"0 18 * * *","tz":"UTC","min":1,"max":10}]}'
sched_billed() {
  "$SCLMAN" simulate --trace "$T/flat.csv" --capacity 10 --boot-delay 0 --policy "$SCHED" \
    --series "$T/s.csv" "$@" > /dev/null
  cut -d, -f5 "$T/s.csv" | tail -n +2 | paste -sd' '
}
[ "$(sched_billed --start 2026-11-27T08:58:00Z)" = "1 1 4 4 4 4 4 4 4 4" ] \
  || fail "schedule at 09:00 with --start 08:58Z: billed $(sched_billed --start 2026-11-27T08:58:00Z)"
[ "$(sched_billed --start 2026-11-27T09:58:00+01:00)" = "1 1 4 4 4 4 4 4 4 4" ] \
  || fail "--start with an offset is not the same time"
[ "$(sched_billed)" = "1 1 1 1 1 1 1 1 1 1" ] || fail "schedule fired without --start: $(sched_billed)"
[ "$(sched_billed --start 2026-11-27T18:30:00Z)" = "1 1 1 1 1 1 1 1 1 1" ] \
  || fail "schedule min 4 in force after 18:00"
expect_exit 64 simulate --trace "$T/flat.csv" --capacity 10 --boot-delay 0 --start 2026-02-30T00:00Z
expect_one_line "invalid --start '2026-02-30T00:00Z'"
expect_exit 64 simulate --trace "$T/flat.csv" --capacity 10 --boot-delay 0 --start tomorrow
expect_one_line "invalid --start 'tomorrow'"
pass "--start maps t=0 to wall-clock time for schedules"

# --drain: the reclaim rule. D = 3 3 1 3 3 3 (C = 10, boot 120 s, drain 180 s, hand-computed in
# tests/unit/policy/test_simulate.cpp): at t3 the two drained at t2 come back, nothing boots; the
# same run without the rule boots two that serve only after t5 while the drained ones stay billed.
# The hand computation decides once per tick: --hpa-sync 0.
k=0
{ echo t_seconds,requests_per_second; for r in 30 30 10 30 30 30; do echo "$((k * 60)),$r"; k=$((k + 1)); done; } > "$T/dip.csv"
sc_sim --trace "$T/dip.csv" --policy "$HPA" --drain 180 --hpa-sync 0 --json --series "$T/dip.series" > "$T/dip.json"
jq -e '.[0] | .reclaimed == 2 and .boots == 0 and .drain == 180 and .reclaim == true
       and .without_reclaim.boots == 2 and .without_reclaim.instance_minutes == 22
       and .instance_minutes == 18' "$T/dip.json" > /dev/null || fail "--drain 180: $(cat "$T/dip.json")"
[ "$(cut -d, -f4 "$T/dip.series" | tail -n +2 | paste -sd' ')" = "3 3 3 1 3 3" ] ||
  fail "supply with reclaim: $(cat "$T/dip.series")"
sc_sim --trace "$T/dip.csv" --policy "$HPA" --drain 180 --hpa-sync 0 > "$T/dip.txt"
grep -qx "reclaim, hpa: 2 draining instances taken back; boots 2 -> 0, tau_U 50.00% -> 16.67%, theta_U 33.33% -> 11.11%, instance-minutes 22 -> 18 (without -> with)" "$T/dip.txt" ||
  fail "no savings line: $(cat "$T/dip.txt")"
sc_sim --trace "$T/dip.csv" --policy "$HPA" --drain 180 --hpa-sync 0 --no-reclaim --json > "$T/dip.json"
jq -e '.[0] | .reclaimed == 0 and .boots == 2 and .reclaim == false and (has("without_reclaim") | not)' \
  "$T/dip.json" > /dev/null || fail "--no-reclaim: $(cat "$T/dip.json")"
for bad in -1 x 1.5 ""; do
  expect_exit 64 simulate --trace "$T/dip.csv" --capacity 10 --boot-delay 120 --drain "$bad"
done
pass "--drain: the reclaim rule takes draining instances back, and says what it saved; --no-reclaim; a bad --drain is exit 64"

# On a terminal a replay draws a progress line on stderr ("simulate: NAME: N of M ticks"), and
# erases it at the end; piped, or with --cron, stderr stays empty. 20,000 ticks: the progress
# callback comes every 4,096.
awk 'BEGIN { print "t_seconds,requests_per_second"; for (i = 0; i < 20000; i++) print i * 60 "," 20 + (i % 60) }' > "$T/long.csv"
script -qec "$SCLMAN simulate --capacity 10 --boot-delay 120 --trace $T/long.csv --policy hpa > $T/long.out" /dev/null > "$T/long.tty"
grep -q "simulate: hpa: 4096 of 20000 ticks (20 %)" "$T/long.tty" || fail "no progress line on a terminal: $(cat -v "$T/long.tty")"
grep -q "$(printf '\r\033\\[K')" "$T/long.tty" || fail "the progress line is not erased: $(cat -v "$T/long.tty")"
grep -q "^hpa " "$T/long.out" || fail "no result with a progress line: $(cat "$T/long.out")"
script -qec "$SCLMAN simulate --cron --capacity 10 --boot-delay 120 --trace $T/long.csv --policy hpa > $T/long.out" /dev/null > "$T/long.tty"
[ ! -s "$T/long.tty" ] || fail "a progress line with --cron: $(cat -v "$T/long.tty")"
"$SCLMAN" simulate --capacity 10 --boot-delay 120 --trace "$T/long.csv" --policy hpa > "$T/long.out" 2> "$T/long.err"
[ ! -s "$T/long.err" ] || fail "a progress line on a pipe: $(cat "$T/long.err")"
pass "a progress line on a terminal, erased at the end; none with --cron or off a terminal"
