#!/usr/bin/env bash
# The command line as git users expect it: common options before the command work as after it
# (`sclman --config F status`); an unknown command is exit 64 with "unknown command X" and the
# closest command names, its --help too; the usage line names sclman.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 1 > /dev/null
"$SCLMAN" --config "$SCLMAN_CONFIG" --state "$DB" status > "$T/before.out" || fail "sclman --config F --state S status"
"$SCLMAN" status --config "$SCLMAN_CONFIG" --state "$DB" > "$T/after.out" || fail "sclman status --config F --state S"
grep -q "^shop " "$T/before.out" && cmp -s "$T/before.out" "$T/after.out" || fail "before: $(cat "$T/before.out") after: $(cat "$T/after.out")"
"$SCLMAN" --state="$DB" --json -v status > "$T/json.out" 2> /dev/null || fail "sclman --state=S --json -v status"
jq -e '.[0].name == "shop"' "$T/json.out" > /dev/null || fail "--json before the command: $(cat "$T/json.out")"
"$SCLMAN" --state "$DB" --dry-run scale-out --cluster shop --to 2 > "$T/dry.out" || fail "--dry-run before scale-out"
grep -q "would" "$T/dry.out" && [ "$(web_in_service shop)" = 1 ] || fail "--dry-run before the command acted: $(cat "$T/dry.out")"
# An option the command does not take is still refused, wherever it is.
expect_exit 64 --state "$DB" --dry-run status
pass "common options before the command work as after it; one the command does not take is refused"

expect_exit 64 statuss --state "$DB"
[ "$(cat "$T/err")" = "sclman: error: unknown command 'statuss'; did you mean 'status'?" ] || fail "statuss: $(cat "$T/err")"
expect_exit 64 scale --state "$DB"
grep -q "unknown command 'scale'; did you mean 'scale-out' or 'scale-in'?" "$T/err" || fail "scale: $(cat "$T/err")"
expect_exit 64 serve --help
grep -q "unknown command 'serve'" "$T/err" || fail "serve --help: $(cat "$T/err")"
expect_exit 64 "$(printf 'x\033[2J')"
grep -q "unknown command 'x\\\\x1b\[2J'" "$T/err" || fail "a hostile command name is not escaped: $(cat -v "$T/err")"
"$SCLMAN" list --state "$DB" > /dev/null || fail "the alias list is a command"
"$SCLMAN" --help | grep -q "^Usage: sclman " || fail "usage line: $("$SCLMAN" --help | head -3)"
"$SCLMAN" status --help | grep -q "^Usage: sclman status " || fail "status usage line: $("$SCLMAN" status --help | head -3)"
pass "unknown commands (and their --help) are exit 64 naming the closest commands; usage names sclman"
