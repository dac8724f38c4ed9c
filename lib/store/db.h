/* The SQL the store runs, on SQLite or on PostgreSQL (issue 25): one statement API over both, so each store
 * function is written once and callers cannot tell which database runs (STYLE.md: backends behind one
 * interface). db.c is the SQLite side and the dispatch, db_pg.c the PostgreSQL side (libpq).
 *
 * SQL is written once, in the subset both dialects share: numbered parameters ?1..?N (turned into $1..$N for
 * PostgreSQL), RETURNING for generated ids, CAST(?N AS BIGINT|TEXT) where a parameter's type cannot be
 * inferred, COALESCE, ON CONFLICT ... DO NOTHING. Where the dialects differ, db_sql picks one of two texts.
 * Integers are 64-bit, flags 0/1 integers, byte strings BLOB (SQLite) / BYTEA (PostgreSQL). */
#ifndef IOTCA_STORE_DB_H
#define IOTCA_STORE_DB_H

#include "store_int.h"

/* What db_step says. The constraint cases are told apart so the store can name the rule a row broke. */
enum db_step_rc {
    DB_ROW = 1,         /* a row is ready: read it with db_col_* */
    DB_DONE,            /* the statement ran to its end */
    DB_UNIQUE,          /* a PRIMARY KEY or UNIQUE constraint refused the row */
    DB_FOREIGN_KEY,     /* a FOREIGN KEY constraint refused it */
    DB_CHECK,           /* a CHECK or NOT NULL constraint refused it */
    DB_FAILED,          /* any other failure: db_fail words it */
};

#define DB_MAX_PARAMS 16

typedef struct db_pg db_pg;

/* One cached statement (db.c, db_pg.c): a SQLite statement, or a statement prepared on the PostgreSQL connection
 * with its parameters as libpq takes them and the result being read. */
typedef struct db_stmt {
    iotca_store *s;
    sqlite3_stmt *lite; /* SQLite: s->stmt[slot] */
    /* PostgreSQL */
    db_pg *pg;
    char name[16]; /* the prepared statement's name on the connection */
    int nparams;   /* the highest parameter number in its SQL */
    char *val[DB_MAX_PARAMS];
    int len[DB_MAX_PARAMS], fmt[DB_MAX_PARAMS];
    void *res; /* PGresult */
    int row, nrows;
    bool ran;
    int64_t changes;
    unsigned epoch; /* PostgreSQL: the connection's epoch it was prepared in (db_pg_epoch) */
} db_stmt;

/* Whether s is a PostgreSQL store. */
bool db_is_pg(const iotca_store *s);
/* pg when s is a PostgreSQL store, else lite: the one place a dialect difference is spelled. */
static inline const char *db_sql(const iotca_store *s, const char *lite, const char *pg) {
    return db_is_pg(s) ? pg : lite;
}

/* The cached statement of slot id, preparing sql on first use (doing names the operation for the error);
 * ready for binding. IOTCA_E_STORAGE if the database refuses the SQL. */
iotca_rc db_stmt_get(iotca_store *s, enum iotca_sq_id id, const char *sql, const char *doing, db_stmt **out);
/* Bind parameter i (1-based). Text and blobs are copied (PostgreSQL) or bound transiently (SQLite): the
 * caller's memory must live until db_done. A NULL text binds SQL NULL. False when out of memory or i out of
 * range; db_step then fails. */
bool db_bind_int64(db_stmt *st, int i, int64_t v);
bool db_bind_text(db_stmt *st, int i, const char *v);
bool db_bind_blob(db_stmt *st, int i, const void *p, size_t n);
/* Text of n bytes, not NUL-terminated (a PEM read from a file). */
bool db_bind_text_n(db_stmt *st, int i, const char *p, size_t n);
bool db_bind_null(db_stmt *st, int i);
/* Runs the statement (first call) or moves to its next row. */
enum db_step_rc db_step(db_stmt *st);
/* The current row's column col (0-based). NULL reads as 0, "" or empty. */
int64_t db_col_int64(db_stmt *st, int col);
bool db_col_is_null(db_stmt *st, int col);
/* A text column into a char[cap] field; a value that does not fit is IOTCA_E_STORAGE, never truncated. */
iotca_rc db_col_text(db_stmt *st, int col, char *dst, size_t cap, const char *what);
/* Appends a text column of any length to dst (no NUL added). */
iotca_rc db_col_text_buf(db_stmt *st, int col, iotca_buf *dst);
/* A text column cut to fit a char[cap] field (NULL reads as ""): for texts a record keeps only the start of. */
void db_col_text_cut(db_stmt *st, int col, char *dst, size_t cap);
/* Appends a blob column to dst. */
iotca_rc db_col_blob(db_stmt *st, int col, iotca_buf *dst, const char *what);
/* Copies a blob column of exactly n bytes into dst; false (dst untouched) for NULL or another length. */
bool db_col_fixed(db_stmt *st, int col, void *dst, size_t n);
/* Rows the last INSERT, UPDATE or DELETE of st changed (valid after it ran to DB_DONE). */
int64_t db_changes(db_stmt *st);
/* Makes st ready for its next use: its result dropped, its bindings cleared. NULL is ignored. */
void db_done(db_stmt *st);
/* db_fail (store_int.h) words a failure with the database's own message. */
/* Whether a transaction is open on s (a function called inside one joins it instead of starting its own). */
bool db_in_transaction(iotca_store *s);
/* Runs sql (no rows) once, outside the statement cache, with ?1 = p1 and ?2 = p2; *changes gets the rows changed. */
iotca_rc db_exec_2(iotca_store *s, const char *sql, int64_t p1, int64_t p2, const char *doing, int64_t *changes);
/* Runs one statement without parameters or rows (BEGIN, SAVEPOINT x, ...) outside the statement cache. */
iotca_rc db_exec(iotca_store *s, const char *sql, const char *doing);

/* Frees the statements written on db.h (iotca_store_close). */
void db_free_all(iotca_store *s);

/* ---- the PostgreSQL side (db_pg.c), called by db.c's dispatch ---- */
/* Connects to conninfo (a postgresql:// URL or key=value words). IOTCA_E_STORAGE with libpq's message. */
iotca_rc db_pg_open(const char *conninfo, db_pg **out);
void db_pg_close(db_pg *c);
const char *db_pg_error(db_pg *c);
bool db_pg_in_transaction(db_pg *c);
iotca_rc db_pg_exec(db_pg *c, const char *sql, const char *doing);
iotca_rc db_pg_exec_2(db_pg *c, const char *sql, int64_t p1, int64_t p2, const char *doing, int64_t *changes);
/* The server's version, e.g. "PostgreSQL 15.8" (into out). */
void db_pg_version(db_pg *c, char *out, size_t cap);
/* Prepares sql as statement id into *slot (a new one when *slot is NULL; again when *slot was prepared on a
 * connection since lost); a lost connection outside a transaction is made again first. */
iotca_rc db_pg_prepare(db_pg *c, unsigned id, const char *sql, const char *doing, db_stmt **slot);
/* How many times the connection was made again (statements of an earlier epoch must be prepared again). */
unsigned db_pg_epoch(db_pg *c);
/* Session settings for every connection opened from now on: libpq's connect_timeout where the conninfo names
 * none (0: 10 s), statement_timeout (0: none), and synchronous_commit = remote_apply on writing connections. */
void db_pg_set_options(int connect_timeout_s, int statement_timeout_ms, bool remote_apply);
/* Makes c a read replica's connection: its transactions read-only, now and after a reconnection. */
iotca_rc db_pg_set_reader(db_pg *c);
/* LISTEN channel (a fixed identifier of ours); a lost connection is made again first. */
iotca_rc db_pg_listen(db_pg *c, const char *channel);
/* Waits up to timeout_ms for notifications: how many arrived (0 when none), -1 when the connection is lost
 * (LISTEN again after db_pg_listen made it anew). */
int db_pg_wait_notify(db_pg *c, int timeout_ms);
bool db_pg_bind(db_stmt *st, int i, const void *p, size_t n, bool binary, bool null);
enum db_step_rc db_pg_step(db_stmt *st);
int64_t db_pg_col_int64(db_stmt *st, int col);
bool db_pg_col_is_null(db_stmt *st, int col);
iotca_rc db_pg_col_text(db_stmt *st, int col, char *dst, size_t cap, const char *what);
const char *db_pg_col_raw(db_stmt *st, int col);
iotca_rc db_pg_col_blob(db_stmt *st, int col, iotca_buf *dst, const char *what);
int64_t db_pg_changes(db_stmt *st);
void db_pg_done(db_stmt *st);
void db_pg_free(db_stmt *st);
/* Runs sql once with n parameters as libpq takes them ($1..$n: vals[i] NULL for SQL NULL, fmts[i] 1 for binary with
 * lens[i] bytes, else text), outside the statement cache: for SQL made at run time (lib/store/copy.c). Its rows, if
 * any, are read from *st (zeroed first) with db_step and db_col_*, then db_done(st). Does not make a lost
 * connection again. IOTCA_E_STORAGE "<doing>: <PostgreSQL's message>". */
iotca_rc db_pg_query(db_pg *c, const char *sql, int n, const char *const *vals, const int *lens, const int *fmts,
                     const char *doing, db_stmt *st);

#endif
