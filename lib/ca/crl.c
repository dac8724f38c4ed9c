/* Per-issuer CRLs (RFC 5280 §5): signed by the issuer, numbered monotonically, regenerated at once on a
 * revocation and by the tick before half their validity has passed; retiring and retired issuers keep
 * publishing while any of their leaves is unexpired. Also the root CRLs imported from the offline ceremony. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_internal.h"

#define DAY 86400
#define CRL_VALIDITY (7 * DAY)    /* nextUpdate - thisUpdate */
#define CRL_REFRESH (CRL_VALIDITY / 2) /* regenerate when less than this is left */
#define BACKDATE 60

/* Revoked entries gathered from the store's cursor. The serials live in one
 * buffer; entries point into it once gathering is done. */
typedef struct gather {
    iotca_crl_entry *entries;
    size_t n, cap;
    size_t *offs;
    iotca_buf serials;
} gather;

static iotca_rc add_entry(void *ctx, const iotca_revoked_rec *r) {
    gather *g = ctx;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        iotca_crl_entry *e = realloc(g->entries, cap * sizeof *e);
        size_t *o = e ? realloc(g->offs, cap * sizeof *o) : NULL;
        IOTCA_ENSURE(e && o, IOTCA_E_INTERNAL, "out of memory");
        g->entries = e;
        g->offs = o;
        g->cap = cap;
    }
    g->offs[g->n] = g->serials.len;
    IOTCA_GUARD(iotca_hex_decode(r->serial, &g->serials));
    iotca_crl_entry *e = &g->entries[g->n++];
    e->serial.len = g->serials.len - g->offs[g->n - 1];
    e->revoked_at = r->revoked_at;
    e->reason = (iotca_reason)r->reason;
    return IOTCA_OK;
}

/* One CRL generation at a time in this process: the tick and a revocation may both regenerate. */
static pthread_mutex_t crl_mu = PTHREAD_MUTEX_INITIALIZER;

/* Signs a new CRL for the issuer, numbered one above the stored one. */
static iotca_rc generate_locked(iotca_ca *ca, iotca_store *s, int64_t issuer_id, time_t now) {
    ca_issuer *is;
    IOTCA_GUARD(ca_issuer_by_id(ca, s, issuer_id, &is));
    iotca_crl_rec cur = {0};
    iotca_rc rc = iotca_store_crl_get(s, issuer_id, &cur);
    uint64_t number = rc == IOTCA_OK ? cur.number + 1 : 1;
    iotca_buf_free(&cur.der);
    if (rc != IOTCA_OK && rc != IOTCA_E_USAGE) return rc;
    gather g = {0};
    rc = iotca_store_revoked_each(s, issuer_id, now - DAY, add_entry, &g); /* expired ones may leave (RFC 5280 §3.3) */
    for (size_t i = 0; rc == IOTCA_OK && i < g.n; i++) g.entries[i].serial.p = g.serials.data + g.offs[i];
    iotca_crl_rec next = {0};
    const iotca_cert_info *ii = iotca_cert_get(is->cert);
    iotca_crl_spec spec = {ii->subject, ii->skid, now - BACKDATE, now + CRL_VALIDITY, number, g.entries, g.n};
    if (rc == IOTCA_OK) {
        pthread_mutex_lock(&ca->lock);
        rc = iotca_crl_sign(&spec, is->key, &next.der);
        pthread_mutex_unlock(&ca->lock);
    }
    if (rc == IOTCA_OK) {
        next.number = number;
        next.this_update = spec.this_update;
        next.next_update = spec.next_update;
        rc = iotca_store_crl_put(s, issuer_id, &next);
    }
    iotca_buf_free(&next.der);
    free(g.entries);
    free(g.offs);
    iotca_buf_free(&g.serials);
    return rc;
}

static iotca_rc generate(iotca_ca *ca, iotca_store *s, int64_t issuer_id, time_t now) {
    pthread_mutex_lock(&crl_mu);
    iotca_rc rc = generate_locked(ca, s, issuer_id, now);
    /* another iotcad sharing the database may have published the same number first: take the next one */
    for (int tries = 0; rc == IOTCA_E_POLICY && strstr(iotca_error_detail(), "not greater") && tries < 3; tries++)
        rc = generate_locked(ca, s, issuer_id, now);
    pthread_mutex_unlock(&crl_mu);
    return rc;
}

iotca_rc ca_crl_on_revoke(iotca_ca *ca, iotca_store *s, int64_t issuer_id) { return generate(ca, s, issuer_id, time(NULL)); }

iotca_rc ca_crl_tick(iotca_ca *ca, iotca_store *s, time_t now, int *changes) {
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    IOTCA_GUARD(iotca_store_issuer_list(s, &list, &n));
    iotca_rc rc = IOTCA_OK;
    for (size_t i = 0; i < n && rc == IOTCA_OK; i++) {
        iotca_issuer_rec *is = &list[i];
        bool publishes = is->state == IOTCA_ISSUER_ACTIVE || is->state == IOTCA_ISSUER_RETIRING ||
                         (is->state == IOTCA_ISSUER_RETIRED && is->not_after > now); /* leaves end before it */
        if (!publishes || is->cert.len == 0) continue;
        iotca_crl_rec cur = {0};
        iotca_rc got = iotca_store_crl_get(s, is->id, &cur);
        iotca_buf_free(&cur.der);
        if (got != IOTCA_OK && got != IOTCA_E_USAGE) rc = got;
        else if (got == IOTCA_E_USAGE || cur.next_update - now < CRL_REFRESH) {
            rc = generate(ca, s, is->id, now);
            if (rc == IOTCA_OK && changes) (*changes)++;
        }
    }
    for (size_t i = 0; i < n; i++) iotca_issuer_rec_free(&list[i]);
    free(list);
    return rc;
}

iotca_rc iotca_ca_crl(iotca_ca *ca, int64_t issuer_id, iotca_crl_rec *out) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    iotca_rc rc = iotca_store_crl_get(s, issuer_id, out);
    if (rc != IOTCA_E_USAGE) return rc;
    iotca_issuer_rec rec = {0};
    rc = iotca_store_issuer_get(s, issuer_id, &rec);
    bool published = rc == IOTCA_OK && rec.cert.len && rec.state != IOTCA_ISSUER_PENDING && rec.state != IOTCA_ISSUER_STAGED;
    iotca_issuer_rec_free(&rec);
    IOTCA_ENSURE(published, IOTCA_E_USAGE, "no CRL for issuer %lld", (long long)issuer_id);
    IOTCA_GUARD(generate(ca, s, issuer_id, time(NULL)));
    return iotca_store_crl_get(s, issuer_id, out);
}

static void root_key(const iotca_cert *root, char hex[65]) {
    uint8_t fp[32];
    iotca_cert_fingerprint(root, fp);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", fp[i]);
}

iotca_rc iotca_ca_root_crl_import(iotca_ca *ca, iotca_slice crl, size_t *root_index, uint64_t *number) {
    iotca_buf der = {0};
    iotca_crl_info info;
    iotca_rc rc = iotca_crl_parse(crl, &der, &info);
    size_t idx = 0;
    if (rc == IOTCA_OK && !info.has_number) rc = iotca_error_set(IOTCA_E_PARSE, "the CRL has no CRL number");
    for (size_t i = 0; rc == IOTCA_OK && i < ca->n_roots && !idx; i++)
        if (iotca_crl_verify(&info, ca->roots[i]) == IOTCA_OK) idx = i + 1;
    if (rc == IOTCA_OK && !idx) rc = iotca_error_set(IOTCA_E_POLICY, "the CRL is not signed by a configured root");
    if (rc == IOTCA_OK && info.next_update <= time(NULL)) rc = iotca_error_set(IOTCA_E_POLICY, "the CRL is already past its nextUpdate");
    iotca_store *s = NULL;
    if (rc == IOTCA_OK) rc = ca_store(ca, &s);
    if (rc == IOTCA_OK) {
        char key[65];
        root_key(ca->roots[idx - 1], key);
        iotca_crl_rec r = {info.number, info.this_update, info.next_update, iotca_buf_borrow(der.data, der.len)};
        rc = iotca_store_root_crl_put(s, key, &r);
    }
    if (rc == IOTCA_OK) {
        *root_index = idx;
        *number = info.number;
    }
    iotca_buf_free(&der);
    return rc;
}

iotca_rc iotca_ca_root_crl(iotca_ca *ca, size_t root_index, iotca_crl_rec *out) {
    IOTCA_ENSURE(root_index >= 1 && root_index <= ca->n_roots, IOTCA_E_USAGE, "no root %zu", root_index);
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    char key[65];
    root_key(ca->roots[root_index - 1], key);
    return iotca_store_root_crl_get(s, key, out);
}
