/* CRL persistence: each issuer's current CRL (described here, its body a file), durable CRL numbers,
 * revocation counts that make a CRL due, imported root CRLs, and a cursor over revoked certificates. */
#include <stdio.h>
#include <string.h>

#include "db.h"

iotca_rc iotca_store_crl_get(iotca_store *s, int64_t issuer_id, iotca_crl_rec *r) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_CRL_GET,
                              "SELECT number, this_update, next_update, size, entries, covers FROM crls "
                              "WHERE issuer_id = ?1",
                              "loading a CRL", &st));
    db_bind_int64(st, 1, issuer_id);
    iotca_rc rc = IOTCA_OK;
    int step = db_step(st);
    if (step == DB_ROW) {
        r->number = (uint64_t)db_col_int64(st, 0);
        r->this_update = (time_t)db_col_int64(st, 1);
        r->next_update = (time_t)db_col_int64(st, 2);
        r->size = (uint64_t)db_col_int64(st, 3);
        r->entries = (uint64_t)db_col_int64(st, 4);
        r->covers = db_col_int64(st, 5);
    } else if (step == DB_DONE) {
        rc = iotca_error_set(IOTCA_E_USAGE, "no CRL for issuer %lld", (long long)issuer_id);
    } else {
        rc = db_fail(s, "loading the CRL of issuer %lld", (long long)issuer_id);
    }
    db_done(st);
    return rc;
}

/* Finishes an upsert that only ever raises the number (RFC 5280 §5.2.3: monotonically increasing). */
static iotca_rc put_step(iotca_store *s, db_stmt *st, uint64_t number, const char *what) {
    int step = db_step(st);
    iotca_rc rc = step == DB_DONE ? IOTCA_OK : db_fail(s, "storing the CRL of %s", what);
    if (rc == IOTCA_OK && db_changes(st) == 0)
        rc = iotca_error_set(IOTCA_E_POLICY, "CRL number %llu is not greater than the current one for %s",
                             (unsigned long long)number, what);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_crl_put(iotca_store *s, int64_t issuer_id, const iotca_crl_rec *r) {
    IOTCA_ENSURE(r->size > 0 && r->next_update > r->this_update && r->number < ((uint64_t)1 << 62) &&
                     r->entries < ((uint64_t)1 << 62) && r->covers >= 0,
                 IOTCA_E_USAGE, "bad CRL record");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_CRL_PUT,
                              "INSERT INTO crls (issuer_id, number, this_update, next_update, size, entries, covers) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (issuer_id) DO UPDATE SET "
                              "number = excluded.number, this_update = excluded.this_update, next_update = "
                              "excluded.next_update, size = excluded.size, entries = excluded.entries, covers = "
                              "excluded.covers WHERE excluded.number > crls.number",
                              "storing a CRL", &st));
    db_bind_int64(st, 1, issuer_id);
    db_bind_int64(st, 2, r->number);
    db_bind_int64(st, 3, r->this_update);
    db_bind_int64(st, 4, r->next_update);
    db_bind_int64(st, 5, r->size);
    db_bind_int64(st, 6, r->entries);
    db_bind_int64(st, 7, r->covers);
    char what[32];
    snprintf(what, sizeof what, "issuer %lld", (long long)issuer_id);
    return put_step(s, st, r->number, what);
}

iotca_rc iotca_store_crl_reserve(iotca_store *s, int64_t issuer_id, uint64_t *number) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_CRL_SPARE1, "INSERT INTO crl_state (issuer_id) VALUES (?1) ON CONFLICT DO NOTHING",
                              "reserving a CRL number", &st));
    db_bind_int64(st, 1, issuer_id);
    int step = db_step(st);
    db_done(st);
    if (step != DB_DONE) return db_fail(s, "reserving a CRL number for issuer %lld", (long long)issuer_id);
    /* one statement, so its own transaction: committed (synchronous=FULL) when it is reset below */
    IOTCA_GUARD(db_stmt_get(s, SQ_CRL_SPARE2,
                              "UPDATE crl_state SET last_number = last_number + 1 WHERE issuer_id = ?1 "
                              "RETURNING last_number",
                              "reserving a CRL number", &st));
    db_bind_int64(st, 1, issuer_id);
    iotca_rc rc = IOTCA_OK;
    step = db_step(st);
    if (step == DB_ROW) {
        *number = (uint64_t)db_col_int64(st, 0);
        step = db_step(st);
    }
    if (step != DB_DONE) rc = db_fail(s, "reserving a CRL number for issuer %lld", (long long)issuer_id);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_crl_revocations(iotca_store *s, int64_t issuer_id, int64_t *count) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_CRL_DIRTY, "SELECT revocations FROM crl_state WHERE issuer_id = ?1",
                              "reading the revocation count", &st));
    db_bind_int64(st, 1, issuer_id);
    int step = db_step(st);
    *count = step == DB_ROW ? db_col_int64(st, 0) : 0;
    iotca_rc rc = step == DB_ROW || step == DB_DONE ? IOTCA_OK
                                                            : db_fail(s, "reading the revocation count");
    db_done(st);
    return rc;
}

iotca_rc iotca_store_crl_due(iotca_store *s, time_t now, time_t refresh_before, int64_t *ids, size_t max, size_t *n) {
    *n = 0;
    IOTCA_ENSURE(max >= 1 && max <= 10000, IOTCA_E_USAGE, "CRL due list limit must be 1 to 10000");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_CRL_LIST,
                              "SELECT i.id FROM issuers i LEFT JOIN crls c ON c.issuer_id = i.id "
                              "LEFT JOIN crl_state x ON x.issuer_id = i.id WHERE i.cert IS NOT NULL AND "
                              "(i.state IN ('active', 'retiring') OR (i.state = 'retired' AND i.not_after > ?1)) AND "
                              "(c.issuer_id IS NULL OR c.next_update <= ?2 OR COALESCE(x.revocations, 0) > c.covers) "
                              "ORDER BY i.id LIMIT ?3",
                              "finding CRLs to publish", &st));
    db_bind_int64(st, 1, now);
    db_bind_int64(st, 2, refresh_before);
    db_bind_int64(st, 3, max);
    int step;
    while ((step = db_step(st)) == DB_ROW && *n < max) ids[(*n)++] = db_col_int64(st, 0);
    iotca_rc rc = step == DB_DONE || step == DB_ROW ? IOTCA_OK : db_fail(s, "finding CRLs to publish");
    db_done(st);
    return rc;
}

iotca_rc iotca_store_root_crl_get(iotca_store *s, const char *root_sha256, iotca_crl_rec *r) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ROOT_CRL_GET,
                              "SELECT number, this_update, next_update, der FROM root_crls WHERE root_sha256 = ?1",
                              "loading a root CRL", &st));
    db_bind_text(st, 1, root_sha256);
    iotca_rc rc = IOTCA_OK;
    int step = db_step(st);
    if (step == DB_ROW) {
        r->number = (uint64_t)db_col_int64(st, 0);
        r->this_update = (time_t)db_col_int64(st, 1);
        r->next_update = (time_t)db_col_int64(st, 2);
        rc = db_col_blob(st, 3, &r->der, "root CRL");
        r->size = r->der.len;
    } else if (step == DB_DONE) {
        rc = iotca_error_set(IOTCA_E_USAGE, "no CRL imported for that root");
    } else {
        rc = db_fail(s, "loading a root CRL");
    }
    db_done(st);
    return rc;
}

iotca_rc iotca_store_root_crl_put(iotca_store *s, const char *root_sha256, const iotca_crl_rec *r) {
    IOTCA_ENSURE(r->der.len > 0 && r->next_update > r->this_update && r->number < ((uint64_t)1 << 62), IOTCA_E_USAGE,
                 "bad CRL record");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ROOT_CRL_PUT,
                              "INSERT INTO root_crls (root_sha256, number, this_update, next_update, der) VALUES (?1, ?2, ?3, "
                              "?4, ?5) ON CONFLICT (root_sha256) DO UPDATE SET number = excluded.number, this_update = "
                              "excluded.this_update, next_update = excluded.next_update, der = excluded.der "
                              "WHERE excluded.number > root_crls.number",
                              "storing a root CRL", &st));
    db_bind_text(st, 1, root_sha256);
    db_bind_int64(st, 2, r->number);
    db_bind_int64(st, 3, r->this_update);
    db_bind_int64(st, 4, r->next_update);
    db_bind_blob(st, 5, r->der.data, r->der.len);
    return put_step(s, st, r->number, "that root");
}

iotca_rc iotca_store_revoked_each(iotca_store *s, int64_t issuer_id, time_t min_not_after,
                                  iotca_rc (*fn)(void *ctx, const iotca_revoked_rec *r), void *ctx) {
    db_stmt *st;
    /* No ORDER BY: RFC 5280 imposes no order on revokedCertificates, and sorting a million rows would
     * cost a sorter's memory and time; rows come in the certificates_revoked index's order (schema 0010). */
    IOTCA_GUARD(db_stmt_get(s, SQ_REVOKED_EACH,
                              "SELECT serial, revoked_at, reason FROM certificates WHERE issuer_id = ?1 AND status = "
                              "'revoked' AND not_after > ?2",
                              "reading revoked certificates", &st));
    db_bind_int64(st, 1, issuer_id);
    db_bind_int64(st, 2, min_not_after);
    iotca_rc rc = IOTCA_OK;
    int step = DB_DONE;
    while (rc == IOTCA_OK && (step = db_step(st)) == DB_ROW) {
        iotca_revoked_rec r;
        rc = db_col_text(st, 0, r.serial, sizeof r.serial, "serial");
        r.revoked_at = (time_t)db_col_int64(st, 1);
        r.reason = db_col_int64(st, 2);
        if (rc == IOTCA_OK) rc = fn(ctx, &r);
    }
    if (rc == IOTCA_OK && step != DB_DONE) rc = db_fail(s, "reading revoked certificates");
    db_done(st);
    return rc;
}
