#!/usr/bin/env bash
# with_postgresql.sh DIR COMMAND...: run COMMAND with SCLMAN_TEST_POSTGRESQL set to the
# connection string of the server ctest's postgresql fixture started in DIR
# (tests/support/postgresql.sh start DIR). Fails when there is none: a test meant to run on
# PostgreSQL must not pass on SQLite instead.
set -euo pipefail
dir=$1
shift
if [ ! -s "$dir/url" ]; then
  echo "with_postgresql.sh: no PostgreSQL in $dir (ctest's postgresql:start did not run?)" >&2
  exit 1
fi
SCLMAN_TEST_POSTGRESQL=$(cat "$dir/url")
export SCLMAN_TEST_POSTGRESQL
exec "$@"
