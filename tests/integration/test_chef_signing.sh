#!/usr/bin/env bash
# Chef request signing against real goiardi: the fixed vectors of tests/data/cm/sign_vectors.json
# (checked byte for byte by the unit tests) are accepted by the server, for protocols 1.3 and
# 1.0; sclman itself works with sign_version = 1.0; and a clock outside the server's time slew is
# refused with a message that tells the operator to check the clock (exit 77).
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/goiardi.sh"
trap 'rc=$?; goiardi_stop; cleanup $rc' EXIT

# A slew of ten years, so that the vectors' fixed time (2026-01-02T03:04:05Z) is accepted.
goiardi_start "$T/goiardi" --time-slew 87600h
V=$SCLMAN_SOURCE_DIR/tests/data/cm/sign_vectors.json
chef_api POST /clients "$(jq -n --rawfile k <(openssl rsa -in "$SCLMAN_SOURCE_DIR/tests/data/cm/test_client.pem" -pubout 2>/dev/null) \
  '{name: "sclman-test", admin: true, public_key: $k}')" > /dev/null || fail "cannot register the test client"
n=$(jq '.vectors | length' "$V")
replayed=0
for k in $(seq 0 $((n - 1))); do
  v=$(jq -c ".vectors[$k]" "$V")
  path=$(jq -r .path <<< "$v")
  case "$path" in /organizations/*) continue ;; esac  # goiardi has no organisations
  args=(-H "X-Ops-Timestamp: $(jq -r .timestamp <<< "$v")" -H "X-Ops-UserId: $(jq -r .user_id <<< "$v")"
        -H "X-Ops-Server-API-Version: 1" -H "Accept: application/json")
  while IFS= read -r h; do args+=(-H "$h"); done < <(jq -r '.headers | to_entries[] | "\(.key): \(.value)"' <<< "$v")
  body=$(jq -r .body <<< "$v")
  if [ -n "$body" ]; then args+=(-H "Content-Type: application/json" --data-binary "$body"); fi
  code=$(curl -s -o "$T/answer" -w '%{http_code}' -X "$(jq -r .method <<< "$v")" "${args[@]}" "$GOIARDI_URL$path")
  case "$code" in 2??) ;; *) cat "$T/answer" >&2; fail "vector $k ($(jq -r '.version + " " + .method + " " + .path' <<< "$v")) answered $code" ;; esac
  replayed=$((replayed + 1))
done
[ $replayed -ge 4 ] || fail "only $replayed vectors replayed"
# The same request with one byte of the body changed is refused: the server checks the hash.
v=$(jq -c '.vectors[] | select(.method == "POST")' "$V" | head -1)
args=(-H "X-Ops-Timestamp: $(jq -r .timestamp <<< "$v")" -H "X-Ops-UserId: sclman-test" -H "X-Ops-Server-API-Version: 1")
while IFS= read -r h; do args+=(-H "$h"); done < <(jq -r '.headers | to_entries[] | "\(.key): \(.value)"' <<< "$v")
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${args[@]}" -H "Content-Type: application/json" \
  --data-binary "$(jq -r .body <<< "$v" | sed 's/vector/vectoR/')" "$GOIARDI_URL$(jq -r .path <<< "$v")")
[ "$code" = 401 ] || fail "a changed body answered $code, expected 401"
pass "$replayed signing vectors (1.3 and 1.0) accepted by goiardi, a changed body refused"
goiardi_stop

# sclman with protocol 1.0 against a normal server (15 minutes of slew).
rm -rf "$T/goiardi"
goiardi_start "$T/goiardi"
chef_upload_roles
write_config
chef_config "sign_version = 1.0"
sc create-cluster old --web 1 --bootstrapper chef --balancer chef-search > /dev/null
[ "$(chef_search old)" = old-web-1 ] || fail "protocol 1.0: node not in service"
sc delete-cluster old > /dev/null
chef_exists /environments/old && fail "protocol 1.0: environment left behind"
pass "sclman works with sign_version = 1.0"
goiardi_stop

# Clock skew: a server that allows no slew at all refuses every timestamp as skewed.
GOIARDI_PORT=
goiardi_start "$T/goiardi-skew" --time-slew 1ns
write_config
chef_config
expect_exit 77 create-cluster skew --web 1 --bootstrapper chef --state "$DB"
grep -q "check this machine's clock" "$T/err" || { cat "$T/err"; fail "clock skew not named"; }
pass "clock skew: exit 77, the message tells the operator to check the clock"
