#!/usr/bin/env bash
# The .deb: CPack builds it, dpkg installs it on this machine, the README's main job runs
# through the installed binary and the installed cron file's command lines (a cluster grows
# under load and shrinks back), the dashboard the cron line writes opens in headless Chromium
# (screenshot kept as an artefact), the textfile metrics pass promtool, bash completion works,
# and dpkg --purge leaves nothing behind.
. "$(dirname "$0")/lib.sh"
: "${SCLMAN_BUILD_DIR:?set SCLMAN_BUILD_DIR to the build directory}"
ARTIFACTS=${SCLMAN_ARTIFACTS:-$SCLMAN_SOURCE_DIR/build/test-artifacts}
mkdir -p "$ARTIFACTS"
[ "$(id -u)" = 0 ] || { echo "SKIPPED LOUDLY: installing a package needs root" >&2; [ "${CI:-}" != true ] || exit 1; exit 0; }
if dpkg -s sclman > /dev/null 2>&1; then fail "a sclman package is installed already; not touching it"; fi
[ ! -e /var/lib/sclman/sclman.db ] || fail "/var/lib/sclman/sclman.db exists; not touching it"
unset SCLMAN_CONFIG

installed=0
package_cleanup() {
  if [ $installed = 1 ]; then
    /usr/bin/sclman delete-cluster pkgdemo > /dev/null 2>&1 || true
    dpkg --purge sclman > /dev/null 2>&1 || true
  fi
}
trap 'rc=$?; package_cleanup; cleanup' EXIT
cleanup() { local r=$rc; for pid in "${LOADGEN_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$T"; exit $r; }

(cd "$T" && cpack -G DEB -B "$T/pkg" --config "$SCLMAN_BUILD_DIR/CPackConfig.cmake" > "$T/cpack.log" 2>&1) \
  || { cat "$T/cpack.log"; fail "cpack failed"; }
deb=$(ls "$T"/pkg/sclman_*.deb)
dpkg-deb -I "$deb" | grep -E 'Package|Depends' 
dpkg -i "$deb" > "$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -i failed"; }
installed=1
for f in /usr/bin/sclman /etc/sclman/sclman.conf /etc/cron.d/sclman /usr/share/man/man1/sclman.1 \
         /usr/share/man/man5/sclman.conf.5 /usr/share/bash-completion/completions/sclman \
         /lib/systemd/system/sclman.service /lib/systemd/system/sclman.timer \
         /usr/lib/sclman/sclman-chain; do
  [ -e "$f" ] || fail "package did not install $f"
done
[ -x /usr/lib/sclman/sclman-chain ] || fail "the chain is not executable"
# The units as installed, checked without a running systemd (its ExecStart, man pages, keys).
if command -v systemd-analyze > /dev/null; then
  systemd-analyze verify /lib/systemd/system/sclman.service /lib/systemd/system/sclman.timer \
    > "$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "systemd-analyze verify rejects the units"; }
  [ ! -s "$T/verify.log" ] || { cat "$T/verify.log"; fail "systemd-analyze verify warns about the units"; }
  pass "systemd-analyze verify accepts sclman.service and sclman.timer"
else
  [ "${CI:-}" != true ] || fail "systemd-analyze missing on CI"
  echo "SKIPPED LOUDLY: no systemd-analyze" >&2
fi
[ "$(stat -c %a /var/lib/sclman)" = 700 ] || fail "/var/lib/sclman is not 0700"
dpkg-query -W -f='${Conffiles}\n' sclman | grep /etc/sclman/sclman.conf > /dev/null || fail "sclman.conf is not a conffile"
/usr/bin/sclman --version | grep "state schema" > /dev/null || fail "--version does not name the schema"
pass "installed $(basename "$deb")"

# Completion from the installed script.
complete_words() {
  bash -c '. /usr/share/bash-completion/completions/sclman; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sclman; echo "${COMPREPLY[*]}"' _ "$@"
}
words=" $(complete_words sclman scale-) "
[[ "$words" == *" scale-out "* && "$words" == *" scale-in "* ]] || fail "completion of commands:$words"
[[ " $(complete_words sclman scale-in --w) " == *" --wait "* ]] || fail "completion of options"
pass "bash completion completes commands and options"

# The main job with the installed binary and configuration, driven by the cron lines.
cat >> /etc/sclman/sclman.conf <<CONF
# test_package.sh: a fast cycle
CONF
sed -i 's/^man_sensitivity = .*/man_sensitivity = 2/; s/^man_high_load = .*/man_high_load = 150/;
        s/^man_low_load = .*/man_low_load = 20/; s/^man_cooldown = .*/man_cooldown = 1/;
        s/^man_drain_seconds = .*/man_drain_seconds = 1/' /etc/sclman/sclman.conf
mapfile -t cron_lines < <(grep -E '^\* \* \* \* \* root ' /etc/cron.d/sclman | sed 's/^\* \* \* \* \* root //')
[ ${#cron_lines[@]} = 2 ] || fail "expected the chain and report lines in /etc/cron.d/sclman"
minute() {
  local line
  for line in "${cron_lines[@]}"; do sh -c "$line" >> "$T/cron.log" 2>&1 || true; done
}
/usr/bin/sclman create-cluster pkgdemo --web 2 --min 2 --max 3 > /dev/null 2>&1
LB=$(/usr/bin/sclman status pkgdemo --json --config /etc/sclman/sclman.conf | jq -r '.[0].lb_address')
"$SCLMAN_LOADGEN" --url "http://$LB/" --concurrency 4 --rate 1000 --duration 900 > "$T/load.json" &
LOADGEN_PIDS+=($!)
size() { /usr/bin/sclman status pkgdemo --json | jq '.[0].size'; }
for k in $(seq 1 25); do minute; [ "$(size)" = 3 ] && break; sleep 1; done
[ "$(size)" = 3 ] || { cat "$T/cron.log"; fail "installed cron lines did not grow the cluster"; }
kill -INT "${LOADGEN_PIDS[0]}"; wait "${LOADGEN_PIDS[0]}" || true
[ "$(jq .errors "$T/load.json")" = 0 ] && [ "$(jq .non_200 "$T/load.json")" = 0 ] || fail "failed requests: $(cat "$T/load.json")"
for k in $(seq 1 25); do minute; [ "$(size)" = 2 ] && break; sleep 1; done
[ "$(size)" = 2 ] || fail "installed cron lines did not shrink the cluster"
pass "grew to 3 and shrank to 2 through the installed cron lines"

[ -s /var/lib/sclman/www/index.html ] || fail "the cron report line wrote no dashboard"
if command -v chromium > /dev/null; then
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/chrome" --virtual-time-budget=3000 --dump-dom \
    file:///var/lib/sclman/www/index.html > "$T/dom.html" 2> /dev/null || true
  grep -q 'data-charts-drawn="2"' "$T/dom.html" || fail "Chromium did not draw the installed dashboard's charts"
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/chrome2" --window-size=800,1300 \
    --screenshot="$ARTIFACTS/package-dashboard.png" file:///var/lib/sclman/www/index.html > /dev/null 2>&1 || true
  [ -s "$ARTIFACTS/package-dashboard.png" ] || fail "no screenshot"
  pass "dashboard drawn in Chromium; screenshot $ARTIFACTS/package-dashboard.png"
else
  [ "${CI:-}" != true ] || fail "chromium missing on CI"
  echo "SKIPPED LOUDLY: no chromium" >&2
fi
/usr/bin/sclman gc --metrics-file "$T/sclman.prom" > /dev/null 2>&1
if command -v promtool > /dev/null; then
  promtool check metrics < "$T/sclman.prom" || fail "promtool rejects the textfile"
  pass "promtool accepts the textfile"
else
  [ "${CI:-}" != true ] || fail "promtool missing on CI"
  echo "SKIPPED LOUDLY: no promtool" >&2
fi

/usr/bin/sclman delete-cluster pkgdemo > /dev/null 2>&1
# Removed, not purged: the cron file is a conffile and stays; its lines must do nothing.
dpkg -r sclman > "$T/remove.log" 2>&1 || { cat "$T/remove.log"; fail "dpkg -r failed"; }
[ -f /etc/cron.d/sclman ] || fail "dpkg -r removed the conffile /etc/cron.d/sclman"
[ ! -e /usr/bin/sclman ] && [ ! -e /usr/lib/sclman/sclman-chain ] || fail "dpkg -r left the binary or the chain"
for line in "${cron_lines[@]}"; do
  out=$(sh -c "$line" 2>&1) || true
  [ -z "$out" ] || fail "a cron line of the removed package printed: $out"
done
pass "removed (dpkg -r): the cron file stays and its lines do nothing"
dpkg --purge sclman > "$T/purge.log" 2>&1 || { cat "$T/purge.log"; fail "purge failed"; }
installed=0
for f in /usr/bin/sclman /etc/sclman /etc/cron.d/sclman /var/lib/sclman /lib/systemd/system/sclman.timer \
         /usr/lib/sclman; do
  [ ! -e "$f" ] || fail "purge left $f"
done
pass "purged without a trace"
