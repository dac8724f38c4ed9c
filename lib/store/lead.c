/* Which replica runs the tick's once-only duties (issue 25): on PostgreSQL, the one holding an advisory lock. */
#include "db.h"

/* A session-scoped lock: held for as long as the connection lives, so a replica that dies (its connection
 * closed by the server, or dropped at the TCP keepalive's end) frees it for the next replica's tick. Whether
 * this session holds it already is read from pg_locks first: taking it again would stack a second hold that
 * one release would not undo. 7460117 is iotca's (the migrations take 7460114, revocations 7460115, the audit
 * trail 7460116); a bigint key is classid 0, objid the key, objsubid 1 in pg_locks. */
#define PG_TICK_KEY "7460117"

iotca_rc iotca_store_tick_lead(iotca_store *s, bool *leader) {
    IOTCA_ENSURE(s != NULL && leader != NULL, IOTCA_E_USAGE, "iotca_store_tick_lead: NULL argument");
    *leader = true; /* SQLite: the processes on one file each run the duties, which are idempotent */
    if (!db_is_pg(s)) return IOTCA_OK;
    *leader = false;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TICK_LEAD,
                            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND "
                            "classid = 0 AND objid = " PG_TICK_KEY " AND objsubid = 1 AND granted AND "
                            "pid = pg_backend_pid()) THEN 1 WHEN pg_try_advisory_lock(" PG_TICK_KEY
                            ") THEN 1 ELSE 0 END",
                            "taking the tick's lock", &st));
    iotca_rc rc = IOTCA_OK;
    if (db_step(st) == DB_ROW)
        *leader = db_col_int64(st, 0) == 1;
    else
        rc = db_fail(s, "taking the tick's lock");
    db_done(st);
    return rc;
}

iotca_rc iotca_store_tick_release(iotca_store *s) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_tick_release: NULL store");
    if (!db_is_pg(s)) return IOTCA_OK;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TICK_RELEASE, "SELECT pg_advisory_unlock_all()", "releasing the tick's lock", &st));
    iotca_rc rc = db_step(st) == DB_ROW ? IOTCA_OK : db_fail(s, "releasing the tick's lock");
    db_done(st);
    return rc;
}
