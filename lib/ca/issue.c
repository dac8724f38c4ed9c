/* The issuance cycle (STYLE.md, after Boulder's ISSUANCE-CYCLE): policy, issuer, serial, TBS, lint, sign,
 * verify, record, answer — in that order, so a refusal leaves no record and a crash never reuses a serial. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ca_internal.h"
#include "iotca/pem.h"

void iotca_issued_free(iotca_issued *r) {
    iotca_buf_free(&r->cert_pem);
    iotca_buf_free(&r->chain_pem);
}

/* Independent checks of the signed leaf against what was decided: a second
 * look by a different code path (the parser), as certificate linters do. */
static iotca_rc lint_leaf(const iotca_cert *leaf, const iotca_cert *issuer, const iotca_cert_spec *spec) {
    const iotca_cert_info *l = iotca_cert_get(leaf), *i = iotca_cert_get(issuer);
    IOTCA_ENSURE(!l->is_ca && !(l->key_usage & (IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN)), IOTCA_E_INTERNAL,
                 "lint: leaf would be a CA");
    IOTCA_ENSURE(l->not_after <= i->not_after, IOTCA_E_INTERNAL, "lint: leaf outlives its issuer");
    IOTCA_ENSURE(l->not_before < l->not_after, IOTCA_E_INTERNAL, "lint: empty validity");
    IOTCA_ENSURE(iotca_slice_eq(l->issuer, i->subject), IOTCA_E_INTERNAL, "lint: issuer name mismatch");
    IOTCA_ENSURE(iotca_slice_eq(l->akid, i->skid), IOTCA_E_INTERNAL, "lint: AKID does not match issuer SKID");
    IOTCA_ENSURE(iotca_slice_eq(l->serial, spec->serial) && l->serial.len >= 8, IOTCA_E_INTERNAL,
                 "lint: serial mismatch or under 64 bits");
    IOTCA_ENSURE(l->n_unknown_critical == 0, IOTCA_E_INTERNAL, "lint: unknown critical extension");
    IOTCA_ENSURE(l->eku == spec->eku, IOTCA_E_INTERNAL, "lint: EKU differs from the profile");
    if (spec->n_dns + spec->n_ips + spec->n_uris) {
        iotca_names n;
        IOTCA_GUARD(iotca_names_parse(l->san, &n));
        IOTCA_ENSURE(n.n_dns == spec->n_dns && n.n_ips == spec->n_ips && n.n_uris == spec->n_uris, IOTCA_E_INTERNAL,
                     "lint: SAN differs from the decision");
    } else {
        IOTCA_ENSURE(l->san.len == 0, IOTCA_E_INTERNAL, "lint: unexpected SAN");
    }
    return IOTCA_OK;
}

/* The two writes of an issuance, each joined to a group commit with concurrent issuances (lib/store/group.c):
 * one fsync makes a batch of reservations (or of certificates) durable. */
typedef struct reserve_arg {
    const char *serial;
    int64_t issuer_id;
    time_t now;
} reserve_arg;

static iotca_rc write_reserve(iotca_store *s, void *arg) {
    const reserve_arg *r = arg;
    return iotca_store_serial_reserve(s, r->serial, r->issuer_id, r->now);
}

/* The certificate's record, and with it (if asked) the audit record of its issuance: one durable write. */
typedef struct cert_arg {
    const iotca_cert_rec *cert;
    iotca_audit_rec *audit; /* NULL: none */
} cert_arg;

static iotca_rc write_cert(iotca_store *s, void *arg) {
    const cert_arg *a = arg;
    IOTCA_GUARD(iotca_store_cert_add(s, a->cert));
    return a->audit ? ca_audit_append(s, a->audit) : IOTCA_OK;
}

/* What a crypto thread does of an issuance (ca_crypto_run, crypto_pool.c) while the issuing thread waits,
 * between the issuer's record, read by the issuing thread, and the certificate's record: check the CSR (its
 * signature, with the requester's key), decide by the profile, draw the serial and queue its reservation,
 * build the leaf, sign it, re-parse it, verify it with the issuer's key and lint it. One hand-over a
 * issuance: each costs the issuing thread a sleep and a wake-up. */
typedef struct signing {
    /* in */
    iotca_ca *ca;
    const iotca_profile *p;
    iotca_slice csr_in;
    long ttl;
    const iotca_issuer_rec *rec;
    time_t now;
    /* out, freed by the issuing thread */
    iotca_csr *csr;
    ca_issuer *is;
    iotca_decision d;
    uint8_t serial[IOTCA_SERIAL_LEN];
    iotca_buf hex, der;
    iotca_cert *leaf;
    iotca_cert_spec spec; /* points into d, csr, ocsp and crl */
    char ocsp[512], crl[512];
    reserve_arg ra;
    iotca_store_write reservation;
    bool reserved; /* queued: the issuing thread must wait for it, whatever happens next */
} signing;

static iotca_rc run_signing(void *arg) {
    signing *g = arg;
    iotca_ca *ca = g->ca;
    IOTCA_GUARD(iotca_csr_parse(g->csr_in, &g->csr));
    pthread_mutex_lock(&ca->lock);
    iotca_rc rc = ca_issuer_locked(ca, g->rec, &g->is);
    pthread_mutex_unlock(&ca->lock);
    IOTCA_GUARD(rc);
    const iotca_cert_info *ii = iotca_cert_get(g->is->cert);
    iotca_request req = {g->csr, g->ttl};
    IOTCA_GUARD(iotca_policy_decide(g->p, &req, g->now, ii->not_after, &g->d));

    IOTCA_GUARD(iotca_serial_random(g->serial));
    IOTCA_GUARD(iotca_hex_encode(g->serial, sizeof g->serial, &g->hex));
    /* the reservation is queued for the next group commit before signing; it is waited for by the issuing
     * thread, and commits no later than the certificate's own record, which is what must be durable before
     * answering */
    g->ra = (reserve_arg){(const char *)g->hex.data, g->rec->id, g->now};
    iotca_store_group_submit(ca->group, &g->reservation, write_reserve, &g->ra);
    g->reserved = true;

    iotca_cert_spec *spec = &g->spec;
    spec->serial = iotca_slice_of(g->serial, sizeof g->serial);
    spec->issuer = ii->subject;
    spec->issuer_skid = ii->skid;
    spec->spki = iotca_csr_get(g->csr)->spki;
    iotca_decision_apply(&g->d, spec);
    if (ca->base_url) {
        snprintf(g->ocsp, sizeof g->ocsp, "%s/ocsp", ca->base_url);
        snprintf(g->crl, sizeof g->crl, "%s/crl/%lld.crl", ca->base_url, (long long)g->rec->id);
        spec->ocsp_url = g->ocsp;
        spec->crl_url = g->crl;
    }
    /* signs, re-parses the result and verifies its signature with the issuer's public key; the issuer's
     * own certificate was verified against its root when it was loaded (ca_issuer_locked) */
    IOTCA_GUARD(ca_issuer_sign(g->is, spec, &g->der));
    IOTCA_GUARD(iotca_cert_parse(iotca_buf_slice(&g->der), &g->leaf));
    return lint_leaf(g->leaf, g->is->cert, spec);
}

static iotca_rc issue(iotca_ca *ca, iotca_slice csr_in, const char *profile, long ttl, const iotca_issue_audit *au,
                      iotca_issued *out) {
    const iotca_profile *p = iotca_ca_profile(ca, profile);
    IOTCA_ENSURE(p != NULL, IOTCA_E_USAGE, "unknown profile '%s'", profile ? profile : "");
    iotca_rc rc = IOTCA_OK;
    iotca_store *s = NULL;
    iotca_issuer_rec rec = {0};
    int64_t iid;
    signing g = {.ca = ca, .p = p, .csr_in = csr_in, .ttl = ttl, .rec = &rec, .now = time(NULL)};

    /* the issuer first (two reads of a small table), so that the crypto thread gets all it needs at once */
    IOTCA_TRY(ca_store(ca, &s));
    IOTCA_TRY(iotca_store_issuer_active(s, p->issuer_group, &iid));
    IOTCA_TRY(iotca_store_issuer_get(s, iid, &rec));
    IOTCA_TRY(ca_crypto_run(ca, run_signing, &g));
    const iotca_cert_info *ii = iotca_cert_get(g.is->cert);

    iotca_cert_rec cr = {0};
    snprintf(cr.serial, sizeof cr.serial, "%s", (const char *)g.hex.data);
    cr.issuer_id = iid;
    snprintf(cr.profile, sizeof cr.profile, "%s", p->name);
    iotca_buf subj = {0};
    IOTCA_TRY(iotca_name_format(g.spec.subject, &subj));
    snprintf(cr.subject, sizeof cr.subject, "%s", (const char *)subj.data);
    iotca_buf_free(&subj);
    cr.der = iotca_buf_borrow(g.der.data, g.der.len);
    cr.not_before = g.spec.not_before;
    cr.not_after = g.spec.not_after;
    cr.created_at = g.now;
    iotca_audit_rec ar;
    if (au) {
        char subject[128];
        snprintf(subject, sizeof subject, "certificate %s (%.20s)", cr.serial, p->name);
        ca_audit_fill(&ar, au->actor, au->action, subject, au->request_id, au->outcome, "");
    }
    cert_arg ca_arg = {&cr, au ? &ar : NULL};
    /* queued after the reservation, so it commits in the same transaction or a later one: waiting for the
     * record alone is one fsync per issuance, not two. A reservation that failed (a serial collision) makes
     * the record fail too (it requires the reservation), and its own error is the one reported. */
    iotca_store_write record;
    iotca_store_group_submit(ca->group, &record, write_cert, &ca_arg);
    iotca_rc rec_rc = iotca_store_group_wait(ca->group, s, &record); /* durable before anyone sees it */
    char rec_detail[512];
    snprintf(rec_detail, sizeof rec_detail, "%s", iotca_error_detail());
    g.reserved = false;
    IOTCA_TRY(iotca_store_group_wait(ca->group, s, &g.reservation)); /* already done: it was queued first */
    if (rec_rc != IOTCA_OK) {
        rc = iotca_error_set(rec_rc, "%s", rec_detail);
        goto out;
    }
    /* its pre-signed "good" OCSP answer is made by the tick (ca_ocsp_tick), off the issuance path; until
     * then the responder signs one on demand */

    snprintf(out->serial, sizeof out->serial, "%s", (const char *)g.hex.data);
    out->issuer_id = iid;
    out->not_before = g.spec.not_before;
    out->not_after = g.spec.not_after;
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE", g.der.data, g.der.len, &out->cert_pem));
    IOTCA_TRY(iotca_pem_encode("CERTIFICATE", ii->der.p, ii->der.len, &out->chain_pem));
out:
    if (g.reserved) { /* a failure after queueing the reservation: it must still be waited for */
        char keep[512];
        snprintf(keep, sizeof keep, "%s", iotca_error_detail());
        (void)iotca_store_group_wait(ca->group, s, &g.reservation);
        iotca_error_set(rc, "%s", keep);
    }
    iotca_csr_free(g.csr);
    iotca_cert_free(g.leaf);
    iotca_issuer_rec_free(&rec);
    iotca_decision_free(&g.d);
    iotca_buf_free(&g.der);
    iotca_buf_free(&g.hex);
    return rc;
}

iotca_rc iotca_ca_issue(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl, iotca_issued *out) {
    return iotca_ca_issue_audited(ca, csr, profile, ttl, NULL, out);
}

iotca_rc iotca_ca_issue_audited(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl,
                                const iotca_issue_audit *audit, iotca_issued *out) {
    memset(out, 0, sizeof *out);
    iotca_rc rc = issue(ca, csr, profile, ttl, audit, out);
    if (rc != IOTCA_OK) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", iotca_error_detail());
        iotca_issued_free(out);
        iotca_error_set(rc, "%s", keep);
        __atomic_add_fetch(&ca->stats.refused, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&ca->stats.issued, 1, __ATOMIC_RELAXED);
    }
    return rc;
}

iotca_rc iotca_ca_cert_get(iotca_ca *ca, const char *serial, iotca_cert_rec *out) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_cert_get(s, serial, out);
}

iotca_rc iotca_ca_cert_list(iotca_ca *ca, const iotca_cert_filter *f, iotca_cert_rec **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_store(ca, &s));
    return iotca_store_cert_list(s, f, out, n);
}

iotca_rc iotca_ca_cert_revoke(iotca_ca *ca, const char *serial, int reason) {
    iotca_store *s = NULL;
    iotca_cert_rec c = {0};
    IOTCA_GUARD(ca_store(ca, &s));
    IOTCA_GUARD(iotca_store_cert_get(s, serial, &c));
    int64_t issuer_id = c.issuer_id;
    iotca_cert_rec_free(&c);
    IOTCA_GUARD(iotca_store_cert_revoke(s, serial, reason, time(NULL)));
    ca_ocsp_forget(ca, serial); /* before anyone is told: no cached "good" answer outlives the revocation */
    __atomic_add_fetch(&ca->stats.revoked, 1, __ATOMIC_RELAXED);
    /* the revocation is recorded; publishing it follows at once (and the
     * tick retries whatever fails here) */
    IOTCA_GUARD(ca_ocsp_on_revoke(ca, s, serial));
    return ca_crl_on_revoke(ca, s, issuer_id);
}
