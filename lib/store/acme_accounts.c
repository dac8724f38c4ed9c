/* The store's ACME accounts (store_acme.h): made (binding their EAB key in the same transaction), found by id or
 * key thumbprint, updated, deactivated and rekeyed. */
#include <string.h>

#include "acme_int.h"

/* An EAB key an account may be made with: known, unrevoked and unbound (inside the caller's transaction). */
static iotca_rc eab_usable(iotca_store *s, const char *kid) {
    iotca_acme_eab_rec r;
    IOTCA_GUARD(iotca_store_acme_eab_get(s, kid, &r));
    bool revoked = r.revoked_at != 0, bound = r.account_id != 0;
    iotca_acme_eab_rec_free(&r);
    IOTCA_ENSURE(!revoked, IOTCA_E_POLICY, "unauthorized: EAB key %s is revoked", kid);
    IOTCA_ENSURE(!bound, IOTCA_E_POLICY, "unauthorized: EAB key %s is bound to another account already", kid);
    return IOTCA_OK;
}

/* Binds EAB key kid to account id (eab_usable said it may). */
static iotca_rc bind_eab(iotca_store *s, const char *kid, int64_t id) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_EAB_BIND,
                              "UPDATE acme_eab_keys SET account_id = ?2 WHERE kid = ?1 AND account_id IS NULL",
                              "binding an EAB key", &st));
    if (!db_bind_text(st, 1, kid) || !db_bind_int64(st, 2, id)) {
        db_done(st);
        return db_fail(s, "binding EAB key %s", kid);
    }
    return acme_step_done(s, st, "binding an EAB key");
}

static iotca_rc insert_account(iotca_store *s, iotca_acme_account_rec *a, int64_t *existing) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ACCOUNT_ADD,
                              "INSERT INTO acme_accounts (thumbprint, spki, status, contact, profile, eab_kid, created_at) "
                              "VALUES (?1, ?2, 'valid', ?3, ?4, ?5, ?6) ON CONFLICT (thumbprint) DO NOTHING RETURNING id",
                              "adding an ACME account", &st));
    enum db_step_rc e = db_bind_blob(st, 1, a->thumbprint, 32) &&
                    db_bind_blob(st, 2, a->spki.data, a->spki.len) &&
                    db_bind_text(st, 3, a->contact[0] ? a->contact : "[]") &&
                    db_bind_text(st, 4, a->profile) &&
                    acme_bind_text_or_null(st, 5, a->eab_kid) &&
                    db_bind_int64(st, 6, a->created_at)
                ? db_step(st)
                : DB_FAILED;
    /* a key already registered inserts nothing and returns no row (ON CONFLICT: no failed statement, which would
     * end a PostgreSQL transaction before the lookup below) */
    bool inserted = e == DB_ROW;
    int64_t id = inserted ? db_col_int64(st, 0) : 0;
    if (inserted) e = db_step(st);
    iotca_rc failed = e == DB_DONE ? IOTCA_OK : db_fail(s, "adding an ACME account");
    db_done(st);
    if (failed == IOTCA_OK && !inserted) {
        iotca_acme_account_rec old;
        if (iotca_store_acme_account_find(s, a->thumbprint, &old) == IOTCA_OK) {
            if (existing) *existing = old.id;
            iotca_acme_account_rec_free(&old);
        }
        IOTCA_BAIL(IOTCA_E_POLICY, "an account with this key exists already");
    }
    IOTCA_GUARD(failed);
    a->id = id;
    a->status = IOTCA_ACME_VALID;
    return IOTCA_OK;
}

iotca_rc iotca_store_acme_account_add(iotca_store *s, iotca_acme_account_rec *a, int64_t *existing) {
    IOTCA_ENSURE(s && a && a->spki.len > 0 && a->profile[0] && iotca_sq_fits(a->profile, sizeof a->profile) &&
                     iotca_sq_fits(a->contact, sizeof a->contact) && iotca_sq_fits(a->eab_kid, sizeof a->eab_kid),
                 IOTCA_E_USAGE, "an ACME account needs a key and a profile");
    if (existing) *existing = 0;
    bool own;
    IOTCA_GUARD(acme_begin(s, &own, "adding an ACME account"));
    iotca_rc rc = a->eab_kid[0] ? eab_usable(s, a->eab_kid) : IOTCA_OK;
    if (rc == IOTCA_OK) rc = insert_account(s, a, existing);
    if (rc == IOTCA_OK && a->eab_kid[0]) rc = bind_eab(s, a->eab_kid, a->id);
    if (rc != IOTCA_OK) a->id = 0;
    return acme_end(s, own, rc, "adding an ACME account");
}

#define ACCOUNT_COLUMNS "id, thumbprint, spki, status, contact, profile, eab_kid, created_at"

static iotca_rc account_row(db_stmt *st, void *rec) {
    iotca_acme_account_rec *a = rec;
    a->id = db_col_int64(st, 0);
    IOTCA_ENSURE(db_col_fixed(st, 1, a->thumbprint, 32), IOTCA_E_STORAGE, "account %lld: thumbprint is not 32 bytes",
                 (long long)a->id);
    IOTCA_GUARD(db_col_blob(st, 2, &a->spki, "account key"));
    char status[16];
    IOTCA_GUARD(db_col_text(st, 3, status, sizeof status, "account status"));
    IOTCA_ENSURE(iotca_acme_status_parse(status, &a->status), IOTCA_E_STORAGE, "account %lld: status %s",
                 (long long)a->id, status);
    IOTCA_GUARD(db_col_text(st, 4, a->contact, sizeof a->contact, "account contact"));
    IOTCA_GUARD(db_col_text(st, 5, a->profile, sizeof a->profile, "account profile"));
    IOTCA_GUARD(db_col_text(st, 6, a->eab_kid, sizeof a->eab_kid, "account EAB kid"));
    a->created_at = (time_t)db_col_int64(st, 7);
    return IOTCA_OK;
}

/* Runs a cached one-row account query whose ?1 the caller bound (bound: the bind's result). */
static iotca_rc account_query(iotca_store *s, db_stmt *st, int bound, iotca_acme_account_rec *a) {
    iotca_rc rc = acme_one_row(s, st, bound, account_row, a, "no such account", "loading an ACME account");
    if (rc != IOTCA_OK) iotca_acme_account_rec_free(a);
    return rc;
}

iotca_rc iotca_store_acme_account_get(iotca_store *s, int64_t id, iotca_acme_account_rec *a) {
    IOTCA_ENSURE(s && a, IOTCA_E_USAGE, "iotca_store_acme_account_get: NULL argument");
    memset(a, 0, sizeof *a);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ACCOUNT_GET, "SELECT " ACCOUNT_COLUMNS " FROM acme_accounts WHERE id = ?1",
                              "loading an ACME account", &st));
    return account_query(s, st, db_bind_int64(st, 1, id), a);
}

iotca_rc iotca_store_acme_account_find(iotca_store *s, const uint8_t thumbprint[32], iotca_acme_account_rec *a) {
    IOTCA_ENSURE(s && thumbprint && a, IOTCA_E_USAGE, "iotca_store_acme_account_find: NULL argument");
    memset(a, 0, sizeof *a);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ACCOUNT_FIND,
                              "SELECT " ACCOUNT_COLUMNS " FROM acme_accounts WHERE thumbprint = ?1",
                              "finding an ACME account", &st));
    return account_query(s, st, db_bind_blob(st, 1, thumbprint, 32), a);
}

iotca_rc iotca_store_acme_account_update(iotca_store *s, int64_t id, const char *contact, iotca_acme_status status) {
    IOTCA_ENSURE(s, IOTCA_E_USAGE, "iotca_store_acme_account_update: NULL store");
    IOTCA_ENSURE(status == IOTCA_ACME_VALID || status == IOTCA_ACME_DEACTIVATED || status == IOTCA_ACME_REVOKED,
                 IOTCA_E_USAGE, "an account cannot be %s", iotca_acme_status_name(status));
    IOTCA_ENSURE(contact == NULL || strlen(contact) < 1024, IOTCA_E_USAGE, "the contact list is over 1023 bytes");
    db_stmt *st;
    /* deactivation (and revocation) is final (RFC 8555 §7.3.6): only a valid account changes */
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ACCOUNT_UPDATE,
                              "UPDATE acme_accounts SET contact = coalesce(?2, contact), status = ?3 "
                              "WHERE id = ?1 AND status = 'valid'",
                              "updating an ACME account", &st));
    if (!db_bind_int64(st, 1, id) || !acme_bind_text_or_null(st, 2, contact) ||
        !db_bind_text(st, 3, iotca_acme_status_name(status))) {
        db_done(st);
        return db_fail(s, "updating ACME account %lld", (long long)id);
    }
    IOTCA_GUARD(acme_step_done(s, st, "updating an ACME account"));
    IOTCA_ENSURE(db_changes(st) == 1, IOTCA_E_POLICY, "unauthorized: account %lld is not valid",
                 (long long)id);
    return IOTCA_OK;
}

iotca_rc iotca_store_acme_account_rekey(iotca_store *s, int64_t id, iotca_slice spki, const uint8_t thumbprint[32]) {
    IOTCA_ENSURE(s && spki.len > 0 && thumbprint, IOTCA_E_USAGE, "iotca_store_acme_account_rekey: bad argument");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ACCOUNT_REKEY,
                              "UPDATE acme_accounts SET spki = ?2, thumbprint = ?3 WHERE id = ?1 AND status = 'valid'",
                              "rolling an ACME account key over", &st));
    enum db_step_rc e = db_bind_int64(st, 1, id) &&
                    db_bind_blob(st, 2, spki.p, spki.len) &&
                    db_bind_blob(st, 3, thumbprint, 32)
                ? db_step(st)
                : DB_FAILED;
    db_done(st);
    IOTCA_ENSURE(e != DB_UNIQUE, IOTCA_E_POLICY, "conflict: another account has this key");
    if (e != DB_DONE) return db_fail(s, "rolling account %lld's key over", (long long)id);
    IOTCA_ENSURE(db_changes(st) == 1, IOTCA_E_POLICY, "unauthorized: account %lld is not valid",
                 (long long)id);
    return IOTCA_OK;
}
