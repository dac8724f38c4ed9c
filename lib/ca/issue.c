/* The issuance cycle (STYLE.md, after Boulder's ISSUANCE-CYCLE): check policy, pick the issuer, draw the serial,
 * build the TBS, lint it, record the intent, sign those very bytes, re-parse and verify the result, record the
 * certificate, answer.
 *
 * The intent is the serial's reservation (UNIQUE in the store), carrying the SHA-256 of the linted TBS, the
 * issuer, the profile and the notAfter (schema 0012). It is queued for the group commit after the lint and
 * before the issuer key signs, and the certificate's record after the signature, so the record commits in the
 * same transaction as its intent or a later one, and the answer waits for the record. So: a lint refusal leaves
 * no reservation, no record and no signature; a reservation without a certificate says what was about to be
 * signed under it; a crash never reuses a serial; nothing signed leaves the process before its intent and its
 * record are durable. The signing does not wait for the intent's own commit: that would cost every issuance a
 * second commit in a row and a hand-off back to a crypto thread, for a signature nobody has seen yet (a crash
 * in between loses it with the process).
 *
 * A renewal (renew.c) runs this same cycle: the renewed certificate stands in for the CSR when the key is kept,
 * and the decision is checked against it (same subject and names) before anything is built. */
#include <errno.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_internal.h"
#include "iotca/pem.h"

void iotca_issued_free(iotca_issued *r) {
    iotca_buf_free(&r->cert_pem);
    iotca_buf_free(&r->chain_pem);
}

/* The two writes of an issuance, each joined to a group commit with concurrent issuances (lib/store/group.c):
 * one fsync makes a batch of intents and certificates durable. */
static iotca_rc write_intent(iotca_store *s, void *arg) { return iotca_store_serial_reserve_intent(s, arg); }

/* The certificate's record, and with it (if asked) the audit record of its issuance: one durable write. */
typedef struct cert_arg {
    const iotca_cert_rec *cert;
    const iotca_bridge_rec *bridge; /* NULL: not a bridge */
    iotca_audit_rec *audit;         /* NULL: none */
} cert_arg;

static iotca_rc write_cert(iotca_store *s, void *arg) {
    const cert_arg *a = arg;
    IOTCA_GUARD(iotca_store_cert_add(s, a->cert));
    if (a->bridge) IOTCA_GUARD(iotca_store_bridge_add(s, a->bridge));
    return a->audit ? ca_audit_append(s, a->audit) : IOTCA_OK;
}

/* One issuance from its start to its end. The starting thread reads the issuer's record; a crypto thread
 * (crypto_pool.c; the starting thread itself without them) checks the CSR, decides by the profile, draws the
 * serial, builds and lints the TBS, queues the intent, signs, re-parses and verifies the leaf, and queues its
 * record; the group commit's thread tells done once the record (or, after a failure, the intent) is done.
 * Nobody waits in between: an issuance costs no thread a sleep and a wake-up of its own. */
struct iotca_issuance {
    ca_crypto_job job; /* the signing, posted to a crypto thread */
    iotca_ca *ca;
    void (*done)(void *arg);
    void *done_arg;
    /* in */
    const iotca_profile *p;
    iotca_buf csr_in; /* a copy: the caller's is not referenced after start */
    long ttl;
    iotca_issuer_rec rec;
    time_t now;
    /* a renewal (renew.c): the certificate renewed, parsed (owned), and its serial; NULL and "" otherwise.
     * Without a CSR (csr_in empty) its subject, names and key are what is asked for again. */
    iotca_cert *renews;
    char renews_serial[41];
    bool audited;
    iotca_audit_rec ar; /* filled at start; its subject once the serial is drawn */
    /* a bridge (bridge.c): from the retiring issuer br.issuer_id, under a copy of the profile whose TTLs its
     * bridge_max_ttl caps; br is recorded with the certificate */
    bool bridge;
    iotca_profile bridge_profile;
    iotca_bridge_rec br;
    /* made by the signing */
    iotca_csr *csr;
    ca_issuer *is;
    iotca_decision d;
    uint8_t serial[IOTCA_SERIAL_LEN];
    iotca_buf hex, tbs, der;
    iotca_cert_spec spec; /* points into d, csr, ocsp and crl */
    char ocsp[512], crl[512];
    iotca_serial_intent intent;
    iotca_store_write reservation;
    bool reserved; /* queued: done is told only once it is done, whatever happens next */
    iotca_cert_rec cr;
    cert_arg arg;
    iotca_store_write record;
    bool recorded; /* queued: it commits with or after the reservation, so it is the one waited for */
    /* a failure after the reservation was queued, reported once the reservation is done */
    iotca_rc failed;
    char detail[512];
};

/* The TBS: the decision, the issuer and a fresh serial, encoded for the issuer key's signature algorithm. */
static iotca_rc build(iotca_issuance *x) {
    iotca_ca *ca = x->ca;
    const iotca_cert_info *ii = iotca_cert_get(x->is->cert);
    /* ordered by time (x509.h): the issuance's rows in serials, certificates and ocsp_responses land at the
     * edge of their serial-keyed B-trees, which a batch of issuances then shares, instead of a random leaf
     * page each */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    IOTCA_GUARD(iotca_serial_ordered((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, x->serial));
    IOTCA_GUARD(iotca_hex_encode(x->serial, sizeof x->serial, &x->hex));
    iotca_cert_spec *spec = &x->spec;
    spec->serial = iotca_slice_of(x->serial, sizeof x->serial);
    spec->issuer = ii->subject;
    spec->issuer_skid = ii->skid;
    spec->spki = x->csr ? iotca_csr_get(x->csr)->spki : iotca_cert_get(x->renews)->spki;
    iotca_decision_apply(&x->d, spec);
    if (ca->base_url) {
        snprintf(x->ocsp, sizeof x->ocsp, "%s/ocsp", ca->base_url);
        snprintf(x->crl, sizeof x->crl, "%s/crl/%lld.crl", ca->base_url, (long long)x->rec.id);
        spec->ocsp_url = x->ocsp;
        spec->crl_url = x->crl;
    }
    iotca_buf alg = {0};
    iotca_rc rc = iotca_key_sigalg(x->is->key, &alg);
    if (rc == IOTCA_OK) rc = iotca_cert_tbs(spec, iotca_buf_slice(&alg), &x->tbs);
    iotca_buf_free(&alg);
    IOTCA_GUARD(rc);
    return ca->tbs_hook ? ca->tbs_hook(ca->tbs_hook_arg, spec, &x->tbs) : IOTCA_OK;
}

/* The intent: the serial's reservation, saying what is about to be signed, queued for the next group commit.
 * It is the one write an issuance makes before its certificate's, as the bare reservation was before. */
static void queue_intent(iotca_issuance *x) {
    iotca_serial_intent *in = &x->intent;
    snprintf(in->serial, sizeof in->serial, "%s", (const char *)x->hex.data);
    in->issuer_id = x->rec.id;
    snprintf(in->profile, sizeof in->profile, "%s", x->p->name);
    in->not_after = x->spec.not_after;
    in->reserved_at = x->now;
    iotca_sha256(iotca_buf_slice(&x->tbs), in->tbs_sha256);
    iotca_store_group_submit(x->ca->group, &x->reservation, write_intent, in);
    x->reserved = true;
}

/* The record, and with it the audit record of the issuance: queued after the intent, so both commit in the
 * same transaction or the record in a later one (one fsync an issuance, not two). */
static iotca_rc queue_record(iotca_issuance *x) {
    iotca_cert_rec *cr = &x->cr;
    snprintf(cr->serial, sizeof cr->serial, "%s", (const char *)x->hex.data);
    cr->issuer_id = x->rec.id;
    snprintf(cr->profile, sizeof cr->profile, "%s", x->p->name);
    iotca_buf subj = {0};
    IOTCA_GUARD(iotca_name_format(x->spec.subject, &subj));
    snprintf(cr->subject, sizeof cr->subject, "%s", (const char *)subj.data);
    iotca_buf_free(&subj);
    cr->der = iotca_buf_borrow(x->der.data, x->der.len);
    cr->not_before = x->spec.not_before;
    cr->not_after = x->spec.not_after;
    cr->created_at = x->now;
    snprintf(cr->renews, sizeof cr->renews, "%s", x->renews_serial);
    if (x->audited && x->bridge)
        snprintf(x->ar.subject, sizeof x->ar.subject, "bridge certificate %s (%.20s) from retiring issuer %s",
                 cr->serial, x->p->name, x->rec.name);
    else if (x->audited)
        snprintf(x->ar.subject, sizeof x->ar.subject, "certificate %s (%.20s)%s%s", cr->serial, x->p->name,
                 x->renews ? " renewing " : "", x->renews_serial);
    if (x->bridge) {
        snprintf(x->br.serial, sizeof x->br.serial, "%s", cr->serial);
        x->br.not_after = cr->not_after;
        x->br.created_at = x->now;
    }
    x->arg = (cert_arg){cr, x->bridge ? &x->br : NULL, x->audited ? &x->ar : NULL};
    iotca_store_group_submit(x->ca->group, &x->record, write_cert, &x->arg);
    x->recorded = true;
    return IOTCA_OK;
}

/* The signing (on a crypto thread), up to the queued record. */
static iotca_rc sign(iotca_issuance *x) {
    iotca_ca *ca = x->ca;
    /* a renewal without a CSR keeps its predecessor's key: that key's possession was proved at its issuance */
    if (x->csr_in.len || !x->renews) IOTCA_GUARD(iotca_csr_parse(iotca_buf_slice(&x->csr_in), &x->csr));
    pthread_mutex_lock(&ca->lock);
    iotca_rc rc = ca_issuer_locked(ca, &x->rec, &x->is);
    pthread_mutex_unlock(&ca->lock);
    IOTCA_GUARD(rc);
    const iotca_cert_info *ii = iotca_cert_get(x->is->cert);
    iotca_request req = {x->csr, x->ttl, x->renews};
    IOTCA_GUARD(iotca_policy_decide(x->p, &req, x->now, ii->not_after, &x->d));
    /* a successor says what its predecessor said: the same subject and names as the profile decides them now */
    if (x->renews) IOTCA_GUARD(ca_renew_check(x->renews, x->renews_serial, &x->d));
    IOTCA_GUARD(build(x));
    /* nothing is queued or signed for a TBS the lint refuses */
    IOTCA_GUARD(iotca_lint_leaf(iotca_buf_slice(&x->tbs), x->is->cert, &x->spec));
    queue_intent(x);
    /* signs the linted bytes, re-parses the result, checks its TBS is them and verifies its signature with
     * the issuer's public key; the issuer's own certificate was verified against its root when it was loaded
     * (ca_issuer_locked) */
    IOTCA_GUARD(ca_issuer_sign_tbs(x->is, iotca_buf_slice(&x->tbs), &x->der));
    return queue_record(x);
}

/* A crypto thread's job: the signing, then the hand-over to the group commit, which tells done. */
static void sign_job(ca_crypto_job *j) {
    iotca_issuance *x = (iotca_issuance *)((char *)j - offsetof(iotca_issuance, job));
    iotca_rc rc = sign(x);
    if (rc != IOTCA_OK) {
        x->failed = rc;
        snprintf(x->detail, sizeof x->detail, "%s", iotca_error_detail());
    }
    iotca_store_write *last = x->recorded ? &x->record : x->reserved ? &x->reservation : NULL;
    if (last == NULL) { /* nothing queued: refused at once */
        x->done(x->done_arg);
        return;
    }
    /* the record commits with or after the reservation: once it is done, so is the reservation */
    if (iotca_store_group_notify(x->ca->group, last, x->done, x->done_arg) == IOTCA_OK) return;
    /* a group without a committer thread (no database path): wait here, then tell done all the same */
    iotca_store *s = NULL;
    (void)ca_store(x->ca, &s);
    if (x->recorded) (void)iotca_store_group_wait(x->ca->group, s, &x->record);
    (void)iotca_store_group_wait(x->ca->group, s, &x->reservation);
    x->done(x->done_arg);
}

static void issuance_free(iotca_issuance *x) {
    iotca_buf_free(&x->csr_in);
    iotca_csr_free(x->csr);
    iotca_issuer_rec_free(&x->rec);
    iotca_decision_free(&x->d);
    iotca_buf_free(&x->der);
    iotca_buf_free(&x->tbs);
    iotca_buf_free(&x->hex);
    iotca_cert_free(x->renews);
    free(x);
}

/* Counts a refusal (after freeing what out holds, if given, keeping the error's detail) or an issuance. */
static iotca_rc count(iotca_ca *ca, iotca_rc rc, iotca_issued *out) {
    if (rc != IOTCA_OK) {
        char keep[512];
        snprintf(keep, sizeof keep, "%s", iotca_error_detail());
        if (out) iotca_issued_free(out);
        iotca_error_set(rc, "%s", keep);
        __atomic_add_fetch(&ca->stats.refused, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(&ca->stats.issued, 1, __ATOMIC_RELAXED);
    }
    return rc;
}

/* A bridge's issuer and terms (issue 24): the issuer named, of the profile's group and retiring (never active,
 * staged, retired or expired), for a profile that allows bridges; the profile copied with its TTLs capped by
 * bridge_max_ttl, and the issuer's end caps it as for any leaf. */
static iotca_rc bridge_issuer(iotca_issuance *x, iotca_store *s) {
    const iotca_profile *p = x->p;
    IOTCA_ENSURE(p->bridge_max_ttl > 0, IOTCA_E_POLICY,
                 "profile %s does not allow bridge certificates (its config has no bridge_max_ttl)", p->name);
    IOTCA_GUARD(iotca_store_issuer_get(s, x->br.issuer_id, &x->rec));
    IOTCA_ENSURE(strcmp(x->rec.group, p->issuer_group) == 0, IOTCA_E_POLICY,
                 "issuer %s is of group %s, and profile %s issues from group %s", x->rec.name, x->rec.group, p->name,
                 p->issuer_group);
    IOTCA_ENSURE(x->rec.state == IOTCA_ISSUER_RETIRING, IOTCA_E_POLICY,
                 "a bridge certificate comes only from a retiring issuer: issuer %s is %s", x->rec.name,
                 iotca_issuer_state_name(x->rec.state));
    IOTCA_ENSURE(x->rec.not_after > x->now, IOTCA_E_POLICY, "issuer %s has expired", x->rec.name);
    x->bridge_profile = *p;
    x->bridge_profile.max_ttl = p->bridge_max_ttl;
    if (x->bridge_profile.default_ttl > p->bridge_max_ttl) x->bridge_profile.default_ttl = p->bridge_max_ttl;
    x->p = &x->bridge_profile;
    return IOTCA_OK;
}

/* What the starting thread does: the profile and the issuer's record (two reads of a small table), so the
 * crypto thread gets all it needs at once. */
static iotca_rc start(iotca_issuance *x, iotca_slice csr, const char *profile, long ttl, const iotca_issue_audit *au,
                      const ca_bridge *bridge) {
    iotca_ca *ca = x->ca;
    x->p = iotca_ca_profile(ca, profile);
    if (x->p == NULL) {
        char known[512];
        IOTCA_BAIL(IOTCA_E_USAGE, "unknown profile '%s' (known profiles: %s)", profile ? profile : "",
                   iotca_ca_profile_names(ca, NULL, known, sizeof known));
    }
    x->ttl = ttl;
    x->now = time(NULL);
    if (au) {
        x->audited = true;
        ca_audit_fill(&x->ar, au->actor, au->action, "", au->request_id, au->outcome, "");
    }
    if (bridge) { /* checked by iotca_ca_issue_bridge: a justification of 1 to 200 bytes, an actor */
        x->bridge = true;
        x->br.issuer_id = bridge->issuer_id;
        snprintf(x->br.justification, sizeof x->br.justification, "%s", bridge->justification);
        snprintf(x->br.actor, sizeof x->br.actor, "%s", au && au->actor ? au->actor : "anonymous");
        if (x->audited) snprintf(x->ar.detail, sizeof x->ar.detail, "justification: %s", bridge->justification);
    }
    IOTCA_GUARD(iotca_buf_append(&x->csr_in, csr.p, csr.len));
    iotca_store *s = NULL;
    int64_t iid;
    IOTCA_GUARD(ca_store(ca, &s));
    if (x->bridge) return bridge_issuer(x, s);
    /* no issuer that can sign is the CA's state, not the request's fault: 503, as /readyz says */
    iotca_rc rc = iotca_store_issuer_active(s, x->p->issuer_group, &iid);
    IOTCA_ENSURE(rc != IOTCA_E_POLICY, IOTCA_E_UNAVAILABLE, "no issuer of group %s can sign: none is active; %s",
                 x->p->issuer_group, ca_no_issuer_remedy);
    IOTCA_GUARD(rc);
    IOTCA_GUARD(iotca_store_issuer_get(s, iid, &x->rec));
    /* past its notAfter before the tick retired it: refused as the tick will see it, not as a TTL rule */
    IOTCA_ENSURE(x->rec.not_after > x->now, IOTCA_E_UNAVAILABLE,
                 "no issuer of group %s can sign: issuer %s expired; import and activate its successor",
                 x->p->issuer_group, x->rec.name);
    return IOTCA_OK;
}

iotca_rc iotca_ca_issue_start(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl,
                              const iotca_issue_audit *audit, void (*done)(void *arg), void *arg,
                              iotca_issuance **out) {
    return ca_issue_start(ca, csr, profile, ttl, audit, NULL, NULL, NULL, done, arg, out);
}

iotca_rc ca_issue_start(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl, const iotca_issue_audit *audit,
                        iotca_cert *renews, const char *renews_serial, const ca_bridge *bridge,
                        void (*done)(void *arg), void *arg, iotca_issuance **out) {
    if (!(ca && done && out)) {
        iotca_cert_free(renews);
        IOTCA_BAIL(IOTCA_E_USAGE, "iotca_ca_issue_start: NULL argument");
    }
    *out = NULL;
    iotca_issuance *x = calloc(1, sizeof *x);
    if (x == NULL) {
        iotca_cert_free(renews);
        IOTCA_BAIL(IOTCA_E_INTERNAL, "out of memory");
    }
    x->ca = ca;
    x->done = done;
    x->done_arg = arg;
    x->renews = renews; /* owned from here: issuance_free frees it */
    if (renews) snprintf(x->renews_serial, sizeof x->renews_serial, "%s", renews_serial);
    iotca_rc rc = start(x, csr, profile, ttl, audit, bridge);
    if (rc != IOTCA_OK) {
        issuance_free(x); /* frees only: the error's detail stays */
        return count(ca, rc, NULL);
    }
    *out = x; /* before the post: done may be told before this returns */
    x->job.fn = sign_job;
    ca_crypto_post(ca, &x->job);
    return IOTCA_OK;
}

iotca_rc iotca_ca_issue_end(iotca_issuance *x, iotca_issued *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(x != NULL, IOTCA_E_USAGE, "iotca_ca_issue_end: no issuance");
    iotca_ca *ca = x->ca;
    iotca_rc rc = x->failed;
    if (rc != IOTCA_OK) {
        iotca_error_set(rc, "%s", x->detail);
    } else {
        /* a serial collision fails the record too (it requires the reservation): the reservation's error
         * is the one reported */
        rc = iotca_store_group_result(ca->group, &x->reservation);
        if (rc == IOTCA_OK) rc = iotca_store_group_result(ca->group, &x->record);
    }
    if (rc == IOTCA_OK) {
        /* durable: now it may be seen. Its pre-signed "good" OCSP answer is made by the tick
         * (ca_ocsp_tick), off the issuance path; until then the responder signs one on demand */
        const iotca_cert_info *ii = iotca_cert_get(x->is->cert);
        snprintf(out->serial, sizeof out->serial, "%s", x->cr.serial);
        out->issuer_id = x->cr.issuer_id;
        out->not_before = x->cr.not_before;
        out->not_after = x->cr.not_after;
        out->ttl_asked = x->d.ttl_asked;
        out->ttl_granted = x->d.ttl_granted;
        out->capped_by_issuer = x->d.capped_by_issuer;
        snprintf(out->issuer_name, sizeof out->issuer_name, "%s", x->rec.name);
        out->issuer_not_after = x->rec.not_after;
        snprintf(out->renews, sizeof out->renews, "%s", x->renews_serial);
        rc = iotca_pem_encode("CERTIFICATE", x->der.data, x->der.len, &out->cert_pem);
        if (rc == IOTCA_OK) rc = iotca_pem_encode("CERTIFICATE", ii->der.p, ii->der.len, &out->chain_pem);
    }
    rc = count(ca, rc, out);
    issuance_free(x);
    return rc;
}

/* The synchronous form: start, wait for done on a semaphore, end. */
static void post_sem(void *arg) { sem_post(arg); }

iotca_rc iotca_ca_issue(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl, iotca_issued *out) {
    return iotca_ca_issue_audited(ca, csr, profile, ttl, NULL, out);
}

iotca_rc iotca_ca_issue_audited(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl,
                                const iotca_issue_audit *audit, iotca_issued *out) {
    return ca_issue_sync(ca, csr, profile, ttl, audit, NULL, NULL, NULL, out);
}

iotca_rc ca_issue_sync(iotca_ca *ca, iotca_slice csr, const char *profile, long ttl, const iotca_issue_audit *audit,
                       iotca_cert *renews, const char *renews_serial, const ca_bridge *bridge, iotca_issued *out) {
    memset(out, 0, sizeof *out);
    sem_t done;
    if (sem_init(&done, 0, 0) != 0) {
        iotca_cert_free(renews);
        IOTCA_BAIL(IOTCA_E_INTERNAL, "cannot make a semaphore");
    }
    iotca_issuance *x = NULL;
    iotca_rc rc = ca_issue_start(ca, csr, profile, ttl, audit, renews, renews_serial, bridge, post_sem, &done, &x);
    if (rc == IOTCA_OK) {
        int w;
        do w = sem_wait(&done);
        while (w != 0 && errno == EINTR); /* a signal handler ran: the issuance is still ours to wait for */
        rc = iotca_ca_issue_end(x, out);
    }
    sem_destroy(&done); /* leaves the error's detail as it is */
    return rc;
}

/* Inventory reads go to the read replica when there is one (issue 25). */
iotca_rc iotca_ca_cert_get(iotca_ca *ca, const char *serial, iotca_cert_rec *out) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_read_store(ca, &s));
    return iotca_store_cert_get(s, serial, out);
}

iotca_rc iotca_ca_cert_list(iotca_ca *ca, const iotca_cert_filter *f, iotca_cert_rec **out, size_t *n) {
    iotca_store *s = NULL;
    IOTCA_GUARD(ca_read_store(ca, &s));
    return iotca_store_cert_list(s, f, out, n);
}

iotca_rc iotca_ca_cert_revoke(iotca_ca *ca, const char *serial, int reason, iotca_revoke_note *note) {
    iotca_store *s = NULL;
    iotca_cert_rec c = {0};
    IOTCA_GUARD(ca_store(ca, &s));
    IOTCA_GUARD(iotca_store_cert_get(s, serial, &c));
    int64_t issuer_id = c.issuer_id;
    iotca_cert_rec_free(&c);
    IOTCA_GUARD(iotca_store_cert_revoke(s, serial, reason, time(NULL)));
    ca_ocsp_forget(ca, serial); /* before anyone is told: no cached "good" answer outlives the revocation */
    iotca_store_signal_bump(ca->signal); /* ... in any process sharing the database either */
    __atomic_add_fetch(&ca->stats.revoked, 1, __ATOMIC_RELAXED);
    /* the revocation is recorded; publishing it follows at once (and the
     * tick retries whatever fails here) */
    IOTCA_GUARD(ca_ocsp_on_revoke(ca, s, serial));
    iotca_revoke_note ignored;
    return ca_crl_on_revoke(ca, s, issuer_id, note ? note : &ignored);
}
