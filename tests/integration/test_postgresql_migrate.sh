#!/usr/bin/env bash
# sclman migrate-state: a running installation's state file (a local cluster with its history,
# decisions, journal, tokens and a receiver) copied into an empty PostgreSQL database: every
# table's rows arrive, the file is left byte for byte as it was, and with [STATE] url set the
# chain goes on with the same instances (the state's identity came along). A second copy into
# the same database, a file that is not one, and --from without sqlite: are refused, nothing
# changed.
. "$(dirname "$0")/lib.sh"
. "$SCLMAN_SOURCE_DIR/tests/support/postgresql.sh"
: "${SCLMAN_PG_DIR:?set SCLMAN_PG_DIR to the directory of the postgresql fixture}"
[ -s "$SCLMAN_PG_DIR/port" ] || fail "no PostgreSQL in $SCLMAN_PG_DIR (ctest's postgresql:start)"
PG_PORT=$(cat "$SCLMAN_PG_DIR/port")
db=migrate_$$
url=$(pg_createdb "$db")
q() { pg_psql "$db" -tAc "$1"; }

write_config
sc create-cluster shop --web 2 --min 2 --max 3 > /dev/null
sc create-cluster blog --web 1 --min 1 --max 2 > /dev/null
for k in 1 2 3; do chain; sleep 1; done
sc scale-out --cluster shop --to 3 > /dev/null
sc token create ops --role operator > /dev/null
sc receiver create am --kind alertmanager --cluster-label cluster --action scale_out --amount 1 > /dev/null 2>&1 \
  || sc receiver create am --kind json --cluster shop --action hold --amount 60 > /dev/null
[ "$(web_in_service shop)" = 3 ] || fail "shop did not reach 3"
tables="clusters instances load_samples decisions journal counters runs rejected_backends scale_in_victims rollouts tokens audit receivers deliveries holds"
for t in $tables; do echo "$t $(sqlite3 "$DB" "SELECT count(*) FROM $t")"; done > "$T/file-counts"
[ "$(awk '$1=="load_samples"{print $2}' "$T/file-counts")" -gt 0 ] || fail "no samples to copy"
sha256sum "$DB" > "$T/file.sum"
pass "a state file with 2 clusters, $(awk '$1=="instances"{print $2}' "$T/file-counts") instances and $(awk '$1=="load_samples"{print $2}' "$T/file-counts") samples"

"$SCLMAN" migrate-state --from "sqlite:$DB" --to "$url" --json > "$T/copied.json" 2> "$T/err" \
  || fail "migrate-state failed: $(cat "$T/err")"
for t in $tables; do echo "$t $(q "SELECT count(*) FROM $t")"; done > "$T/db-counts"
diff "$T/file-counts" "$T/db-counts" || fail "the database's rows differ from the file's"
for t in $tables; do
  [ "$(jq -r ".rows.$t" "$T/copied.json")" = "$(awk -v t=$t '$1==t{print $2}' "$T/file-counts")" ] \
    || fail "migrate-state reports $t as $(jq -r ".rows.$t" "$T/copied.json")"
done
sha256sum -c --quiet "$T/file.sum" || fail "migrate-state changed the state file"
[ "$(q "SELECT uuid FROM state_identity")" = "$(sqlite3 "$DB" "SELECT uuid FROM state_identity")" ] \
  || fail "the state's identity did not come along"
pass "migrate-state copied every table's rows ($(tr '\n' ' ' < "$T/db-counts")); the file is unchanged"

# The same installation on the database: the chain acts on the same local instances.
printf '[STATE]\npath = %s\nurl = %s\n' "$DB" "$url" >> "$SCLMAN_CONFIG"
mv "$DB" "$T/old.db"
[ "$(web_in_service shop)" = 3 ] || fail "status on the database does not show shop's 3 instances"
kill_nginx shop-web-1
for k in 1 2 3; do chain > /dev/null 2>&1; [ "$(web_in_service shop)" = 3 ] && [ -z "$(sc status --json | jq -r '.[] | select(.name=="shop") | .instances[] | select(.name=="shop-web-1" and .state=="in_service") | .name')" ] && break; sleep 1; done
[ "$(web_in_service shop)" = 3 ] || fail "the chain on the database did not replace the killed instance"
sc token list | grep -q "^ops " || fail "the token did not come along"
id_before=$(sqlite3 "$T/old.db" "SELECT max(id) FROM decisions")
[ "$(q "SELECT min(id) FROM decisions WHERE id > $id_before")" -gt "$id_before" ] || fail "new decision ids"
[ ! -e "$DB" ] || fail "a state file was made"
pass "with [STATE] url the chain replaced a killed instance of the copied state; new rows get new ids"

# Refused, nothing changed.
before=$(q "SELECT count(*) FROM instances")-$(q "SELECT count(*) FROM decisions")
expect_exit 64 migrate-state --from "sqlite:$T/old.db" --to "$url"
expect_one_line "the target database holds sclman state already (table 'clusters' has 2 rows)"
[ "$before" = "$(q "SELECT count(*) FROM instances")-$(q "SELECT count(*) FROM decisions")" ] || fail "a refused copy changed the database"
expect_exit 64 migrate-state --from "$T/old.db" --to "$url"
expect_one_line "--from must be sqlite:PATH"
expect_exit 64 migrate-state --from "sqlite:$T/nothing.db" --to "$url"
expect_one_line "no state file at"
head -c 4096 /dev/urandom > "$T/junk.db"
other=$(pg_createdb "${db}_2")
expect_exit 74 migrate-state --from "sqlite:$T/junk.db" --to "$other"
expect_one_line "is not an SQLite database"
[ "$(pg_psql "${db}_2" -tAc "SELECT to_regclass('clusters') IS NULL")" = t ] || fail "a refused copy made tables"
expect_exit 78 migrate-state --from "sqlite:$T/old.db" --to "postgresql://sclman:s3cret@127.0.0.1:$PG_PORT/${db}_2"
! grep -q s3cret "$T/err" || fail "the password is shown"
pass "a second copy (64), a path without sqlite: (64), a missing file (64), a file that is not SQLite (74), a URL with a password (78): refused, nothing changed"

sc delete-cluster shop > /dev/null
sc delete-cluster blog > /dev/null
pg_psql postgres -c "DROP DATABASE $db" -c "DROP DATABASE ${db}_2" > /dev/null
pass "deleted"
