/* The dashboard's counts over time (issue 27): certificates issued, revoked and expiring, and audit records of
 * the caller's choosing (the dashboard: issuance refused), per week, counted by the database. */
#include <stdlib.h>
#include <string.h>

#include "db.h"

#define WEEK 604800
#define MAX_ROWS 100000

/* Each count: its statement slot and its text in both dialects. ?1 the start, ?2 its end. */
static const struct {
    enum iotca_sq_id id;
    const char *lite, *pg;
} weekly_sql[] = {
    [IOTCA_WEEKLY_ISSUED] = {SQ_WEEKS_ISSUED,
                             "SELECT (created_at - ?1) / 604800, '', count(*) FROM certificates "
                             "WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1 ORDER BY 1",
                             "SELECT (created_at - ?1::bigint) / 604800, '', count(*) FROM certificates "
                             "WHERE created_at >= ?1::bigint AND created_at < ?2::bigint GROUP BY 1 ORDER BY 1"},
    [IOTCA_WEEKLY_REVOKED] = {SQ_WEEKS_REVOKED,
                              "SELECT (revoked_at - ?1) / 604800, '', count(*) FROM certificates "
                              "WHERE status = 'revoked' AND revoked_at >= ?1 AND revoked_at < ?2 GROUP BY 1 ORDER BY 1",
                              "SELECT (revoked_at - ?1::bigint) / 604800, '', count(*) FROM certificates "
                              "WHERE status = 'revoked' AND revoked_at >= ?1::bigint AND revoked_at < ?2::bigint "
                              "GROUP BY 1 ORDER BY 1"},
    [IOTCA_WEEKLY_EXPIRING] =
        {SQ_WEEKS_EXPIRING,
         "SELECT (not_after - ?1) / 604800, profile, count(*) FROM certificates "
         "WHERE status = 'valid' AND not_after >= ?1 AND not_after < ?2 GROUP BY 1, 2 ORDER BY 1, 2",
         "SELECT (not_after - ?1::bigint) / 604800, profile, count(*) FROM certificates "
         "WHERE status = 'valid' AND not_after >= ?1::bigint AND not_after < ?2::bigint "
         "GROUP BY 1, 2 ORDER BY 1, 2"},
};

/* Steps st (bound) and reads its rows (week, profile, count) into *out. */
static iotca_rc weekly_rows(iotca_store *s, db_stmt *st, iotca_week_count **out, size_t *n) {
    iotca_rc rc = IOTCA_OK;
    iotca_week_count *v = NULL;
    size_t len = 0, cap = 0;
    enum db_step_rc e;
    while ((e = db_step(st)) == DB_ROW) {
        IOTCA_CHECK(len < MAX_ROWS, IOTCA_E_USAGE, "more than %d weekly counts: ask for fewer weeks", MAX_ROWS);
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            iotca_week_count *nv = realloc(v, ncap * sizeof *v);
            IOTCA_CHECK(nv != NULL, IOTCA_E_INTERNAL, "out of memory counting by week");
            v = nv;
            cap = ncap;
        }
        iotca_week_count *c = &v[len++];
        memset(c, 0, sizeof *c);
        int64_t w = db_col_int64(st, 0);
        c->week = w < 0 ? 0 : (size_t)w;
        db_col_text_cut(st, 1, c->profile, sizeof c->profile);
        c->n = (unsigned long)db_col_int64(st, 2);
    }
    if (e != DB_DONE) {
        rc = db_fail(s, "counting by week");
        goto out;
    }
    *out = v;
    *n = len;
    v = NULL;
out:
    free(v);
    return rc;
}

static iotca_rc check_window(iotca_store *s, time_t since, size_t weeks, iotca_week_count **out, size_t *n) {
    IOTCA_ENSURE(s != NULL && out != NULL && n != NULL, IOTCA_E_USAGE, "weekly counts: NULL argument");
    *out = NULL;
    *n = 0;
    IOTCA_ENSURE(weeks >= 1 && weeks <= 5000, IOTCA_E_USAGE, "weeks must be 1 to 5000, not %zu", weeks);
    IOTCA_ENSURE(since >= 0, IOTCA_E_USAGE, "weekly counts from before 1970");
    return IOTCA_OK;
}

iotca_rc iotca_store_weekly(iotca_store *s, iotca_weekly what, time_t since, size_t weeks, iotca_week_count **out,
                            size_t *n) {
    IOTCA_GUARD(check_window(s, since, weeks, out, n));
    IOTCA_ENSURE((unsigned)what <= IOTCA_WEEKLY_EXPIRING, IOTCA_E_USAGE, "unknown weekly count %d", (int)what);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, weekly_sql[what].id, db_sql(s, weekly_sql[what].lite, weekly_sql[what].pg),
                            "counting by week", &st));
    iotca_rc rc = db_bind_int64(st, 1, since) && db_bind_int64(st, 2, (int64_t)since + (int64_t)weeks * WEEK)
                      ? weekly_rows(s, st, out, n)
                      : db_fail(s, "counting by week");
    db_done(st);
    return rc;
}

/* ?1 the start, ?2 its end, ?3 the outcome pattern, ?4..?11 the action patterns (NULL: none) */
#define AUDIT_WHERE                                                                                                    \
    "WHERE at >= ?1 AND at < ?2 AND outcome LIKE ?3 AND (action LIKE ?4 OR action LIKE ?5 OR action LIKE ?6 OR "       \
    "action LIKE ?7 OR action LIKE ?8 OR action LIKE ?9 OR action LIKE ?10 OR action LIKE ?11) GROUP BY 1 ORDER BY 1"

iotca_rc iotca_store_weekly_audit(iotca_store *s, time_t since, size_t weeks, const char *const *actions,
                                  const char *outcome, iotca_week_count **out, size_t *n) {
    IOTCA_GUARD(check_window(s, since, weeks, out, n));
    size_t na = 0;
    while (actions && actions[na]) na++;
    IOTCA_ENSURE(na >= 1 && na <= IOTCA_STORE_AUDIT_PATTERNS && outcome != NULL, IOTCA_E_USAGE,
                 "weekly audit counts need an outcome and 1 to %d action patterns, not %zu", IOTCA_STORE_AUDIT_PATTERNS,
                 na);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_WEEKS_AUDIT,
                            db_sql(s, "SELECT (at - ?1) / 604800, '', count(*) FROM audit " AUDIT_WHERE,
                                   "SELECT (at - ?1::bigint) / 604800, '', count(*) FROM audit "
                                   "WHERE at >= ?1::bigint AND at < ?2::bigint AND outcome LIKE ?3::text AND ("
                                   "action LIKE ?4::text OR action LIKE ?5::text OR action LIKE ?6::text OR "
                                   "action LIKE ?7::text OR action LIKE ?8::text OR action LIKE ?9::text OR "
                                   "action LIKE ?10::text OR action LIKE ?11::text) GROUP BY 1 ORDER BY 1"),
                            "counting audit records by week", &st));
    bool bound = db_bind_int64(st, 1, since) && db_bind_int64(st, 2, (int64_t)since + (int64_t)weeks * WEEK) &&
                 db_bind_text(st, 3, outcome);
    for (size_t i = 0; i < IOTCA_STORE_AUDIT_PATTERNS; i++) /* the unused slots: NULL, which LIKE never matches */
        bound = bound && db_bind_text(st, 4 + (int)i, i < na ? actions[i] : NULL);
    iotca_rc rc = bound ? weekly_rows(s, st, out, n) : db_fail(s, "counting audit records by week");
    db_done(st);
    return rc;
}
