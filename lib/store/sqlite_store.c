/* The store's connection: opening (SQLite, or PostgreSQL for a postgresql:// URL or conninfo words), the statement
 * cache, transactions, schema migrations. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "db.h"

#define IOTCA_SQ_DEFAULT_BUSY_MS 5000

/* ---- shared helpers ---- */

iotca_rc iotca_sq_prepare(iotca_store *s, sqlite3_stmt **slot, const char *sql, const char *doing) {
    if (*slot != NULL) return IOTCA_OK;
    /* the functions not yet written on db.h (issue 25 moves them one file at a time) */
    IOTCA_ENSURE(s->pg == NULL, IOTCA_E_STORAGE, "%s: not available on PostgreSQL yet", doing);
    /* PERSISTENT: these live as long as the handle, so SQLite keeps them out
     * of its short-lived lookaside memory. */
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        sqlite3_finalize(*slot);
        *slot = NULL;
        return db_fail(s, "%s", doing);
    }
    return IOTCA_OK;
}

void iotca_sq_done(sqlite3_stmt *st) {
    if (st == NULL) return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static iotca_rc run_cached(iotca_store *s, enum iotca_sq_id id, const char *sql, const char *doing) {
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, id, sql, doing, &st));
    iotca_rc rc = IOTCA_OK;
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(s, "%s", doing);
    iotca_sq_done(st);
    return rc;
}

iotca_rc iotca_sq_begin(iotca_store *s, const char *doing) {
    if (s->pg) return db_pg_exec(s->pg, "BEGIN", doing);
    return run_cached(s, SQ_BEGIN, "BEGIN IMMEDIATE", doing);
}

iotca_rc iotca_sq_commit(iotca_store *s, const char *doing) {
    iotca_rc rc = s->pg ? db_pg_exec(s->pg, "COMMIT", doing) : run_cached(s, SQ_COMMIT, "COMMIT", doing);
    if (rc != IOTCA_OK) iotca_sq_rollback(s);
    return rc;
}

void iotca_sq_rollback(iotca_store *s) {
    if (s->pg) {
        if (db_pg_in_transaction(s->pg)) {
            char keep[512];
            snprintf(keep, sizeof keep, "%s", iotca_error_detail());
            (void)db_pg_exec(s->pg, "ROLLBACK", "rolling back");
            iotca_error_set(IOTCA_E_STORAGE, "%s", keep); /* keep the detail of what failed */
        }
        return;
    }
    /* Some errors (SQLITE_FULL, SQLITE_IOERR, ...) already rolled back. */
    if (sqlite3_get_autocommit(s->db)) return;
    if (iotca_sq_prepare(s, &s->stmt[SQ_ROLLBACK], "ROLLBACK", "rolling back") != IOTCA_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return;
    }
    sqlite3_step(s->stmt[SQ_ROLLBACK]);
    iotca_sq_done(s->stmt[SQ_ROLLBACK]);
}

bool iotca_sq_fits(const char *str, size_t cap) { return str != NULL && memchr(str, 0, cap) != NULL; }

iotca_rc iotca_sq_check_serial(const char *serial) {
    IOTCA_ENSURE(serial != NULL, IOTCA_E_USAGE, "serial is NULL");
    size_t n = strnlen(serial, 41);
    IOTCA_ENSURE(n >= 1 && n <= 40, IOTCA_E_USAGE, "serial must be 1 to 40 lowercase hex digits, got %zu%s characters",
                 n, n > 40 ? " or more" : "");
    for (size_t i = 0; i < n; i++) {
        char c = serial[i];
        IOTCA_ENSURE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'), IOTCA_E_USAGE,
                     "serial %.40s is not lowercase hex", serial);
    }
    return IOTCA_OK;
}

iotca_rc iotca_sq_col_text(sqlite3_stmt *st, int col, char *dst, size_t cap, const char *what) {
    dst[0] = 0;
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return IOTCA_OK;
    const unsigned char *t = sqlite3_column_text(st, col);
    IOTCA_ENSURE(t != NULL, IOTCA_E_INTERNAL, "out of memory reading %s", what);
    int n = sqlite3_column_bytes(st, col);
    IOTCA_ENSURE(n >= 0 && (size_t)n < cap, IOTCA_E_STORAGE, "stored %s is %d bytes, longer than the %zu allowed",
                 what, n, cap - 1);
    memcpy(dst, t, (size_t)n);
    dst[n] = 0;
    return IOTCA_OK;
}

iotca_rc iotca_sq_col_blob(sqlite3_stmt *st, int col, iotca_buf *dst, const char *what) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return IOTCA_OK;
    const void *p = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);
    IOTCA_ENSURE(p != NULL || n == 0, IOTCA_E_INTERNAL, "out of memory reading %s", what);
    return iotca_buf_append(dst, p, (size_t)n);
}

/* ---- opening and closing ---- */

/* Runs a PRAGMA that answers one row and checks its text answer; doing names the step for the error
 * ("opening database PATH", "applying schema migration N"). */
static iotca_rc pragma_expect(iotca_store *s, const char *sql, const char *want, const char *doing) {
    sqlite3_stmt *st = NULL;
    iotca_rc rc = IOTCA_OK;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(s, "%s (%s)", doing, sql);
        goto out;
    }
    int e = sqlite3_step(st);
    IOTCA_CHECK(e == SQLITE_ROW || e == SQLITE_DONE, IOTCA_E_STORAGE, "%s (%s): %s", doing, sql,
                sqlite3_errmsg(s->db));
    const char *got = e == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    IOTCA_CHECK(got != NULL && strcmp(got, want) == 0, IOTCA_E_STORAGE, "%s: %s answered %s instead of %s", doing,
                sql, got ? got : "nothing", want);
out:
    sqlite3_finalize(st);
    return rc;
}

/* SQLite's own busy timeout sleeps in steps that grow to 100 ms, so a writer that finds the lock taken for
 * a fraction of a millisecond (a group commit) may sleep far longer than the holder needed: poll in short
 * steps first, then back off to 2 ms, up to the store's busy timeout in all. */
static int on_busy(void *arg, int count) {
    iotca_store *s = arg;
    if (count == 0) s->busy_waited_us = 0;
    if (s->busy_waited_us >= s->busy_limit_us) return 0;
    long step = count < 20 ? 50L * (count + 1) : 2000L;
    struct timespec t = {0, step * 1000L};
    nanosleep(&t, NULL);
    s->busy_waited_us += step;
    return 1;
}

/* SQLite's auto-checkpoint runs inside the COMMIT that crosses the threshold; a group-commit leader would
 * hold every waiting writer behind it. So the WAL hook (which replaces the auto-checkpoint) checkpoints at
 * once only outside a group batch, and otherwise leaves it to the leader once the batch is released. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int pages) {
    iotca_store *s = arg;
    s->wal_pages = pages;
    if (pages >= IOTCA_SQ_CHECKPOINT_PAGES && !s->defer_checkpoint) {
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        s->wal_pages = 0;
    }
    return SQLITE_OK;
}

/* SQLite keeps allocation statistics under one process-wide mutex taken on every malloc and free; with a
 * handle per thread that mutex is the only thing the threads share, so it is turned off (before SQLite
 * initialises; if something else initialised it first, the call is refused and changes nothing). */
static void configure_once(void) { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

/* Whether word (e.g. "host=") starts s or follows a space in it: libpq's keyword=value form. */
static bool has_keyword(const char *s, const char *word) {
    size_t n = strlen(word);
    for (const char *p = s; (p = strstr(p, word)) != NULL; p += n)
        if (p == s || p[-1] == ' ') return true;
    return false;
}

bool iotca_store_is_pg_conninfo(const char *path) {
    if (path == NULL) return false;
    if (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0) return true;
    /* a file path (absolute or relative to here) is SQLite's, whatever its directories are called */
    if (path[0] == '/' || path[0] == '.') return false;
    return has_keyword(path, "dbname=") || has_keyword(path, "host=");
}

void iotca_store_pg_options(unsigned connect_timeout_s, unsigned statement_timeout_ms, bool remote_apply) {
    db_pg_set_options((int)connect_timeout_s, (int)statement_timeout_ms, remote_apply);
}

/* A PostgreSQL store: a connection of its own (a handle belongs to one thread, as with SQLite). */
static iotca_rc open_pg(const char *conninfo, iotca_store **out) {
    iotca_store *s = calloc(1, sizeof *s);
    IOTCA_ENSURE(s != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = db_pg_open(conninfo, &s->pg);
    if (rc != IOTCA_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return IOTCA_OK;
}

/* One integer a statement without parameters answers (slot id). */
static iotca_rc ask_int(iotca_store *s, enum iotca_sq_id id, const char *sql, const char *doing, int64_t *v) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, id, sql, doing, &st));
    iotca_rc rc = db_step(st) == DB_ROW ? IOTCA_OK : db_fail(s, "%s", doing);
    if (rc == IOTCA_OK) *v = db_col_int64(st, 0);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_open_reader(const char *conninfo, iotca_store *primary, iotca_store **out) {
    IOTCA_ENSURE(conninfo && out && (primary == NULL || primary->pg), IOTCA_E_USAGE,
                 "a read replica needs PostgreSQL conninfo and a PostgreSQL primary");
    IOTCA_ENSURE(iotca_store_is_pg_conninfo(conninfo), IOTCA_E_USAGE, "a read replica must be PostgreSQL conninfo");
    IOTCA_GUARD(open_pg(conninfo, out));
    iotca_store *r = *out;
    int64_t standby = 0, sync = 0;
    iotca_rc rc = db_pg_set_reader(r->pg);
    if (rc == IOTCA_OK && primary)
        rc = ask_int(r, SQ_PG_IN_RECOVERY, "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END",
                     "asking the read replica whether it is a standby", &standby);
    if (rc == IOTCA_OK && standby)
        rc = ask_int(primary, SQ_PG_SYNC_NAMES,
                     "SELECT CASE WHEN current_setting('synchronous_standby_names') = '' THEN 0 ELSE 1 END",
                     "reading the primary's synchronous_standby_names", &sync);
    if (rc == IOTCA_OK && standby && !sync)
        rc = iotca_error_set(IOTCA_E_USAGE,
                             "the read replica is a standby, but the primary has no synchronous standby "
                             "(synchronous_standby_names is empty): its reads could miss a revocation already "
                             "reported; list the standby there");
    if (rc != IOTCA_OK) {
        iotca_store_close(r);
        *out = NULL;
    }
    return rc;
}

iotca_rc iotca_store_open(const char *path, bool create, int busy_ms, iotca_store **out) {
    IOTCA_ENSURE(path != NULL && out != NULL, IOTCA_E_USAGE, "iotca_store_open: NULL argument");
    if (iotca_store_is_pg_conninfo(path)) return open_pg(path, out);
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_once);
    IOTCA_ENSURE(busy_ms >= 0, IOTCA_E_USAGE, "busy timeout must not be negative (%d ms)", busy_ms);
    *out = NULL;
    iotca_store *s = calloc(1, sizeof *s);
    IOTCA_ENSURE(s != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = IOTCA_OK;

    /* READWRITE without CREATE fails on a missing file instead of making an
     * empty one; NOMUTEX since a handle belongs to one thread; URI so that a
     * caller can ask for "file:...?mode=ro". */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI | (create ? SQLITE_OPEN_CREATE : 0);
    int e = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (e != SQLITE_OK) {
        struct stat sb;
        IOTCA_CHECK(create || stat(path, &sb) == 0 || errno != ENOENT, IOTCA_E_STORAGE,
                    "opening database %s: it does not exist (run iotcad init)", path);
        IOTCA_CHECK(s->db != NULL, IOTCA_E_STORAGE, "opening database %s: %s", path, sqlite3_errstr(e));
        rc = db_fail(s, "opening database %s", path);
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Before anything that may need a lock (switching to WAL does). */
    s->busy_limit_us = 1000L * (busy_ms ? busy_ms : IOTCA_SQ_DEFAULT_BUSY_MS);
    sqlite3_busy_handler(s->db, on_busy, s);
    /* The first read of the file: a non-database fails here. WAL lets the
     * per-thread handles read while one writes; FULL makes each commit
     * durable (a reserved serial must survive a power cut). */
    char opening[600];
    snprintf(opening, sizeof opening, "opening database %s", path);
    IOTCA_TRY(pragma_expect(s, "PRAGMA journal_mode = WAL", "wal", opening));
    if (sqlite3_exec(s->db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(s, "opening database %s", path);
        goto out;
    }
    /* A SQLite built without foreign keys would ignore the PRAGMA silently. */
    IOTCA_TRY(pragma_expect(s, "PRAGMA foreign_keys", "1", opening));
    IOTCA_TRY(pragma_expect(s, "PRAGMA synchronous", "2", opening));
    sqlite3_wal_hook(s->db, on_wal, s);
out:
    if (rc != IOTCA_OK) {
        iotca_store_close(s);
        return rc;
    }
    *out = s;
    return IOTCA_OK;
}

void iotca_store_release_memory(iotca_store *s) {
    if (s && s->db) (void)sqlite3_db_release_memory(s->db);
}

void iotca_store_close(iotca_store *s) {
    if (s == NULL) return;
    db_free_all(s);
    if (s->pg) {
        db_pg_close(s->pg);
        free(s);
        return;
    }
    for (size_t i = 0; i < SQ_COUNT; i++) sqlite3_finalize(s->stmt[i]);
    sqlite3_close_v2(s->db);
    free(s);
}

/* ---- schema versions ---- */

int iotca_store_schema_latest(void) { return iotca_schema_migration_count; }

static iotca_rc user_version(iotca_store *s, int *v) {
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_USER_VERSION, "PRAGMA user_version", "reading the schema version", &st));
    iotca_rc rc = IOTCA_OK;
    IOTCA_CHECK(sqlite3_step(st) == SQLITE_ROW, IOTCA_E_STORAGE, "reading the schema version: %s",
                sqlite3_errmsg(s->db));
    *v = sqlite3_column_int(st, 0);
out:
    iotca_sq_done(st);
    return rc;
}

static iotca_rc newer_error(int v) {
    IOTCA_BAIL(IOTCA_E_STORAGE, "database schema version %d is newer than this iotcad (%d); upgrade iotcad", v,
               iotca_schema_migration_count);
}

/* A migration that rebuilds a table starts with this line. SQLite's procedure for such changes
 * (https://sqlite.org/lang_altertable.html, "making other kinds of table schema changes"): foreign keys off
 * (a DROP TABLE would otherwise delete or refuse the rows other tables point at), the change in one
 * transaction, PRAGMA foreign_key_check empty before the commit, foreign keys on again. */
#define REBUILDS_TABLE "-- iotca: rebuilds a table"

/* The first violation PRAGMA foreign_key_check finds, as a failure; IOTCA_OK when there is none. */
static iotca_rc foreign_keys_hold(iotca_store *s, const char *doing) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, "%s: checking foreign keys", doing);
    int e = sqlite3_step(st);
    iotca_rc rc = IOTCA_OK;
    if (e == SQLITE_ROW)
        rc = iotca_error_set(IOTCA_E_STORAGE, "%s: a row of %s points at a missing row of %s", doing,
                             (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 2));
    else if (e != SQLITE_DONE)
        rc = db_fail(s, "%s: checking foreign keys", doing);
    sqlite3_finalize(st);
    return rc;
}

/* Applies migration number v (0-based) and moves user_version to v + 1, in
 * one transaction; does nothing if another process got there first. */
static iotca_rc migrate_one(iotca_store *s, int *v) {
    char doing[64];
    snprintf(doing, sizeof doing, "applying schema migration %d", *v + 1);
    bool rebuild = *v < iotca_schema_migration_count &&
                   strncmp(iotca_schema_migrations[*v], REBUILDS_TABLE, strlen(REBUILDS_TABLE)) == 0;
    /* outside the transaction: SQLite ignores this PRAGMA inside one */
    if (rebuild && sqlite3_exec(s->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, "%s: turning foreign keys off", doing);
    iotca_rc rc = iotca_sq_begin(s, doing);
    if (rc != IOTCA_OK) goto keys_on;
    int planned = *v;
    IOTCA_TRY(user_version(s, v)); /* again, now that we hold the write lock */
    if (*v > iotca_schema_migration_count) {
        rc = newer_error(*v);
        goto out;
    }
    if (*v != planned) goto out; /* another process migrated meanwhile: the caller goes on from *v */
    if (*v == iotca_schema_migration_count) goto out;
    if (sqlite3_exec(s->db, iotca_schema_migrations[*v], NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(s, "%s", doing);
        goto out;
    }
    if (rebuild) IOTCA_TRY(foreign_keys_hold(s, doing));
    /* PRAGMA takes no bound parameters; the number is ours, not input. */
    char pragma[48];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", *v + 1);
    if (sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(s, "%s", doing);
        goto out;
    }
    IOTCA_TRY(iotca_sq_commit(s, doing));
    *v += 1;
out:
    iotca_sq_rollback(s); /* a no-op after COMMIT */
keys_on:
    if (rebuild) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", iotca_error_detail());
        iotca_rc on = sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) == SQLITE_OK
                          ? pragma_expect(s, "PRAGMA foreign_keys", "1", doing)
                          : db_fail(s, "%s: turning foreign keys on again", doing);
        if (rc == IOTCA_OK) rc = on;
        else iotca_error_set(rc, "%s", keep);
    }
    return rc;
}

/* ---- PostgreSQL's schema versions: a one-row table instead of PRAGMA user_version ---- */

/* Every process migrating one database takes this transaction-scoped advisory lock first, so two replicas
 * running `iotcad init` at once apply each migration once. */
#define PG_MIGRATION_LOCK "SELECT pg_advisory_xact_lock(7460114)"

/* The version in schema_version; 0 when the table does not exist (a database iotcad init never ran on). */
static iotca_rc pg_version(iotca_store *s, int *v) {
    *v = 0;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_PG_HAS_VERSION,
                            "SELECT CASE WHEN to_regclass('schema_version') IS NULL THEN 0 ELSE 1 END",
                            "reading the schema version", &st));
    iotca_rc rc = IOTCA_OK;
    IOTCA_CHECK(db_step(st) == DB_ROW, IOTCA_E_STORAGE, "reading the schema version: %s", db_pg_error(s->pg));
    bool has = db_col_int64(st, 0) != 0;
    db_done(st);
    if (!has) return IOTCA_OK;
    /* prepared once the table exists: PostgreSQL resolves a statement's tables when it prepares it */
    IOTCA_GUARD(db_stmt_get(s, SQ_USER_VERSION, "SELECT COALESCE(max(version), 0) FROM schema_version",
                            "reading the schema version", &st));
    IOTCA_CHECK(db_step(st) == DB_ROW, IOTCA_E_STORAGE, "reading the schema version: %s", db_pg_error(s->pg));
    *v = (int)db_col_int64(st, 0);
out:
    db_done(st);
    return rc;
}

static iotca_rc pg_newer(int v) {
    IOTCA_BAIL(IOTCA_E_STORAGE, "database schema version %d is newer than this iotcad (%d); upgrade iotcad", v,
               iotca_pg_migration_count);
}

static iotca_rc pg_migrate(iotca_store *s) {
    /* schema_version's own table comes first, outside the numbered migrations: the version read needs it */
    IOTCA_GUARD(db_pg_exec(s->pg, "BEGIN", "applying schema migrations"));
    iotca_rc rc = IOTCA_OK;
    int v = 0;
    IOTCA_TRY(db_pg_exec(s->pg, PG_MIGRATION_LOCK, "applying schema migrations: taking the migration lock"));
    IOTCA_TRY(db_pg_exec(s->pg, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)",
                         "applying schema migrations"));
    IOTCA_TRY(pg_version(s, &v));
    if (v > iotca_pg_migration_count) {
        rc = pg_newer(v);
        goto out;
    }
    for (; v < iotca_pg_migration_count; v++) {
        char doing[64], bump[96];
        snprintf(doing, sizeof doing, "applying PostgreSQL schema migration %d", v + 1);
        IOTCA_TRY(db_pg_exec(s->pg, iotca_pg_migrations[v], doing));
        /* the number is ours, not input */
        snprintf(bump, sizeof bump, "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)", v + 1);
        IOTCA_TRY(db_pg_exec(s->pg, bump, doing));
    }
    IOTCA_TRY(db_pg_exec(s->pg, "COMMIT", "applying schema migrations"));
out:
    iotca_sq_rollback(s); /* a no-op after COMMIT */
    return rc;
}

static iotca_rc pg_check_schema(iotca_store *s) {
    int v = 0;
    IOTCA_GUARD(pg_version(s, &v));
    if (v > iotca_pg_migration_count) return pg_newer(v);
    IOTCA_ENSURE(v == iotca_pg_migration_count, IOTCA_E_STORAGE,
                 "database schema is version %d, this iotcad needs %d: run iotcad init", v, iotca_pg_migration_count);
    return IOTCA_OK;
}

iotca_rc iotca_store_migrate(iotca_store *s) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_migrate: NULL store");
    if (s->pg) return pg_migrate(s);
    int v = 0;
    IOTCA_GUARD(user_version(s, &v));
    if (v > iotca_schema_migration_count) return newer_error(v);
    bool applied = v < iotca_schema_migration_count;
    while (v < iotca_schema_migration_count) IOTCA_GUARD(migrate_one(s, &v));
    /* A migration that rebuilds a table writes every page of it to the WAL, and the WAL file keeps its largest
     * size until truncated: give that space back once (best effort: a busy reader only defers it). */
    if (applied) sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    return IOTCA_OK;
}

iotca_rc iotca_store_check_schema(iotca_store *s) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_check_schema: NULL store");
    if (s->pg) return pg_check_schema(s);
    int v = 0;
    IOTCA_GUARD(user_version(s, &v));
    if (v > iotca_schema_migration_count) return newer_error(v);
    IOTCA_ENSURE(v == iotca_schema_migration_count, IOTCA_E_STORAGE,
                 "database schema is version %d, this iotcad needs %d: run iotcad init", v,
                 iotca_schema_migration_count);
    return IOTCA_OK;
}

static char engine[48];
static void fill_engine(void) { snprintf(engine, sizeof engine, "SQLite %s", sqlite3_libversion()); }

const char *iotca_store_engine(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fill_engine);
    return engine;
}
