/* The audit trail: append-only, hash-chained records of every state change and refusal. */
#include <stdio.h>
#include <string.h>

#include "db.h"

iotca_rc iotca_audit_canonical(const iotca_audit_rec *r, iotca_buf *out) {
    /* length-prefixed fields: no separator can be forged inside a value */
    const char *f[] = {r->actor, r->action, r->subject, r->request_id, r->outcome, r->detail};
    IOTCA_GUARD(iotca_buf_printf(out, "iotca-audit-v1|%lld|%lld|", (long long)r->seq, (long long)r->at));
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) IOTCA_GUARD(iotca_buf_printf(out, "%zu:%s|", strlen(f[i]), f[i]));
    return iotca_buf_append(out, r->prev, sizeof r->prev);
}

iotca_rc iotca_store_audit_append(iotca_store *s, iotca_audit_rec *r, iotca_hash_fn hash) {
    db_stmt *last, *ins;
    IOTCA_GUARD(db_stmt_get(s, SQ_AUDIT_LAST, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                              "reading the audit head", &last));
    IOTCA_GUARD(db_stmt_get(s, SQ_AUDIT_INSERT,
                              "INSERT INTO audit (seq, at, actor, action, subject, request_id, outcome, detail, prev, hash) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                              "appending to the audit trail", &ins));
    /* inside a group commit the transaction is already open: join it */
    bool own = !db_in_transaction(s);
    if (own) IOTCA_GUARD(iotca_sq_begin(s, "appending to the audit trail"));
    iotca_rc rc = IOTCA_OK;
    iotca_buf canon = {0};
    /* PostgreSQL (issue 25): replicas append at once, and each reads the head before it writes the next link;
     * a transaction-scoped advisory lock makes them take turns (one would otherwise fail on the seq's key, and
     * with it the whole batch of a group commit). SQLite has one writer at a time already. */
    if (db_is_pg(s)) rc = db_exec(s, "SELECT pg_advisory_xact_lock(7460116)", "waiting for the audit trail's head");
    memset(r->prev, 0, sizeof r->prev);
    r->seq = 1;
    int step = rc == IOTCA_OK ? db_step(last) : DB_DONE;
    if (step == DB_ROW) {
        r->seq = db_col_int64(last, 0) + 1;
        if (!db_col_fixed(last, 1, r->prev, sizeof r->prev)) memset(r->prev, 0, sizeof r->prev);
    } else if (step != DB_DONE) {
        rc = db_fail(s, "reading the audit head");
    }
    db_done(last);
    if (rc == IOTCA_OK) rc = iotca_audit_canonical(r, &canon);
    if (rc == IOTCA_OK) {
        hash(iotca_buf_slice(&canon), r->hash);
        db_bind_int64(ins, 1, r->seq);
        db_bind_int64(ins, 2, r->at);
        db_bind_text(ins, 3, r->actor);
        db_bind_text(ins, 4, r->action);
        db_bind_text(ins, 5, r->subject);
        db_bind_text(ins, 6, r->request_id);
        db_bind_text(ins, 7, r->outcome);
        db_bind_text(ins, 8, r->detail);
        db_bind_blob(ins, 9, r->prev, sizeof r->prev);
        db_bind_blob(ins, 10, r->hash, sizeof r->hash);
        if (db_step(ins) != DB_DONE) rc = db_fail(s, "appending audit record %lld", (long long)r->seq);
        db_done(ins);
    }
    iotca_buf_free(&canon);
    if (!own) return rc;
    if (rc == IOTCA_OK) return iotca_sq_commit(s, "appending to the audit trail");
    iotca_sq_rollback(s);
    return rc;
}

iotca_rc iotca_store_audit_each(iotca_store *s, iotca_rc (*fn)(void *ctx, const iotca_audit_rec *r), void *ctx) {
    db_stmt *st;
    IOTCA_GUARD(db_stmt_get(s, SQ_AUDIT_ALL,
                              "SELECT seq, at, actor, action, subject, request_id, outcome, detail, prev, hash "
                              "FROM audit ORDER BY seq",
                              "reading the audit trail", &st));
    iotca_rc rc = IOTCA_OK;
    int step = DB_DONE;
    while (rc == IOTCA_OK && (step = db_step(st)) == DB_ROW) {
        iotca_audit_rec r;
        memset(&r, 0, sizeof r);
        r.seq = db_col_int64(st, 0);
        r.at = (time_t)db_col_int64(st, 1);
        rc = db_col_text(st, 2, r.actor, sizeof r.actor, "audit actor");
        if (rc == IOTCA_OK) rc = db_col_text(st, 3, r.action, sizeof r.action, "audit action");
        if (rc == IOTCA_OK) rc = db_col_text(st, 4, r.subject, sizeof r.subject, "audit subject");
        if (rc == IOTCA_OK) rc = db_col_text(st, 5, r.request_id, sizeof r.request_id, "audit request id");
        if (rc == IOTCA_OK) rc = db_col_text(st, 6, r.outcome, sizeof r.outcome, "audit outcome");
        if (rc == IOTCA_OK) rc = db_col_text(st, 7, r.detail, sizeof r.detail, "audit detail");
        if (rc == IOTCA_OK && (!db_col_fixed(st, 8, r.prev, sizeof r.prev) || !db_col_fixed(st, 9, r.hash, sizeof r.hash)))
            rc = iotca_error_set(IOTCA_E_PARSE, "audit record %lld has malformed hashes", (long long)r.seq);
        if (rc == IOTCA_OK) rc = fn(ctx, &r);
    }
    if (rc == IOTCA_OK && step != DB_DONE) rc = db_fail(s, "reading the audit trail");
    db_done(st);
    return rc;
}
