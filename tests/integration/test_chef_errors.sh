#!/usr/bin/env bash
# Chef errors the real server gives, and what sclman does with them: a key file others may read
# (78), a wrong key (401 -> 77), a half-done create-cluster re-run (409 on client and node ->
# finishes it), the server down and the server hung (transient: retried with backoff within the
# run's deadline, then 75; the next run after it is back succeeds).
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/goiardi.sh"
trap 'rc=$?; goiardi_stop; cleanup $rc' EXIT

goiardi_start "$T/goiardi"
chef_upload_roles
write_config "man_run_deadline = 4"
chef_config

CREATE=(create-cluster shop --web 1 --min 1 --max 3 --bootstrapper chef --balancer chef-search)

# A key file others may read is refused before anything is sent.
cp "$GOIARDI_DIR/admin.pem" "$T/open.pem"
chmod 644 "$T/open.pem"
sed -i "s|^client_key = .*|client_key = $T/open.pem|" "$SCLMAN_CONFIG"
expect_exit 78 "${CREATE[@]}" --state "$DB"
grep -q "permissions 0644 for chef key '$T/open.pem' are too open" "$T/err" || { cat "$T/err"; fail "open key not refused"; }
pass "a key file readable by others: exit 78"

# A key that is not the client's: 401, exit 77, and no key material in the output.
cp "$GOIARDI_DIR/chef-webui.pem" "$T/wrong.pem"
chmod 600 "$T/wrong.pem"
sed -i "s|^client_key = .*|client_key = $T/wrong.pem|" "$SCLMAN_CONFIG"
expect_exit 77 "${CREATE[@]}" --state "$DB"
grep -q "chef server refused the signature of 'admin'" "$T/err" || { cat "$T/err"; fail "bad key not named"; }
grep -q "PRIVATE KEY" "$T/err" "$T/out" && fail "key material in the output"
[ -z "$(sqlite3 "$DB" "SELECT name FROM clusters")" ] || fail "a refused create-cluster left a cluster row"
pass "a wrong key: 401, exit 77, nothing created"
# --insecure-perms: the same key readable by others is used (and refused by the server), with
# a warning naming the file.
chmod 644 "$T/wrong.pem"
expect_exit 77 "${CREATE[@]}" --state "$DB" --insecure-perms
grep -q "file.insecure_perms path=$T/wrong.pem mode=0644" "$T/err" || { cat "$T/err"; fail "no warning for the open key"; }
grep -q "chef server refused the signature of 'admin'" "$T/err" || { cat "$T/err"; fail "--insecure-perms did not use the key"; }
pass "--insecure-perms uses an open key, with a warning"
sed -i "s|^client_key = .*|client_key = $GOIARDI_DIR/admin.pem|" "$SCLMAN_CONFIG"

# Half-done create-cluster: killed after the LB's Chef client and node were made but before its
# server was; the re-run meets 409 on both, renews the client key and finishes.
rc=0
SCLMAN_FAILPOINTS=create_server.before "$SCLMAN" "${CREATE[@]}" --state "$DB" > /dev/null 2>&1 || rc=$?
[ $rc = 137 ] || fail "failpoint did not kill create-cluster (exit $rc)"
chef_exists /clients/shop-lb-1 || fail "the killed run made no client"
chef_exists /nodes/shop-lb-1 || fail "the killed run made no node"
sc "${CREATE[@]}" > /dev/null 2> "$T/resume.err" || { cat "$T/resume.err"; fail "re-run did not finish"; }
grep -q "chef.client_key_renewed cluster=shop client=shop-lb-1" "$T/resume.err" || { cat "$T/resume.err"; fail "409 on the client not handled"; }
[ "$(chef_search shop)" = shop-web-1 ] || fail "re-run did not bring shop-web-1 into service"
[ "$(sqlite3 "$DB" "SELECT status FROM clusters WHERE name='shop'")" = active ] || fail "cluster not active"
pass "a half-done create-cluster re-run: 409s handled, finished"

# The server down: connection refused, retried with backoff until the 4 s deadline, exit 75.
goiardi_stop
start=$(date +%s%N)
expect_exit 75 scale-out --cluster shop --to 2 --state "$DB"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "cannot reach chef server" "$T/err" || { cat "$T/err"; fail "server down not named"; }
[ "$(grep -c "chef.retry" "$T/err")" -ge 2 ] || { cat "$T/err"; fail "no retries with backoff"; }
[ $ms -ge 3000 ] && [ $ms -le 9000 ] || fail "down: took $ms ms, expected about the 4 s deadline"
pass "server down: retried with backoff, exit 75 after $ms ms"

# The failed manual --to changed nothing durable but a failed decision (issue 13).
[ "$(sqlite3 "$DB" "SELECT desired FROM clusters WHERE name='shop'")" = 1 ] \
  || fail "the failed scale-out --to 2 stored desired $(sqlite3 "$DB" "SELECT desired FROM clusters WHERE name='shop'")"
[ "$(sqlite3 "$DB" "SELECT status FROM decisions ORDER BY id DESC LIMIT 1")" = failed ] \
  || fail "the failed scale-out --to 2 left no failed decision"
# Back up (same data): the command run again finishes the scale-out.
goiardi_start "$T/goiardi"
sc scale-out --cluster shop --to 2 > /dev/null
serving=$(sqlite3 "$DB" "SELECT name FROM instances WHERE role='web' AND state='in_service' ORDER BY name" | tr '\n' ' ')
[ "$(echo $serving | wc -w)" = 2 ] || fail "scale-out --to 2 after the server came back: in service $serving"
[ "$(chef_search shop) " = "$serving" ] || fail "scale-out not finished after the server came back: $(chef_search shop)"
pass "server back: the next run finishes"

# The server hung (stopped): each request times out; exit 75 within the deadline.
sed -i 's/^request_timeout_ms = .*/request_timeout_ms = 1000/' "$SCLMAN_CONFIG"
kill -STOP "$GOIARDI_PID"
start=$(date +%s%N)
expect_exit 75 scale-in --cluster shop --to 1 --state "$DB"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill -CONT "$GOIARDI_PID"
grep -qi "timeout\|timed out" "$T/err" || { cat "$T/err"; fail "timeouts not reported"; }
[ $ms -le 9000 ] || fail "hung: took $ms ms, expected about the 4 s deadline"
pass "server hung: timeouts retried, exit 75 after $ms ms"
sc scale-in --cluster shop --to 1 --wait > /dev/null 2>&1 || sc scale-in --cluster shop --wait > /dev/null
[ "$(chef_search shop)" = "shop-web-1" ] || fail "scale-in not finished after the server recovered"

sc delete-cluster shop > /dev/null
chef_exists /environments/shop && fail "environment left behind"
pass "deleted"
