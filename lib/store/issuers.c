/* The store's issuers: records, their lifecycle transitions and the event log
 * behind them (on db.h: SQLite and PostgreSQL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define ISSUER_COLUMNS                                                                                                 \
    "id, name, grp, state, key_ref, csr, cert, not_before, not_after, "                                                \
    "activate_at, created_at, updated_at"

/* Binds a time that is 0 for "none" as NULL. */
static bool bind_opt_time(db_stmt *st, int i, time_t t) {
    return t == 0 ? db_bind_null(st, i) : db_bind_int64(st, i, t);
}

static iotca_rc event_insert(iotca_store *s, int64_t id, const char *from, iotca_issuer_state to, time_t now) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_EVENT_INSERT,
                            "INSERT INTO issuer_events (issuer_id, from_state, "
                            "to_state, at) VALUES (?1, ?2, ?3, ?4)",
                            "recording an issuer event", &st));
    iotca_rc rc = IOTCA_OK;
    if (!db_bind_int64(st, 1, id) || !(from ? db_bind_text(st, 2, from) : db_bind_null(st, 2)) ||
        !db_bind_text(st, 3, iotca_issuer_state_name(to)) || !db_bind_int64(st, 4, now) || db_step(st) != DB_DONE)
        rc = db_fail(s, "recording event %s -> %s of issuer %lld", from ? from : "(new)", iotca_issuer_state_name(to),
                     (long long)id);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_issuer_add(iotca_store *s, iotca_issuer_rec *r, time_t now) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_issuer_add: NULL argument");
    IOTCA_ENSURE(iotca_sq_fits(r->name, sizeof r->name) && r->name[0], IOTCA_E_USAGE,
                 "issuer name must be 1 to %zu characters", sizeof r->name - 1);
    IOTCA_ENSURE(iotca_sq_fits(r->group, sizeof r->group) && r->group[0], IOTCA_E_USAGE,
                 "issuer group must be 1 to %zu characters", sizeof r->group - 1);
    IOTCA_ENSURE(iotca_sq_fits(r->key_ref, sizeof r->key_ref) && r->key_ref[0], IOTCA_E_USAGE,
                 "issuer key reference must be 1 to %zu characters", sizeof r->key_ref - 1);
    IOTCA_ENSURE(r->csr.len > 0, IOTCA_E_USAGE, "issuer %s has no CSR", r->name);

    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ISSUER_INSERT,
                            "INSERT INTO issuers (name, grp, state, key_ref, csr, "
                            "created_at, updated_at) "
                            "VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?5) RETURNING id",
                            "adding an issuer", &st));
    char doing[96];
    snprintf(doing, sizeof doing, "adding issuer %s", r->name);
    IOTCA_GUARD(iotca_sq_begin(s, doing));
    iotca_rc rc = IOTCA_OK;
    if (!db_bind_text(st, 1, r->name) || !db_bind_text(st, 2, r->group) || !db_bind_text(st, 3, r->key_ref) ||
        !db_bind_blob(st, 4, r->csr.data, r->csr.len) || !db_bind_int64(st, 5, now)) {
        rc = db_fail(s, "%s", doing);
        goto out;
    }
    enum db_step_rc e = db_step(st);
    IOTCA_CHECK(e != DB_UNIQUE, IOTCA_E_POLICY, "an issuer named %s already exists", r->name);
    int64_t id = e == DB_ROW ? db_col_int64(st, 0) : 0;
    if (e != DB_ROW || db_step(st) != DB_DONE) {
        rc = db_fail(s, "%s", doing);
        goto out;
    }
    IOTCA_TRY(event_insert(s, id, NULL, IOTCA_ISSUER_PENDING, now));
    IOTCA_TRY(iotca_sq_commit(s, doing));
    r->id = id;
    r->state = IOTCA_ISSUER_PENDING;
    r->created_at = r->updated_at = now;
out:
    db_done(st);
    if (rc != IOTCA_OK) iotca_sq_rollback(s);
    return rc;
}

/* Fills r from a row of ISSUER_COLUMNS. */
static iotca_rc issuer_row(db_stmt *st, iotca_issuer_rec *r) {
    r->id = db_col_int64(st, 0);
    IOTCA_GUARD(db_col_text(st, 1, r->name, sizeof r->name, "issuer name"));
    IOTCA_GUARD(db_col_text(st, 2, r->group, sizeof r->group, "issuer group"));
    char state[16];
    IOTCA_GUARD(db_col_text(st, 3, state, sizeof state, "issuer state"));
    IOTCA_ENSURE(iotca_issuer_state_parse(state, &r->state), IOTCA_E_STORAGE, "issuer %lld has unknown state '%s'",
                 (long long)r->id, state);
    IOTCA_GUARD(db_col_text(st, 4, r->key_ref, sizeof r->key_ref, "issuer key reference"));
    IOTCA_GUARD(db_col_blob(st, 5, &r->csr, "issuer CSR"));
    IOTCA_GUARD(db_col_blob(st, 6, &r->cert, "issuer certificate"));
    r->not_before = (time_t)db_col_int64(st, 7);
    r->not_after = (time_t)db_col_int64(st, 8);
    r->activate_at = (time_t)db_col_int64(st, 9);
    r->created_at = (time_t)db_col_int64(st, 10);
    r->updated_at = (time_t)db_col_int64(st, 11);
    return IOTCA_OK;
}

iotca_rc iotca_store_issuer_get(iotca_store *s, int64_t id, iotca_issuer_rec *r) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_issuer_get: NULL argument");
    iotca_issuer_rec_free(r);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ISSUER_GET, "SELECT " ISSUER_COLUMNS " FROM issuers WHERE id = ?1",
                            "loading an issuer", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_int64(st, 1, id) ? db_step(st) : DB_FAILED;
    IOTCA_CHECK(e != DB_DONE, IOTCA_E_USAGE, "no issuer %lld", (long long)id);
    if (e != DB_ROW) {
        rc = db_fail(s, "loading issuer %lld", (long long)id);
        goto out;
    }
    IOTCA_TRY(issuer_row(st, r));
out:
    db_done(st);
    if (rc != IOTCA_OK) iotca_issuer_rec_free(r);
    return rc;
}

iotca_rc iotca_store_issuer_list(iotca_store *s, iotca_issuer_rec **out, size_t *n) {
    IOTCA_ENSURE(s != NULL && out != NULL && n != NULL, IOTCA_E_USAGE, "iotca_store_issuer_list: NULL argument");
    *out = NULL;
    *n = 0;
    db_stmt *st;
    IOTCA_GUARD(
        db_stmt_get(s, SQ_ISSUER_LIST, "SELECT " ISSUER_COLUMNS " FROM issuers ORDER BY id", "listing issuers", &st));
    iotca_rc rc = IOTCA_OK;
    iotca_issuer_rec *v = NULL;
    size_t len = 0, cap = 0;
    enum db_step_rc e;
    while ((e = db_step(st)) == DB_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            iotca_issuer_rec *nv = realloc(v, ncap * sizeof *v);
            IOTCA_CHECK(nv != NULL, IOTCA_E_INTERNAL, "out of memory listing issuers");
            v = nv;
            cap = ncap;
        }
        memset(&v[len], 0, sizeof v[len]);
        len++;
        IOTCA_TRY(issuer_row(st, &v[len - 1]));
    }
    if (e != DB_DONE) {
        rc = db_fail(s, "listing issuers");
        goto out;
    }
    *out = v;
    *n = len;
out:
    db_done(st);
    if (rc != IOTCA_OK) {
        for (size_t i = 0; i < len; i++) iotca_issuer_rec_free(&v[i]);
        free(v);
    }
    return rc;
}

/* Inside a transaction: the current state (and group) of issuer id. */
static iotca_rc issuer_state(iotca_store *s, int64_t id, iotca_issuer_state *state, char *group, size_t group_cap) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ISSUER_STATE, "SELECT state, grp FROM issuers WHERE id = ?1",
                            "reading an issuer's state", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_int64(st, 1, id) ? db_step(st) : DB_FAILED;
    IOTCA_CHECK(e != DB_DONE, IOTCA_E_USAGE, "no issuer %lld", (long long)id);
    if (e != DB_ROW) {
        rc = db_fail(s, "reading the state of issuer %lld", (long long)id);
        goto out;
    }
    char name[16];
    IOTCA_TRY(db_col_text(st, 0, name, sizeof name, "issuer state"));
    IOTCA_CHECK(iotca_issuer_state_parse(name, state), IOTCA_E_STORAGE, "issuer %lld has unknown state '%s'",
                (long long)id, name);
    if (group != NULL) IOTCA_TRY(db_col_text(st, 1, group, group_cap, "issuer group"));
out:
    db_done(st);
    return rc;
}

iotca_rc iotca_store_issuer_stage(iotca_store *s, int64_t id, iotca_slice cert, time_t not_before, time_t not_after,
                                  time_t activate_at, time_t now) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_issuer_stage: NULL store");
    IOTCA_ENSURE(cert.len > 0 && cert.p != NULL, IOTCA_E_USAGE, "staging issuer %lld: no certificate", (long long)id);
    IOTCA_ENSURE(not_before < not_after, IOTCA_E_USAGE, "staging issuer %lld: notAfter is not after notBefore",
                 (long long)id);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ISSUER_STAGE,
                            "UPDATE issuers SET state = 'staged', cert = ?2, not_before = ?3, "
                            "not_after = ?4, "
                            "activate_at = ?5, updated_at = ?6 WHERE id = ?1 AND state = 'pending'",
                            "staging an issuer", &st));
    char doing[64];
    snprintf(doing, sizeof doing, "staging issuer %lld", (long long)id);
    IOTCA_GUARD(iotca_sq_begin(s, doing));
    iotca_rc rc = IOTCA_OK;
    iotca_issuer_state cur = IOTCA_ISSUER_PENDING;
    IOTCA_TRY(issuer_state(s, id, &cur, NULL, 0));
    IOTCA_CHECK(cur == IOTCA_ISSUER_PENDING, IOTCA_E_POLICY, "issuer %lld is %s; only a pending issuer can be staged",
                (long long)id, iotca_issuer_state_name(cur));
    if (!db_bind_int64(st, 1, id) || !db_bind_blob(st, 2, cert.p, cert.len) || !db_bind_int64(st, 3, not_before) ||
        !db_bind_int64(st, 4, not_after) || !bind_opt_time(st, 5, activate_at) || !db_bind_int64(st, 6, now) ||
        db_step(st) != DB_DONE) {
        rc = db_fail(s, "%s", doing);
        goto out;
    }
    IOTCA_CHECK(db_changes(st) == 1, IOTCA_E_INTERNAL, "staging issuer %lld changed no row", (long long)id);
    IOTCA_TRY(event_insert(s, id, iotca_issuer_state_name(IOTCA_ISSUER_PENDING), IOTCA_ISSUER_STAGED, now));
    IOTCA_TRY(iotca_sq_commit(s, doing));
out:
    db_done(st);
    if (rc != IOTCA_OK) iotca_sq_rollback(s);
    return rc;
}

/* Inside a transaction: moves id from `from` to `to` and logs it. */
static iotca_rc set_state(iotca_store *s, int64_t id, iotca_issuer_state from, iotca_issuer_state to, time_t now) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ISSUER_SET_STATE,
                            "UPDATE issuers SET state = ?3, updated_at = ?4 "
                            "WHERE id = ?1 AND state = ?2",
                            "changing an issuer's state", &st));
    iotca_rc rc = IOTCA_OK;
    if (!db_bind_int64(st, 1, id) || !db_bind_text(st, 2, iotca_issuer_state_name(from)) ||
        !db_bind_text(st, 3, iotca_issuer_state_name(to)) || !db_bind_int64(st, 4, now) || db_step(st) != DB_DONE) {
        rc = db_fail(s, "moving issuer %lld from %s to %s", (long long)id, iotca_issuer_state_name(from),
                     iotca_issuer_state_name(to));
        goto out;
    }
    IOTCA_CHECK(db_changes(st) == 1, IOTCA_E_POLICY, "issuer %lld is no longer %s", (long long)id,
                iotca_issuer_state_name(from));
    IOTCA_TRY(event_insert(s, id, iotca_issuer_state_name(from), to, now));
out:
    db_done(st);
    return rc;
}

/* The lifecycle of SPEC §3. pending -> staged belongs to issuer_stage,
 * which also stores the certificate; nothing moves backwards. */
/* SPEC §3's lifecycle; and active -> retired, for an active issuer whose
 * certificate expired before a successor took over (every leaf it issued
 * expired with it, so there is nothing left to publish for). */
static bool transition_allowed(iotca_issuer_state from, iotca_issuer_state to) {
    return (from == IOTCA_ISSUER_STAGED && to == IOTCA_ISSUER_ACTIVE) ||
           (from == IOTCA_ISSUER_ACTIVE && to == IOTCA_ISSUER_RETIRING) ||
           (from == IOTCA_ISSUER_ACTIVE && to == IOTCA_ISSUER_RETIRED) ||
           (from == IOTCA_ISSUER_RETIRING && to == IOTCA_ISSUER_RETIRED);
}

/* Inside a transaction: the group's active issuer, or 0 if none. */
static iotca_rc active_in_group(iotca_store *s, const char *group, int64_t *id) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ISSUER_ACTIVE, "SELECT id FROM issuers WHERE grp = ?1 AND state = 'active'",
                            "finding the active issuer", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, group) ? db_step(st) : DB_FAILED;
    if (e == DB_ROW)
        *id = db_col_int64(st, 0);
    else if (e == DB_DONE)
        *id = 0;
    else
        rc = db_fail(s, "finding the active issuer of group %s", group);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_issuer_transition(iotca_store *s, int64_t id, iotca_issuer_state from, iotca_issuer_state to,
                                       time_t now) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_issuer_transition: NULL store");
    IOTCA_ENSURE(transition_allowed(from, to), IOTCA_E_POLICY, "an issuer cannot move from %s to %s",
                 iotca_issuer_state_name(from), iotca_issuer_state_name(to));
    char doing[96];
    snprintf(doing, sizeof doing, "moving issuer %lld from %s to %s", (long long)id, iotca_issuer_state_name(from),
             iotca_issuer_state_name(to));
    IOTCA_GUARD(iotca_sq_begin(s, doing));
    iotca_rc rc = IOTCA_OK;
    iotca_issuer_state cur = IOTCA_ISSUER_PENDING;
    char group[sizeof((iotca_issuer_rec *)0)->group];
    IOTCA_TRY(issuer_state(s, id, &cur, group, sizeof group));
    IOTCA_CHECK(cur == from, IOTCA_E_POLICY, "issuer %lld is %s, not %s", (long long)id, iotca_issuer_state_name(cur),
                iotca_issuer_state_name(from));
    if (to == IOTCA_ISSUER_ACTIVE) {
        /* Retire the predecessor first: the partial unique index allows one
         * active issuer per group at every statement boundary. */
        int64_t prev = 0;
        IOTCA_TRY(active_in_group(s, group, &prev));
        if (prev != 0) IOTCA_TRY(set_state(s, prev, IOTCA_ISSUER_ACTIVE, IOTCA_ISSUER_RETIRING, now));
    }
    IOTCA_TRY(set_state(s, id, from, to, now));
    IOTCA_TRY(iotca_sq_commit(s, doing));
out:
    if (rc != IOTCA_OK) iotca_sq_rollback(s);
    return rc;
}

iotca_rc iotca_store_issuer_active(iotca_store *s, const char *group, int64_t *id) {
    IOTCA_ENSURE(s != NULL && group != NULL && id != NULL, IOTCA_E_USAGE, "iotca_store_issuer_active: NULL argument");
    int64_t found = 0;
    IOTCA_GUARD(active_in_group(s, group, &found));
    IOTCA_ENSURE(found != 0, IOTCA_E_POLICY, "no active issuer in group %s", group);
    *id = found;
    return IOTCA_OK;
}

iotca_rc iotca_store_issuer_abandon(iotca_store *s, int64_t id, time_t now) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_issuer_abandon: NULL store");
    char doing[64];
    snprintf(doing, sizeof doing, "abandoning issuer %lld", (long long)id);
    /* inside a group write the transaction is already open (the audit record
     * joins it): join it too */
    bool own = !db_in_transaction(s);
    if (own) IOTCA_GUARD(iotca_sq_begin(s, doing));
    iotca_rc rc = IOTCA_OK;
    iotca_issuer_state cur = IOTCA_ISSUER_PENDING;
    IOTCA_TRY(issuer_state(s, id, &cur, NULL, 0));
    IOTCA_CHECK(cur == IOTCA_ISSUER_PENDING, IOTCA_E_POLICY,
                "issuer %lld is %s; only a pending issuer (one whose certificate "
                "was never imported) can be abandoned",
                (long long)id, iotca_issuer_state_name(cur));
    IOTCA_TRY(set_state(s, id, IOTCA_ISSUER_PENDING, IOTCA_ISSUER_ABANDONED, now));
    if (own) IOTCA_TRY(iotca_sq_commit(s, doing));
out:
    if (rc != IOTCA_OK && own) iotca_sq_rollback(s);
    return rc;
}
