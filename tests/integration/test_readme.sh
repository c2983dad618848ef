#!/usr/bin/env bash
# The README's examples, as a reader would paste them: every ```ini block is a config file that
# sclman accepts and whose values take effect, every line of every ```sh block is either run
# here or named below as run elsewhere, and the first command (the demo) runs end to end with
# this build's binaries. A new example that this test does not know fails it.
. "$(dirname "$0")/lib.sh"
README=$SCLMAN_SOURCE_DIR/README.md

# blocks LANG: print the lines of README's ```LANG blocks, each block ended by a line "@@END".
blocks() {
  awk -v lang="$1" '
    /^```/ { if (inside) { print "@@END"; inside = 0; next }
             if ($0 == "```" lang) { inside = 1; next } }
    inside { print }' "$README"
}

# sclman as the README spells it, on this test's state file and config.
sclman() { "$SCLMAN" "$1" --state "$DB" "${@:2}"; }

# 1. The config examples: each is a whole sclman.conf (the local provider's defaults for the
# rest), accepted as it stands, and its [MANAGER] values are what create-cluster stores.
n=0
conf=$T/readme-0.conf
install -m 600 /dev/null "$conf"
while IFS= read -r line; do
  if [ "$line" != "@@END" ]; then
    printf '%s\n' "$line" >> "$conf"
    continue
  fi
  n=$((n + 1))
  SCLMAN_CONFIG=$conf sclman status > "$T/out" 2> "$T/err" \
    || { cat "$conf" "$T/err" >&2; fail "the README's config example $n is refused"; }
  conf=$T/readme-$n.conf
  install -m 600 /dev/null "$conf"
done < <(blocks ini)
[ $n -ge 1 ] || fail "no \`\`\`ini example found in the README"
pass "the README's $n config example(s) are accepted as pasted"

# The first example sets the policy of new clusters: check each of its [MANAGER] keys arrives.
export SCLMAN_CONFIG=$T/readme-0.conf
sclman create-cluster readmecheck --web 1 --min 1 --max 2 > /dev/null 2>> "$T/err"
policy=$(sclman status readmecheck --json | jq -c '.[0].policy')
declare -A field=([man_sensitivity]=sensitivity [man_high_load]=high [man_low_load]=low
                  [man_cooldown]=cooldown)
checked=0
while IFS='=' read -r key value; do
  key=$(echo "$key" | tr -d ' ')
  value=$(echo "$value" | tr -d ' ')
  [ -n "${field[$key]:-}" ] || continue
  got=$(jq -r --arg f "${field[$key]}" '.[$f]' <<< "$policy")
  [ "$(jq -n "$got == $value")" = true ] \
    || fail "README sets $key = $value, the stored policy has ${field[$key]} = $got"
  checked=$((checked + 1))
done < <(grep -E '^man_[a-z_]+ *=' "$T/readme-0.conf")
[ $checked -ge 3 ] || fail "only $checked [MANAGER] keys of the README's example were checked"
sclman delete-cluster readmecheck > /dev/null 2>> "$T/err"
pass "its $checked [MANAGER] values are the policy of a new cluster ($policy)"

# 2. The command examples. sclman lines run here, in README order, on the local provider; the
# others are classified: a line this test does not know is a failure.
ran=0
while IFS= read -r line; do
  line=${line%%  #*}  # a trailing "  # comment" is a comment to the shell too
  [ -n "$line" ] && [ "$line" != "@@END" ] || continue
  case "$line" in
    "sclman "*)
      read -ra words <<< "${line#sclman }"
      sclman "${words[@]}" > "$T/out" 2>> "$T/err" \
        || { cat "$T/err" >&2; fail "README command exits $?: $line"; }
      ran=$((ran + 1))
      ;;
    "bash scripts/demo.sh"*) ;;  # below
    "bash scripts/test.sh"*) ;;  # the test command: CI runs it, and it runs this test
    "bash scripts/package.sh"* | "dpkg -i build/package/deb/sclman_"*)
      # Building and installing the package is test_package.sh's (scripts/package.sh, lintian,
      # dpkg -i, the main job through the installed cron lines as the user sclman).
      ;;
    *) fail "a README command this test does not cover: $line" ;;
  esac
done < <(blocks sh)
[ $ran -ge 5 ] || fail "only $ran sclman commands of the README ran"
[ "$(sclman status --json | jq '[.[] | select(.name == "shop")] | length')" = 0 ] \
  || fail "the README's last command should have deleted cluster shop"
pass "the README's $ran sclman commands ran in order and exited 0"

# 3. The README's first command, the demo, with this build instead of a release build. The
# limits are hang guards: in a clean-clone CI rehearsal (four tests on two cores, one of them
# OpenStack's) the demo's growth took 292 s and its whole run past 400 s.
SCLMAN_SKIP_DEPS=1 SCLMAN_DEMO_SCLMAN=$SCLMAN SCLMAN_DEMO_LOADGEN=$SCLMAN_LOADGEN \
  SCLMAN_DEMO_PHASE_SECONDS=480 timeout 1100 bash "$SCLMAN_SOURCE_DIR/scripts/demo.sh" > "$T/demo.log" 2>&1 \
  || { tail -n 30 "$T/demo.log" >&2; fail "the demo failed"; }
grep -E '^t=[0-9]+s +in service 4 ' "$T/demo.log" > /dev/null \
  || { cat "$T/demo.log" >&2; fail "the demo never showed 4 instances in service"; }
pass "the demo grew to 4 and shrank back ($(grep -c '^t=' "$T/demo.log") ticks shown)"
