/* Unit tests for `iotcad db copy` in lib/store (copy.c): a SQLite store with a row in every table copied into
 * PostgreSQL (tests/unit/with_pg.sh gives the database): counts equal table by table, values byte for byte, the
 * audit chain intact, sequences past the copied ids, a second copy or a failing one leaving the target as it was.
 * Without IOTCA_TEST_PG_URL only the refusals that need no PostgreSQL run. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iotca/store_acme.h"
#include "iotca/store_copy.h"
#include "store_fixture.h"
#include "store_helpers.h"
#include "unit_run.h"

/* Nothing listens on port 1: a target the refusals below must never reach. */
#define DEAD_PG "postgresql://iotca@127.0.0.1:1/none"

static void fake_hash(iotca_slice data, uint8_t out[32]) { /* the store needs a hash, not SHA-256 */
    memset(out, 0x5a, 32);
    for (size_t i = 0; i < data.len; i++) out[i % 32] = (uint8_t)(out[i % 32] * 31 + data.p[i]);
}

static void raw(const char *db_path, const char *sql) {
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
    char *err = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql, err ? err : "?");
    sqlite3_close(db);
}

static int64_t raw_int(const char *db_path, const char *sql) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* One integer from the PostgreSQL database through psql (the SQL reaches the shell as a variable, unquoted). */
static int64_t pg_int(const char *sql) {
    setenv("IOTCA_TEST_SQL", sql, 1);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "psql -X -q -At -v ON_ERROR_STOP=1 -d '%s' -c \"$IOTCA_TEST_SQL\"", store_fixture_pg());
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char line[64] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    ck_assert_msg(pclose(f) == 0 && got, "psql: %s", sql);
    return strtoll(line, NULL, 10);
}

static void pg_exec(const char *sql) {
    setenv("IOTCA_TEST_SQL", sql, 1);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "psql -X -q -v ON_ERROR_STOP=1 -d '%s' -c \"$IOTCA_TEST_SQL\" >/dev/null 2>&1",
             store_fixture_pg());
    ck_assert_msg(system(cmd) == 0, "psql: %s", sql);
}

/* ---- the source: a SQLite store with a row in every table ---- */

static int64_t int1, int2;

static void populate_certs(iotca_store *x) {
    int1 = add_issuer(x, "int1", "default");
    int2 = add_issuer(x, "int2", "default"); /* pending: cert and dates NULL */
    stage(x, int1);
    OK(iotca_store_issuer_transition(x, int1, IOTCA_ISSUER_STAGED, IOTCA_ISSUER_ACTIVE, T0 + 20));
    issue(x, "0a", int1, "device", T0 + 90 * 86400);
    issue(x, "0b", int1, "device", T0 + 90 * 86400);
    iotca_serial_intent in = {.issuer_id = int1, .not_after = T0 + 90 * 86400, .reserved_at = T0 + 30};
    snprintf(in.serial, sizeof in.serial, "0c");
    snprintf(in.profile, sizeof in.profile, "device");
    memset(in.tbs_sha256, 0xc3, sizeof in.tbs_sha256);
    OK(iotca_store_serial_reserve_intent(x, &in));
    iotca_cert_rec c;
    make_cert(&c, "0c", int1, "device", T0 + 90 * 86400);
    snprintf(c.renews, sizeof c.renews, "0a");
    OK(iotca_store_cert_add(x, &c));
    OK(iotca_store_cert_revoke(x, "0b", 1, T0 + 100));
    issue(x, "0d", int1, "device", T0 + 86400);
    iotca_bridge_rec b = {.issuer_id = int1, .not_after = T0 + 86400, .created_at = T0 + 40};
    snprintf(b.serial, sizeof b.serial, "0d");
    snprintf(b.justification, sizeof b.justification, "devices pinned int1");
    snprintf(b.actor, sizeof b.actor, "local:op");
    OK(iotca_store_bridge_add(x, &b));
}

static void populate_crl_ocsp(iotca_store *x) {
    uint64_t number = 0;
    OK(iotca_store_crl_reserve(x, int1, &number));
    OK(iotca_store_crl_reserve(x, int1, &number));
    iotca_crl_rec crl = {
        .number = number, .this_update = T0, .next_update = T0 + 86400, .size = 300, .entries = 1, .covers = 1};
    OK(iotca_store_crl_put(x, int1, &crl));
    iotca_crl_rec root = {.number = 7, .this_update = T0, .next_update = T0 + 86400};
    OK(iotca_buf_append(&root.der, cert_der, sizeof cert_der));
    OK(iotca_store_root_crl_put(x, "ab12", &root));
    iotca_buf_free(&root.der);
    iotca_ocsp_signer_rec sg = {.issuer_id = int1, .not_after = T0 + 86400, .created_at = T0};
    snprintf(sg.key_ref, sizeof sg.key_ref, "file:/keys/ocsp.key");
    OK(iotca_buf_append(&sg.cert, csr_der, sizeof csr_der));
    OK(iotca_store_ocsp_signer_add(x, &sg));
    iotca_ocsp_signer_rec_free(&sg);
    OK(iotca_store_ocsp_response_put(x, "0a", iotca_slice_of(cert_der, sizeof cert_der), T0, T0 + 3600));
    OK(iotca_store_ocsp_mark(x, 2));
    OK(iotca_store_heartbeat(x, T0 + 5));
}

static void populate_rest(iotca_store *x) {
    iotca_token_rec tok = {.created_at = T0, .expires_at = T0 + 86400};
    snprintf(tok.id, sizeof tok.id, "tok1");
    snprintf(tok.role, sizeof tok.role, "admin");
    memset(tok.hash, 0x77, sizeof tok.hash);
    OK(iotca_store_token_add(x, &tok));
    iotca_trust_profile_rec tp = {.until = T0 + 86400 * 365, .created_at = T0};
    snprintf(tp.name, sizeof tp.name, "fleet");
    snprintf(tp.stack, sizeof tp.stack, "mbedtls");
    OK(iotca_buf_append_str(&tp.pem, "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"));
    OK(iotca_store_trust_profile_add(x, &tp));
    iotca_trust_profile_rec_free(&tp);
    OK(iotca_store_preflight_override_add(x, int1, "lab devices only", "local:op", "fleet\t2030-01-01\tpinned", T0));
    for (int i = 0; i < 3; i++) {
        iotca_audit_rec a = {.at = T0 + i};
        snprintf(a.actor, sizeof a.actor, "local:op");
        snprintf(a.action, sizeof a.action, "token.create");
        snprintf(a.subject, sizeof a.subject, "tok%d", i);
        snprintf(a.outcome, sizeof a.outcome, "ok");
        OK(iotca_store_audit_append(x, &a, fake_hash));
    }
    OK(iotca_store_acme_nonce_add(x, "nonce-1", T0 + 60));
    iotca_acme_eab_rec e = {.created_at = T0};
    snprintf(e.kid, sizeof e.kid, "kid-1");
    snprintf(e.profile, sizeof e.profile, "device");
    OK(iotca_buf_append(&e.secret, "sealed", 6));
    OK(iotca_store_acme_eab_add(x, &e));
    iotca_acme_eab_rec_free(&e);
    iotca_acme_account_rec acct = {.created_at = T0};
    memset(acct.thumbprint, 0x11, sizeof acct.thumbprint);
    OK(iotca_buf_append(&acct.spki, csr_der, sizeof csr_der));
    snprintf(acct.profile, sizeof acct.profile, "device");
    snprintf(acct.contact, sizeof acct.contact, "[]");
    snprintf(acct.eab_kid, sizeof acct.eab_kid, "kid-1");
    int64_t existing = 0;
    OK(iotca_store_acme_account_add(x, &acct, &existing));
    int64_t acct_id = acct.id;
    iotca_acme_account_rec_free(&acct);
    iotca_acme_authz_rec az = {.expires_at = T0 + 3600, .n_challenges = 1};
    snprintf(az.type, sizeof az.type, "dns");
    snprintf(az.value, sizeof az.value, "a.example.com");
    snprintf(az.challenges[0].token, sizeof az.challenges[0].token, "token-1");
    iotca_acme_order_rec o = {.account_id = acct_id,
                              .expires_at = T0 + 3600,
                              .created_at = T0,
                              .identifiers = "[{\"type\":\"dns\",\"value\":\"a.example.com\"}]"};
    snprintf(o.profile, sizeof o.profile, "device");
    OK(iotca_store_acme_order_add(x, &o, &az, 1));
    iotca_rehearsal_leaf_rec leaf = {.issuer_id = int1, .not_before = T0, .not_after = T0 + 3600, .created_at = T0};
    snprintf(leaf.serial, sizeof leaf.serial, "0e");
    snprintf(leaf.scenario, sizeof leaf.scenario, "current");
    OK(iotca_buf_append(&leaf.der, cert_der, sizeof cert_der));
    OK(iotca_store_rehearsal_leaf_add(x, &leaf));
    iotca_rehearsal_leaf_rec_free(&leaf);
    iotca_rehearsal_result_rec res = {.issuer_id = int1, .accepted = true, .passed = true, .at = T0};
    snprintf(res.scenario, sizeof res.scenario, "current");
    snprintf(res.trust_profile, sizeof res.trust_profile, "fleet");
    snprintf(res.source, sizeof res.source, "report");
    snprintf(res.actor, sizeof res.actor, "local:op");
    OK(iotca_store_rehearsal_result_add(x, &res));
}

static char src_dir[64], src_path[128];
static iotca_store *src;

/* The source at src_path with a row in every table, closed; and (on PostgreSQL) the test database emptied, as
 * store_fixture_open does, but not migrated: the copy migrates it. */
static void setup(void) {
    snprintf(src_dir, sizeof src_dir, "/tmp/iotca-copy-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(src_dir));
    snprintf(src_path, sizeof src_path, "%s/src.db", src_dir);
    OK(iotca_store_open(src_path, true, 2000, &src));
    OK(iotca_store_migrate(src));
    populate_certs(src);
    populate_crl_ocsp(src);
    populate_rest(src);
    iotca_store_close(src);
    src = NULL;
    /* a placeholder answer of schema 0008: an empty BLOB, which must arrive empty, not NULL */
    raw(src_path, "INSERT INTO ocsp_responses (serial, der, this_update, next_update) VALUES ('0b', x'', 0, 0)");
    if (store_fixture_pg()) pg_exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
}

static void teardown(void) {
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", src_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* The source's row count of table. */
static int64_t src_count(const char *table) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
    return raw_int(src_path, sql);
}

static int64_t pg_count(const char *table) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
    return pg_int(sql);
}

static iotca_rc copy_files(iotca_db_copy_report *r) { return iotca_store_copy_files(src_path, store_fixture_pg(), r); }

/* ---- refusals that need no PostgreSQL ---- */

START_TEST(sqlite_to_sqlite_is_a_usage_error) {
    iotca_store *a = NULL, *b = NULL;
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", src_dir);
    OK(iotca_store_open(src_path, false, 2000, &a));
    OK(iotca_store_open(other, true, 2000, &b));
    iotca_db_copy_report r;
    REFUSED(iotca_store_copy(a, b, &r), IOTCA_E_USAGE, "the target of a copy must be a PostgreSQL database");
    REFUSED(iotca_store_copy(b, a, &r), IOTCA_E_USAGE, "the target of a copy must be a PostgreSQL database");
    iotca_store_close(a);
    iotca_store_close(b);
    REFUSED(iotca_store_copy_files(src_path, other, &r), IOTCA_E_USAGE, "must be a PostgreSQL database");
    REFUSED(iotca_store_copy_files(DEAD_PG, DEAD_PG, &r), IOTCA_E_USAGE, "must be a SQLite database file");
    /* words libpq would take but that name no database are not a conninfo; and the password is not repeated */
    REFUSED(iotca_store_copy_files(src_path, "user=op password=hunter2", &r), IOTCA_E_USAGE, "postgresql://");
    ck_assert_ptr_null(strstr(iotca_error_detail(), "hunter2"));
}
END_TEST

START_TEST(a_source_that_is_no_iotca_database_is_refused_untouched) {
    iotca_db_copy_report r;
    char p[200];
    snprintf(p, sizeof p, "%s/missing.db", src_dir);
    REFUSED(iotca_store_copy_files(p, DEAD_PG, &r), IOTCA_E_STORAGE, "does not exist");
    REFUSED(iotca_store_copy_files(src_dir, DEAD_PG, &r), IOTCA_E_STORAGE, "is not a file");
    snprintf(p, sizeof p, "%s/notes.txt", src_dir);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("not a database, but long enough to be read as one\n", f);
    fclose(f);
    REFUSED(iotca_store_copy_files(p, DEAD_PG, &r), IOTCA_E_STORAGE, "is not a SQLite database");
    /* another program's SQLite database: refused, and left in its own journal mode (not switched to WAL) */
    snprintf(p, sizeof p, "%s/other.db", src_dir);
    raw(p, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    REFUSED(iotca_store_copy_files(p, DEAD_PG, &r), IOTCA_E_STORAGE, "is not an iotca database");
    FILE *g = fopen(p, "rb");
    unsigned char header[20];
    ck_assert_uint_eq(fread(header, 1, sizeof header, g), sizeof header);
    fclose(g);
    ck_assert_int_eq(header[18], 1); /* file format write version: 1 legacy journal, 2 WAL */
}
END_TEST

START_TEST(a_source_at_an_older_schema_version_is_refused_before_the_target) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", iotca_store_schema_latest() - 1);
    raw(src_path, sql);
    iotca_db_copy_report r;
    /* the target is never reached: the refusal is the source's, not a failed connection */
    REFUSED(iotca_store_copy_files(src_path, DEAD_PG, &r), IOTCA_E_STORAGE, "the source database: database schema is");
    ck_assert_msg(strstr(iotca_error_detail(), "run iotcad init"), "%s", iotca_error_detail());
}
END_TEST

/* ---- on PostgreSQL ---- */

/* Every table of the target holds as many rows as the source's and the report says. */
static void counts_match(const iotca_db_copy_report *r) {
    ck_assert_int_eq((int64_t)r->n, raw_int(src_path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                                      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"));
    int64_t total = 0;
    for (size_t i = 0; i < r->n; i++) {
        const char *t = r->table[i].name;
        ck_assert_msg(r->table[i].rows > 0, "table %s: the fixture left it empty", t);
        ck_assert_msg(r->table[i].rows == src_count(t), "table %s: reported %lld", t, (long long)r->table[i].rows);
        ck_assert_msg(pg_count(t) == r->table[i].rows, "table %s: %lld on PostgreSQL, %lld in SQLite", t,
                      (long long)pg_count(t), (long long)r->table[i].rows);
        total += r->table[i].rows;
    }
    ck_assert_int_eq(r->rows, total);
}

static bool same_bytes(const iotca_buf *b, const void *p, size_t n) {
    return b->len == n && memcmp(b->data, p, n) == 0;
}

typedef struct audit_list {
    iotca_audit_rec r[8];
    size_t n;
} audit_list;

static iotca_rc keep_audit(void *ctx, const iotca_audit_rec *r) {
    audit_list *l = ctx;
    if (l->n < 8) l->r[l->n++] = *r;
    return IOTCA_OK;
}

/* The audit trail reads the same on both, and its chain verifies on the copy: each record's prev is the hash
 * before it, and its hash is the hash of its canonical bytes. */
static void audit_matches(iotca_store *t) {
    iotca_store *a = NULL;
    audit_list ls = {0}, lt = {0};
    OK(iotca_store_open(src_path, false, 2000, &a));
    OK(iotca_store_audit_each(a, keep_audit, &ls));
    iotca_store_close(a);
    OK(iotca_store_audit_each(t, keep_audit, &lt));
    ck_assert_uint_eq(lt.n, 3);
    ck_assert_uint_eq(ls.n, lt.n);
    for (size_t i = 0; i < lt.n; i++) {
        ck_assert(ls.r[i].seq == lt.r[i].seq && ls.r[i].at == lt.r[i].at);
        ck_assert_str_eq(ls.r[i].actor, lt.r[i].actor);
        ck_assert_str_eq(ls.r[i].subject, lt.r[i].subject);
        ck_assert(memcmp(ls.r[i].prev, lt.r[i].prev, 32) == 0 && memcmp(ls.r[i].hash, lt.r[i].hash, 32) == 0);
        if (i) ck_assert(memcmp(lt.r[i].prev, lt.r[i - 1].hash, 32) == 0);
        iotca_buf canon = {0};
        uint8_t h[32];
        OK(iotca_audit_canonical(&lt.r[i], &canon));
        fake_hash(iotca_buf_slice(&canon), h);
        iotca_buf_free(&canon);
        ck_assert_msg(memcmp(h, lt.r[i].hash, 32) == 0, "audit record %zu does not verify on the copy", i + 1);
    }
}

static void values_match(iotca_store *t) {
    iotca_cert_rec c = {0};
    OK(iotca_store_cert_get(t, "0a", &c));
    ck_assert(same_bytes(&c.der, cert_der, sizeof cert_der));
    ck_assert_str_eq(c.renewed_by, "0c");
    iotca_cert_rec_free(&c);
    OK(iotca_store_cert_get(t, "0b", &c));
    ck_assert(c.revoked && c.reason == 1 && c.revoked_at == T0 + 100);
    iotca_cert_rec_free(&c);
    iotca_serial_intent in;
    bool has = false;
    OK(iotca_store_serial_intent_get(t, "0c", &in, &has));
    ck_assert(has && in.tbs_sha256[0] == 0xc3 && in.tbs_sha256[31] == 0xc3);
    iotca_crl_rec crl = {0};
    OK(iotca_store_crl_get(t, int1, &crl));
    ck_assert_uint_eq(crl.number, 2);
    iotca_buf_free(&crl.der);
    OK(iotca_store_root_crl_get(t, "ab12", &crl));
    ck_assert(crl.number == 7 && same_bytes(&crl.der, cert_der, sizeof cert_der));
    iotca_buf_free(&crl.der);
    iotca_token_rec tok;
    OK(iotca_store_token_get(t, "tok1", &tok));
    ck_assert(tok.hash[0] == 0x77 && tok.expires_at == T0 + 86400 && tok.revoked_at == 0);
    ck_assert_int_eq(state_of(t, int1), IOTCA_ISSUER_ACTIVE);
    iotca_issuer_rec is = {0};
    OK(iotca_store_issuer_get(t, int2, &is));
    ck_assert(is.state == IOTCA_ISSUER_PENDING && is.cert.len == 0 && same_bytes(&is.csr, csr_der, sizeof csr_der));
    iotca_issuer_rec_free(&is);
    ck_assert_int_eq(pg_int("SELECT length(der) FROM ocsp_responses WHERE serial = '0b'"), 0); /* empty, not NULL */
    ck_assert_int_eq(pg_int("SELECT count(*) FROM ocsp_responses WHERE der IS NULL"), 0);
    ck_assert_int_eq(pg_int("SELECT last_rowid FROM ocsp_mark"), 2);
    ck_assert_int_eq(pg_int("SELECT at FROM heartbeat"), T0 + 5);
    ck_assert_int_eq(pg_int("SELECT rowid FROM certificates WHERE serial = '0d'"),
                     raw_int(src_path, "SELECT rowid FROM certificates WHERE serial = '0d'"));
    audit_matches(t);
}

START_TEST(every_table_copies_and_reads_the_same) {
    iotca_db_copy_report r;
    OK(copy_files(&r));
    counts_match(&r);
    ck_assert_int_gt(r.sequences, 5);
    iotca_store *t = NULL;
    OK(iotca_store_open(store_fixture_pg(), false, 0, &t));
    OK(iotca_store_check_schema(t));
    values_match(t);
    iotca_store_close(t);
}
END_TEST

START_TEST(a_second_copy_is_refused_and_changes_nothing) {
    iotca_db_copy_report r;
    OK(copy_files(&r));
    int64_t before[IOTCA_DB_COPY_MAX_TABLES];
    for (size_t i = 0; i < r.n; i++) before[i] = pg_count(r.table[i].name);
    iotca_db_copy_report again;
    REFUSED(copy_files(&again), IOTCA_E_POLICY, "the target database is not empty: table ");
    ck_assert_msg(strstr(iotca_error_detail(), " more tables have rows)"), "%s", iotca_error_detail());
    ck_assert_uint_eq(again.n, 0);
    for (size_t i = 0; i < r.n; i++) ck_assert_int_eq(pg_count(r.table[i].name), before[i]);
}
END_TEST

START_TEST(postgresql_inserts_after_the_copy_get_new_ids) {
    /* SQLite's AUTOINCREMENT mark above the feed's rows, as if its newest rows were gone: never handed out again */
    raw(src_path, "UPDATE sqlite_sequence SET seq = 40 WHERE name = 'revocation_feed'");
    iotca_db_copy_report r;
    OK(copy_files(&r));
    iotca_store *t = NULL;
    OK(iotca_store_open(store_fixture_pg(), false, 0, &t));
    ck_assert_int_eq(add_issuer(t, "int3", "default"), 3);
    issue(t, "0f", int1, "device", T0 + 86400);
    ck_assert_int_eq(pg_int("SELECT rowid FROM certificates WHERE serial = '0f'"), 5);
    OK(iotca_store_cert_revoke(t, "0a", 4, T0 + 200));
    ck_assert_int_eq(pg_int("SELECT max(seq) FROM revocation_feed"), 41);
    iotca_trust_profile_rec tp = {.until = T0 + 86400, .created_at = T0};
    snprintf(tp.name, sizeof tp.name, "fleet2");
    snprintf(tp.stack, sizeof tp.stack, "wolfssl");
    OK(iotca_buf_append_str(&tp.pem, "pem"));
    OK(iotca_store_trust_profile_add(t, &tp));
    ck_assert_int_eq(tp.id, 2);
    iotca_trust_profile_rec_free(&tp);
    iotca_audit_rec a = {.at = T0 + 9};
    snprintf(a.actor, sizeof a.actor, "local:op");
    snprintf(a.action, sizeof a.action, "db.copied");
    OK(iotca_store_audit_append(t, &a, fake_hash));
    ck_assert_int_eq(a.seq, 4);
    iotca_store_close(t);
}
END_TEST

START_TEST(a_failure_midway_leaves_the_target_empty) {
    /* a value SQLite kept (text in an INTEGER column) that PostgreSQL refuses, in a table copied late */
    raw(src_path, "UPDATE tokens SET created_at = 'soon'");
    iotca_db_copy_report r;
    REFUSED(copy_files(&r), IOTCA_E_STORAGE, "copying table tokens, row 1: ");
    ck_assert_uint_eq(r.n, 0);
    static const char *const tables[] = {"issuers", "serials",         "certificates",
                                         "audit",   "acme_challenges", "rehearsal_results"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) ck_assert_int_eq(pg_count(tables[i]), 0);
    ck_assert_int_eq(pg_int("SELECT last_rowid FROM ocsp_mark"), 0); /* the migration's own row, as it was */
    ck_assert_int_eq(pg_int("SELECT at FROM heartbeat"), 0);
    /* an empty target after all: the copy then succeeds */
    raw(src_path, "UPDATE tokens SET created_at = 1700000000");
    OK(copy_files(&r));
    counts_match(&r);
}
END_TEST

START_TEST(the_source_is_checked_before_the_target_changes) {
    raw(src_path, "PRAGMA user_version = 3");
    iotca_store *a = NULL, *t = NULL;
    OK(iotca_store_open(src_path, false, 2000, &a));
    OK(iotca_store_open(store_fixture_pg(), false, 0, &t));
    iotca_db_copy_report r;
    REFUSED(iotca_store_copy(t, t, &r), IOTCA_E_USAGE, "the source of a copy must be a SQLite database");
    REFUSED(iotca_store_copy(a, t, &r), IOTCA_E_STORAGE, "database schema is version 3");
    ck_assert_int_eq(pg_int("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"), 0);
    /* a database with someone else's tables is refused before it is migrated */
    pg_exec("CREATE TABLE notes (id BIGINT)");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", iotca_store_schema_latest());
    raw(src_path, sql);
    REFUSED(iotca_store_copy(a, t, &r), IOTCA_E_POLICY, "is not an iotca database");
    ck_assert_int_eq(pg_int("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"), 1);
    iotca_store_close(a);
    iotca_store_close(t);
}
END_TEST

int main(void) {
    Suite *su = suite_create("store_copy");
    TCase *tc = tcase_create("refusals");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sqlite_to_sqlite_is_a_usage_error);
    tcase_add_test(tc, a_source_that_is_no_iotca_database_is_refused_untouched);
    tcase_add_test(tc, a_source_at_an_older_schema_version_is_refused_before_the_target);
    suite_add_tcase(su, tc);
    if (store_fixture_pg()) {
        TCase *pg = tcase_create("postgresql");
        tcase_add_checked_fixture(pg, setup, teardown);
        tcase_set_timeout(pg, 60);
        tcase_add_test(pg, the_source_is_checked_before_the_target_changes);
        tcase_add_test(pg, a_failure_midway_leaves_the_target_empty);
        tcase_add_test(pg, a_second_copy_is_refused_and_changes_nothing);
        tcase_add_test(pg, postgresql_inserts_after_the_copy_get_new_ids);
        /* last: with_pg.sh checks by its schema_version that the test ran on PostgreSQL */
        tcase_add_test(pg, every_table_copies_and_reads_the_same);
        suite_add_tcase(su, pg);
    }
    return unit_run(su);
}
