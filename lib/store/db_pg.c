/* The PostgreSQL side of the store's statement API (db.h), on libpq: a
 * connection per store handle, statements prepared once per connection
 * (PQprepare), parameters sent as text (integers, text) or binary (blobs),
 * results read as text (a BYTEA column unescaped with PQunescapeBytea). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define TEXTOID 25 /* pg_type.oid of text (catalog/pg_type_d.h, a server header) */

#include "db.h"

struct db_pg {
    PGconn *conn;
    char err[512]; /* the last failure's message, one line */
};

/* libpq's messages end with a newline and may span lines: one line for the
 * error detail. */
static void keep_error(db_pg *c, const char *msg) {
    snprintf(c->err, sizeof c->err, "%s", msg && *msg ? msg : "unknown PostgreSQL error");
    for (char *p = c->err; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    size_t n = strlen(c->err);
    while (n && c->err[n - 1] == ' ') c->err[--n] = 0;
}

static void quiet(void *arg, const char *message) { (void)arg, (void)message; }

iotca_rc db_pg_open(const char *conninfo, db_pg **out) {
    *out = NULL;
    db_pg *c = calloc(1, sizeof *c);
    IOTCA_ENSURE(c != NULL, IOTCA_E_INTERNAL, "out of memory");
    c->conn = PQconnectdb(conninfo);
    if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
        keep_error(c, c->conn ? PQerrorMessage(c->conn) : "out of memory");
        iotca_rc rc = iotca_error_set(IOTCA_E_STORAGE, "connecting to PostgreSQL: %s", c->err);
        db_pg_close(c);
        return rc;
    }
    /* the server's notices (CREATE ... IF NOT EXISTS that found it) are not errors: not on stderr */
    PQsetNoticeProcessor(c->conn, quiet, NULL);
    /* UTC and plain strings whatever the server's defaults: the store compares
     * and sorts text byte-wise */
    PGresult *r = PQexec(c->conn, "SET TIME ZONE 'UTC'; SET standard_conforming_strings = on");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        keep_error(c, PQerrorMessage(c->conn));
        iotca_rc rc = iotca_error_set(IOTCA_E_STORAGE, "setting up the PostgreSQL session: %s", c->err);
        db_pg_close(c);
        return rc;
    }
    *out = c;
    return IOTCA_OK;
}

void db_pg_close(db_pg *c) {
    if (c == NULL) return;
    PQfinish(c->conn);
    free(c);
}

const char *db_pg_error(db_pg *c) {
    if (!c->err[0]) keep_error(c, PQerrorMessage(c->conn));
    return c->err;
}

bool db_pg_in_transaction(db_pg *c) { return PQtransactionStatus(c->conn) != PQTRANS_IDLE; }

iotca_rc db_pg_exec(db_pg *c, const char *sql, const char *doing) {
    PGresult *r = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) keep_error(c, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? IOTCA_OK : iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, c->err);
}

static char *dollar_params(const char *sql, int *max, bool used[DB_MAX_PARAMS + 1]);

iotca_rc db_pg_exec_2(db_pg *c, const char *sql, int64_t p1, int64_t p2, const char *doing, int64_t *changes) {
    int max = 0;
    bool used[DB_MAX_PARAMS + 1] = {false};
    char *text = dollar_params(sql, &max, used), a[24], b[24];
    IOTCA_ENSURE(text != NULL, IOTCA_E_INTERNAL, "%s: out of memory", doing);
    snprintf(a, sizeof a, "%lld", (long long)p1);
    snprintf(b, sizeof b, "%lld", (long long)p2);
    const char *vals[2] = {a, b};
    PGresult *r = PQexecParams(c->conn, text, max < 2 ? max : 2, NULL, vals, NULL, NULL, 0);
    free(text);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (ok) *changes = strtoll(PQcmdTuples(r), NULL, 10);
    else keep_error(c, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? IOTCA_OK : iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, c->err);
}

void db_pg_version(db_pg *c, char *out, size_t cap) {
    int v = PQserverVersion(c->conn);
    snprintf(out, cap, "PostgreSQL %d.%d", v / 10000, v % 10000);
}

/* The store's SQL with ?N turned into $N (outside quoted strings), the highest N, and which N it uses. */
static char *dollar_params(const char *sql, int *max, bool used[DB_MAX_PARAMS + 1]) {
    size_t n = strlen(sql);
    char *out = malloc(n + 1);
    if (out == NULL) return NULL;
    bool quoted = false;
    size_t k = 0;
    *max = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = sql[i];
        if (ch == '\'') quoted = !quoted;
        if (ch == '?' && !quoted && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            out[k++] = '$';
            int num = 0;
            while (sql[i + 1] >= '0' && sql[i + 1] <= '9') {
                num = num * 10 + (sql[i + 1] - '0');
                out[k++] = sql[++i];
            }
            if (num > *max) *max = num;
            if (num <= DB_MAX_PARAMS) used[num] = true;
            continue;
        }
        out[k++] = ch;
    }
    out[k] = 0;
    return out;
}

db_stmt *db_pg_prepare(db_pg *c, unsigned id, const char *sql, const char *doing, iotca_rc *rc) {
    int max = 0;
    bool used[DB_MAX_PARAMS + 1] = {false};
    char *text = dollar_params(sql, &max, used);
    db_stmt *st = calloc(1, sizeof *st);
    if (text == NULL || st == NULL || max > DB_MAX_PARAMS) {
        free(text);
        free(st);
        *rc = iotca_error_set(IOTCA_E_INTERNAL, "%s: %s", doing,
                              max > DB_MAX_PARAMS ? "too many parameters" : "out of memory");
        return NULL;
    }
    st->pg = c;
    st->nparams = max;
    snprintf(st->name, sizeof st->name, "q%u", id);
    /* a parameter the text does not use (cert_list's variants bind only their filters') has no type to infer:
     * declared text; the others are typed by their context */
    Oid types[DB_MAX_PARAMS] = {0};
    for (int i = 1; i <= max; i++) types[i - 1] = used[i] ? 0 : TEXTOID;
    PGresult *r = PQprepare(c->conn, st->name, text, max, types);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) keep_error(c, PQresultErrorMessage(r));
    PQclear(r);
    free(text);
    if (!ok) {
        free(st);
        *rc = iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, c->err);
        return NULL;
    }
    *rc = IOTCA_OK;
    return st;
}

bool db_pg_bind(db_stmt *st, int i, const void *p, size_t n, bool binary, bool null) {
    if (i < 1 || i > DB_MAX_PARAMS || n > 0x7fffffff) return false;
    free(st->val[i - 1]);
    st->val[i - 1] = NULL;
    st->len[i - 1] = 0;
    st->fmt[i - 1] = binary;
    if (null) return true;
    char *copy = malloc(n + 1); /* text parameters are C strings to libpq */
    if (copy == NULL) return false;
    if (n) memcpy(copy, p, n);
    copy[n] = 0;
    st->val[i - 1] = copy;
    st->len[i - 1] = (int)n;
    return true;
}

static enum db_step_rc failed(db_stmt *st, PGresult *r) {
    keep_error(st->pg, PQresultErrorMessage(r));
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, "23505") == 0) return DB_UNIQUE;
    if (state && strcmp(state, "23503") == 0) return DB_FOREIGN_KEY;
    if (state && (strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0)) return DB_CHECK;
    return DB_FAILED;
}

enum db_step_rc db_pg_step(db_stmt *st) {
    if (!st->ran) {
        st->ran = true;
        st->pg->err[0] = 0;
        PGresult *r =
            PQexecPrepared(st->pg->conn, st->name, st->nparams, (const char *const *)st->val, st->len, st->fmt, 0);
        ExecStatusType es = PQresultStatus(r);
        if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
            enum db_step_rc e = failed(st, r);
            PQclear(r);
            return e;
        }
        st->res = r;
        st->nrows = PQntuples(r);
        st->row = -1;
        const char *tuples = PQcmdTuples(r);
        st->changes = tuples && *tuples ? strtoll(tuples, NULL, 10) : 0;
    }
    if (st->row + 1 < st->nrows) {
        st->row++;
        return DB_ROW;
    }
    st->row = st->nrows;
    return DB_DONE;
}

int64_t db_pg_col_int64(db_stmt *st, int col) {
    if (st->res == NULL || st->row < 0 || st->row >= st->nrows || PQgetisnull(st->res, st->row, col)) return 0;
    return strtoll(PQgetvalue(st->res, st->row, col), NULL, 10);
}

bool db_pg_col_is_null(db_stmt *st, int col) {
    return st->res == NULL || st->row < 0 || st->row >= st->nrows || PQgetisnull(st->res, st->row, col);
}

iotca_rc db_pg_col_text(db_stmt *st, int col, char *dst, size_t cap, const char *what) {
    dst[0] = 0;
    if (db_pg_col_is_null(st, col)) return IOTCA_OK;
    int n = PQgetlength(st->res, st->row, col);
    IOTCA_ENSURE(n >= 0 && (size_t)n < cap, IOTCA_E_STORAGE, "stored %s is %d bytes, longer than the %zu allowed", what,
                 n, cap - 1);
    memcpy(dst, PQgetvalue(st->res, st->row, col), (size_t)n);
    dst[n] = 0;
    return IOTCA_OK;
}

const char *db_pg_col_raw(db_stmt *st, int col) {
    return db_pg_col_is_null(st, col) ? NULL : PQgetvalue(st->res, st->row, col);
}

iotca_rc db_pg_col_blob(db_stmt *st, int col, iotca_buf *dst, const char *what) {
    if (db_pg_col_is_null(st, col)) return IOTCA_OK;
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, col), &n);
    IOTCA_ENSURE(raw != NULL, IOTCA_E_STORAGE, "reading %s: not a BYTEA value", what);
    iotca_rc rc = iotca_buf_append(dst, raw, n);
    PQfreemem(raw);
    return rc;
}

int64_t db_pg_changes(db_stmt *st) { return st->changes; }

void db_pg_done(db_stmt *st) {
    PQclear(st->res);
    st->res = NULL;
    st->ran = false;
    st->row = st->nrows = 0; /* changes stays: callers may read it after readying the statement */
    for (int i = 0; i < DB_MAX_PARAMS; i++) {
        free(st->val[i]);
        st->val[i] = NULL;
        st->len[i] = st->fmt[i] = 0;
    }
}

void db_pg_free(db_stmt *st) {
    if (st == NULL) return;
    db_pg_done(st);
    free(st);
}
