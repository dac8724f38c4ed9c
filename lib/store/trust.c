/* Trust profiles: the device trust stores in the field, and recorded overrides of rotation preflight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

iotca_rc iotca_store_trust_profile_add(iotca_store *s, iotca_trust_profile_rec *r) {
    IOTCA_ENSURE(r->name[0] && r->stack[0] && r->pem.len > 0 && r->until > 0, IOTCA_E_USAGE,
                 "a trust profile needs a name, a stack, a trust store and an end date");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TRUST_ADD,
                              "INSERT INTO trust_profiles (name, pem, stack, until, created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                            "RETURNING id",
                              "registering a trust profile", &st));
    db_bind_text(st, 1, r->name);
    db_bind_text_n(st, 2, (const char *)r->pem.data, r->pem.len);
    db_bind_text(st, 3, r->stack);
    db_bind_int64(st, 4, r->until);
    db_bind_int64(st, 5, r->created_at);
    enum db_step_rc step = db_step(st);
    iotca_rc rc = IOTCA_OK;
    if (step == DB_ROW) r->id = db_col_int64(st, 0);
    if (step == DB_UNIQUE || step == DB_CHECK)
        rc = iotca_error_set(IOTCA_E_POLICY, "a trust profile named '%s' already exists", r->name);
    else if (step != DB_ROW || db_step(st) != DB_DONE)
        rc = db_fail(s, "registering trust profile %s", r->name);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_trust_profile_list(iotca_store *s, iotca_trust_profile_rec **out, size_t *n) {
    *out = NULL;
    *n = 0;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TRUST_LIST, "SELECT id, name, pem, stack, until, created_at FROM trust_profiles ORDER BY id",
                              "listing trust profiles", &st));
    iotca_rc rc = IOTCA_OK;
    size_t cap = 0;
    iotca_trust_profile_rec *list = NULL;
    int step;
    while ((step = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            iotca_trust_profile_rec *grown = realloc(list, cap * sizeof *list);
            if (grown == NULL) {
                rc = iotca_error_set(IOTCA_E_INTERNAL, "out of memory");
                break;
            }
            list = grown;
        }
        iotca_trust_profile_rec *r = &list[(*n)++];
        memset(r, 0, sizeof *r);
        r->id = db_col_int64(st, 0);
        rc = db_col_text(st, 1, r->name, sizeof r->name, "trust profile name");
        if (rc == IOTCA_OK) rc = db_col_blob(st, 2, &r->pem, "trust profile store");
        if (rc == IOTCA_OK) rc = db_col_text(st, 3, r->stack, sizeof r->stack, "trust profile stack");
        r->until = (time_t)db_col_int64(st, 4);
        r->created_at = (time_t)db_col_int64(st, 5);
        if (rc != IOTCA_OK) break;
    }
    if (rc == IOTCA_OK && step != DB_DONE) rc = db_fail(s, "listing trust profiles");
    db_done(st);
    if (rc != IOTCA_OK) {
        for (size_t i = 0; i < *n; i++) iotca_trust_profile_rec_free(&list[i]);
        free(list);
        *n = 0;
        return rc;
    }
    *out = list;
    return IOTCA_OK;
}

iotca_rc iotca_store_preflight_override_add(iotca_store *s, int64_t issuer_id, const char *justification,
                                            const char *actor, const char *findings, time_t at) {
    IOTCA_ENSURE(justification && strlen(justification) >= 10, IOTCA_E_USAGE,
                 "an override needs a justification of at least 10 characters");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_OVERRIDE_ADD,
                              "INSERT INTO preflight_overrides (issuer_id, justification, findings, at, actor) "
                              "VALUES (?1, ?2, ?3, ?4, ?5)",
                              "recording a preflight override", &st));
    db_bind_int64(st, 1, issuer_id);
    db_bind_text(st, 2, justification);
    db_bind_text(st, 3, findings ? findings : "");
    db_bind_int64(st, 4, at);
    db_bind_text(st, 5, actor ? actor : "");
    int step = db_step(st);
    iotca_rc rc = step == DB_DONE ? IOTCA_OK : db_fail(s, "recording the preflight override of issuer %lld", (long long)issuer_id);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_preflight_override_get(iotca_store *s, int64_t issuer_id, iotca_override_rec *out, bool *found) {
    memset(out, 0, sizeof *out);
    *found = false;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_OVERRIDE_GET,
                              "SELECT justification, actor, findings, at FROM preflight_overrides WHERE issuer_id = ?1 "
                              "ORDER BY id DESC LIMIT 1",
                              "reading preflight overrides", &st));
    db_bind_int64(st, 1, issuer_id);
    int step = db_step(st);
    iotca_rc rc = IOTCA_OK;
    if (step == DB_ROW) {
        /* longer texts (a findings list of many profiles) are cut to the record's fields */
        db_col_text_cut(st, 0, out->justification, sizeof out->justification);
        db_col_text_cut(st, 1, out->actor, sizeof out->actor);
        db_col_text_cut(st, 2, out->findings, sizeof out->findings);
        out->at = (time_t)db_col_int64(st, 3);
        *found = true;
    } else if (step != DB_DONE) {
        rc = db_fail(s, "reading preflight overrides");
    }
    db_done(st);
    return rc;
}

iotca_rc iotca_store_trust_profile_get(iotca_store *s, const char *name, iotca_trust_profile_rec *out, bool *found) {
    iotca_trust_profile_rec_free(out);
    *found = false;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TRUST_GET,
                              "SELECT id, name, pem, stack, until, created_at FROM trust_profiles WHERE name = ?1",
                              "reading a trust profile", &st));
    db_bind_text(st, 1, name);
    int step = db_step(st);
    iotca_rc rc = IOTCA_OK;
    if (step == DB_ROW) {
        out->id = db_col_int64(st, 0);
        rc = db_col_text(st, 1, out->name, sizeof out->name, "trust profile name");
        if (rc == IOTCA_OK) rc = db_col_blob(st, 2, &out->pem, "trust profile store");
        if (rc == IOTCA_OK) rc = db_col_text(st, 3, out->stack, sizeof out->stack, "trust profile stack");
        out->until = (time_t)db_col_int64(st, 4);
        out->created_at = (time_t)db_col_int64(st, 5);
        *found = rc == IOTCA_OK;
    } else if (step != DB_DONE) {
        rc = db_fail(s, "reading trust profile %s", name);
    }
    db_done(st);
    if (rc != IOTCA_OK) iotca_trust_profile_rec_free(out);
    return rc;
}

iotca_rc iotca_store_trust_profile_replace(iotca_store *s, iotca_trust_profile_rec *r, bool *found) {
    *found = false;
    IOTCA_ENSURE(r->name[0] && r->stack[0] && r->pem.len > 0 && r->until > 0, IOTCA_E_USAGE,
                 "a trust profile needs a name, a stack, a trust store and an end date");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TRUST_REPLACE,
                              "UPDATE trust_profiles SET pem = ?2, stack = ?3, until = ?4 WHERE name = ?1 "
                              "RETURNING id, created_at",
                              "replacing a trust profile", &st));
    db_bind_text(st, 1, r->name);
    db_bind_text_n(st, 2, (const char *)r->pem.data, r->pem.len);
    db_bind_text(st, 3, r->stack);
    db_bind_int64(st, 4, r->until);
    int step = db_step(st);
    iotca_rc rc = IOTCA_OK;
    if (step == DB_ROW) {
        r->id = db_col_int64(st, 0);
        r->created_at = (time_t)db_col_int64(st, 1);
        *found = true;
        step = db_step(st); /* a RETURNING statement finishes its change at DB_DONE */
    }
    if (step != DB_DONE) rc = db_fail(s, "replacing trust profile %s", r->name);
    db_done(st);
    if (rc != IOTCA_OK) *found = false;
    return rc;
}

iotca_rc iotca_store_trust_profile_delete(iotca_store *s, const char *name, bool *found) {
    *found = false;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_TRUST_DELETE, "DELETE FROM trust_profiles WHERE name = ?1",
                              "deleting a trust profile", &st));
    db_bind_text(st, 1, name);
    iotca_rc rc = db_step(st) == DB_DONE ? IOTCA_OK : db_fail(s, "deleting trust profile %s", name);
    if (rc == IOTCA_OK) *found = db_changes(st) == 1;
    db_done(st);
    return rc;
}
