/* How OpenSSL 3, mbedTLS 2.28, OpenSSL 1.0.2, wolfSSL 5.5.4 and BearSSL 0.6 build a path from the leaf the server
 * sends (model.h), each as the library was seen to do it (check.c's header says how they differ; the rows of
 * tests/integration/test_stack_agreement.sh show it). GnuTLS's has a file of its own (walk_gnutls.c). */
#include <stdio.h>

#include "model.h"

#define info iotca_model_info
#define MAX_PATH IOTCA_MODEL_MAX_PATH

static bool on_path(const iotca_cert *const *path, size_t n, const iotca_cert *c) {
    for (size_t k = 0; k < n; k++)
        if (path[k] == c) return true;
    return false;
}

/* OpenSSL (3 and 1.0.2) ends a path only at a self-signed stored certificate (partial chains are off by default); a
 * stored one that is not self-signed is one more trusted step towards it. The others anchor at any stored one. */
static bool ends_path(const model *m, const iotca_cert *a) {
    if (m->stack == IOTCA_STACK_OPENSSL || m->stack == IOTCA_STACK_OPENSSL102) return iotca_model_self_signed(m, a);
    return true;
}

/* mbedTLS 2.28 takes as a parent only a CA whose keyUsage (if any) allows keyCertSign (x509_crt_check_parent); OpenSSL 3
 * takes any issuer and refuses a non-CA afterwards (check_chain_extensions). */
static bool parent_ok(const model *m, const iotca_cert *a) {
    return m->stack != IOTCA_STACK_MBEDTLS || iotca_model_can_sign(m, a);
}

/* openssl (3) and mbedtls: depth-first from path[d], trusted issuers first, then the presented ones. Among the
 * stored certificates that issued it, one in date is preferred; if every one is out of date, that is the end of it
 * (mbedTLS takes the expired anchor as its fallback parent; OpenSSL's store lookup returns it) and no presented issuer
 * is tried. Among presented issuers, the first in date is taken (mbedTLS 2.28's x509_crt_find_parent_in keeps an
 * expired one only as its fallback; OpenSSL 3's find_issuer returns the first in date), so a server that sends the
 * issuing CA after it expired and its renewal as well, in either order, still gets through. mbedTLS looks for a
 * presented parent only after the child in the order the server sent them (child->next), so `from` is where the
 * search starts in m->served (0 for the leaf and, for OpenSSL, always). */
static bool trusted_first(model *m, const iotca_cert **path, size_t d, size_t from) {
    const iotca_cert *cur = path[d], *expired = NULL;
    if (d + 2 > MAX_PATH) return false;
    for (size_t i = 0; i < m->n_store; i++) {
        const iotca_cert *a = m->store[i];
        if (on_path(path, d + 1, a) || !parent_ok(m, a) || !iotca_model_issued_by(m, cur, a)) continue;
        if (!iotca_model_dated(m, a, m->at)) {
            if (!expired) expired = a;
            continue;
        }
        if (!iotca_model_anchor_parseable(m, a)) return false;
        path[d + 1] = a;
        if (!ends_path(m, a)) return trusted_first(m, path, d + 1, 0); /* a trusted step, not an anchor */
        return iotca_model_constraints(m, path, d + 2, d + 2);
    }
    if (expired) {
        iotca_model_in_date(m, expired, "the trust anchor");
        return false;
    }
    for (size_t i = from; i < m->n_served; i++) {
        const iotca_cert *p = m->served[i];
        if (on_path(path, d + 1, p) || !parent_ok(m, p) || !iotca_model_issued_by(m, cur, p)) continue;
        if (!iotca_model_parseable(m, p)) return false;
        if (!iotca_model_in_date(m, p, "a certificate on the path")) continue;
        path[d + 1] = p;
        if (trusted_first(m, path, d + 1, m->stack == IOTCA_STACK_MBEDTLS ? i + 1 : 0)) return true;
    }
    if (!m->why[0]) iotca_model_fail(m, "no path to a trust anchor from", cur);
    return false;
}

bool iotca_walk_trusted_first(model *m) {
    const iotca_cert *path[MAX_PATH] = {m->leaf};
    return trusted_first(m, path, 0, 0);
}

/* OpenSSL 1.0.2's find_issuer and X509_STORE_CTX_get1_issuer: the first certificate (of the served set not used yet,
 * or of the store) that issued c, in date or not. */
static const iotca_cert *first_issuer(const model *m, iotca_cert *const *set, size_t n, const iotca_cert *const *path,
                                      size_t np, const iotca_cert *c) {
    for (size_t i = 0; i < n; i++)
        if (!on_path(path, np, set[i]) && iotca_model_issued_by(m, c, set[i])) return set[i];
    return NULL;
}

/* Extends path[0..*n) with stored issuers up to a self-signed one (X509_verify_cert's store lookup loop); true if it
 * ends at a self-signed stored certificate, which check_trust (trust_compat) trusts. */
static bool extend_from_store(const model *m, const iotca_cert **path, size_t *n) {
    while (*n < MAX_PATH && !iotca_model_self_signed(m, path[*n - 1])) {
        const iotca_cert *a = first_issuer(m, m->store, m->n_store, path, *n, path[*n - 1]);
        if (a == NULL) return false;
        path[(*n)++] = a;
    }
    for (size_t i = 0; i < m->n_store; i++)
        if (path[*n - 1] == m->store[i]) return true;
    return false;
}

/* openssl102: OpenSSL 1.0.2's X509_verify_cert. The untrusted chain first (the first served issuer of each, in the
 * server's order); a self-signed top is set aside and the store takes over from the certificate below it; if that
 * does not end at a stored root, the alternative chains (1.0.2b on) cut the untrusted part below the highest
 * certificate whose issuer the store holds and try again. Then check_chain_extensions on the untrusted part, and
 * internal_verify: every certificate in date, from the root down, whatever path was built. */
bool iotca_walk_untrusted_first(model *m) {
    const iotca_cert *path[MAX_PATH];
    size_t n = 0;
    path[n++] = m->leaf;
    while (n < MAX_PATH - 1 && !iotca_model_self_signed(m, path[n - 1])) {
        const iotca_cert *next = first_issuer(m, m->served, m->n_served, path, n, path[n - 1]);
        if (next == NULL) break;
        path[n++] = next;
    }
    if (n > 1 && iotca_model_self_signed(m, path[n - 1])) n--; /* chain_ss: trusted only if the store has it */
    size_t untrusted = n;
    bool trusted = extend_from_store(m, path, &n);
    for (size_t j = untrusted; !trusted && j-- > 1;) {
        if (first_issuer(m, m->store, m->n_store, path, j, path[j - 1]) == NULL) continue;
        n = untrusted = j;
        trusted = extend_from_store(m, path, &n);
        break;
    }
    if (!trusted) {
        iotca_model_fail(m, "no trusted root for the chain ending at", path[n - 1]);
        return false;
    }
    for (size_t k = 0; k < untrusted; k++)
        if (!iotca_model_parseable(m, path[k])) return false;
    if (!iotca_model_constraints(m, path, n, untrusted) || !iotca_model_anchor_parseable(m, path[n - 1])) return false;
    if (!iotca_model_dated(m, path[n - 1], m->at)) {
        iotca_model_fail(m, "reaches an expired root", path[n - 1]);
        return false;
    }
    for (size_t k = n - 1; k-- > 0;) {
        if (k == 0 && !iotca_model_in_date(m, path[k], "the leaf")) return false;
        if (!iotca_model_dated(m, path[k], m->at)) {
            iotca_model_fail(m, "builds through an expired certificate", path[k]);
            return false;
        }
    }
    return true;
}

/* wolfSSL 5.5.4 keeps at most MAX_CHAIN_DEPTH (9) certificates of what the server sends, the leaf included: the CA
 * certificates past the eighth are dropped, so a longer chain loses its top (long-chain-9: "unable to get local
 * issuer"). */
#define WOLFSSL_MAX_CHAIN_DEPTH 9

/* wolfssl: the presented CAs, top first, each verified against what is loaded and trusted once it verifies; then
 * the leaf against a loaded certificate that issued it, and the path it took held to the basic constraints (a
 * presented CA past its issuer's pathLen fails, the anchor's own pathLen is not looked at). The store loads what
 * wolfSSL parses and takes as a CA: CA:TRUE, or self-signed (a root with CA:FALSE loads; a pinned intermediate
 * without the CA bit does not). */
bool iotca_walk_alt_chains(model *m) {
    enum { CAP = 64 + MAX_PATH };
    const iotca_cert *loaded[CAP];
    size_t parent[CAP], n = 0, n_store; /* parent[i]: the loaded certificate that signed loaded[i] (i itself: stored) */
    for (size_t i = 0; i < m->n_store && n < 64; i++) {
        const iotca_cert *a = m->store[i];
        if (info(m, a)->wolfssl_refusal || !(info(m, a)->is_ca || iotca_model_self_signed(m, a))) continue;
        parent[n] = n;
        loaded[n++] = a; /* loaded whatever their dates */
    }
    n_store = n;
    size_t sent = m->n_served < WOLFSSL_MAX_CHAIN_DEPTH - 1 ? m->n_served : WOLFSSL_MAX_CHAIN_DEPTH - 1;
    for (size_t k = sent; k-- > 0 && n < CAP;) {
        const iotca_cert *c = m->served[k];
        if (!iotca_model_parseable(m, c)) return false; /* ProcessPeerCerts parses each one it keeps */
        size_t by = n;
        for (size_t i = 0; i < n && by == n; i++)
            if (iotca_model_same(m, c, loaded[i]) || iotca_model_issued_by(m, c, loaded[i])) by = i;
        if (by == n) continue; /* ASN_NO_SIGNER_E: passed over, in date or not (alternative chains) */
        if (!info(m, c)->is_ca) continue; /* not loaded as a CA: nothing it signed verifies */
        if (!iotca_model_dated(m, c, m->at)) {
            iotca_model_fail(m, "a presented certificate has expired", c);
            return false;
        }
        parent[n] = iotca_model_same(m, c, loaded[by]) ? parent[by] : by;
        loaded[n++] = c;
    }
    if (!iotca_model_in_date(m, m->leaf, "the leaf")) return false;
    for (size_t i = 0; i < n; i++) {
        if (!iotca_model_issued_by(m, m->leaf, loaded[i])) continue;
        const iotca_cert *path[MAX_PATH] = {m->leaf};
        size_t np = 1;
        for (size_t k = i; np < MAX_PATH; k = parent[k]) {
            path[np++] = loaded[k];
            if (k < n_store) break;
        }
        return iotca_model_constraints(m, path, np, np);
    }
    iotca_model_fail(m, sent < m->n_served ? "the issuing CA does not verify against the loaded anchors (wolfSSL keeps "
                                             "the first 9 certificates the server sends)"
                                           : "the issuing CA does not verify against the loaded anchors",
                     m->leaf);
    return false;
}

/* bearssl: in order from the leaf; at each certificate, any CA anchor with the issuer's DN whose key verifies it
 * ends the chain; when none does, the next certificate must be that issuer. */
bool iotca_walk_in_order(model *m) {
    bool named = false;
    const iotca_cert *path[MAX_PATH];
    size_t n = 0;
    const iotca_cert *c = m->leaf;
    for (size_t k = 0;; k++) {
        if (!iotca_model_parseable(m, c)) return false;
        if (k == 0 && !iotca_model_in_date(m, c, "the leaf")) return false;
        if (!iotca_model_dated(m, c, m->at)) {
            iotca_model_fail(m, "a presented certificate has expired", c);
            return false;
        }
        if (n == MAX_PATH - 1) break;
        path[n++] = c;
        for (size_t i = 0; i < m->n_store; i++) {
            const iotca_cert *a = m->store[i];
            if (!info(m, a)->is_ca || !iotca_slice_eq(info(m, a)->subject, info(m, c)->issuer)) continue;
            named = true;
            if (!iotca_model_issued_by(m, c, a)) continue;
            path[n++] = a;
            return iotca_model_anchor_parseable(m, a) && iotca_model_constraints(m, path, n, n);
        }
        if (k >= m->n_served) break;
        const iotca_cert *next = m->served[k];
        if (!iotca_slice_eq(info(m, next)->subject, info(m, c)->issuer)) {
            iotca_model_fail(m, "the chain is out of order after", c);
            return false;
        }
        c = next;
    }
    iotca_model_fail(m, named ? "no anchor with the issuer's name verifies" : "no anchor matches the issuer of", c);
    return false;
}
