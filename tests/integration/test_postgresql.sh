#!/usr/bin/env bash
# The chain on a PostgreSQL state ([STATE] url, the password in [STATE] password_file), on the
# server of ctest's postgresql fixture (tests/support/postgresql.sh): a cluster grows under load
# and shrinks back, every row is in the database and no state file is made; a URL holding a
# password, a password file others may read, a wrong password, a server that is down and a
# database with a newer schema are each refused with their exit code, nothing changed, and no
# password in any output.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/postgresql.sh"
: "${SCLMAN_PG_DIR:?set SCLMAN_PG_DIR to the directory of the postgresql fixture}"
[ -s "$SCLMAN_PG_DIR/port" ] || fail "no PostgreSQL in $SCLMAN_PG_DIR (ctest's postgresql:start)"
PG_PORT=$(cat "$SCLMAN_PG_DIR/port")
password=$(cat "$SCLMAN_PG_DIR/password")
db=chain_$$
pg_createdb "$db" sclman_pw > /dev/null
q() { pg_psql "$db" -tAc "$1"; }

write_config
install -m 600 /dev/null "$T/db-password"
echo "$password" > "$T/db-password"
state_section() {
  printf '[STATE]\npath = %s\nurl = %s\npassword_file = %s\n' "$DB" "$1" "$2" >> "$SCLMAN_CONFIG"
}
url="host=127.0.0.1 port=$PG_PORT dbname=$db user=sclman_pw"
state_section "$url" "$T/db-password"
cp "$SCLMAN_CONFIG" "$T/good.conf"

sc create-cluster shop --web 2 --min 2 --max 3 > /dev/null
[ "$(web_in_service shop)" = 2 ] || fail "cluster did not start with 2 web instances"
[ ! -e "$DB" ] || fail "a state file was made beside the database: $(ls -l "$DB")"
[ "$(q "SELECT count(*) FROM instances WHERE state = 'in_service'")" = 3 ] \
  || fail "the database does not hold the LB and 2 web instances: $(q 'SELECT name, state FROM instances')"
[ "$(q "SELECT version FROM sclman_schema")" = "$("$SCLMAN" --version | sed 's/.*state schema \([0-9]*\).*/\1/')" ] \
  || fail "schema version"
LB=$(lb_address shop)
curl -fsS "http://$LB/" | grep -q "sclman web instance shop-web-" || fail "LB does not serve"
pass "created shop in PostgreSQL ($url, password from a file) with 2 web instances behind $LB"

"$SCLMAN_LOADGEN" --url "http://$LB/" --concurrency 4 --rate 1200 --duration 900 > "$T/load1.json" &
LOADGEN_PIDS+=($!)
grown=0
for tick in $(seq 1 30); do
  chain
  if [ "$(web_in_service shop)" = 3 ]; then grown=1; break; fi
  sleep 1
done
[ $grown = 1 ] || fail "cluster did not grow to 3 under load"
serves_through "$LB" shop-web-3
kill -INT "${LOADGEN_PIDS[0]}"
wait "${LOADGEN_PIDS[0]}" || true
[ "$(jq .errors "$T/load1.json")" = 0 ] || fail "failed requests while growing: $(cat "$T/load1.json")"
pass "grew to 3 after $tick ticks, shop-web-3 serves, no failed request"

shrunk=0
for tick in $(seq 1 40); do
  chain
  if [ "$(web_in_service shop)" = 2 ] \
     && [ "$(status_q '[.[0].instances[] | select(.state=="draining" or .state=="deleting")] | length')" = 0 ]; then
    shrunk=1; break
  fi
  sleep 1
done
[ $shrunk = 1 ] || fail "cluster did not shrink back to 2"
[ "$(q "SELECT name FROM instances WHERE role = 'web' AND state = 'gone'")" = shop-web-3 ] \
  || fail "the victim in the database: $(q "SELECT name, state FROM instances")"
[ "$(q "SELECT count(*) FROM decisions WHERE action = 'scale_out' AND status = 'done' AND reason = 'load_above_high'")" -ge 1 ] \
  && [ "$(q "SELECT count(*) FROM decisions WHERE action = 'scale_in' AND status = 'done'")" -ge 1 ] \
  || fail "the done decisions are not in the database"
[ "$(q "SELECT count(*) FROM load_samples")" -gt 0 ] || fail "no load samples in the database"
[ "$(q "SELECT count(*) FROM journal WHERE status = 'pending'")" = 0 ] || fail "pending intents left"
[ "$(q "SELECT count(*) FROM runs WHERE exit_code = 0")" -ge 5 ] || fail "the chain's runs are not recorded"
[ ! -e "$DB" ] || fail "a state file was made"
pass "shrank to 2 after $tick ticks; decisions, samples, journal and runs are in the database"

sc why shop > "$T/why.out" || fail "why failed: $(cat "$T/why.out")"
grep -q "scale_in" "$T/why.out" || fail "why does not show the scale-in: $(cat "$T/why.out")"
sc report --output "$T/www" > /dev/null || fail "report failed"
[ -s "$T/www/index.html" ] || fail "report wrote no page"
pass "why and report read the database"

# What is refused, with nothing changed. The dump is every table's rows, in order.
dump() { pg_psql "$db" -tAc "SELECT string_agg(t::text, '|' ORDER BY t::text) FROM (SELECT * FROM instances) t" ; q "SELECT count(*), max(id) FROM decisions"; q "SELECT count(*) FROM journal"; }
dump > "$T/before"
no_password() {
  ! grep -qF -- "$password" "$T/out" "$T/err" || fail "the password is in the output of $1: $(cat "$T/err")"
  ! grep -qF -- "s3cret" "$T/out" "$T/err" || fail "the URL's password is in the output of $1: $(cat "$T/err")"
}

write_config
state_section "postgresql://sclman_pw:s3cret@127.0.0.1:$PG_PORT/$db" "$T/db-password"
expect_exit 78 status --state "$DB"
expect_one_line "[STATE] url holds a password"
no_password "a URL with a password"
pass "a URL holding a password: exit 78, not shown"

write_config
state_section "$url" "$T/db-password"
chmod 644 "$T/db-password"
expect_exit 78 status --state "$DB"
grep -q "password_file" "$T/err" || fail "the error does not name the password file: $(cat "$T/err")"
no_password "a password file others may read"
chmod 600 "$T/db-password"
pass "a password file others may read: exit 78"

install -m 600 /dev/null "$T/wrong-password"
echo "not-$password" > "$T/wrong-password"
write_config
state_section "$url" "$T/wrong-password"
expect_exit 77 scale-out --cluster shop --to 3 --state "$DB"
expect_one_line "cannot connect to state database '$db' on 127.0.0.1:$PG_PORT as sclman_pw"
! grep -qF -- "not-$password" "$T/err" || fail "the wrong password is shown"
pass "a wrong password: exit 77, the database named, the password not shown"

write_config
state_section "host=127.0.0.1 port=1 dbname=$db user=sclman_pw" "$T/db-password"
expect_exit 75 scale-out --cluster shop --to 3 --state "$DB"
expect_one_line "cannot connect to state database '$db' on 127.0.0.1:1"
no_password "a server that is down"
pass "a server that does not answer: exit 75 (the next tick may find it)"

cp "$T/good.conf" "$SCLMAN_CONFIG"
q "UPDATE sclman_schema SET version = 999" > /dev/null
expect_exit 74 scale-out --cluster shop --to 3 --state "$DB"
expect_one_line "has schema version 999, newer than this sclman's"
q "UPDATE sclman_schema SET version = $("$SCLMAN" --version | sed 's/.*state schema \([0-9]*\).*/\1/')" > /dev/null
dump > "$T/after"
cmp -s "$T/before" "$T/after" || fail "a refused command changed the database: $(diff "$T/before" "$T/after")"
[ ! -e "$DB" ] || fail "a refused command made a state file"
pass "a newer schema: exit 74; after every refusal the database is as it was"

sc delete-cluster shop > /dev/null
[ -z "$(ls "$T/instances")" ] || fail "delete-cluster left directories: $(ls "$T/instances")"
[ "$(q "SELECT status FROM clusters WHERE name = 'shop'")" = deleted ] || fail "cluster not deleted in the database"
pg_psql postgres -c "DROP DATABASE $db" > /dev/null
pass "deleted"
