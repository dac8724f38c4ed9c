/* CRL persistence: each issuer's current CRL with its monotonic number, imported root CRLs, and a streaming
 * cursor over revoked certificates. */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

static iotca_rc get(iotca_store *s, enum iotca_sq_id id, const char *sql, sqlite3_stmt **st, iotca_crl_rec *r,
                    const char *what) {
    int step = sqlite3_step(*st);
    iotca_rc rc = IOTCA_OK;
    if (step == SQLITE_ROW) {
        r->number = (uint64_t)sqlite3_column_int64(*st, 0);
        r->this_update = (time_t)sqlite3_column_int64(*st, 1);
        r->next_update = (time_t)sqlite3_column_int64(*st, 2);
        rc = iotca_sq_col_blob(*st, 3, &r->der, "CRL");
    } else if (step == SQLITE_DONE) {
        rc = iotca_error_set(IOTCA_E_USAGE, "no CRL for %s", what);
    } else {
        rc = iotca_sq_fail(s, "loading the CRL of %s", what);
    }
    (void)id;
    (void)sql;
    iotca_sq_done(*st);
    return rc;
}

iotca_rc iotca_store_crl_get(iotca_store *s, int64_t issuer_id, iotca_crl_rec *r) {
    sqlite3_stmt *st;
    static const char sql[] = "SELECT number, this_update, next_update, der FROM crls WHERE issuer_id = ?1";
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_CRL_GET, sql, "loading a CRL", &st));
    sqlite3_bind_int64(st, 1, issuer_id);
    char what[32];
    snprintf(what, sizeof what, "issuer %lld", (long long)issuer_id);
    return get(s, SQ_CRL_GET, sql, &st, r, what);
}

iotca_rc iotca_store_root_crl_get(iotca_store *s, const char *root_sha256, iotca_crl_rec *r) {
    sqlite3_stmt *st;
    static const char sql[] = "SELECT number, this_update, next_update, der FROM root_crls WHERE root_sha256 = ?1";
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_ROOT_CRL_GET, sql, "loading a root CRL", &st));
    sqlite3_bind_text(st, 1, root_sha256, -1, SQLITE_STATIC);
    return get(s, SQ_ROOT_CRL_GET, sql, &st, r, "that root");
}

/* Upsert that only ever raises the number (RFC 5280 §5.2.3: monotonically increasing). */
static iotca_rc put(iotca_store *s, sqlite3_stmt *st, const iotca_crl_rec *r, const char *what) {
    IOTCA_ENSURE(r->der.len > 0 && r->next_update > r->this_update && r->number < ((uint64_t)1 << 62), IOTCA_E_USAGE,
                 "bad CRL record");
    sqlite3_bind_int64(st, 2, (sqlite3_int64)r->number);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)r->this_update);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)r->next_update);
    sqlite3_bind_blob(st, 5, r->der.data, (int)r->der.len, SQLITE_STATIC);
    int step = sqlite3_step(st);
    iotca_rc rc = step == SQLITE_DONE ? IOTCA_OK : iotca_sq_fail(s, "storing the CRL of %s", what);
    if (rc == IOTCA_OK && sqlite3_changes(s->db) == 0)
        rc = iotca_error_set(IOTCA_E_POLICY, "CRL number %llu is not greater than the current one for %s",
                             (unsigned long long)r->number, what);
    iotca_sq_done(st);
    return rc;
}

iotca_rc iotca_store_crl_put(iotca_store *s, int64_t issuer_id, const iotca_crl_rec *r) {
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_CRL_PUT,
                              "INSERT INTO crls (issuer_id, number, this_update, next_update, der) VALUES (?1, ?2, ?3, ?4, ?5) "
                              "ON CONFLICT (issuer_id) DO UPDATE SET number = excluded.number, this_update = "
                              "excluded.this_update, next_update = excluded.next_update, der = excluded.der "
                              "WHERE excluded.number > crls.number",
                              "storing a CRL", &st));
    sqlite3_bind_int64(st, 1, issuer_id);
    char what[32];
    snprintf(what, sizeof what, "issuer %lld", (long long)issuer_id);
    return put(s, st, r, what);
}

iotca_rc iotca_store_root_crl_put(iotca_store *s, const char *root_sha256, const iotca_crl_rec *r) {
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_ROOT_CRL_PUT,
                              "INSERT INTO root_crls (root_sha256, number, this_update, next_update, der) VALUES (?1, ?2, ?3, "
                              "?4, ?5) ON CONFLICT (root_sha256) DO UPDATE SET number = excluded.number, this_update = "
                              "excluded.this_update, next_update = excluded.next_update, der = excluded.der "
                              "WHERE excluded.number > root_crls.number",
                              "storing a root CRL", &st));
    sqlite3_bind_text(st, 1, root_sha256, -1, SQLITE_STATIC);
    return put(s, st, r, "that root");
}

iotca_rc iotca_store_revoked_each(iotca_store *s, int64_t issuer_id, time_t min_not_after,
                                  iotca_rc (*fn)(void *ctx, const iotca_revoked_rec *r), void *ctx) {
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_REVOKED_EACH,
                              "SELECT serial, revoked_at, reason FROM certificates WHERE issuer_id = ?1 AND status = "
                              "'revoked' AND not_after > ?2 ORDER BY serial",
                              "reading revoked certificates", &st));
    sqlite3_bind_int64(st, 1, issuer_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)min_not_after);
    iotca_rc rc = IOTCA_OK;
    int step = SQLITE_DONE;
    while (rc == IOTCA_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        iotca_revoked_rec r;
        rc = iotca_sq_col_text(st, 0, r.serial, sizeof r.serial, "serial");
        r.revoked_at = (time_t)sqlite3_column_int64(st, 1);
        r.reason = sqlite3_column_int(st, 2);
        if (rc == IOTCA_OK) rc = fn(ctx, &r);
    }
    if (rc == IOTCA_OK && step != SQLITE_DONE) rc = iotca_sq_fail(s, "reading revoked certificates");
    iotca_sq_done(st);
    return rc;
}
