/* The store's serials and certificates: reservation, recording, lookup, listing, revocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* Columns 0..10 of every certificate query; cert_get adds der as column 11 and the latest successor (a
 * certificate renewing this one, schema 0018) as column 12. */
#define CERT_COLUMNS                                                                                           \
    "serial, issuer_id, profile, subject, not_before, not_after, created_at, status, revoked_at, reason, renews"

/* Inserts a serial's reservation, with what it is reserved to sign when in is given (schema 0012). */
static iotca_rc reserve(iotca_store *s, const char *serial_hex, int64_t issuer_id, time_t now,
                        const iotca_serial_intent *in) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "reserving a serial: NULL store");
    IOTCA_GUARD(iotca_sq_check_serial(serial_hex));
    sqlite3_stmt *st;
    /* without an intent, the statement of the schema before 0012 (the columns it adds stay NULL) */
    if (in)
        IOTCA_GUARD(iotca_sq_stmt(s, SQ_SERIAL_INSERT_INTENT,
                                  "INSERT INTO serials (serial, issuer_id, reserved_at, profile, not_after, "
                                  "tbs_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                  "reserving a serial", &st));
    else
        IOTCA_GUARD(iotca_sq_stmt(s, SQ_SERIAL_INSERT,
                                  "INSERT INTO serials (serial, issuer_id, reserved_at) VALUES (?1, ?2, ?3)",
                                  "reserving a serial", &st));
    iotca_rc rc = IOTCA_OK;
    bool bound = sqlite3_bind_text(st, 1, serial_hex, -1, SQLITE_STATIC) == SQLITE_OK &&
                 sqlite3_bind_int64(st, 2, issuer_id) == SQLITE_OK &&
                 sqlite3_bind_int64(st, 3, (sqlite3_int64)now) == SQLITE_OK;
    if (bound && in)
        bound = sqlite3_bind_text(st, 4, in->profile, -1, SQLITE_STATIC) == SQLITE_OK &&
                sqlite3_bind_int64(st, 5, (sqlite3_int64)in->not_after) == SQLITE_OK &&
                sqlite3_bind_blob(st, 6, in->tbs_sha256, sizeof in->tbs_sha256, SQLITE_STATIC) == SQLITE_OK;
    int e = bound ? sqlite3_step(st) : SQLITE_ERROR;
    IOTCA_CHECK(e != SQLITE_CONSTRAINT_PRIMARYKEY && e != SQLITE_CONSTRAINT_UNIQUE, IOTCA_E_POLICY,
                "serial %s already used", serial_hex);
    IOTCA_CHECK(e != SQLITE_CONSTRAINT_FOREIGNKEY, IOTCA_E_USAGE, "reserving serial %s: no issuer %lld", serial_hex,
                (long long)issuer_id);
    if (e != SQLITE_DONE) rc = iotca_sq_fail(s, "reserving serial %s", serial_hex);
out:
    iotca_sq_done(st);
    return rc;
}

iotca_rc iotca_store_serial_reserve(iotca_store *s, const char *serial_hex, int64_t issuer_id, time_t now) {
    return reserve(s, serial_hex, issuer_id, now, NULL);
}

iotca_rc iotca_store_serial_reserve_intent(iotca_store *s, const iotca_serial_intent *in) {
    IOTCA_ENSURE(in != NULL, IOTCA_E_USAGE, "iotca_store_serial_reserve_intent: NULL intent");
    IOTCA_ENSURE(iotca_sq_fits(in->serial, sizeof in->serial), IOTCA_E_USAGE, "intent serial is not terminated");
    IOTCA_ENSURE(iotca_sq_fits(in->profile, sizeof in->profile) && in->profile[0], IOTCA_E_USAGE,
                 "intent for serial %s: profile must be 1 to %zu characters", in->serial, sizeof in->profile - 1);
    return reserve(s, in->serial, in->issuer_id, in->reserved_at, in);
}

iotca_rc iotca_store_serial_intent_get(iotca_store *s, const char *serial_hex, iotca_serial_intent *out,
                                       bool *has_intent) {
    IOTCA_ENSURE(s != NULL && out != NULL && has_intent != NULL, IOTCA_E_USAGE,
                 "iotca_store_serial_intent_get: NULL argument");
    IOTCA_GUARD(iotca_sq_check_serial(serial_hex));
    memset(out, 0, sizeof *out);
    *has_intent = false;
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_SERIAL_INTENT,
                              "SELECT issuer_id, reserved_at, profile, not_after, tbs_sha256 FROM serials "
                              "WHERE serial = ?1",
                              "reading a serial's intent", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_text(st, 1, serial_hex, -1, SQLITE_STATIC) == SQLITE_OK ? sqlite3_step(st) : SQLITE_ERROR;
    IOTCA_CHECK(e != SQLITE_DONE, IOTCA_E_USAGE, "no serial %s", serial_hex);
    if (e != SQLITE_ROW) {
        rc = iotca_sq_fail(s, "reading the intent of serial %s", serial_hex);
        goto out;
    }
    snprintf(out->serial, sizeof out->serial, "%s", serial_hex);
    out->issuer_id = sqlite3_column_int64(st, 0);
    out->reserved_at = (time_t)sqlite3_column_int64(st, 1);
    const unsigned char *profile = sqlite3_column_text(st, 2);
    const void *hash = sqlite3_column_blob(st, 4);
    if (profile && hash && sqlite3_column_bytes(st, 4) == (int)sizeof out->tbs_sha256) {
        snprintf(out->profile, sizeof out->profile, "%s", (const char *)profile);
        out->not_after = (time_t)sqlite3_column_int64(st, 3);
        memcpy(out->tbs_sha256, hash, sizeof out->tbs_sha256);
        *has_intent = true;
    }
out:
    iotca_sq_done(st);
    return rc;
}

/* Explains why cert_add inserted nothing: the serial is not reserved, or
 * reserved for another issuer. Only on the failure path. */
static iotca_rc not_reserved(iotca_store *s, const iotca_cert_rec *r) {
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_SERIAL_OWNER, "SELECT issuer_id FROM serials WHERE serial = ?1",
                              "checking a serial's reservation", &st));
    iotca_rc rc;
    int e = sqlite3_bind_text(st, 1, r->serial, -1, SQLITE_STATIC) == SQLITE_OK ? sqlite3_step(st) : SQLITE_ERROR;
    if (e == SQLITE_DONE)
        rc = iotca_error_set(IOTCA_E_POLICY, "recording certificate %s: the serial was never reserved", r->serial);
    else if (e == SQLITE_ROW)
        rc = iotca_error_set(IOTCA_E_POLICY,
                             "recording certificate %s: the serial is reserved for issuer %lld, not %lld", r->serial,
                             (long long)sqlite3_column_int64(st, 0), (long long)r->issuer_id);
    else
        rc = iotca_sq_fail(s, "checking the reservation of serial %s", r->serial);
    iotca_sq_done(st);
    return rc;
}

iotca_rc iotca_store_cert_add(iotca_store *s, const iotca_cert_rec *r) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_cert_add: NULL argument");
    IOTCA_ENSURE(iotca_sq_fits(r->serial, sizeof r->serial), IOTCA_E_USAGE, "certificate serial is not terminated");
    IOTCA_GUARD(iotca_sq_check_serial(r->serial));
    IOTCA_ENSURE(iotca_sq_fits(r->profile, sizeof r->profile) && r->profile[0], IOTCA_E_USAGE,
                 "certificate %s: profile must be 1 to %zu characters", r->serial, sizeof r->profile - 1);
    IOTCA_ENSURE(iotca_sq_fits(r->subject, sizeof r->subject), IOTCA_E_USAGE,
                 "certificate %s: subject is longer than %zu characters", r->serial, sizeof r->subject - 1);
    IOTCA_ENSURE(r->der.len > 0, IOTCA_E_USAGE, "certificate %s: no DER", r->serial);
    IOTCA_ENSURE(r->not_before < r->not_after, IOTCA_E_USAGE, "certificate %s: notAfter is not after notBefore",
                 r->serial);
    IOTCA_ENSURE(!r->revoked, IOTCA_E_USAGE, "certificate %s: a new certificate is recorded valid; revoke it after",
                 r->serial);
    IOTCA_ENSURE(iotca_sq_fits(r->renews, sizeof r->renews), IOTCA_E_USAGE, "certificate %s: renews is not terminated",
                 r->serial);
    if (r->renews[0]) IOTCA_GUARD(iotca_sq_check_serial(r->renews));

    /* The reservation is checked in the same statement, issuer included;
     * the foreign key to serials stays as the schema's own guard. */
    sqlite3_stmt *st;
    /* a fresh issuance: the statement of the schema before 0018 (renews stays NULL) */
    if (r->renews[0])
        IOTCA_GUARD(iotca_sq_stmt(s, SQ_CERT_INSERT_RENEWS,
                                  "INSERT INTO certificates (serial, issuer_id, profile, subject, der, not_before, "
                                  "not_after, created_at, renews) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 "
                                  "WHERE EXISTS (SELECT 1 FROM serials WHERE serial = ?1 AND issuer_id = ?2)",
                                  "recording a certificate", &st));
    else
        IOTCA_GUARD(iotca_sq_stmt(s, SQ_CERT_INSERT,
                                  "INSERT INTO certificates (serial, issuer_id, profile, subject, der, not_before, "
                                  "not_after, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 "
                                  "WHERE EXISTS (SELECT 1 FROM serials WHERE serial = ?1 AND issuer_id = ?2)",
                                  "recording a certificate", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_text(st, 1, r->serial, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 2, r->issuer_id) == SQLITE_OK &&
                    sqlite3_bind_text(st, 3, r->profile, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_text(st, 4, r->subject, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_blob64(st, 5, r->der.data, r->der.len, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 6, (sqlite3_int64)r->not_before) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 7, (sqlite3_int64)r->not_after) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 8, (sqlite3_int64)r->created_at) == SQLITE_OK &&
                    (!r->renews[0] || sqlite3_bind_text(st, 9, r->renews, -1, SQLITE_STATIC) == SQLITE_OK)
                ? sqlite3_step(st)
                : SQLITE_ERROR;
    IOTCA_CHECK(e != SQLITE_CONSTRAINT_PRIMARYKEY && e != SQLITE_CONSTRAINT_UNIQUE, IOTCA_E_POLICY,
                "certificate with serial %s is already recorded", r->serial);
    IOTCA_CHECK(e != SQLITE_CONSTRAINT_FOREIGNKEY, IOTCA_E_POLICY,
                "recording certificate %s: the serial or issuer %lld is unknown", r->serial, (long long)r->issuer_id);
    if (e != SQLITE_DONE) {
        rc = iotca_sq_fail(s, "recording certificate %s", r->serial);
        goto out;
    }
    if (sqlite3_changes(s->db) == 0) rc = not_reserved(s, r);
out:
    iotca_sq_done(st);
    return rc;
}

/* Fills columns 0..9 (CERT_COLUMNS) of a row into r. */
static iotca_rc cert_row(sqlite3_stmt *st, iotca_cert_rec *r) {
    IOTCA_GUARD(iotca_sq_col_text(st, 0, r->serial, sizeof r->serial, "certificate serial"));
    r->issuer_id = sqlite3_column_int64(st, 1);
    IOTCA_GUARD(iotca_sq_col_text(st, 2, r->profile, sizeof r->profile, "certificate profile"));
    IOTCA_GUARD(iotca_sq_col_text(st, 3, r->subject, sizeof r->subject, "certificate subject"));
    r->not_before = (time_t)sqlite3_column_int64(st, 4);
    r->not_after = (time_t)sqlite3_column_int64(st, 5);
    r->created_at = (time_t)sqlite3_column_int64(st, 6);
    const unsigned char *status = sqlite3_column_text(st, 7);
    r->revoked = status != NULL && strcmp((const char *)status, "revoked") == 0;
    r->revoked_at = (time_t)sqlite3_column_int64(st, 8);
    r->reason = sqlite3_column_int(st, 9);
    IOTCA_GUARD(iotca_sq_col_text(st, 10, r->renews, sizeof r->renews, "the serial a certificate renews"));
    return IOTCA_OK;
}

iotca_rc iotca_store_cert_get(iotca_store *s, const char *serial_hex, iotca_cert_rec *r) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_cert_get: NULL argument");
    iotca_cert_rec_free(r);
    IOTCA_GUARD(iotca_sq_check_serial(serial_hex));
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_CERT_GET,
                              "SELECT " CERT_COLUMNS ", der, (SELECT n.serial FROM certificates n WHERE n.renews = "
                              "certificates.serial ORDER BY n.created_at DESC, n.serial LIMIT 1) FROM certificates "
                              "WHERE serial = ?1",
                              "loading a certificate", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_text(st, 1, serial_hex, -1, SQLITE_STATIC) == SQLITE_OK ? sqlite3_step(st) : SQLITE_ERROR;
    IOTCA_CHECK(e != SQLITE_DONE, IOTCA_E_USAGE, "no certificate with serial %s", serial_hex);
    if (e != SQLITE_ROW) {
        rc = iotca_sq_fail(s, "loading certificate %s", serial_hex);
        goto out;
    }
    IOTCA_TRY(cert_row(st, r));
    IOTCA_TRY(iotca_sq_col_blob(st, 11, &r->der, "certificate DER"));
    IOTCA_TRY(iotca_sq_col_text(st, 12, r->renewed_by, sizeof r->renewed_by, "the serial renewing a certificate"));
out:
    iotca_sq_done(st);
    if (rc != IOTCA_OK) iotca_cert_rec_free(r);
    return rc;
}

/* Bits of the cert_list statement variants: which filters are present. */
enum { F_PROFILE = 1, F_STATUS = 2, F_EXPIRES = 4, F_AFTER = 8 };

/* The statement for one filter combination, composed from fixed fragments
 * (values are always bound, never written into the text). */
static iotca_rc list_stmt(iotca_store *s, unsigned mask, sqlite3_stmt **out) {
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT " CERT_COLUMNS " FROM certificates WHERE 1%s%s%s%s ORDER BY serial LIMIT ?5",
             mask & F_PROFILE ? " AND profile = ?1" : "", mask & F_STATUS ? " AND status = ?2" : "",
             mask & F_EXPIRES ? " AND not_after < ?3" : "", mask & F_AFTER ? " AND serial > ?4" : "");
    IOTCA_GUARD(iotca_sq_prepare(s, &s->list_stmt[mask], sql, "listing certificates"));
    *out = s->list_stmt[mask];
    return IOTCA_OK;
}

iotca_rc iotca_store_cert_list(iotca_store *s, const iotca_cert_filter *f, iotca_cert_rec **out, size_t *n) {
    IOTCA_ENSURE(s != NULL && f != NULL && out != NULL && n != NULL, IOTCA_E_USAGE,
                 "iotca_store_cert_list: NULL argument");
    *out = NULL;
    *n = 0;
    IOTCA_ENSURE(f->limit >= 1 && f->limit <= 1000, IOTCA_E_USAGE, "list limit must be 1 to 1000, not %zu", f->limit);
    IOTCA_ENSURE(f->status >= -1 && f->status <= 1, IOTCA_E_USAGE,
                 "status filter must be -1 (any), 0 (valid) or 1 (revoked), not %d", f->status);
    if (f->after != NULL) IOTCA_GUARD(iotca_sq_check_serial(f->after));
    unsigned mask = (f->profile ? F_PROFILE : 0) | (f->status >= 0 ? F_STATUS : 0) |
                    (f->expires_before != 0 ? F_EXPIRES : 0) | (f->after ? F_AFTER : 0);
    sqlite3_stmt *st;
    IOTCA_GUARD(list_stmt(s, mask, &st));

    iotca_rc rc = IOTCA_OK;
    iotca_cert_rec *v = NULL;
    size_t len = 0, cap = 0;
    if (((mask & F_PROFILE) && sqlite3_bind_text(st, 1, f->profile, -1, SQLITE_STATIC) != SQLITE_OK) ||
        ((mask & F_STATUS) &&
         sqlite3_bind_text(st, 2, f->status ? "revoked" : "valid", -1, SQLITE_STATIC) != SQLITE_OK) ||
        ((mask & F_EXPIRES) && sqlite3_bind_int64(st, 3, (sqlite3_int64)f->expires_before) != SQLITE_OK) ||
        ((mask & F_AFTER) && sqlite3_bind_text(st, 4, f->after, -1, SQLITE_STATIC) != SQLITE_OK) ||
        sqlite3_bind_int64(st, 5, (sqlite3_int64)f->limit) != SQLITE_OK) {
        rc = iotca_sq_fail(s, "listing certificates");
        goto out;
    }
    int e;
    while ((e = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            if (ncap > f->limit) ncap = f->limit;
            iotca_cert_rec *nv = realloc(v, ncap * sizeof *v);
            IOTCA_CHECK(nv != NULL, IOTCA_E_INTERNAL, "out of memory listing certificates");
            v = nv;
            cap = ncap;
        }
        memset(&v[len], 0, sizeof v[len]);
        len++;
        IOTCA_TRY(cert_row(st, &v[len - 1]));
    }
    if (e != SQLITE_DONE) {
        rc = iotca_sq_fail(s, "listing certificates");
        goto out;
    }
    *out = v;
    *n = len;
out:
    iotca_sq_done(st);
    if (rc != IOTCA_OK) {
        for (size_t i = 0; i < len; i++) iotca_cert_rec_free(&v[i]);
        free(v);
    }
    return rc;
}

/* CRLReason codes a revocation may carry (RFC 5280 §5.3.1): 7 is unused and
 * removeFromCRL (8) only appears in delta CRLs. */
static bool reason_ok(int reason) { return reason >= 0 && reason <= 10 && reason != 7 && reason != 8; }

iotca_rc iotca_store_cert_revoke(iotca_store *s, const char *serial_hex, int reason, time_t at) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_cert_revoke: NULL store");
    IOTCA_GUARD(iotca_sq_check_serial(serial_hex));
    IOTCA_ENSURE(reason_ok(reason), IOTCA_E_USAGE, "revoking %s: %d is not a CRL reason code", serial_hex, reason);
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_CERT_REVOKE,
                              "UPDATE certificates SET status = 'revoked', revoked_at = ?2, reason = ?3 "
                              "WHERE serial = ?1 AND status = 'valid'",
                              "revoking a certificate", &st));
    iotca_rc rc = IOTCA_OK;
    if (sqlite3_bind_text(st, 1, serial_hex, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)at) != SQLITE_OK || sqlite3_bind_int(st, 3, reason) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE) {
        rc = iotca_sq_fail(s, "revoking certificate %s", serial_hex);
        goto out;
    }
    if (sqlite3_changes(s->db) == 1) goto out;
    /* Nothing changed: unknown or already revoked. A revoked certificate
     * never becomes valid again, so this second look cannot race wrongly. */
    sqlite3_stmt *q;
    IOTCA_TRY(iotca_sq_stmt(s, SQ_CERT_STATUS, "SELECT status FROM certificates WHERE serial = ?1",
                            "revoking a certificate", &q));
    int e = sqlite3_bind_text(q, 1, serial_hex, -1, SQLITE_STATIC) == SQLITE_OK ? sqlite3_step(q) : SQLITE_ERROR;
    if (e == SQLITE_DONE)
        rc = iotca_error_set(IOTCA_E_USAGE, "no certificate with serial %s", serial_hex);
    else if (e == SQLITE_ROW)
        rc = iotca_error_set(IOTCA_E_POLICY, "certificate %s is already revoked", serial_hex);
    else
        rc = iotca_sq_fail(s, "revoking certificate %s", serial_hex);
    iotca_sq_done(q);
out:
    iotca_sq_done(st);
    return rc;
}
