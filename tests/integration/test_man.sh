#!/usr/bin/env bash
# The man pages: lint-clean (mandoc -T lint at warning level, groff -ww), and complete: every
# subcommand and common option of the binary is in sclman(1), every environment variable the
# source reads in its ENVIRONMENT section, every config key in sclman.conf(5).
. "$(dirname "$0")/lib.sh"
M=$SCLMAN_SOURCE_DIR/man
for page in "$M/sclman.1" "$M/sclman.conf.5"; do
  if command -v mandoc > /dev/null; then
    mandoc -T lint -W warning "$page" || fail "mandoc lint: $page"
  else
    [ "${CI:-}" != true ] || fail "mandoc missing on CI"
  fi
  out=$(groff -ww -man -z "$page" 2>&1) || fail "groff: $page"
  [ -z "$out" ] || fail "groff warnings in $page: $out"
done
pass "man pages lint clean"

text=$(groff -man -Tascii -P -cbou "$M/sclman.1" 2>/dev/null)
for cmd in $("$SCLMAN" --help | awk '/^Subcommands:/ {on=1; next} on && NF {gsub(",", "", $1); print $1}'); do
  grep -q -- "$cmd" <<< "$text" || fail "sclman(1) does not document the command '$cmd'"
done
# Each command's own options too.
for cmd in $("$SCLMAN" --help | awk '/^Subcommands:/ {on=1; next} on && NF {gsub(",", "", $1); print $1}'); do
  for opt in $("$SCLMAN" "$cmd" --help | grep -oE '^ +(-[a-zA-Z],)?--[a-z][a-z-]*' | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
    [ "$opt" = --help ] && continue
    grep -q -- "$opt" <<< "$text" || fail "sclman(1) does not document '$cmd $opt'"
  done
done
for opt in --config --state --cron --dry-run --json --verbose --log --log-format --metrics-file; do
  grep -q -- "$opt" <<< "$text" || fail "sclman(1) does not document $opt"
done
conf=$(groff -man -Tascii -P -cbou "$M/sclman.conf.5" 2>/dev/null)
for key in $(grep -E '^[a-z_]+ = ' "$SCLMAN_SOURCE_DIR/etc/sclman.conf" | cut -d' ' -f1); do
  grep -qw -- "$key" <<< "$conf" || fail "sclman.conf(5) does not document '$key'"
done
pass "every command, common option and config key is documented"

# Every environment variable the source reads (getenv("X"), and the OS_* names the OpenStack
# credentials take) is in the ENVIRONMENT section of sclman(1).
environment=$(groff -man -Tascii -P -cbou "$M/sclman.1" 2>/dev/null | sed -n '/^ENVIRONMENT/,/^FILES/p')
vars=$(grep -rhoE 'getenv\("[A-Z_]+"\)|env\("[A-Z_]+"\)' "$SCLMAN_SOURCE_DIR/lib" "$SCLMAN_SOURCE_DIR/cmd" |
  grep -oE '[A-Z_]{3,}' | sort -u)
[ "$(echo "$vars" | wc -w)" -ge 20 ] || fail "found only $(echo "$vars" | wc -w) environment variables in the source: $vars"
for v in $vars; do
  grep -qw -- "$v" <<< "$environment" || fail "sclman(1) ENVIRONMENT does not document $v"
done
pass "sclman(1) ENVIRONMENT documents the $(echo "$vars" | wc -w) environment variables the source reads"
