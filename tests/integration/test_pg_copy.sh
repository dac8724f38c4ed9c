#!/usr/bin/env bash
# `iotcad db copy` (issue 25): a SQLite deployment moved to PostgreSQL. A CA made the real way (the iotca-root
# ceremony, iotcad on SQLite, certificates issued with curl, one revoked, a trust profile, an ACME EAB key and
# nonce, the tick's CRL and OCSP answers) is stopped and copied into a private PostgreSQL (pg_lib.sh): every table's count there equals sqlite3's,
# and `iotcad audit verify` on a config pointing at PostgreSQL finds the same hash chain, head included. Refusals:
# a second copy into the now non-empty target (exit 1 naming the table; nothing changes), a --from that is missing
# or not an iotca database, a --to that is a file path, an unknown or missing flag (exit 2); a password in the
# target's URL is never printed.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"
# shellcheck source=tests/integration/pg_lib.sh
source "$HERE/pg_lib.sh"
trap 'stop_pg; cleanup' EXIT
command -v sqlite3 >/dev/null || die "sqlite3 is missing"

# run CMD...: its exit status in RC, stdout in run.out, stderr in run.err
run() { RC=0; "$@" >run.out 2>run.err || RC=$?; }
serial() { openssl x509 -in "$1.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'; }
# the tables of the SQLite database, SQLite's own aside
tables() { sqlite3 "$WORK/iotca.db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"; }
# counts_of SOURCE: "table rows" lines, from sqlite3 (SOURCE sqlite) or psql (SOURCE pg)
counts_of() {
  local t
  for t in $(tables); do
    if [ "$1" = sqlite ]; then echo "$t $(sql "SELECT count(*) FROM \"$t\"")"; else echo "$t $(pg_sql "SELECT count(*) FROM \"$t\"")"; fi
  done
}

# ---- a SQLite deployment, made and used the real way ------------------------------------------------------------
start_ca '.base_url = "http://127.0.0.1:\(.listen.port)" | .acme = {profiles: {"firmware-endpoint": {}}}'
new_issuer int1
issue_and_verify dev1 "issue dev1"
issue_and_verify dev2 "issue dev2"
issue_and_verify dev3 "issue dev3"
http POST "/v1/certificates/$(serial dev2)/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"keyCompromise"}'
expect 200 "" "revoke dev2"
UNTIL=$(date -u -d '+700 days' +%Y-%m-%d)
http POST /v1/trust-profiles -H "Authorization: Bearer $ADMIN" \
  -d "$(jq -n --rawfile p roots.pem --arg u "$UNTIL" '{name: "fleet", pem: $p, until: $u, stack: "openssl"}')"
expect 201 "" "register the trust profile fleet"
"$IOTCAD" acme eab create --config iotcad.json --profile firmware-endpoint > eab.txt || die "eab create: $(cat eab.txt)"
curl -sf -o /dev/null "$BASE/acme/firmware-endpoint/new-nonce" || die "GET new-nonce"
# the tick's CRL of the revocation and the OCSP answers of the new certificates
for _ in $(seq 1 100); do
  [ "$(sql "SELECT count(*) FROM crls WHERE covers >= 1")" = 1 ] && [ "$(sql "SELECT count(*) FROM ocsp_responses")" -ge 3 ] && break
  sleep 0.2
done
[ "$(sql "SELECT count(*) FROM crls WHERE covers >= 1")" = 1 ] || die "the tick made no CRL covering the revocation"
stop_clean
run "$IOTCAD" audit verify --config iotcad.json
[ "$RC" = 0 ] || die "audit verify on SQLite: $(cat run.err)"
sqlite_head=$(sed -n 's/.*head \([0-9a-f]*\).*/\1/p' run.out)
empty=$(awk '$2 == 0 { print $1 }' <(counts_of sqlite) | paste -sd' ')
ok "a SQLite deployment: $(tables | wc -l) tables, $(sql "SELECT count(*) FROM certificates") certificates (one revoked), $(sql "SELECT count(*) FROM audit") audit records (head ${sqlite_head:0:16}...); empty tables: ${empty:-none}"

# ---- the copy -----------------------------------------------------------------------------------------------------
start_pg
run "$IOTCAD" db copy --from "$WORK/iotca.db" --to "$PG_URL"
[ "$RC" = 0 ] || die "db copy: exit $RC: $(cat run.err)"
cat run.out
counts_of sqlite > sqlite.counts
counts_of pg > pg.counts
diff sqlite.counts pg.counts > counts.diff || die "the counts differ (< SQLite, > PostgreSQL): $(cat counts.diff)"
total=$(awk '{ n += $2 } END { print n }' sqlite.counts)
grep -q "^total  *$total\$" run.out || die "the report's total is not the $total rows sqlite3 counts"
for t in $(tables); do
  grep -q "^$t  *$(awk -v t="$t" '$1 == t { print $2 }' sqlite.counts)\$" run.out || die "the report's line for $t"
done
ok "db copy: every table's count on PostgreSQL is sqlite3's ($(wc -l < sqlite.counts) tables, $total rows), as the report says"

[ "$(pg_sql "SELECT encode(der, 'hex') FROM certificates WHERE serial = '$(serial dev1)'")" = \
  "$(sql "SELECT hex(der) FROM certificates WHERE serial = '$(serial dev1)'" | tr 'A-F' 'a-f')" ] ||
  die "dev1's DER differs on PostgreSQL"
[ "$(pg_sql "SELECT status || ' ' || reason FROM certificates WHERE serial = '$(serial dev2)'")" = "revoked 1" ] ||
  die "dev2 is not revoked (keyCompromise) on PostgreSQL"
[ "$(pg_sql "SELECT string_agg(rowid::text, ',' ORDER BY rowid) FROM certificates")" = \
  "$(sql "SELECT group_concat(rowid, ',') FROM (SELECT rowid FROM certificates ORDER BY rowid)")" ] ||
  die "certificates.rowid on PostgreSQL is not SQLite's rowid"
ok "values: dev1's DER byte for byte, dev2 revoked with its reason, certificates.rowid SQLite's rowids"

jq --arg db "$PG_URL" '.database = $db' iotcad.json > pg.json
run "$IOTCAD" audit verify --config pg.json
[ "$RC" = 0 ] || die "audit verify on PostgreSQL: exit $RC: $(cat run.err)"
grep -q "audit trail ok: $(sql "SELECT count(*) FROM audit") records, head $sqlite_head" run.out ||
  die "audit verify on PostgreSQL: $(cat run.out)"
ok "iotcad audit verify on the PostgreSQL copy: $(cat run.out)"

# ---- refusals -----------------------------------------------------------------------------------------------------
cp pg.counts before.counts
secret_url="postgresql://iotca:s3cret-pw@127.0.0.1:$PG_PORT/iotca"
run "$IOTCAD" db copy --from "$WORK/iotca.db" --to "$secret_url"
[ "$RC" = 1 ] || die "a second copy into the same database: exit $RC, expected 1"
grep -q "^iotcad: the target database is not empty: table [a-z_]* has [0-9]* rows\?" run.err ||
  die "a second copy: unclear refusal: $(cat run.err)"
counts_of pg > after.counts
diff before.counts after.counts >/dev/null || die "a refused copy changed the target"
! grep -q "s3cret-pw" run.out run.err || die "the target's password was printed"
ok "a second copy is refused (exit 1: $(cat run.err)); the counts are unchanged; the URL's password is not printed"

run "$IOTCAD" db copy --from "$WORK/missing.db" --to "$PG_URL"
{ [ "$RC" = 1 ] && grep -q "missing.db does not exist" run.err; } || die "a missing --from: exit $RC: $(cat run.err)"
ok "a missing --from is refused (exit 1: $(cat run.err))"
sqlite3 other.db "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('x')"
run "$IOTCAD" db copy --from other.db --to "$PG_URL"
{ [ "$RC" = 1 ] && grep -q "is not an iotca database" run.err; } || die "a foreign SQLite --from: exit $RC: $(cat run.err)"
[ "$(sqlite3 other.db 'PRAGMA journal_mode')" = delete ] || die "the foreign database was switched to WAL"
ok "a SQLite database that is not iotca's is refused, unchanged (exit 1: $(cat run.err))"
run "$IOTCAD" db copy --from "$WORK/iotca.db" --to "$WORK/copy.db"
{ [ "$RC" = 2 ] && grep -q "must be a PostgreSQL database" run.err && grep -q "^usage: iotcad db copy" run.err; } ||
  die "a --to that is a file path: exit $RC: $(cat run.err)"
[ ! -e "$WORK/copy.db" ] || die "a --to that is a file path made the file"
ok "a --to that is a file path is refused (exit 2, with the usage)"
run "$IOTCAD" db copy --from "$PG_URL" --to "$PG_URL"
{ [ "$RC" = 2 ] && grep -q "must be a SQLite database file" run.err; } || die "a conninfo --from: exit $RC: $(cat run.err)"
for args in "--from $WORK/iotca.db --to $PG_URL --bogus" "--from $WORK/iotca.db" "--to $PG_URL" "" "--from $WORK/iotca.db --to $PG_URL extra"; do
  # shellcheck disable=SC2086 # the words of args are the arguments
  run "$IOTCAD" db copy $args
  { [ "$RC" = 2 ] && grep -q "^usage: iotcad db copy" run.err; } || die "db copy $args: exit $RC: $(cat run.err)"
done
run "$IOTCAD" db move --from "$WORK/iotca.db" --to "$PG_URL"
{ [ "$RC" = 2 ] && grep -q "unknown command 'db move'" run.err; } || die "db move: exit $RC: $(cat run.err)"
ok "a conninfo --from, an unknown flag, a missing flag, an extra argument and an unknown db command: exit 2 with the usage"

# ---- --json, into another empty database ----------------------------------------------------------------------------
pg_sql "CREATE DATABASE iotca_json" >/dev/null
run "$IOTCAD" db copy --from "$WORK/iotca.db" --to "${PG_URL%/iotca}/iotca_json" --json
[ "$RC" = 0 ] || die "db copy --json: exit $RC: $(cat run.err)"
jq -e --argjson n "$total" --argjson t "$(wc -l < sqlite.counts)" \
  '.rows == $n and (.tables | length) == $t and ([.tables[].rows] | add) == $n and .sequences > 0' run.out >/dev/null ||
  die "db copy --json: $(cat run.out)"
ok "db copy --json into a second empty database: $(jq -c '{rows, tables: (.tables | length), sequences}' run.out)"

stop_pg
echo "test_pg_copy: $CHECKS checks passed"
