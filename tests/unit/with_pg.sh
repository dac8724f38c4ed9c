#!/usr/bin/env bash
# Runs a store unit test against PostgreSQL instead of SQLite (issue 25): a private PostgreSQL for the run
# (tests/integration/pg_lib.sh), its URL in IOTCA_TEST_PG_URL (tests/unit/store_fixture.h reads it), then the
# test binary given as arguments; the server stops whatever the test does.
set -euo pipefail
# shellcheck source=tests/integration/pg_lib.sh
source "$(dirname "$0")/../integration/pg_lib.sh"
trap stop_pg EXIT
start_pg
export IOTCA_TEST_PG_URL=$PG_URL
"$@"
# the test must really have run on PostgreSQL (a test whose fixture ignores IOTCA_TEST_PG_URL would pass on SQLite
# alone): its last fixture migrated this database
v=$(pg_sql "SELECT version FROM schema_version" 2>/dev/null || true)
[ -n "$v" ] || { echo "FAIL - $(basename "$1") did not use the PostgreSQL database (no schema_version there)" >&2; exit 1; }
echo "ran on PostgreSQL (schema version $v)"
