/* `iotcad db copy` (issue 25): a SQLite deployment moved to PostgreSQL, every row of every table, in one PostgreSQL
 * transaction. The tables, their columns and the order they are copied in come from the schema itself (sqlite_master
 * and each table's foreign keys), so a table a later migration adds is copied with no change here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "iotca/store_copy.h"

#define MAX_COLS 48 /* the widest table has 13 */
#define MAX_DEPS 16

typedef struct column {
    char name[64];
    bool bytea;    /* BYTEA on PostgreSQL: the bytes sent as they are (binary), never as text to be decoded */
    bool identity; /* an identity column: its sequence is moved past the copied values */
} column;

typedef struct table {
    char name[64], quoted[136]; /* as in the schema, and as an SQL identifier */
    /* PostgreSQL's columns in order: SQLite's, then (rowid_col) one standing in for SQLite's rowid */
    column col[MAX_COLS];
    int ncol;
    bool has_rowid, rowid_col;
    int dep[MAX_DEPS], ndep; /* the tables its foreign keys refer to (itself aside), by index */
    int64_t rows;            /* the source's */
    int64_t seeded;          /* rows the migrations themselves write (ocsp_mark's and heartbeat's one) */
    int64_t autoinc;         /* SQLite's AUTOINCREMENT high-water mark (sqlite_sequence), 0 if none */
} table;

typedef struct copy_plan {
    table t[IOTCA_DB_COPY_MAX_TABLES];
    int n, order[IOTCA_DB_COPY_MAX_TABLES]; /* order: a table after every table it refers to */
} copy_plan;

/* The current failure's detail, after prefix (the detail buffer cannot be both the source and the target). */
static iotca_rc prefixed(iotca_rc rc, const char *prefix) {
    char keep[512];
    snprintf(keep, sizeof keep, "%s", iotca_error_detail());
    return iotca_error_set(rc, "%s: %s", prefix, keep);
}

/* name as an SQL identifier: in double quotes, a double quote doubled. Names come from the schema, never from
 * input, and are quoted all the same. */
static iotca_rc quote_ident(const char *name, char *out, size_t cap) {
    size_t k = 0;
    out[k++] = '"';
    for (const char *p = name; *p; p++) {
        IOTCA_ENSURE(k + 4 < cap, IOTCA_E_STORAGE, "the name %.64s is too long to copy", name);
        if (*p == '"') out[k++] = '"';
        out[k++] = *p;
    }
    out[k++] = '"';
    out[k] = 0;
    return IOTCA_OK;
}

/* ---- the source (SQLite) ---- */

static iotca_rc lite_prepare(sqlite3 *db, const char *sql, const char *arg, sqlite3_stmt **st, const char *doing) {
    *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK ||
        (arg && sqlite3_bind_text(*st, 1, arg, -1, SQLITE_STATIC) != SQLITE_OK)) {
        iotca_rc rc = iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, sqlite3_errmsg(db));
        sqlite3_finalize(*st);
        *st = NULL;
        return rc;
    }
    return IOTCA_OK;
}

/* The one integer sql answers (with ?1 = arg when not NULL); *v 0 and *found false when it answers no row. */
static iotca_rc lite_int(sqlite3 *db, const char *sql, const char *arg, int64_t *v, bool *found, const char *doing) {
    sqlite3_stmt *st;
    IOTCA_GUARD(lite_prepare(db, sql, arg, &st, doing));
    int e = sqlite3_step(st);
    *v = e == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (found) *found = e == SQLITE_ROW;
    iotca_rc rc = e == SQLITE_ROW || e == SQLITE_DONE
                      ? IOTCA_OK
                      : iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

static iotca_rc lite_count(sqlite3 *db, const char *quoted, int64_t *n, const char *doing) {
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", quoted); /* an identifier of the schema, quoted */
    return lite_int(db, sql, NULL, n, NULL, doing);
}

/* Table t's columns, whether it has a rowid, its rows and its AUTOINCREMENT mark. */
static iotca_rc source_table(sqlite3 *db, table *t, bool has_sequence) {
    char doing[128];
    snprintf(doing, sizeof doing, "reading the source's table %s", t->name);
    sqlite3_stmt *st;
    IOTCA_GUARD(lite_prepare(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", t->name, &st, doing));
    iotca_rc rc = IOTCA_OK;
    int e;
    while ((e = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        IOTCA_CHECK(t->ncol < MAX_COLS - 1, IOTCA_E_STORAGE, "%s: more than %d columns", doing, MAX_COLS - 1);
        IOTCA_CHECK(name && strlen(name) < sizeof t->col[0].name, IOTCA_E_STORAGE, "%s: a column name too long", doing);
        snprintf(t->col[t->ncol++].name, sizeof t->col[0].name, "%s", name);
    }
    IOTCA_CHECK(e == SQLITE_DONE, IOTCA_E_STORAGE, "%s: %s", doing, sqlite3_errmsg(db));
    IOTCA_CHECK(t->ncol > 0, IOTCA_E_STORAGE, "%s: it has no columns", doing);
    int64_t without = 0;
    IOTCA_TRY(
        lite_int(db, "SELECT wr FROM pragma_table_list(?1) WHERE schema = 'main'", t->name, &without, NULL, doing));
    t->has_rowid = without == 0;
    IOTCA_TRY(lite_count(db, t->quoted, &t->rows, doing));
    if (has_sequence)
        IOTCA_TRY(lite_int(db, "SELECT seq FROM sqlite_sequence WHERE name = ?1", t->name, &t->autoinc, NULL, doing));
out:
    sqlite3_finalize(st);
    return rc;
}

static int table_index(const copy_plan *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->t[i].name, name) == 0) return i;
    return -1;
}

/* The tables each table's foreign keys refer to: copied before it. A reference to itself (a certificate renewing
 * another) is met by reading the rows in rowid order instead. */
static iotca_rc source_deps(sqlite3 *db, copy_plan *p, table *t) {
    sqlite3_stmt *st;
    IOTCA_GUARD(lite_prepare(db, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)", t->name, &st,
                             "reading the source's foreign keys"));
    iotca_rc rc = IOTCA_OK;
    int e;
    while ((e = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ref = (const char *)sqlite3_column_text(st, 0);
        int k = ref ? table_index(p, ref) : -1;
        IOTCA_CHECK(k >= 0, IOTCA_E_STORAGE, "the source's table %s refers to a table %.64s it does not have", t->name,
                    ref ? ref : "?");
        if (k == t - p->t) continue;
        IOTCA_CHECK(t->ndep < MAX_DEPS, IOTCA_E_STORAGE, "the source's table %s refers to too many tables", t->name);
        t->dep[t->ndep++] = k;
    }
    IOTCA_CHECK(e == SQLITE_DONE, IOTCA_E_STORAGE, "reading the source's foreign keys: %s", sqlite3_errmsg(db));
out:
    sqlite3_finalize(st);
    return rc;
}

/* p->order: each table after the tables it refers to, otherwise by name (a deterministic order for the report). */
static iotca_rc source_order(copy_plan *p) {
    bool placed[IOTCA_DB_COPY_MAX_TABLES] = {false};
    for (int k = 0; k < p->n; k++) {
        int next = -1;
        for (int i = 0; i < p->n && next < 0; i++) {
            bool ready = !placed[i];
            for (int d = 0; ready && d < p->t[i].ndep; d++) ready = placed[p->t[i].dep[d]];
            if (ready) next = i;
        }
        if (next < 0) /* spelled out, not IOTCA_ENSURE: cppcheck without include paths must see the return */
            return iotca_error_set(IOTCA_E_STORAGE, "the source's foreign keys form a cycle: no order to copy them in");
        placed[next] = true;
        p->order[k] = next;
    }
    return IOTCA_OK;
}

/* Every table of the source (sqlite_master, SQLite's own tables aside), in name order. */
static iotca_rc source_plan(sqlite3 *db, copy_plan *p) {
    sqlite3_stmt *st;
    IOTCA_GUARD(lite_prepare(db,
                             "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                             "ESCAPE '\\' ORDER BY name",
                             NULL, &st, "listing the source's tables"));
    iotca_rc rc = IOTCA_OK;
    int e;
    while ((e = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        IOTCA_CHECK(p->n < IOTCA_DB_COPY_MAX_TABLES, IOTCA_E_STORAGE, "the source has more than %d tables",
                    IOTCA_DB_COPY_MAX_TABLES);
        table *t = &p->t[p->n++];
        IOTCA_CHECK(name && strlen(name) < sizeof t->name, IOTCA_E_STORAGE, "the source has a table name too long");
        snprintf(t->name, sizeof t->name, "%s", name);
        IOTCA_TRY(quote_ident(t->name, t->quoted, sizeof t->quoted));
    }
    IOTCA_CHECK(e == SQLITE_DONE, IOTCA_E_STORAGE, "listing the source's tables: %s", sqlite3_errmsg(db));
    IOTCA_CHECK(p->n > 0, IOTCA_E_STORAGE, "the source has no tables");
    bool has_sequence = false;
    int64_t ignored;
    IOTCA_TRY(lite_int(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'", NULL,
                       &ignored, &has_sequence, "reading the source's AUTOINCREMENT marks"));
    for (int i = 0; i < p->n; i++) {
        IOTCA_TRY(source_table(db, &p->t[i], has_sequence));
        IOTCA_TRY(source_deps(db, p, &p->t[i]));
    }
    IOTCA_TRY(source_order(p));
out:
    sqlite3_finalize(st);
    return rc;
}

/* The rows the migrations write themselves (the single rows of ocsp_mark and heartbeat), counted in a schema
 * built afresh in memory from the same migrations: a target holding just those is empty. PostgreSQL's migration
 * writes the same rows (tests/integration/test_pg_schema.sh). */
static iotca_rc fresh_seeds(copy_plan *p) {
    sqlite3 *m = NULL;
    iotca_rc rc = IOTCA_OK;
    IOTCA_CHECK(sqlite3_open_v2(":memory:", &m, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK,
                IOTCA_E_INTERNAL, "building a fresh schema in memory: %s", m ? sqlite3_errmsg(m) : "out of memory");
    for (int i = 0; i < iotca_schema_migration_count; i++)
        IOTCA_CHECK(sqlite3_exec(m, iotca_schema_migrations[i], NULL, NULL, NULL) == SQLITE_OK, IOTCA_E_INTERNAL,
                    "building a fresh schema in memory: migration %d: %s", i + 1, sqlite3_errmsg(m));
    for (int i = 0; i < p->n; i++)
        IOTCA_TRY(lite_count(m, p->t[i].quoted, &p->t[i].seeded, "counting a fresh schema's rows"));
out:
    sqlite3_close(m);
    return rc;
}

static iotca_rc source_current(iotca_store *from) {
    int64_t v = 0;
    IOTCA_GUARD(lite_int(from->db, "PRAGMA user_version", NULL, &v, NULL, "reading the source's schema version"));
    IOTCA_ENSURE(v != 0, IOTCA_E_STORAGE,
                 "the source is not an iotca database (schema version 0: iotcad init never ran on it)");
    iotca_rc rc = iotca_store_check_schema(from);
    return rc == IOTCA_OK ? rc : prefixed(rc, "the source database");
}

/* ---- the target (PostgreSQL) ---- */

/* Runs sql with up to two text parameters; its rows in *st (db_done after). */
static iotca_rc pg_query(iotca_store *to, const char *sql, const char *a1, const char *a2, const char *doing,
                         db_stmt *st) {
    const char *vals[2] = {a1, a2};
    return db_pg_query(to->pg, sql, a2 ? 2 : a1 ? 1 : 0, vals, NULL, NULL, doing, st);
}

static iotca_rc pg_count(iotca_store *to, const char *quoted, int64_t *n, const char *doing) {
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", quoted); /* an identifier of the schema, quoted */
    db_stmt st;
    IOTCA_GUARD(pg_query(to, sql, NULL, NULL, doing, &st));
    *n = db_step(&st) == DB_ROW ? db_col_int64(&st, 0) : 0;
    db_done(&st);
    return IOTCA_OK;
}

/* Before migrating: a database with tables but no schema_version is someone else's, and is left alone. */
static iotca_rc target_foreign(iotca_store *to) {
    db_stmt st;
    IOTCA_GUARD(pg_query(to,
                         "SELECT count(*), min(table_name), (to_regclass('schema_version') IS NULL)::int "
                         "FROM information_schema.tables WHERE table_schema = current_schema()",
                         NULL, NULL, "listing the target's tables", &st));
    int64_t n = db_step(&st) == DB_ROW ? db_col_int64(&st, 0) : 0;
    char first[64] = "";
    db_col_text_cut(&st, 1, first, sizeof first);
    bool foreign = n > 0 && db_col_int64(&st, 2) != 0;
    db_done(&st);
    IOTCA_ENSURE(!foreign, IOTCA_E_POLICY,
                 "the target database is not empty: it has %lld tables (%s ...) and is not an iotca database; "
                 "copy into an empty database",
                 (long long)n, first);
    return IOTCA_OK;
}

static iotca_rc target_ready(iotca_store *to) {
    IOTCA_GUARD(target_foreign(to));
    iotca_rc rc = iotca_store_migrate(to);
    if (rc == IOTCA_OK) rc = iotca_store_check_schema(to);
    return rc == IOTCA_OK ? rc : prefixed(rc, "the target database");
}

/* Table t's columns on PostgreSQL: the source's, in the same order, and one more named rowid where PostgreSQL
 * stands in for SQLite's rowid (certificates); which are BYTEA and which identities. */
static iotca_rc target_columns(iotca_store *to, table *t) {
    char doing[128];
    snprintf(doing, sizeof doing, "reading the target's table %s", t->name);
    db_stmt st;
    IOTCA_GUARD(pg_query(to,
                         "SELECT column_name, (data_type = 'bytea')::int, (is_identity = 'YES')::int "
                         "FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 "
                         "ORDER BY ordinal_position",
                         t->name, NULL, doing, &st));
    iotca_rc rc = IOTCA_OK;
    int i = 0;
    for (; db_step(&st) == DB_ROW; i++) {
        const char *name = db_pg_col_raw(&st, 0);
        bool extra = i == t->ncol && t->has_rowid && name && strcmp(name, "rowid") == 0;
        IOTCA_CHECK(i < t->ncol || extra, IOTCA_E_STORAGE, "the target's table %s has a column %s the source lacks",
                    t->name, name ? name : "?");
        IOTCA_CHECK(extra || strcmp(name ? name : "", t->col[i].name) == 0, IOTCA_E_STORAGE,
                    "the target's table %s has the column %s where the source has %s", t->name, name ? name : "?",
                    t->col[i].name);
        if (extra) {
            snprintf(t->col[i].name, sizeof t->col[i].name, "rowid");
            t->rowid_col = true;
        }
        t->col[i].bytea = db_col_int64(&st, 1) != 0;
        t->col[i].identity = db_col_int64(&st, 2) != 0;
    }
    IOTCA_CHECK(i > 0, IOTCA_E_STORAGE, "the target has no table %s", t->name);
    IOTCA_CHECK(i >= t->ncol, IOTCA_E_STORAGE, "the target's table %s lacks the column %s", t->name, t->col[i].name);
    t->ncol = i;
out:
    db_done(&st);
    return rc;
}

/* Every table of the target is one of the source's, locked against other writers until the commit, and holds no
 * row beyond the migrations' own: IOTCA_E_POLICY naming the first that does (in copy order). */
static iotca_rc target_empty(iotca_store *to, copy_plan *p) {
    db_stmt st;
    IOTCA_GUARD(pg_query(to,
                         "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                         "AND table_type = 'BASE TABLE' AND table_name <> 'schema_version' ORDER BY table_name",
                         NULL, NULL, "listing the target's tables", &st));
    const char *extra = NULL;
    while (extra == NULL && db_step(&st) == DB_ROW)
        if (table_index(p, db_pg_col_raw(&st, 0)) < 0) extra = db_pg_col_raw(&st, 0);
    iotca_rc rc =
        extra ? iotca_error_set(IOTCA_E_STORAGE, "the target has a table %.64s the source lacks", extra) : IOTCA_OK;
    db_done(&st);
    IOTCA_GUARD(rc);
    const table *full = NULL;
    int64_t full_rows = 0;
    int more = 0;
    for (int k = 0; k < p->n; k++) {
        table *t = &p->t[p->order[k]];
        char sql[200];
        snprintf(sql, sizeof sql, "LOCK TABLE %s IN EXCLUSIVE MODE", t->quoted); /* readers may go on */
        IOTCA_GUARD(pg_query(to, sql, NULL, NULL, "locking the target's tables", &st));
        db_done(&st);
        IOTCA_GUARD(target_columns(to, t));
        int64_t n = 0;
        IOTCA_GUARD(pg_count(to, t->quoted, &n, "counting the target's rows"));
        if (n <= t->seeded) continue;
        if (full == NULL)
            full = t, full_rows = n;
        else
            more++;
    }
    if (full == NULL) return IOTCA_OK;
    char also[64] = "";
    if (more) snprintf(also, sizeof also, " (and %d more tables have rows)", more);
    IOTCA_BAIL(IOTCA_E_POLICY,
               "the target database is not empty: table %s has %lld row%s%s; db copy only fills an empty database",
               full->name, (long long)full_rows, full_rows == 1 ? "" : "s", also);
}

/* ---- the rows ---- */

/* Column i of the source's current row as libpq's parameter: NULL as NULL, a BYTEA column's bytes as binary (an
 * empty BLOB as zero bytes, not NULL), anything else as its text (SQLite writes an integer in decimal). The
 * pointers live until the next sqlite3_step. */
static iotca_rc param_of(sqlite3_stmt *q, int i, const table *t, int64_t row, const char **val, int *len, int *fmt) {
    const column *c = &t->col[i];
    int type = sqlite3_column_type(q, i);
    *val = NULL, *len = 0, *fmt = 0;
    if (type == SQLITE_NULL) return IOTCA_OK;
    if (c->bytea) {
        IOTCA_ENSURE(type == SQLITE_BLOB || type == SQLITE_TEXT, IOTCA_E_STORAGE,
                     "copying table %s, row %lld: %s holds a number, and is BYTEA on PostgreSQL", t->name,
                     (long long)row, c->name);
        const void *p = sqlite3_column_blob(q, i);
        int n = sqlite3_column_bytes(q, i);
        IOTCA_ENSURE(p != NULL || n == 0, IOTCA_E_INTERNAL, "copying table %s: out of memory", t->name);
        *val = n ? p : "", *len = n, *fmt = 1;
        return IOTCA_OK;
    }
    IOTCA_ENSURE(type != SQLITE_BLOB, IOTCA_E_STORAGE,
                 "copying table %s, row %lld: %s holds a BLOB, and is not BYTEA on PostgreSQL", t->name, (long long)row,
                 c->name);
    const char *text = (const char *)sqlite3_column_text(q, i);
    IOTCA_ENSURE(text != NULL, IOTCA_E_INTERNAL, "copying table %s: out of memory", t->name);
    /* libpq takes text parameters as C strings, and PostgreSQL's text cannot hold a NUL */
    IOTCA_ENSURE(strlen(text) == (size_t)sqlite3_column_bytes(q, i), IOTCA_E_STORAGE,
                 "copying table %s, row %lld: %s holds a NUL byte, which PostgreSQL's text cannot", t->name,
                 (long long)row, c->name);
    *val = text;
    return IOTCA_OK;
}

/* The SELECT of every column of t from the source (SQLite's rowid for the column standing in for it), in rowid
 * order where it has one, and the INSERT of one row into the target: $1..$N, OVERRIDING SYSTEM VALUE so an
 * identity column GENERATED ALWAYS (certificates.rowid) takes the copied value. */
static iotca_rc copy_sql(const table *t, iotca_buf *sel, iotca_buf *ins) {
    IOTCA_GUARD(iotca_buf_append_str(sel, "SELECT "));
    IOTCA_GUARD(iotca_buf_printf(ins, "INSERT INTO %s (", t->quoted));
    for (int i = 0; i < t->ncol; i++) {
        char q[136];
        IOTCA_GUARD(quote_ident(t->col[i].name, q, sizeof q));
        bool rowid = t->rowid_col && i == t->ncol - 1;
        IOTCA_GUARD(iotca_buf_printf(sel, "%s%s", i ? ", " : "", rowid ? "rowid" : q));
        IOTCA_GUARD(iotca_buf_printf(ins, "%s%s", i ? ", " : "", q));
    }
    IOTCA_GUARD(iotca_buf_printf(sel, " FROM %s%s", t->quoted, t->has_rowid ? " ORDER BY rowid" : ""));
    IOTCA_GUARD(iotca_buf_append_str(ins, ") OVERRIDING SYSTEM VALUE VALUES ("));
    for (int i = 0; i < t->ncol; i++) IOTCA_GUARD(iotca_buf_printf(ins, "%s$%d", i ? ", " : "", i + 1));
    IOTCA_GUARD(iotca_buf_append_str(ins, ")"));
    IOTCA_GUARD(iotca_buf_cstr(sel));
    return iotca_buf_cstr(ins);
}

/* Every row of t, one parameterised INSERT each. The migrations' own rows (seeded) give way to the source's. */
static iotca_rc copy_table(iotca_store *from, iotca_store *to, const table *t) {
    iotca_buf sel = {0}, ins = {0};
    sqlite3_stmt *q = NULL;
    char doing[160];
    db_stmt st;
    iotca_rc rc = IOTCA_OK;
    if (t->seeded > 0) {
        char sql[200];
        snprintf(sql, sizeof sql, "DELETE FROM %s", t->quoted);
        snprintf(doing, sizeof doing, "copying table %s: emptying it", t->name);
        IOTCA_TRY(pg_query(to, sql, NULL, NULL, doing, &st));
        db_done(&st);
    }
    IOTCA_TRY(copy_sql(t, &sel, &ins));
    snprintf(doing, sizeof doing, "copying table %s", t->name);
    IOTCA_TRY(lite_prepare(from->db, (const char *)sel.data, NULL, &q, doing));
    const char *vals[MAX_COLS];
    int lens[MAX_COLS], fmts[MAX_COLS], e;
    int64_t row = 0;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        row++;
        for (int i = 0; i < t->ncol; i++) IOTCA_TRY(param_of(q, i, t, row, &vals[i], &lens[i], &fmts[i]));
        snprintf(doing, sizeof doing, "copying table %s, row %lld", t->name, (long long)row);
        IOTCA_TRY(db_pg_query(to->pg, (const char *)ins.data, t->ncol, vals, lens, fmts, doing, &st));
        db_done(&st);
    }
    IOTCA_CHECK(e == SQLITE_DONE, IOTCA_E_STORAGE, "copying table %s: reading the source: %s", t->name,
                sqlite3_errmsg(from->db));
out:
    sqlite3_finalize(q);
    iotca_buf_free(&sel);
    iotca_buf_free(&ins);
    return rc;
}

/* Each identity column's sequence past the greatest value copied, so PostgreSQL's next insert does not collide
 * with a copied row; and past SQLite's AUTOINCREMENT mark (the revocation feed's), which may stand above the rows
 * left: a number SQLite handed out once is never handed out again, on either database. A sequence of an empty
 * table stays at its start. */
static iotca_rc move_sequences(iotca_store *to, const copy_plan *p, int *moved) {
    for (int k = 0; k < p->n; k++) {
        const table *t = &p->t[p->order[k]];
        for (int i = 0; i < t->ncol; i++) {
            if (!t->col[i].identity) continue;
            char q[136], sql[400], doing[160], v[24];
            IOTCA_GUARD(quote_ident(t->col[i].name, q, sizeof q));
            snprintf(doing, sizeof doing, "moving the sequence of %s.%s", t->name, t->col[i].name);
            snprintf(sql, sizeof sql, "SELECT COALESCE(max(%s), 0) FROM %s", q, t->quoted);
            db_stmt st;
            IOTCA_GUARD(pg_query(to, sql, NULL, NULL, doing, &st));
            int64_t top = db_step(&st) == DB_ROW ? db_col_int64(&st, 0) : 0;
            db_done(&st);
            if (!(t->rowid_col && i == t->ncol - 1) && t->autoinc > top) top = t->autoinc;
            if (top < 1) continue;
            snprintf(v, sizeof v, "%lld", (long long)top);
            const char *vals[3] = {t->quoted, t->col[i].name, v};
            IOTCA_GUARD(db_pg_query(to->pg, "SELECT setval(pg_get_serial_sequence($1, $2), $3::bigint)", 3, vals, NULL,
                                    NULL, doing, &st));
            db_done(&st);
            (*moved)++;
        }
    }
    return IOTCA_OK;
}

/* Before the commit: every table holds on the target as many rows as the source's. */
static iotca_rc verify_counts(iotca_store *to, const copy_plan *p) {
    for (int k = 0; k < p->n; k++) {
        const table *t = &p->t[p->order[k]];
        int64_t n = 0;
        IOTCA_GUARD(pg_count(to, t->quoted, &n, "counting the copied rows"));
        IOTCA_ENSURE(n == t->rows, IOTCA_E_STORAGE,
                     "after copying, table %s holds %lld rows on PostgreSQL, %lld in the source", t->name, (long long)n,
                     (long long)t->rows);
    }
    return IOTCA_OK;
}

static void report(const copy_plan *p, int moved, iotca_db_copy_report *out) {
    for (int k = 0; k < p->n; k++) {
        const table *t = &p->t[p->order[k]];
        snprintf(out->table[k].name, sizeof out->table[k].name, "%s", t->name);
        out->table[k].rows = t->rows;
        out->rows += t->rows;
    }
    out->n = (size_t)p->n;
    out->sequences = moved;
}

/* ---- the copy ---- */

iotca_rc iotca_store_copy(iotca_store *from, iotca_store *to, iotca_db_copy_report *out) {
    IOTCA_ENSURE(from && to && out, IOTCA_E_USAGE, "iotca_store_copy: NULL argument");
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(from->db != NULL, IOTCA_E_USAGE, "the source of a copy must be a SQLite database");
    IOTCA_ENSURE(to->pg != NULL, IOTCA_E_USAGE, "the target of a copy must be a PostgreSQL database");
    IOTCA_ENSURE(!db_in_transaction(from) && !db_in_transaction(to), IOTCA_E_USAGE,
                 "iotca_store_copy: a transaction is open");
    IOTCA_GUARD(source_current(from));
    IOTCA_GUARD(target_ready(to));
    copy_plan *p = calloc(1, sizeof *p);
    IOTCA_ENSURE(p != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = IOTCA_OK;
    int moved = 0;
    /* one read transaction: every table read from the same snapshot, whatever commits meanwhile */
    IOTCA_CHECK(sqlite3_exec(from->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK, IOTCA_E_STORAGE,
                "reading the source: %s", sqlite3_errmsg(from->db));
    IOTCA_TRY(source_plan(from->db, p));
    IOTCA_TRY(fresh_seeds(p));
    IOTCA_TRY(db_pg_exec(to->pg, "BEGIN", "starting the copy on PostgreSQL"));
    IOTCA_TRY(target_empty(to, p));
    for (int k = 0; k < p->n; k++) IOTCA_TRY(copy_table(from, to, &p->t[p->order[k]]));
    IOTCA_TRY(move_sequences(to, p, &moved));
    IOTCA_TRY(verify_counts(to, p));
    IOTCA_TRY(iotca_sq_commit(to, "committing the copy on PostgreSQL"));
    report(p, moved, out);
out:
    iotca_sq_rollback(to); /* a no-op after the commit; keeps the failure's detail */
    if (!sqlite3_get_autocommit(from->db)) sqlite3_exec(from->db, "ROLLBACK", NULL, NULL, NULL); /* read only */
    free(p);
    return rc;
}

/* Before the source is opened for the copy (which sets WAL mode, a change to the file): read read-only that it is
 * an existing SQLite database at a schema version of iotca's. */
static iotca_rc source_readable(const char *path) {
    struct stat sb;
    IOTCA_ENSURE(stat(path, &sb) == 0, IOTCA_E_STORAGE, "the source database %s %s", path,
                 errno == ENOENT ? "does not exist" : strerror(errno));
    IOTCA_ENSURE(S_ISREG(sb.st_mode), IOTCA_E_STORAGE, "the source database %s is not a file", path);
    sqlite3 *db = NULL;
    iotca_rc rc = IOTCA_OK;
    int64_t v = 0;
    IOTCA_CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK,
                IOTCA_E_STORAGE, "opening the source database %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    if (lite_int(db, "PRAGMA user_version", NULL, &v, NULL, "reading it") != IOTCA_OK) {
        rc = sqlite3_errcode(db) == SQLITE_NOTADB
                 ? iotca_error_set(IOTCA_E_STORAGE, "the source %s is not a SQLite database", path)
                 : prefixed(IOTCA_E_STORAGE, path);
        goto out;
    }
    IOTCA_CHECK(v != 0, IOTCA_E_STORAGE,
                "the source %s is not an iotca database (schema version 0: iotcad init never ran on it)", path);
out:
    sqlite3_close(db);
    return rc;
}

iotca_rc iotca_store_copy_files(const char *from_path, const char *to_conninfo, iotca_db_copy_report *out) {
    IOTCA_ENSURE(from_path && to_conninfo && out, IOTCA_E_USAGE, "iotca_store_copy_files: NULL argument");
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(!iotca_store_is_pg_conninfo(from_path), IOTCA_E_USAGE,
                 "the source must be a SQLite database file, not a PostgreSQL conninfo");
    /* the conninfo is not repeated: a URL or its words may hold a password */
    IOTCA_ENSURE(iotca_store_is_pg_conninfo(to_conninfo), IOTCA_E_USAGE,
                 "the target must be a PostgreSQL database: a postgresql:// URL, or conninfo words with host= or "
                 "dbname=");
    IOTCA_GUARD(source_readable(from_path));
    iotca_store *from = NULL, *to = NULL;
    iotca_rc rc = iotca_store_open(from_path, false, 5000, &from);
    if (rc == IOTCA_OK) rc = source_current(from); /* before anything reaches the target */
    if (rc == IOTCA_OK) rc = iotca_store_open(to_conninfo, false, 0, &to);
    if (rc == IOTCA_OK) rc = iotca_store_copy(from, to, out);
    iotca_store_close(to);
    iotca_store_close(from);
    return rc;
}
