#!/usr/bin/env bash
# How operators give sclman their OpenStack credentials, each against a real Keystone (Debian
# 12's, on 127.0.0.1): the password in secure.yaml beside clouds.yaml (openstacksdk's split),
# an application credential (v3applicationcredential), an existing token (auth_type token), and
# TLS from clouds.yaml (cacert, verify, a client certificate and key) and OS_CACERT through an
# nginx TLS proxy in front of Keystone that asks for a client certificate.
# Only Keystone runs, so a command gets as far as Keystone's catalog: "no service of type
# 'compute' in the keystone catalog" (create-cluster then fails, 75 or 78) with a token in the
# cache means Keystone issued sclman a token; a refused credential is Keystone's 401 and no
# token; an unverifiable certificate exit 78 naming it.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/openstack.sh"

PROXY_PID=
stop_all() {
  [ -z "$PROXY_PID" ] || kill -QUIT "$PROXY_PID" 2>/dev/null || true
  openstack_stop
}
SKIPPING=no
trap 'rc=$?; set +e; stop_all; [ $rc != 77 ] || [ $SKIPPING = yes ] || rc=1; cleanup $rc' EXIT

openstack_install_or_skip "$T/install.log" "test_openstack_auth"
openstack_start "$T/os" keystone || fail "Keystone did not start"
KS=$OS_KEYSTONE_URL
write_config
mkdir -p "$T/osconf"
export OS_CLIENT_CONFIG_FILE=$T/osconf/clouds.yaml
export OS_CLIENT_SECURE_FILE=$T/osconf/secure.yaml
unset OS_CLOUD OS_AUTH_URL OS_PASSWORD OS_CACERT OS_CERT OS_KEY OS_INSECURE

# try NAME CLOUD: create-cluster NAME on clouds.yaml cloud CLOUD, in a state file of its own;
# its exit status is $rc and its error in $T/err.
n=0
try() {
  n=$((n + 1))
  rc=0
  "$SCLMAN" create-cluster "$1" --web 1 --provider openstack --os-cloud "$2" \
    --listen "127.0.0.1:$(os_free_port)" \
    --state "$T/s$n/sclman.db" > "$T/out" 2> "$T/err" || rc=$?
}
# authenticated NAME CLOUD: Keystone gave sclman a token (then its catalog has no compute).
authenticated() {
  try "$@"
  [ "$rc" != 0 ] && [ "$rc" != 77 ] && grep -q "no service of type 'compute' in the keystone catalog" "$T/err" \
    || { cat "$T/err"; fail "$2: not authenticated (exit $rc)"; }
  jq -e 'length == 1' "$T/s$n/openstack-token.json" > /dev/null \
    || fail "$2: no token cached"
}
# unauthorized NAME CLOUD: Keystone answered 401 (404 for a token it cannot read); the exit
# is 77, or 75 when taking back what create-cluster began met the same answer.
unauthorized() {
  try "$@"
  [ "$rc" != 0 ] && grep -Eq "keystone 40[14] " "$T/err" && [ ! -s "$T/s$n/openstack-token.json" ] \
    || { cat "$T/err"; fail "$2: expected Keystone's 401, got exit $rc"; }
}
# refused CODES SAYS NAME CLOUD: the exit status is one of CODES ("78" or "78|75": 75 when
# create-cluster got as far as making its LB and taking it back met the same error).
refused() {
  local codes=$1 says=$2
  shift 2
  try "$@"
  [[ "$rc" =~ ^($codes)$ ]] && grep -qF -- "$says" "$T/err" \
    || { cat "$T/err"; fail "$2: expected exit $codes saying '$says', got $rc"; }
}
entry() { # NAME AUTH_URL [extra lines]: a clouds.yaml cloud of the demo user, no password
  cat <<EOT
  $1:
    auth:
      auth_url: $2
      username: demo
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
${3:-}
EOT
}

# 1. The password in secure.yaml, the rest in clouds.yaml.
{ echo "clouds:"; entry split "$KS/v3"; } > "$T/osconf/clouds.yaml"
refused 78 "lack password" a split
cat > "$T/osconf/secure.yaml" <<EOT
clouds:
  split:
    auth:
      password: demo-secret
EOT
chmod 644 "$T/osconf/secure.yaml"
refused 78 "for secure.yaml '$T/osconf/secure.yaml' are too open" a split
chmod 600 "$T/osconf/secure.yaml"
authenticated a split
sed -i 's/demo-secret/wrong-secret/' "$T/osconf/secure.yaml"
unauthorized a split
sed -i 's/wrong-secret/demo-secret/' "$T/osconf/secure.yaml"
pass "the password from secure.yaml merged into clouds.yaml's cloud; an open secure.yaml refused"

# 2. An application credential of the demo user, made through Keystone's API.
token_of() { # USER PASSWORD: a project-scoped token
  curl -sS -D - -o /dev/null -H 'Content-Type: application/json' "$KS/v3/auth/tokens" -d "$(jq -nc \
    --arg u "$1" --arg p "$2" '{auth: {identity: {methods: ["password"], password: {user:
    {name: $u, domain: {name: "Default"}, password: $p}}}, scope: {project: {name: "demo",
    domain: {name: "Default"}}}}}')" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'
}
DEMO_TOKEN=$(token_of demo demo-secret)
[ -n "$DEMO_TOKEN" ] || fail "no token for the demo user"
DEMO_ID=$(curl -sS -H "X-Auth-Token: $DEMO_TOKEN" -H "X-Subject-Token: $DEMO_TOKEN" \
  "$KS/v3/auth/tokens" | jq -r '.token.user.id')
curl -sS -H "X-Auth-Token: $DEMO_TOKEN" -H 'Content-Type: application/json' \
  "$KS/v3/users/$DEMO_ID/application_credentials" \
  -d '{"application_credential": {"name": "sclman-test"}}' > "$T/appcred.json"
AC_ID=$(jq -r '.application_credential.id' "$T/appcred.json")
AC_SECRET=$(jq -r '.application_credential.secret' "$T/appcred.json")
[ -n "$AC_ID" ] && [ "$AC_ID" != null ] || fail "no application credential: $(cat "$T/appcred.json")"
cat >> "$T/osconf/clouds.yaml" <<EOT
  app:
    auth_type: v3applicationcredential
    auth:
      auth_url: $KS/v3
      application_credential_id: $AC_ID
    region_name: RegionOne
EOT
cat >> "$T/osconf/secure.yaml" <<EOT
  app:
    auth:
      application_credential_secret: $AC_SECRET
EOT
authenticated b app
sed -i "s/$AC_SECRET/not-the-secret/" "$T/osconf/secure.yaml"
unauthorized b app
pass "an application credential (v3applicationcredential), its secret in secure.yaml"

# 3. An existing token (auth_type token), exchanged for one scoped to the project.
cat >> "$T/osconf/clouds.yaml" <<EOT
  tok:
    auth_type: token
    auth:
      auth_url: $KS/v3
      token: $DEMO_TOKEN
      project_name: demo
      project_domain_name: Default
    region_name: RegionOne
  badtok:
    auth_type: v3token
    auth:
      auth_url: $KS/v3
      token: gAAAAABnot-a-token
      project_name: demo
    region_name: RegionOne
EOT
authenticated c tok
unauthorized c badtok
grep -qF "$DEMO_TOKEN" "$T/err" "$T/out" && fail "the token is in the output"
pass "auth_type token: an existing token accepted, a bogus one refused (401), never printed"

# 4. TLS: nginx in front of Keystone with a certificate of a CA of this test, asking for a
# client certificate signed by the same CA.
P=$T/tls
mkdir -p "$P/conf" "$P/logs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sclman test CA" \
  -keyout "$P/ca.key" -out "$P/ca.pem" 2> /dev/null
sign() { # NAME SUBJECT [SAN]: a key and a certificate signed by the test CA
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$P/$1.key" -out "$P/$1.csr" 2> /dev/null
  if [ -n "${3:-}" ]; then printf 'subjectAltName=%s\n' "$3" > "$P/$1.ext"; else : > "$P/$1.ext"; fi
  openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 2 \
    -extfile "$P/$1.ext" -out "$P/$1.pem" 2> /dev/null
}
sign server "/CN=127.0.0.1" "IP:127.0.0.1"
sign client "/CN=sclman"
chmod 600 "$P/client.key"
TLS_PORT=$(os_free_port)
cat > "$P/conf/nginx.conf" <<CONF
worker_processes 1;
pid $P/logs/nginx.pid;
error_log $P/logs/error.log;
events { worker_connections 64; }
http {
  access_log $P/logs/access.log;
  server {
    listen 127.0.0.1:$TLS_PORT ssl;
    ssl_certificate $P/server.pem;
    ssl_certificate_key $P/server.key;
    ssl_client_certificate $P/ca.pem;
    ssl_verify_client on;
    location / { proxy_pass $KS; }
  }
}
CONF
/usr/sbin/nginx -p "$P/" -c conf/nginx.conf -e "$P/logs/error.log" || fail "the TLS proxy did not start"
for k in $(seq 50); do [ -s "$P/logs/nginx.pid" ] && break; sleep 0.1; done
PROXY_PID=$(cat "$P/logs/nginx.pid")
curl -fsS --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
  "https://127.0.0.1:$TLS_PORT/v3" > /dev/null || fail "the TLS proxy does not reach Keystone"

tls_cloud() { # NAME EXTRA: the demo cloud through the proxy, its password in secure.yaml
  entry "$1" "https://127.0.0.1:$TLS_PORT/v3" "$2" >> "$T/osconf/clouds.yaml"
  printf '  %s:\n    auth:\n      password: demo-secret\n' "$1" >> "$T/osconf/secure.yaml"
}
tls_cloud tlsfull "    cacert: $P/ca.pem
    cert: $P/client.pem
    key: $P/client.key"
tls_cloud tlsnoca "    cert: $P/client.pem
    key: $P/client.key"
tls_cloud tlsnoverify "    verify: false
    cert: $P/client.pem
    key: $P/client.key"
tls_cloud tlsnocert "    cacert: $P/ca.pem"
authenticated d tlsfull
refused "78|75" "cannot verify the TLS certificate of 'https://127.0.0.1:$TLS_PORT/v3/auth/tokens'" d tlsnoca
OS_CACERT=$P/ca.pem authenticated d tlsnoca
authenticated d tlsnoverify
try d tlsnocert
[ "$rc" != 0 ] && ! grep -q "no service of type 'compute'" "$T/err" \
  || { cat "$T/err"; fail "no client certificate, yet authenticated (exit $rc)"; }
chmod 644 "$P/client.key"
refused 78 "for TLS client key '$P/client.key' are too open" d tlsfull
pass "TLS from clouds.yaml: cacert, OS_CACERT, verify: false, a client certificate and key (an open key refused)"
