/* The store's rehearsals (schema/0021_rehearsals.sql, issue 24; written on
 * db.h, so on SQLite and PostgreSQL): the short-lived leaves a rehearsal
 * endpoint presents, their serials reserved in the issuer's serial space, and
 * what devices did with each scenario. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

enum { LIST_MAX = 1000 }; /* the most rows a list returns (store.h) */
/* the sizes of the records' fields (sizeof does not evaluate its operand) */
#define SCENARIO_CAP (sizeof((iotca_rehearsal_result_rec *)NULL)->scenario)
#define PROFILE_CAP (sizeof((iotca_rehearsal_result_rec *)NULL)->trust_profile)

/* IOTCA_E_USAGE unless v fits a char[cap] field and, when required, is not
 * empty. */
static iotca_rc check_text(const char *v, size_t cap, bool required, const char *what) {
    IOTCA_ENSURE(v != NULL, IOTCA_E_USAGE, "rehearsal %s is NULL", what);
    if (required)
        IOTCA_ENSURE(iotca_sq_fits(v, cap) && v[0], IOTCA_E_USAGE, "rehearsal %s must be 1 to %zu bytes", what,
                     cap - 1);
    else
        IOTCA_ENSURE(iotca_sq_fits(v, cap), IOTCA_E_USAGE, "rehearsal %s is longer than %zu bytes", what, cap - 1);
    return IOTCA_OK;
}

/* ---- a write of several statements: its own transaction, or a savepoint
 * inside the caller's ---- */

static iotca_rc run(iotca_store *s, enum iotca_sq_id id, const char *sql, const char *doing) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, id, sql, doing, &st));
    iotca_rc rc = db_step(st) == DB_DONE ? IOTCA_OK : db_fail(s, "%s", doing);
    db_done(st);
    return rc;
}

/* BEGIN IMMEDIATE when no transaction is open (*own); inside one (a group
 * commit's, or a caller's), a savepoint, so a failure undoes this write's
 * statements alone and leaves the caller's transaction as it was. */
static iotca_rc write_begin(iotca_store *s, bool *own, const char *doing) {
    *own = !db_in_transaction(s);
    if (*own) return iotca_sq_begin(s, doing);
    return run(s, SQ_REHEARSAL_SAVEPOINT, "SAVEPOINT rehearsal", doing);
}

/* Ends what write_begin began: commits (releases) on IOTCA_OK, else rolls back
 * keeping rc and its detail. */
static iotca_rc write_end(iotca_store *s, bool own, iotca_rc rc, const char *doing) {
    if (own) {
        if (rc == IOTCA_OK) return iotca_sq_commit(s, doing);
        iotca_sq_rollback(s);
        return rc;
    }
    if (rc == IOTCA_OK) return run(s, SQ_REHEARSAL_RELEASE, "RELEASE rehearsal", doing);
    if (!db_in_transaction(s)) return rc; /* SQLite rolled the whole transaction back itself */
    char keep[512];
    snprintf(keep, sizeof keep, "%s", iotca_error_detail());
    if (run(s, SQ_REHEARSAL_ROLLBACK_TO, "ROLLBACK TO rehearsal", doing) != IOTCA_OK ||
        run(s, SQ_REHEARSAL_RELEASE, "RELEASE rehearsal", doing) != IOTCA_OK)
        return iotca_error_set(IOTCA_E_STORAGE, "%s: cannot undo a failed write (%s)", doing, keep);
    return iotca_error_set(rc, "%s", keep);
}

/* Makes room for entry k of a list of `size`-byte entries. */
static iotca_rc grow(void **list, size_t *cap, size_t k, size_t size) {
    if (k < *cap) return IOTCA_OK;
    size_t more_cap = *cap ? 2 * *cap : 8;
    void *more = realloc(*list, more_cap * size);
    IOTCA_ENSURE(more != NULL, IOTCA_E_INTERNAL, "out of memory");
    *list = more;
    *cap = more_cap;
    return IOTCA_OK;
}

/* ---- leaves ---- */

static iotca_rc check_leaf(const iotca_rehearsal_leaf_rec *r) {
    IOTCA_ENSURE(iotca_sq_fits(r->serial, sizeof r->serial), IOTCA_E_USAGE, "rehearsal leaf serial is not terminated");
    IOTCA_GUARD(iotca_sq_check_serial(r->serial));
    IOTCA_GUARD(check_text(r->scenario, sizeof r->scenario, true, "leaf: the scenario"));
    IOTCA_ENSURE(r->issuer_id >= 0, IOTCA_E_USAGE, "rehearsal leaf %s: no issuer %lld (0 is the lab hierarchy)",
                 r->serial, (long long)r->issuer_id);
    IOTCA_ENSURE(r->der.data != NULL && r->der.len > 0, IOTCA_E_USAGE, "rehearsal leaf %s: no DER", r->serial);
    IOTCA_ENSURE(r->not_after >= r->not_before, IOTCA_E_USAGE, "rehearsal leaf %s: notAfter is before notBefore",
                 r->serial);
    return IOTCA_OK;
}

static iotca_rc insert_leaf(iotca_store *s, const iotca_rehearsal_leaf_rec *r) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_REHEARSAL_LEAF_INSERT,
                            "INSERT INTO rehearsal_leaves (serial, scenario, issuer_id, "
                            "not_before, not_after, "
                            "created_at, der) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            "recording a rehearsal leaf", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, r->serial) && db_bind_text(st, 2, r->scenario) &&
                                db_bind_int64(st, 3, r->issuer_id) && db_bind_int64(st, 4, r->not_before) &&
                                db_bind_int64(st, 5, r->not_after) && db_bind_int64(st, 6, r->created_at) &&
                                db_bind_blob(st, 7, r->der.data, r->der.len)
                            ? db_step(st)
                            : DB_FAILED;
    /* the lab hierarchy's serials have no reservation: the leaves' own key keeps
     * them apart */
    IOTCA_CHECK(e != DB_UNIQUE, IOTCA_E_POLICY, "serial %s already used by a rehearsal leaf", r->serial);
    if (e != DB_DONE) rc = db_fail(s, "recording rehearsal leaf %s", r->serial);
out:
    db_done(st);
    return rc;
}

iotca_rc iotca_store_rehearsal_leaf_add(iotca_store *s, const iotca_rehearsal_leaf_rec *r) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_rehearsal_leaf_add: NULL argument");
    IOTCA_GUARD(check_leaf(r));
    const char *doing = "recording a rehearsal leaf";
    bool own = false;
    IOTCA_GUARD(write_begin(s, &own, doing));
    iotca_rc rc = IOTCA_OK;
    /* a leaf of an issuer of this CA takes a serial of that issuer's space, for
     * good (pruning keeps it) */
    if (r->issuer_id > 0) IOTCA_TRY(iotca_store_serial_reserve(s, r->serial, r->issuer_id, r->created_at));
    IOTCA_TRY(insert_leaf(s, r));
out:
    return write_end(s, own, rc, doing);
}

iotca_rc iotca_store_rehearsal_leaf_list(iotca_store *s, time_t now, iotca_rehearsal_leaf_rec **out, size_t *n) {
    IOTCA_ENSURE(s != NULL && out != NULL && n != NULL, IOTCA_E_USAGE,
                 "iotca_store_rehearsal_leaf_list: NULL argument");
    *out = NULL;
    *n = 0;
    db_stmt *st;
    /* ties of created_at (leaves made by one refresh) by serial, the same order
     * on both databases */
    IOTCA_GUARD(db_stmt_get(s, SQ_REHEARSAL_LEAF_LIST,
                            "SELECT serial, scenario, issuer_id, not_before, not_after, created_at "
                            "FROM rehearsal_leaves WHERE not_after > ?1 "
                            "ORDER BY created_at DESC, serial DESC LIMIT 1000", /* LIST_MAX */
                            "listing rehearsal leaves", &st));
    iotca_rc rc = IOTCA_OK;
    iotca_rehearsal_leaf_rec *list = NULL;
    size_t k = 0, cap = 0;
    /* now 0: every leaf, whatever its notAfter */
    IOTCA_CHECK(db_bind_int64(st, 1, now ? (int64_t)now : INT64_MIN), IOTCA_E_STORAGE,
                "listing rehearsal leaves: out of memory");
    enum db_step_rc e;
    while ((e = db_step(st)) == DB_ROW && k < LIST_MAX) {
        IOTCA_TRY(grow((void **)&list, &cap, k, sizeof *list));
        iotca_rehearsal_leaf_rec *l = &list[k++];
        memset(l, 0, sizeof *l);
        IOTCA_TRY(db_col_text(st, 0, l->serial, sizeof l->serial, "rehearsal leaf serial"));
        IOTCA_TRY(db_col_text(st, 1, l->scenario, sizeof l->scenario, "rehearsal leaf scenario"));
        l->issuer_id = db_col_int64(st, 2);
        l->not_before = (time_t)db_col_int64(st, 3);
        l->not_after = (time_t)db_col_int64(st, 4);
        l->created_at = (time_t)db_col_int64(st, 5);
    }
    if (e != DB_DONE && e != DB_ROW) {
        rc = db_fail(s, "listing rehearsal leaves");
        goto out;
    }
    *out = list;
    *n = k;
    list = NULL;
out:
    free(list); /* the entries own nothing: a list carries no DER */
    db_done(st);
    return rc;
}

iotca_rc iotca_store_rehearsal_leaf_prune(iotca_store *s, time_t before, size_t *deleted) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_rehearsal_leaf_prune: NULL store");
    if (deleted) *deleted = 0;
    db_stmt *st;
    /* the serials table is left alone: a pruned leaf's serial stays reserved,
     * never drawn again */
    IOTCA_GUARD(db_stmt_get(s, SQ_REHEARSAL_LEAF_PRUNE, "DELETE FROM rehearsal_leaves WHERE not_after < ?1",
                            "pruning rehearsal leaves", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_int64(st, 1, before) ? db_step(st) : DB_FAILED;
    if (e != DB_DONE)
        rc = db_fail(s, "pruning rehearsal leaves");
    else if (deleted)
        *deleted = (size_t)db_changes(st);
    db_done(st);
    return rc;
}

/* ---- results ---- */

static iotca_rc check_result(const iotca_rehearsal_result_rec *r) {
    IOTCA_GUARD(check_text(r->scenario, sizeof r->scenario, true, "result: the scenario"));
    IOTCA_GUARD(check_text(r->trust_profile, sizeof r->trust_profile, true, "result: the trust profile"));
    IOTCA_ENSURE(iotca_sq_fits(r->source, sizeof r->source) &&
                     (strcmp(r->source, "report") == 0 || strcmp(r->source, "handshake") == 0),
                 IOTCA_E_USAGE, "rehearsal result: the source must be \"report\" or \"handshake\"");
    IOTCA_GUARD(check_text(r->actor, sizeof r->actor, true, "result: the actor"));
    IOTCA_GUARD(check_text(r->note, sizeof r->note, false, "result: the note"));
    IOTCA_GUARD(check_text(r->serial, sizeof r->serial, false, "result: the serial"));
    if (r->serial[0]) IOTCA_GUARD(iotca_sq_check_serial(r->serial)); /* empty: not known */
    IOTCA_ENSURE(r->issuer_id >= 0, IOTCA_E_USAGE, "rehearsal result: no issuer %lld (0 is the lab hierarchy)",
                 (long long)r->issuer_id);
    return IOTCA_OK;
}

iotca_rc iotca_store_rehearsal_result_add(iotca_store *s, iotca_rehearsal_result_rec *r) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_rehearsal_result_add: NULL argument");
    IOTCA_GUARD(check_result(r));
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_REHEARSAL_RESULT_INSERT,
                            "INSERT INTO rehearsal_results (scenario, "
                            "trust_profile, issuer_id, serial, accepted, "
                            "passed, source, actor, note, at) VALUES (?1, ?2, "
                            "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                            "RETURNING id",
                            "recording a rehearsal result", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_text(st, 1, r->scenario) && db_bind_text(st, 2, r->trust_profile) &&
                                db_bind_int64(st, 3, r->issuer_id) &&
                                db_bind_text(st, 4, r->serial[0] ? r->serial : NULL) &&
                                db_bind_int64(st, 5, r->accepted ? 1 : 0) && db_bind_int64(st, 6, r->passed ? 1 : 0) &&
                                db_bind_text(st, 7, r->source) && db_bind_text(st, 8, r->actor) &&
                                db_bind_text(st, 9, r->note) && db_bind_int64(st, 10, r->at)
                            ? db_step(st)
                            : DB_FAILED;
    if (e == DB_ROW) r->id = db_col_int64(st, 0);
    if (e != DB_ROW || db_step(st) != DB_DONE)
        rc = db_fail(s, "recording a rehearsal result for %s/%s", r->trust_profile, r->scenario);
    db_done(st);
    return rc;
}

static iotca_rc read_result(db_stmt *st, iotca_rehearsal_result_rec *r) {
    memset(r, 0, sizeof *r);
    r->id = db_col_int64(st, 0);
    IOTCA_GUARD(db_col_text(st, 1, r->scenario, sizeof r->scenario, "rehearsal result scenario"));
    IOTCA_GUARD(db_col_text(st, 2, r->trust_profile, sizeof r->trust_profile, "rehearsal result trust profile"));
    r->issuer_id = db_col_int64(st, 3);
    IOTCA_GUARD(db_col_text(st, 4, r->serial, sizeof r->serial, "rehearsal result serial"));
    r->accepted = db_col_int64(st, 5) != 0;
    r->passed = db_col_int64(st, 6) != 0;
    IOTCA_GUARD(db_col_text(st, 7, r->source, sizeof r->source, "rehearsal result source"));
    IOTCA_GUARD(db_col_text(st, 8, r->actor, sizeof r->actor, "rehearsal result actor"));
    IOTCA_GUARD(db_col_text(st, 9, r->note, sizeof r->note, "rehearsal result note"));
    r->at = (time_t)db_col_int64(st, 10);
    return IOTCA_OK;
}

iotca_rc iotca_store_rehearsal_result_latest(iotca_store *s, iotca_rehearsal_result_rec **out, size_t *n) {
    IOTCA_ENSURE(s != NULL && out != NULL && n != NULL, IOTCA_E_USAGE,
                 "iotca_store_rehearsal_result_latest: NULL argument");
    *out = NULL;
    *n = 0;
    db_stmt *st;
    /* a pair's latest result is its greatest id: ids only grow (generated, rows
     * never deleted); names in byte order on both databases (COLLATE "C" on
     * PostgreSQL, whose default collation is the locale's) */
    IOTCA_GUARD(db_stmt_get(s, SQ_REHEARSAL_RESULT_LATEST,
                            db_sql(s,
                                   "SELECT id, scenario, trust_profile, issuer_id, serial, accepted, "
                                   "passed, source, "
                                   "actor, note, at FROM rehearsal_results WHERE id IN "
                                   "(SELECT max(id) FROM rehearsal_results GROUP BY trust_profile, "
                                   "scenario) "
                                   "ORDER BY trust_profile, scenario LIMIT 1000", /* LIST_MAX */
                                   "SELECT id, scenario, trust_profile, issuer_id, serial, accepted, "
                                   "passed, source, "
                                   "actor, note, at FROM rehearsal_results WHERE id IN "
                                   "(SELECT max(id) FROM rehearsal_results GROUP BY trust_profile, "
                                   "scenario) "
                                   "ORDER BY trust_profile COLLATE \"C\", scenario COLLATE \"C\" "
                                   "LIMIT 1000"),
                            "listing rehearsal results", &st));
    iotca_rc rc = IOTCA_OK;
    iotca_rehearsal_result_rec *list = NULL;
    size_t k = 0, cap = 0;
    enum db_step_rc e;
    while ((e = db_step(st)) == DB_ROW && k < LIST_MAX) {
        IOTCA_TRY(grow((void **)&list, &cap, k, sizeof *list));
        IOTCA_TRY(read_result(st, &list[k++]));
    }
    if (e != DB_DONE && e != DB_ROW) {
        rc = db_fail(s, "listing rehearsal results");
        goto out;
    }
    *out = list;
    *n = k;
    list = NULL;
out:
    free(list);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_rehearsal_passed(iotca_store *s, const char *scenario, const char *trust_profile,
                                      int64_t issuer_id, bool *passed) {
    IOTCA_ENSURE(s != NULL && scenario != NULL && trust_profile != NULL && passed != NULL, IOTCA_E_USAGE,
                 "iotca_store_rehearsal_passed: NULL argument");
    *passed = false;
    IOTCA_GUARD(check_text(scenario, SCENARIO_CAP, true, "result: the scenario"));
    IOTCA_GUARD(check_text(trust_profile, PROFILE_CAP, true, "result: the trust profile"));
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_REHEARSAL_PASSED,
                            "SELECT passed FROM rehearsal_results WHERE "
                            "trust_profile = ?1 AND scenario = ?2 "
                            "AND issuer_id = ?3 ORDER BY id DESC LIMIT 1",
                            "reading a rehearsal result", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e =
        db_bind_text(st, 1, trust_profile) && db_bind_text(st, 2, scenario) && db_bind_int64(st, 3, issuer_id)
            ? db_step(st)
            : DB_FAILED;
    if (e == DB_ROW)
        *passed = db_col_int64(st, 0) != 0;
    else if (e != DB_DONE) /* none: not passed */
        rc = db_fail(s, "reading the rehearsal result of %s/%s", trust_profile, scenario);
    db_done(st);
    return rc;
}
