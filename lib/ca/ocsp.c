/* OCSP for fleets: a delegated responder certificate per issuer (id-kp-OCSPSigning, ocsp-nocheck), made and
 * renewed automatically so the issuer key signs only that; every certificate's answer pre-signed at issuance,
 * re-signed at once on revocation and by the tick well before nextUpdate. The hot path is a lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca_internal.h"
#include "iotca/file.h"
#include "iotca/ocsp.h"

#define DAY 86400
#define RESPONSE_VALIDITY (4 * DAY)   /* nextUpdate - thisUpdate */
#define RESPONSE_REFRESH (2 * DAY)    /* re-sign when less than this is left */
#define SIGNER_VALIDITY (30 * DAY)
#define SIGNER_RENEW (10 * DAY)       /* > RESPONSE_VALIDITY: a response never outlives its signer */
#define TICK_BATCH 2000
#define TICK_CHUNK 32 /* answers per group write */
#define BACKDATE 60                   /* thisUpdate = signing time - BACKDATE, for clock skew */

/* Makes a new delegated responder for issuer `is`, signed by the issuer key. Caller holds ca->lock. */
static iotca_rc new_signer(iotca_ca *ca, iotca_store *s, ca_issuer *is, time_t now) {
    const iotca_cert_info *ii = iotca_cert_get(is->cert);
    iotca_rc rc = IOTCA_OK;
    iotca_key *key = NULL;
    iotca_cert *cert = NULL;
    iotca_buf spki = {0}, name = {0}, cn = {0}, der = {0};
    iotca_ocsp_signer_rec rec = {0};
    bool made = false; /* a key exists that no record names yet */
    char path[sizeof rec.key_ref] = "";
    uint8_t serial[IOTCA_SERIAL_LEN];
    IOTCA_CHECK(ii->not_after > now + RESPONSE_VALIDITY, IOTCA_E_POLICY,
                "issuer %lld expires too soon to delegate OCSP", (long long)is->id);
    IOTCA_TRY(iotca_name_cn(ii->subject, &cn));
    char label[80];
    snprintf(label, sizeof label, "%.48s OCSP responder", cn.len ? (const char *)cn.data : "iotca");
    IOTCA_TRY(iotca_serial_random(serial));
    char hex[2 * IOTCA_SERIAL_LEN + 1], file[96], klabel[64];
    for (size_t i = 0; i < sizeof serial; i++) snprintf(hex + 2 * i, 3, "%02x", serial[i]);
    snprintf(file, sizeof file, "ocsp-%lld-%s", (long long)is->id, hex);
    snprintf(klabel, sizeof klabel, "iotca ocsp %lld %.16s", (long long)is->id, hex);
    /* a software key (encrypted in key_dir: the KDF alone takes about a quarter second) or one on the token;
     * made outside ca->lock, so issuance, which takes ca->lock to look up profiles and issuers, never waits */
    IOTCA_TRY(ca_key_new(ca, file, klabel, IOTCA_KEY_ECDSA_P256, ca->ocsp_on_token, &key, path, sizeof path));
    made = true;
    IOTCA_TRY(iotca_key_spki(key, &spki));
    IOTCA_TRY(iotca_name_build(NULL, NULL, NULL, label, &name));
    iotca_cert_spec spec = {0};
    spec.serial = iotca_slice_of(serial, sizeof serial);
    spec.issuer = ii->subject;
    spec.issuer_skid = ii->skid;
    spec.subject = iotca_buf_slice(&name);
    spec.spki = iotca_buf_slice(&spki);
    spec.not_before = now - 300;
    spec.not_after = now + SIGNER_VALIDITY < ii->not_after ? now + SIGNER_VALIDITY : ii->not_after;
    spec.path_len = -1;
    spec.key_usage = IOTCA_KU_DIGITAL_SIGNATURE;
    spec.eku = IOTCA_EKU_OCSP_SIGNING;
    spec.ocsp_nocheck = true; /* RFC 6960 §4.2.2.2.1: clients need not check the responder's status */
    IOTCA_TRY(iotca_store_serial_reserve(s, hex, is->id, now)); /* responder serials are unique too */
    /* the issuer's main key is shared with CRL signing: ca->lock covers this signature only */
    pthread_mutex_lock(&ca->lock);
    rc = iotca_cert_sign(&spec, is->key, &der);
    pthread_mutex_unlock(&ca->lock);
    IOTCA_TRY(rc);
    IOTCA_TRY(iotca_cert_parse(iotca_buf_slice(&der), &cert));
    rec.issuer_id = is->id;
    rec.cert = iotca_buf_borrow(der.data, der.len);
    memcpy(rec.key_ref, path, sizeof path);
    rec.not_after = spec.not_after;
    rec.created_at = now;
    IOTCA_TRY(iotca_store_ocsp_signer_add(s, &rec));
    made = false; /* recorded: kept */
    iotca_cert_free(is->ocsp_cert);
    iotca_key_free(is->ocsp_key);
    is->ocsp_cert = cert;
    is->ocsp_key = key;
    cert = NULL;
    key = NULL;
out:
    if (made) { /* no orphan key without a record */
        char keep[512];
        snprintf(keep, sizeof keep, "%s", iotca_error_detail());
        iotca_key_free(key);
        key = NULL;
        (void)ca_key_discard(ca, path);
        iotca_error_set(rc, "%s", keep);
    }
    iotca_key_free(key);
    iotca_cert_free(cert);
    iotca_buf_free(&spki);
    iotca_buf_free(&name);
    iotca_buf_free(&cn);
    iotca_buf_free(&der);
    return rc;
}

/* Ensures `is` has a responder valid well beyond now: loads the stored one or
 * makes a new one. Caller holds ca->ocsp_lock (which guards is->ocsp_cert and is->ocsp_key). */
static iotca_rc signer_ready(iotca_ca *ca, iotca_store *s, ca_issuer *is, time_t now) {
    if (is->ocsp_cert && iotca_cert_get(is->ocsp_cert)->not_after > now + SIGNER_RENEW) return IOTCA_OK;
    iotca_ocsp_signer_rec rec = {0};
    iotca_rc rc = iotca_store_ocsp_signer_current(s, is->id, &rec);
    if (rc == IOTCA_E_USAGE || (rc == IOTCA_OK && rec.not_after <= now + SIGNER_RENEW)) {
        iotca_ocsp_signer_rec_free(&rec);
        return new_signer(ca, s, is, now);
    }
    IOTCA_GUARD(rc);
    iotca_cert *cert = NULL;
    iotca_key *key = NULL;
    rc = iotca_cert_parse(iotca_buf_slice(&rec.cert), &cert);
    /* a file or a key on the token (keystore.c), checked against the responder's certificate */
    if (rc == IOTCA_OK) rc = ca_key_load(ca, rec.key_ref, iotca_cert_get(cert)->spki, &key);
    if (rc == IOTCA_OK) {
        iotca_cert_free(is->ocsp_cert);
        iotca_key_free(is->ocsp_key);
        is->ocsp_cert = cert;
        is->ocsp_key = key;
    } else {
        iotca_cert_free(cert);
        iotca_key_free(key);
    }
    iotca_ocsp_signer_rec_free(&rec);
    return rc;
}

/* Signs the answer about certid (whose issuer is `is`) from the certificate record c (NULL: unknown). */
static iotca_rc sign_answer(iotca_ca *ca, iotca_store *s, ca_issuer *is, const iotca_ocsp_certid *id,
                            const iotca_cert_rec *c, time_t now, iotca_buf *out, time_t *next) {
    iotca_ocsp_answer a = {id, IOTCA_CERT_UNKNOWN, 0, -1, now - BACKDATE, now + RESPONSE_VALIDITY};
    if (c) {
        a.status = c->revoked ? IOTCA_CERT_REVOKED : IOTCA_CERT_GOOD;
        a.revoked_at = c->revoked_at;
        a.reason = c->revoked ? c->reason : -1;
    }
    /* the responder key has its own lock, so OCSP signing never holds up issuance (ca->lock); making a new
     * responder takes ca->lock only for the one signature with the issuer key (new_signer), always in
     * this order */
    pthread_mutex_lock(&ca->ocsp_lock);
    iotca_rc rc = signer_ready(ca, s, is, now);
    if (rc == IOTCA_OK) rc = iotca_ocsp_response_sign(&a, is->ocsp_cert, is->ocsp_key, now, out);
    pthread_mutex_unlock(&ca->ocsp_lock);
    *next = a.next_update;
    return rc;
}

/* A SHA-1 CertID for a stored certificate (what RFC 5019 clients send). */
static iotca_rc certid_of(const ca_issuer *is, const char *serial_hex, iotca_ocsp_certid *id) {
    memset(id, 0, sizeof *id);
    id->hash = IOTCA_OCSP_SHA1;
    id->hash_len = 20;
    memcpy(id->name_hash, is->ocsp_name1, 20);
    memcpy(id->key_hash, is->ocsp_key1, 20);
    iotca_buf b = {0};
    iotca_rc rc = iotca_hex_decode(serial_hex, &b);
    if (rc == IOTCA_OK && (b.len < 1 || b.len > 20)) rc = iotca_error_set(IOTCA_E_USAGE, "bad serial %s", serial_hex);
    if (rc == IOTCA_OK) {
        memcpy(id->serial, b.data, b.len);
        id->serial_len = b.len;
    }
    iotca_buf_free(&b);
    return rc;
}

/* Signs and stores the pre-produced SHA-1 answer for one certificate. */
static iotca_rc presign(iotca_ca *ca, iotca_store *s, const char *serial, time_t now) {
    iotca_cert_rec c = {0};
    IOTCA_GUARD(iotca_store_cert_get(s, serial, &c));
    ca_issuer *is;
    iotca_ocsp_certid id;
    iotca_buf der = {0};
    time_t next;
    iotca_rc rc = ca_issuer_by_id(ca, s, c.issuer_id, &is);
    if (rc == IOTCA_OK) rc = certid_of(is, c.serial, &id);
    if (rc == IOTCA_OK) rc = sign_answer(ca, s, is, &id, &c, now, &der, &next);
    if (rc == IOTCA_OK) rc = iotca_store_ocsp_response_put(s, c.serial, iotca_buf_slice(&der), now - BACKDATE, next);
    iotca_buf_free(&der);
    iotca_cert_rec_free(&c);
    return rc;
}

iotca_rc ca_ocsp_on_revoke(iotca_ca *ca, iotca_store *s, const char *serial) { return presign(ca, s, serial, time(NULL)); }

void ca_ocsp_forget(iotca_ca *ca, const char *serial) {
    iotca_buf b = {0};
    if (iotca_hex_decode(serial, &b) == IOTCA_OK) ocsp_cache_invalidate(ca->ocsp_cache, b.data, b.len);
    else ocsp_cache_invalidate(ca->ocsp_cache, NULL, 0); /* still bumps the generation */
    iotca_buf_free(&b);
}

static void forget_revoked(void *ctx, const char *serial) {
    iotca_ca *ca = ctx;
    ca_ocsp_forget(ca, serial);
    __atomic_add_fetch(&ca->stats.feed_revocations, 1, __ATOMIC_RELAXED);
}

#define FEED_BATCH 256

/* Moves *at up to v, never down (several threads follow at once). */
static void advance(int64_t *at, int64_t v) {
    int64_t cur = __atomic_load_n(at, __ATOMIC_ACQUIRE);
    while (cur < v && !__atomic_compare_exchange_n(at, &cur, v, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    }
}

static bool follow_feed(iotca_ca *ca, iotca_store *s) {
    int64_t seen = __atomic_load_n(&ca->revocations_seen, __ATOMIC_ACQUIRE);
    for (;;) {
        int64_t last = seen;
        bool gap = false;
        /* each serial's answer is dropped as it is read, before the position moves past it: a thread that
         * reads the new position knows those answers are gone (another thread may drop them twice: harmless) */
        if (iotca_store_revocations_since(s, seen, FEED_BATCH, forget_revoked, ca, &last, &gap) != IOTCA_OK) return false;
        if (gap) ocsp_cache_clear(ca->ocsp_cache);
        if (last == seen) return true;
        advance(&ca->revocations_seen, last);
        if (last - seen < FEED_BATCH) return true;
        seen = last;
    }
}

bool ca_ocsp_follow_revocations(iotca_ca *ca, iotca_store *s, bool always) {
    /* the signal is read before the feed: a bump after this read makes the next request look again */
    int64_t sig = (int64_t)iotca_store_signal_read(ca->signal); /* counts stay far below 2^63 */
    if (!always && sig == __atomic_load_n(&ca->signal_seen, __ATOMIC_ACQUIRE)) return true;
    if (!follow_feed(ca, s)) return false;
    advance(&ca->signal_seen, sig);
    return true;
}

/* The answers one tick signed, written in one group commit (one fsync, not one per answer). */
typedef struct answers {
    char (*serial)[41];
    iotca_buf *der;
    time_t *next;
    size_t n;
    time_t this_update;
    int64_t mark; /* the OCSP mark to move to with these answers (0: leave it) */
} answers;

static iotca_rc write_answers(iotca_store *s, void *arg) {
    const answers *a = arg;
    for (size_t i = 0; i < a->n; i++)
        IOTCA_GUARD(iotca_store_ocsp_response_put(s, a->serial[i], iotca_buf_slice(&a->der[i]), a->this_update,
                                                  a->next[i]));
    if (a->mark) IOTCA_GUARD(iotca_store_ocsp_mark(s, a->mark));
    return IOTCA_OK;
}

/* Signs one stored certificate's answer into *der. */
static iotca_rc sign_stored(iotca_ca *ca, iotca_store *s, const char *serial, time_t now, iotca_buf *der,
                            time_t *next) {
    iotca_cert_rec c = {0};
    IOTCA_GUARD(iotca_store_cert_get(s, serial, &c));
    ca_issuer *is;
    iotca_ocsp_certid id;
    iotca_rc rc = ca_issuer_by_id(ca, s, c.issuer_id, &is);
    if (rc == IOTCA_OK) rc = certid_of(is, c.serial, &id);
    if (rc == IOTCA_OK) rc = sign_answer(ca, s, is, &id, &c, now, der, next);
    iotca_cert_rec_free(&c);
    return rc;
}

iotca_rc ca_ocsp_tick(iotca_ca *ca, iotca_store *s, time_t now, int *changes) {
    char(*due)[41] = NULL;
    size_t n = 0;
    int64_t mark = 0;
    IOTCA_GUARD(iotca_store_ocsp_due(s, now, now + RESPONSE_REFRESH, TICK_BATCH, &due, &n, &mark));
    iotca_buf der[TICK_CHUNK] = {{0}};
    time_t next[TICK_CHUNK];
    iotca_rc rc = IOTCA_OK;
    size_t written = 0;
    /* signed and written TICK_CHUNK at a time: one group write of a whole batch (up to TICK_BATCH answers)
     * held every issuance commit behind it. With a tick every 3 s under 8 issuing clients, chunks alone took
     * wrk's p99 from 136-155 ms to 75-96 ms (the rest was new_signer's lock and the tick's priority) */
    size_t at = 0;
    do { /* at least once: a list with nothing to sign (the new certificates were all expired or already
          * answered) still moves the mark past them */
        size_t k = n - at < TICK_CHUNK ? n - at : TICK_CHUNK;
        answers a = {due + at, der, next, 0, now - BACKDATE, 0};
        for (size_t i = 0; i < k && rc == IOTCA_OK; i++) {
            der[i].len = 0;
            rc = sign_stored(ca, s, due[at + i], now, &der[i], &next[i]);
            if (rc == IOTCA_OK) a.n++;
        }
        /* the mark moves with the last chunk, and only when every listed answer was signed: a certificate
         * it passes is never listed as new again (the responder would still sign its answer on demand) */
        if (rc == IOTCA_OK && at + k == n) a.mark = mark;
        if (a.n || a.mark) { /* what was signed is kept even if a later one failed (that failure is reported) */
            iotca_rc w = iotca_store_group_write(ca->group, s, write_answers, &a);
            if (w == IOTCA_OK) written += a.n;
            if (rc == IOTCA_OK) rc = w;
        }
        at += k;
    } while (at < n && rc == IOTCA_OK);
    if (rc == IOTCA_OK && changes) *changes += (int)written;
    for (size_t i = 0; i < TICK_CHUNK; i++) iotca_buf_free(&der[i]);
    free(due);
    return rc;
}

/* The loaded issuer a CertID names, or NULL. Caller holds ca->lock. */
static ca_issuer *match_locked(iotca_ca *ca, const iotca_ocsp_certid *id) {
    for (size_t i = 0; i < ca->n_issuers; i++) {
        ca_issuer *is = ca->issuers[i];
        const uint8_t *nh = id->hash == IOTCA_OCSP_SHA1 ? is->ocsp_name1 : is->ocsp_name256;
        const uint8_t *kh = id->hash == IOTCA_OCSP_SHA1 ? is->ocsp_key1 : is->ocsp_key256;
        if (memcmp(nh, id->name_hash, id->hash_len) == 0 && memcmp(kh, id->key_hash, id->hash_len) == 0) return is;
    }
    return NULL;
}

static ca_issuer *find_issuer(iotca_ca *ca, iotca_store *s, const iotca_ocsp_certid *id) {
    pthread_mutex_lock(&ca->lock);
    ca_issuer *is = match_locked(ca, id);
    pthread_mutex_unlock(&ca->lock);
    if (is) return is;
    /* not loaded yet: load every issuer that has a certificate, then look again */
    iotca_issuer_rec *list = NULL;
    size_t n = 0;
    if (iotca_store_issuer_list(s, &list, &n) != IOTCA_OK) return NULL;
    for (size_t i = 0; i < n; i++) {
        ca_issuer *tmp;
        if (list[i].cert.len) (void)ca_issuer_by_id(ca, s, list[i].id, &tmp);
        iotca_issuer_rec_free(&list[i]);
    }
    free(list);
    pthread_mutex_lock(&ca->lock);
    is = match_locked(ca, id);
    pthread_mutex_unlock(&ca->lock);
    return is;
}

iotca_rc iotca_ca_ocsp_respond(iotca_ca *ca, iotca_slice request, iotca_buf *out, long *max_age) {
    *max_age = 0;
    iotca_ocsp_certid id;
    iotca_rc rc = iotca_ocsp_request_parse(request, &id);
    if (rc != IOTCA_OK) return iotca_ocsp_response_error(IOTCA_OCSP_MALFORMED, out);
    /* reads from the read replica when there is one (issue 25); signing and writing on the primary */
    iotca_store *s = NULL, *r = NULL;
    if (ca_read_store(ca, &r) != IOTCA_OK) return iotca_ocsp_response_error(IOTCA_OCSP_TRY_LATER, out);
    ca_issuer *is = find_issuer(ca, r, &id);
    if (is == NULL) return iotca_ocsp_response_error(IOTCA_OCSP_UNAUTHORIZED, out); /* not our issuer */
    time_t now = time(NULL), next = 0;
    /* RFC 5019 clients ask with SHA-1 CertIDs, the ones stored and cached answers are for */
    bool sha1 = id.hash == IOTCA_OCSP_SHA1;
    /* another process sharing the database may have revoked since this one last looked: a cached answer is
     * served only once the revocations made since have dropped theirs (one index seek when there are none) */
    bool coherent = ca_ocsp_follow_revocations(ca, r, false);
    if (sha1 && coherent && ocsp_cache_get(ca->ocsp_cache, is->id, id.serial, id.serial_len, now + 60, out, &next)) {
        *max_age = (long)(next - now); /* the hottest path: no store read but the feed's */
        __atomic_add_fetch(&ca->stats.ocsp_cache_hits, 1, __ATOMIC_RELAXED);
        return IOTCA_OK;
    }
    uint64_t gen = ocsp_cache_gen(ca->ocsp_cache); /* before the read: a revocation after it voids the put */
    iotca_buf hex = {0};
    if (iotca_hex_encode(id.serial, id.serial_len, &hex) != IOTCA_OK)
        return iotca_ocsp_response_error(IOTCA_OCSP_TRY_LATER, out);
    char serial[41];
    snprintf(serial, sizeof serial, "%s", (const char *)hex.data); /* the parser allows at most 20 bytes */
    iotca_buf_free(&hex);
    size_t before = out->len;
    iotca_ocsp_lookup look;
    rc = iotca_store_ocsp_lookup(r, serial, &look, out);
    if (rc != IOTCA_OK && rc != IOTCA_E_USAGE) {
        out->len = before;
        return iotca_ocsp_response_error(IOTCA_OCSP_TRY_LATER, out);
    }
    bool known = rc == IOTCA_OK && look.issuer_id == is->id;
    /* a stored answer is served only while fresh, and never one signed before a revocation (if re-signing
     * failed at revocation time, the answer is re-signed here) */
    if (known && sha1 && look.has_answer && look.next_update > now + 60 &&
        !(look.revoked && look.this_update + BACKDATE <= look.revoked_at)) { /* same second: cannot tell, re-sign */
        *max_age = (long)(look.next_update - now); /* the hot path: one lookup */
        ocsp_cache_put(ca->ocsp_cache, gen, is->id, id.serial, id.serial_len,
                       iotca_slice_of(out->data + before, out->len - before), look.next_update);
        return IOTCA_OK;
    }
    out->len = before;
    iotca_cert_rec c = {0};
    if ((known && iotca_store_cert_get(r, serial, &c) != IOTCA_OK) || ca_store(ca, &s) != IOTCA_OK) {
        iotca_cert_rec_free(&c);
        return iotca_ocsp_response_error(IOTCA_OCSP_TRY_LATER, out);
    }
    rc = sign_answer(ca, s, is, &id, known ? &c : NULL, now, out, &next);
    if (rc == IOTCA_OK) {
        *max_age = (long)(next - now);
        if (known && sha1) {
            iotca_slice answer = iotca_slice_of(out->data + before, out->len - before);
            (void)iotca_store_ocsp_response_put(s, serial, answer, now - BACKDATE, next);
            ocsp_cache_put(ca->ocsp_cache, gen, is->id, id.serial, id.serial_len, answer, next);
        }
    } else {
        out->len = before;
        rc = iotca_ocsp_response_error(IOTCA_OCSP_INTERNAL_ERROR, out);
    }
    iotca_cert_rec_free(&c);
    return rc;
}
