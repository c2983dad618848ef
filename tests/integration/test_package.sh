#!/usr/bin/env bash
# The .deb as scripts/package.sh builds it (Debian's hardening flags, stripped, a -dbgsym
# package, no failpoints): lintian accepts it, dpkg installs it on this machine and makes the
# user sclman, the config is 0640 root:sclman and the state directory sclman's; the README's
# main job runs through the installed binary and the installed cron file's command lines as
# the user sclman (a cluster grows under load and shrinks back), the dashboard the cron line
# writes opens in headless Chromium (screenshot kept as an artefact), the textfile metrics pass
# promtool, bash completion works, the units pass systemd-analyze (verify, and a security
# exposure of at most 2.0); installing it again keeps the state and the edited config; dpkg -r
# leaves a cron file that does nothing, and dpkg --purge leaves nothing behind.
# SCLMAN_DEB_DIR: where scripts/package.sh put the .deb and .ddeb (scripts/test.sh builds them
# before the tests); without it this test builds them itself.
. "$(dirname "$0")/lib.sh"
: "${SCLMAN_BUILD_DIR:?set SCLMAN_BUILD_DIR to the build directory}"
ARTIFACTS=${SCLMAN_ARTIFACTS:-$SCLMAN_SOURCE_DIR/build/test-artifacts}
mkdir -p "$ARTIFACTS"
[ "$(id -u)" = 0 ] || { echo "SKIPPED LOUDLY: installing a package needs root" >&2; [ "${CI:-}" != true ] || exit 1; exit 0; }
if dpkg -s sclman > /dev/null 2>&1; then fail "a sclman package is installed already; not touching it"; fi
[ ! -e /var/lib/sclman ] || fail "/var/lib/sclman exists; not touching it"
[ ! -e /var/cache/sclman ] || fail "/var/cache/sclman exists; not touching it"
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

if [ -z "${SCLMAN_DEB_DIR:-}" ]; then
  bash "$SCLMAN_SOURCE_DIR/scripts/package.sh" "$T/pkg" > "$T/package.log" 2>&1 \
    || { tail -40 "$T/package.log"; fail "scripts/package.sh failed"; }
  SCLMAN_DEB_DIR=$T/pkg
fi
deb=$(ls "$SCLMAN_DEB_DIR"/sclman_*.deb)
ddeb=$(ls "$SCLMAN_DEB_DIR"/sclman-dbgsym_*.ddeb)
dpkg-deb -I "$deb" | grep -E 'Package|Depends|Installed-Size'

# What Debian expects of the package (no install needed).
if command -v lintian > /dev/null; then
  lintian --fail-on error,warning --tag-display-limit 0 "$deb" > "$T/lintian.txt" 2>&1 \
    || { cat "$T/lintian.txt"; fail "lintian: errors or warnings"; }
  pass "lintian: no error or warning (overrides: $(grep -c '^sclman:' "$SCLMAN_SOURCE_DIR/packaging/lintian-overrides"))"
else
  [ "${CI:-}" != true ] || fail "lintian missing on CI"
  echo "SKIPPED LOUDLY: no lintian" >&2
fi
dpkg-deb -x "$deb" "$T/deb"
dpkg-deb -x "$ddeb" "$T/ddeb"
bin=$T/deb/usr/bin/sclman
# Into files first: grep -q would end a pipe early, and pipefail would count that as failure.
file "$bin" > "$T/file.txt"
readelf -W -d -l -n --dyn-syms "$bin" > "$T/readelf.txt"
grep -q "pie executable.*stripped" "$T/file.txt" && ! grep -q "not stripped" "$T/file.txt" \
  || fail "not a stripped PIE: $(cat "$T/file.txt")"
grep -q "FLAGS.*BIND_NOW" "$T/readelf.txt" || fail "no BIND_NOW"
grep -q GNU_RELRO "$T/readelf.txt" || fail "no RELRO"
grep -q "__stack_chk_fail" "$T/readelf.txt" || fail "no stack protector"
grep -q "__[a-z]*_chk@" "$T/readelf.txt" || fail "no FORTIFY (_chk) functions"
id=$(sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p' "$T/readelf.txt")
[ -n "$id" ] && [ -s "$T/ddeb/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ] \
  || fail "sclman-dbgsym lacks the symbols of build id $id"
if grep -q SCLMAN_FAILPOINTS "$bin"; then fail "the packaged binary reads SCLMAN_FAILPOINTS"; fi
pass "hardened (PIE, RELRO, BIND_NOW, stack protector, FORTIFY), stripped ($(stat -c %s "$bin") bytes), symbols in $(basename "$ddeb"), no failpoints"

# A state directory left by a version that ran as root: installing gives it to sclman.
install -d -m 700 /var/lib/sclman
echo kept > /var/lib/sclman/marker
dpkg -i "$deb" > "$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -i failed"; }
installed=1
getent passwd sclman > /dev/null || fail "no user sclman"
[ "$(stat -c '%a %U:%G' /var/lib/sclman)" = "750 sclman:sclman" ] \
  || fail "/var/lib/sclman is $(stat -c '%a %U:%G' /var/lib/sclman)"
[ "$(stat -c %U /var/lib/sclman/marker)" = sclman ] || fail "the old state stayed root's"
[ "$(stat -c '%a %U:%G' /etc/sclman/sclman.conf)" = "640 root:sclman" ] \
  || fail "/etc/sclman/sclman.conf is $(stat -c '%a %U:%G' /etc/sclman/sclman.conf)"
[ "$(stat -c '%a %U:%G' /var/cache/sclman/www)" = "2750 sclman:www-data" ] \
  || fail "/var/cache/sclman/www is $(stat -c '%a %U:%G' /var/cache/sclman/www)"
rm /var/lib/sclman/marker
pass "user sclman; state 0750 sclman, config 0640 root:sclman, dashboard 2750 sclman:www-data"
for f in /usr/bin/sclman /etc/sclman/sclman.conf /etc/cron.d/sclman /usr/share/man/man1/sclman.1.gz \
         /usr/share/man/man5/sclman.conf.5.gz /usr/share/bash-completion/completions/sclman \
         /usr/share/zsh/vendor-completions/_sclman /usr/share/doc/sclman/copyright \
         /lib/systemd/system/sclman.service /lib/systemd/system/sclman.timer \
         /lib/systemd/system/sclman-serve.service /usr/lib/sclman/sclman-chain; do
  [ -e "$f" ] || fail "package did not install $f"
done
[ -x /usr/lib/sclman/sclman-chain ] || fail "the chain is not executable"
# The units as installed, checked without a running systemd (its ExecStart, man pages, keys).
if command -v systemd-analyze > /dev/null; then
  systemd-analyze verify /lib/systemd/system/sclman.service /lib/systemd/system/sclman.timer \
    /lib/systemd/system/sclman-serve.service > "$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "systemd-analyze verify rejects the units"; }
  [ ! -s "$T/verify.log" ] || { cat "$T/verify.log"; fail "systemd-analyze verify warns about the units"; }
  # The sandbox, analysed (nothing here runs systemd as PID 1 to run it).
  systemd-analyze security --offline=yes /lib/systemd/system/sclman.service > "$T/security.log" 2>&1 || true
  exposure=$(sed -n 's/.*Overall exposure level for sclman.service: \([0-9.]*\).*/\1/p' "$T/security.log")
  [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' \
    || { cat "$T/security.log"; fail "sclman.service exposure '$exposure' above 2.0"; }
  systemd-analyze security --offline=yes /lib/systemd/system/sclman-serve.service > "$T/security.log" 2>&1 || true
  serve_exposure=$(sed -n 's/.*Overall exposure level for sclman-serve.service: \([0-9.]*\).*/\1/p' "$T/security.log")
  [ -n "$serve_exposure" ] && awk -v e="$serve_exposure" 'BEGIN { exit !(e <= 2.0) }' \
    || { cat "$T/security.log"; fail "sclman-serve.service exposure '$serve_exposure' above 2.0"; }
  pass "systemd-analyze verify accepts sclman.service, sclman.timer and sclman-serve.service; security exposure $exposure and $serve_exposure"
else
  [ "${CI:-}" != true ] || fail "systemd-analyze missing on CI"
  echo "SKIPPED LOUDLY: no systemd-analyze" >&2
fi
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
# The cron lines run as the user they name, sclman, as cron would run them.
mapfile -t cron_lines < <(grep -E '^\* \* \* \* \* sclman ' /etc/cron.d/sclman | sed 's/^\* \* \* \* \* sclman //')
[ ${#cron_lines[@]} = 2 ] || fail "expected the chain and report lines, as sclman, in /etc/cron.d/sclman"
[ -z "$(grep -E '^\* \* \* \* \* root ' /etc/cron.d/sclman)" ] || fail "a cron line runs as root"
minute() {
  local line
  for line in "${cron_lines[@]}"; do (cd / && runuser -u sclman -- sh -c "$line") >> "$T/cron.log" 2>&1 || true; done
}
# By hand as root (sudo sclman ...): sclman becomes the state directory's owner, so that the
# chain as sclman carries on with what it made.
/usr/bin/sclman create-cluster pkgdemo --web 2 --min 2 --max 3 > /dev/null 2>&1
[ "$(stat -c %U /var/lib/sclman/sclman.db)" = sclman ] || fail "root's create-cluster made a state file of $(stat -c %U /var/lib/sclman/sclman.db)"
for pidfile in /var/lib/sclman/instances/*/logs/nginx.pid; do
  [ "$(stat -c %U "/proc/$(cat "$pidfile")")" = sclman ] || fail "an nginx of the cluster does not run as sclman"
done
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

# sclman serve as the installed unit runs it: its ExecStart, as its User, on a free port.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/sclman-serve.service)
unit_user=$(sed -n 's/^User=//p' /lib/systemd/system/sclman-serve.service)
[ "$unit_user" = sclman ] || fail "sclman-serve.service runs as '$unit_user'"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(cd / && runuser -u sclman -- /usr/bin/sclman token create pkgtest --role viewer)
(cd / && exec runuser -u sclman -- $exec_start --listen "127.0.0.1:$port") > "$T/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do grep -q serve.listening "$T/serve.log" && break; sleep 0.05; done
curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/counters.json" | jq -e '.[0].groupname == "pkgdemo"' > /dev/null \
  || { cat "$T/serve.log"; fail "the installed sclman serve did not answer"; }
pgrep -u sclman -f "sclman serve --listen 127.0.0.1:$port" > /dev/null || fail "sclman serve does not run as sclman"
kill -TERM "$SERVE_PID"  # runuser passes it on to sclman serve
wait "$SERVE_PID" || true  # runuser ends by the signal it passed on
grep -q serve.stopped "$T/serve.log" || { cat "$T/serve.log"; fail "sclman serve did not stop cleanly on SIGTERM"; }
! pgrep -u sclman -f "sclman serve --listen 127.0.0.1:$port" > /dev/null || fail "sclman serve outlived SIGTERM"
pass "sclman serve, as sclman-serve.service runs it (user sclman), answers /counters.json"

[ -s /var/cache/sclman/www/index.html ] || fail "the cron report line wrote no dashboard"
[ "$(stat -c %G /var/cache/sclman/www/index.html)" = www-data ] || fail "the dashboard is not group www-data's"
runuser -u www-data -- cat /var/cache/sclman/www/index.html > /dev/null || fail "www-data cannot read the dashboard"
if runuser -u nobody -- cat /var/cache/sclman/www/index.html > /dev/null 2>&1; then fail "others can read the dashboard"; fi
if runuser -u nobody -- /usr/bin/sclman status > /dev/null 2>&1; then fail "others can read the config or the state"; fi
if command -v chromium > /dev/null; then
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/chrome" --virtual-time-budget=3000 --dump-dom \
    file:///var/cache/sclman/www/index.html > "$T/dom.html" 2> /dev/null || true
  grep -q 'data-charts-drawn="2"' "$T/dom.html" || fail "Chromium did not draw the installed dashboard's charts"
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/chrome2" --window-size=800,1300 \
    --screenshot="$ARTIFACTS/package-dashboard.png" file:///var/cache/sclman/www/index.html > /dev/null 2>&1 || true
  [ -s "$ARTIFACTS/package-dashboard.png" ] || fail "no screenshot"
  pass "dashboard drawn in Chromium; screenshot $ARTIFACTS/package-dashboard.png"
else
  [ "${CI:-}" != true ] || fail "chromium missing on CI"
  echo "SKIPPED LOUDLY: no chromium" >&2
fi
# As root, which becomes sclman: the textfile goes where sclman may write.
/usr/bin/sclman gc --metrics-file /var/lib/sclman/sclman.prom > /dev/null 2>&1
if command -v promtool > /dev/null; then
  promtool check metrics < /var/lib/sclman/sclman.prom || fail "promtool rejects the textfile"
  pass "promtool accepts the textfile"
else
  [ "${CI:-}" != true ] || fail "promtool missing on CI"
  echo "SKIPPED LOUDLY: no promtool" >&2
fi

grep -qx 'sclman_last_run_success{command="scale-out"} 1' /var/lib/sclman/metrics/sclman.prom \
  || fail "the cron chain's textfile: $(cat /var/lib/sclman/metrics/sclman.prom)"

# A forced failure (a config sclman refuses): the chain's textfile says so for every step, and
# the error reaches syslog (a socket of this test at /dev/log in a private mount namespace, so
# the machine's own logging is not touched) as well as stderr (cron's mail).
cp -p /etc/sclman/sclman.conf "$T/sclman.conf.good"
echo "man_sensitivity = many" >> /etc/sclman/sclman.conf
minute
for step in poll-load decide scale-out scale-in gc; do
  grep -qx "sclman_last_run_exit_code{command=\"$step\"} 78" /var/lib/sclman/metrics/sclman.prom \
    && grep -qx "sclman_last_run_success{command=\"$step\"} 0" /var/lib/sclman/metrics/sclman.prom \
    || fail "the textfile does not record $step's failure: $(cat /var/lib/sclman/metrics/sclman.prom)"
done
if unshare -m true 2> /dev/null; then
  python3 "$SCLMAN_SOURCE_DIR/tests/support/syslog_listener.py" "$T/log.sock" 5 > "$T/syslog.out" &
  listener=$!
  for k in $(seq 1 50); do [ -S "$T/log.sock" ] && break; sleep 0.1; done
  unshare -m sh -c 'mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && touch /dev/log &&
    mount --bind "$1" /dev/log && cd / && runuser -u sclman -- sh -c "$2"' _ "$T/log.sock" \
    "${cron_lines[0]}" > "$T/failed-minute.out" 2>&1 || true
  wait $listener || true
  grep -q 'sclman\[[0-9]*\]: poll-load run.failed exit_code=78 kind=config' "$T/syslog.out" \
    || fail "the failed minute did not reach syslog: $(cat "$T/syslog.out" "$T/failed-minute.out")"
  grep -q "^sclman poll-load: error: .*man_sensitivity" "$T/failed-minute.out" \
    || fail "the failed minute's error left stderr: $(cat "$T/failed-minute.out")"
  pass "a failed minute: every step's failure in the textfile, in syslog and on stderr"
else
  [ "${CI:-}" != true ] || fail "unshare -m is not allowed on CI"
  echo "SKIPPED LOUDLY: no private mount namespace for a syslog socket; the textfile was checked" >&2
fi
cp -p "$T/sclman.conf.good" /etc/sclman/sclman.conf

/usr/bin/sclman delete-cluster pkgdemo > /dev/null 2>&1

# Installed again over itself (an upgrade's path through the maintainer scripts): the edited
# config and the state stay, with their owners and modes.
sum=$(md5sum < /etc/sclman/sclman.conf)
dpkg -i "$deb" > "$T/dpkg2.log" 2>&1 || { cat "$T/dpkg2.log"; fail "installing again failed"; }
[ "$(md5sum < /etc/sclman/sclman.conf)" = "$sum" ] || fail "installing again replaced the edited config"
[ "$(stat -c '%a %U:%G' /etc/sclman/sclman.conf)" = "640 root:sclman" ] || fail "installing again changed the config's mode"
[ "$(sqlite3 /var/lib/sclman/sclman.db "SELECT status FROM clusters WHERE name = 'pkgdemo'")" = deleted ] \
  || fail "installing again lost the state"
[ "$(stat -c %U /var/lib/sclman/sclman.db)" = sclman ] || fail "installing again changed the state's owner"
pass "installed again: the edited config and the state stay"
# Removed, not purged: the cron file is a conffile and stays; its lines must do nothing.
dpkg -r sclman > "$T/remove.log" 2>&1 || { cat "$T/remove.log"; fail "dpkg -r failed"; }
[ -f /etc/cron.d/sclman ] || fail "dpkg -r removed the conffile /etc/cron.d/sclman"
[ ! -e /usr/bin/sclman ] && [ ! -e /usr/lib/sclman/sclman-chain ] || fail "dpkg -r left the binary or the chain"
for line in "${cron_lines[@]}"; do
  out=$(cd / && runuser -u sclman -- sh -c "$line" 2>&1) || true
  [ -z "$out" ] || fail "a cron line of the removed package printed: $out"
done
pass "removed (dpkg -r): the cron file stays and its lines do nothing"
dpkg --purge sclman > "$T/purge.log" 2>&1 || { cat "$T/purge.log"; fail "purge failed"; }
installed=0
for f in /usr/bin/sclman /etc/sclman /etc/cron.d/sclman /var/lib/sclman /var/cache/sclman \
         /lib/systemd/system/sclman.timer /usr/lib/sclman; do
  [ ! -e "$f" ] || fail "purge left $f"
done
pass "purged without a trace"
