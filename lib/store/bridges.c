/* The store's bridge certificates (schema/0020_bridges.sql): which recorded certificates were issued from a
 * retiring issuer as bridges, who asked and why, listed until they expire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

iotca_rc iotca_store_bridge_add(iotca_store *s, const iotca_bridge_rec *r) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_bridge_add: NULL argument");
    IOTCA_ENSURE(iotca_sq_fits(r->serial, sizeof r->serial), IOTCA_E_USAGE, "bridge serial is not terminated");
    IOTCA_GUARD(iotca_sq_check_serial(r->serial));
    IOTCA_ENSURE(iotca_sq_fits(r->justification, sizeof r->justification) && r->justification[0], IOTCA_E_USAGE,
                 "bridge %s: the justification must be 1 to %zu bytes", r->serial, sizeof r->justification - 1);
    IOTCA_ENSURE(iotca_sq_fits(r->actor, sizeof r->actor) && r->actor[0], IOTCA_E_USAGE,
                 "bridge %s: the actor must be 1 to %zu bytes", r->serial, sizeof r->actor - 1);
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_BRIDGE_INSERT,
                              "INSERT INTO bridges (serial, issuer_id, justification, actor, not_after, created_at) "
                              "SELECT ?1, ?2, ?3, ?4, ?5, ?6 "
                              "WHERE EXISTS (SELECT 1 FROM certificates WHERE serial = ?1 AND issuer_id = ?2)",
                              "recording a bridge", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_text(st, 1, r->serial, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 2, r->issuer_id) == SQLITE_OK &&
                    sqlite3_bind_text(st, 3, r->justification, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_text(st, 4, r->actor, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->not_after) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 6, (sqlite3_int64)r->created_at) == SQLITE_OK
                ? sqlite3_step(st)
                : SQLITE_ERROR;
    IOTCA_CHECK(e != SQLITE_CONSTRAINT_PRIMARYKEY && e != SQLITE_CONSTRAINT_UNIQUE, IOTCA_E_POLICY,
                "certificate %s is a bridge already", r->serial);
    if (e != SQLITE_DONE) {
        rc = db_fail(s, "recording bridge %s", r->serial);
        goto out;
    }
    IOTCA_CHECK(sqlite3_changes(s->db) == 1, IOTCA_E_POLICY, "bridge %s: no such certificate of issuer %lld",
                r->serial, (long long)r->issuer_id);
out:
    iotca_sq_done(st);
    return rc;
}

static void copy_text(sqlite3_stmt *st, int col, char *dst, size_t cap) {
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

iotca_rc iotca_store_bridge_list(iotca_store *s, time_t now, iotca_bridge_rec **out, size_t *n) {
    IOTCA_ENSURE(s != NULL && out != NULL && n != NULL, IOTCA_E_USAGE, "iotca_store_bridge_list: NULL argument");
    enum { MAX = 1000 };
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_BRIDGE_LIST,
                              "SELECT b.serial, b.issuer_id, c.profile, b.justification, b.actor, b.not_after, "
                              "b.created_at, c.status = 'revoked' FROM bridges b JOIN certificates c USING (serial) "
                              "WHERE b.not_after > ?1 ORDER BY b.created_at, b.serial LIMIT 1000", /* MAX */
                              "listing bridges", &st));
    iotca_rc rc = IOTCA_OK;
    iotca_bridge_rec *list = NULL;
    size_t k = 0, cap = 0;
    IOTCA_CHECK(sqlite3_bind_int64(st, 1, (sqlite3_int64)now) == SQLITE_OK, IOTCA_E_STORAGE, "listing bridges: %s",
                sqlite3_errmsg(s->db));
    int e;
    while ((e = sqlite3_step(st)) == SQLITE_ROW && k < MAX) {
        if (k == cap) {
            cap = cap ? 2 * cap : 8;
            iotca_bridge_rec *more = realloc(list, cap * sizeof *list);
            IOTCA_CHECK(more != NULL, IOTCA_E_INTERNAL, "out of memory");
            list = more;
        }
        iotca_bridge_rec *b = &list[k++];
        memset(b, 0, sizeof *b);
        copy_text(st, 0, b->serial, sizeof b->serial);
        b->issuer_id = sqlite3_column_int64(st, 1);
        copy_text(st, 2, b->profile, sizeof b->profile);
        copy_text(st, 3, b->justification, sizeof b->justification);
        copy_text(st, 4, b->actor, sizeof b->actor);
        b->not_after = (time_t)sqlite3_column_int64(st, 5);
        b->created_at = (time_t)sqlite3_column_int64(st, 6);
        b->revoked = sqlite3_column_int(st, 7) != 0;
    }
    if (e != SQLITE_DONE && e != SQLITE_ROW) {
        rc = db_fail(s, "listing bridges");
        goto out;
    }
    *out = list;
    *n = k;
    list = NULL;
out:
    free(list);
    iotca_sq_done(st);
    return rc;
}
