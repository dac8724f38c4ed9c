/* The store's rehearsals (schema/0021_rehearsals.sql, issue 24): the short-lived leaves a rehearsal endpoint
 * presents, their serials reserved in the issuer's serial space, and what devices did with each scenario. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

enum { LIST_MAX = 1000 }; /* the most rows a list returns (store.h) */
/* the sizes of the records' fields (sizeof does not evaluate its operand) */
#define SCENARIO_CAP (sizeof ((iotca_rehearsal_result_rec *)NULL)->scenario)
#define PROFILE_CAP (sizeof ((iotca_rehearsal_result_rec *)NULL)->trust_profile)

/* IOTCA_E_USAGE unless v fits a char[cap] field and, when required, is not empty. */
static iotca_rc check_text(const char *v, size_t cap, bool required, const char *what) {
    IOTCA_ENSURE(v != NULL, IOTCA_E_USAGE, "rehearsal %s is NULL", what);
    if (required)
        IOTCA_ENSURE(iotca_sq_fits(v, cap) && v[0], IOTCA_E_USAGE, "rehearsal %s must be 1 to %zu bytes", what,
                     cap - 1);
    else
        IOTCA_ENSURE(iotca_sq_fits(v, cap), IOTCA_E_USAGE, "rehearsal %s is longer than %zu bytes", what, cap - 1);
    return IOTCA_OK;
}

/* ---- a write of several statements: its own transaction, or a savepoint inside the caller's ---- */

static iotca_rc run(iotca_store *s, enum iotca_sq_id id, const char *sql, const char *doing) {
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, id, sql, doing, &st));
    iotca_rc rc = sqlite3_step(st) == SQLITE_DONE ? IOTCA_OK : iotca_sq_fail(s, "%s", doing);
    iotca_sq_done(st);
    return rc;
}

/* BEGIN IMMEDIATE when no transaction is open (*own); inside one (a group commit's, or a caller's), a savepoint,
 * so a failure undoes this write's statements alone and leaves the caller's transaction as it was. */
static iotca_rc write_begin(iotca_store *s, bool *own, const char *doing) {
    *own = sqlite3_get_autocommit(s->db) != 0;
    if (*own) return iotca_sq_begin(s, doing);
    return run(s, SQ_REHEARSAL_SAVEPOINT, "SAVEPOINT rehearsal", doing);
}

/* Ends what write_begin began: commits (releases) on IOTCA_OK, else rolls back keeping rc and its detail. */
static iotca_rc write_end(iotca_store *s, bool own, iotca_rc rc, const char *doing) {
    if (own) {
        if (rc == IOTCA_OK) return iotca_sq_commit(s, doing);
        iotca_sq_rollback(s);
        return rc;
    }
    if (rc == IOTCA_OK) return run(s, SQ_REHEARSAL_RELEASE, "RELEASE rehearsal", doing);
    if (sqlite3_get_autocommit(s->db)) return rc; /* SQLite rolled the whole transaction back itself */
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
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_REHEARSAL_LEAF_INSERT,
                              "INSERT INTO rehearsal_leaves (serial, scenario, issuer_id, not_before, not_after, "
                              "created_at, der) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                              "recording a rehearsal leaf", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_text(st, 1, r->serial, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_text(st, 2, r->scenario, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 3, r->issuer_id) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 4, (sqlite3_int64)r->not_before) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->not_after) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 6, (sqlite3_int64)r->created_at) == SQLITE_OK &&
                    sqlite3_bind_blob64(st, 7, r->der.data, r->der.len, SQLITE_STATIC) == SQLITE_OK
                ? sqlite3_step(st)
                : SQLITE_ERROR;
    /* the lab hierarchy's serials have no reservation: the leaves' own key keeps them apart */
    IOTCA_CHECK(e != SQLITE_CONSTRAINT_PRIMARYKEY && e != SQLITE_CONSTRAINT_UNIQUE, IOTCA_E_POLICY,
                "serial %s already used by a rehearsal leaf", r->serial);
    if (e != SQLITE_DONE) rc = iotca_sq_fail(s, "recording rehearsal leaf %s", r->serial);
out:
    iotca_sq_done(st);
    return rc;
}

iotca_rc iotca_store_rehearsal_leaf_add(iotca_store *s, const iotca_rehearsal_leaf_rec *r) {
    IOTCA_ENSURE(s != NULL && r != NULL, IOTCA_E_USAGE, "iotca_store_rehearsal_leaf_add: NULL argument");
    IOTCA_GUARD(check_leaf(r));
    const char *doing = "recording a rehearsal leaf";
    bool own = false;
    IOTCA_GUARD(write_begin(s, &own, doing));
    iotca_rc rc = IOTCA_OK;
    /* a leaf of an issuer of this CA takes a serial of that issuer's space, for good (pruning keeps it) */
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
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_REHEARSAL_LEAF_LIST,
                              "SELECT serial, scenario, issuer_id, not_before, not_after, created_at "
                              "FROM rehearsal_leaves WHERE not_after > ?1 "
                              "ORDER BY created_at DESC, rowid DESC LIMIT 1000", /* LIST_MAX */
                              "listing rehearsal leaves", &st));
    iotca_rc rc = IOTCA_OK;
    iotca_rehearsal_leaf_rec *list = NULL;
    size_t k = 0, cap = 0;
    /* now 0: every leaf, whatever its notAfter */
    IOTCA_CHECK(sqlite3_bind_int64(st, 1, now ? (sqlite3_int64)now : (sqlite3_int64)INT64_MIN) == SQLITE_OK,
                IOTCA_E_STORAGE, "listing rehearsal leaves: %s", sqlite3_errmsg(s->db));
    int e;
    while ((e = sqlite3_step(st)) == SQLITE_ROW && k < LIST_MAX) {
        IOTCA_TRY(grow((void **)&list, &cap, k, sizeof *list));
        iotca_rehearsal_leaf_rec *l = &list[k++];
        memset(l, 0, sizeof *l);
        IOTCA_TRY(iotca_sq_col_text(st, 0, l->serial, sizeof l->serial, "rehearsal leaf serial"));
        IOTCA_TRY(iotca_sq_col_text(st, 1, l->scenario, sizeof l->scenario, "rehearsal leaf scenario"));
        l->issuer_id = sqlite3_column_int64(st, 2);
        l->not_before = (time_t)sqlite3_column_int64(st, 3);
        l->not_after = (time_t)sqlite3_column_int64(st, 4);
        l->created_at = (time_t)sqlite3_column_int64(st, 5);
    }
    IOTCA_CHECK(e == SQLITE_DONE || e == SQLITE_ROW, IOTCA_E_STORAGE, "listing rehearsal leaves: %s",
                sqlite3_errmsg(s->db));
    *out = list;
    *n = k;
    list = NULL;
out:
    free(list); /* the entries own nothing: a list carries no DER */
    iotca_sq_done(st);
    return rc;
}

iotca_rc iotca_store_rehearsal_leaf_prune(iotca_store *s, time_t before, size_t *deleted) {
    IOTCA_ENSURE(s != NULL, IOTCA_E_USAGE, "iotca_store_rehearsal_leaf_prune: NULL store");
    if (deleted) *deleted = 0;
    sqlite3_stmt *st;
    /* the serials table is left alone: a pruned leaf's serial stays reserved, never drawn again */
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_REHEARSAL_LEAF_PRUNE, "DELETE FROM rehearsal_leaves WHERE not_after < ?1",
                              "pruning rehearsal leaves", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_int64(st, 1, (sqlite3_int64)before) == SQLITE_OK ? sqlite3_step(st) : SQLITE_ERROR;
    if (e != SQLITE_DONE)
        rc = iotca_sq_fail(s, "pruning rehearsal leaves");
    else if (deleted)
        *deleted = (size_t)sqlite3_changes(s->db);
    iotca_sq_done(st);
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
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_REHEARSAL_RESULT_INSERT,
                              "INSERT INTO rehearsal_results (scenario, trust_profile, issuer_id, serial, accepted, "
                              "passed, source, actor, note, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                              "recording a rehearsal result", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_text(st, 1, r->scenario, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_text(st, 2, r->trust_profile, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 3, r->issuer_id) == SQLITE_OK &&
                    (r->serial[0] ? sqlite3_bind_text(st, 4, r->serial, -1, SQLITE_STATIC)
                                  : sqlite3_bind_null(st, 4)) == SQLITE_OK &&
                    sqlite3_bind_int(st, 5, r->accepted ? 1 : 0) == SQLITE_OK &&
                    sqlite3_bind_int(st, 6, r->passed ? 1 : 0) == SQLITE_OK &&
                    sqlite3_bind_text(st, 7, r->source, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_text(st, 8, r->actor, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_text(st, 9, r->note, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 10, (sqlite3_int64)r->at) == SQLITE_OK
                ? sqlite3_step(st)
                : SQLITE_ERROR;
    if (e == SQLITE_DONE)
        r->id = sqlite3_last_insert_rowid(s->db);
    else
        rc = iotca_sq_fail(s, "recording a rehearsal result for %s/%s", r->trust_profile, r->scenario);
    iotca_sq_done(st);
    return rc;
}

static iotca_rc read_result(sqlite3_stmt *st, iotca_rehearsal_result_rec *r) {
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    IOTCA_GUARD(iotca_sq_col_text(st, 1, r->scenario, sizeof r->scenario, "rehearsal result scenario"));
    IOTCA_GUARD(iotca_sq_col_text(st, 2, r->trust_profile, sizeof r->trust_profile, "rehearsal result trust profile"));
    r->issuer_id = sqlite3_column_int64(st, 3);
    IOTCA_GUARD(iotca_sq_col_text(st, 4, r->serial, sizeof r->serial, "rehearsal result serial"));
    r->accepted = sqlite3_column_int(st, 5) != 0;
    r->passed = sqlite3_column_int(st, 6) != 0;
    IOTCA_GUARD(iotca_sq_col_text(st, 7, r->source, sizeof r->source, "rehearsal result source"));
    IOTCA_GUARD(iotca_sq_col_text(st, 8, r->actor, sizeof r->actor, "rehearsal result actor"));
    IOTCA_GUARD(iotca_sq_col_text(st, 9, r->note, sizeof r->note, "rehearsal result note"));
    r->at = (time_t)sqlite3_column_int64(st, 10);
    return IOTCA_OK;
}

iotca_rc iotca_store_rehearsal_result_latest(iotca_store *s, iotca_rehearsal_result_rec **out, size_t *n) {
    IOTCA_ENSURE(s != NULL && out != NULL && n != NULL, IOTCA_E_USAGE,
                 "iotca_store_rehearsal_result_latest: NULL argument");
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    /* a pair's latest result is its greatest id: ids only grow (INTEGER PRIMARY KEY, rows never deleted) */
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_REHEARSAL_RESULT_LATEST,
                              "SELECT id, scenario, trust_profile, issuer_id, serial, accepted, passed, source, actor, "
                              "note, at FROM rehearsal_results WHERE id IN "
                              "(SELECT max(id) FROM rehearsal_results GROUP BY trust_profile, scenario) "
                              "ORDER BY trust_profile, scenario LIMIT 1000", /* LIST_MAX */
                              "listing rehearsal results", &st));
    iotca_rc rc = IOTCA_OK;
    iotca_rehearsal_result_rec *list = NULL;
    size_t k = 0, cap = 0;
    int e;
    while ((e = sqlite3_step(st)) == SQLITE_ROW && k < LIST_MAX) {
        IOTCA_TRY(grow((void **)&list, &cap, k, sizeof *list));
        IOTCA_TRY(read_result(st, &list[k++]));
    }
    IOTCA_CHECK(e == SQLITE_DONE || e == SQLITE_ROW, IOTCA_E_STORAGE, "listing rehearsal results: %s",
                sqlite3_errmsg(s->db));
    *out = list;
    *n = k;
    list = NULL;
out:
    free(list);
    iotca_sq_done(st);
    return rc;
}

iotca_rc iotca_store_rehearsal_passed(iotca_store *s, const char *scenario, const char *trust_profile,
                                      int64_t issuer_id, bool *passed) {
    IOTCA_ENSURE(s != NULL && scenario != NULL && trust_profile != NULL && passed != NULL, IOTCA_E_USAGE,
                 "iotca_store_rehearsal_passed: NULL argument");
    *passed = false;
    IOTCA_GUARD(check_text(scenario, SCENARIO_CAP, true, "result: the scenario"));
    IOTCA_GUARD(check_text(trust_profile, PROFILE_CAP, true, "result: the trust profile"));
    sqlite3_stmt *st;
    IOTCA_GUARD(iotca_sq_stmt(s, SQ_REHEARSAL_PASSED,
                              "SELECT passed FROM rehearsal_results WHERE trust_profile = ?1 AND scenario = ?2 "
                              "AND issuer_id = ?3 ORDER BY id DESC LIMIT 1",
                              "reading a rehearsal result", &st));
    iotca_rc rc = IOTCA_OK;
    int e = sqlite3_bind_text(st, 1, trust_profile, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_text(st, 2, scenario, -1, SQLITE_STATIC) == SQLITE_OK &&
                    sqlite3_bind_int64(st, 3, issuer_id) == SQLITE_OK
                ? sqlite3_step(st)
                : SQLITE_ERROR;
    if (e == SQLITE_ROW)
        *passed = sqlite3_column_int(st, 0) != 0;
    else if (e != SQLITE_DONE) /* none: not passed */
        rc = iotca_sq_fail(s, "reading the rehearsal result of %s/%s", trust_profile, scenario);
    iotca_sq_done(st);
    return rc;
}
