#!/usr/bin/env bash
# sclman protect / unprotect on the local provider: a protected web instance is never a scale-in
# victim (the newest, the usual victim, survives a scale-in to min); status and status --json
# mark it; scale-in --to below the number of protected instances is exit 64 and changes nothing;
# bad arguments (the LB, an unknown instance or cluster, a hostile name) are exit 64; --dry-run
# changes nothing; once unprotected, the instance is a victim again.
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 1"

sc create-cluster shop --web 3 --min 1 --max 5 > /dev/null
live() { sqlite3 "$DB" "SELECT name FROM instances WHERE role = 'web' AND state = 'in_service' ORDER BY name" | tr '\n' ' '; }
prot() { sqlite3 "$DB" "SELECT name FROM instances WHERE protected = 1 ORDER BY name" | tr '\n' ' '; }

sc protect shop shop-web-3 --dry-run > "$T/out" || fail "protect --dry-run"
grep -q "'shop-web-3' would be protected" "$T/out" || fail "dry run said: $(cat "$T/out")"
expect_exit 64 protect shop shop-lb-1 --dry-run --state "$DB"  # checked like a real run
[ -z "$(prot)" ] || fail "a dry run protected $(prot)"
sc protect shop shop-web-3 > "$T/out" || fail "protect shop shop-web-3"
grep -q "'shop-web-3' is now protected from scale-in" "$T/out" || fail "protect said: $(cat "$T/out")"
sc protect shop shop-web-3 > "$T/out" || fail "protect again"
grep -q "was already protected" "$T/out" || fail "protect again said: $(cat "$T/out")"
[ "$(prot)" = "shop-web-3 " ] || fail "protected: $(prot)"
sc status shop > "$T/status.txt"
grep -E "^  shop-web-3 .* protected" "$T/status.txt" > /dev/null || fail "status: $(cat "$T/status.txt")"
[ "$(status_q '[.[0].instances[] | select(.protected) | .name] | join(",")')" = shop-web-3 ] ||
  fail "status --json: $(sc status --json)"
pass "protect marks shop-web-3 (status, status --json), again changes nothing, --dry-run nothing"

# The newest (shop-web-3) would be the victim: it survives a scale-in to min.
sc scale-in --cluster shop --to 1 --wait > /dev/null 2> "$T/in.err" || { cat "$T/in.err" >&2; fail "scale-in --to 1"; }
[ "$(live)" = "shop-web-3 " ] || fail "after scale-in --to 1: $(live)"
curl -fsS "http://$(lb_address shop)/" | grep -q "shop-web-3" || fail "the LB does not serve shop-web-3"
pass "scale-in --to 1 drained shop-web-1 and shop-web-2, the protected shop-web-3 serves"

# Two protected: scale-in --to 1 is refused and changes nothing.
sc scale-out --cluster shop --to 3 > /dev/null 2>&1 || fail "scale-out --to 3"
sc protect shop shop-web-4 > /dev/null || fail "protect shop-web-4"
before=$(state_dump)
expect_exit 64 scale-in --cluster shop --to 1 --state "$DB"
grep -q "2 web instances of cluster 'shop' are protected from scale-in (shop-web-3, shop-web-4)" "$T/err" ||
  fail "refusal said: $(cat "$T/err")"
[ "$(state_dump)" = "$before" ] || fail "a refused scale-in changed the state"
pass "scale-in --to 1 with two protected: exit 64 naming them, state unchanged"

# Bad arguments: exit 64, nothing changed.
for args in "shop shop-lb-1" "shop shop-web-9" "nosuch shop-web-1" "shop shop-web-1;x" "Shop shop-web-3"; do
  # shellcheck disable=SC2086
  expect_exit 64 protect $args --state "$DB"
done
expect_exit 64 protect shop shop-web-1 --state "$DB"  # gone after the scale-in
grep -q "'shop-web-1' is gone" "$T/err" || fail "protecting a gone instance said: $(cat "$T/err")"
[ "$(state_dump)" = "$before" ] || fail "a refused protect changed the state"
pass "protect of the LB, an unknown or gone instance, an unknown cluster, a hostile name: exit 64, state unchanged"

# Unprotected, shop-web-4 is a victim again: scale-in --to 1 drains it with shop-web-5.
sc unprotect shop shop-web-4 > "$T/out" || fail "unprotect"
grep -q "'shop-web-4' is now not protected" "$T/out" || fail "unprotect said: $(cat "$T/out")"
sc scale-in --cluster shop --to 1 --wait > /dev/null 2>&1 || fail "scale-in --to 1 after unprotect"
[ "$(live)" = "shop-web-3 " ] || fail "after scale-in --to 1: $(live)"
pass "unprotect: scale-in --to 1 drained shop-web-4 and shop-web-5, the protected shop-web-3 stays"
