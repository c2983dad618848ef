#!/usr/bin/env bash
# Bad input gets one clear line, the documented exit code, and the state as it was.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 1 > /dev/null
before=$(state_dump)

check_unchanged() {
  [ "$(state_dump)" = "$before" ] || fail "state changed after: $1"
}

# Cluster names that could inject into nginx config, file paths or cloud names.
for name in 'Shop' '1shop' 'shop;rm' 'a/b' '../etc' 'a b' 'shop_1' 'a.b' \
            'abcdefghijklmnopqrstuvwxyz012345' 'x}' 'x$(id)' $'a\nb'; do
  expect_exit 64 create-cluster "$name" --web 1 --state "$DB"
  expect_one_line "invalid cluster name"
  check_unchanged "create-cluster '$name'"
done
# An empty name or one that looks like an option never reaches the validator, but fails too.
expect_exit 64 create-cluster '' --web 1 --state "$DB"
expect_one_line "error"
expect_exit 64 create-cluster -shop --web 1 --state "$DB"
expect_one_line "error"
check_unchanged "empty or option-like name"
pass "invalid names rejected with 64"

expect_exit 64 create-cluster shop --web 1 --state "$DB"
expect_one_line "cluster 'shop' already exists"
check_unchanged "duplicate"
pass "duplicate name rejected with 64"

expect_exit 64 create-cluster other --web 0 --state "$DB"
expect_one_line "--web 0 must be at least 1"
check_unchanged "--web 0"
expect_exit 64 create-cluster other --web 2 --min 3 --max 2 --state "$DB"
expect_one_line "min 3 is greater than max 2"
check_unchanged "min > max"
expect_exit 64 create-cluster other --web 5 --min 1 --max 3 --state "$DB"
expect_one_line "--web 5 is outside [min 1, max 3]"
expect_exit 64 create-cluster other --state "$DB"
expect_one_line "--web is required"
expect_exit 64 create-cluster other --web many --state "$DB"
expect_one_line "error"
expect_exit 64 frobnicate --state "$DB"
expect_exit 64 delete-cluster nosuch --state "$DB"
expect_one_line "no cluster named 'nosuch'"
expect_exit 64 scale-out --cluster shop --to 99 --state "$DB"
expect_one_line "--to 99 is outside [min 1, max 10]"
check_unchanged "usage errors"
pass "bad arguments rejected with 64"

# A malformed config names the file, the line and the key.
cp "$SCLMAN_CONFIG" "$T/good.conf"
printf '[MANAGER]\nman_sensitivity = 2\nman_sensitivty = 3\n' > "$T/bad.conf"
chmod 600 "$T/bad.conf"
expect_exit 78 status --config "$T/bad.conf" --state "$DB"
expect_one_line "$T/bad.conf:3: unknown key 'man_sensitivty' in section [MANAGER]"
printf '[MANAGER]\nman_high_load = lots\n' > "$T/bad.conf"
expect_exit 78 decide --config "$T/bad.conf" --state "$DB"
expect_one_line "$T/bad.conf:2: key 'man_high_load': invalid value 'lots'"
printf '[MANAGER\n' > "$T/bad.conf"
SCLMAN_CONFIG=$T/bad.conf expect_exit 78 status --state "$DB"
expect_one_line "$T/bad.conf:1: malformed section header"
expect_exit 78 status --config "$T/missing.conf" --state "$DB"
expect_one_line "cannot read config file '$T/missing.conf'"
check_unchanged "config errors"
pass "bad config rejected with 78"

# A config others may read, or its group may change, is refused (it can hold passwords) with
# the chmod that fixes it; --insecure-perms (before or after the command) uses it, warning.
printf '[MANAGER]\nman_sensitivity = 2\n' > "$T/open.conf"
chmod 644 "$T/open.conf"
expect_exit 78 status --config "$T/open.conf" --state "$DB"
expect_one_line "permissions 0644 for config file '$T/open.conf' are too open: others may read it (chmod 640 $T/open.conf; --insecure-perms uses it anyway)"
chmod 660 "$T/open.conf"
SCLMAN_CONFIG=$T/open.conf expect_exit 78 status --state "$DB"
expect_one_line "permissions 0660 for config file '$T/open.conf' are too open: its group may change it (chmod 640 $T/open.conf; --insecure-perms uses it anyway)"
expect_exit 0 --insecure-perms status --config "$T/open.conf" --state "$DB"
grep -q "warning status file.insecure_perms path=$T/open.conf mode=0660" "$T/err" || { cat "$T/err"; fail "no warning"; }
expect_exit 0 status --config "$T/open.conf" --state "$DB" --insecure-perms --log-format json
jq -e 'select(.event == "file.insecure_perms") | .mode == "0660"' "$T/err" > /dev/null || { cat "$T/err"; fail "no JSON warning"; }
chmod 640 "$T/open.conf"
expect_exit 0 status --config "$T/open.conf" --state "$DB"
[ ! -s "$T/err" ] || { cat "$T/err"; fail "a 0640 config warned"; }
check_unchanged "open config"
pass "a config others may read is refused; --insecure-perms uses it with a warning"

# A missing nginx binary: exit 78 before anything is written.
printf '[LOCAL]\nnginx = /nonexistent/nginx\n' > "$T/nonginx.conf"
chmod 600 "$T/nonginx.conf"
expect_exit 78 create-cluster other --web 1 --config "$T/nonginx.conf" --state "$DB"
expect_one_line "cannot run nginx '/nonexistent/nginx'"
check_unchanged "missing nginx"
pass "missing nginx rejected with 78"

# A state file that is not SQLite, or has a newer schema: exit 74, file untouched.
echo "not a database" > "$T/junk.db"
cp "$T/junk.db" "$T/junk.orig"
expect_exit 74 status --state "$T/junk.db"
expect_one_line "is not an SQLite database"
expect_exit 74 create-cluster x --web 1 --state "$T/junk.db"
cmp -s "$T/junk.db" "$T/junk.orig" || fail "junk state file was modified"
sqlite3 "$T/newer.db" "CREATE TABLE t(x); PRAGMA user_version = 99;"
cp "$T/newer.db" "$T/newer.orig"
expect_exit 74 poll-load --state "$T/newer.db"
expect_one_line "has schema version 99, newer than this sclman's"
cmp -s "$T/newer.db" "$T/newer.orig" || fail "newer state file was modified"
[ ! -e "$T/newer.db-wal" ] || fail "newer state file got a WAL"
mkdir "$T/adir"
expect_exit 74 status --state "$T/adir"
expect_one_line "is not a regular file"
pass "bad state files rejected with 74 and left untouched"

# A held lock: 75 naming the holder, or 0 under --cron.
sqlite3 "$DB" "INSERT INTO locks (name, pid, host, acquired_at) VALUES ('cluster:shop', $$, '$(hostname)', $(date +%s)000)"
expect_exit 75 scale-out --state "$DB"
expect_one_line "cluster lock 'cluster:shop' is held by pid $$"
expect_exit 0 scale-out --cron --state "$DB"
[ ! -s "$T/err" ] || fail "--cron printed on a held lock: $(cat "$T/err")"
sqlite3 "$DB" "DELETE FROM locks"
pass "held lock gives 75, or 0 under --cron"

# The man page documents every exit code the tests assert.
for code in 0 64 70 74 75 76 77 78; do
  grep -A1 '^\.TP' "$SCLMAN_SOURCE_DIR/man/sclman.1" | grep -x "\.B $code" > /dev/null \
    || fail "man/sclman.1 does not document exit code $code"
done
pass "exit codes documented in man/sclman.1"
