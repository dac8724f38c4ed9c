/* The store's bridge certificates (schema/0020_bridges.sql): which recorded certificates were issued from a
 * retiring issuer as bridges, who asked and why, listed until they expire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

iotca_rc iotca_store_bridge_add(iotca_store *s, const iotca_bridge_rec *r) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_bridge_add: NULL argument");
    IOTCA_ENSURE(iotca_sq_fits(r->serial, sizeof r->serial), IOTCA_E_USAGE, "bridge serial is not terminated");
    IOTCA_GUARD(iotca_sq_check_serial(r->serial));
    IOTCA_ENSURE(iotca_sq_fits(r->justification, sizeof r->justification) && r->justification[0], IOTCA_E_USAGE,
                 "bridge %s: the justification must be 1 to %zu bytes", r->serial, sizeof r->justification - 1);
    IOTCA_ENSURE(iotca_sq_fits(r->actor, sizeof r->actor) && r->actor[0], IOTCA_E_USAGE,
                 "bridge %s: the actor must be 1 to %zu bytes", r->serial, sizeof r->actor - 1);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_BRIDGE_INSERT,
                              "INSERT INTO bridges (serial, issuer_id, justification, actor, not_after, created_at) "
                              "SELECT CAST(?1 AS TEXT), CAST(?2 AS BIGINT), CAST(?3 AS TEXT), CAST(?4 AS TEXT), CAST(?5 AS BIGINT), "
                              "CAST(?6 AS BIGINT) "
                              "WHERE EXISTS (SELECT 1 FROM certificates WHERE serial = ?1 AND issuer_id = ?2)",
                              "recording a bridge", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, r->serial) &&
                    db_bind_int64(st, 2, r->issuer_id) &&
                    db_bind_text(st, 3, r->justification) &&
                    db_bind_text(st, 4, r->actor) &&
                    db_bind_int64(st, 5, r->not_after) &&
                    db_bind_int64(st, 6, r->created_at)
                ? db_step(st)
                : DB_FAILED;
    IOTCA_CHECK(e != DB_UNIQUE && e != DB_UNIQUE, IOTCA_E_POLICY,
                "certificate %s is a bridge already", r->serial);
    if (e != DB_DONE) {
        rc = db_fail(s, "recording bridge %s", r->serial);
        goto out;
    }
    IOTCA_CHECK(db_changes(st) == 1, IOTCA_E_POLICY, "bridge %s: no such certificate of issuer %lld",
                r->serial, (long long)r->issuer_id);
out:
    db_done(st);
    return rc;
}

iotca_rc iotca_store_bridge_list(iotca_store *s, time_t now, iotca_bridge_rec **out, size_t *n) {
    IOTCA_ENSURE(s != NULL && out != NULL && n != NULL, IOTCA_E_USAGE, "iotca_store_bridge_list: NULL argument");
    enum { MAX = 1000 };
    *out = NULL;
    *n = 0;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_BRIDGE_LIST,
                              "SELECT b.serial, b.issuer_id, c.profile, b.justification, b.actor, b.not_after, "
                              "b.created_at, CASE WHEN c.status = 'revoked' THEN 1 ELSE 0 END FROM bridges b JOIN certificates c USING (serial) "
                              "WHERE b.not_after > ?1 ORDER BY b.created_at, b.serial LIMIT 1000", /* MAX */
                              "listing bridges", &st));
    iotca_rc rc = IOTCA_OK;
    iotca_bridge_rec *list = NULL;
    size_t k = 0, cap = 0;
    IOTCA_CHECK(db_bind_int64(st, 1, now), IOTCA_E_STORAGE, "listing bridges: out of memory");
    enum db_step_rc e;
    while ((e = db_step(st)) == DB_ROW && k < MAX) {
        if (k == cap) {
            cap = cap ? 2 * cap : 8;
            iotca_bridge_rec *more = realloc(list, cap * sizeof *list);
            IOTCA_CHECK(more != NULL, IOTCA_E_INTERNAL, "out of memory");
            list = more;
        }
        iotca_bridge_rec *b = &list[k++];
        memset(b, 0, sizeof *b);
        db_col_text_cut(st, 0, b->serial, sizeof b->serial);
        b->issuer_id = db_col_int64(st, 1);
        db_col_text_cut(st, 2, b->profile, sizeof b->profile);
        db_col_text_cut(st, 3, b->justification, sizeof b->justification);
        db_col_text_cut(st, 4, b->actor, sizeof b->actor);
        b->not_after = (time_t)db_col_int64(st, 5);
        b->created_at = (time_t)db_col_int64(st, 6);
        b->revoked = db_col_int64(st, 7) != 0;
    }
    if (e != DB_DONE && e != DB_ROW) {
        rc = db_fail(s, "listing bridges");
        goto out;
    }
    *out = list;
    *n = k;
    list = NULL;
out:
    free(list);
    db_done(st);
    return rc;
}
