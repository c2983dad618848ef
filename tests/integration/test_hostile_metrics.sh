#!/usr/bin/env bash
# A web VM serves its own stub_status (the default metrics source): one instance of a local
# cluster of two real nginx web instances answers hostile bodies (its own nginx conf rewritten to
# `return 200 "..."` and reloaded). For each: poll-load refuses it with a logged reason naming the
# instance, the sample is stored missing (never a huge or negative number), decide does not scale
# out on it, the other instance's sample is still stored, and the LB's upstream.conf does not
# change while both instances keep being served through it. A counter that goes backwards counts
# from zero (a small rate, never a negative or huge one) and says so in the log.
. "$(dirname "$0")/lib.sh"

# man_sensitivity = 1: one high sample would scale out, so a hostile value taken as load shows.
write_config "man_sensitivity = 1
man_cooldown = 0"
sc create-cluster shop --web 2 --min 2 --max 4 > /dev/null 2> "$T/create.err" \
  || { cat "$T/create.err"; fail "create-cluster"; }

UP=$T/instances/shop-lb-1/conf/upstream.conf
CONF1=$T/instances/shop-web-1/conf/nginx.conf
[ -f "$UP" ] && [ -f "$CONF1" ] || fail "instance files not where expected"
cp "$CONF1" "$T/web1.conf.orig"
addr() { sqlite3 "$DB" "SELECT address FROM instances WHERE name='$1'"; }
WEB1=$(addr shop-web-1)
UP_SHA=$(sha256sum < "$UP")
LB=$(lb_address shop)

# serve BODY: shop-web-1's nginx answers BODY (bytes as given, \n for a newline, as in nginx's
# quoted strings) at its stub_status path, and nothing else changes; reloaded by the master's
# pid, then waited for (bounded) until it answers exactly those bytes.
serve() {
  python3 - "$T/web1.conf.orig" "$CONF1" "$1" "$T/expected.body" <<'PY'
import sys
orig, out, body, expected = sys.argv[1], sys.argv[2], sys.argv[3].encode("utf-8", "surrogateescape"), sys.argv[4]
text = open(orig, "rb").read()
old = b"      stub_status;\n"
assert text.count(old) == 1, "stub_status location not found"
assert b'"' not in body and b"\\" not in body.replace(b"\\n", b"")
open(out, "wb").write(text.replace(old, b'      return 200 "' + body + b'";\n'))
open(expected, "wb").write(body.replace(b"\\n", b"\n"))
PY
  # An old worker would still answer the poll with the previous body (seen once on CI).
  reload_nginx shop-web-1
  for _ in $(seq 100); do
    curl -sS "http://$WEB1/nginx_status" | cmp -s - "$T/expected.body" && return 0
    sleep 0.05
  done
  fail "shop-web-1's nginx did not take the new body"
}
# restore: shop-web-1's own stub_status again.
restore() {
  cp "$T/web1.conf.orig" "$CONF1"
  reload_nginx shop-web-1
  for _ in $(seq 100); do
    curl -sS "http://$WEB1/nginx_status" | grep -q '^Active connections: ' && return 0
    sleep 0.05
  done
  fail "shop-web-1's stub_status did not come back"
}
# The newest sample of instance NAME: "value|raw|missing", NULL as "null".
sample() {
  sqlite3 "$DB" "SELECT ifnull(s.value, 'null') || '|' || ifnull(s.raw, 'null') || '|' || ifnull(s.missing, 'null')
                 FROM load_samples s JOIN instances i ON i.id = s.instance_id
                 WHERE i.name = '$1' ORDER BY s.ts DESC LIMIT 1"
}
newest_ts() {
  sqlite3 "$DB" "SELECT max(s.ts) FROM load_samples s JOIN instances i ON i.id = s.instance_id WHERE i.name = '$1'"
}
decision() {
  sqlite3 "$DB" "SELECT d.action || ' ' || d.reason FROM decisions d JOIN clusters c ON c.id = d.cluster_id
                 WHERE c.name = 'shop' ORDER BY d.id DESC LIMIT 1"
}
# lb_serves: both instances answer through the LB within 20 requests.
lb_serves() {
  local seen="" n
  for _ in $(seq 1 20); do seen+=$(curl -fsS "http://$LB/")$'\n'; done
  for n in shop-web-1 shop-web-2; do
    grep -q "sclman web instance $n " <<< "$seen" || fail "$1: $n never answered through the LB"
  done
}
# good_poll: a poll with both instances' own stub_status, which must give both a value.
good_poll() {
  sleep 1.1
  expect_exit 0 poll-load --state "$DB"
  case "$(sample shop-web-1)" in null*) fail "no value for shop-web-1 from a good body";; esac
}
# hostile WHAT REASON: poll-load with shop-web-1's current body refused (REASON in the log line
# naming it), stored missing, shop-web-2 sampled, no scale-out (why shows shop-web-1 without a
# value), the LB config unchanged and both instances served through the LB after scale-out
# (which would carry out a scale-out decision).
hostile() {
  expect_exit 75 poll-load --state "$DB"
  grep -F "poll_load.missing cluster=shop instance=shop-web-1 error=" "$T/err" | grep -qF -- "$2" \
    || { cat "$T/err"; fail "$1: no log line naming shop-web-1 with '$2'"; }
  ! grep -q "instance=shop-web-2" "$T/err" || { cat "$T/err"; fail "$1: shop-web-2 was not sampled"; }
  # One line per refusal, printable ASCII: the body never reaches the log as it came.
  [ "$(wc -l < "$T/err")" = 3 ] || { cat "$T/err"; fail "$1: expected 3 log lines (missing, done, error)"; }
  LC_ALL=C grep -q $'[^\t -~]' "$T/err" && fail "$1: a byte outside printable ASCII reached the log"
  # No value, no counter kept; missing as out_of_range, or no_value (stored as NULL).
  case "$(sample shop-web-1)" in
    "null|null|out_of_range"|"null|null|null") ;;
    *) fail "$1: shop-web-1's sample is '$(sample shop-web-1)', want missing";;
  esac
  case "$(sample shop-web-2)" in
    null*) fail "$1: shop-web-2's sample is missing: $(sample shop-web-2)";;
  esac
  [ "$(newest_ts shop-web-2)" = "$(newest_ts shop-web-1)" ] || fail "$1: shop-web-2 got no sample in this poll"
  expect_exit 0 decide --state "$DB"
  case "$(decision)" in
    "scale_out "*) fail "$1: decide scaled out on it: $(decision)";;
  esac
  # why names it: no value for shop-web-1, shop-web-2's used.
  sc why shop --last 1 > "$T/why.txt"
  grep -qE '^ +shop-web-1 +- ' "$T/why.txt" && grep -qE '^ +shop-web-2 +[0-9.]+ used$' "$T/why.txt" \
    || { cat "$T/why.txt"; fail "$1: why does not show shop-web-1 without a value and shop-web-2 used"; }
  expect_exit 0 scale-out --state "$DB"
  [ "$(sha256sum < "$UP")" = "$UP_SHA" ] || { cat "$UP"; fail "$1: the LB's upstream.conf changed"; }
  lb_serves "$1"
}

lb_serves "start"
# The first poll stores each counter; rates start with the second.
expect_exit 0 poll-load --state "$DB"
good_poll
pass "cluster up: both instances sampled and served through the LB"

INJECT='127.0.0.1:80; } server { listen 1; } upstream x { server 127.0.0.1'
LONG=$(printf 'x%.0s' $(seq 1 300))
layout() {  # ACTIVE ACCEPTS HANDLED REQUESTS: a stub_status body in nginx's own layout
  printf 'Active connections: %s \\nserver accepts handled requests\\n %s %s %s \\nReading: 0 Writing: 1 Waiting: 0 \\n' "$@"
}
n=0
while IFS='|' read -r what body reason; do
  serve "$body"
  hostile "$what" "$reason"
  n=$((n + 1))
done <<CASES
a counter that jumps to 2^63-1|$(layout 1 5 5 9223372036854775807)|is out of range
requests 1e30|$(layout 1 5 5 1e30)|malformed stub_status at byte
requests 99999999999999999999|$(layout 1 5 5 99999999999999999999)|malformed stub_status at byte
a negative counter|$(layout 1 5 5 -42)|malformed stub_status at byte
not a number|$(layout 1 5 5 many)|malformed stub_status at byte
the injection string|$(layout 1 5 5 "$INJECT")|malformed stub_status at byte
a 300-character line|$LONG\\n|malformed stub_status at byte 0
non-UTF-8 bytes|$(layout 1 5 5 $'\xff\xfe\xc0')|malformed stub_status at byte
CASES
pass "$n hostile stub_status bodies: refused and named, stored missing, no scale-out, upstream.conf unchanged, both served"

# The jump's counter was not kept (it came first): the next good body's rate comes from the
# last good counter.
restore
good_poll
pass "after the hostile bodies, shop-web-1's own stub_status gives a value again"

# A counter that goes backwards (nginx restarted, or a VM lying low) counts from zero, logged as
# poll_load.counter_reset: a small rate, never negative or huge, and no scale-out.
serve "$(layout 1 5 5 3)"
sleep 1.1
expect_exit 0 poll-load --state "$DB"
IFS='|' read -r value raw _ <<< "$(sample shop-web-1)"
[ "$raw" = 3 ] || fail "backwards counter: raw is '$raw', want 3"
grep -q 'poll_load.counter_reset cluster=shop instance=shop-web-1 note="counter went back from [0-9]* to 3: counted from zero"' "$T/err" \
  || { cat "$T/err"; fail "backwards counter: no logged reason"; }
awk -v v="$value" 'BEGIN { exit !(v >= 0 && v <= 3) }' || fail "backwards counter: rate '$value', want 0 to 3"
expect_exit 0 decide --state "$DB"
case "$(decision)" in "scale_out "*) fail "backwards counter: decide scaled out: $(decision)";; esac
[ "$(sha256sum < "$UP")" = "$UP_SHA" ] || fail "backwards counter: the LB's upstream.conf changed"
pass "a counter that goes backwards counts from zero (rate $value/s), no scale-out"

restore
sc delete-cluster shop > /dev/null 2>&1 || fail "delete-cluster"
