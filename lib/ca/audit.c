/* The audit trail, hashed with SHA-256: who did what, when, under which request id, and what came of it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ca_internal.h"

static void sha256(iotca_slice d, uint8_t out[32]) { iotca_sha256(d, out); }

static void copy(char *dst, size_t n, const char *src) {
    snprintf(dst, n, "%s", src ? src : "");
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' '; /* one line per field, whatever the caller passed */
}

void ca_audit_fill(iotca_audit_rec *r, const char *actor, const char *action, const char *subject,
                   const char *request_id, const char *outcome, const char *detail) {
    memset(r, 0, sizeof *r);
    r->at = time(NULL);
    copy(r->actor, sizeof r->actor, actor);
    copy(r->action, sizeof r->action, action);
    copy(r->subject, sizeof r->subject, subject);
    copy(r->request_id, sizeof r->request_id, request_id);
    copy(r->outcome, sizeof r->outcome, outcome);
    copy(r->detail, sizeof r->detail, detail);
}

iotca_rc ca_audit_append(iotca_store *s, iotca_audit_rec *r) { return iotca_store_audit_append(s, r, sha256); }

static iotca_rc append(iotca_store *s, void *rec) { return ca_audit_append(s, rec); }

iotca_rc iotca_ca_audit(iotca_ca *ca, const char *actor, const char *action, const char *subject,
                        const char *request_id, const char *outcome, const char *detail) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_audit_rec r;
    ca_audit_fill(&r, actor, action, subject, request_id, outcome, detail);
    return iotca_store_group_write(ca->group, s, append, &r); /* shares its fsync with concurrent writes */
}

typedef struct verify_ctx {
    iotca_audit_check *out;
    int64_t expect_seq;
    uint8_t prev[32];
    iotca_audit_visit show; /* audit show: each record, and whether the chain held at it; NULL for verify */
    void *show_ctx;
} verify_ctx;

static iotca_rc verify_one(void *p, const iotca_audit_rec *r) {
    verify_ctx *v = p;
    iotca_audit_check *o = v->out;
    const char *why = NULL;
    uint8_t h[32];
    iotca_buf canon = {0};
    if (r->seq != v->expect_seq) why = "a record is missing before it (sequence gap)";
    else if (memcmp(r->prev, v->prev, 32) != 0) why = "it does not chain to the record before it";
    else if (iotca_audit_canonical(r, &canon) != IOTCA_OK) why = "it cannot be serialised";
    else {
        iotca_sha256(iotca_buf_slice(&canon), h);
        if (memcmp(h, r->hash, 32) != 0) why = "its content does not match its hash (edited)";
    }
    iotca_buf_free(&canon);
    o->records++;
    if (why && o->ok) {
        o->ok = false;
        o->bad_seq = r->seq;
        snprintf(o->reason, sizeof o->reason, "record %lld: %s", (long long)r->seq, why);
    }
    v->expect_seq = r->seq + 1;
    memcpy(v->prev, r->hash, 32);
    if (v->show) v->show(v->show_ctx, r, o->ok ? NULL : o->reason);
    return IOTCA_OK;
}

iotca_rc iotca_ca_audit_verify(iotca_ca *ca, iotca_audit_check *out) {
    memset(out, 0, sizeof *out);
    out->ok = true;
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    verify_ctx v = {out, 1, {0}, NULL, NULL};
    IOTCA_GUARD(iotca_store_audit_each(s, verify_one, &v));
    for (int i = 0; i < 32; i++) snprintf(out->head + 2 * i, 3, "%02x", v.prev[i]);
    return IOTCA_OK;
}

iotca_rc iotca_ca_audit_show(iotca_ca *ca, iotca_audit_visit fn, void *ctx, iotca_audit_check *out) {
    memset(out, 0, sizeof *out);
    out->ok = true;
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    verify_ctx v = {out, 1, {0}, fn, ctx};
    IOTCA_GUARD(iotca_store_audit_each(s, verify_one, &v));
    for (int i = 0; i < 32; i++) snprintf(out->head + 2 * i, 3, "%02x", v.prev[i]);
    return IOTCA_OK;
}
