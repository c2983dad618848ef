#!/usr/bin/env bash
# Run as root against a state directory another user owns (the package's sclman), sclman becomes
# that user before it touches anything: the state file, the local instances and their nginx
# processes are that user's, so that the chain running as that user goes on with them. A
# directory owned by a uid that names no user is refused.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIPPED LOUDLY: needs root" >&2; [ "${CI:-}" != true ] || exit 1; exit 0; }
write_config
user=nobody
chmod 711 "$T"  # the user must reach its directory below the test's
S=$T/owned
install -d -o "$user" -m 700 "$S"
SDB=$S/sclman.db

"$SCLMAN" create-cluster shop --web 1 --max 3 --state "$SDB" > /dev/null 2> "$T/err" \
  || { cat "$T/err"; fail "create-cluster as root in $user's directory"; }
[ "$(stat -c %U "$SDB")" = "$user" ] || fail "the state file belongs to $(stat -c %U "$SDB")"
others=$(find "$S" ! -user "$user" | head -5)
[ -z "$others" ] || fail "files not $user's: $others"
for pidfile in "$S"/instances/*/logs/nginx.pid; do
  pid=$(cat "$pidfile")
  [ "$(stat -c %U "/proc/$pid")" = "$user" ] || fail "nginx $pid runs as $(stat -c %U "/proc/$pid")"
done
LB=$("$SCLMAN" status shop --json --state "$SDB" | jq -r '.[0].lb_address')
curl -sf "http://$LB/" > /dev/null || fail "the cluster does not answer"
pass "root became $user: state file, instances and nginx are $user's, and the cluster serves"

# The user itself (as cron or systemd run the chain) carries on with what root's run made.
install -m 600 -o "$user" "$SCLMAN_CONFIG" "$S/sclman.conf"
runuser -u "$user" -- "$SCLMAN" scale-out --cluster shop --to 2 --state "$SDB" \
  --config "$S/sclman.conf" > /dev/null 2> "$T/err" || { cat "$T/err"; fail "scale-out as $user"; }
"$SCLMAN" scale-in --cluster shop --to 1 --state "$SDB" > /dev/null 2> "$T/err" \
  || { cat "$T/err"; fail "scale-in as root"; }
[ "$("$SCLMAN" status shop --json --state "$SDB" | jq '.[0].size')" = 1 ] || fail "size after the turns"
others=$(find "$S" ! -user "$user" | head -5)
[ -z "$others" ] || fail "files not $user's after the turns: $others"
"$SCLMAN" delete-cluster shop --state "$SDB" > /dev/null 2> "$T/err" || { cat "$T/err"; fail "delete-cluster"; }
pass "$user and root take turns on one state file"

# A uid that names no user: nobody to become, refused before anything is made.
install -d -o 54321 -m 700 "$T/orphan"
expect_exit 78 status --state "$T/orphan/sclman.db"
expect_one_line "the state directory '$T/orphan' belongs to uid 54321, which names no user"
[ -z "$(ls -A "$T/orphan")" ] || fail "something was made in $T/orphan"
pass "a state directory of an unknown uid is refused (78)"
