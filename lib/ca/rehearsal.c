/* Rehearsals (issue 24, SPEC §7): which scenarios exist and what each presents now. The refresh keeps every
 * scenario's leaf current (rehearsal_mint.c makes them); server/rehearsal serves them over TLS. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/pem.h"
#include "rehearsal_int.h"

void iotca_rehearsal_free(iotca_rehearsal *r) {
    if (r == NULL) return;
    iotca_buf_free(&r->chain_pem);
    iotca_buf_free(&r->key_pem);
    iotca_buf_free(&r->ocsp_der);
    memset(r, 0, sizeof *r);
}

/* A DNS name of 1 to 64 bytes (a leaf's CN holds it: RFC 5280's upper bound), LDH labels, at least one dot. */
static bool dns_name_ok(const char *n) {
    size_t len = n ? strlen(n) : 0, label = 0;
    if (len == 0 || len > 64 || strchr(n, '.') == NULL) return false;
    for (const char *p = n; *p; p++) {
        char c = *p;
        if (c == '.') {
            if (label == 0 || p[-1] == '-') return false;
            label = 0;
            continue;
        }
        bool ldh = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label > 0);
        if (!ldh || ++label > 63) return false;
    }
    return label > 0 && n[len - 1] != '-';
}

iotca_rc iotca_rehearsal_config_check(const iotca_rehearsal_config *cfg) {
    IOTCA_ENSURE(cfg != NULL, IOTCA_E_USAGE, "iotca_rehearsal_config_check: NULL argument");
    IOTCA_ENSURE(dns_name_ok(cfg->name), IOTCA_E_USAGE,
                 "rehearsal name '%.80s': a lowercase DNS name of 1 to 64 bytes with a dot, like bench.example.com",
                 cfg->name ? cfg->name : "");
    IOTCA_ENSURE(cfg->ttl >= 300 && cfg->ttl <= 86400, IOTCA_E_USAGE,
                 "rehearsal leaf_ttl %lds: from 5 minutes to a day (a rehearsal leaf is short-lived)", cfg->ttl);
    IOTCA_ENSURE(cfg->n_require <= IOTCA_REHEARSAL_REQUIRE_MAX, IOTCA_E_USAGE, "at most %d required trust profiles",
                 IOTCA_REHEARSAL_REQUIRE_MAX);
    for (size_t i = 0; i < cfg->n_require; i++)
        IOTCA_ENSURE(cfg->require[i] && *cfg->require[i] && strlen(cfg->require[i]) < 64, IOTCA_E_USAGE,
                     "rehearsal require_passed_next[%zu]: a trust profile name of 1 to 63 bytes", i);
    IOTCA_ENSURE(cfg->group == NULL || (*cfg->group && strlen(cfg->group) < 64), IOTCA_E_USAGE,
                 "rehearsal group: 1 to 63 bytes");
    return IOTCA_OK;
}

iotca_rc iotca_ca_rehearsal_configure(iotca_ca *ca, const iotca_rehearsal_config *cfg) {
    IOTCA_ENSURE(ca && cfg, IOTCA_E_USAGE, "iotca_ca_rehearsal_configure: NULL argument");
    IOTCA_ENSURE(ca->rehearsal == NULL, IOTCA_E_USAGE, "rehearsals are configured already");
    IOTCA_GUARD(iotca_rehearsal_config_check(cfg));
    const char *group = cfg->group ? cfg->group : ca->default_group;
    IOTCA_ENSURE(group && *group && strlen(group) < 64, IOTCA_E_USAGE, "rehearsal group: 1 to 63 bytes");
    struct ca_rehearsal *rh = calloc(1, sizeof *rh);
    IOTCA_ENSURE(rh != NULL, IOTCA_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < cfg->n_require; i++) snprintf(rh->require[i], sizeof rh->require[i], "%s", cfg->require[i]);
    rh->n_require = cfg->n_require;
    snprintf(rh->name, sizeof rh->name, "%s", cfg->name);
    snprintf(rh->group, sizeof rh->group, "%s", group);
    rh->ttl = cfg->ttl;
    pthread_mutex_init(&rh->mu, NULL);
    ca->rehearsal = rh;
    return IOTCA_OK;
}

bool iotca_ca_rehearsal_enabled(iotca_ca *ca) { return ca && ca->rehearsal; }

void ca_rehearsal_free(iotca_ca *ca) {
    struct ca_rehearsal *rh = ca->rehearsal;
    if (rh == NULL) return;
    for (size_t i = 0; i < IOTCA_REHEARSAL_MAX; i++) iotca_rehearsal_free(&rh->scen[i]);
    rh_ca_free(&rh->lab_root);
    rh_ca_free(&rh->nc_int);
    rh_ca_free(&rh->imp_root);
    rh_ca_free(&rh->imp_int);
    pthread_mutex_destroy(&rh->mu);
    free(rh);
    ca->rehearsal = NULL;
}

static void day_of(time_t t, char out[24]) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%MZ", &tm);
}

/* One scenario the refresh wants: its place, words, signer and the CAs sent after the leaf. */
typedef struct want {
    char name[48];
    bool expect_accept, revoked, expired;
    char presents[320], should[320], unavailable[160];
    const iotca_issuer_rec *issuer; /* a CA issuer signs; NULL with lab set: a lab CA; neither: unavailable */
    const rh_ca *lab;
    time_t at;
    bool send_issuer; /* the signer's certificate follows the leaf */
} want;

static void say(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *dst, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* The fixed scenarios for the group's active issuer A (NULL: none) and its first staged one S (NULL: none). */
static void plan_fixed(struct ca_rehearsal *rh, const iotca_issuer_rec *a, const iotca_issuer_rec *st, want *w) {
    const char *an = a ? a->name : "(no active issuer)", *sn = st ? st->name : "(none staged)";
    char when[24] = "its activation";
    if (st) day_of(st->activate_at, when);
    w[RH_CURRENT] = (want){.name = "current", .expect_accept = true, .issuer = a, .send_issuer = true};
    say(w[RH_CURRENT].presents, 320, "a leaf from the active issuer %s, then %s's certificate: the chain served today",
        an, an);
    say(w[RH_CURRENT].should, 320, "accept it: a device that refuses it cannot connect today");
    w[RH_NEXT] = (want){.name = "next", .expect_accept = true, .issuer = st, .send_issuer = true,
                        .at = st ? st->activate_at : 0};
    say(w[RH_NEXT].presents, 320, "a leaf from the staged issuer %s, then %s's certificate: the chain served from %s",
        sn, sn, when);
    say(w[RH_NEXT].should, 320, "accept it: a device that refuses it stops connecting on %s (one that pins today's "
        "intermediate does)", when);
    if (!st) say(w[RH_NEXT].unavailable, 160, "no staged issuer in group %s: make one (iotca issuers new), sign it "
                 "and import it with its activation ahead", rh->group);
    w[RH_EXPIRED] = (want){.name = "expired", .issuer = a, .send_issuer = true, .expired = true};
    say(w[RH_EXPIRED].presents, 320, "a leaf from %s whose validity has ended, then %s's certificate", an, an);
    say(w[RH_EXPIRED].should, 320, "refuse it (certificate expired); a device without a set clock cannot tell");
    w[RH_REVOKED] = (want){.name = "revoked", .issuer = a, .send_issuer = true, .revoked = true};
    say(w[RH_REVOKED].presents, 320, "a leaf from %s that %s has revoked, then %s's certificate, with a stapled OCSP "
        "response saying revoked", an, an, an);
    say(w[RH_REVOKED].should, 320, "refuse it if the device checks stapled OCSP (OpenSSL or GnuTLS asking for the "
        "status); mbedTLS 2.28 and BearSSL check no revocation and accept it");
    w[RH_WRONG_ROOT] = (want){.name = "wrong-root", .lab = &rh->imp_int, .send_issuer = true};
    say(w[RH_WRONG_ROOT].presents, 320, "a leaf and an intermediate with the names of %s and its root, signed with "
        "other keys: a chain to a root the device does not hold", an);
    say(w[RH_WRONG_ROOT].should, 320, "refuse it: the names match a trusted root, the signatures do not");
    w[RH_MISSING] = (want){.name = "intermediate-missing", .issuer = a, .send_issuer = false};
    say(w[RH_MISSING].presents, 320, "a leaf from %s alone, without %s's certificate", an, an);
    say(w[RH_MISSING].should, 320, "refuse it: a device holding only roots cannot build the path (one that accepts it "
        "pins or caches the intermediate)");
    w[RH_CRITICAL_NC] = (want){.name = "critical-name-constraints", .lab = &rh->nc_int, .send_issuer = true};
    say(w[RH_CRITICAL_NC].presents, 320, "a leaf under an intermediate with a critical nameConstraints extension, "
        "under the rehearsal lab root (GET /v1/rehearsals: lab_root)");
    say(w[RH_CRITICAL_NC].should, 320, "refuse it: it chains to no root of yours. A bench device that also trusts the "
        "lab root shows its stack: mbedTLS 2.28 and BearSSL refuse a critical nameConstraints, others accept it");
    if (!a)
        for (int i = RH_CURRENT; i <= RH_MISSING; i++)
            if (i != RH_NEXT && i != RH_WRONG_ROOT)
                say(w[i].unavailable, 160, "no active issuer in group %s", rh->group);
    if (!a) say(w[RH_WRONG_ROOT].unavailable, 160, "no active issuer in group %s to copy names from", rh->group);
}

/* The upcoming changes after the next activation: each later staged issuer's activation, and the end of each
 * cross-certificate that now gives the active issuer's root a second path (the alternate chain stops). */
static size_t plan_changes(iotca_ca *ca, const ca_issuer *ai, const iotca_issuer_rec *a, iotca_issuer_rec **staged,
                           size_t n_staged, time_t now, want *w) {
    size_t n = 0;
    char when[24];
    for (size_t k = 1; k < n_staged && n < IOTCA_REHEARSAL_CHANGES; k++, n++) {
        const iotca_issuer_rec *st = staged[k];
        day_of(st->activate_at, when);
        w[n] = (want){.expect_accept = true, .issuer = st, .send_issuer = true, .at = st->activate_at};
        say(w[n].name, sizeof w[n].name, "activation-%lld", (long long)st->id);
        say(w[n].presents, 320, "a leaf from issuer %s, then its certificate: the chain served from %s, when %s "
            "activates after %s", st->name, when, st->name, staged[0]->name);
        say(w[n].should, 320, "accept it: a device that refuses it stops connecting on %s", when);
    }
    for (size_t i = 0; ai && i < ca->n_cross && n < IOTCA_REHEARSAL_CHANGES; i++) {
        const iotca_cert_info *x = iotca_cert_get(ca->cross[i]);
        if (ca->roots[ca->cross_root[i]] != ai->root || now < x->not_before || now > x->not_after) continue;
        day_of(x->not_after, when);
        w[n] = (want){.expect_accept = true, .issuer = a, .send_issuer = true, .at = x->not_after};
        say(w[n].name, sizeof w[n].name, "cross-sign-end-%.10s", when);
        say(w[n].presents, 320, "a leaf from %s, then %s's certificate without the cross-certificate that ends on %s: "
            "the only chain served from then", a->name, a->name, when);
        say(w[n].should, 320, "accept it: a device that holds only the old root, and reaches the new one through the "
            "cross-certificate, stops connecting on %s", when);
        n++;
    }
    return n;
}

static bool fresh(const iotca_rehearsal *r, const want *w, int64_t issuer_id, long ttl, time_t now) {
    if (!r->available || strcmp(r->name, w->name) != 0 || r->issuer_id != issuer_id) return false;
    return w->expired ? now - r->not_after < 2 * ttl : r->not_after - now > ttl / 2;
}

/* Makes the leaf of scenario w into r (slot), records it and audits it. */
static iotca_rc mint(iotca_ca *ca, iotca_store *s, struct ca_rehearsal *rh, const want *w, iotca_rehearsal *r,
                     time_t now) {
    rh_signer sg = {NULL, w->lab};
    if (w->issuer) IOTCA_GUARD(ca_issuer_by_id(ca, s, w->issuer->id, &sg.is));
    time_t nb = w->expired ? now - 3 * rh->ttl : now - 300, na = w->expired ? now - rh->ttl : now + rh->ttl;
    iotca_buf der = {0}, key = {.secret = true}, chain = {0}, ocsp = {0};
    char serial[41];
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(rh_leaf(rh, w->name, &sg, nb, na, &der, &key, serial));
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE", der.data, der.len, &chain));
    const iotca_cert_info *ci = iotca_cert_get(sg.is ? sg.is->cert : sg.lab->cert);
    if (w->send_issuer) IOTCA_TRY(iotca_pem_encode("CERTIFICATE", ci->der.p, ci->der.len, &chain));
    if (w->revoked) IOTCA_TRY(rh_ocsp_revoked(ca, sg.is, serial, now - 60, now, &ocsp));
    iotca_rehearsal_leaf_rec rec = {.issuer_id = w->issuer ? w->issuer->id : 0, .not_before = nb, .not_after = na,
                                    .created_at = now, .der = der};
    snprintf(rec.serial, sizeof rec.serial, "%s", serial);
    snprintf(rec.scenario, sizeof rec.scenario, "%.47s", w->name);
    IOTCA_TRY(iotca_store_rehearsal_leaf_add(s, &rec));
    if (w->issuer) {
        char detail[256];
        say(detail, sizeof detail, "scenario %s: a rehearsal leaf for %s from issuer %s, not in the inventory",
            w->name, rh->name, w->issuer->name);
        IOTCA_TRY(iotca_ca_audit(ca, "rehearsal", "rehearsal.leaf", serial, "-", "ok", detail));
    }
    iotca_rehearsal_free(r);
    r->chain_pem = chain;
    r->key_pem = key;
    r->ocsp_der = ocsp;
    chain = key = ocsp = (iotca_buf){0};
    snprintf(r->serial, sizeof r->serial, "%s", serial);
    r->not_before = nb;
    r->not_after = na;
    r->issuer_id = rec.issuer_id;
    r->available = true;
out:
    iotca_buf_free(&der);
    iotca_buf_free(&key);
    iotca_buf_free(&chain);
    iotca_buf_free(&ocsp);
    return rc;
}

/* Brings slot to what w wants: its words always; its leaf kept while fresh, made again otherwise. */
static iotca_rc settle(iotca_ca *ca, iotca_store *s, struct ca_rehearsal *rh, const want *w, unsigned slot,
                       time_t now, int *made) {
    iotca_rehearsal *r = &rh->scen[slot];
    bool can = (w->issuer != NULL || w->lab != NULL) && w->unavailable[0] == 0;
    int64_t issuer_id = w->issuer ? w->issuer->id : 0;
    if (!can) iotca_rehearsal_free(r);
    else if (!fresh(r, w, issuer_id, rh->ttl, now)) {
        IOTCA_GUARD(mint(ca, s, rh, w, r, now));
        (*made)++;
    }
    snprintf(r->name, sizeof r->name, "%.47s", w->name);
    r->slot = slot;
    r->expect_accept = w->expect_accept;
    snprintf(r->presents, sizeof r->presents, "%.319s", w->presents);
    snprintf(r->device_should, sizeof r->device_should, "%.319s", w->should);
    snprintf(r->unavailable, sizeof r->unavailable, "%.159s", can ? "" : w->unavailable);
    snprintf(r->issuer_name, sizeof r->issuer_name, "%.63s", w->issuer ? w->issuer->name : "rehearsal lab");
    r->at = w->at;
    return IOTCA_OK;
}

static int by_activation(const void *x, const void *y) {
    const iotca_issuer_rec *a = *(iotca_issuer_rec *const *)x, *b = *(iotca_issuer_rec *const *)y;
    return (a->activate_at > b->activate_at) - (a->activate_at < b->activate_at);
}

static iotca_rc refresh_locked(iotca_ca *ca, struct ca_rehearsal *rh, time_t now, int *made) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_issuer_rec *list = NULL, *a = NULL, *staged[CA_MAX_ISSUERS] = {0};
    size_t n = 0, ns = 0;
    want w[IOTCA_REHEARSAL_MAX];
    memset(w, 0, sizeof w);
    IOTCA_GUARD(iotca_store_issuer_list(s, &list, &n));
    iotca_rc rc = IOTCA_OK;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].group, rh->group) != 0 || list[i].cert.len == 0 || list[i].not_after <= now) continue;
        if (list[i].state == IOTCA_ISSUER_ACTIVE) a = &list[i];
        if (list[i].state == IOTCA_ISSUER_STAGED && ns < CA_MAX_ISSUERS) staged[ns++] = &list[i];
    }
    qsort(staged, ns, sizeof staged[0], by_activation);
    ca_issuer *ai = NULL;
    if (a) IOTCA_TRY(ca_issuer_by_id(ca, s, a->id, &ai));
    IOTCA_TRY(rh_lab_make(rh, now));
    if (ai && rh->imp_for != ai->id) {
        IOTCA_TRY(rh_impostor_make(rh, ai->root, ai->cert, now));
        rh->imp_for = ai->id;
        iotca_rehearsal_free(&rh->scen[RH_WRONG_ROOT]); /* its signer changed */
    }
    plan_fixed(rh, a, ns ? staged[0] : NULL, w);
    size_t nc = plan_changes(ca, ai, a, staged, ns, now, w + IOTCA_REHEARSAL_FIXED);
    for (unsigned slot = 0; slot < IOTCA_REHEARSAL_FIXED + nc; slot++) IOTCA_TRY(settle(ca, s, rh, &w[slot], slot, now, made));
    for (unsigned slot = IOTCA_REHEARSAL_FIXED + nc; slot < IOTCA_REHEARSAL_MAX; slot++)
        iotca_rehearsal_free(&rh->scen[slot]);
    /* a day after their end, leaves leave the store (their serials stay reserved) */
    IOTCA_TRY(iotca_store_rehearsal_leaf_prune(s, now - 86400, NULL));
out:
    iotca_issuer_recs_free(list, n);
    return rc;
}

iotca_rc iotca_ca_rehearsal_refresh(iotca_ca *ca, time_t now, int *changes) {
    struct ca_rehearsal *rh = ca ? ca->rehearsal : NULL;
    if (rh == NULL) return IOTCA_OK;
    int made = 0;
    pthread_mutex_lock(&rh->mu);
    iotca_rc rc = refresh_locked(ca, rh, now, &made);
    pthread_mutex_unlock(&rh->mu);
    if (changes) *changes += made;
    return rc;
}

static iotca_rc copy_out(const iotca_rehearsal *src, bool with_key, iotca_rehearsal *dst) {
    *dst = *src;
    dst->chain_pem = dst->key_pem = dst->ocsp_der = (iotca_buf){0};
    dst->key_pem.secret = true;
    iotca_rc rc = iotca_buf_append(&dst->chain_pem, src->chain_pem.data, src->chain_pem.len);
    if (rc == IOTCA_OK && with_key) rc = iotca_buf_append(&dst->key_pem, src->key_pem.data, src->key_pem.len);
    if (rc == IOTCA_OK) rc = iotca_buf_append(&dst->ocsp_der, src->ocsp_der.data, src->ocsp_der.len);
    if (rc != IOTCA_OK) iotca_rehearsal_free(dst);
    return rc;
}

iotca_rc iotca_ca_rehearsals(iotca_ca *ca, bool with_keys, iotca_rehearsal **out, size_t *n) {
    *out = NULL;
    *n = 0;
    struct ca_rehearsal *rh = ca ? ca->rehearsal : NULL;
    if (rh == NULL) return IOTCA_OK;
    iotca_rehearsal *list = calloc(IOTCA_REHEARSAL_MAX, sizeof *list);
    IOTCA_ENSURE(list != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = IOTCA_OK;
    pthread_mutex_lock(&rh->mu);
    for (size_t i = 0; i < IOTCA_REHEARSAL_MAX && rc == IOTCA_OK; i++)
        if (rh->scen[i].name[0] && (rc = copy_out(&rh->scen[i], with_keys, &list[*n])) == IOTCA_OK) (*n)++;
    pthread_mutex_unlock(&rh->mu);
    if (rc != IOTCA_OK) {
        for (size_t i = 0; i < *n; i++) iotca_rehearsal_free(&list[i]);
        free(list);
        *n = 0;
        return rc;
    }
    *out = list;
    return IOTCA_OK;
}

iotca_rc iotca_ca_rehearsal_slot(iotca_ca *ca, unsigned slot, iotca_rehearsal *out, bool *found) {
    memset(out, 0, sizeof *out);
    *found = false;
    struct ca_rehearsal *rh = ca ? ca->rehearsal : NULL;
    if (rh == NULL || slot >= IOTCA_REHEARSAL_MAX) return IOTCA_OK;
    iotca_rc rc = IOTCA_OK;
    pthread_mutex_lock(&rh->mu);
    if (rh->scen[slot].name[0] && rh->scen[slot].available) {
        rc = copy_out(&rh->scen[slot], true, out);
        *found = rc == IOTCA_OK;
    }
    pthread_mutex_unlock(&rh->mu);
    return rc;
}

iotca_rc iotca_ca_rehearsal_lab_root(iotca_ca *ca, iotca_buf *pem) {
    struct ca_rehearsal *rh = ca ? ca->rehearsal : NULL;
    if (rh == NULL) return iotca_error_set(IOTCA_E_USAGE, "rehearsals are not configured");
    pthread_mutex_lock(&rh->mu);
    iotca_rc rc = rh_lab_make(rh, time(NULL));
    if (rc == IOTCA_OK) rc = iotca_pem_encode("CERTIFICATE", rh->lab_root.der.data, rh->lab_root.der.len, pem);
    pthread_mutex_unlock(&rh->mu);
    return rc;
}
