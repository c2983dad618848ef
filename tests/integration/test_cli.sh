#!/usr/bin/env bash
# The command line as git users expect it: common options before the command work as after it
# (`sclman --config F status`); an unknown command is exit 64 with "unknown command X" and the
# closest command names, its --help too; the usage line names sclman.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 1 > /dev/null
"$SCLMAN" --config "$SCLMAN_CONFIG" --state "$DB" status --brief > "$T/before.out" || fail "sclman --config F --state S status"
"$SCLMAN" status --brief --config "$SCLMAN_CONFIG" --state "$DB" > "$T/after.out" || fail "sclman status --config F --state S"
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
expect_exit 64 frobnicate --help
grep -q "unknown command 'frobnicate'" "$T/err" || fail "frobnicate --help: $(cat "$T/err")"
expect_exit 64 "$(printf 'x\033[2J')"
grep -q "unknown command 'x\\\\x1b\[2J'" "$T/err" || fail "a hostile command name is not escaped: $(cat -v "$T/err")"
"$SCLMAN" list --state "$DB" > /dev/null || fail "the alias list is a command"
"$SCLMAN" --help | grep -q "^Usage: sclman " || fail "usage line: $("$SCLMAN" --help | head -3)"
"$SCLMAN" status --help | grep -q "^Usage: sclman status " || fail "status usage line: $("$SCLMAN" status --help | head -3)"
pass "unknown commands (and their --help) are exit 64 naming the closest commands; usage names sclman"

# Bash completion: option values sclman knows, and cluster names from the state file the
# command line names.
sc create-cluster cafe --web 1 > /dev/null
"$SCLMAN" completion bash > "$T/completion.bash"
complete_words() {
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sclman; echo "${COMPREPLY[*]}"' _ "$T/completion.bash" "$@"
}
[ "$(complete_words "$SCLMAN" why --state "$DB" "")" = "cafe shop" ] || fail "cluster names after why: '$(complete_words "$SCLMAN" why --state "$DB" "")'"
[ "$(complete_words "$SCLMAN" --state "$DB" protect c)" = "cafe" ] || fail "cluster names after protect: '$(complete_words "$SCLMAN" --state "$DB" protect c)'"
[ "$(complete_words "$SCLMAN" scale-out --state "$DB" --cluster s)" = "shop" ] || fail "--cluster: '$(complete_words "$SCLMAN" scale-out --state "$DB" --cluster s)'"
[ "$(complete_words "$SCLMAN" set-policy shop --policy target)" = "target target-tracking" ] || fail "--policy values"
[ "$(complete_words "$SCLMAN" set-policy shop --victim oldest)" = "oldest oldest-image" ] || fail "--victim values"
[ "$(complete_words "$SCLMAN" create-cluster x --server-group soft)" = "soft-anti-affinity" ] || fail "--server-group values"
[ "$(complete_words "$SCLMAN" create-cluster x --balancer o)" = "octavia" ] || fail "--balancer values"
[ "$(complete_words "$SCLMAN" status --log-format j)" = "json" ] || fail "--log-format values"
case " $(complete_words "$SCLMAN" create-cluster --state "$DB" "") " in
  *" shop "*|*" cafe "*) fail "create-cluster's new name completed to existing clusters";;
esac
[ "$("$SCLMAN" status --names --state "$DB" | tr '\n' ' ')" = "cafe shop " ] || fail "status --names: $("$SCLMAN" status --names --state "$DB")"
pass "bash completion: cluster names from the state file (first argument, --cluster), policy kinds, victims, server groups, drivers, log formats"

# zsh completion, through zsh's own completion system in a pseudo-terminal
# (tests/support/zsh_complete.zsh: the matches offered when Tab is pressed at the line's end).
if command -v zsh > /dev/null; then
  mkdir -p "$T/zsh" "$T/bin"
  "$SCLMAN" completion zsh > "$T/zsh/_sclman"
  head -1 "$T/zsh/_sclman" | grep -qx '#compdef sclman' || fail "no #compdef line"
  zsh -n "$T/zsh/_sclman" || fail "the zsh script does not parse"
  ln -s "$SCLMAN" "$T/bin/sclman"
  zcomplete() {
    PATH="$T/bin:$PATH" zsh "$SCLMAN_SOURCE_DIR/tests/support/zsh_complete.zsh" "$T/zsh" "$1" \
      | sort | tr '\n' ' '
  }
  zexpect() {
    local got
    got=$(zcomplete "$1")
    [ "$got" = "$2" ] || fail "zsh completion of '$1': '$got', expected '$2'"
  }
  zexpect 'sclman scale-' 'scale-in scale-out '
  zexpect "sclman why --state $DB " 'cafe shop '
  zexpect "sclman --state $DB protect c" 'cafe '
  zexpect "sclman scale-out --state $DB --cluster s" 'shop '
  zexpect 'sclman set-policy shop --policy target' 'target target-tracking '
  zexpect 'sclman set-policy shop --victim oldest' 'oldest oldest-image '
  zexpect 'sclman create-cluster x --balancer o' 'octavia '
  zexpect 'sclman status --log-format j' 'json '
  zexpect 'sclman --log-format j' 'json '
  zexpect 'sclman scale-in --wa' '--wait '
  zexpect 'sclman completion ' 'bash zsh '
  case " $(zcomplete "sclman create-cluster --state $DB ") " in
    *" shop "*|*" cafe "*) fail "zsh: create-cluster's new name completed to existing clusters";;
  esac
  pass "zsh completion: commands, options, their values and cluster names from the state file"
else
  [ "${CI:-}" != true ] || fail "zsh missing on CI"
  echo "SKIPPED LOUDLY: no zsh" >&2
fi
