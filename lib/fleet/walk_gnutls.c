/* How GnuTLS 3.7 builds and checks a path (gnutls_x509_trust_list_verify_crt2, which a TLS client and `certtool
 * --verify` both call), from the leaf the server sends (model.h). Two things set it apart: it looks anchors up by
 * name, in the one entry of its trust list filed under the name it needs, so a trusted certificate elsewhere in the
 * store is never seen; and a stored certificate with the name and key of one on the path replaces it, whatever its
 * issuer, so a pinned intermediate anchors and a trusted root ends a cross-signed path. */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "stack_ext.h"

#define info iotca_model_info
#define MAX_PATH IOTCA_MODEL_MAX_PATH

/* GnuTLS's is_issuer, which orders the chain and finds anchors: the issuer's name, and the key identifiers when
 * both certificates carry them. No signature: that is checked afterwards, and a bad one is final. */
static bool names_as_issuer(const model *m, const iotca_cert *child, const iotca_cert *parent) {
    if (parent == IOTCA_MODEL_STAND_IN) return false;
    const iotca_cert_info *c = info(m, child), *p = info(m, parent);
    if (!iotca_slice_eq(c->issuer, p->subject)) return false;
    return c->akid.len == 0 || p->skid.len == 0 || iotca_slice_eq(c->akid, p->skid);
}

/* What an attempt found, as GnuTLS's status bits: a signer not found or an expired certificate lets it try again
 * (SIGNER_OLD_OR_UNKNOWN); anything else (not yet valid, a bad signature, a critical extension) is final. */
enum { GT_UNKNOWN = 1, GT_EXPIRED = 2, GT_FINAL = 4 };

/* Adds a problem to *st; the reason given is the attempt's first. */
static void gt_flag(model *m, unsigned *st, unsigned bit, const char *what, const iotca_cert *c) {
    if (*st == 0) iotca_model_fail(m, what, c);
    *st |= bit;
}

/* check_time_status, on a certificate of the path or on the stored one it is anchored at */
static void gt_time(model *m, unsigned *st, const iotca_cert *c, bool anchor) {
    const iotca_cert_info *ci = info(m, c);
    bool leaf = !anchor && c == m->leaf;
    if (m->at < ci->not_before)
        gt_flag(m, st, GT_FINAL,
                anchor ? "the trust anchor is not yet valid"
                       : leaf ? "the leaf is not yet valid" : "a certificate on the path is not yet valid",
                c);
    else if (iotca_model_past_not_after(m, c, m->at))
        gt_flag(m, st, GT_EXPIRED,
                anchor ? "the trust anchor has expired" : leaf ? "the leaf has expired" : "an expired certificate on the path",
                c);
}

/* check_for_unknown_exts, which GnuTLS runs on every issuer, the anchor included */
static void gt_extensions(model *m, unsigned *st, const iotca_cert *c) {
    if (c == IOTCA_MODEL_STAND_IN || iotca_fleet_unprocessed_critical(m->stack, c) == NULL) return;
    if (*st == 0) iotca_model_parseable(m, c); /* the reason, naming the extension */
    *st |= GT_FINAL;
}

/* One attempt (_gnutls_verify_crt_status) with the stored certificates whose subject is `entry`: 0, or what it
 * found wrong. path[0] is the leaf, path[1..n] the CA certificates above it. */
static unsigned gt_attempt(model *m, const iotca_cert **path, size_t n, iotca_slice entry) {
    unsigned st = 0;
    /* the lowest CA certificate of the path whose name and key a stored one has is replaced by it: the path ends
     * below it, and only the stored certificate's dates are checked here (check_ca_sanity) */
    for (size_t k = 1; k <= n; k++) {
        bool held = false;
        for (size_t i = 0; i < m->n_store && !held; i++) {
            const iotca_cert *s = m->store[i];
            if (!iotca_slice_eq(info(m, s)->subject, entry) || !iotca_model_same_name_and_key(m, path[k], s)) continue;
            gt_time(m, &st, s, true);
            if (st) return st;
            held = true;
        }
        if (held) n = k - 1;
    }
    /* the top against the stored certificates naming its issuer: the first, or a later one in date (find_issuer) */
    const iotca_cert *anchor = NULL, *top = path[n];
    for (size_t i = 0; i < m->n_store; i++) {
        const iotca_cert *s = m->store[i];
        if (!iotca_slice_eq(info(m, s)->subject, entry) || !names_as_issuer(m, top, s)) continue;
        if (anchor == NULL || iotca_model_dated(m, s, m->at)) anchor = s;
    }
    if (anchor == NULL) {
        gt_flag(m, &st, GT_UNKNOWN, "no path to a trust anchor from", top);
        return st;
    }
    if (!iotca_model_issued_by(m, top, anchor)) gt_flag(m, &st, GT_FINAL, "the anchor naming the issuer does not verify", top);
    gt_extensions(m, &st, anchor);
    gt_time(m, &st, anchor, true);
    /* then down the path, each certificate against the one above it */
    for (size_t k = n + 1; st == 0 && k-- > 0;) {
        if (k > 0 && !iotca_model_issued_by(m, path[k - 1], path[k]))
            gt_flag(m, &st, GT_FINAL, "a certificate on the path does not verify", path[k - 1]);
        if (k > 0) gt_extensions(m, &st, path[k]);
        gt_time(m, &st, path[k], false);
    }
    if (st == 0) {
        path[n + 1] = anchor;
        if (!iotca_model_constraints(m, path, n + 2, n + 2)) st |= GT_FINAL;
    }
    return st;
}

/* A GnuTLS TLS client takes at most this many certificates from a server, the leaf included (its credentials'
 * verify_depth, DEFAULT_MAX_VERIFY_DEPTH): gnutls-cli against a server sending 17 refused them, "Some constraint
 * limits were reached" (test_stack_agreement.sh, its own section: certtool, which the rows use, has no limit). */
#define GNUTLS_MAX_PRESENTED 16

/* gnutls: order the served chain, shorten it as GnuTLS does, then one attempt and, if it allows, a second. */
bool iotca_walk_by_name(model *m) {
    if (m->n_served + 1 > GNUTLS_MAX_PRESENTED) {
        char what[128];
        snprintf(what, sizeof what, "a GnuTLS client takes at most %d certificates from a server, not %zu, from",
                 GNUTLS_MAX_PRESENTED, m->n_served + 1);
        iotca_model_fail(m, what, m->leaf);
        return false;
    }
    const iotca_cert *path[MAX_PATH + 1];
    size_t n = 0; /* CA certificates above the leaf */
    path[0] = m->leaf;
    /* _gnutls_sort_clist: each certificate's issuer is the first served one naming it; a self-issued one ends it.
     * (Served certificates off this path are not looked at while its top has a trusted issuer; when it has none,
     * GnuTLS appends them, and the path fails all the same.) */
    while (n + 1 < MAX_PATH - 1 && !names_as_issuer(m, path[n], path[n])) {
        const iotca_cert *next = NULL;
        for (size_t i = 0; i < m->n_served && next == NULL; i++) {
            bool used = false;
            for (size_t k = 0; k <= n; k++) used = used || path[k] == m->served[i];
            if (!used && names_as_issuer(m, path[n], m->served[i])) next = m->served[i];
        }
        if (next == NULL) break;
        path[++n] = next;
    }
    /* shorten_clist: a self-issued top the server sent is dropped (it is trusted only if stored), and the path ends
     * at its first certificate the store holds byte for byte */
    if (n > 0 && names_as_issuer(m, path[n], path[n])) n--;
    for (size_t k = 1; k <= n; k++) {
        bool held = false;
        for (size_t i = 0; i < m->n_store && !held; i++) held = iotca_model_same(m, path[k], m->store[i]);
        if (held) {
            n = k;
            break;
        }
    }
    /* the first attempt looks under the name of the top's issuer */
    const iotca_cert_info *top = info(m, path[n]);
    unsigned st = gt_attempt(m, path, n, top->issuer);
    if (st == 0) return true;
    /* SIGNER_OLD_OR_UNKNOWN: once more under the top's own name, unless the top is self-issued (or the leaf) */
    if (!(st & (GT_UNKNOWN | GT_EXPIRED)) || n == 0 || iotca_slice_eq(top->subject, top->issuer)) return false;
    char first[sizeof m->why];
    memcpy(first, m->why, sizeof first);
    m->why[0] = 0;
    if (gt_attempt(m, path, n, top->subject) == 0) return true;
    if (!(st & GT_UNKNOWN)) memcpy(m->why, first, sizeof first); /* the signer was known: its verdict stands */
    return false;
}
