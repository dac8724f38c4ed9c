/* The dashboard's counts over time (issue 27): certificates issued, revoked and expiring, and issuance refused,
 * per week, counted by the database. */
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
    /* the audit trail's action is "<method> <path>" (server/http/audit.c) and its outcome the status answered */
    [IOTCA_WEEKLY_REFUSED] =
        {SQ_WEEKS_REFUSED,
         "SELECT (at - ?1) / 604800, '', count(*) FROM audit WHERE at >= ?1 AND at < ?2 "
         "AND outcome LIKE '4%' AND (action = 'POST /v1/certificates' OR action = 'POST /v1/bridges' "
         "OR action = 'POST /v1/certificates/bridge' OR action LIKE 'POST /v1/certificates/%/renew' "
         "OR action LIKE 'POST /.well-known/est/%' OR action LIKE 'POST /acme/%/finalize') "
         "GROUP BY 1 ORDER BY 1",
         "SELECT (at - ?1::bigint) / 604800, '', count(*) FROM audit WHERE at >= ?1::bigint "
         "AND at < ?2::bigint AND outcome LIKE '4%' AND (action = 'POST /v1/certificates' "
         "OR action = 'POST /v1/bridges' OR action = 'POST /v1/certificates/bridge' "
         "OR action LIKE 'POST /v1/certificates/%/renew' OR action LIKE 'POST /.well-known/est/%' "
         "OR action LIKE 'POST /acme/%/finalize') GROUP BY 1 ORDER BY 1"},
    [IOTCA_WEEKLY_EXPIRING] =
        {SQ_WEEKS_EXPIRING,
         "SELECT (not_after - ?1) / 604800, profile, count(*) FROM certificates "
         "WHERE status = 'valid' AND not_after >= ?1 AND not_after < ?2 GROUP BY 1, 2 ORDER BY 1, 2",
         "SELECT (not_after - ?1::bigint) / 604800, profile, count(*) FROM certificates "
         "WHERE status = 'valid' AND not_after >= ?1::bigint AND not_after < ?2::bigint "
         "GROUP BY 1, 2 ORDER BY 1, 2"},
};

iotca_rc iotca_store_weekly(iotca_store *s, iotca_weekly what, time_t since, size_t weeks, iotca_week_count **out,
                            size_t *n) {
    IOTCA_ENSURE(s != NULL && out != NULL && n != NULL, IOTCA_E_USAGE, "iotca_store_weekly: NULL argument");
    *out = NULL;
    *n = 0;
    IOTCA_ENSURE((unsigned)what <= IOTCA_WEEKLY_EXPIRING, IOTCA_E_USAGE, "unknown weekly count %d", (int)what);
    IOTCA_ENSURE(weeks >= 1 && weeks <= 5000, IOTCA_E_USAGE, "weeks must be 1 to 5000, not %zu", weeks);
    IOTCA_ENSURE(since >= 0, IOTCA_E_USAGE, "weekly counts from before 1970");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, weekly_sql[what].id, db_sql(s, weekly_sql[what].lite, weekly_sql[what].pg),
                            "counting by week", &st));
    iotca_rc rc = IOTCA_OK;
    iotca_week_count *v = NULL;
    size_t len = 0, cap = 0;
    if (!db_bind_int64(st, 1, since) || !db_bind_int64(st, 2, (int64_t)since + (int64_t)weeks * WEEK)) {
        rc = db_fail(s, "counting by week");
        goto out;
    }
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
    db_done(st);
    free(v);
    return rc;
}
