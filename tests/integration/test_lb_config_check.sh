#!/usr/bin/env bash
# Every LB reload is preceded by `nginx -t` on the candidate config: when nginx refuses it, the
# running config and upstream.conf stay as they are, the error is logged with the cluster, no
# candidate file is left, the LB keeps serving, and the next run applies the list.
. "$(dirname "$0")/lib.sh"
trap 'cleanup $?' EXIT

write_config
sc create-cluster shop --web 1 --min 1 --max 3 > /dev/null
CONF=$T/instances/shop-lb-1/conf
before=$(cat "$CONF/upstream.conf")
curl -fsS "http://$(lb_address shop)/" | grep -q "sclman web instance shop-web-1 " || fail "LB does not serve"

# Break the LB's nginx.conf on disk (the running master keeps what it loaded).
echo "this_is_not_a_directive;" >> "$CONF/nginx.conf"
rc=0
sc scale-out --cluster shop --to 2 > /dev/null 2> "$T/err" || rc=$?
[ "$rc" != 0 ] || fail "scale-out exited 0 although the LB config was refused"
grep -q "lb.config_rejected cluster=shop lb=shop-lb-1 error=" "$T/err" \
  || { cat "$T/err"; fail "no error naming the cluster"; }
[ "$(cat "$CONF/upstream.conf")" = "$before" ] || fail "upstream.conf changed although nginx -t failed"
[ -e "$CONF/upstream.conf.new" ] && fail "candidate upstream.conf.new left behind"
curl -fsS "http://$(lb_address shop)/" | grep -q "sclman web instance shop-web-1 " \
  || fail "LB stopped serving after a refused config"
pass "refused config: upstream.conf kept, error logged with the cluster, LB still serves"

# The failed manual --to stored nothing but a failed decision (issue 13); once the config is
# fixed, the command run again applies the list.
[ "$(sqlite3 "$DB" "SELECT desired FROM clusters WHERE name='shop'")" = 1 ] || fail "the failed --to 2 was stored"
sed -i '/this_is_not_a_directive;/d' "$CONF/nginx.conf"
sc scale-out --cluster shop --to 2 > /dev/null 2> "$T/err" || { cat "$T/err"; fail "scale-out after the fix"; }
[ "$(awk '$1=="server"' "$CONF/upstream.conf" | wc -l)" = 2 ] || { cat "$CONF/upstream.conf"; fail "fixed config not applied"; }
pass "fixed config applied on the next run"
sc delete-cluster shop > /dev/null
