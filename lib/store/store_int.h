/* Private to lib/store: the SQLite handle, its statement cache and the helpers the store files share. */
#ifndef IOTCA_STORE_INT_H
#define IOTCA_STORE_INT_H

#include <sqlite3.h>

#include "iotca/store.h"

/* The migrations of schema/, compiled in by lib/CMakeLists.txt. */
extern const char *const iotca_schema_migrations[];
extern const int iotca_schema_migration_count;
/* PostgreSQL's (schema/pg/), numbered on their own (issue 25) */
extern const char *const iotca_pg_migrations[];
extern const int iotca_pg_migration_count;

/* One slot per cached statement. Each SQL text lives next to the code that
 * runs it; the slot only says where its prepared form is kept. */
enum iotca_sq_id {
    SQ_BEGIN,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_USER_VERSION,
    /* group commit (lib/store/group.c) */
    SQ_SAVEPOINT,
    SQ_RELEASE,
    SQ_ROLLBACK_TO,
    SQ_ISSUER_INSERT,
    SQ_ISSUER_GET,
    SQ_ISSUER_LIST,
    SQ_ISSUER_STATE,
    SQ_ISSUER_STAGE,
    SQ_ISSUER_SET_STATE,
    SQ_ISSUER_ACTIVE,
    SQ_EVENT_INSERT,
    SQ_SERIAL_INSERT,
    SQ_SERIAL_INSERT_INTENT,
    SQ_SERIAL_OWNER,
    SQ_SERIAL_INTENT,
    SQ_CERT_INSERT,
    SQ_CERT_INSERT_RENEWS,
    SQ_CERT_GET,
    SQ_CERT_REVOKE,
    SQ_CERT_STATUS,
    SQ_TOKEN_INSERT,
    SQ_TOKEN_GET,
    SQ_TOKEN_LIST,
    SQ_TOKEN_REVOKE,
    SQ_TOKEN_USED,
    SQ_HEARTBEAT,
    /* CRLs (lib/store/crl.c) */
    SQ_CRL_GET,
    SQ_CRL_PUT,
    SQ_CRL_DIRTY,
    SQ_CRL_LIST,
    SQ_REVOKED_EACH,
    SQ_REVOKED_COUNT,
    SQ_ROOT_CRL_GET,
    SQ_ROOT_CRL_PUT,
    SQ_CRL_SPARE1,
    SQ_CRL_SPARE2,
    /* OCSP (lib/store/ocsp.c) */
    SQ_OCSP_SIGNER_GET,
    SQ_OCSP_SIGNER_PUT,
    SQ_OCSP_RESP_GET,
    SQ_OCSP_RESP_PUT,
    SQ_OCSP_DUE,
    SQ_OCSP_NEW,
    SQ_OCSP_DROP,
    SQ_OCSP_MARK,
    /* the revocation feed (lib/store/feed.c) */
    SQ_FEED_HEAD,
    SQ_FEED_SINCE,
    SQ_FEED_PRUNE,
    /* trust profiles and preflight overrides (lib/store/trust.c) */
    SQ_TRUST_ADD,
    SQ_TRUST_LIST,
    SQ_TRUST_GET,
    SQ_TRUST_REPLACE,
    SQ_TRUST_DELETE,
    SQ_OVERRIDE_ADD,
    SQ_OVERRIDE_GET,
    /* audit trail (lib/store/audit.c) */
    SQ_AUDIT_LAST,
    SQ_AUDIT_INSERT,
    SQ_AUDIT_ALL,
    /* ACME (lib/store/acme.c, acme_accounts.c, acme_orders.c) */
    SQ_ACME_NONCE_ADD,
    SQ_ACME_NONCE_TAKE,
    SQ_ACME_EAB_ADD,
    SQ_ACME_EAB_GET,
    SQ_ACME_EAB_LIST,
    SQ_ACME_EAB_REVOKE,
    SQ_ACME_EAB_BIND,
    SQ_ACME_ACCOUNT_ADD,
    SQ_ACME_ACCOUNT_GET,
    SQ_ACME_ACCOUNT_FIND,
    SQ_ACME_ACCOUNT_UPDATE,
    SQ_ACME_ACCOUNT_REKEY,
    SQ_ACME_ORDER_ADD,
    SQ_ACME_AUTHZ_ADD,
    SQ_ACME_CHALLENGE_ADD,
    SQ_ACME_ORDER_GET,
    SQ_ACME_ORDER_AUTHZS,
    SQ_ACME_AUTHZ_CHALLENGES,
    SQ_ACME_ORDER_LIST,
    SQ_ACME_ORDER_SET,
    SQ_ACME_AUTHZ_GET,
    SQ_ACME_AUTHZ_SET,
    SQ_ACME_CHALLENGE_GET,
    SQ_ACME_CHALLENGE_SET,
    SQ_ACME_ORDER_SETTLE,
    SQ_ACME_SERIAL_ACCOUNT,
    SQ_ACME_REPLACED,
    /* bridges (bridges.c) */
    SQ_BRIDGE_INSERT,
    SQ_BRIDGE_LIST,
    /* rehearsals (rehearsals.c) */
    SQ_REHEARSAL_SAVEPOINT,
    SQ_REHEARSAL_RELEASE,
    SQ_REHEARSAL_ROLLBACK_TO,
    SQ_REHEARSAL_LEAF_INSERT,
    SQ_REHEARSAL_LEAF_LIST,
    SQ_REHEARSAL_LEAF_PRUNE,
    SQ_REHEARSAL_RESULT_INSERT,
    SQ_REHEARSAL_RESULT_LATEST,
    SQ_REHEARSAL_PASSED,
    SQ_PG_HAS_VERSION, /* PostgreSQL: whether schema_version exists */
    SQ_TICK_LEAD,      /* PostgreSQL: the tick's lock (lead.c) */
    SQ_TICK_RELEASE,
    SQ_PG_IN_RECOVERY, /* PostgreSQL: a read replica (sqlite_store.c) */
    SQ_PG_SYNC_NAMES,
    SQ_WEEKS_ISSUED, /* the dashboard's weekly counts (stats.c) */
    SQ_WEEKS_REVOKED,
    SQ_WEEKS_AUDIT,
    SQ_WEEKS_EXPIRING,
    /* cert_list has one statement per combination of its five optional filters, so each can use the right index
     * instead of `?1 IS NULL OR ...` scans: SQ_CERT_LIST + the filters' bits (certs.c) */
    SQ_CERT_LIST,
    SQ_CERT_LIST_LAST = SQ_CERT_LIST + 31,
    SQ_COUNT
};

struct db_stmt;
struct db_pg;

struct iotca_store {
    sqlite3 *db;            /* NULL on PostgreSQL */
    struct db_pg *pg;       /* NULL on SQLite (db.h) */
    struct db_stmt *dst[SQ_COUNT]; /* the statements of the functions written on db.h, by slot */
    sqlite3_stmt *stmt[SQ_COUNT];
    long busy_limit_us, busy_waited_us; /* the busy handler's budget and what it has slept so far */
    int wal_pages;          /* frames in the WAL after this handle's last commit (sqlite3_wal_hook) */
    bool defer_checkpoint;  /* leading a group commit: checkpoint after the batch is released, not in COMMIT */
};

/* Frames in the WAL past which a commit checkpoints it: four times SQLite's default auto-checkpoint size
 * (16 MiB of WAL with 4 KiB pages). A checkpoint copies each page once however many commits wrote it, and
 * every issuance rewrites the same few pages (the ends of the certificates table, the not_after index and
 * the audit trail, and the B-trees' inner pages), so a longer WAL copies fewer of them: at 8 clients with
 * distinct CSRs (bench/csrs.c, six 6 s runs each on 12,000-40,000 rows, /proc/PID/io), 29-37 KiB written
 * to disk per issuance instead of 34-44, and 800-874 us of daemon CPU per issuance instead of 829-933.
 * 10,000 pages saved a few KiB more and no CPU. */
#define IOTCA_SQ_CHECKPOINT_PAGES 4000
/* Times that many frames in the WAL after a batch: passive checkpoints have not caught up, and the leader
 * checkpoints before the next batch may begin (group.c). */
#define IOTCA_SQ_CHECKPOINT_STARVED 4
/* The longest a group-commit leader waits for the record of an issuance that has queued its reservation
 * (group.c, where the measurements are). */
#define IOTCA_SQ_COMMIT_DELAY_US 100

/* Returns the cached statement in *slot, preparing sql on first use (doing
 * names the operation for the error message). */
iotca_rc iotca_sq_prepare(iotca_store *s, sqlite3_stmt **slot, const char *sql, const char *doing);
static inline iotca_rc iotca_sq_stmt(iotca_store *s, enum iotca_sq_id id, const char *sql, const char *doing,
                                     sqlite3_stmt **out) {
    IOTCA_GUARD(iotca_sq_prepare(s, &s->stmt[id], sql, doing));
    *out = s->stmt[id];
    return IOTCA_OK;
}
/* Makes a cached statement ready for its next use: reset, bindings cleared
 * (they may point into the caller's memory). NULL is ignored. */
void iotca_sq_done(sqlite3_stmt *st);

/* The PostgreSQL connection of s (NULL on SQLite). */
static inline struct db_pg *iotca_store_pg(iotca_store *s) { return s->pg; }

/* IOTCA_E_STORAGE "<doing>: <the database's own message>", doing printf-formatted (db.c: SQLite's or libpq's). */
iotca_rc db_fail(iotca_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* BEGIN IMMEDIATE: takes the write lock up front (waiting up to the busy
 * timeout), so a read-then-write transaction can never fail half way with
 * SQLITE_BUSY on the upgrade. */
iotca_rc iotca_sq_begin(iotca_store *s, const char *doing);
iotca_rc iotca_sq_commit(iotca_store *s, const char *doing);
/* Rolls back if a transaction is open; keeps the current error detail. */
void iotca_sq_rollback(iotca_store *s);

/* True if str is NUL-terminated within cap bytes (fits a char[cap] field). */
bool iotca_sq_fits(const char *str, size_t cap);
/* 1..40 lowercase hex digits, else IOTCA_E_USAGE. */
iotca_rc iotca_sq_check_serial(const char *serial);

/* Copies a TEXT column into a char[cap] field (NULL reads as ""); a value
 * that does not fit is IOTCA_E_STORAGE, never truncated. */
iotca_rc iotca_sq_col_text(sqlite3_stmt *st, int col, char *dst, size_t cap, const char *what);
/* Appends a BLOB column to dst (NULL reads as empty). */
iotca_rc iotca_sq_col_blob(sqlite3_stmt *st, int col, iotca_buf *dst, const char *what);

#endif
