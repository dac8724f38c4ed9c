/* Trust profiles (SPEC §7), the device trust stores rotation preflight checks: registering one (linted), reading,
 * replacing (linted the same way) and deleting one, each change in the audit trail with what it changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_internal.h"
#include "iotca/fleet.h"

#define MAX_SCHEDULE 16

iotca_rc iotca_ca_trust_profiles(iotca_ca *ca, iotca_trust_profile_rec **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_trust_profile_list(s, out, n);
}

/* A name that fits the record and a URL path segment (GET/PUT/DELETE /v1/trust-profiles/{name}). */
static iotca_rc name_ok(const char *name) {
    IOTCA_ENSURE(name && *name && strlen(name) < 64, IOTCA_E_USAGE, "a trust profile needs a name under 64 characters");
    for (const char *p = name; *p; p++)
        IOTCA_ENSURE((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                         *p == '_' || *p == '.',
                     IOTCA_E_USAGE, "trust profile names use letters, digits, '-', '_' and '.' (it is a URL path segment)");
    return IOTCA_OK;
}

/* The lint's error codes (lib/fleet/lint.c, fleet.h) a registrar may acknowledge. */
static bool lint_code(const char *code) {
    static const char *const codes[] = {"store.not_root", "store.single_root", "store.empty", "root.expires",
                                        "root.weak", "chain.critical_ext", "chain.no_anchor"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0) return true;
    return false;
}

static bool acknowledged(const iotca_trust_profile_req *req, const char *code) {
    for (size_t i = 0; i < req->n_acknowledge; i++)
        if (strcmp(req->acknowledge[i], code) == 0) return true;
    return false;
}

/* The lint of a store at registration, against the CA certificates served now and next (every active and
 * staged issuer), as POST /v1/lint runs it. */
static iotca_rc lint_store(iotca_store *s, const iotca_buf *der, size_t n, iotca_stack st, time_t until,
                           iotca_lint_report *out) {
    iotca_issuer_rec *list = NULL;
    size_t ni = 0, nv = 0;
    IOTCA_GUARD(iotca_store_issuer_list(s, &list, &ni));
    iotca_slice ss[CA_TRUST_STORE_MAX], vs[MAX_SCHEDULE];
    for (size_t i = 0; i < n; i++) ss[i] = iotca_buf_slice(&der[i]);
    for (size_t i = 0; i < ni && nv < MAX_SCHEDULE; i++)
        if ((list[i].state == IOTCA_ISSUER_ACTIVE || list[i].state == IOTCA_ISSUER_STAGED) && list[i].cert.len)
            vs[nv++] = iotca_buf_slice(&list[i].cert);
    iotca_rc rc = iotca_lint_trust_store(ss, n, vs, nv, st, time(NULL), until, out);
    iotca_issuer_recs_free(list, ni);
    return rc;
}

/* The refusal of a store whose lint found errors nobody acknowledged: each named, with what to send. */
static iotca_rc lint_refusal(const iotca_trust_profile_req *req, const iotca_lint_report *lint) {
    char msg[900] = "";
    size_t used = 0;
    for (size_t i = 0; i < lint->n && used < sizeof msg; i++) {
        const iotca_finding *f = &lint->findings[i];
        if (f->severity != IOTCA_LINT_ERROR || acknowledged(req, f->code)) continue;
        int k = snprintf(msg + used, sizeof msg - used, "%s%s: %s", used ? "; " : "", f->code, f->message);
        used += k > 0 ? (size_t)k : 0;
    }
    IOTCA_BAIL(IOTCA_E_POLICY, "trust store lint: %s (to register it all the same, acknowledge the codes)", msg);
}

/* What registering and replacing share: the request checked, its store parsed and linted (every finding into
 * *lint; an error nobody acknowledged refuses it, *lint_refused set), and *r filled (pem borrowed from req). */
static iotca_rc vet(iotca_store *s, const iotca_trust_profile_req *req, iotca_lint_report *lint, bool *lint_refused,
                    iotca_trust_profile_rec *r) {
    memset(lint, 0, sizeof *lint);
    *lint_refused = false;
    iotca_stack st;
    IOTCA_GUARD(iotca_stack_parse(req->stack, &st));
    IOTCA_ENSURE(req->name && *req->name && strlen(req->name) < 64, IOTCA_E_USAGE,
                 "a trust profile needs a name under 64 characters");
    IOTCA_ENSURE(req->pem != NULL, IOTCA_E_USAGE, "a trust profile needs a trust store");
    IOTCA_ENSURE(req->until > time(NULL), IOTCA_E_USAGE, "the end of life must be in the future");
    for (size_t i = 0; i < req->n_acknowledge; i++)
        IOTCA_ENSURE(lint_code(req->acknowledge[i]), IOTCA_E_USAGE,
                     "acknowledge: '%.64s' is not a trust-store lint error code", req->acknowledge[i]);
    iotca_buf der[CA_TRUST_STORE_MAX] = {{0}};
    size_t n = 0;
    iotca_rc rc = ca_trust_store_certs(req->pem, strlen(req->pem), der, &n);
    for (size_t i = 0; i < n && rc == IOTCA_OK; i++) { /* every certificate must parse */
        iotca_cert *c = NULL;
        rc = iotca_cert_parse(iotca_buf_slice(&der[i]), &c);
        if (rc != IOTCA_OK) rc = iotca_error_set(rc, "trust store certificate %zu: %s", i + 1, iotca_error_detail());
        iotca_cert_free(c);
    }
    if (rc == IOTCA_OK) rc = lint_store(s, der, n, st, req->until, lint);
    for (size_t i = 0; i < n; i++) iotca_buf_free(&der[i]);
    IOTCA_GUARD(rc);
    bool open = false; /* an error finding nobody acknowledged */
    for (size_t i = 0; i < lint->n; i++)
        open = open || (lint->findings[i].severity == IOTCA_LINT_ERROR && !acknowledged(req, lint->findings[i].code));
    if (open) {
        *lint_refused = true;
        return lint_refusal(req, lint);
    }
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", req->name);
    snprintf(r->stack, sizeof r->stack, "%s", iotca_stack_name(st));
    r->until = req->until;
    r->created_at = time(NULL);
    r->pem = iotca_buf_borrow((const uint8_t *)req->pem, strlen(req->pem));
    return IOTCA_OK;
}

iotca_rc iotca_ca_trust_profile_add(iotca_ca *ca, const iotca_trust_profile_req *req, iotca_lint_report *lint,
                                    bool *lint_refused, int64_t *id) {
    memset(lint, 0, sizeof *lint);
    *lint_refused = false;
    IOTCA_GUARD(name_ok(req->name));
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_trust_profile_rec r;
    IOTCA_GUARD(vet(s, req, lint, lint_refused, &r));
    IOTCA_GUARD(iotca_store_trust_profile_add(s, &r));
    *id = r.id;
    return IOTCA_OK;
}

iotca_rc iotca_ca_trust_profile_get(iotca_ca *ca, const char *name, iotca_trust_profile_rec *out, bool *found) {
    memset(out, 0, sizeof *out);
    *found = false;
    IOTCA_ENSURE(name && *name && strlen(name) < 64, IOTCA_E_USAGE, "a trust profile name has 1 to 63 characters");
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_trust_profile_get(s, name, out, found);
}

/* "openssl until 2040-01-01, 2 certificates, SHA-256 0123456789abcdef..." : what the audit trail keeps of a
 * profile (the store's own bytes stay out: a record holds 256 bytes; the digest names them). */
static void describe(const iotca_trust_profile_rec *r, char *out, size_t n) {
    uint8_t h[32];
    char day[16], hex[17];
    iotca_sha256(iotca_buf_slice(&r->pem), h);
    for (int i = 0; i < 8; i++) snprintf(hex + 2 * i, 3, "%02x", h[i]);
    struct tm tm;
    gmtime_r(&r->until, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    size_t certs = 0;
    for (const char *p = (const char *)r->pem.data, *end = p + r->pem.len;
         p && p < end && (p = memmem(p, (size_t)(end - p), "-----BEGIN CERTIFICATE-----", 27)) != NULL; p += 27)
        certs++;
    snprintf(out, n, "%s until %s, %zu certificate%s, store SHA-256 %s", r->stack, day, certs, certs == 1 ? "" : "s", hex);
}

/* One change of a profile, run as a group write so the change and its audit record commit together. */
typedef struct change {
    iotca_trust_profile_rec *next; /* the replacement; NULL: delete */
    const char *name, *actor, *request_id, *acks;
    bool found;
} change;

static iotca_rc change_write(iotca_store *s, void *arg) {
    change *c = arg;
    iotca_trust_profile_rec old = {0};
    char was[128], now[128], detail[320];
    iotca_rc rc = iotca_store_trust_profile_get(s, c->name, &old, &c->found);
    if (rc == IOTCA_OK && c->found) {
        describe(&old, was, sizeof was);
        if (c->next) {
            rc = iotca_store_trust_profile_replace(s, c->next, &c->found);
            describe(c->next, now, sizeof now);
            snprintf(detail, sizeof detail, "now %s%s%s; was %s", now, c->acks[0] ? "; acknowledged " : "", c->acks, was);
        } else {
            rc = iotca_store_trust_profile_delete(s, c->name, &c->found);
            snprintf(detail, sizeof detail, "was %s", was);
        }
    }
    if (rc == IOTCA_OK && c->found) {
        iotca_audit_rec a;
        char subject[96];
        snprintf(subject, sizeof subject, "trust profile %s", c->name);
        ca_audit_fill(&a, c->actor && *c->actor ? c->actor : "anonymous",
                      c->next ? "trust_profile.replace" : "trust_profile.delete", subject,
                      c->request_id && *c->request_id ? c->request_id : "-", c->next ? "replaced" : "deleted", detail);
        rc = ca_audit_append(s, &a);
    }
    iotca_trust_profile_rec_free(&old);
    return rc;
}

iotca_rc iotca_ca_trust_profile_replace(iotca_ca *ca, const iotca_trust_profile_req *req, const char *actor,
                                        const char *request_id, iotca_lint_report *lint, bool *lint_refused,
                                        bool *found) {
    memset(lint, 0, sizeof *lint);
    *lint_refused = false;
    *found = false;
    IOTCA_ENSURE(req->name && *req->name && strlen(req->name) < 64, IOTCA_E_USAGE,
                 "a trust profile name has 1 to 63 characters");
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_trust_profile_rec cur = {0};
    IOTCA_GUARD(iotca_store_trust_profile_get(s, req->name, &cur, found)); /* unknown: 404 before any lint */
    iotca_trust_profile_rec_free(&cur);
    if (!*found) return IOTCA_OK;
    iotca_trust_profile_rec next;
    IOTCA_GUARD(vet(s, req, lint, lint_refused, &next));
    char acks[96] = "";
    for (size_t i = 0; i < req->n_acknowledge; i++) /* known codes only (vet checked): short */
        snprintf(acks + strlen(acks), sizeof acks - strlen(acks), "%s%s", i ? "," : "", req->acknowledge[i]);
    change c = {.next = &next, .name = req->name, .actor = actor, .request_id = request_id, .acks = acks};
    IOTCA_GUARD(iotca_store_group_write(ca->group, s, change_write, &c));
    *found = c.found; /* deleted meanwhile: nothing replaced, nothing audited */
    return IOTCA_OK;
}

iotca_rc iotca_ca_trust_profile_delete(iotca_ca *ca, const char *name, const char *actor, const char *request_id,
                                       bool *found) {
    *found = false;
    IOTCA_ENSURE(name && *name && strlen(name) < 64, IOTCA_E_USAGE, "a trust profile name has 1 to 63 characters");
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    change c = {.name = name, .actor = actor, .request_id = request_id, .acks = ""};
    IOTCA_GUARD(iotca_store_group_write(ca->group, s, change_write, &c));
    *found = c.found;
    return IOTCA_OK;
}
