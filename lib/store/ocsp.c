/* OCSP persistence: delegated responder certificates and the pre-signed response of every certificate. */
#include <stdlib.h>
#include <string.h>

#include "db.h"

void iotca_ocsp_signer_rec_free(iotca_ocsp_signer_rec *r) {
    iotca_buf_free(&r->cert);
    memset(r, 0, sizeof *r);
}

iotca_rc iotca_store_ocsp_signer_current(iotca_store *s, int64_t issuer_id, iotca_ocsp_signer_rec *r) {
    iotca_ocsp_signer_rec_free(r);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_OCSP_SIGNER_GET,
                              "SELECT id, cert, key_ref, not_after, created_at FROM ocsp_signers WHERE issuer_id = ?1 "
                              "ORDER BY not_after DESC, id DESC LIMIT 1",
                              "loading the OCSP signer", &st));
    db_bind_int64(st, 1, issuer_id);
    int step = db_step(st);
    iotca_rc rc = IOTCA_OK;
    if (step == DB_ROW) {
        r->id = db_col_int64(st, 0);
        r->issuer_id = issuer_id;
        rc = db_col_blob(st, 1, &r->cert, "OCSP signer certificate");
        if (rc == IOTCA_OK) rc = db_col_text(st, 2, r->key_ref, sizeof r->key_ref, "OCSP signer key_ref");
        r->not_after = (time_t)db_col_int64(st, 3);
        r->created_at = (time_t)db_col_int64(st, 4);
    } else if (step == DB_DONE) {
        rc = iotca_error_set(IOTCA_E_USAGE, "no OCSP signer for issuer %lld", (long long)issuer_id);
    } else {
        rc = db_fail(s, "loading the OCSP signer of issuer %lld", (long long)issuer_id);
    }
    db_done(st);
    if (rc != IOTCA_OK) iotca_ocsp_signer_rec_free(r);
    return rc;
}

iotca_rc iotca_store_ocsp_signer_add(iotca_store *s, iotca_ocsp_signer_rec *r) {
    IOTCA_ENSURE(r->cert.len > 0 && r->key_ref[0], IOTCA_E_USAGE, "OCSP signer needs a certificate and a key");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_OCSP_SIGNER_PUT,
                              "INSERT INTO ocsp_signers (issuer_id, cert, key_ref, not_after, created_at) "
                              "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                              "recording the OCSP signer", &st));
    db_bind_int64(st, 1, r->issuer_id);
    db_bind_blob(st, 2, r->cert.data, r->cert.len);
    db_bind_text(st, 3, r->key_ref);
    db_bind_int64(st, 4, r->not_after);
    db_bind_int64(st, 5, r->created_at);
    enum db_step_rc step = db_step(st);
    if (step == DB_ROW) r->id = db_col_int64(st, 0);
    if (step == DB_ROW) step = db_step(st);
    iotca_rc rc = step == DB_DONE ? IOTCA_OK
                                  : db_fail(s, "recording the OCSP signer of issuer %lld", (long long)r->issuer_id);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_ocsp_lookup(iotca_store *s, const char *serial, iotca_ocsp_lookup *out, iotca_buf *der) {
    memset(out, 0, sizeof *out);
    IOTCA_GUARD(iotca_sq_check_serial(serial));
    db_stmt *st;
    /* one statement, one read transaction: the responder's hot path (a certificate has no answer row until
     * first signed, or a placeholder with an empty der left by schema 0008: LEFT JOIN answers either way) */
    IOTCA_GUARD(db_stmt_get(s, SQ_OCSP_RESP_GET,
                              "SELECT c.issuer_id, CASE WHEN c.status = 'revoked' THEN 1 ELSE 0 END, c.revoked_at, o.der, o.this_update, "
                              "o.next_update FROM certificates c LEFT JOIN ocsp_responses o ON o.serial = c.serial "
                              "WHERE c.serial = ?1",
                              "looking up a certificate for OCSP", &st));
    db_bind_text(st, 1, serial);
    int step = db_step(st);
    iotca_rc rc = IOTCA_OK;
    if (step == DB_ROW) {
        out->issuer_id = db_col_int64(st, 0);
        out->revoked = db_col_int64(st, 1) != 0;
        out->revoked_at = (time_t)db_col_int64(st, 2);
        size_t before = der->len; /* an empty der is schema 0008's placeholder: no answer */
        if (!db_col_is_null(st, 3) && (rc = db_col_blob(st, 3, der, "OCSP response")) == IOTCA_OK &&
            der->len > before) {
            out->has_answer = true;
            out->this_update = (time_t)db_col_int64(st, 4);
            out->next_update = (time_t)db_col_int64(st, 5);
        }
    } else if (step == DB_DONE) {
        rc = iotca_error_set(IOTCA_E_USAGE, "no certificate with serial %s", serial);
    } else {
        rc = db_fail(s, "looking up %s for OCSP", serial);
    }
    db_done(st);
    return rc;
}

iotca_rc iotca_store_ocsp_response_put(iotca_store *s, const char *serial, iotca_slice der, time_t this_update,
                                       time_t next_update) {
    IOTCA_GUARD(iotca_sq_check_serial(serial));
    IOTCA_ENSURE(der.len > 0 && next_update > this_update, IOTCA_E_USAGE, "bad OCSP response record");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_OCSP_RESP_PUT,
                              "INSERT INTO ocsp_responses (serial, der, this_update, next_update) VALUES (?1, ?2, ?3, ?4) "
                              "ON CONFLICT (serial) DO UPDATE SET der = excluded.der, this_update = excluded.this_update, "
                              "next_update = excluded.next_update",
                              "storing an OCSP response", &st));
    db_bind_text(st, 1, serial);
    db_bind_blob(st, 2, der.p, der.len);
    db_bind_int64(st, 3, this_update);
    db_bind_int64(st, 4, next_update);
    int step = db_step(st);
    iotca_rc rc = step == DB_DONE ? IOTCA_OK : db_fail(s, "storing the OCSP response of %s", serial);
    db_done(st);
    return rc;
}

/* New certificates (schema 0009): those recorded after the mark, oldest first, into list; each one's rowid
 * moves *mark on. Expired ones and ones already answered (on demand) past refresh_before are passed over. */
static iotca_rc due_new(iotca_store *s, time_t now, time_t refresh_before, size_t max, char (*list)[41], size_t *n,
                        int64_t *mark) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_OCSP_NEW,
                              "SELECT c.rowid, c.serial, c.not_after, "
                              "(SELECT o.next_update FROM ocsp_responses o WHERE o.serial = c.serial) "
                              "FROM certificates c WHERE c.rowid > (SELECT last_rowid FROM ocsp_mark WHERE id = 1) "
                              "ORDER BY c.rowid LIMIT ?1",
                              "finding certificates without an OCSP answer", &st));
    db_bind_int64(st, 1, max);
    iotca_rc rc = IOTCA_OK;
    int step;
    while (rc == IOTCA_OK && (step = db_step(st)) == DB_ROW) {
        *mark = db_col_int64(st, 0);
        bool live = db_col_int64(st, 2) > (int64_t)now;
        bool answered = !db_col_is_null(st, 3) &&
                        db_col_int64(st, 3) >= (int64_t)refresh_before;
        if (live && !answered) rc = db_col_text(st, 1, list[(*n)++], 41, "serial");
    }
    if (rc == IOTCA_OK && step != DB_DONE) rc = db_fail(s, "finding certificates without an OCSP answer");
    db_done(st);
    return rc;
}

iotca_rc iotca_store_ocsp_mark(iotca_store *s, int64_t upto) {
    db_stmt *st;
    /* never backwards: a mark only ever covers certificates whose answers were written */
    IOTCA_GUARD(db_stmt_get(s, SQ_OCSP_MARK, "UPDATE ocsp_mark SET last_rowid = ?1 WHERE id = 1 AND last_rowid < ?1",
                              "moving the OCSP mark", &st));
    db_bind_int64(st, 1, upto);
    iotca_rc rc = db_step(st) == DB_DONE ? IOTCA_OK
                                                  : db_fail(s, "moving the OCSP mark to %lld", (long long)upto);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_ocsp_due(iotca_store *s, time_t now, time_t refresh_before, size_t max, char (**out)[41],
                              size_t *n, int64_t *mark) {
    *out = NULL;
    *n = 0;
    *mark = 0;
    IOTCA_ENSURE(max >= 1 && max <= 10000, IOTCA_E_USAGE, "OCSP due list limit must be 1 to 10000");
    /* then a range of the next_update index over the certificates up to the mark (new ones were listed
     * above); answers of expired certificates are dropped instead of returned, so they do not come up again
     * at every tick */
    db_stmt *st, *drop;
    IOTCA_GUARD(db_stmt_get(s, SQ_OCSP_DUE,
                              "SELECT o.serial, c.not_after FROM ocsp_responses o JOIN certificates c "
                              "ON c.serial = o.serial WHERE o.next_update < ?1 AND "
                              "c.rowid <= (SELECT last_rowid FROM ocsp_mark WHERE id = 1) "
                              "ORDER BY o.next_update LIMIT ?2",
                              "finding OCSP responses to refresh", &st));
    IOTCA_GUARD(db_stmt_get(s, SQ_OCSP_DROP, "DELETE FROM ocsp_responses WHERE serial = ?1",
                              "dropping the OCSP answer of an expired certificate", &drop));
    char(*list)[41] = calloc(max, 41), (*expired)[41] = calloc(max, 41);
    iotca_rc rc = list && expired ? IOTCA_OK : iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
    if (rc == IOTCA_OK) rc = due_new(s, now, refresh_before, max, list, n, mark);
    size_t n_expired = 0;
    int step = DB_DONE;
    bool room = rc == IOTCA_OK && *n < max;
    db_bind_int64(st, 1, refresh_before);
    db_bind_int64(st, 2, (max - *n));
    while (room && rc == IOTCA_OK && (step = db_step(st)) == DB_ROW) {
        bool live = db_col_int64(st, 1) > (int64_t)now;
        rc = db_col_text(st, 0, live ? list[(*n)++] : expired[n_expired++], 41, "serial");
    }
    if (rc == IOTCA_OK && step != DB_DONE) rc = db_fail(s, "finding OCSP responses to refresh");
    db_done(st);
    bool own = !db_in_transaction(s);
    if (rc == IOTCA_OK && n_expired && own) rc = iotca_sq_begin(s, "dropping OCSP answers of expired certificates");
    for (size_t i = 0; rc == IOTCA_OK && i < n_expired; i++) {
        if (!db_bind_text(drop, 1, expired[i]) || db_step(drop) != DB_DONE)
            rc = db_fail(s, "dropping the OCSP answer of expired certificate %s", expired[i]);
        db_done(drop);
    }
    if (n_expired && own) {
        if (rc == IOTCA_OK) rc = iotca_sq_commit(s, "dropping OCSP answers of expired certificates");
        else iotca_sq_rollback(s);
    }
    free(expired);
    if (rc != IOTCA_OK) {
        free(list);
        *n = 0;
        *mark = 0;
        return rc;
    }
    *out = list;
    return IOTCA_OK;
}
