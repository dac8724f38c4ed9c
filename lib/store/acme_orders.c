/* The store's ACME orders, authorizations and challenges (store_acme.h): made together in one transaction, and
 * moved through RFC 8555 §7.1.6's statuses by compare-and-set, the consequences (authorization, order) in the same
 * transaction as the cause (a challenge's result). */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

#define ST(x) iotca_acme_status_name(x)

static iotca_rc add_challenge(iotca_store *s, iotca_acme_challenge_rec *c, int64_t authz_id) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_CHALLENGE_ADD,
                              "INSERT INTO acme_challenges (authz_id, type, token, status) VALUES (?1, ?2, ?3, 'pending') "
                              "RETURNING id",
                              "adding an ACME challenge", &st));
    enum db_step_rc e = db_bind_int64(st, 1, authz_id) &&
                    db_bind_text(st, 2, iotca_acme_challenge_type_name(c->type)) &&
                    db_bind_text(st, 3, c->token)
                ? db_step(st)
                : DB_FAILED;
    int64_t id = e == DB_ROW ? db_col_int64(st, 0) : 0;
    if (e == DB_ROW) e = db_step(st);
    db_done(st);
    IOTCA_ENSURE(e != DB_UNIQUE, IOTCA_E_POLICY, "a challenge token is in use already");
    if (e != DB_DONE) return db_fail(s, "adding an ACME challenge");
    c->id = id;
    c->authz_id = authz_id;
    c->status = IOTCA_ACME_PENDING;
    return IOTCA_OK;
}

static iotca_rc add_authz(iotca_store *s, iotca_acme_authz_rec *a, int64_t order_id) {
    IOTCA_ENSURE(iotca_sq_fits(a->type, sizeof a->type) && (!strcmp(a->type, "dns") || !strcmp(a->type, "ip")) &&
                     a->value[0] && iotca_sq_fits(a->value, sizeof a->value) && a->n_challenges >= 1 &&
                     a->n_challenges <= IOTCA_ACME_MAX_CHALLENGES,
                 IOTCA_E_USAGE, "an authorization needs a dns or ip identifier and 1 to %d challenges",
                 IOTCA_ACME_MAX_CHALLENGES);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_AUTHZ_ADD,
                              "INSERT INTO acme_authzs (order_id, type, value, wildcard, status, expires_at) "
                              "VALUES (?1, ?2, ?3, ?4, 'pending', ?5) RETURNING id",
                              "adding an ACME authorization", &st));
    enum db_step_rc e = db_bind_int64(st, 1, order_id) &&
                    db_bind_text(st, 2, a->type) &&
                    db_bind_text(st, 3, a->value) &&
                    db_bind_int64(st, 4, a->wildcard) &&
                    db_bind_int64(st, 5, a->expires_at)
                ? db_step(st)
                : DB_FAILED;
    int64_t id = e == DB_ROW ? db_col_int64(st, 0) : 0;
    if (e == DB_ROW) e = db_step(st);
    db_done(st);
    if (e != DB_DONE) return db_fail(s, "adding an ACME authorization");
    a->id = id;
    a->order_id = order_id;
    a->status = IOTCA_ACME_PENDING;
    for (size_t i = 0; i < a->n_challenges; i++) IOTCA_GUARD(add_challenge(s, &a->challenges[i], a->id));
    return IOTCA_OK;
}

static iotca_rc insert_order(iotca_store *s, iotca_acme_order_rec *o) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ORDER_ADD,
                              "INSERT INTO acme_orders (account_id, profile, status, identifiers, not_before, not_after, "
                              "expires_at, replaces, created_at) VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7, ?8) "
                              "RETURNING id",
                              "adding an ACME order", &st));
    enum db_step_rc e = db_bind_int64(st, 1, o->account_id) &&
                    db_bind_text(st, 2, o->profile) &&
                    db_bind_text(st, 3, o->identifiers) &&
                    (o->not_before ? db_bind_int64(st, 4, o->not_before) : db_bind_null(st, 4)) &&
                    (o->not_after ? db_bind_int64(st, 5, o->not_after) : db_bind_null(st, 5)) &&
                    db_bind_int64(st, 6, o->expires_at) &&
                    acme_bind_text_or_null(st, 7, o->replaces) &&
                    db_bind_int64(st, 8, o->created_at)
                ? db_step(st)
                : DB_FAILED;
    int64_t id = e == DB_ROW ? db_col_int64(st, 0) : 0;
    if (e == DB_ROW) e = db_step(st);
    db_done(st);
    IOTCA_ENSURE(e != DB_FOREIGN_KEY, IOTCA_E_USAGE, "no such account");
    if (e != DB_DONE) return db_fail(s, "adding an ACME order");
    o->id = id;
    o->status = IOTCA_ACME_PENDING;
    return IOTCA_OK;
}

iotca_rc iotca_store_acme_order_add(iotca_store *s, iotca_acme_order_rec *o, iotca_acme_authz_rec *authz, size_t n) {
    IOTCA_ENSURE(s && o && o->identifiers && o->profile[0] && iotca_sq_fits(o->profile, sizeof o->profile) &&
                     iotca_sq_fits(o->replaces, sizeof o->replaces) && (n == 0 || authz),
                 IOTCA_E_USAGE, "an ACME order needs an account, a profile and identifiers");
    bool own;
    IOTCA_GUARD(acme_begin(s, &own, "adding an ACME order"));
    iotca_rc rc = insert_order(s, o);
    for (size_t i = 0; rc == IOTCA_OK && i < n; i++) rc = add_authz(s, &authz[i], o->id);
    if (rc != IOTCA_OK) o->id = 0;
    return acme_end(s, own, rc, "adding an ACME order");
}

#define ORDER_COLUMNS                                                                                                  \
    "id, account_id, profile, status, identifiers, not_before, not_after, expires_at, created_at, error, serial, "      \
    "replaces"

static iotca_rc order_row(db_stmt *st, void *rec) {
    iotca_acme_order_rec *o = rec;
    o->id = db_col_int64(st, 0);
    o->account_id = db_col_int64(st, 1);
    IOTCA_GUARD(db_col_text(st, 2, o->profile, sizeof o->profile, "order profile"));
    char status[16];
    IOTCA_GUARD(db_col_text(st, 3, status, sizeof status, "order status"));
    IOTCA_ENSURE(iotca_acme_status_parse(status, &o->status), IOTCA_E_STORAGE, "order status %s", status);
    iotca_buf ids = {0};
    IOTCA_GUARD(db_col_text_buf(st, 4, &ids));
    o->identifiers = ids.len ? strndup((const char *)ids.data, ids.len) : strdup("[]");
    iotca_buf_free(&ids);
    IOTCA_ENSURE(o->identifiers != NULL, IOTCA_E_INTERNAL, "out of memory loading an order");
    o->not_before = (time_t)db_col_int64(st, 5);
    o->not_after = (time_t)db_col_int64(st, 6);
    o->expires_at = (time_t)db_col_int64(st, 7);
    o->created_at = (time_t)db_col_int64(st, 8);
    IOTCA_GUARD(db_col_text(st, 9, o->error, sizeof o->error, "order error"));
    IOTCA_GUARD(db_col_text(st, 10, o->serial, sizeof o->serial, "order serial"));
    IOTCA_GUARD(db_col_text(st, 11, o->replaces, sizeof o->replaces, "order replaces"));
    return IOTCA_OK;
}

iotca_rc iotca_store_acme_order_get(iotca_store *s, int64_t id, iotca_acme_order_rec *o) {
    IOTCA_ENSURE(s && o, IOTCA_E_USAGE, "iotca_store_acme_order_get: NULL argument");
    memset(o, 0, sizeof *o);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ORDER_GET, "SELECT " ORDER_COLUMNS " FROM acme_orders WHERE id = ?1",
                              "loading an ACME order", &st));
    iotca_rc rc = acme_one_row(s, st, db_bind_int64(st, 1, id), order_row, o, "no such order",
                               "loading an ACME order");
    if (rc != IOTCA_OK) iotca_acme_order_rec_free(o);
    return rc;
}

static iotca_rc challenge_row(db_stmt *st, void *rec) {
    iotca_acme_challenge_rec *c = rec;
    c->id = db_col_int64(st, 0);
    c->authz_id = db_col_int64(st, 1);
    char type[16], status[16];
    IOTCA_GUARD(db_col_text(st, 2, type, sizeof type, "challenge type"));
    IOTCA_ENSURE(iotca_acme_challenge_type_parse(type, &c->type), IOTCA_E_STORAGE, "challenge type %s", type);
    IOTCA_GUARD(db_col_text(st, 3, c->token, sizeof c->token, "challenge token"));
    IOTCA_GUARD(db_col_text(st, 4, status, sizeof status, "challenge status"));
    IOTCA_ENSURE(iotca_acme_status_parse(status, &c->status), IOTCA_E_STORAGE, "challenge status %s", status);
    c->validated_at = (time_t)db_col_int64(st, 5);
    return db_col_text(st, 6, c->error, sizeof c->error, "challenge error");
}

#define CHALLENGE_COLUMNS "id, authz_id, type, token, status, validated_at, error"

/* Loads the challenges of authorization a (a->id set). */
static iotca_rc authz_challenges(iotca_store *s, iotca_acme_authz_rec *a) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_AUTHZ_CHALLENGES,
                              "SELECT " CHALLENGE_COLUMNS " FROM acme_challenges WHERE authz_id = ?1 ORDER BY id",
                              "loading ACME challenges", &st));
    iotca_rc rc = IOTCA_OK;
    enum db_step_rc e = db_bind_int64(st, 1, a->id) ? DB_ROW : DB_FAILED;
    a->n_challenges = 0;
    while (rc == IOTCA_OK && e == DB_ROW && (e = db_step(st)) == DB_ROW) {
        if (a->n_challenges == IOTCA_ACME_MAX_CHALLENGES) {
            rc = iotca_error_set(IOTCA_E_STORAGE, "authorization %lld has too many challenges", (long long)a->id);
            break;
        }
        rc = challenge_row(st, &a->challenges[a->n_challenges++]);
    }
    if (rc == IOTCA_OK && e != DB_DONE) rc = db_fail(s, "loading ACME challenges");
    db_done(st);
    return rc;
}

iotca_rc iotca_store_acme_challenge_get(iotca_store *s, int64_t id, iotca_acme_challenge_rec *c) {
    IOTCA_ENSURE(s && c, IOTCA_E_USAGE, "iotca_store_acme_challenge_get: NULL argument");
    memset(c, 0, sizeof *c);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_CHALLENGE_GET, "SELECT " CHALLENGE_COLUMNS " FROM acme_challenges WHERE id = ?1",
                              "loading an ACME challenge", &st));
    return acme_one_row(s, st, db_bind_int64(st, 1, id), challenge_row, c, "no such challenge",
                        "loading an ACME challenge");
}

#define AUTHZ_COLUMNS "id, order_id, type, value, wildcard, status, expires_at"

static iotca_rc authz_row(db_stmt *st, void *rec) {
    iotca_acme_authz_rec *a = rec;
    a->id = db_col_int64(st, 0);
    a->order_id = db_col_int64(st, 1);
    IOTCA_GUARD(db_col_text(st, 2, a->type, sizeof a->type, "authorization type"));
    IOTCA_GUARD(db_col_text(st, 3, a->value, sizeof a->value, "authorization value"));
    a->wildcard = db_col_int64(st, 4) != 0;
    char status[16];
    IOTCA_GUARD(db_col_text(st, 5, status, sizeof status, "authorization status"));
    IOTCA_ENSURE(iotca_acme_status_parse(status, &a->status), IOTCA_E_STORAGE, "authorization status %s", status);
    a->expires_at = (time_t)db_col_int64(st, 6);
    return IOTCA_OK;
}

iotca_rc iotca_store_acme_authz_get(iotca_store *s, int64_t id, iotca_acme_authz_rec *a) {
    IOTCA_ENSURE(s && a, IOTCA_E_USAGE, "iotca_store_acme_authz_get: NULL argument");
    memset(a, 0, sizeof *a);
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_AUTHZ_GET, "SELECT " AUTHZ_COLUMNS " FROM acme_authzs WHERE id = ?1",
                              "loading an ACME authorization", &st));
    IOTCA_GUARD(acme_one_row(s, st, db_bind_int64(st, 1, id), authz_row, a, "no such authorization",
                             "loading an ACME authorization"));
    return authz_challenges(s, a);
}

iotca_rc iotca_store_acme_order_authzs(iotca_store *s, int64_t order_id, iotca_acme_authz_rec **out, size_t *n) {
    IOTCA_ENSURE(s && out && n, IOTCA_E_USAGE, "iotca_store_acme_order_authzs: NULL argument");
    *out = NULL;
    *n = 0;
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_ORDER_AUTHZS,
                              "SELECT " AUTHZ_COLUMNS " FROM acme_authzs WHERE order_id = ?1 ORDER BY id",
                              "loading an order's authorizations", &st));
    iotca_rc rc = IOTCA_OK;
    size_t cap = 0;
    enum db_step_rc e = db_bind_int64(st, 1, order_id) ? DB_ROW : DB_FAILED;
    while (rc == IOTCA_OK && e == DB_ROW && (e = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            iotca_acme_authz_rec *grown = realloc(*out, cap * sizeof **out);
            if (grown == NULL) {
                rc = iotca_error_set(IOTCA_E_INTERNAL, "out of memory loading authorizations");
                break;
            }
            *out = grown;
        }
        memset(&(*out)[*n], 0, sizeof **out);
        rc = authz_row(st, &(*out)[(*n)++]);
    }
    if (rc == IOTCA_OK && e != DB_DONE) rc = db_fail(s, "loading an order's authorizations");
    db_done(st); /* the challenges' statement is another: load them after this one is reset */
    for (size_t i = 0; rc == IOTCA_OK && i < *n; i++) rc = authz_challenges(s, &(*out)[i]);
    if (rc != IOTCA_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

iotca_rc iotca_store_acme_order_list(iotca_store *s, int64_t account_id, size_t max, int64_t **ids, size_t *n) {
    IOTCA_ENSURE(s && ids && n && max > 0, IOTCA_E_USAGE, "iotca_store_acme_order_list: bad argument");
    *ids = calloc(max, sizeof **ids);
    *n = 0;
    IOTCA_ENSURE(*ids != NULL, IOTCA_E_INTERNAL, "out of memory listing orders");
    db_stmt *st;
    iotca_rc rc = db_stmt_get(s, SQ_ACME_ORDER_LIST,
                                "SELECT id FROM acme_orders WHERE account_id = ?1 ORDER BY id DESC LIMIT ?2",
                                "listing an account's orders", &st);
    if (rc == IOTCA_OK) {
        enum db_step_rc e = db_bind_int64(st, 1, account_id) &&
                        db_bind_int64(st, 2, max)
                    ? DB_ROW
                    : DB_FAILED;
        while (e == DB_ROW && (e = db_step(st)) == DB_ROW) (*ids)[(*n)++] = db_col_int64(st, 0);
        if (e != DB_DONE) rc = db_fail(s, "listing an account's orders");
        db_done(st);
    }
    if (rc != IOTCA_OK) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

iotca_rc iotca_store_acme_serial_account(iotca_store *s, const char *serial, int64_t *account_id, int64_t *order_id) {
    IOTCA_ENSURE(s && account_id, IOTCA_E_USAGE, "iotca_store_acme_serial_account: NULL argument");
    IOTCA_GUARD(iotca_sq_check_serial(serial));
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_SERIAL_ACCOUNT, "SELECT account_id, id FROM acme_orders WHERE serial = ?1",
                              "finding the ACME order of a certificate", &st));
    enum db_step_rc e = db_bind_text(st, 1, serial) ? db_step(st) : DB_FAILED;
    iotca_rc rc = e == DB_ROW    ? IOTCA_OK
                  : e == DB_DONE ? iotca_error_set(IOTCA_E_USAGE, "no ACME order made certificate %s", serial)
                                     : db_fail(s, "finding the ACME order of certificate %s", serial);
    if (rc == IOTCA_OK) *account_id = db_col_int64(st, 0);
    if (rc == IOTCA_OK && order_id) *order_id = db_col_int64(st, 1);
    db_done(st);
    return rc;
}

iotca_rc iotca_store_acme_replaced(iotca_store *s, const char *replaces, size_t *n) {
    IOTCA_ENSURE(s && replaces && n, IOTCA_E_USAGE, "iotca_store_acme_replaced: NULL argument");
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_ACME_REPLACED, "SELECT count(*) FROM acme_orders WHERE replaces = ?1",
                              "counting the orders that replace a certificate", &st));
    enum db_step_rc e = db_bind_text(st, 1, replaces) ? db_step(st) : DB_FAILED;
    iotca_rc rc = e == DB_ROW ? IOTCA_OK : db_fail(s, "counting the orders that replace a certificate");
    if (rc == IOTCA_OK) *n = (size_t)db_col_int64(st, 0);
    db_done(st);
    return rc;
}
