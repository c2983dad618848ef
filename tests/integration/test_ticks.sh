#!/usr/bin/env bash
# [MANAGER] man_ticks_per_minute: the cron line still starts the chain once a minute, behind the
# same flock -n, and the chain runs poll-load, decide, scale-out and scale-in N times in its
# minute, tick k at START + k*60/N s, then gc once; the state file gets N polls and N decisions
# 60/N s apart and the minute ends before the next one. A tick whose slot the one before overran
# is skipped, none starts after man_run_deadline, and a bad value is refused (exit 78) before
# anything waits.
. "$(dirname "$0")/lib.sh"
write_config "man_ticks_per_minute = 4
man_run_deadline = 50"
printf '[STATE]\npath = %s\n' "$DB" >> "$SCLMAN_CONFIG"
chain="$SCLMAN_SOURCE_DIR/cron/sclman-chain"
now_ms() { date +%s%3N; }

# The chain as the package installs it, with this test's binary and config; each call of sclman
# goes through a wrapper that notes its start (ms) and command, then runs the real binary.
cat > "$T/sclman" <<EOT
#!/bin/sh
echo "\$(date +%s%3N) \$1" >> "$T/calls"
exec "$SCLMAN" "\$@"
EOT
chmod +x "$T/sclman"
sed -e "s|^sclman=/usr/bin/sclman$|sclman=$T/sclman|" -e "s|^config=/etc/sclman/sclman.conf$|config=$SCLMAN_CONFIG|" \
  "$chain" > "$T/sclman-chain"
chmod +x "$T/sclman-chain"
# The cron file's line, with this test's chain and lock (test_cron.sh checks the line itself).
minute="/usr/bin/flock -n $T/cron.lock $T/sclman-chain --metrics-file $T/minute.prom"

[ "$("$SCLMAN" config get MANAGER man_ticks_per_minute)" = 4 ] || fail "config get: $("$SCLMAN" config get MANAGER man_ticks_per_minute 2>&1)"
[ "$("$SCLMAN" --config "$SCLMAN_CONFIG" config get MANAGER man_run_deadline)" = 50 ] || fail "config get man_run_deadline"
pass "sclman config get prints the validated value"

sc create-cluster shop --web 1 > /dev/null
: > "$T/calls"
started=$(now_ms)
sh -c "$minute" > "$T/minute.out" 2>&1 &
run=$!
# While the minute sleeps between its ticks, the lock is still held: a second start skips.
sleep 20
rc=0; sh -c "$minute" > "$T/second.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && ! grep -q . "$T/second.out" || fail "a start during the minute's sleep: exit $rc, $(cat "$T/second.out")"
rc=0; wait "$run" || rc=$?
ended=$(now_ms)
[ "$rc" = 0 ] || fail "the minute exited $rc: $(cat "$T/minute.out")"
[ ! -s "$T/minute.out" ] || fail "a quiet minute printed: $(cat "$T/minute.out")"
took=$((ended - started))
[ "$took" -ge 45000 ] && [ "$took" -lt 58000 ] || fail "the minute took $took ms, not from 45 to 58 s: $(cat "$T/calls")"
steps=$(awk '$2 != "config" {print $2}' "$T/calls" | tr '\n' ' ')
expected=""
for _ in 1 2 3 4; do expected+="poll-load decide scale-out scale-in "; done
[ "$steps" = "${expected}gc " ] || fail "the steps of the minute: $steps"
# The ticks' first steps 15 s apart (within 1 s), the first at the chain's start (its first
# call, config get, is noted a few ms after the chain read the time). Tick 0 comes once the
# chain has read its config (two calls of config get, each a start of the binary: over a
# second together on a loaded machine), so it is measured from the last of them.
first=$(awk '$2 == "config" {print $1; exit}' "$T/calls")
configured=$(awk '$2 == "config" {t = $1} END {print t}' "$T/calls")
k=0
for t in $(awk '$2 == "poll-load" {print $1}' "$T/calls"); do
  if [ $k = 0 ]; then
    off=$((t - configured))
  else
    off=$((t - first - k * 15000))
  fi
  [ "$off" -ge -300 ] && [ "$off" -le 1000 ] || fail "tick $k started $off ms off its slot: $(cat "$T/calls")"
  k=$((k + 1))
done
# The state file: four polls, each sample taken during its own tick's poll-load (from its start
# to at most 3 s later), so they are as far apart as the ticks checked above; from tick 1 on
# (slots anchored on the chain's start, not on a late tick 0) 15 s apart within 1 s.
polls=$(sqlite3 "$DB" "SELECT DISTINCT ts FROM load_samples ORDER BY ts")
[ "$(wc -l <<< "$polls")" = 4 ] || fail "polls in the state file: $polls"
read -ra samples <<< "$(tr '\n' ' ' <<< "$polls")"
read -ra starts <<< "$(awk '$2 == "poll-load" {print $1}' "$T/calls" | tr '\n' ' ')"
for k in 0 1 2 3; do
  off=$((samples[k] - starts[k]))
  [ "$off" -ge 0 ] && [ "$off" -le 3000 ] \
    || fail "tick $k's sample at $off ms from its poll-load's start: $polls / $(cat "$T/calls")"
  if [ "$k" -ge 2 ]; then
    gap=$((samples[k] - samples[k - 1]))
    [ "$gap" -ge 14000 ] && [ "$gap" -le 16000 ] || fail "polls $gap ms apart: $polls"
  fi
done
[ "$(sqlite3 "$DB" "SELECT count(*) FROM decisions WHERE reason != 'manual'")" = 4 ] \
  || fail "decisions: $(sqlite3 "$DB" "SELECT ts, action, reason FROM decisions")"
grep -qx 'sclman_last_run_success{command="gc"} 1' "$T/minute.prom" || fail "the minute's textfile: $(cat "$T/minute.prom")"
pass "4 ticks a minute: 4 polls and decisions 15 s apart, gc once, one lock, done in $took ms"

# A tick that overran the next slot: that slot is skipped, not run late; and no tick starts
# after man_run_deadline (6 ticks, slots 0 10 20 30 40 50 s; deadline 25 s: 0 and 20 run, the
# first one's poll-load takes 12 s). A stand-in for the steps, the real binary for config get.
cat > "$T/slow-sclman" <<EOT
#!/bin/sh
[ "\$1" != config ] || exec "$SCLMAN" "\$@"
echo "\$(date +%s%3N) \$1" >> "$T/slow-calls"
if [ "\$1" = poll-load ] && [ ! -e "$T/slowed" ]; then touch "$T/slowed"; sleep 12; fi
# The second tick's scale-in fails, then gc: the first failure is the chain's status.
if [ "\$1" = scale-in ] && [ -e "$T/scaled-in" ]; then exit 76; fi
[ "\$1" != scale-in ] || touch "$T/scaled-in"
[ "\$1" != gc ] || exit 70
exit 0
EOT
chmod +x "$T/slow-sclman"
write_config "man_ticks_per_minute = 6
man_run_deadline = 25"
sed -e "s|^sclman=/usr/bin/sclman$|sclman=$T/slow-sclman|" -e "s|^config=/etc/sclman/sclman.conf$|config=$SCLMAN_CONFIG|" \
  "$chain" > "$T/slow-chain"
: > "$T/slow-calls"
started=$(now_ms)
rc=0; sh "$T/slow-chain" || rc=$?
took=$(($(now_ms) - started))
[ "$rc" = 76 ] || fail "the chain exited $rc, not 76 (the second tick's scale-in)"
polls=$(awk '$2 == "poll-load" {print int(($1 - s) / 1000)}' s="$started" "$T/slow-calls" | tr '\n' ' ')
# Tick 0 starts once the chain has read its config (two runs of sclman: over a second on a
# loaded machine); the next tick is on its slot, 20 s after the chain's start.
case "$polls" in
  "0 20 "|"0 21 "|"1 20 "|"1 21 "|"2 20 "|"2 21 ") ;;
  *) fail "ticks started at $polls s (expected 0 to 2 and 20): $(cat "$T/slow-calls")" ;;
esac
[ "$(grep -c ' gc$' "$T/slow-calls")" = 1 ] || fail "gc ran $(grep -c ' gc$' "$T/slow-calls") times"
[ "$took" -lt 25000 ] || fail "the chain took $took ms with man_run_deadline 25"
pass "an overrun slot is skipped (ticks at $polls s), none after man_run_deadline ($took ms), exit status the first failure over the ticks"

# Hostile values: every step refuses the config (exit 78, file, line and key), once, at once.
for bad in 0 7 -1 1e3 4x 4.5 99999999999999999999 ""; do
  write_config "man_ticks_per_minute = $bad"
  line=$(grep -n '^man_ticks_per_minute' "$SCLMAN_CONFIG" | cut -d: -f1)
  expect_exit 78 config get MANAGER man_ticks_per_minute
  expect_one_line "$SCLMAN_CONFIG:$line: key 'man_ticks_per_minute': invalid value '$bad'"
  : > "$T/calls"
  started=$(now_ms)
  rc=0; sh "$T/sclman-chain" > "$T/bad.out" 2>&1 || rc=$?
  took=$(($(now_ms) - started))
  [ "$rc" = 78 ] || fail "the chain with man_ticks_per_minute = $bad exited $rc: $(cat "$T/bad.out")"
  [ "$(grep -c "key 'man_ticks_per_minute': invalid value" "$T/bad.out")" = 5 ] \
    || fail "not every step said why ($bad): $(cat "$T/bad.out")"
  [ "$(awk '$2 != "config"' "$T/calls" | wc -l)" = 5 ] || fail "steps run with $bad: $(cat "$T/calls")"
  [ "$took" -lt 10000 ] || fail "the refused chain took $took ms"
done
pass "hostile values of man_ticks_per_minute are refused: exit 78 naming file, line and key, each step once"
