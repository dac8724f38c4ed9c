/* The store's ACME nonces, External Account Binding keys and accounts (store_acme.h; schema/0019_acme.sql). Orders,
 * authorizations and challenges are in acme_orders.c. */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

/* ---- shared by acme.c and acme_orders.c ---- */

iotca_rc acme_begin(iotca_store *s, bool *own, const char *doing) {
    *own = !db_in_transaction(s); /* inside a caller's transaction, join it */
    return *own ? iotca_sq_begin(s, doing) : IOTCA_OK;
}

iotca_rc acme_end(iotca_store *s, bool own, iotca_rc rc, const char *doing) {
    if (!own) return rc;
    if (rc == IOTCA_OK) return iotca_sq_commit(s, doing);
    iotca_sq_rollback(s);
    return rc;
}

iotca_rc acme_step_done(iotca_store *s, db_stmt *st, const char *doing) {
    enum db_step_rc e = db_step(st);
    iotca_rc rc = e == DB_DONE ? IOTCA_OK : db_fail(s, "%s", doing);
    db_done(st);
    return rc;
}

iotca_rc acme_one_row(iotca_store *s, db_stmt *st, bool bound, acme_row_fn row, void *rec, const char *none,
                      const char *doing) {
    enum db_step_rc e = bound ? db_step(st) : DB_FAILED;
    iotca_rc rc = e == DB_ROW    ? row(st, rec)
                  : e == DB_DONE ? iotca_error_set(IOTCA_E_USAGE, "%s", none)
                                     : db_fail(s, "%s", doing);
    db_done(st);
    return rc;
}

bool acme_bind_text_or_null(db_stmt *st, int i, const char *t) {
    return t && t[0] ? db_bind_text(st, i, t) : db_bind_null(st, i);
}

/* ---- nonces ---- */

iotca_rc iotca_store_acme_nonce_add(iotca_store *s, const char *nonce, time_t expires_at) {
    IOTCA_ENSURE(s && nonce && nonce[0] && iotca_sq_fits(nonce, 65), IOTCA_E_USAGE, "a nonce is 1 to 64 characters");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_NONCE_ADD, "INSERT INTO acme_nonces (nonce, expires_at) VALUES (?1, ?2)",
                              "recording an ACME nonce", &st));
    if (!db_bind_text(st, 1, nonce) ||
        !db_bind_int64(st, 2, expires_at)) {
        db_done(st);
        return db_fail(s, "recording an ACME nonce");
    }
    return acme_step_done(s, st, "recording an ACME nonce");
}

iotca_rc iotca_store_acme_nonce_take(iotca_store *s, const char *nonce, time_t now) {
    IOTCA_ENSURE(s && nonce, IOTCA_E_USAGE, "iotca_store_acme_nonce_take: NULL argument");
    IOTCA_ENSURE(nonce[0] && iotca_sq_fits(nonce, 65), IOTCA_E_POLICY, "badNonce: no such nonce");
    db_stmt *st;
    /* one statement: of two racing takes, SQLite lets one delete the row; the other deletes nothing */
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_NONCE_TAKE, "DELETE FROM acme_nonces WHERE nonce = ?1 AND expires_at > ?2",
                              "using an ACME nonce", &st));
    if (!db_bind_text(st, 1, nonce) ||
        !db_bind_int64(st, 2, now)) {
        db_done(st);
        return db_fail(s, "using an ACME nonce");
    }
    IOTCA_GUARD(acme_step_done(s, st, "using an ACME nonce"));
    IOTCA_ENSURE(db_changes(st) == 1, IOTCA_E_POLICY, "badNonce: the nonce is unknown, used or expired");
    return IOTCA_OK;
}

/* ---- EAB keys ---- */

iotca_rc iotca_store_acme_eab_add(iotca_store *s, const iotca_acme_eab_rec *r) {
    IOTCA_ENSURE(s && r && r->kid[0] && iotca_sq_fits(r->kid, sizeof r->kid) && r->profile[0] &&
                     iotca_sq_fits(r->profile, sizeof r->profile) && r->secret.len > 0,
                 IOTCA_E_USAGE, "an EAB key needs a kid, a profile and a secret");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_EAB_ADD,
                              "INSERT INTO acme_eab_keys (kid, profile, secret, secret_hash, created_at) "
                              "VALUES (?1, ?2, ?3, ?4, ?5)",
                              "adding an EAB key", &st));
    enum db_step_rc e = db_bind_text(st, 1, r->kid) &&
                    db_bind_text(st, 2, r->profile) &&
                    db_bind_blob(st, 3, r->secret.data, r->secret.len) &&
                    db_bind_blob(st, 4, r->secret_hash, 32) &&
                    db_bind_int64(st, 5, r->created_at)
                ? db_step(st)
                : DB_FAILED;
    iotca_rc rc = IOTCA_OK;
    if (e == DB_UNIQUE)
        rc = iotca_error_set(IOTCA_E_POLICY, "an EAB key with kid %s already exists", r->kid);
    else if (e != DB_DONE)
        rc = db_fail(s, "adding EAB key %s", r->kid);
    db_done(st);
    return rc;
}

/* Reads the columns kid, profile, secret, secret_hash, created_at, revoked_at, account_id from col 0 on. */
static iotca_rc eab_row(db_stmt *st, iotca_acme_eab_rec *r, bool with_secret) {
    IOTCA_GUARD(db_col_text(st, 0, r->kid, sizeof r->kid, "EAB kid"));
    IOTCA_GUARD(db_col_text(st, 1, r->profile, sizeof r->profile, "EAB profile"));
    r->secret.secret = true;
    if (with_secret) IOTCA_GUARD(db_col_blob(st, 2, &r->secret, "EAB secret"));
    IOTCA_ENSURE(db_col_fixed(st, 3, r->secret_hash, 32), IOTCA_E_STORAGE, "EAB key %s: stored hash is not 32 bytes",
                 r->kid);
    r->created_at = (time_t)db_col_int64(st, 4);
    r->revoked_at = (time_t)db_col_int64(st, 5);
    r->account_id = db_col_int64(st, 6);
    return IOTCA_OK;
}

static iotca_rc eab_row_with_secret(db_stmt *st, void *r) { return eab_row(st, r, true); }

#define EAB_COLUMNS "kid, profile, secret, secret_hash, created_at, revoked_at, account_id"

iotca_rc iotca_store_acme_eab_get(iotca_store *s, const char *kid, iotca_acme_eab_rec *r) {
    IOTCA_ENSURE(s && kid && r, IOTCA_E_USAGE, "iotca_store_acme_eab_get: NULL argument");
    memset(r, 0, sizeof *r);
    IOTCA_ENSURE(iotca_sq_fits(kid, sizeof r->kid), IOTCA_E_USAGE, "no such EAB key");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_EAB_GET, "SELECT " EAB_COLUMNS " FROM acme_eab_keys WHERE kid = ?1",
                              "loading an EAB key", &st));
    iotca_rc rc = acme_one_row(s, st, db_bind_text(st, 1, kid), eab_row_with_secret, r,
                               "no such EAB key", "loading an EAB key");
    if (rc != IOTCA_OK) iotca_acme_eab_rec_free(r);
    return rc;
}

iotca_rc iotca_store_acme_eab_list(iotca_store *s, iotca_acme_eab_rec **out, size_t *n) {
    IOTCA_ENSURE(s && out && n, IOTCA_E_USAGE, "iotca_store_acme_eab_list: NULL argument");
    *out = NULL;
    *n = 0;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_EAB_LIST,
                              "SELECT " EAB_COLUMNS " FROM acme_eab_keys ORDER BY created_at, kid", "listing EAB keys",
                              &st));
    iotca_rc rc = IOTCA_OK;
    size_t cap = 0;
    enum db_step_rc e;
    while (rc == IOTCA_OK && (e = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            iotca_acme_eab_rec *grown = realloc(*out, cap * sizeof **out);
            if (grown == NULL) {
                rc = iotca_error_set(IOTCA_E_INTERNAL, "out of memory listing EAB keys");
                break;
            }
            *out = grown;
        }
        memset(&(*out)[*n], 0, sizeof **out);
        rc = eab_row(st, &(*out)[(*n)++], false);
    }
    if (rc == IOTCA_OK && e != DB_DONE) rc = db_fail(s, "listing EAB keys");
    db_done(st);
    if (rc != IOTCA_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

iotca_rc iotca_store_acme_eab_revoke(iotca_store *s, const char *kid, time_t at) {
    iotca_acme_eab_rec r;
    IOTCA_GUARD(iotca_store_acme_eab_get(s, kid, &r));
    bool revoked = r.revoked_at != 0;
    iotca_acme_eab_rec_free(&r);
    IOTCA_ENSURE(!revoked, IOTCA_E_POLICY, "EAB key %s is revoked already", kid);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_EAB_REVOKE,
                              "UPDATE acme_eab_keys SET revoked_at = ?2 WHERE kid = ?1 AND revoked_at IS NULL",
                              "revoking an EAB key", &st));
    if (!db_bind_text(st, 1, kid) ||
        !db_bind_int64(st, 2, at)) {
        db_done(st);
        return db_fail(s, "revoking EAB key %s", kid);
    }
    IOTCA_GUARD(acme_step_done(s, st, "revoking an EAB key"));
    IOTCA_ENSURE(db_changes(st) == 1, IOTCA_E_POLICY, "EAB key %s is revoked already", kid);
    return IOTCA_OK;
}
