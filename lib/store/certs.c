/* The store's serials and certificates: reservation, recording, lookup, listing, revocation. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* Columns 0..10 of every certificate query; cert_get adds der as column 11 and the latest successor (a
 * certificate renewing this one, schema 0018) as column 12. */
#define CERT_COLUMNS                                                                                                   \
    "serial, issuer_id, profile, subject, not_before, not_after, created_at, status, revoked_at, reason, renews"

/* Inserts a serial's reservation, with what it is reserved to sign when in is given (schema 0012). */
static iotca_rc reserve(iotca_store *s, const char *serial_hex, int64_t issuer_id, time_t now,
                        const iotca_serial_intent *in) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "reserving a serial: NULL store");
    IOTCA_GUARD(iotca_sq_check_serial(serial_hex));
    db_stmt *st;
    /* without an intent, the statement of the schema before 0012 (the columns it adds stay NULL) */
    if (in)
        IOTCA_GUARD(db_stmt_get(s, SQ_SERIAL_INSERT_INTENT,
                                "INSERT INTO serials (serial, issuer_id, reserved_at, profile, not_after, "
                                "tbs_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                "reserving a serial", &st));
    else
        IOTCA_GUARD(db_stmt_get(s, SQ_SERIAL_INSERT,
                                "INSERT INTO serials (serial, issuer_id, reserved_at) VALUES (?1, ?2, ?3)",
                                "reserving a serial", &st));
    iotca_rc rc = IOTCA_OK;
    bool bound = db_bind_text(st, 1, serial_hex) && db_bind_int64(st, 2, issuer_id) && db_bind_int64(st, 3, now);
    if (bound && in)
        bound = db_bind_text(st, 4, in->profile) && db_bind_int64(st, 5, in->not_after) &&
                db_bind_blob(st, 6, in->tbs_sha256, sizeof in->tbs_sha256);
    enum db_step_rc e = bound ? db_step(st) : DB_FAILED;
    IOTCA_CHECK(e != DB_UNIQUE, IOTCA_E_POLICY, "serial %s already used", serial_hex);
    IOTCA_CHECK(e != DB_FOREIGN_KEY, IOTCA_E_USAGE, "reserving serial %s: no issuer %lld", serial_hex,
                (long long)issuer_id);
    if (e != DB_DONE) rc = db_fail(s, "reserving serial %s", serial_hex);
out:
    db_done(st);
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
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_SERIAL_INTENT,
                            "SELECT issuer_id, reserved_at, profile, not_after, tbs_sha256 FROM serials "
                            "WHERE serial = ?1",
                            "reading a serial's intent", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, serial_hex) ? db_step(st) : DB_FAILED;
    IOTCA_CHECK(e != DB_DONE, IOTCA_E_USAGE, "no serial %s", serial_hex);
    if (e != DB_ROW) {
        rc = db_fail(s, "reading the intent of serial %s", serial_hex);
        goto out;
    }
    snprintf(out->serial, sizeof out->serial, "%s", serial_hex);
    out->issuer_id = db_col_int64(st, 0);
    out->reserved_at = (time_t)db_col_int64(st, 1);
    if (!db_col_is_null(st, 2) && !db_col_is_null(st, 4)) {
        iotca_buf hash = {0};
        rc = db_col_blob(st, 4, &hash, "a serial's TBS hash");
        if (rc == IOTCA_OK && hash.len == sizeof out->tbs_sha256)
            rc = db_col_text(st, 2, out->profile, sizeof out->profile, "a serial's profile");
        if (rc == IOTCA_OK && hash.len == sizeof out->tbs_sha256) {
            out->not_after = (time_t)db_col_int64(st, 3);
            memcpy(out->tbs_sha256, hash.data, sizeof out->tbs_sha256);
            *has_intent = true;
        }
        iotca_buf_free(&hash);
    }
out:
    db_done(st);
    return rc;
}

/* Explains why cert_add inserted nothing: the serial is not reserved, or
 * reserved for another issuer. Only on the failure path. */
static iotca_rc not_reserved(iotca_store *s, const iotca_cert_rec *r) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_SERIAL_OWNER, "SELECT issuer_id FROM serials WHERE serial = ?1",
                            "checking a serial's reservation", &st));
    iotca_rc rc;
    enum db_step_rc e = db_bind_text(st, 1, r->serial) ? db_step(st) : DB_FAILED;
    if (e == DB_DONE)
        rc = iotca_error_set(IOTCA_E_POLICY, "recording certificate %s: the serial was never reserved", r->serial);
    else if (e == DB_ROW)
        rc = iotca_error_set(IOTCA_E_POLICY,
                             "recording certificate %s: the serial is reserved for issuer %lld, not %lld", r->serial,
                             (long long)db_col_int64(st, 0), (long long)r->issuer_id);
    else
        rc = db_fail(s, "checking the reservation of serial %s", r->serial);
    db_done(st);
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
    db_stmt *st;
    /* a fresh issuance: the statement of the schema before 0018 (renews stays NULL) */
    /* PostgreSQL types the parameters of a SELECT list as text unless told: the casts say what they are */
    if (r->renews[0])
        IOTCA_GUARD(
            db_stmt_get(s, SQ_CERT_INSERT_RENEWS,
                        db_sql(s,
                               "INSERT INTO certificates (serial, issuer_id, profile, subject, der, not_before, "
                               "not_after, created_at, renews) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 "
                               "WHERE EXISTS (SELECT 1 FROM serials WHERE serial = ?1 AND issuer_id = ?2)",
                               "INSERT INTO certificates (serial, issuer_id, profile, subject, der, not_before, "
                               "not_after, created_at, renews) SELECT ?1::text, ?2::bigint, ?3::text, "
                               "?4::text, ?5::bytea, ?6::bigint, ?7::bigint, ?8::bigint, ?9::text "
                               "WHERE EXISTS (SELECT 1 FROM serials WHERE serial = ?1 AND issuer_id = ?2)"),
                        "recording a certificate", &st));
    else
        IOTCA_GUARD(
            db_stmt_get(s, SQ_CERT_INSERT,
                        db_sql(s,
                               "INSERT INTO certificates (serial, issuer_id, profile, subject, der, not_before, "
                               "not_after, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 "
                               "WHERE EXISTS (SELECT 1 FROM serials WHERE serial = ?1 AND issuer_id = ?2)",
                               "INSERT INTO certificates (serial, issuer_id, profile, subject, der, not_before, "
                               "not_after, created_at) SELECT ?1::text, ?2::bigint, ?3::text, ?4::text, "
                               "?5::bytea, ?6::bigint, ?7::bigint, ?8::bigint "
                               "WHERE EXISTS (SELECT 1 FROM serials WHERE serial = ?1 AND issuer_id = ?2)"),
                        "recording a certificate", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, r->serial) && db_bind_int64(st, 2, r->issuer_id) &&
                                db_bind_text(st, 3, r->profile) && db_bind_text(st, 4, r->subject) &&
                                db_bind_blob(st, 5, r->der.data, r->der.len) && db_bind_int64(st, 6, r->not_before) &&
                                db_bind_int64(st, 7, r->not_after) && db_bind_int64(st, 8, r->created_at) &&
                                (!r->renews[0] || db_bind_text(st, 9, r->renews))
                            ? db_step(st)
                            : DB_FAILED;
    IOTCA_CHECK(e != DB_UNIQUE, IOTCA_E_POLICY, "certificate with serial %s is already recorded", r->serial);
    IOTCA_CHECK(e != DB_FOREIGN_KEY, IOTCA_E_POLICY, "recording certificate %s: the serial or issuer %lld is unknown",
                r->serial, (long long)r->issuer_id);
    if (e != DB_DONE) {
        rc = db_fail(s, "recording certificate %s", r->serial);
        goto out;
    }
    if (db_changes(st) == 0) rc = not_reserved(s, r);
out:
    db_done(st);
    return rc;
}

/* Fills columns 0..9 (CERT_COLUMNS) of a row into r. */
static iotca_rc cert_row(db_stmt *st, iotca_cert_rec *r) {
    IOTCA_GUARD(db_col_text(st, 0, r->serial, sizeof r->serial, "certificate serial"));
    r->issuer_id = db_col_int64(st, 1);
    IOTCA_GUARD(db_col_text(st, 2, r->profile, sizeof r->profile, "certificate profile"));
    IOTCA_GUARD(db_col_text(st, 3, r->subject, sizeof r->subject, "certificate subject"));
    r->not_before = (time_t)db_col_int64(st, 4);
    r->not_after = (time_t)db_col_int64(st, 5);
    r->created_at = (time_t)db_col_int64(st, 6);
    char status[16];
    IOTCA_GUARD(db_col_text(st, 7, status, sizeof status, "certificate status"));
    r->revoked = strcmp(status, "revoked") == 0;
    r->revoked_at = (time_t)db_col_int64(st, 8);
    r->reason = db_col_int64(st, 9);
    IOTCA_GUARD(db_col_text(st, 10, r->renews, sizeof r->renews, "the serial a certificate renews"));
    return IOTCA_OK;
}

iotca_rc iotca_store_cert_get(iotca_store *s, const char *serial_hex, iotca_cert_rec *r) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_cert_get: NULL argument");
    iotca_cert_rec_free(r);
    IOTCA_GUARD(iotca_sq_check_serial(serial_hex));
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_CERT_GET,
                            "SELECT " CERT_COLUMNS ", der, (SELECT n.serial FROM certificates n WHERE n.renews = "
                            "certificates.serial ORDER BY n.created_at DESC, n.serial LIMIT 1) FROM certificates "
                            "WHERE serial = ?1",
                            "loading a certificate", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, serial_hex) ? db_step(st) : DB_FAILED;
    IOTCA_CHECK(e != DB_DONE, IOTCA_E_USAGE, "no certificate with serial %s", serial_hex);
    if (e != DB_ROW) {
        rc = db_fail(s, "loading certificate %s", serial_hex);
        goto out;
    }
    IOTCA_TRY(cert_row(st, r));
    IOTCA_TRY(db_col_blob(st, 11, &r->der, "certificate DER"));
    IOTCA_TRY(db_col_text(st, 12, r->renewed_by, sizeof r->renewed_by, "the serial renewing a certificate"));
out:
    db_done(st);
    if (rc != IOTCA_OK) iotca_cert_rec_free(r);
    return rc;
}

/* Bits of the cert_list statement variants: which filters are present. */
enum { F_PROFILE = 1, F_STATUS = 2, F_EXPIRES = 4, F_AFTER = 8, F_TEXT = 16 };

/* The statement for one filter combination, composed from fixed fragments
 * (values are always bound, never written into the text). */
static iotca_rc list_stmt(iotca_store *s, unsigned mask, db_stmt **out) {
    char sql[768];
    /* text: the subject or the DER's ASCII bytes, both in any case (a DNS name or URI in a SAN as written, which
     * the CA then confirms: a match may be in another field), or the DER's bytes of the address it names (an IP
     * address in a SAN; ?8 is NULL, which matches nothing, for a text that names none); with it, the DER as column
     * 11. PostgreSQL folds the DER's case over its escape form
     * (printable ASCII as it is, a backslash doubled, other bytes as \ooo), so ?7 is escaped alike. */
    const char *text = db_sql(s,
                              " AND (instr(lower(subject), ?6) > 0 OR instr(lower(CAST(der AS TEXT)), ?7) > 0 "
                              "OR instr(der, ?8) > 0)",
                              " AND (position(?6::text in lower(subject)) > 0 OR position(?7::text in "
                              "lower(encode(der, 'escape'))) > 0 OR position(?8::bytea in der) > 0)");
    snprintf(sql, sizeof sql, "SELECT " CERT_COLUMNS "%s FROM certificates WHERE TRUE%s%s%s%s%s ORDER BY serial LIMIT ?5",
             mask & F_TEXT ? ", der" : "", mask & F_PROFILE ? " AND profile = ?1" : "",
             mask & F_STATUS ? " AND status = ?2" : "", mask & F_EXPIRES ? " AND not_after < ?3" : "",
             mask & F_AFTER ? " AND serial > ?4" : "", mask & F_TEXT ? text : "");
    return db_stmt_get(s, (enum iotca_sq_id)(SQ_CERT_LIST + mask), sql, "listing certificates", out);
}

/* What a text search looks for: the text lowercased (ASCII), the same as PostgreSQL's escape form spells it
 * (SQLite: as it is), and when the text is an IPv4 or IPv6 address, its bytes as an iPAddress SAN holds them
 * (RFC 5280 §4.2.1.6). IOTCA_E_USAGE a text of 0 or over 128 bytes. */
static iotca_rc text_needles(const iotca_store *s, const char *text, char lower[129], char escaped[257],
                             uint8_t addr[16], size_t *addr_len) {
    size_t tl = strlen(text), e = 0;
    IOTCA_ENSURE(tl >= 1 && tl <= 128, IOTCA_E_USAGE, "search text must be 1 to 128 bytes, not %zu", tl);
    for (size_t i = 0; i <= tl; i++) {
        char c = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] - 'A' + 'a') : text[i];
        lower[i] = c;
        if (c == '\\' && db_is_pg(s)) escaped[e++] = '\\';
        escaped[e++] = c;
    }
    *addr_len = inet_pton(AF_INET, text, addr) == 1 ? 4 : inet_pton(AF_INET6, text, addr) == 1 ? 16 : 0;
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
    char lower[129], escaped[257];
    uint8_t addr[16];
    size_t addr_len = 0;
    if (f->text) IOTCA_GUARD(text_needles(s, f->text, lower, escaped, addr, &addr_len));
    unsigned mask = (f->profile ? F_PROFILE : 0) | (f->status >= 0 ? F_STATUS : 0) |
                    (f->expires_before != 0 ? F_EXPIRES : 0) | (f->after ? F_AFTER : 0) | (f->text ? F_TEXT : 0);
    db_stmt *st;
    IOTCA_GUARD(list_stmt(s, mask, &st));

    iotca_rc rc = IOTCA_OK;
    iotca_cert_rec *v = NULL;
    size_t len = 0, cap = 0;
    if (((mask & F_PROFILE) && !db_bind_text(st, 1, f->profile)) ||
        ((mask & F_STATUS) && !db_bind_text(st, 2, f->status ? "revoked" : "valid")) ||
        ((mask & F_EXPIRES) && !db_bind_int64(st, 3, f->expires_before)) ||
        ((mask & F_AFTER) && !db_bind_text(st, 4, f->after)) || !db_bind_int64(st, 5, f->limit) ||
        ((mask & F_TEXT) && (!db_bind_text(st, 6, lower) || !db_bind_text(st, 7, escaped) ||
                             !(addr_len ? db_bind_blob(st, 8, addr, addr_len) : db_bind_text(st, 8, NULL))))) {
        rc = db_fail(s, "listing certificates");
        goto out;
    }
    enum db_step_rc e;
    while ((e = db_step(st)) == DB_ROW) {
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
        if (mask & F_TEXT) IOTCA_TRY(db_col_blob(st, 11, &v[len - 1].der, "certificate DER"));
    }
    if (e != DB_DONE) {
        rc = db_fail(s, "listing certificates");
        goto out;
    }
    *out = v;
    *n = len;
out:
    db_done(st);
    if (rc != IOTCA_OK) {
        for (size_t i = 0; i < len; i++) iotca_cert_rec_free(&v[i]);
        free(v);
    }
    return rc;
}

/* CRLReason codes a revocation may carry (RFC 5280 §5.3.1): 7 is unused and
 * removeFromCRL (8) only appears in delta CRLs. */
static bool reason_ok(int reason) { return reason >= 0 && reason <= 10 && reason != 7 && reason != 8; }

/* PostgreSQL (issue 25): the revocation feed's numbers come from an identity drawn before commit, so two
 * replicas' revocations could commit out of number order, and a replica that read the later one first would
 * pass over the other for good. Revocations therefore take one transaction-scoped advisory lock before the
 * update that fills the feed: the lock is released after the commit is visible, so numbers commit in order.
 * The same transaction notifies iotca_revocations, which PostgreSQL delivers to every listening replica when,
 * and only if, it commits (signal.c listens). */
#define PG_REVOKE_TURN "SELECT pg_advisory_xact_lock(7460115), pg_notify('iotca_revocations', '')"

static iotca_rc revoke_row(iotca_store *s, const char *serial_hex, int reason, time_t at);

iotca_rc iotca_store_cert_revoke(iotca_store *s, const char *serial_hex, int reason, time_t at) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_cert_revoke: NULL store");
    IOTCA_GUARD(iotca_sq_check_serial(serial_hex));
    IOTCA_ENSURE(reason_ok(reason), IOTCA_E_USAGE, "revoking %s: %d is not a CRL reason code", serial_hex, reason);
    if (!db_is_pg(s)) return revoke_row(s, serial_hex, reason, at);
    bool own = !db_in_transaction(s); /* a caller's transaction is joined: the lock lasts until its commit */
    if (own) IOTCA_GUARD(iotca_sq_begin(s, "revoking a certificate"));
    iotca_rc rc = db_exec(s, PG_REVOKE_TURN, "revoking a certificate: waiting for the revocation feed");
    if (rc == IOTCA_OK) rc = revoke_row(s, serial_hex, reason, at);
    if (!own) return rc;
    if (rc == IOTCA_OK) return iotca_sq_commit(s, "revoking a certificate");
    iotca_sq_rollback(s);
    return rc;
}

/* The update itself, and why nothing changed when nothing did. */
static iotca_rc revoke_row(iotca_store *s, const char *serial_hex, int reason, time_t at) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_CERT_REVOKE,
                            "UPDATE certificates SET status = 'revoked', revoked_at = ?2, reason = ?3 "
                            "WHERE serial = ?1 AND status = 'valid'",
                            "revoking a certificate", &st));
    iotca_rc rc = IOTCA_OK;
    if (!db_bind_text(st, 1, serial_hex) || !db_bind_int64(st, 2, at) || !db_bind_int64(st, 3, reason) ||
        db_step(st) != DB_DONE) {
        rc = db_fail(s, "revoking certificate %s", serial_hex);
        goto out;
    }
    if (db_changes(st) == 1) goto out;
    /* Nothing changed: unknown or already revoked. A revoked certificate
     * never becomes valid again, so this second look cannot race wrongly. */
    db_stmt *q;
    IOTCA_TRY(db_stmt_get(s, SQ_CERT_STATUS, "SELECT status FROM certificates WHERE serial = ?1",
                          "revoking a certificate", &q));
    enum db_step_rc e = db_bind_text(q, 1, serial_hex) ? db_step(q) : DB_FAILED;
    if (e == DB_DONE)
        rc = iotca_error_set(IOTCA_E_USAGE, "no certificate with serial %s", serial_hex);
    else if (e == DB_ROW)
        rc = iotca_error_set(IOTCA_E_POLICY, "certificate %s is already revoked", serial_hex);
    else
        rc = db_fail(s, "revoking certificate %s", serial_hex);
    db_done(q);
out:
    db_done(st);
    return rc;
}
