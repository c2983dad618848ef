#!/usr/bin/env bash
# The pages of sclman serve in Chromium (Selenium) against a real local cluster: sign in with a
# token, the clusters and cluster pages, a resize now and one as an intent that the chain
# carries out, a size outside [min, max], a cluster created from the form that comes into
# service, its policy changed, a member removed and one replaced, the dashboard's charts,
# deleted by an admin once its name is typed, a forged form from
# another page (refused by its missing CSRF field, and audited), sign out, a viewer without
# actions. Screenshots are kept in
# the test artifacts.
. "$(dirname "$0")/lib.sh"
write_config "man_drain_seconds = 1"
command -v chromedriver > /dev/null && /usr/bin/python3 -c 'import selenium' 2> /dev/null || {
  [ "${CI:-}" != true ] || fail "chromium-driver or python3-selenium missing on CI"
  echo "SKIPPED LOUDLY: no chromium-driver or python3-selenium" >&2; exit 77; }
ARTIFACTS=${SCLMAN_ARTIFACTS:-$T/artifacts}
mkdir -p "$ARTIFACTS"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port); EVIL=$(free_port)

sc create-cluster shop --web 2 --min 1 --max 4 > /dev/null
OPERATOR=$(sc token create ops --role operator)
VIEWER=$(sc token create watcher --role viewer)
ADMIN=$(sc token create boss --role admin)
"$SCLMAN" serve --state "$DB" --listen "127.0.0.1:$PORT" > /dev/null 2> "$T/serve.log" &
SERVICE_PIDS+=($!)
# Another site's page with a form that posts to this server.
mkdir -p "$T/evil"
cat > "$T/evil/index.html" <<HTML
<!doctype html><form method="post" action="http://127.0.0.1:$PORT/ui/clusters/shop/resize">
<input type="hidden" name="to" value="4"><input type="hidden" name="now" value="1">
<button id="go">Win a prize</button></form>
HTML
(cd "$T/evil" && exec python3 -m http.server --bind 127.0.0.1 "$EVIL") > /dev/null 2>&1 &
SERVICE_PIDS+=($!)
for _ in $(seq 600); do grep -q serve.listening "$T/serve.log" && curl -fsS "http://127.0.0.1:$EVIL/" > /dev/null 2>&1 && break; sleep 0.05; done

timeout 300 /usr/bin/python3 "$SCLMAN_SOURCE_DIR/tests/support/serve_ui.py" --url "http://127.0.0.1:$PORT" \
  --operator "$OPERATOR" --viewer "$VIEWER" --admin "$ADMIN" --evil "http://127.0.0.1:$EVIL/" --shots "$ARTIFACTS" \
  || { tail -20 "$T/serve.log" >&2; fail "the browser test failed (screenshot in $ARTIFACTS)"; }

desired() { sqlite3 "$DB" "SELECT desired FROM clusters WHERE name = 'shop'"; }
[ "$(desired)" = 3 ] || fail "desired $(desired) after the pages' resizes (3 now, 2 pending)"
sc scale-in --wait > /dev/null
[ "$(desired)" = 2 ] && [ "$(web_in_service shop)" = 2 ] || fail "the chain did not carry out the page's intent"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE token = 'ops' AND status = 403 AND detail = 'CSRF check failed'")" = 1 ] \
  || fail "the forged form is not in the audit log: $(sqlite3 "$DB" "SELECT * FROM audit")"
[ "$(sqlite3 "$DB" "SELECT status FROM clusters WHERE name = 'blog'")" = deleted ] || fail "blog was not deleted"
[ ! -e "$T/instances/blog-lb-1" ] || fail "blog's LB was left on disk"
[ "$(sqlite3 "$DB" "SELECT instance || ':' || status FROM rollouts")" = "blog-web-2:cancelled" ] \
  || fail "the page's replacement of blog-web-2: $(sqlite3 "$DB" "SELECT * FROM rollouts")"
for t in "$OPERATOR" "$VIEWER" "$ADMIN"; do
  ! grep -qF "$t" "$T/serve.log" || fail "a token is in the server's log"
done
pass "pages in Chromium: sign in, resize now and as an intent (carried out by the chain), create a cluster, change its policy, remove and replace a member, delete it (name typed), CSRF refused and audited; screenshots in $ARTIFACTS"
