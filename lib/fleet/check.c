/* Fleet check (SPEC §7): would the devices holding this trust store still accept the chain the CA serves, on
 * every date it changes, as their TLS stack validates? Each stack is modelled by how it picks a path:
 *   openssl    trusted-first with alternative chains; only self-signed anchors; every certificate dated
 *   openssl102 untrusted-first without backtracking; fails on an expired root or cross-sign it reaches
 *   mbedtls    trusted-first; any stored certificate anchors; anchor expiry enforced; no critical nameConstraints
 *   wolfssl    every presented certificate must verify; anchors expired at load are never loaded
 *   bearssl    the chain in order; first anchor whose DN matches, undated; unknown critical extensions rejected */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/fleet.h"

#define MAX_CERTS 64

typedef struct model {
    iotca_stack stack;
    time_t at;
    iotca_cert **store;
    size_t n_store;
    iotca_cert **served;
    size_t n_served;
    char why[384];
} model;

static void subject(const iotca_cert *c, char *out, size_t n) {
    iotca_buf s = {0};
    if (iotca_name_format(iotca_cert_get(c)->subject, &s) == IOTCA_OK) snprintf(out, n, "%s", (const char *)s.data);
    else snprintf(out, n, "?");
    iotca_buf_free(&s);
}

static bool dated(const iotca_cert *c, time_t t) {
    const iotca_cert_info *ci = iotca_cert_get(c);
    return ci->not_before <= t && t < ci->not_after;
}

static bool issued_by(const iotca_cert *child, const iotca_cert *parent) {
    return iotca_cert_verify_signed_by(child, parent) == IOTCA_OK;
}

static bool self_signed(const iotca_cert *c) { return iotca_cert_is_self_signed(c); }

static void fail(model *m, const char *what, const iotca_cert *c) {
    char s[256];
    subject(c, s, sizeof s);
    snprintf(m->why, sizeof m->why, "%s: %s", what, s);
}

/* What the stack cannot even parse, in any certificate it is given. */
static bool parseable(model *m, const iotca_cert *c) {
    const iotca_cert_info *ci = iotca_cert_get(c);
    bool nc = ci->has_name_constraints && ci->name_constraints_critical;
    if ((m->stack == IOTCA_STACK_MBEDTLS || m->stack == IOTCA_STACK_BEARSSL) && (nc || ci->n_unknown_critical)) {
        fail(m, nc ? "cannot parse critical nameConstraints in" : "rejects an unknown critical extension in", c);
        return false;
    }
    return true;
}

/* May this trust-store certificate act as an anchor for this stack? */
static bool anchor_ok(const model *m, const iotca_cert *a) {
    if (m->stack == IOTCA_STACK_OPENSSL || m->stack == IOTCA_STACK_OPENSSL102)
        return self_signed(a); /* partial chains are off by default */
    return true;
}

static bool anchor_dated(const model *m, const iotca_cert *a) {
    return m->stack == IOTCA_STACK_BEARSSL || dated(a, m->at); /* BearSSL anchors carry no dates */
}

/* openssl (modern) and mbedtls: depth-first, trusted issuers first, then untrusted ones. */
static bool trusted_first(model *m, const iotca_cert *cur, int depth) {
    if (depth > 8) return false;
    for (size_t i = 0; i < m->n_store; i++) {
        const iotca_cert *a = m->store[i];
        if (!anchor_ok(m, a) || !issued_by(cur, a)) continue;
        if (!parseable(m, a)) return false;
        if (anchor_dated(m, a)) return true;
        fail(m, "the trust anchor has expired", a);
        if (m->stack == IOTCA_STACK_MBEDTLS) return false; /* no alternative path once an anchor matched */
    }
    for (size_t i = 0; i < m->n_served; i++) {
        const iotca_cert *p = m->served[i];
        if (p == cur || !issued_by(cur, p)) continue;
        if (!parseable(m, p)) return false;
        if (!dated(p, m->at)) {
            fail(m, "an expired certificate on the path", p);
            continue;
        }
        if (trusted_first(m, p, depth + 1)) return true;
    }
    if (!m->why[0]) fail(m, "no path to a trust anchor from", cur);
    return false;
}

/* openssl102: follow the untrusted certificates first, never backtrack. */
static bool untrusted_first(model *m, const iotca_cert *cur) {
    for (int depth = 0; depth < 8; depth++) {
        const iotca_cert *next = NULL;
        for (size_t i = 0; i < m->n_served && !next; i++)
            if (m->served[i] != cur && issued_by(cur, m->served[i])) next = m->served[i];
        if (next == NULL) break;
        if (!dated(next, m->at)) {
            fail(m, "builds through an expired certificate", next);
            return false;
        }
        cur = next;
        if (self_signed(cur)) break;
    }
    for (size_t i = 0; i < m->n_store; i++) {
        const iotca_cert *a = m->store[i];
        bool same = iotca_slice_eq(iotca_cert_get(a)->der, iotca_cert_get(cur)->der);
        if (!anchor_ok(m, a) || (!same && !issued_by(cur, a))) continue;
        if (dated(a, m->at)) return true;
        fail(m, "reaches an expired root", a);
        return false;
    }
    fail(m, "no trusted root for the chain ending at", cur);
    return false;
}

/* wolfssl: each presented CA, top first, must verify against what is loaded. */
static bool every_presented(model *m, const iotca_cert *first) {
    const iotca_cert *loaded[MAX_CERTS];
    size_t n = 0;
    for (size_t i = 0; i < m->n_store; i++)
        if (dated(m->store[i], m->at)) loaded[n++] = m->store[i]; /* expired anchors are refused at load */
    for (size_t k = m->n_served; k-- > 0;) {
        const iotca_cert *c = m->served[k];
        bool ok = false;
        for (size_t i = 0; i < n && !ok; i++) ok = issued_by(c, loaded[i]) || iotca_slice_eq(iotca_cert_get(c)->der, iotca_cert_get(loaded[i])->der);
        if (!ok) {
            fail(m, "a presented certificate does not verify against the loaded anchors", c);
            return false;
        }
        if (!dated(c, m->at)) {
            fail(m, "a presented certificate has expired", c);
            return false;
        }
        if (n < MAX_CERTS) loaded[n++] = c;
    }
    (void)first;
    return true;
}

/* bearssl: in order; the first anchor whose DN matches the issuer must verify it. */
static bool in_order(model *m) {
    for (size_t k = 0; k < m->n_served; k++) {
        const iotca_cert *c = m->served[k];
        if (!parseable(m, c)) return false;
        if (!dated(c, m->at)) {
            fail(m, "a presented certificate has expired", c);
            return false;
        }
        for (size_t i = 0; i < m->n_store; i++) {
            const iotca_cert *a = m->store[i];
            if (!iotca_slice_eq(iotca_cert_get(a)->subject, iotca_cert_get(c)->issuer)) continue;
            if (issued_by(c, a)) return true;
            fail(m, "the first anchor with the issuer's name does not verify", c);
            return false;
        }
        if (k + 1 < m->n_served && !iotca_slice_eq(iotca_cert_get(m->served[k + 1])->subject, iotca_cert_get(c)->issuer)) {
            fail(m, "the chain is out of order after", c);
            return false;
        }
    }
    fail(m, "no anchor matches the issuer of", m->served[m->n_served - 1]);
    return false;
}

static bool validate(model *m) {
    m->why[0] = 0;
    const iotca_cert *first = m->served[0];
    if (!parseable(m, first)) return false;
    if (!dated(first, m->at)) {
        fail(m, "the issuing CA certificate is not valid then", first);
        return false;
    }
    /* the issuing CA itself pinned in the store */
    for (size_t i = 0; i < m->n_store; i++)
        if (iotca_slice_eq(iotca_cert_get(m->store[i])->der, iotca_cert_get(first)->der) && anchor_ok(m, m->store[i]) &&
            m->stack != IOTCA_STACK_OPENSSL && m->stack != IOTCA_STACK_OPENSSL102)
            return true;
    switch (m->stack) {
    case IOTCA_STACK_OPENSSL102: return untrusted_first(m, first);
    case IOTCA_STACK_WOLFSSL: return every_presented(m, first);
    case IOTCA_STACK_BEARSSL: return in_order(m);
    default: return trusted_first(m, first, 0);
    }
}

static int cmp_time(const void *a, const void *b) {
    time_t x = *(const time_t *)a, y = *(const time_t *)b;
    return (x > y) - (x < y);
}

iotca_rc iotca_fleet_check(const iotca_slice *store, size_t n_store, const iotca_served *schedule, size_t n_schedule,
                           iotca_stack stack, time_t now, time_t until, iotca_check_report *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(n_schedule >= 1 && n_schedule <= 16, IOTCA_E_USAGE, "a schedule of 1 to 16 served chains is needed");
    IOTCA_ENSURE(n_store <= MAX_CERTS, IOTCA_E_USAGE, "too many certificates in the trust store");
    IOTCA_ENSURE(until > now, IOTCA_E_USAGE, "the end date must be in the future");
    iotca_cert *st[MAX_CERTS] = {0}, *sv[16][8] = {{0}};
    time_t dates[512];
    size_t nd = 0;
    iotca_rc rc = IOTCA_OK;
    for (size_t i = 0; i < n_store; i++) {
        rc = iotca_cert_parse(store[i], &st[i]);
        IOTCA_CHECK(rc == IOTCA_OK, rc, "trust store certificate %zu: %s", i + 1, iotca_error_detail());
    }
    dates[nd++] = now;
    for (size_t s = 0; s < n_schedule; s++) {
        IOTCA_CHECK(schedule[s].n >= 1 && schedule[s].n <= 8, IOTCA_E_USAGE, "served chain %zu needs 1 to 8 CAs", s + 1);
        IOTCA_CHECK(s == 0 || schedule[s].from >= schedule[s - 1].from, IOTCA_E_USAGE, "schedule must be sorted");
        for (size_t i = 0; i < schedule[s].n; i++) {
            rc = iotca_cert_parse(schedule[s].certs[i], &sv[s][i]);
            IOTCA_CHECK(rc == IOTCA_OK, rc, "served chain %zu certificate %zu: %s", s + 1, i + 1, iotca_error_detail());
            const iotca_cert_info *ci = iotca_cert_get(sv[s][i]);
            if (nd < 510) dates[nd++] = ci->not_before, dates[nd++] = ci->not_after;
        }
        if (nd < 512) dates[nd++] = schedule[s].from;
    }
    for (size_t i = 0; i < n_store && nd < 512; i++) dates[nd++] = iotca_cert_get(st[i])->not_after;
    qsort(dates, nd, sizeof dates[0], cmp_time);
    model m = {.stack = stack, .store = st, .n_store = n_store};
    time_t last = -1;
    for (size_t d = 0; d < nd && out->n < IOTCA_CHECK_MAX_POINTS; d++) {
        time_t t = dates[d];
        if (t < now || t > until || t == last) continue;
        last = t;
        size_t s = 0; /* the entry served at t */
        while (s + 1 < n_schedule && schedule[s + 1].from <= t) s++;
        if (schedule[s].from > t) continue; /* nothing served yet */
        m.at = t;
        m.served = sv[s];
        m.n_served = schedule[s].n;
        iotca_check_point *p = &out->points[out->n++];
        p->at = t;
        p->ok = validate(&m);
        snprintf(p->reason, sizeof p->reason, "%s", p->ok ? "ok" : m.why);
        if (!p->ok && out->first_failure == 0) out->first_failure = t;
    }
out:
    for (size_t i = 0; i < n_store; i++) iotca_cert_free(st[i]);
    for (size_t s = 0; s < 16; s++)
        for (size_t i = 0; i < 8; i++) iotca_cert_free(sv[s][i]);
    return rc;
}
