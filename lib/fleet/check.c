/* Fleet check (SPEC §7): would the devices holding this trust store still accept the chain the CA serves, on
 * every date it changes, as their TLS stack validates? Each stack is modelled by how it picks a path, as the
 * libraries Debian 12 ships were seen to do it (tests/integration/test_stack_agreement.sh holds every model
 * against the real library, chain by chain, at future dates):
 *   openssl    OpenSSL 3: trusted-first; only self-signed anchors; every certificate on the path dated, the
 *              anchor included; a critical extension outside OpenSSL's supported list fails the path; of the
 *              presented copies of the issuing CA (an expired one and its renewal), the first in date is taken
 *   openssl102 OpenSSL 1.0.2: the untrusted chain first; if it ends on no trusted root, the "alternative chains"
 *              retry (1.0.2b on) cuts it below the highest certificate a stored root issued; then every
 *              certificate, the root first, must be in date (an expired root or cross-sign it reached fails)
 *   mbedtls    mbedTLS 2.28: every presented certificate must parse (critical extensions it does not know fail
 *              the whole handshake); trusted-first from the leaf up, so a stored CA with the issuing CA's name
 *              and key (pinned or renewed) signs the leaf whatever the served one's dates; any stored
 *              certificate anchors; anchor expiry enforced, and an expired trusted issuer ends the search (as
 *              for openssl: no fallback to a presented one); among presented issuers, as among stored ones, the
 *              first in date is taken, so a renewal sent after the expired issuing CA carries the chain
 *   wolfssl    wolfSSL 5.5.4 as Debian builds it (WOLFSSL_ALT_CERT_CHAINS): presented CAs top-down; one a loaded
 *              certificate signed must be in date and is trusted from then on, one nothing loaded signed is
 *              passed over (expired or not); the leaf must verify against a loaded certificate with its issuing
 *              CA's name and key; stored anchors are never date-checked
 *   bearssl    BearSSL 0.6: the chain in order, the leaf first; at each certificate, any CA anchor with the
 *              issuer's DN whose key verifies it ends the chain (else on to the next); anchors undated; unknown
 *              critical extensions rejected in every certificate it processes
 *   gnutls     GnuTLS 3.7 (gnutls_x509_trust_list_verify_crt2, which a TLS client and `certtool --verify` both
 *              call): the served chain ordered by names up to its top; a stored certificate with the name and key
 *              of one on the path anchors there, else one naming the top's issuer; every certificate dated, the
 *              anchor too; a signer not found or an expiry retries once with the top's own name
 * "Dated" includes the notAfter second itself for every stack but OpenSSL's (RFC 5280 §4.1.2.5; mbedTLS, wolfSSL,
 * BearSSL and GnuTLS accept then, OpenSSL does not), and the report's dates include the first second each
 * stack refuses.
 * Why one file of over 500 lines: the six models share one path walker and differ in a few lines each (which
 * candidate a stack takes, which dates it checks); each difference is read against the others, and a file per
 * stack would scatter that comparison, which test_stack_agreement.sh's table makes row by row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/fleet.h"
#include "stack_ext.h"

#define MAX_CERTS 64
#define MAX_PATH 9

/* ---- the model ---- */

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

/* Whether the stack still accepts a certificate at its notAfter second. RFC 5280 §4.1.2.5: the validity period
 * includes notAfter, and mbedTLS (x509_time_is_past: now > notAfter), wolfSSL, BearSSL and GnuTLS accept it
 * then; OpenSSL's X509_cmp_time counts notAfter itself as past. */
static bool through_not_after(iotca_stack stack) {
    return stack != IOTCA_STACK_OPENSSL && stack != IOTCA_STACK_OPENSSL102;
}

/* Has c expired at t, for this stack? */
static bool past_not_after(const model *m, const iotca_cert *c, time_t t) {
    time_t na = iotca_cert_get(c)->not_after;
    return through_not_after(m->stack) ? t > na : t >= na;
}

static bool dated(const model *m, const iotca_cert *c, time_t t) {
    return iotca_cert_get(c)->not_before <= t && !past_not_after(m, c, t);
}


/* Why an anchor out of date at t fails: it has expired, or (a renewal handed out early) it is not valid yet. */
static const char *anchor_undated(const iotca_cert *a, time_t t) {
    return t < iotca_cert_get(a)->not_before ? "the trust anchor is not yet valid" : "the trust anchor has expired";
}

static bool issued_by(const iotca_cert *child, const iotca_cert *parent) {
    return iotca_cert_verify_signed_by(child, parent) == IOTCA_OK;
}

static bool same(const iotca_cert *a, const iotca_cert *b) {
    return iotca_slice_eq(iotca_cert_get(a)->der, iotca_cert_get(b)->der);
}

static bool self_signed(const iotca_cert *c) { return iotca_cert_is_self_signed(c); }

/* a and b have the same subject and key: either signs what the other signed (a renewal, or the same certificate) */
static bool same_name_and_key(const iotca_cert *a, const iotca_cert *b) {
    const iotca_cert_info *x = iotca_cert_get(a), *y = iotca_cert_get(b);
    return iotca_slice_eq(x->subject, y->subject) && iotca_slice_eq(x->spki, y->spki);
}

static void fail(model *m, const char *what, const iotca_cert *c) {
    char s[256];
    subject(c, s, sizeof s);
    /* what (< 128 bytes) and s (< 256) fit m->why (384) whole; the precisions say so to the compiler */
    snprintf(m->why, sizeof m->why, "%.125s: %.255s", what, s);
}

/* Can the stack process every critical extension of c? */
static bool parseable(model *m, const iotca_cert *c) {
    const char *ext = iotca_fleet_unprocessed_critical(m->stack, c);
    if (ext == NULL) return true;
    char what[128];
    snprintf(what, sizeof what, "cannot process a critical %s extension in", ext);
    fail(m, what, c);
    return false;
}

/* Can the stack process the critical extensions of the anchor a it validates with (if it looks at them)? */
static bool anchor_parseable(model *m, const iotca_cert *a) {
    return !iotca_fleet_ext_scope(m->stack)->anchor || parseable(m, a);
}

/* May this trust-store certificate act as an anchor for this stack? */
static bool anchor_ok(const model *m, const iotca_cert *a) {
    if (m->stack == IOTCA_STACK_OPENSSL || m->stack == IOTCA_STACK_OPENSSL102)
        return self_signed(a); /* partial chains are off by default */
    return true;
}

/* openssl (3) and mbedtls: depth-first, trusted issuers first, then untrusted ones. Among the anchors that
 * issued cur, one in date is preferred; if every one has expired, that is the end of it (mbedTLS takes the
 * expired anchor as its fallback parent; OpenSSL's store lookup returns it) and no presented issuer is tried. */
static bool trusted_first(model *m, const iotca_cert *cur, int depth) {
    if (depth > 8) return false;
    const iotca_cert *expired = NULL;
    for (size_t i = 0; i < m->n_store; i++) {
        const iotca_cert *a = m->store[i];
        if (!anchor_ok(m, a) || !issued_by(cur, a)) continue;
        if (!dated(m, a, m->at)) {
            if (!expired) expired = a;
            continue;
        }
        return anchor_parseable(m, a);
    }
    if (expired) {
        fail(m, anchor_undated(expired, m->at), expired);
        return false;
    }
    for (size_t i = 0; i < m->n_served; i++) {
        const iotca_cert *p = m->served[i];
        if (p == cur || !issued_by(cur, p)) continue;
        if (!parseable(m, p)) return false;
        if (!dated(m, p, m->at)) {
            fail(m, "an expired certificate on the path", p);
            continue;
        }
        if (trusted_first(m, p, depth + 1)) return true;
    }
    if (!m->why[0]) fail(m, "no path to a trust anchor from", cur);
    return false;
}

/* A self-signed root in the store that is c itself or issued c, for openssl102. */
static const iotca_cert *root_for(const model *m, const iotca_cert *c) {
    for (size_t i = 0; i < m->n_store; i++) {
        const iotca_cert *a = m->store[i];
        if (anchor_ok(m, a) && (same(a, c) || issued_by(c, a))) return a;
    }
    return NULL;
}

/* openssl102: build from the untrusted certificates first, then look for a root; check dates last. */
static bool untrusted_first(model *m) {
    const iotca_cert *path[MAX_PATH];
    size_t n = 0;
    path[n++] = m->served[0];
    while (n < MAX_PATH && !self_signed(path[n - 1])) {
        const iotca_cert *next = NULL;
        for (size_t i = 0; i < m->n_served && !next; i++) {
            bool used = false;
            for (size_t k = 0; k < n; k++) used = used || path[k] == m->served[i];
            if (!used && issued_by(path[n - 1], m->served[i])) next = m->served[i];
        }
        if (next == NULL) break;
        path[n++] = next;
    }
    const iotca_cert *root = root_for(m, path[n - 1]);
    /* alternative chains (X509_V_FLAG_NO_ALT_CHAINS unset): drop the top of an untrusted chain down to the
     * highest certificate whose issuer the store holds */
    for (size_t j = n - 1; root == NULL && j >= 1; j--)
        if ((root = root_for(m, path[j - 1])) != NULL) n = j;
    if (root == NULL) {
        fail(m, "no trusted root for the chain ending at", path[n - 1]);
        return false;
    }
    /* internal_verify: from the root down, every certificate in date, whatever path was built */
    if (!anchor_parseable(m, root)) return false;
    if (!dated(m, root, m->at)) {
        fail(m, "reaches an expired root", root);
        return false;
    }
    for (size_t k = n; k-- > 0;) {
        if (same(path[k], root)) continue;
        if (!parseable(m, path[k])) return false;
        if (!dated(m, path[k], m->at)) {
            fail(m, "builds through an expired certificate", path[k]);
            return false;
        }
    }
    return true;
}

/* wolfssl: the presented CAs, top first, each verified against what is loaded and trusted once it verifies. */
static bool alt_chains(model *m) {
    const iotca_cert *loaded[MAX_CERTS + 8];
    size_t n = 0;
    for (size_t i = 0; i < m->n_store; i++) loaded[n++] = m->store[i]; /* loaded whatever their dates */
    for (size_t k = m->n_served; k-- > 0;) {
        const iotca_cert *c = m->served[k];
        bool signed_by_loaded = false;
        for (size_t i = 0; i < n && !signed_by_loaded; i++) signed_by_loaded = same(c, loaded[i]) || issued_by(c, loaded[i]);
        if (!signed_by_loaded) continue; /* ASN_NO_SIGNER_E: passed over, in date or not (alternative chains) */
        if (!dated(m, c, m->at)) {
            fail(m, "a presented certificate has expired", c);
            return false;
        }
        loaded[n++] = c;
    }
    /* the leaf verifies only against a loaded certificate with its issuing CA's name and key */
    const iotca_cert_info *first = iotca_cert_get(m->served[0]);
    for (size_t i = 0; i < n; i++) {
        const iotca_cert_info *l = iotca_cert_get(loaded[i]);
        if (iotca_slice_eq(l->subject, first->subject) && iotca_slice_eq(l->spki, first->spki)) return true;
    }
    fail(m, "the issuing CA does not verify against the loaded anchors", m->served[0]);
    return false;
}

/* bearssl: in order; at each certificate, any CA anchor with the issuer's DN whose key verifies it ends the
 * chain; when none does, the next certificate must be that issuer. */
static bool in_order(model *m) {
    bool named = false;
    for (size_t k = 0; k < m->n_served; k++) {
        const iotca_cert *c = m->served[k];
        if (!parseable(m, c)) return false;
        if (!dated(m, c, m->at)) {
            fail(m, "a presented certificate has expired", c);
            return false;
        }
        for (size_t i = 0; i < m->n_store; i++) {
            const iotca_cert *a = m->store[i];
            if (!iotca_cert_get(a)->is_ca || !iotca_slice_eq(iotca_cert_get(a)->subject, iotca_cert_get(c)->issuer))
                continue;
            named = true;
            if (issued_by(c, a)) return anchor_parseable(m, a);
        }
        if (k + 1 < m->n_served && !iotca_slice_eq(iotca_cert_get(m->served[k + 1])->subject, iotca_cert_get(c)->issuer)) {
            fail(m, "the chain is out of order after", c);
            return false;
        }
    }
    fail(m, named ? "no anchor with the issuer's name verifies" : "no anchor matches the issuer of",
         m->served[m->n_served - 1]);
    return false;
}

/* gnutls: GnuTLS 3.7's gnutls_x509_trust_list_verify_crt2, on the CA certificates (the leaf, which the server sends
 * first, names served[0] as its issuer and is valid whenever served[0] is). Two things set it apart: it looks
 * anchors up by name, in the one entry of its trust list filed under the name it needs, so a trusted certificate
 * elsewhere in the store is never seen; and a stored certificate with the name and key of one on the path replaces
 * it, whatever its issuer, so a pinned intermediate anchors and a trusted root ends a cross-signed path. */

/* GnuTLS's is_issuer, which orders the chain and finds anchors: the issuer's name, and the key identifiers when
 * both certificates carry them. No signature: that is checked afterwards, and a bad one is final. */
static bool names_as_issuer(const iotca_cert *child, const iotca_cert *parent) {
    const iotca_cert_info *c = iotca_cert_get(child), *p = iotca_cert_get(parent);
    if (!iotca_slice_eq(c->issuer, p->subject)) return false;
    return c->akid.len == 0 || p->skid.len == 0 || iotca_slice_eq(c->akid, p->skid);
}

/* names_as_issuer for the leaf, which names the issuing CA ca (its subject, its key identifier) */
static bool names_leaf_issuer(const iotca_cert *ca, const iotca_cert *parent) {
    const iotca_cert_info *c = iotca_cert_get(ca), *p = iotca_cert_get(parent);
    if (!iotca_slice_eq(c->subject, p->subject)) return false;
    return c->skid.len == 0 || p->skid.len == 0 || iotca_slice_eq(c->skid, p->skid);
}

/* What an attempt found, as GnuTLS's status bits: a signer not found or an expired certificate lets it try again
 * (SIGNER_OLD_OR_UNKNOWN); anything else (not yet valid, a bad signature, a critical extension) is final. */
enum { GT_UNKNOWN = 1, GT_EXPIRED = 2, GT_FINAL = 4 };

/* Adds a problem to *st; the reason given is the attempt's first. */
static void gt_flag(model *m, unsigned *st, unsigned bit, const char *what, const iotca_cert *c) {
    if (*st == 0) fail(m, what, c);
    *st |= bit;
}

/* check_time_status, on a certificate of the path or on the stored one it is anchored at */
static void gt_time(model *m, unsigned *st, const iotca_cert *c, bool anchor) {
    const iotca_cert_info *ci = iotca_cert_get(c);
    if (m->at < ci->not_before)
        gt_flag(m, st, GT_FINAL,
                anchor ? "the trust anchor is not yet valid" : "a certificate on the path is not yet valid", c);
    else if (past_not_after(m, c, m->at))
        gt_flag(m, st, GT_EXPIRED, anchor ? "the trust anchor has expired" : "an expired certificate on the path", c);
}

/* check_for_unknown_exts, which GnuTLS runs on every issuer, the anchor included */
static void gt_extensions(model *m, unsigned *st, const iotca_cert *c) {
    if (iotca_fleet_unprocessed_critical(m->stack, c) == NULL) return;
    if (*st == 0) parseable(m, c); /* the reason, naming the extension */
    *st |= GT_FINAL;
}

/* One attempt (_gnutls_verify_crt_status) with the stored certificates whose subject is `entry`: 0, or what it
 * found wrong. path[0..n) runs from the issuing CA up; with n == 0 the leaf itself is the top. */
static unsigned gt_attempt(model *m, const iotca_cert *const *path, size_t n, iotca_slice entry) {
    unsigned st = 0;
    /* the lowest certificate of the path whose name and key a stored one has is replaced by it: the path ends
     * below it, and only the stored certificate's dates are checked here (check_ca_sanity) */
    for (size_t k = 0; k < n; k++) {
        bool held = false;
        for (size_t i = 0; i < m->n_store && !held; i++) {
            const iotca_cert *s = m->store[i];
            if (!iotca_slice_eq(iotca_cert_get(s)->subject, entry) || !same_name_and_key(path[k], s)) continue;
            gt_time(m, &st, s, true);
            if (st) return st;
            held = true;
        }
        if (held) n = k;
    }
    /* the top against the stored certificates naming its issuer: the first, or a later one in date (find_issuer) */
    const iotca_cert *anchor = NULL, *top = n ? path[n - 1] : path[0];
    for (size_t i = 0; i < m->n_store; i++) {
        const iotca_cert *s = m->store[i];
        if (!iotca_slice_eq(iotca_cert_get(s)->subject, entry)) continue;
        bool names = n ? names_as_issuer(top, s) : names_leaf_issuer(top, s);
        if (names && (anchor == NULL || dated(m, s, m->at))) anchor = s;
    }
    if (anchor == NULL) {
        gt_flag(m, &st, GT_UNKNOWN, "no path to a trust anchor from", top);
        return st;
    }
    bool verifies = n ? issued_by(top, anchor)
                      : iotca_slice_eq(iotca_cert_get(anchor)->spki, iotca_cert_get(top)->spki); /* the leaf's key */
    if (!verifies) gt_flag(m, &st, GT_FINAL, "the anchor naming the issuer does not verify", top);
    gt_extensions(m, &st, anchor);
    gt_time(m, &st, anchor, true);
    if (n) gt_time(m, &st, top, false);
    /* then down the path, each certificate against the one above it, and the leaf against path[0] */
    for (size_t k = n; st == 0 && k-- > 0;) {
        if (k > 0 && !issued_by(path[k - 1], path[k]))
            gt_flag(m, &st, GT_FINAL, "a certificate on the path does not verify", path[k - 1]);
        gt_extensions(m, &st, path[k]);
        gt_time(m, &st, path[k], false);
        if (k > 0) gt_time(m, &st, path[k - 1], false);
    }
    return st;
}

/* gnutls: order the served chain, shorten it as GnuTLS does, then one attempt and, if it allows, a second. */
static bool ordered_by_name(model *m) {
    const iotca_cert *path[MAX_PATH];
    size_t n = 0;
    /* _gnutls_sort_clist: each certificate's issuer is the first served one naming it; a self-issued one ends it.
     * (Served certificates off this path are not looked at while its top has a trusted issuer; when it has none,
     * GnuTLS appends them, and the path fails all the same.) */
    path[n++] = m->served[0];
    while (n < MAX_PATH && !names_as_issuer(path[n - 1], path[n - 1])) {
        const iotca_cert *next = NULL;
        for (size_t i = 0; i < m->n_served && next == NULL; i++) {
            bool used = false;
            for (size_t k = 0; k < n; k++) used = used || path[k] == m->served[i];
            if (!used && names_as_issuer(path[n - 1], m->served[i])) next = m->served[i];
        }
        if (next == NULL) break;
        path[n++] = next;
    }
    /* shorten_clist: a self-issued top the server sent is dropped (it is trusted only if stored), and the path ends
     * at its first certificate the store holds byte for byte */
    if (names_as_issuer(path[n - 1], path[n - 1])) n--;
    for (size_t k = 0; k < n; k++) {
        bool held = false;
        for (size_t i = 0; i < m->n_store && !held; i++) held = same(path[k], m->store[i]);
        if (held) {
            n = k + 1;
            break;
        }
    }
    /* the first attempt looks under the name of the top's issuer (for the leaf, the issuing CA's) */
    const iotca_cert_info *top = iotca_cert_get(path[n ? n - 1 : 0]);
    unsigned st = gt_attempt(m, path, n, n ? top->issuer : top->subject);
    if (st == 0) return true;
    /* SIGNER_OLD_OR_UNKNOWN: once more under the top's own name, unless the top is self-issued */
    if (!(st & (GT_UNKNOWN | GT_EXPIRED)) || n == 0 || iotca_slice_eq(top->subject, top->issuer)) return false;
    char first[sizeof m->why];
    memcpy(first, m->why, sizeof first);
    m->why[0] = 0;
    if (gt_attempt(m, path, n, top->subject) == 0) return true;
    if (!(st & GT_UNKNOWN)) memcpy(m->why, first, sizeof first); /* the signer was known: its verdict stands */
    return false;
}

/* mbedtls and bearssl look for the leaf's own parent among the anchors before anything the server sent: a stored
 * CA certificate with the issuing CA's name and key (that CA pinned, or a renewal of it) signs the leaf, and the
 * served CA certificate, in date or not, is never looked at. mbedTLS takes such an anchor only in date, and an
 * expired one as its last resort (a failure); BearSSL never dates anchors. Returns 1 (anchored there), 0 (failed:
 * m->why says why) or -1 (no such anchor). */
static int leaf_anchor(model *m, const iotca_cert *first) {
    const iotca_cert *expired = NULL;
    for (size_t i = 0; i < m->n_store; i++) {
        const iotca_cert *a = m->store[i];
        if (!iotca_cert_get(a)->is_ca || !same_name_and_key(a, first)) continue;
        if (m->stack == IOTCA_STACK_BEARSSL || dated(m, a, m->at)) return anchor_parseable(m, a) ? 1 : 0;
        if (expired == NULL) expired = a;
    }
    if (expired == NULL) return -1;
    fail(m, anchor_undated(expired, m->at), expired);
    return 0;
}

/* openssl and mbedtls: which presented certificate they take as the leaf's issuer. Both look through what the server
 * sent for certificates naming the leaf's issuer and take the first in date, an out-of-date one only when there is no
 * other (mbedTLS 2.28's x509_crt_find_parent_in keeps it as its fallback parent; OpenSSL 3's find_issuer returns the
 * first in date, else the latest to expire). So a server that sends the issuing CA after it expired and its renewal
 * (same name and key) as well, in either order, still gets through. The model has no leaf: the candidates are the
 * served CA certificates with the name and key of served[0], which the leaf names and verifies against. (OpenSSL
 * 1.0.2's find_issuer takes the first that names it, in date or not; BearSSL takes the chain in order.) */
static const iotca_cert *presented_issuer(const model *m) {
    const iotca_cert *first = m->served[0];
    for (size_t i = 0; i < m->n_served && !dated(m, first, m->at); i++) {
        const iotca_cert *c = m->served[i];
        if (iotca_cert_get(c)->is_ca && same_name_and_key(c, m->served[0]) && dated(m, c, m->at)) first = c;
    }
    return first;
}

static bool validate(model *m) {
    m->why[0] = 0;
    const iotca_cert *first = m->served[0];
    /* mbedTLS parses the whole Certificate message before it verifies anything */
    for (size_t k = 0; iotca_fleet_ext_scope(m->stack)->every_presented && k < m->n_served; k++)
        if (!parseable(m, m->served[k])) return false;
    /* GnuTLS judges the issuing CA like the rest of its path, where a stored certificate with its name and key
     * (a renewal of a pinned intermediate) replaces it, and a pinned one does not end the search */
    if (m->stack == IOTCA_STACK_GNUTLS) return ordered_by_name(m);
    /* wolfSSL decides itself which presented CAs it checks: one nothing loaded signed is passed over, expired
     * or not, and the leaf may verify against a loaded renewal of its issuing CA */
    if (m->stack == IOTCA_STACK_WOLFSSL) return alt_chains(m);
    if (m->stack == IOTCA_STACK_MBEDTLS || m->stack == IOTCA_STACK_BEARSSL) {
        int anchored = leaf_anchor(m, first);
        if (anchored >= 0) return anchored == 1;
    }
    if (m->stack == IOTCA_STACK_OPENSSL || m->stack == IOTCA_STACK_MBEDTLS) first = presented_issuer(m);
    if (!parseable(m, first)) return false;
    if (!dated(m, first, m->at)) {
        fail(m, "the issuing CA certificate is not valid then", first);
        return false;
    }
    switch (m->stack) {
    case IOTCA_STACK_OPENSSL102: return untrusted_first(m);
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
    IOTCA_ENSURE(iotca_fleet_stack_known(stack), IOTCA_E_USAGE, "unknown stack %d", (int)stack);
    iotca_cert *st[MAX_CERTS] = {0}, *sv[16][8] = {{0}};
    /* every instant a verdict can change: "now", each served chain's start, each certificate's notBefore and
     * the first second it is past notAfter for this stack (notAfter itself, or the second after it) */
    time_t dates[1024];
    size_t nd = 0;
    const time_t after_end = through_not_after(stack) ? 1 : 0;
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
            if (nd < 1022) dates[nd++] = ci->not_before, dates[nd++] = ci->not_after + after_end;
        }
        if (nd < 1024) dates[nd++] = schedule[s].from;
    }
    for (size_t i = 0; i < n_store && nd < 1024; i++) dates[nd++] = iotca_cert_get(st[i])->not_after + after_end;
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
