/* The store's API tokens (the hash, role and profile scope of each token id), and the tick's heartbeat write. */
#include <string.h>

#include "store_int.h"

static bool role_ok(const char *role) { return strcmp(role, "admin") == 0 || strcmp(role, "provisioner") == 0; }

iotca_rc iotca_store_token_add(iotca_store *s, const iotca_token_rec *t) {
    IOTCA_ENSURE(s != NULL && t != NULL, IOTCA_E_USAGE, "iotca_store_token_add: NULL argument");
    IOTCA_ENSURE(iotca_sq_fits(t->id, sizeof t->id) && t->id[0], IOTCA_E_USAGE,
                 "token id must be 1 to %zu characters", sizeof t->id - 1);
    IOTCA_ENSURE(iotca_sq_fits(t->role, sizeof t->role) && role_ok(t->role), IOTCA_E_USAGE,
                 "token %s: role must be admin or provisioner", t->id);
    IOTCA_ENSURE(iotca_sq_fits(t->profiles, sizeof t->profiles), IOTCA_E_USAGE,
                 "token %s: profile list is longer than %zu characters", t->id, sizeof t->profiles - 1);
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_TOKEN_INSERT,
                              "INSERT INTO tokens (id, hash, role, profiles, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                              "adding a token", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_blob(st, 2, t->hash, (int)sizeof t->hash, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_text(st, 3, t->role, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_text(st, 4, t->profiles, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 5, (sqlite3_int64)t->created_at) == SQLITE_OK
                ? sqlite3_step(st)
                : SQLITE_ERROR;
    IOTCA_CHECK(e != SQLITE_CONSTRAINT_PRIMARYKEY && e != SQLITE_CONSTRAINT_UNIQUE, IOTCA_E_POLICY,
                "a token with id %s already exists", t->id);
    if (e != SQLITE_DONE) rc = iotca_sq_fail(s, "adding token %s", t->id);
out:
    iotca_sq_done(st);
    return rc;
}

iotca_rc iotca_store_heartbeat(iotca_store *s, time_t now) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_heartbeat: NULL store");
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_HEARTBEAT, "UPDATE heartbeat SET at = ?1 WHERE id = 1", "writing the heartbeat",
                              &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_int64(st, 1, (sqlite3_int64)now) == SQLITE_OK ? sqlite3_step(st) : SQLITE_ERROR;
    if (e != SQLITE_DONE) rc = iotca_sq_fail(s, "writing the heartbeat");
    iotca_sq_done(st);
    return rc;
}

iotca_rc iotca_store_token_get(iotca_store *s, const char *id, iotca_token_rec *t) {
    IOTCA_ENSURE(s != NULL && id != NULL && t != NULL, IOTCA_E_USAGE, "iotca_store_token_get: NULL argument");
    memset(t, 0, sizeof *t);
    /* An id too long to be stored cannot name a token. */
    IOTCA_ENSURE(iotca_sq_fits(id, sizeof t->id), IOTCA_E_USAGE, "no such token");
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_TOKEN_GET, "SELECT id, hash, role, profiles, created_at FROM tokens WHERE id = ?1",
                              "loading a token", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) == SQLITE_OK ? sqlite3_step(st) : SQLITE_ERROR;
    IOTCA_CHECK(e != SQLITE_DONE, IOTCA_E_USAGE, "no such token");
    if (e != SQLITE_ROW) {
        rc = iotca_sq_fail(s, "loading token %s", id);
        goto out;
    }
    IOTCA_TRY(iotca_sq_col_text(st, 0, t->id, sizeof t->id, "token id"));
    const void *hash = sqlite3_column_blob(st, 1);
    IOTCA_CHECK(hash != NULL && sqlite3_column_bytes(st, 1) == (int)sizeof t->hash, IOTCA_E_STORAGE,
                "token %s: stored hash is not %zu bytes", id, sizeof t->hash);
    memcpy(t->hash, hash, sizeof t->hash);
    IOTCA_TRY(iotca_sq_col_text(st, 2, t->role, sizeof t->role, "token role"));
    IOTCA_TRY(iotca_sq_col_text(st, 3, t->profiles, sizeof t->profiles, "token profiles"));
    t->created_at = (time_t)sqlite3_column_int64(st, 4);
out:
    iotca_sq_done(st);
    if (rc != IOTCA_OK) memset(t, 0, sizeof *t);
    return rc;
}
