/* How ACME objects change status in the store (RFC 8555 §7.1.6): each change a compare-and-set (UPDATE ... WHERE
 * status = the expected one), and what follows from it (a challenge's result for its authorization and order) in
 * the same transaction; and the tick's cleanup of what expired. */
#include <string.h>

#include "acme_int.h"

#define ST(x) iotca_acme_status_name(x)

iotca_rc iotca_store_acme_order_transition(iotca_store *s, int64_t id, iotca_acme_status from, iotca_acme_status to,
                                           const char *error, const char *serial) {
    IOTCA_ENSURE(s, IOTCA_E_USAGE, "iotca_store_acme_order_transition: NULL store");
    IOTCA_ENSURE(error == NULL || strlen(error) < 1024, IOTCA_E_USAGE, "an order's error is under 1024 bytes");
    if (serial && serial[0]) IOTCA_GUARD(iotca_sq_check_serial(serial));
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ORDER_SET,
                              "UPDATE acme_orders SET status = ?3, error = coalesce(?4, error), "
                              "serial = coalesce(?5, serial) WHERE id = ?1 AND status = ?2",
                              "changing an ACME order", &st));
    if (!db_bind_int64(st, 1, id) || !db_bind_text(st, 2, ST(from)) ||
        !db_bind_text(st, 3, ST(to)) ||
        !acme_bind_text_or_null(st, 4, error) || !acme_bind_text_or_null(st, 5, serial)) {
        db_done(st);
        return db_fail(s, "changing ACME order %lld", (long long)id);
    }
    IOTCA_GUARD(acme_step_done(s, st, "changing an ACME order"));
    if (db_changes(st) == 1) return IOTCA_OK;
    iotca_acme_order_rec o;
    IOTCA_GUARD(iotca_store_acme_order_get(s, id, &o));
    iotca_acme_status now = o.status;
    iotca_acme_order_rec_free(&o);
    IOTCA_BAIL(IOTCA_E_POLICY, "order %lld is %s, not %s", (long long)id, ST(now), ST(from));
}

/* Sets an authorization's status from one of the statuses in `from` (a bit set of 1 << status). */
static iotca_rc authz_set(iotca_store *s, int64_t id, unsigned from, iotca_acme_status to) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_AUTHZ_SET,
                              "UPDATE acme_authzs SET status = ?2 WHERE id = ?1 AND status IN (?3, ?4)",
                              "changing an ACME authorization", &st));
    const char *a = NULL, *b = NULL;
    for (int i = 0; i < 8; i++)
        if (from & (1u << i)) *(a ? &b : &a) = ST((iotca_acme_status)i);
    if (!db_bind_int64(st, 1, id) || !db_bind_text(st, 2, ST(to)) ||
        !db_bind_text(st, 3, a ? a : "") ||
        !db_bind_text(st, 4, b ? b : "")) {
        db_done(st);
        return db_fail(s, "changing ACME authorization %lld", (long long)id);
    }
    IOTCA_GUARD(acme_step_done(s, st, "changing an ACME authorization"));
    IOTCA_ENSURE(db_changes(st) == 1, IOTCA_E_POLICY, "authorization %lld cannot become %s", (long long)id,
                 ST(to));
    return IOTCA_OK;
}

/* After an authorization of order_id changed: the order becomes ready once every authorization is valid, invalid
 * (with error) once one is neither pending nor valid. An order no longer pending is left as it is. */
static iotca_rc settle_order(iotca_store *s, int64_t order_id, const char *error) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ORDER_SETTLE,
                              "UPDATE acme_orders SET status = CASE "
                              "WHEN EXISTS (SELECT 1 FROM acme_authzs WHERE order_id = ?1 AND status NOT IN ('pending', 'valid')) "
                              "THEN 'invalid' "
                              "WHEN NOT EXISTS (SELECT 1 FROM acme_authzs WHERE order_id = ?1 AND status <> 'valid') "
                              "THEN 'ready' ELSE status END, "
                              "error = CASE WHEN EXISTS (SELECT 1 FROM acme_authzs WHERE order_id = ?1 AND status NOT IN "
                              "('pending', 'valid')) THEN coalesce(?2, error) ELSE error END "
                              "WHERE id = ?1 AND status = 'pending'",
                              "settling an ACME order", &st));
    if (!db_bind_int64(st, 1, order_id) || !acme_bind_text_or_null(st, 2, error)) {
        db_done(st);
        return db_fail(s, "settling ACME order %lld", (long long)order_id);
    }
    return acme_step_done(s, st, "settling an ACME order");
}

iotca_rc iotca_store_acme_authz_deactivate(iotca_store *s, int64_t id) {
    IOTCA_ENSURE(s, IOTCA_E_USAGE, "iotca_store_acme_authz_deactivate: NULL store");
    iotca_acme_authz_rec a;
    IOTCA_GUARD(iotca_store_acme_authz_get(s, id, &a));
    bool own;
    IOTCA_GUARD(acme_begin(s, &own, "deactivating an ACME authorization"));
    iotca_rc rc = authz_set(s, id, 1u << IOTCA_ACME_PENDING | 1u << IOTCA_ACME_VALID, IOTCA_ACME_DEACTIVATED);
    if (rc == IOTCA_OK) rc = settle_order(s, a.order_id, "{\"type\":\"urn:ietf:params:acme:error:unauthorized\","
                                                          "\"detail\":\"an authorization was deactivated\"}");
    /* a ready order loses the authorization it stood on */
    if (rc == IOTCA_OK) {
        iotca_rc r2 = iotca_store_acme_order_transition(s, a.order_id, IOTCA_ACME_READY, IOTCA_ACME_INVALID,
                                                        "{\"type\":\"urn:ietf:params:acme:error:unauthorized\","
                                                        "\"detail\":\"an authorization was deactivated\"}",
                                                        NULL);
        if (r2 != IOTCA_OK && r2 != IOTCA_E_POLICY) rc = r2;
    }
    return acme_end(s, own, rc, "deactivating an ACME authorization");
}

/* Sets a challenge from `from` to `to` (with the time and error of a result). */
static iotca_rc challenge_set(iotca_store *s, int64_t id, iotca_acme_status from, iotca_acme_status to, time_t at,
                              const char *error) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_CHALLENGE_SET,
                              "UPDATE acme_challenges SET status = ?3, validated_at = coalesce(?4, validated_at), "
                              "error = coalesce(?5, error) WHERE id = ?1 AND status = ?2",
                              "changing an ACME challenge", &st));
    if (!db_bind_int64(st, 1, id) || !db_bind_text(st, 2, ST(from)) ||
        !db_bind_text(st, 3, ST(to)) ||
        !(at ? db_bind_int64(st, 4, at) : db_bind_null(st, 4)) ||
        !acme_bind_text_or_null(st, 5, error)) {
        db_done(st);
        return db_fail(s, "changing ACME challenge %lld", (long long)id);
    }
    IOTCA_GUARD(acme_step_done(s, st, "changing an ACME challenge"));
    IOTCA_ENSURE(db_changes(st) == 1, IOTCA_E_POLICY, "challenge %lld is not %s", (long long)id, ST(from));
    return IOTCA_OK;
}

iotca_rc iotca_store_acme_challenge_start(iotca_store *s, int64_t id, time_t now) {
    IOTCA_ENSURE(s, IOTCA_E_USAGE, "iotca_store_acme_challenge_start: NULL store");
    iotca_acme_challenge_rec c;
    IOTCA_GUARD(iotca_store_acme_challenge_get(s, id, &c));
    iotca_acme_authz_rec a;
    IOTCA_GUARD(iotca_store_acme_authz_get(s, c.authz_id, &a));
    IOTCA_ENSURE(a.status == IOTCA_ACME_PENDING, IOTCA_E_POLICY, "authorization %lld is %s", (long long)a.id,
                 ST(a.status));
    IOTCA_ENSURE(a.expires_at > now, IOTCA_E_POLICY, "authorization %lld has expired", (long long)a.id);
    return challenge_set(s, id, IOTCA_ACME_PENDING, IOTCA_ACME_PROCESSING, 0, NULL);
}

iotca_rc iotca_store_acme_challenge_finish(iotca_store *s, int64_t id, bool ok, const char *error, time_t at) {
    IOTCA_ENSURE(s, IOTCA_E_USAGE, "iotca_store_acme_challenge_finish: NULL store");
    IOTCA_ENSURE(error == NULL || strlen(error) < 1024, IOTCA_E_USAGE, "a challenge's error is under 1024 bytes");
    iotca_acme_challenge_rec c;
    IOTCA_GUARD(iotca_store_acme_challenge_get(s, id, &c));
    iotca_acme_authz_rec a;
    IOTCA_GUARD(iotca_store_acme_authz_get(s, c.authz_id, &a));
    bool own;
    IOTCA_GUARD(acme_begin(s, &own, "recording a validation"));
    iotca_acme_status to = ok ? IOTCA_ACME_VALID : IOTCA_ACME_INVALID;
    iotca_rc rc = challenge_set(s, id, IOTCA_ACME_PROCESSING, to, at, ok ? NULL : error);
    /* the authorization follows if it still waits (a deactivated or expired one stays as it is) */
    if (rc == IOTCA_OK) {
        iotca_rc r2 = authz_set(s, a.id, 1u << IOTCA_ACME_PENDING, to);
        if (r2 != IOTCA_OK && r2 != IOTCA_E_POLICY) rc = r2;
    }
    if (rc == IOTCA_OK) rc = settle_order(s, a.order_id, ok ? NULL : error);
    return acme_end(s, own, rc, "recording a validation");
}

/* Runs one cleanup statement binding ?1 = now and ?2 = now - keep; adds the rows it changed to *changed. */
static iotca_rc prune_step(iotca_store *s, const char *sql, time_t now, time_t keep, size_t *changed) {
    int64_t n = 0;
    /* the tick runs these once a cycle: run once each time, not worth a cache slot each */
    IOTCA_GUARD(db_exec_2(s, sql, now, now - keep, "cleaning up ACME state", &n));
    *changed += (size_t)n;
    return IOTCA_OK;
}

iotca_rc iotca_store_acme_prune(iotca_store *s, time_t now, time_t keep, size_t *changed) {
    IOTCA_ENSURE(s && changed && keep >= 0, IOTCA_E_USAGE, "iotca_store_acme_prune: bad argument");
    *changed = 0;
    static const char *const steps[] = {
        "DELETE FROM acme_nonces WHERE expires_at <= ?1 AND ?2 = ?2",
        "UPDATE acme_authzs SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?1 AND ?2 = ?2",
        ("UPDATE acme_orders SET status = 'invalid', error = '{\"type\":\"urn:ietf:params:acme:error:malformed\","
         "\"detail\":\"the order expired\"}' WHERE status IN ('pending', 'ready') AND expires_at <= ?1 AND ?2 = ?2"),
        /* authorizations and challenges go with their order (ON DELETE CASCADE) */
        "DELETE FROM acme_orders WHERE status IN ('valid', 'invalid') AND expires_at <= ?2 AND ?1 = ?1",
    };
    bool own;
    IOTCA_GUARD(acme_begin(s, &own, "cleaning up ACME state"));
    iotca_rc rc = IOTCA_OK;
    for (size_t i = 0; rc == IOTCA_OK && i < sizeof steps / sizeof steps[0]; i++)
        rc = prune_step(s, steps[i], now, keep, changed);
    return acme_end(s, own, rc, "cleaning up ACME state");
}
