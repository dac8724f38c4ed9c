/* The store's statement API (db.h): the dispatch between the two databases, and
 * the SQLite side of it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

bool db_is_pg(const iotca_store *s) { return s->pg != NULL; }

iotca_rc db_stmt_get(iotca_store *s, enum iotca_sq_id id, const char *sql, const char *doing, db_stmt **out) {
    if (s->pg) {
        /* prepared again after a reconnection; a lost connection is made again here when it can be */
        IOTCA_GUARD(db_pg_prepare(s->pg, (unsigned)id, sql, doing, &s->dst[id]));
        s->dst[id]->s = s;
    } else if (s->dst[id] == NULL) {
        IOTCA_GUARD(iotca_sq_prepare(s, &s->stmt[id], sql, doing));
        s->dst[id] = calloc(1, sizeof *s->dst[id]);
        IOTCA_ENSURE(s->dst[id] != NULL, IOTCA_E_INTERNAL, "out of memory");
        s->dst[id]->lite = s->stmt[id];
        s->dst[id]->s = s;
    }
    *out = s->dst[id];
    return IOTCA_OK;
}

bool db_bind_int64(db_stmt *st, int i, int64_t v) {
    if (st->pg) {
        char text[24];
        int n = snprintf(text, sizeof text, "%lld", (long long)v);
        return db_pg_bind(st, i, text, (size_t)n, false, false);
    }
    return sqlite3_bind_int64(st->lite, i, (sqlite3_int64)v) == SQLITE_OK;
}

bool db_bind_text(db_stmt *st, int i, const char *v) {
    if (st->pg) return db_pg_bind(st, i, v, v ? strlen(v) : 0, false, v == NULL);
    return (v ? sqlite3_bind_text(st->lite, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st->lite, i)) == SQLITE_OK;
}

bool db_bind_blob(db_stmt *st, int i, const void *p, size_t n) {
    if (st->pg) return db_pg_bind(st, i, p, n, true, false);
    /* an empty blob is a zero-length BLOB, not NULL: SQLite binds NULL for a NULL
     * pointer */
    static const uint8_t none[1];
    return sqlite3_bind_blob64(st->lite, i, n ? p : none, n, SQLITE_STATIC) == SQLITE_OK;
}

bool db_bind_text_n(db_stmt *st, int i, const char *p, size_t n) {
    if (st->pg) return db_pg_bind(st, i, p, n, false, false);
    return n <= INT32_MAX && sqlite3_bind_text(st->lite, i, p, (int)n, SQLITE_STATIC) == SQLITE_OK;
}

bool db_bind_null(db_stmt *st, int i) {
    if (st->pg) return db_pg_bind(st, i, NULL, 0, false, true);
    return sqlite3_bind_null(st->lite, i) == SQLITE_OK;
}

enum db_step_rc db_step(db_stmt *st) {
    if (st->pg) return db_pg_step(st);
    int e = sqlite3_step(st->lite);
    switch (e) {
    case SQLITE_ROW: return DB_ROW;
    case SQLITE_DONE: st->changes = sqlite3_changes(st->s->db); return DB_DONE;
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE: return DB_UNIQUE;
    case SQLITE_CONSTRAINT_FOREIGNKEY: return DB_FOREIGN_KEY;
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL: return DB_CHECK;
    default: return DB_FAILED;
    }
}

int64_t db_col_int64(db_stmt *st, int col) {
    return st->pg ? db_pg_col_int64(st, col) : (int64_t)sqlite3_column_int64(st->lite, col);
}

bool db_col_is_null(db_stmt *st, int col) {
    return st->pg ? db_pg_col_is_null(st, col) : sqlite3_column_type(st->lite, col) == SQLITE_NULL;
}

iotca_rc db_col_text(db_stmt *st, int col, char *dst, size_t cap, const char *what) {
    return st->pg ? db_pg_col_text(st, col, dst, cap, what) : iotca_sq_col_text(st->lite, col, dst, cap, what);
}

iotca_rc db_col_text_buf(db_stmt *st, int col, iotca_buf *dst) {
    const char *t = st->pg ? db_pg_col_raw(st, col) : (const char *)sqlite3_column_text(st->lite, col);
    return t ? iotca_buf_append(dst, t, strlen(t)) : IOTCA_OK;
}

void db_col_text_cut(db_stmt *st, int col, char *dst, size_t cap) {
    const char *t = st->pg ? db_pg_col_raw(st, col) : (const char *)sqlite3_column_text(st->lite, col);
    snprintf(dst, cap, "%s", t ? t : "");
}

iotca_rc db_col_blob(db_stmt *st, int col, iotca_buf *dst, const char *what) {
    return st->pg ? db_pg_col_blob(st, col, dst, what) : iotca_sq_col_blob(st->lite, col, dst, what);
}

bool db_col_fixed(db_stmt *st, int col, void *dst, size_t n) {
    if (st->pg) {
        iotca_buf b = {0};
        bool ok = !db_pg_col_is_null(st, col) && db_pg_col_blob(st, col, &b, "a fixed-size value") == IOTCA_OK &&
                  b.len == n;
        if (ok) memcpy(dst, b.data, n);
        iotca_buf_free(&b);
        return ok;
    }
    const void *p = sqlite3_column_blob(st->lite, col);
    if (p == NULL || sqlite3_column_bytes(st->lite, col) != (int)n) return false;
    memcpy(dst, p, n);
    return true;
}

int64_t db_changes(db_stmt *st) { return st->pg ? db_pg_changes(st) : st->changes; }

void db_done(db_stmt *st) {
    if (st == NULL) return;
    if (st->pg)
        db_pg_done(st);
    else
        iotca_sq_done(st->lite);
}

iotca_rc db_fail(iotca_store *s, const char *fmt, ...) {
    char doing[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(doing, sizeof doing, fmt, ap);
    va_end(ap);
    return iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, s->pg ? db_pg_error(s->pg) : sqlite3_errmsg(s->db));
}

bool iotca_store_in_transaction(iotca_store *s) { return s != NULL && db_in_transaction(s); }

bool db_in_transaction(iotca_store *s) {
    return s->pg ? db_pg_in_transaction(s->pg) : sqlite3_get_autocommit(s->db) == 0;
}

iotca_rc db_exec(iotca_store *s, const char *sql, const char *doing) {
    if (s->pg) return db_pg_exec(s->pg, sql, doing);
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? IOTCA_OK : db_fail(s, "%s", doing);
}

iotca_rc db_exec_2(iotca_store *s, const char *sql, int64_t p1, int64_t p2, const char *doing, int64_t *changes) {
    *changes = 0;
    if (s->pg) return db_pg_exec_2(s->pg, sql, p1, p2, doing, changes);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return db_fail(s, "%s", doing);
    int e = sqlite3_bind_int64(st, 1, p1) == SQLITE_OK && sqlite3_bind_int64(st, 2, p2) == SQLITE_OK
                ? sqlite3_step(st)
                : SQLITE_ERROR;
    iotca_rc rc = e == SQLITE_DONE ? IOTCA_OK : db_fail(s, "%s", doing);
    if (rc == IOTCA_OK) *changes = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    return rc;
}

/* Frees the statements written on db.h (iotca_store_close; the SQLite ones'
 * prepared forms are s->stmt's). */
void db_free_all(iotca_store *s) {
    for (size_t i = 0; i < SQ_COUNT; i++) {
        if (s->dst[i] && s->pg)
            db_pg_free(s->dst[i]);
        else
            free(s->dst[i]);
        s->dst[i] = NULL;
    }
}
