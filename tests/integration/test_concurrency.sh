#!/usr/bin/env bash
# Two `sclman scale-out` processes started at the same moment never both act: the cluster
# grows to exactly the target, each instance is created once, and the loser either leaves with
# 75 (busy, naming the holder) or finds nothing left to do.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 1 --max 8 > /dev/null
target=1
for round in 1 2 3 4 5; do
  target=$((target + 1))
  cmd="\"\$SCLMAN\" scale-out --cluster shop --to $target --state \"\$DB\""
  start_together "$cmd" "$cmd"
  ra=$(cat "$T/rc.1"); rb=$(cat "$T/rc.2")
  for rc in $ra $rb; do
    [ "$rc" = 0 ] || [ "$rc" = 75 ] || { cat "$T"/err.*; fail "round $round: exit $rc"; }
  done
  if [ "$ra" = 75 ] || [ "$rb" = 75 ]; then
    grep -qh "is held by pid" "$T"/err.* || fail "busy exit without the holder's pid"
  fi
  [ "$(web_in_service shop)" = $target ] || fail "round $round: expected $target in service"
  live=$(sqlite3 "$DB" "SELECT count(*) FROM instances WHERE role='web' AND state!='gone'")
  [ "$live" = $target ] || fail "round $round: $live web instances for a target of $target"
  creates=$(sqlite3 "$DB" "SELECT count(*) FROM journal WHERE op='create_server' AND instance LIKE 'shop-web-%'")
  [ "$creates" = $target ] || fail "round $round: $creates create intents for $target instances"
  echo "round $round: exits $ra $rb, $target instances"
done
pass "concurrent scale-out never acted twice"

# Under --cron the loser exits 0 and prints nothing.
cmd='"$SCLMAN" scale-out --cron --cluster shop --to 7 --state "$DB"'
start_together "$cmd" "$cmd"
[ "$(cat "$T/rc.1")" = 0 ] && [ "$(cat "$T/rc.2")" = 0 ] || fail "--cron runs did not both exit 0"
[ "$(web_in_service shop)" = 7 ] || fail "expected 7 in service"
sqlite3 "$DB" "PRAGMA integrity_check" | grep -x ok > /dev/null || fail "integrity check failed"
pass "--cron: both exit 0, one acts"
