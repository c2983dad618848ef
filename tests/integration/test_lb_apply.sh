#!/usr/bin/env bash
# sclman-lb-apply (etc/lb): the LB server's side of the server balancer without Chef, the one
# command sclman's SSH key may run there. Run here as sshd would run it (SSH_ORIGINAL_COMMAND)
# against a real nginx: show and apply work and reload nginx; every line that is not sclman's
# upstream format is refused whole (exit 65) with the running list unchanged, an injection
# included; a list nginx refuses (exit 66) leaves the old one in place and serving; an unknown
# request is exit 64. (The SSH side, sshd with the user data's key line, is scenario 6d of
# test_openstack_cluster.sh.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

APPLY=$SCLMAN_SOURCE_DIR/etc/lb/sclman-lb-apply
P=$T/instances/lb
mkdir -p "$P/conf" "$P/logs" "$P/tmp"
ports=$(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r LB_PORT BACKEND_PORT <<< "$ports"
cat > "$P/conf/nginx.conf" <<EOT
pid logs/nginx.pid;
error_log logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  include upstream.conf;
  server { listen 127.0.0.1:$LB_PORT; location / { proxy_pass http://sclman_backends; } }
  server { listen 127.0.0.1:$BACKEND_PORT; location / { return 200 "backend\n"; } }
}
EOT
printf 'upstream sclman_backends {\n  server 127.0.0.1:9 down;\n}\n' > "$P/conf/upstream.conf"
NGINX="/usr/sbin/nginx -p $P/ -c conf/nginx.conf"
$NGINX || fail "nginx did not start"

# lb REQUEST [INPUT]: run the script as sshd would for sclman's key; prints its output, returns
# its exit code.
lb() {
  SSH_ORIGINAL_COMMAND=$1 SCLMAN_LB_CONF_DIR=$P/conf SCLMAN_LB_NGINX=$NGINX SCLMAN_LB_PID_FILE=$P/logs/nginx.pid \
    sh "$APPLY" < "${2:-/dev/null}"
}
expect_code() {
  local want=$1 rc=0
  shift
  "$@" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited $rc, not $want: $(cat "$T/err")"
}

expect_code 0 lb show
[ ! -s "$T/out" ] || fail "show before any apply printed $(cat "$T/out")"
for bad in reboot "" "show; id" "apply extra"; do
  expect_code 64 lb "$bad"
  grep -q "unknown request" "$T/err" || fail "no message for request '$bad'"
done
pass "show before the first apply prints nothing; unknown requests (reboot, empty, 'show; id', 'apply extra') are exit 64"

# A list as sclman renders it (local::render_upstream).
printf '%s\n' '# Written by sclman. Changes are overwritten.' 'upstream sclman_backends {' \
  "  server 127.0.0.1:$BACKEND_PORT max_fails=1 fail_timeout=5s;" \
  '  server [::1]:9 max_fails=1 fail_timeout=5s;' '}' > "$T/good"
expect_code 0 lb apply "$T/good"
cmp -s "$T/good" "$P/conf/upstream.applied" || fail "upstream.applied is not the list applied"
expect_code 0 lb show
cmp -s "$T/good" "$T/out" || fail "show does not print the applied list: $(cat "$T/out")"
# The script returns once no old worker accepts: the very next request sees the new list.
[ "$(curl -sS "http://127.0.0.1:$LB_PORT/")" = backend ] || fail "right after apply, nginx does not forward to the applied list"
pass "apply takes sclman's format and returns once nginx forwards to it; show prints what was loaded"

# Hostile lists: each refused whole, nothing changed, nothing run.
hostile=(
  "  server 127.0.0.1:1; } server { listen 9999; } upstream x {"
  "include /etc/passwd;"
  "  server backend.example.com:80 max_fails=1 fail_timeout=5s;"
  "  server 127.0.0.1:80 backup;"
  "  server 127.0.0.1:80 max_fails=1 fail_timeout=5s; proxy_pass http://x;"
  "  server \$(touch $T/pwned):80;"
  "  server 127.0.0.1:80\`touch $T/pwned\`;"
  $'  server 127.0.0.1:80 max_fails=1 fail_timeout=5s;\r'
  "  server 127.0.0.1:80 max_fails=1 fail_timeout=5s; # $(printf 'x%.0s' $(seq 1 200))"
  "	server 127.0.0.1:80;"
  "location / { return 200; }"
)
for line in "${hostile[@]}"; do
  printf '%s\n' 'upstream sclman_backends {' "$line" '}' > "$T/bad"
  expect_code 65 lb apply "$T/bad"
  cmp -s "$T/good" "$P/conf/upstream.conf" || fail "upstream.conf changed for: $line"
  cmp -s "$T/good" "$P/conf/upstream.applied" || fail "upstream.applied changed for: $line"
done
printf '# no block\n' > "$T/bad"
expect_code 65 lb apply "$T/bad"
printf 'upstream sclman_backends {\n  server 127.0.0.1:80;\0 server 10.0.0.1:80;\n}\n' > "$T/bad"
expect_code 65 lb apply "$T/bad"
/usr/bin/python3 -c "print('upstream sclman_backends {'); [print('  server 10.0.0.%d:80 max_fails=1 fail_timeout=5s;' % (i % 250)) for i in range(20001)]; print('}')" > "$T/bad"
expect_code 65 lb apply "$T/bad"
grep -q "list too long" "$T/err" || fail "no message for a list of 20,003 lines"
[ ! -e "$T/pwned" ] || fail "a hostile line ran a command"
[ "$(curl -fsS "http://127.0.0.1:$LB_PORT/")" = backend ] || fail "nginx stopped forwarding after the hostile lists"
pass "${#hostile[@]} hostile lines, a NUL byte, a list without its block and one of 20,003 lines: each exit 65, the running list unchanged, nothing run"

# A list in sclman's format that nginx refuses (a port above 65535): exit 66, the old list back.
printf '%s\n' 'upstream sclman_backends {' '  server 127.0.0.1:99999 max_fails=1 fail_timeout=5s;' '}' > "$T/bad"
expect_code 66 lb apply "$T/bad"
grep -q "nginx rejects the config" "$T/err" || fail "no nginx message: $(cat "$T/err")"
cmp -s "$T/good" "$P/conf/upstream.conf" || fail "upstream.conf is not the old list after nginx refused: $(cat "$P/conf/upstream.conf")"
cmp -s "$T/good" "$P/conf/upstream.applied" || fail "upstream.applied changed after nginx refused"
$NGINX -t -q || fail "the config no longer tests"
[ "$(curl -fsS "http://127.0.0.1:$LB_PORT/")" = backend ] || fail "nginx stopped forwarding after a refused list"
pass "a list nginx refuses is exit 66 and leaves the old list in place, serving"
