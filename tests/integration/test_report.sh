#!/usr/bin/env bash
# sclman report: after a real run (a cluster that grew under load and shrank back), the
# dashboard has both charts with data (load against the policy's lines; in service, desired and
# booting), the decisions as markers named with their reason, a legend, the members and the
# decisions, and says the chain runs; status.json and history.json carry the same run. Headless
# Chromium (Selenium) lays the charts out and its accessibility tree, keyboard focus and text
# contrast pass tests/support/dashboard_check.py; HTML Tidy's accessibility checks pass. Then an
# instance that fails its health checks marks the cluster, and a chain that stopped running
# makes the page warn. Screenshots are kept in $SCLMAN_ARTIFACTS (default build/test-artifacts).
. "$(dirname "$0")/lib.sh"
write_config "man_cooldown = 1
man_drain_seconds = 1"
ARTIFACTS=${SCLMAN_ARTIFACTS:-$SCLMAN_SOURCE_DIR/build/test-artifacts}
mkdir -p "$ARTIFACTS"

sc create-cluster shop --web 2 --min 2 --max 3 --health unhealthy_threshold=1 \
  --health interval=1 > /dev/null
LB=$(lb_address shop)
"$SCLMAN_LOADGEN" --url "http://$LB/" --concurrency 4 --rate 1000 --duration 900 > /dev/null &
LOADGEN_PIDS+=($!)
for k in $(seq 1 20); do
  chain
  [ "$(web_in_service shop)" = 3 ] && break
  sleep 1
done
[ "$(web_in_service shop)" = 3 ] || fail "did not grow"
kill -INT "${LOADGEN_PIDS[0]}"; wait "${LOADGEN_PIDS[0]}" || true
for k in $(seq 1 20); do
  chain
  [ "$(web_in_service shop)" = 2 ] && break
  sleep 1
done
[ "$(web_in_service shop)" = 2 ] || fail "did not shrink"

sc report --output "$T/www" > /dev/null
for f in index.html status.json history.json; do
  [ -s "$T/www/$f" ] || fail "report did not write $f"
done
jq -e '.[0].name == "shop" and .[0].size == 2' "$T/www/status.json" > /dev/null || fail "status.json"
jq -e '.clusters[0].load | length > 3' "$T/www/history.json" > /dev/null || fail "history.json has no load"
jq -e '[.clusters[0].decisions[].action] | index("scale_out") != null and index("scale_in") != null' \
  "$T/www/history.json" > /dev/null || fail "history.json lacks the scale_out and scale_in"
points=$(grep -o 'class="chart load"[^>]*data-points="[0-9]*"' "$T/www/index.html" | grep -o '[0-9]*"$' | tr -d '"')
[ "${points:-0}" -gt 3 ] || fail "load chart has ${points:-0} points"
grep -q 'class="mark scale_out"' "$T/www/index.html" || fail "no scale_out mark"
grep -q 'class="mark scale_in"' "$T/www/index.html" || fail "no scale_in mark"
grep -q '<td>shop-web-1</td>' "$T/www/index.html" || fail "members missing"
pass "dashboard and JSON written from the run ($points load points)"

# The page's new parts, as text.
grep -q '<section class="chain ok"' "$T/www/index.html" || fail "the chain is not shown running"
grep -q 'role="alert"' "$T/www/index.html" && fail "a running chain is warned about"
for series in in_service desired booting; do
  grep -q "<polyline class=\"series $series\"" "$T/www/index.html" || fail "no $series line"
done
high=$(jq -r '.[0].policy.high' "$T/www/status.json")
grep -q ">high $high</text>" "$T/www/index.html" || fail "the load chart lacks the policy's high ($high)"
reason=$(jq -r '[.clusters[0].decisions[] | select(.action=="scale_out")][0].reason' "$T/www/history.json")
grep -q "<g class=\"mark scale_out\" tabindex=\"0\" role=\"img\" aria-label=\"scale out 2 to 3 at [^\"]*: $reason" \
  "$T/www/index.html" || fail "no scale_out marker named with its reason ($reason)"
grep -q '<ul class="legend"' "$T/www/index.html" || fail "no legend"
jq -e '.chain.stale == false and (.chain.steps | length) == 5 and (.clusters[0].desired | length) > 1
       and (.clusters[0].booting | map(.[1]) | max) >= 1' "$T/www/history.json" > /dev/null ||
  fail "history.json lacks the chain or the desired and booting series: $(jq -c '.chain, .clusters[0].desired, .clusters[0].booting' "$T/www/history.json")"
pass "the chain runs, the policy's high $high, in service, desired and booting, markers named with their reason ($reason)"

# HTML Tidy's accessibility checks (WCAG 1.0, all three priorities). What remains are its
# reminders to test by hand what it cannot see, each named here with why it stays:
#   5.5.1.1 <table> missing summary: HTML5 made the summary attribute obsolete; each table has
#   a caption instead (WCAG 2 technique H39), which the browser check below finds as its name;
#   6.1.1.2 style sheets require testing (style element): the page reads in order without CSS;
#   6.2.2.2, 6.3.1.1, 8.1.1.1, 7.1.1.1, 2.1.1.4 (script): the script only reloads the page each
#   minute (pausable, and the noscript text says to reload) and marks the charts laid out for
#   this test; nothing depends on it.
tidy_check() {
  tidy -q -e --accessibility-check 3 "$1" > "$T/tidy.out" 2>&1 || true
  grep -vE '\[(5\.5\.1\.1|6\.1\.1\.2|6\.2\.2\.2|6\.3\.1\.1|8\.1\.1\.1|7\.1\.1\.1|2\.1\.1\.4)\]' "$T/tidy.out" \
    | grep -E 'Access:|Error:|Warning:' > "$T/tidy.bad" || true
  [ ! -s "$T/tidy.bad" ] || { cat "$T/tidy.bad" >&2; fail "HTML Tidy's accessibility checks fail on $1"; }
}
if command -v tidy > /dev/null; then
  tidy_check "$T/www/index.html"
  pass "HTML Tidy's accessibility checks pass ($(grep -c 'Access:' "$T/tidy.out") reminders left, each justified)"
else
  [ "${CI:-}" = true ] && fail "tidy is not installed (scripts/deps.sh installs it)"
  echo "SKIPPED LOUDLY: no tidy here; the accessibility lint did not run" >&2
fi

# In a browser: layout, accessibility tree, keyboard, contrast, pause, and the screenshot.
browser_check() {
  /usr/bin/python3 "$SCLMAN_SOURCE_DIR/tests/support/dashboard_check.py" "$@" > "$T/browser.out" 2>&1 ||
    { cat "$T/browser.out" >&2; fail "the dashboard fails in Chromium: $1"; }
}
have_browser=yes
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null ||
   ! /usr/bin/python3 -c 'import selenium' 2> /dev/null; then
  [ "${CI:-}" = true ] && fail "chromium, chromedriver or python3-selenium missing (scripts/deps.sh installs them)"
  echo "SKIPPED LOUDLY: no chromium, chromedriver or selenium here; the browser checks did not run" >&2
  have_browser=no
fi
if [ $have_browser = yes ]; then
  browser_check "$T/www/index.html" "$ARTIFACTS/dashboard.png" --charts 2 --mark-name "$reason"
  [ -s "$ARTIFACTS/dashboard.png" ] || fail "no screenshot"
  pass "Chromium drew both charts and its accessibility, keyboard and contrast checks pass: $(head -1 "$T/browser.out"); screenshot in $ARTIFACTS/dashboard.png"
fi

# An instance that fails its health checks marks the cluster, in the list and at its section.
conf=$T/instances/shop-web-1/conf/nginx.conf
sed -i -E 's/return [0-9]+ "sclman web/return 503 "sclman web/' "$conf"
reload_nginx shop-web-1
sc scale-out > /dev/null 2>&1
[ "$(status_q '.[0].instances[] | select(.name=="shop-web-1") | .unhealthy_since')" != null ] ||
  fail "shop-web-1 is not unhealthy after answering 503"
sc report --output "$T/www" > /dev/null
grep -q 'needs attention: 1 unhealthy' "$T/www/index.html" || fail "the cluster list does not mark shop"
grep -q '<section class="cluster attention" id="cluster-shop"' "$T/www/index.html" || fail "shop's section is not marked"
grep -q '<tr class="state-unhealthy"><td>shop-web-1</td>' "$T/www/index.html" || fail "shop-web-1 not shown unhealthy"
jq -e '.clusters[0].attention == ["1 unhealthy"]' "$T/www/history.json" > /dev/null || fail "history.json: no attention"
pass "an unhealthy instance marks its cluster"

# A chain that stopped ten minutes ago: the page warns, in words and to screen readers.
sqlite3 "$DB" "UPDATE runs SET ts = ts - 600000, last_success_ts = last_success_ts - 600000"
sc report --output "$T/www" > /dev/null
grep -q '<p class="warning" role="alert"><strong>Warning:</strong> the chain last ran 10m ago' "$T/www/index.html" ||
  fail "no warning for a chain that stopped: $(grep -o '<section class="chain.*' "$T/www/index.html" | head -3)"
jq -e '.chain.stale == true' "$T/www/history.json" > /dev/null || fail "history.json: chain not stale"
if [ $have_browser = yes ]; then
  browser_check "$T/www/index.html" "$ARTIFACTS/dashboard-warning.png" --charts 2 --mark-name "$reason"
fi
command -v tidy > /dev/null && tidy_check "$T/www/index.html"
pass "a chain that stopped 10 minutes ago is warned about; the page still passes the checks"
