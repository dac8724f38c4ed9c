/* The store's API tokens (the hash, role, profile scope, expiry, revocation and last use of each token id), and
 * the tick's heartbeat write. */
#include <stdlib.h>
#include <string.h>

#include "db.h"

static bool role_ok(const char *role) { return strcmp(role, "admin") == 0 || strcmp(role, "provisioner") == 0; }

iotca_rc iotca_store_token_add(iotca_store *s, const iotca_token_rec *t) {
    IOTCA_ENSURE(s != NULL && t != NULL, IOTCA_E_USAGE, "iotca_store_token_add: NULL argument");
    IOTCA_ENSURE(iotca_sq_fits(t->id, sizeof t->id) && t->id[0], IOTCA_E_USAGE,
                 "token id must be 1 to %zu characters", sizeof t->id - 1);
    IOTCA_ENSURE(iotca_sq_fits(t->role, sizeof t->role) && role_ok(t->role), IOTCA_E_USAGE,
                 "token %s: role must be admin or provisioner", t->id);
    IOTCA_ENSURE(iotca_sq_fits(t->profiles, sizeof t->profiles), IOTCA_E_USAGE,
                 "token %s: profile list is longer than %zu characters", t->id, sizeof t->profiles - 1);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TOKEN_INSERT,
                              "INSERT INTO tokens (id, hash, role, profiles, created_at, expires_at) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                              "adding a token", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, t->id) &&
                    db_bind_blob(st, 2, t->hash, sizeof t->hash) &&
                    db_bind_text(st, 3, t->role) &&
                    db_bind_text(st, 4, t->profiles) &&
                    db_bind_int64(st, 5, t->created_at) &&
                    (t->expires_at ? db_bind_int64(st, 6, t->expires_at)
                                   : db_bind_null(st, 6))
                ? db_step(st)
                : DB_FAILED;
    IOTCA_CHECK(e != DB_UNIQUE && e != DB_UNIQUE, IOTCA_E_POLICY,
                "a token with id %s already exists", t->id);
    if (e != DB_DONE) rc = db_fail(s, "adding token %s", t->id);
out:
    db_done(st);
    return rc;
}

iotca_rc iotca_store_heartbeat(iotca_store *s, time_t now) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_heartbeat: NULL store");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_HEARTBEAT, "UPDATE heartbeat SET at = ?1 WHERE id = 1", "writing the heartbeat",
                              &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_int64(st, 1, now) ? db_step(st) : DB_FAILED;
    if (e != DB_DONE) rc = db_fail(s, "writing the heartbeat");
    db_done(st);
    return rc;
}

iotca_rc iotca_store_token_get(iotca_store *s, const char *id, iotca_token_rec *t) {
    IOTCA_ENSURE(s != NULL && id != NULL && t != NULL, IOTCA_E_USAGE, "iotca_store_token_get: NULL argument");
    memset(t, 0, sizeof *t);
    /* An id too long to be stored cannot name a token. */
    IOTCA_ENSURE(iotca_sq_fits(id, sizeof t->id), IOTCA_E_USAGE, "no such token");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TOKEN_GET, "SELECT id, hash, role, profiles, created_at, expires_at, revoked_at FROM tokens WHERE id = ?1",
                              "loading a token", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, id) ? db_step(st) : DB_FAILED;
    IOTCA_CHECK(e != DB_DONE, IOTCA_E_USAGE, "no such token");
    if (e != DB_ROW) {
        rc = db_fail(s, "loading token %s", id);
        goto out;
    }
    IOTCA_TRY(db_col_text(st, 0, t->id, sizeof t->id, "token id"));
    IOTCA_CHECK(db_col_fixed(st, 1, t->hash, sizeof t->hash), IOTCA_E_STORAGE, "token %s: stored hash is not %zu bytes",
                id, sizeof t->hash);
    IOTCA_TRY(db_col_text(st, 2, t->role, sizeof t->role, "token role"));
    IOTCA_TRY(db_col_text(st, 3, t->profiles, sizeof t->profiles, "token profiles"));
    t->created_at = (time_t)db_col_int64(st, 4);
    t->expires_at = (time_t)db_col_int64(st, 5); /* NULL reads as 0: never */
    t->revoked_at = (time_t)db_col_int64(st, 6);
out:
    db_done(st);
    if (rc != IOTCA_OK) memset(t, 0, sizeof *t);
    return rc;
}

iotca_rc iotca_store_token_list(iotca_store *s, iotca_token_info **out, size_t *n) {
    IOTCA_ENSURE(s != NULL && out != NULL && n != NULL, IOTCA_E_USAGE, "iotca_store_token_list: NULL argument");
    *out = NULL;
    *n = 0;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TOKEN_LIST,
                              "SELECT id, role, profiles, created_at, expires_at, revoked_at, last_used_at FROM tokens "
                              "ORDER BY created_at, id",
                              "listing tokens", &st));
    iotca_rc rc = IOTCA_OK;
    size_t cap = 0;
    enum db_step_rc e;
    while ((e = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            iotca_token_info *grown = realloc(*out, ncap * sizeof **out);
            IOTCA_CHECK(grown != NULL, IOTCA_E_INTERNAL, "out of memory listing tokens");
            *out = grown;
            cap = ncap;
        }
        iotca_token_info *t = &(*out)[*n];
        memset(t, 0, sizeof *t);
        IOTCA_TRY(db_col_text(st, 0, t->id, sizeof t->id, "token id"));
        IOTCA_TRY(db_col_text(st, 1, t->role, sizeof t->role, "token role"));
        IOTCA_TRY(db_col_text(st, 2, t->profiles, sizeof t->profiles, "token profiles"));
        t->created_at = (time_t)db_col_int64(st, 3);
        t->expires_at = (time_t)db_col_int64(st, 4);
        t->revoked_at = (time_t)db_col_int64(st, 5);
        t->last_used_at = (time_t)db_col_int64(st, 6);
        (*n)++;
    }
    if (e != DB_DONE) rc = db_fail(s, "listing tokens");
out:
    db_done(st);
    if (rc != IOTCA_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

iotca_rc iotca_store_token_revoke(iotca_store *s, const char *id, time_t at, iotca_token_rec *t) {
    IOTCA_ENSURE(s != NULL && id != NULL && t != NULL, IOTCA_E_USAGE, "iotca_store_token_revoke: NULL argument");
    IOTCA_GUARD(iotca_store_token_get(s, id, t));
    IOTCA_ENSURE(t->revoked_at == 0, IOTCA_E_POLICY, "token %s is already revoked", id);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TOKEN_REVOKE,
                              "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                              "revoking a token", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, id) &&
                    db_bind_int64(st, 2, at)
                ? db_step(st)
                : DB_FAILED;
    if (e != DB_DONE) rc = db_fail(s, "revoking token %s", id);
    /* another process revoked it between the read and the write */
    else if (db_changes(st) == 0) rc = iotca_error_set(IOTCA_E_POLICY, "token %s is already revoked", id);
    else t->revoked_at = at;
    db_done(st);
    return rc;
}

iotca_rc iotca_store_token_used(iotca_store *s, const iotca_token_use *u, size_t n) {
    IOTCA_ENSURE(s != NULL && (u != NULL || n == 0), IOTCA_E_USAGE, "iotca_store_token_used: NULL argument");
    if (n == 0) return IOTCA_OK;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TOKEN_USED,
                              "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1 AND "
                              "(last_used_at IS NULL OR last_used_at < ?2)",
                              "recording when tokens were last used", &st));
    iotca_rc rc = iotca_sq_begin(s, "recording when tokens were last used");
    for (size_t i = 0; i < n && rc == IOTCA_OK; i++) {
        db_done(st);
        enum db_step_rc e = db_bind_text(st, 1, u[i].id) &&
                        db_bind_int64(st, 2, u[i].at)
                    ? db_step(st)
                    : DB_FAILED;
        if (e != DB_DONE) rc = db_fail(s, "recording when token %s was last used", u[i].id);
    }
    db_done(st);
    if (rc == IOTCA_OK) return iotca_sq_commit(s, "recording when tokens were last used");
    iotca_sq_rollback(s);
    return rc;
}
