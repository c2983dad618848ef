#!/usr/bin/env bash
# 20 copies of the cron chain at once, several times: exactly one acts per cluster, the others
# leave with exit 0 and no output under --cron, and the state file passes integrity_check after
# every round. How fast the others leave is printed, not asserted: a timing is a benchmark's job
# (on a loaded 2-core machine with sanitizers a copy can take longer than a second to start).
. "$(dirname "$0")/lib.sh"
write_config "man_sensitivity = 1000"

sc create-cluster alpha --web 1 --max 6 > /dev/null
sc create-cluster beta --web 1 --max 6 > /dev/null
cmds=()
for k in $(seq 1 20); do
  cmds+=("start=\$(date +%s%N); \"\$SCLMAN\" scale-out --cron --state \"\$DB\"; rc=\$?; echo \$(( (\$(date +%s%N) - start) / 1000000 )) > \"\$T/ms.$k\"; (exit \$rc)")
done
for round in 1 2 3; do
  # A pending scale-out decision per cluster, as decide would leave it.
  now_ms=$(($(date +%s) * 1000))
  for c in alpha beta; do
    sqlite3 "$DB" "INSERT INTO decisions (cluster_id, ts, action, from_size, to_size, reason, inputs, status)
                   SELECT id, $now_ms, 'scale_out', desired, desired + 1, 'test', '{}', 'pending'
                   FROM clusters WHERE name='$c' AND status='active'"
  done
  start_together "${cmds[@]}"
  for k in $(seq 1 20); do
    [ "$(cat "$T/rc.$k")" = 0 ] || { cat "$T/err.$k"; fail "round $round copy $k exited $(cat "$T/rc.$k")"; }
    [ ! -s "$T/err.$k" ] || fail "round $round copy $k printed under --cron: $(cat "$T/err.$k")"
  done
  times=$(for k in $(seq 1 20); do cat "$T/ms.$k"; done | sort -n | tr '\n' ' ')
  for c in alpha beta; do
    want=$((round + 1))
    got=$(web_in_service $c)
    [ "$got" = $want ] || fail "round $round: $c has $got in service, want $want"
    creates=$(sqlite3 "$DB" "SELECT count(*) FROM journal WHERE op='create_server' AND cluster='$c' AND instance LIKE '$c-web-%'")
    [ "$creates" = $want ] || fail "round $round: $c has $creates create intents for $want instances"
    done_decisions=$(sqlite3 "$DB" "SELECT count(*) FROM decisions d JOIN clusters c ON c.id = d.cluster_id WHERE c.name='$c' AND d.status='done'")
    [ "$done_decisions" = $round ] || fail "round $round: $c has $done_decisions decisions carried out"
  done
  [ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ] || fail "integrity check after round $round"
  echo "round $round: 20 copies, run times (ms): $times; sizes $(web_in_service alpha) $(web_in_service beta)"
done
pass "20 concurrent scale-out copies: one acted per cluster"

# The whole chain, 20 copies at once, three times.
chain_cmd='(for s in poll-load decide scale-out scale-in gc; do "$SCLMAN" $s --cron --state "$DB" || exit $?; done)'
chains=()
for k in $(seq 1 20); do chains+=("$chain_cmd"); done
for round in 1 2 3; do
  start_together "${chains[@]}"
  for k in $(seq 1 20); do
    rc=$(cat "$T/rc.$k")
    [ "$rc" = 0 ] || [ "$rc" = 75 ] || { cat "$T/err.$k"; fail "chain round $round copy $k exited $rc"; }
  done
  [ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ] || fail "integrity check after chain round $round"
done
[ "$(web_in_service alpha)" = 4 ] && [ "$(web_in_service beta)" = 4 ] || fail "chains changed the sizes"
pass "20 concurrent chains, 3 rounds: state intact, sizes kept"
