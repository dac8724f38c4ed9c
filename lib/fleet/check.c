/* Fleet check (SPEC §7): would the devices holding this trust store still accept the chain the CA serves, on
 * every date it changes, as their TLS stack validates? Each stack is modelled by how it picks a path, as the
 * libraries Debian 12 ships were seen to do it (tests/integration/test_stack_agreement.sh holds every model
 * against the real library, chain by chain, at future dates):
 *   openssl    OpenSSL 3: trusted-first; a stored certificate that is not self-signed is one more trusted step, the
 *              path ends only at a self-signed stored one; every certificate on the path dated, the anchor
 *              included; a critical extension outside OpenSSL's supported list fails the path; of the presented
 *              issuers (an expired issuing CA and its renewal), the first in date is taken
 *   openssl102 OpenSSL 1.0.2: the untrusted chain first (the first presented issuer, in date or not); a self-signed
 *              top is set aside and the store carries on below it; if that ends on no stored root, the
 *              "alternative chains" retry (1.0.2b on) cuts it below the highest certificate the store has an issuer
 *              for; only the untrusted part is held to basic constraints; then every certificate, the root first,
 *              must be in date (an expired root or cross-sign it reached fails)
 *   mbedtls    mbedTLS 2.28: every presented certificate must parse (critical extensions it does not know fail
 *              the whole handshake; stored ones it cannot parse are skipped); trusted-first from the leaf up, a
 *              parent only if it is a CA, a presented one only after its child in the server's order; any stored
 *              CA anchors, dated, and an expired trusted issuer ends the search (as for openssl: no fallback to a
 *              presented one); among presented issuers, as among stored ones, the first in date is taken
 *   wolfssl    wolfSSL 5.5.4 as Debian builds it (WOLFSSL_ALT_CERT_CHAINS): the first 9 certificates sent; presented
 *              CAs top-down, one a loaded certificate signed must be in date and is trusted from then on, one
 *              nothing loaded signed is passed over (expired or not); the leaf must verify against a loaded
 *              certificate; stored anchors never date-checked, loaded only if wolfSSL parses them and they are CAs
 *              or self-signed
 *   bearssl    BearSSL 0.6: the chain in order, the leaf first; at each certificate, any CA anchor with the
 *              issuer's DN whose key verifies it ends the chain (else on to the next); anchors undated; unknown
 *              critical extensions rejected in every certificate it processes
 *   gnutls     GnuTLS 3.7 (gnutls_x509_trust_list_verify_crt2, which a TLS client and `certtool --verify` both
 *              call): the served chain ordered by names up to its top; a stored certificate with the name and key
 *              of one on the path anchors there, else one naming the top's issuer; every certificate dated, the
 *              anchor too; a signer not found or an expiry retries once with the top's own name
 * Certificates are read with iotca's own reader (iotca_cert_parse_lenient), so one wolfSSL's parser refuses is still
 * judged: refused by the stacks that cannot process it where they look at it, and by wolfSSL where it parses it.
 * "Dated" includes the notAfter second itself for every stack but OpenSSL's (RFC 5280 §4.1.2.5; mbedTLS, wolfSSL,
 * BearSSL and GnuTLS accept then, OpenSSL does not), and the report's dates include the first second each
 * stack refuses. Every path starts at the leaf the server sends (judged like the rest: dates, extensions) or,
 * for a schedule of CA chains, at a stand-in for the next leaf of the issuing CA (model.h); every stack then
 * holds the path to its basic constraints (model.c: the CA bit, pathLenConstraint, its longest path).
 * The walkers are in walk.c (five stacks) and walk_gnutls.c; this file says which stack walks which way and
 * runs them over the schedule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/fleet.h"
#include "model.h"
#include "stack_ext.h"

#define MAX_CERTS 64
#define MAX_SCHEDULE 16

static bool validate(model *m) {
    m->why[0] = 0;
    /* mbedTLS parses the whole Certificate message before it verifies anything */
    for (size_t k = 0; iotca_fleet_ext_scope(m->stack)->every_presented && k < m->n_served; k++)
        if (!iotca_model_parseable(m, m->served[k])) return false;
    if (!iotca_model_parseable(m, m->leaf)) return false;
    switch (m->stack) {
    case IOTCA_STACK_OPENSSL102: return iotca_walk_untrusted_first(m);
    case IOTCA_STACK_WOLFSSL: return iotca_walk_alt_chains(m);
    case IOTCA_STACK_BEARSSL: return iotca_walk_in_order(m);
    case IOTCA_STACK_GNUTLS: return iotca_walk_by_name(m);
    default:
        /* OpenSSL 3 and mbedTLS date the leaf before (OpenSSL: besides) building anything */
        return iotca_model_in_date(m, m->leaf, "the leaf") && iotca_walk_trusted_first(m);
    }
}

static int cmp_time(const void *a, const void *b) {
    time_t x = *(const time_t *)a, y = *(const time_t *)b;
    return (x > y) - (x < y);
}

/* Every instant a verdict can change for c: its notBefore and the first second it is past notAfter for the stack
 * (notAfter itself, or the second after it). */
static void add_dates(const iotca_cert_info *ci, time_t after_end, time_t *dates, size_t *nd, size_t cap) {
    if (*nd + 2 > cap) return;
    dates[(*nd)++] = ci->not_before;
    dates[(*nd)++] = ci->not_after + after_end;
}

iotca_rc iotca_fleet_check(const iotca_slice *store, size_t n_store, const iotca_served *schedule, size_t n_schedule,
                           iotca_stack stack, time_t now, time_t until, iotca_check_report *out) {
    return iotca_fleet_check_refreshing(store, n_store, NULL, schedule, n_schedule, stack, now, until, out);
}

/* The store a refreshing device holds at t (fleet.h, iotca_refresh): its own, then what cacerts held at its last refresh. */
static size_t store_at(iotca_cert **st, size_t n_store, iotca_cert **cac, size_t n_cac, long every, time_t now, time_t t,
                       iotca_cert **eff) {
    size_t n = 0;
    for (size_t i = 0; i < n_store; i++) eff[n++] = st[i];
    if (every <= 0 || t < now + every) return n; /* no refresh yet, at the latest */
    for (size_t i = 0; i < n_cac; i++) {
        const iotca_cert_info *ci = iotca_cert_get(cac[i]);
        if (t - every >= ci->not_before && t - every <= ci->not_after) eff[n++] = cac[i];
    }
    return n;
}

iotca_rc iotca_fleet_check_refreshing(const iotca_slice *store, size_t n_store, const iotca_refresh *refresh,
                                      const iotca_served *schedule, size_t n_schedule, iotca_stack stack, time_t now,
                                      time_t until, iotca_check_report *out) {
    memset(out, 0, sizeof *out);
    const iotca_refresh none = {0};
    const iotca_refresh *rf = refresh != NULL ? refresh : &none;
    const iotca_slice *cacerts = rf->cacerts;
    size_t n_cac = rf->every > 0 && cacerts != NULL ? rf->n : 0;
    long every = n_cac ? rf->every : 0;
    IOTCA_ENSURE(!n_cac || every >= 86400, IOTCA_E_USAGE, "a re-enrollment interval of at least a day");
    IOTCA_ENSURE(n_store + n_cac <= MAX_CERTS, IOTCA_E_USAGE, "too many certificates in the trust store and cacerts");
    IOTCA_ENSURE(n_schedule >= 1 && n_schedule <= MAX_SCHEDULE, IOTCA_E_USAGE,
                 "a schedule of 1 to %d served chains is needed", MAX_SCHEDULE);
    IOTCA_ENSURE(n_store <= MAX_CERTS, IOTCA_E_USAGE, "too many certificates in the trust store");
    IOTCA_ENSURE(until > now, IOTCA_E_USAGE, "the end date must be in the future");
    IOTCA_ENSURE(iotca_fleet_stack_known(stack), IOTCA_E_USAGE, "unknown stack %d", (int)stack);
    iotca_cert *st[MAX_CERTS] = {0}, *sv[MAX_SCHEDULE][IOTCA_SERVED_MAX] = {{0}}, *lf[MAX_SCHEDULE] = {0};
    iotca_cert *cac[MAX_CERTS] = {0}, *eff[MAX_CERTS];
    time_t dates[2048];
    size_t nd = 0;
    const time_t after_end = iotca_model_through_not_after(stack) ? 1 : 0;
    iotca_rc rc = IOTCA_OK;
    for (size_t i = 0; i < n_store; i++) {
        rc = iotca_cert_parse_lenient(store[i], &st[i]);
        IOTCA_CHECK(rc == IOTCA_OK, rc, "trust store certificate %zu: %s", i + 1, iotca_error_detail());
    }
    dates[nd++] = now;
    for (size_t s = 0; s < n_schedule; s++) {
        const iotca_served *e = &schedule[s];
        IOTCA_CHECK(e->n <= IOTCA_SERVED_MAX && (e->n >= 1 || e->leaf.len > 0), IOTCA_E_USAGE,
                    "served chain %zu needs 1 to %d CA certificates (or a leaf)", s + 1, IOTCA_SERVED_MAX);
        IOTCA_CHECK(s == 0 || e->from >= schedule[s - 1].from, IOTCA_E_USAGE, "schedule must be sorted");
        for (size_t i = 0; i < e->n; i++) {
            rc = iotca_cert_parse_lenient(e->certs[i], &sv[s][i]);
            IOTCA_CHECK(rc == IOTCA_OK, rc, "served chain %zu certificate %zu: %s", s + 1, i + 1, iotca_error_detail());
            add_dates(iotca_cert_get(sv[s][i]), after_end, dates, &nd, 2046);
        }
        if (e->leaf.len > 0) {
            rc = iotca_cert_parse_lenient(e->leaf, &lf[s]);
            IOTCA_CHECK(rc == IOTCA_OK, rc, "served chain %zu leaf: %s", s + 1, iotca_error_detail());
            add_dates(iotca_cert_get(lf[s]), after_end, dates, &nd, 2046);
        }
        if (nd < 2048) dates[nd++] = e->from;
    }
    for (size_t i = 0; i < n_store; i++) add_dates(iotca_cert_get(st[i]), after_end, dates, &nd, 2048);
    /* a refreshing device's store changes at its first refresh, and `every` after a cacerts certificate begins
     * or ends: the refresh that no longer (or first) finds it */
    for (size_t i = 0; i < n_cac; i++) {
        rc = iotca_cert_parse_lenient(cacerts[i], &cac[i]);
        IOTCA_CHECK(rc == IOTCA_OK, rc, "cacerts certificate %zu: %s", i + 1, iotca_error_detail());
        const iotca_cert_info *ci = iotca_cert_get(cac[i]);
        if (nd + 2 <= 2048) dates[nd++] = ci->not_before + every, dates[nd++] = ci->not_after + 1 + every;
    }
    if (n_cac && nd < 2048) dates[nd++] = now + every;
    qsort(dates, nd, sizeof dates[0], cmp_time);
    model *m = calloc(1, sizeof *m);
    IOTCA_CHECK(m != NULL, IOTCA_E_INTERNAL, "out of memory");
    m->stack = stack;
    m->store = eff;
    time_t last = -1;
    for (size_t d = 0; d < nd && out->n < IOTCA_CHECK_MAX_POINTS; d++) {
        time_t t = dates[d];
        if (t < now || t > until || t == last) continue;
        last = t;
        size_t s = 0; /* the entry served at t */
        while (s + 1 < n_schedule && schedule[s + 1].from <= t) s++;
        if (schedule[s].from > t) continue; /* nothing served yet */
        m->at = t;
        m->n_store = store_at(st, n_store, cac, n_cac, every, now, t, eff);
        m->served = sv[s];
        m->n_served = schedule[s].n;
        iotca_model_set_leaf(m, lf[s]);
        iotca_check_point *p = &out->points[out->n++];
        p->at = t;
        p->ok = validate(m);
        snprintf(p->reason, sizeof p->reason, "%s", p->ok ? "ok" : m->why);
        if (!p->ok && out->first_failure == 0) out->first_failure = t;
    }
    free(m);
out:
    for (size_t i = 0; i < n_store; i++) iotca_cert_free(st[i]);
    for (size_t i = 0; i < n_cac; i++) iotca_cert_free(cac[i]);
    for (size_t s = 0; s < MAX_SCHEDULE; s++) {
        iotca_cert_free(lf[s]);
        for (size_t i = 0; i < IOTCA_SERVED_MAX; i++) iotca_cert_free(sv[s][i]);
    }
    return rc;
}
