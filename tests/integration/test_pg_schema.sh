#!/usr/bin/env bash
# PostgreSQL's schema (issue 25): schema/pg/0001_init.sql must be the SQLite schema that schema/0001..0021 build,
# in PostgreSQL. On a private PostgreSQL (pg_lib.sh), the file loads in one transaction after the table the
# migration runner makes first (schema_version); every table of the SQLite schema (built here with sqlite3 from the
# same migrations iotcad applies) is there with the same columns in the same order, the same types (INTEGER as
# BIGINT, TEXT, BLOB as BYTEA), NOT NULL and defaults; the same primary keys, UNIQUE constraints, foreign keys
# (ON DELETE too), number of CHECK constraints per table, index names (unique and partial alike) and triggers; and
# a UNIQUE, a foreign key and a CHECK violation raise SQLSTATE 23505, 23503 and 23514. The comparison must see a
# column missing: a copy of the file without one column is reported.
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/integration/daemon_lib.sh
source "$HERE/daemon_lib.sh"
# shellcheck source=tests/integration/pg_lib.sh
source "$HERE/pg_lib.sh"
trap 'stop_pg; cleanup' EXIT
PG_SCHEMA="$SRC/schema/pg/0001_init.sql"
command -v sqlite3 >/dev/null || die "sqlite3 is missing"

# the SQLite reference: the migrations lib/CMakeLists.txt embeds, applied in order, as iotcad init does
for f in "$SRC"/schema/[0-9][0-9][0-9][0-9]_*.sql; do
  sqlite3 ref.db < "$f" || die "sqlite3: $f does not apply"
done

# describe_sqlite DB OUT: the schema of DB as sorted lines, one file per aspect (OUT.columns, .keys, .indexes,
# .triggers). Columns: TABLE|POSITION|NAME and TABLE|NAME|TYPE|NOT NULL|DEFAULT, with SQLite's types named as
# PostgreSQL's (INTEGER bigint, TEXT text, BLOB bytea) and a primary key column NOT NULL, as PostgreSQL makes it.
describe_sqlite() {
  local t="m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
  sqlite3 "$1" "SELECT m.name || '|' || p.cid || '|' || p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE $t;
    SELECT m.name || '|' || p.name || '|' ||
      CASE upper(p.type) WHEN 'INTEGER' THEN 'bigint' WHEN 'TEXT' THEN 'text' WHEN 'BLOB' THEN 'bytea' ELSE p.type END
      || '|' || (p.\"notnull\" OR p.pk > 0) || '|' || coalesce(p.dflt_value, '')
    FROM sqlite_master m, pragma_table_info(m.name) p WHERE $t" | LC_ALL=C sort > "$2.columns"
  sqlite3 "$1" "SELECT m.name || '|pk|' || p.pk || '|' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
      WHERE $t AND p.pk > 0;
    SELECT t || '|unique|' || group_concat(c, ',') FROM (SELECT m.name t, il.name i, ii.name c
      FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii WHERE $t AND il.origin = 'u'
      ORDER BY m.name, il.name, ii.seqno) GROUP BY t, i;
    SELECT m.name || '|fk|' || f.\"from\" || '|' || f.\"table\" || '|' || f.\"to\" || '|' || f.on_delete
      FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE $t;
    SELECT m.name || '|checks|' || ((length(m.sql) - length(replace(upper(m.sql), 'CHECK', ''))) / 5)
      FROM sqlite_master m WHERE $t" | LC_ALL=C sort > "$2.keys"
  sqlite3 "$1" "SELECT m.tbl_name || '|' || m.name || '|unique ' || il.\"unique\" || '|partial ' || il.partial
    FROM sqlite_master m, pragma_index_list(m.tbl_name) il
    WHERE m.type = 'index' AND il.name = m.name AND m.name NOT LIKE 'sqlite\\_autoindex\\_%' ESCAPE '\\'" |
    LC_ALL=C sort > "$2.indexes"
  sqlite3 "$1" "SELECT tbl_name || '|' || name FROM sqlite_master WHERE type = 'trigger'" | LC_ALL=C sort > "$2.triggers"
}

# describe_pg OUT: the same description of the database at PG_URL, schema_version aside (SQLite has PRAGMA
# user_version instead). Constraint indexes (primary keys, UNIQUE) are SQLite's sqlite_autoindex_*: left out too.
# certificates.rowid is SQLite's implicit rowid made a column (the last), with its UNIQUE constraint: left out.
describe_pg() {
  local tables="c.table_schema = current_schema() AND c.table_name <> 'schema_version'
    AND NOT (c.table_name = 'certificates' AND c.column_name = 'rowid')"
  local rels="n.nspname = current_schema() AND r.relname <> 'schema_version'"
  pg_sql "SELECT c.table_name || '|' || (c.ordinal_position - 1) || '|' || c.column_name
      FROM information_schema.columns c WHERE $tables ORDER BY c.table_name, c.ordinal_position;
    SELECT c.table_name || '|' || c.column_name || '|' || c.data_type || '|' || (c.is_nullable = 'NO')::int || '|' ||
      coalesce(regexp_replace(c.column_default, '::[a-z ]+$', ''), '')
      FROM information_schema.columns c WHERE $tables" | LC_ALL=C sort > "$1.columns"
  pg_sql "SELECT r.relname || '|pk|' || k.ord || '|' || a.attname
      FROM pg_constraint x JOIN pg_class r ON r.oid = x.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace,
        unnest(x.conkey) WITH ORDINALITY k(att, ord), pg_attribute a
      WHERE $rels AND x.contype = 'p' AND a.attrelid = r.oid AND a.attnum = k.att;
    SELECT r.relname || '|unique|' ||
        (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(x.conkey) WITH ORDINALITY k(att, ord)
          JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.att)
      FROM pg_constraint x JOIN pg_class r ON r.oid = x.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
      WHERE $rels AND x.contype = 'u' AND x.conname <> 'certificates_rowid_key';
    SELECT r.relname || '|fk|' || a.attname || '|' || t.relname || '|' || b.attname || '|' ||
        CASE x.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
          WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END
      FROM pg_constraint x JOIN pg_class r ON r.oid = x.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
        JOIN pg_class t ON t.oid = x.confrelid, unnest(x.conkey, x.confkey) k(att, ref), pg_attribute a, pg_attribute b
      WHERE $rels AND x.contype = 'f' AND a.attrelid = r.oid AND a.attnum = k.att AND b.attrelid = t.oid
        AND b.attnum = k.ref;
    SELECT r.relname || '|checks|' || count(x.oid) FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
        LEFT JOIN pg_constraint x ON x.conrelid = r.oid AND x.contype = 'c'
      WHERE $rels AND r.relkind = 'r' GROUP BY r.relname" | LC_ALL=C sort > "$1.keys"
  pg_sql "SELECT x.tablename || '|' || x.indexname || '|unique ' || i.indisunique::int || '|partial ' ||
        (i.indpred IS NOT NULL)::int
      FROM pg_indexes x JOIN pg_index i ON i.indexrelid = format('%I.%I', x.schemaname, x.indexname)::regclass
      WHERE x.schemaname = current_schema() AND x.tablename <> 'schema_version'
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)" | LC_ALL=C sort > "$1.indexes"
  pg_sql "SELECT r.relname || '|' || g.tgname FROM pg_trigger g JOIN pg_class r ON r.oid = g.tgrelid
      JOIN pg_namespace n ON n.oid = r.relnamespace WHERE $rels AND NOT g.tgisinternal" | LC_ALL=C sort > "$1.triggers"
}

# differs ASPECT SQLITE PG: prints what differs in ASPECT (lines only SQLite has: "-", only PostgreSQL: "+");
# fails when something does
differs() {
  local d
  d=$(diff "$2.$1" "$3.$1" | sed -n 's/^< /  - /p; s/^> /  + /p') || true
  [ -z "$d" ] && return 0
  echo "$d"
  return 1
}

start_pg
# the migration runner makes schema_version itself, then applies the file inside its transaction
pg_sql "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"
{ echo 'BEGIN;'; cat "$PG_SCHEMA"; echo 'COMMIT;'; } | pg_sql >/dev/null 2>pg_load.err ||
  die "schema/pg/0001_init.sql does not load: $(cat pg_load.err)"
[ "$(pg_sql "SELECT count(*) FROM schema_version")" = 0 ] || die "0001_init.sql writes schema_version"
[ "$(pg_sql "SELECT data_type || ' ' || is_nullable FROM information_schema.columns
  WHERE table_name = 'schema_version' ORDER BY ordinal_position")" = "bigint NO" ] || die "schema_version is not (version BIGINT NOT NULL)"
ok "schema/pg/0001_init.sql loads in one transaction after the runner's schema_version, which it leaves empty"

describe_sqlite ref.db sq
describe_pg pg
if [ ! -s sq.columns ] || [ ! -s pg.columns ]; then die "no columns described"; fi
differs columns sq pg || die "the columns differ (- SQLite only, + PostgreSQL only)"
ntables=$(cut -d'|' -f1 sq.columns | sort -u | wc -l)
ok "columns: the $ntables tables of the SQLite schema, $(awk -F'|' 'NF == 3' sq.columns | wc -l) columns, same names in the same order, types, NOT NULL and defaults"

differs keys sq pg || die "the keys differ (- SQLite only, + PostgreSQL only)"
ok "keys: the same primary keys ($(grep -c '|pk|' sq.keys) columns), UNIQUE constraints ($(grep -c '|unique|' sq.keys)), foreign keys ($(grep -c '|fk|' sq.keys), ON DELETE alike) and CHECK constraints per table ($(awk -F'|' '$2 == "checks" { n += $3 } END { print n }' sq.keys))"

differs indexes sq pg || die "the indexes differ (- SQLite only, + PostgreSQL only)"
ok "indexes: the same $(wc -l < sq.indexes) index names on the same tables, unique and partial alike"

# errors: SQL must fail with SQLSTATE CODE (psql's verbose error line: "ERROR:  23505: ...")
expect_sqlstate() { # expect_sqlstate CODE SQL WHAT
  local out
  if out=$(printf '\\set VERBOSITY verbose\n%s\n' "$2" | pg_sql 2>&1); then die "$3: accepted"; fi
  grep -q "ERROR:  $1:" <<<"$out" || die "$3: expected SQLSTATE $1, got: $out"
}
pg_sql "INSERT INTO issuers (name, grp, state, key_ref, csr, created_at, updated_at)
    VALUES ('int1', 'g', 'active', 'k1', '\\x00', 1, 1);
  INSERT INTO serials (serial, issuer_id, reserved_at) VALUES ('01', 1, 1), ('02', 1, 1);
  INSERT INTO certificates (serial, issuer_id, profile, subject, der, not_before, not_after, created_at)
    VALUES ('01', 1, 'p', 'CN=a', '\\x00', 1, 2, 1), ('02', 1, 'p', 'CN=b', '\\x00', 1, 2, 1)" >/dev/null

new_issuer_sql() { # new_issuer_sql NAME STATE
  printf "INSERT INTO issuers (name, grp, state, key_ref, csr, created_at, updated_at) VALUES ('%s', 'g', '%s', 'k', '\\\\x00', 1, 1)" "$1" "$2"
}
expect_sqlstate 23505 "$(new_issuer_sql int1 pending)" "a second issuer int1 (issuers.name UNIQUE)"
expect_sqlstate 23505 "$(new_issuer_sql int2 active)" "a second active issuer in group g (issuers_one_active)"
pg_sql "$(new_issuer_sql int3 retired)" || die "a retired issuer in group g: refused (issuers_one_active is partial)"
expect_sqlstate 23505 "INSERT INTO serials (serial, issuer_id, reserved_at) VALUES ('01', 1, 2)" "a serial drawn twice"
ok "UNIQUE violations raise SQLSTATE 23505 (a column's UNIQUE, the partial unique index, a primary key)"

expect_sqlstate 23503 "INSERT INTO issuer_events (issuer_id, to_state, at) VALUES (999, 'active', 1)" "an event of no issuer"
expect_sqlstate 23503 "INSERT INTO certificates (serial, issuer_id, profile, subject, der, not_before, not_after,
  created_at) VALUES ('99', 1, 'p', 'CN=x', '\\x00', 1, 2, 1)" "a certificate of no reserved serial"
expect_sqlstate 23503 "UPDATE certificates SET renews = '77' WHERE serial = '02'" "renewing no certificate"
expect_sqlstate 23503 "DELETE FROM serials WHERE serial = '01'" "deleting a serial a certificate carries"
# ON DELETE CASCADE: an order's authorizations and their challenges go with it
pg_sql "INSERT INTO acme_accounts (thumbprint, spki, status, profile, created_at) VALUES ('\\x01', '\\x02', 'valid', 'p', 1);
  INSERT INTO acme_orders (account_id, profile, status, identifiers, expires_at, created_at) VALUES (1, 'p', 'pending', '[]', 9, 1);
  INSERT INTO acme_authzs (order_id, type, value, status, expires_at) VALUES (1, 'dns', 'a.example', 'pending', 9);
  INSERT INTO acme_challenges (authz_id, type, token, status) VALUES (1, 'http-01', 't1', 'pending');
  DELETE FROM acme_orders WHERE id = 1" >/dev/null
[ "$(pg_sql "SELECT (SELECT count(*) FROM acme_authzs) + (SELECT count(*) FROM acme_challenges)")" = 0 ] ||
  die "deleting an ACME order left its authorizations or challenges"
ok "foreign key violations raise SQLSTATE 23503 (insert, update, delete); ON DELETE CASCADE removes an order's authorizations and challenges"

expect_sqlstate 23514 "$(new_issuer_sql int4 bogus)" "an issuer in state bogus"
expect_sqlstate 23514 "INSERT INTO serials (serial, issuer_id, reserved_at, tbs_sha256) VALUES ('03', 1, 1,
  decode(repeat('00', 31), 'hex'))" "an intent's TBS hash of 31 bytes"
pg_sql "INSERT INTO serials (serial, issuer_id, reserved_at, tbs_sha256) VALUES ('03', 1, 1, decode(repeat('00', 32), 'hex'))" ||
  die "an intent's TBS hash of 32 bytes: refused"
expect_sqlstate 23514 "INSERT INTO bridges (serial, issuer_id, justification, actor, not_after, created_at)
  VALUES ('02', 1, '', 'admin', 2, 1)" "a bridge without a justification"
expect_sqlstate 23514 "INSERT INTO rehearsal_results (scenario, trust_profile, issuer_id, accepted, passed, source, actor, at)
  VALUES ('current', 'fleet', 1, 2, 1, 'report', 'a', 1)" "a rehearsal result accepted = 2"
expect_sqlstate 23514 "INSERT INTO heartbeat (id, at) VALUES (2, 0)" "a second heartbeat row"
expect_sqlstate 23502 "INSERT INTO tokens (id, role, created_at) VALUES ('t', 'admin', 1)" "a token without its hash"
ok "CHECK violations raise SQLSTATE 23514 (a state, a BYTEA length, a text length, a 0/1 flag, a singleton row), NOT NULL 23502"

# triggers: SQLite's, by name and table (PostgreSQL may have more: audit_no_truncate), and what they do
missing=$(LC_ALL=C comm -23 sq.triggers pg.triggers)
[ -z "$missing" ] || die "triggers missing on PostgreSQL: $missing"
pg_sql "UPDATE certificates SET status = 'revoked', revoked_at = 5 WHERE serial = '01';
  UPDATE certificates SET status = 'revoked', reason = 1 WHERE serial = '01';
  UPDATE certificates SET status = 'revoked', revoked_at = 6 WHERE serial = '02'" >/dev/null
got=$(pg_sql "SELECT revocations FROM crl_state WHERE issuer_id = 1")
[ "$got" = 2 ] || die "crl_state.revocations after two revocations (one revoked twice): '$got', expected 2"
got=$(pg_sql "SELECT string_agg(serial || ':' || revoked_at, ' ' ORDER BY seq) FROM revocation_feed")
[ "$got" = "01:5 02:6" ] || die "revocation_feed: '$got', expected '01:5 02:6'"
pg_sql "INSERT INTO audit VALUES (1, 1, 'a', 'x', 's', 'r', 'ok', '', '\\x00', '\\x00')" >/dev/null
for sql in "UPDATE audit SET actor = 'b'" "DELETE FROM audit" "TRUNCATE audit"; do
  if out=$(pg_sql "$sql" 2>&1); then die "$sql: accepted"; fi
  grep -q 'the audit trail is append-only' <<<"$out" || die "$sql: unclear refusal: $out"
done
[ "$(pg_sql "SELECT (SELECT last_rowid FROM ocsp_mark WHERE id = 1) || ' ' || (SELECT at FROM heartbeat WHERE id = 1)")" = "0 0" ] ||
  die "the ocsp_mark and heartbeat rows are not (1, 0)"
ok "triggers: $(cut -d'|' -f2 sq.triggers | paste -sd' '); a revocation counts once in crl_state and the feed; the audit trail refuses UPDATE, DELETE and TRUNCATE"

# negative: the same comparison against a copy of the file without certificates.subject must report that column
awk '/^CREATE TABLE certificates \(/ { t = 1 } t && /^\);/ { t = 0 } !(t && $1 == "subject")' "$PG_SCHEMA" > missing.sql
[ "$(wc -l < missing.sql)" -eq $(($(wc -l < "$PG_SCHEMA") - 1)) ] || die "the copy does not lack exactly one line"
pg_sql "CREATE DATABASE iotca_missing" >/dev/null
neg_url=${PG_URL%/iotca}/iotca_missing
PG_URL=$neg_url pg_sql < missing.sql >/dev/null 2>&1 || die "the copy without certificates.subject does not load"
PG_URL=$neg_url describe_pg neg
if differs columns sq neg > neg.diff; then die "a schema without certificates.subject compares equal"; fi
grep -q -- '- certificates|3|subject' neg.diff || die "the missing column is not reported: $(cat neg.diff)"
ok "negative: without certificates.subject the comparison fails and reports $(grep -c . neg.diff) differing lines, e.g. '$(grep -m1 -- 'subject' neg.diff | sed 's/^ *//')'"

stop_pg
echo "test_pg_schema: $CHECKS checks passed"
