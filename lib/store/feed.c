/* The revocation feed (schema 0015): every revocation in commit order, so each iotcad process sharing the
 * database learns of revocations made through the others before it serves a cached OCSP answer. */
#include "db.h"

iotca_rc iotca_store_revocations_head(iotca_store *s, int64_t *head) {
    IOTCA_ENSURE(s != NULL && head != NULL, IOTCA_E_USAGE, "iotca_store_revocations_head: NULL argument");
    *head = 0;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_FEED_HEAD, "SELECT COALESCE(MAX(seq), 0) FROM revocation_feed",
                              "reading the revocation feed", &st));
    iotca_rc rc = IOTCA_OK;
    if (db_step(st) == DB_ROW) *head = db_col_int64(st, 0);
    else rc = db_fail(s, "reading the revocation feed");
    db_done(st);
    return rc;
}

iotca_rc iotca_store_revocations_since(iotca_store *s, int64_t after, size_t max, iotca_revocation_fn fn, void *ctx,
                                       int64_t *last, bool *gap) {
    IOTCA_ENSURE(s != NULL && fn != NULL && last != NULL && gap != NULL, IOTCA_E_USAGE,
                 "iotca_store_revocations_since: NULL argument");
    IOTCA_ENSURE(after >= 0 && max >= 1 && max <= 10000, IOTCA_E_USAGE,
                 "revocation feed: position %lld must not be negative, and 1 to 10000 rows (not %zu) at a time",
                 (long long)after, max);
    *last = after;
    *gap = false;
    db_stmt *st;
    /* a range of the rowid B-tree: with nothing new, one seek that finds no row */
    IOTCA_GUARD(db_stmt_get(s, SQ_FEED_SINCE, "SELECT seq, serial FROM revocation_feed WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                              "reading the revocation feed", &st));
    iotca_rc rc = IOTCA_OK;
    int step = DB_DONE;
    if (!db_bind_int64(st, 1, after) ||
        !db_bind_int64(st, 2, max))
        rc = db_fail(s, "reading the revocation feed");
    while (rc == IOTCA_OK && (step = db_step(st)) == DB_ROW) {
        int64_t seq = db_col_int64(st, 0);
        /* AUTOINCREMENT never reuses a number and a rolled-back revocation takes none: a number skipped
         * past the caller's position was pruned before the caller read it */
        if (*last == after && seq != after + 1) *gap = true;
        char serial[41];
        rc = db_col_text(st, 1, serial, sizeof serial, "serial");
        if (rc == IOTCA_OK) fn(ctx, serial);
        *last = seq;
    }
    if (rc == IOTCA_OK && step != DB_DONE) rc = db_fail(s, "reading the revocation feed");
    db_done(st);
    return rc;
}

iotca_rc iotca_store_revocations_prune(iotca_store *s, time_t before, int *pruned) {
    IOTCA_ENSURE(s != NULL && pruned != NULL, IOTCA_E_USAGE, "iotca_store_revocations_prune: NULL argument");
    *pruned = 0;
    db_stmt *st;
    /* the newest row stays whatever its age, so a process behind the pruned rows still meets a number past
     * its position and sees the gap */
    IOTCA_GUARD(db_stmt_get(s, SQ_FEED_PRUNE,
                              "DELETE FROM revocation_feed WHERE revoked_at < ?1 AND "
                              "seq < (SELECT MAX(seq) FROM revocation_feed)",
                              "pruning the revocation feed", &st));
    iotca_rc rc = IOTCA_OK;
    if (!db_bind_int64(st, 1, before) || db_step(st) != DB_DONE)
        rc = db_fail(s, "pruning the revocation feed");
    else *pruned = db_changes(st);
    db_done(st);
    return rc;
}
