/* The PostgreSQL side of the store's statement API (db.h), on libpq: a
 * connection per store handle, statements prepared once per connection
 * (PQprepare), parameters sent as text (integers, text) or binary (blobs),
 * results read as text (a BYTEA column unescaped with PQunescapeBytea). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define TEXTOID 25 /* pg_type.oid of text (catalog/pg_type_d.h, a server header) */

#include "db.h"

struct db_pg {
    PGconn *conn;
    char err[512]; /* the last failure's message, one line */
    /* a transaction this connection's BEGIN opened and no COMMIT or ROLLBACK has ended yet: while one is open, a
     * lost connection is never silently replaced (the transaction's statements would run on the new one
     * outside it, and its COMMIT would "succeed" on nothing) */
    bool in_tx;
    bool reader;    /* a read replica's connection: every transaction read-only (db_pg_set_reader) */
    bool listening; /* LISTENs (db_pg_listen): notifications arrive unasked */
    unsigned epoch; /* how many times the connection was made again: statements prepared before are gone */
};

/* The session settings every connection gets (db_pg_set_options). */
static struct {
    int connect_timeout_s, statement_timeout_ms;
    bool remote_apply;
} opts;

void db_pg_set_options(int connect_timeout_s, int statement_timeout_ms, bool remote_apply) {
    opts.connect_timeout_s = connect_timeout_s;
    opts.statement_timeout_ms = statement_timeout_ms;
    opts.remote_apply = remote_apply;
}

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

/* UTC and plain strings whatever the server's defaults (the store compares and sorts text byte-wise), and the
 * configured statement timeout: run on each new connection, and again after a reconnection. */
static bool set_up_session(db_pg *c) {
    /* the server's notices (CREATE ... IF NOT EXISTS that found it) are not errors: not on stderr */
    PQsetNoticeProcessor(c->conn, quiet, NULL);
    char sql[384];
    /* remote_apply (with a read replica): a commit returns once the synchronous standby applied it, so a read
     * there after this process reported a write sees it; a reader's transactions are read-only, so no write
     * can go to it by mistake */
    /* the server's TCP keepalives at 10 s, then 3 probes 5 s apart: a replica cut off by the network (no FIN
     * ever arrives) loses its session, and the tick's lock with it, within about 25 s instead of the kernel's
     * two hours (ignored on a Unix socket, where a dead peer is seen at once) */
    snprintf(sql, sizeof sql,
             "SET TIME ZONE 'UTC'; SET standard_conforming_strings = on; SET statement_timeout = %d; "
             "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3%s%s",
             opts.statement_timeout_ms > 0 ? opts.statement_timeout_ms : 0,
             opts.remote_apply && !c->reader ? "; SET synchronous_commit = remote_apply" : "",
             c->reader ? "; SET default_transaction_read_only = on" : "");
    PGresult *r = PQexec(c->conn, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) keep_error(c, PQerrorMessage(c->conn));
    return ok;
}

iotca_rc db_pg_open(const char *conninfo, db_pg **out) {
    *out = NULL;
    db_pg *c = calloc(1, sizeof *c);
    IOTCA_ENSURE(c != NULL, IOTCA_E_INTERNAL, "out of memory");
    /* the conninfo as dbname with expand_dbname: its URL or words are read whole, and a connect_timeout of the
     * config applies where the conninfo names none */
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", opts.connect_timeout_s > 0 ? opts.connect_timeout_s : 10);
    /* libpq's keepalives likewise, so a replica notices a server gone silent (the conninfo may override) */
    const char *const keys[] = {"connect_timeout", "fallback_application_name", "keepalives_idle",
                                "keepalives_interval", "keepalives_count", "dbname", NULL};
    const char *const vals[] = {timeout, "iotcad", "10", "5", "3", conninfo, NULL};
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
        keep_error(c, c->conn ? PQerrorMessage(c->conn) : "out of memory");
        iotca_rc rc = iotca_error_set(IOTCA_E_STORAGE, "connecting to PostgreSQL: %s", c->err);
        db_pg_close(c);
        return rc;
    }
    if (!set_up_session(c)) {
        iotca_rc rc = iotca_error_set(IOTCA_E_STORAGE, "setting up the PostgreSQL session: %s", c->err);
        db_pg_close(c);
        return rc;
    }
    *out = c;
    return IOTCA_OK;
}

/* Whether the connection can take a statement now: a connection found lost is made again here when no
 * transaction of ours was open on it (that transaction's caller is told of the failure and rolls back first).
 * False with the reason in c->err. */
static bool usable(db_pg *c) {
    /* an idle connection has nothing to read unless the server closed it (a restart, an administrator's
     * termination: its last words and EOF are waiting): looked at before a statement outside a transaction
     * (one poll), so the first statement after a server restart runs on a new connection instead of failing */
    bool goodbye = false;
    if (!c->in_tx && PQstatus(c->conn) == CONNECTION_OK) {
        struct pollfd p = {.fd = PQsocket(c->conn), .events = POLLIN};
        if (poll(&p, 1, 0) > 0) {
            (void)PQconsumeInput(c->conn); /* EOF makes the status CONNECTION_BAD */
            /* An idle session that does not LISTEN is sent nothing unasked but the server's goodbye: "FATAL:
             * terminating connection" before it closes. The close can come a moment after that message, and
             * libpq keeps the message unparsed until the next statement, which then fails with "server closed
             * the connection unexpectedly" (seen under ASan, one run in four, right after a restart): a new
             * connection now instead. */
            goodbye = !c->listening;
        }
    }
    if (PQstatus(c->conn) == CONNECTION_OK && !goodbye) return true;
    if (c->in_tx) {
        keep_error(c, "the connection to PostgreSQL was lost inside a transaction");
        return false;
    }
    PQreset(c->conn);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        char why[400];
        snprintf(why, sizeof why, "the connection to PostgreSQL was lost and reconnecting failed: %s",
                 PQerrorMessage(c->conn));
        keep_error(c, why);
        return false;
    }
    c->epoch++; /* the server forgot the old session's prepared statements */
    return set_up_session(c);
}

unsigned db_pg_epoch(db_pg *c) { return c->epoch; }

iotca_rc db_pg_set_reader(db_pg *c) {
    c->reader = true;
    return set_up_session(c) ? IOTCA_OK
                             : iotca_error_set(IOTCA_E_STORAGE, "setting up the read replica's session: %s", c->err);
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

bool db_pg_in_transaction(db_pg *c) {
    PGTransactionStatusType t = PQtransactionStatus(c->conn);
    return c->in_tx || t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* How sql moves the transaction: 1 opens one, -1 ends one (whatever its outcome: a COMMIT or ROLLBACK that
 * failed on a lost connection ended it too), 0 neither (ROLLBACK TO SAVEPOINT included). */
static int tx_move(const char *sql) {
    if (strncmp(sql, "BEGIN", 5) == 0) return 1;
    if (strcmp(sql, "COMMIT") == 0 || strcmp(sql, "ROLLBACK") == 0) return -1;
    return 0;
}

iotca_rc db_pg_exec(db_pg *c, const char *sql, const char *doing) {
    int move = tx_move(sql);
    if (move == -1) c->in_tx = false;
    if (!c->in_tx && !usable(c)) return iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, c->err);
    PGresult *r = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) keep_error(c, PQresultErrorMessage(r));
    PQclear(r);
    if (ok && move == 1) c->in_tx = true;
    return ok ? IOTCA_OK : iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, c->err);
}

static char *dollar_params(const char *sql, int *max, bool used[DB_MAX_PARAMS + 1]);

iotca_rc db_pg_exec_2(db_pg *c, const char *sql, int64_t p1, int64_t p2, const char *doing, int64_t *changes) {
    int max = 0;
    bool used[DB_MAX_PARAMS + 1] = {false};
    char *text = dollar_params(sql, &max, used), a[24], b[24];
    IOTCA_ENSURE(text != NULL, IOTCA_E_INTERNAL, "%s: out of memory", doing);
    if (!c->in_tx && !usable(c)) {
        free(text);
        return iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, c->err);
    }
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

iotca_rc db_pg_prepare(db_pg *c, unsigned id, const char *sql, const char *doing, db_stmt **slot) {
    if (!usable(c)) return iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, c->err);
    if (*slot != NULL && (*slot)->epoch == c->epoch) return IOTCA_OK;
    int max = 0;
    bool used[DB_MAX_PARAMS + 1] = {false};
    char *text = dollar_params(sql, &max, used);
    /* a statement of an earlier connection keeps its struct (a caller may hold it) and is prepared again */
    db_stmt *st = *slot ? *slot : calloc(1, sizeof *st);
    if (text == NULL || st == NULL || max > DB_MAX_PARAMS) {
        free(text);
        if (st != *slot) free(st);
        IOTCA_BAIL(IOTCA_E_INTERNAL, "%s: %s", doing, max > DB_MAX_PARAMS ? "too many parameters" : "out of memory");
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
        if (st != *slot) free(st);
        return iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, c->err);
    }
    st->epoch = c->epoch;
    *slot = st;
    return IOTCA_OK;
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

iotca_rc db_pg_listen(db_pg *c, const char *channel) {
    char sql[96];
    /* the channel is ours (a fixed identifier), never input */
    snprintf(sql, sizeof sql, "LISTEN %s", channel);
    iotca_rc rc = db_pg_exec(c, sql, "listening for notifications");
    c->listening = rc == IOTCA_OK;
    return rc;
}

int db_pg_wait_notify(db_pg *c, int timeout_ms) {
    if (PQstatus(c->conn) != CONNECTION_OK) return -1;
    int n = 0;
    for (PGnotify *m; (m = PQnotifies(c->conn)) != NULL; n++) PQfreemem(m); /* read with an earlier result */
    if (n) return n;
    struct pollfd p = {.fd = PQsocket(c->conn), .events = POLLIN};
    int e = poll(&p, 1, timeout_ms);
    if (e < 0 && errno != EINTR) return -1;
    if (e > 0 && !PQconsumeInput(c->conn)) return -1; /* the server went away: the socket said so */
    for (PGnotify *m; (m = PQnotifies(c->conn)) != NULL; n++) PQfreemem(m);
    return PQstatus(c->conn) == CONNECTION_OK ? n : -1;
}

iotca_rc db_pg_query(db_pg *c, const char *sql, int n, const char *const *vals, const int *lens, const int *fmts,
                     const char *doing, db_stmt *st) {
    memset(st, 0, sizeof *st);
    st->pg = c;
    PGresult *r = PQexecParams(c->conn, sql, n, NULL, vals, lens, fmts, 0);
    ExecStatusType es = PQresultStatus(r);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        keep_error(c, PQresultErrorMessage(r));
        PQclear(r);
        return iotca_error_set(IOTCA_E_STORAGE, "%s: %s", doing, c->err);
    }
    st->res = r;
    st->ran = true; /* db_step reads its rows */
    st->nrows = PQntuples(r);
    st->row = -1;
    const char *tuples = PQcmdTuples(r);
    st->changes = tuples && *tuples ? strtoll(tuples, NULL, 10) : 0;
    return IOTCA_OK;
}
