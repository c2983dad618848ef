#!/usr/bin/env bash
# A create-cluster run that fails part way (a failpoint that fails the third create, after the
# LB and one web instance are up) ends with exit 75 and the cluster 'failed': everything it made
# (LB process and directory, web instances) is removed, or with --keep-failed kept and shown by
# status. create-cluster again retries a failed cluster; delete-cluster removes a kept one.
. "$(dirname "$0")/lib.sh"
write_config

# Instances of cluster $1 that the state holds as not gone.
live() { sqlite3 "$DB" "SELECT count(*) FROM instances i JOIN clusters c ON c.id = i.cluster_id
                       WHERE c.name = '$1' AND c.status != 'deleted' AND i.state != 'gone'"; }
status_of() { sqlite3 "$DB" "SELECT status FROM clusters WHERE name = '$1' AND status != 'deleted'"; }
# nginx processes running from a directory of cluster $1.
running() {
  local n=0 pidfile pid
  for pidfile in "$T"/instances/"$1"-*/logs/nginx.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && n=$((n + 1))
  done
  echo $n
}

rc=0
SCLMAN_FAILPOINTS=create_server.before=transient@3 sc create-cluster shop --web 2 \
  > "$T/out" 2> "$T/err" || rc=$?
[ "$rc" = 75 ] || { cat "$T/err" >&2; fail "a failed create-cluster exited $rc, not 75"; }
grep -q "cannot create cluster 'shop': failpoint 'create_server.before'" "$T/err" \
  || fail "no clear message: $(cat "$T/err")"
grep -q "instance.in_service cluster=shop instance=shop-lb-1" "$T/err" \
  || fail "the LB never came up: the failure was not part way"
[ "$(status_of shop)" = failed ] || fail "shop is '$(status_of shop)', not failed"
[ "$(live shop)" = 0 ] || fail "$(live shop) instances of shop are left"
[ "$(running shop)" = 0 ] || fail "$(running shop) nginx processes of shop are left"
[ -z "$(ls "$T/instances" 2>/dev/null | grep '^shop-' || true)" ] || fail "directories left: $(ls "$T/instances")"
sc status --json | jq -e '.[] | select(.name=="shop") | .status == "failed"' > /dev/null \
  || fail "status does not show shop failed"
pass "a create-cluster that failed part way exited 75, shop is failed, nothing of it left"

# Nothing else acts on a failed cluster; create-cluster again retries it.
sc scale-out --cron > /dev/null 2>&1
[ "$(live shop)" = 0 ] || fail "scale-out acted on a failed cluster"
sc create-cluster shop --web 2 > /dev/null 2> "$T/err" || { cat "$T/err" >&2; fail "create-cluster did not retry a failed cluster"; }
[ "$(status_of shop)" = active ] && [ "$(web_in_service shop)" = 2 ] || fail "the retry left shop $(status_of shop)"
curl -fsS "http://$(lb_address shop)/" > /dev/null || fail "the retried cluster does not serve"
pass "create-cluster again made the failed shop active"

# --keep-failed keeps what the run made, shown by status; delete-cluster removes it.
rc=0
SCLMAN_FAILPOINTS=create_server.before=transient@3 sc create-cluster cafe --web 2 --keep-failed \
  > /dev/null 2> "$T/err" || rc=$?
[ "$rc" = 75 ] || { cat "$T/err" >&2; fail "a failed create-cluster --keep-failed exited $rc, not 75"; }
[ "$(status_of cafe)" = failed ] || fail "cafe is '$(status_of cafe)', not failed"
[ "$(running cafe)" = 2 ] || fail "--keep-failed left $(running cafe) nginx processes, not the LB and one web"
sc status --json | jq -e '.[] | select(.name=="cafe") | .status == "failed"
                       and ([.instances[] | select(.state=="in_service")] | length == 2)' > /dev/null \
  || fail "status does not show cafe failed with what it kept"
sc delete-cluster cafe > /dev/null 2> "$T/err" || { cat "$T/err" >&2; fail "delete-cluster of a failed cluster"; }
[ "$(running cafe)" = 0 ] && [ -z "$(status_of cafe)" ] || fail "delete-cluster left cafe"
pass "--keep-failed kept the LB and web instance it made, shown by status; delete-cluster removed them"
