/* What every stack model asks of a certificate (model.h): its fields, its issuer, its dates, its extensions and
 * its basic constraints, with the stand-in leaf answered where no served leaf was given. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "stack_ext.h"

const char iotca_model_stand_in_tag = 0;

void iotca_model_set_leaf(model *m, const iotca_cert *leaf) {
    memset(&m->stand_in, 0, sizeof m->stand_in);
    m->leaf = leaf ? leaf : IOTCA_MODEL_STAND_IN;
    if (leaf || m->n_served == 0) return;
    /* named as served[0]'s child, valid whenever anything is */
    const iotca_cert_info *ca = iotca_cert_get(m->served[0]);
    m->stand_in.issuer = ca->subject;
    m->stand_in.akid = ca->skid;
    m->stand_in.not_before = (time_t)LLONG_MIN;
    m->stand_in.not_after = (time_t)LLONG_MAX;
    m->stand_in.path_len = -1;
}

const iotca_cert_info *iotca_model_info(const model *m, const iotca_cert *c) {
    return c == IOTCA_MODEL_STAND_IN ? &m->stand_in : iotca_cert_get(c);
}

bool iotca_model_same_name_and_key(const model *m, const iotca_cert *a, const iotca_cert *b) {
    if (a == IOTCA_MODEL_STAND_IN || b == IOTCA_MODEL_STAND_IN) return a == b;
    const iotca_cert_info *x = iotca_cert_get(a), *y = iotca_cert_get(b);
    (void)m;
    return iotca_slice_eq(x->subject, y->subject) && iotca_slice_eq(x->spki, y->spki);
}

bool iotca_model_issued_by(const model *m, const iotca_cert *child, const iotca_cert *parent) {
    if (parent == IOTCA_MODEL_STAND_IN) return false;
    /* the stand-in is signed by served[0]'s key, under served[0]'s name: any certificate with both verifies it */
    if (child == IOTCA_MODEL_STAND_IN) return iotca_model_same_name_and_key(m, parent, m->served[0]);
    return iotca_cert_verify_signed_by(child, parent) == IOTCA_OK;
}

bool iotca_model_same(const model *m, const iotca_cert *a, const iotca_cert *b) {
    if (a == b) return true;
    if (a == IOTCA_MODEL_STAND_IN || b == IOTCA_MODEL_STAND_IN) return false;
    (void)m;
    return iotca_slice_eq(iotca_cert_get(a)->der, iotca_cert_get(b)->der);
}

bool iotca_model_self_signed(const model *m, const iotca_cert *c) {
    (void)m;
    return c != IOTCA_MODEL_STAND_IN && iotca_cert_is_self_signed(c);
}

bool iotca_model_self_issued(const model *m, const iotca_cert *c) {
    const iotca_cert_info *i = iotca_model_info(m, c);
    return c != IOTCA_MODEL_STAND_IN && iotca_slice_eq(i->subject, i->issuer);
}

/* RFC 5280 §4.1.2.5: the validity period includes notAfter, and mbedTLS (x509_time_is_past: now > notAfter),
 * wolfSSL, BearSSL and GnuTLS accept it then; OpenSSL's X509_cmp_time counts notAfter itself as past. */
bool iotca_model_through_not_after(iotca_stack stack) {
    return stack != IOTCA_STACK_OPENSSL && stack != IOTCA_STACK_OPENSSL102;
}

bool iotca_model_past_not_after(const model *m, const iotca_cert *c, time_t t) {
    time_t na = iotca_model_info(m, c)->not_after;
    return iotca_model_through_not_after(m->stack) ? t > na : t >= na;
}

bool iotca_model_dated(const model *m, const iotca_cert *c, time_t t) {
    return iotca_model_info(m, c)->not_before <= t && !iotca_model_past_not_after(m, c, t);
}

static void subject(const model *m, const iotca_cert *c, char *out, size_t n) {
    iotca_buf s = {0};
    if (c == IOTCA_MODEL_STAND_IN) snprintf(out, n, "the leaf");
    else if (iotca_name_format(iotca_model_info(m, c)->subject, &s) == IOTCA_OK) snprintf(out, n, "%s", (const char *)s.data);
    else snprintf(out, n, "?");
    iotca_buf_free(&s);
}

void iotca_model_fail(model *m, const char *what, const iotca_cert *c) {
    char s[256];
    subject(m, c, s, sizeof s);
    /* what (< 128 bytes) and s (< 256) fit m->why (384) whole; the precisions say so to the compiler */
    snprintf(m->why, sizeof m->why, "%.125s: %.255s", what, s);
}

bool iotca_model_in_date(model *m, const iotca_cert *c, const char *role) {
    if (iotca_model_dated(m, c, m->at)) return true;
    char what[128];
    bool early = m->at < iotca_model_info(m, c)->not_before;
    snprintf(what, sizeof what, "%s %s", role, early ? "is not yet valid" : "has expired");
    iotca_model_fail(m, what, c);
    return false;
}

bool iotca_model_parseable(model *m, const iotca_cert *c) {
    if (c == IOTCA_MODEL_STAND_IN) return true;
    const char *refusal = iotca_cert_get(c)->wolfssl_refusal;
    if (m->stack == IOTCA_STACK_WOLFSSL && refusal) {
        char what[128];
        snprintf(what, sizeof what, "wolfSSL 5.5.4 cannot parse (%.80s)", refusal);
        iotca_model_fail(m, what, c);
        return false;
    }
    const char *ext = iotca_fleet_unprocessed_critical(m->stack, c);
    if (ext == NULL) return true;
    char what[128];
    snprintf(what, sizeof what, "cannot process a critical %s extension in", ext);
    iotca_model_fail(m, what, c);
    return false;
}

bool iotca_model_anchor_parseable(model *m, const iotca_cert *a) {
    return !iotca_fleet_ext_scope(m->stack)->anchor || iotca_model_parseable(m, a);
}

/* ---- basic constraints (RFC 5280 §4.2.1.9, §6.1.4 (k)-(m)) ---- */

/* How a stack judges the anchor it ends at. */
typedef enum anchor_rule {
    ANCHOR_CA,        /* must say CA:TRUE: mbedTLS 2.28 (x509_crt_check_parent, a v3 parent), BearSSL (the anchor's CA flag,
                         checked by its walker) */
    ANCHOR_TOLERATED, /* CA:TRUE, or no basicConstraints and a keyUsage with keyCertSign: OpenSSL 3's check_ca (ret 4) */
    ANCHOR_ROOT_NO_BC, /* CA:TRUE, or no basicConstraints on a self-issued anchor, which GnuTLS's check_if_ca lets through
                          as a V1-style root (anchor-no-bc passes, pinned-bc-none does not) */
    ANCHOR_UNCHECKED, /* never looked at: OpenSSL 1.0.2 (check_chain_extensions stops at the trusted part), wolfSSL (a
                         self-signed certificate loads as a CA whatever it says) */
} anchor_rule;

/* How a stack applies basic constraints, each as the library was seen to do it in test_stack_agreement.sh's rows
 * (bc-*, pinned-*, pathlen*, root-pathlen0*, self-issued-pathlen0, anchor-*, long-chain-*); openssl102 from OpenSSL
 * 1.0.2's check_chain_extensions, which loops over the untrusted certificates only (checked here by the caller). */
typedef struct bc_rules {
    bool tolerate_no_bc;    /* an intermediate without basicConstraints but with keyCertSign passes (1.0.2, not strict) */
    anchor_rule anchor;
    bool anchor_path_len;   /* the anchor's own pathLenConstraint counts */
    bool count_self_issued; /* self-issued intermediates count against pathLen (RFC 5280 §6.1.4 (l) says they do not) */
    size_t max_path;        /* the longest path it builds, leaf and anchor included */
} bc_rules;

static const bc_rules BC_RULES[] = {
    [IOTCA_STACK_OPENSSL] = {false, ANCHOR_TOLERATED, true, false, IOTCA_MODEL_MAX_PATH},
    [IOTCA_STACK_OPENSSL102] = {true, ANCHOR_UNCHECKED, false, false, IOTCA_MODEL_MAX_PATH},
    /* MBEDTLS_X509_MAX_INTERMEDIATE_CA 8 (x509.h): 8 intermediates pass, 9 fail (long-chain-8, long-chain-9); it
     * counts a self-issued CA under a pathLen 0 one (self_cnt is raised only after its parent is found) */
    [IOTCA_STACK_MBEDTLS] = {false, ANCHOR_CA, true, true, 10},
    [IOTCA_STACK_WOLFSSL] = {false, ANCHOR_UNCHECKED, false, false, IOTCA_MODEL_MAX_PATH},
    /* BearSSL refuses a CA past its issuer's pathLen as "not a CA" (BR_ERR_X509_NOT_CA), self-issued or not; its
     * anchors are a name and a key, so their own pathLen is never seen */
    [IOTCA_STACK_BEARSSL] = {false, ANCHOR_CA, false, true, IOTCA_MODEL_MAX_PATH},
    [IOTCA_STACK_GNUTLS] = {false, ANCHOR_ROOT_NO_BC, true, true, IOTCA_MODEL_MAX_PATH},
};

static const bc_rules *rules(iotca_stack s) {
    return (size_t)s < sizeof BC_RULES / sizeof BC_RULES[0] ? &BC_RULES[s] : &BC_RULES[IOTCA_STACK_OPENSSL];
}

/* No basicConstraints, but a keyUsage allowing keyCertSign: OpenSSL's check_ca answers 4, "tolerated". */
static bool tolerated(const iotca_cert_info *i) {
    return !i->has_basic_constraints && i->has_key_usage && (i->key_usage & IOTCA_KU_KEY_CERT_SIGN);
}

bool iotca_model_can_sign(const model *m, const iotca_cert *a) {
    const iotca_cert_info *i = iotca_model_info(m, a);
    return i->is_ca && (!i->has_key_usage || (i->key_usage & IOTCA_KU_KEY_CERT_SIGN));
}

bool iotca_model_constraints(model *m, const iotca_cert *const *p, size_t n, size_t n_checked) {
    const bc_rules *r = rules(m->stack);
    if (n > r->max_path) {
        char what[128];
        snprintf(what, sizeof what, "a path of %zu certificates is longer than %s takes (%zu) from", n,
                 iotca_fleet_ext_scope(m->stack)->library, r->max_path);
        iotca_model_fail(m, what, p[0]);
        return false;
    }
    for (size_t k = 1; k < n && k < n_checked; k++) {
        const iotca_cert_info *c = iotca_model_info(m, p[k]);
        bool anchor = k == n - 1;
        if (anchor && r->anchor == ANCHOR_UNCHECKED) break;
        bool ca = c->is_ca || ((anchor ? r->anchor == ANCHOR_TOLERATED : r->tolerate_no_bc) && tolerated(c)) ||
                  (anchor && r->anchor == ANCHOR_ROOT_NO_BC && !c->has_basic_constraints && iotca_model_self_issued(m, p[k]));
        if (!ca) {
            iotca_model_fail(m, anchor ? "the trust anchor is not a CA (no basicConstraints CA:TRUE)"
                                       : "a certificate on the path is not a CA (no basicConstraints CA:TRUE)",
                             p[k]);
            return false;
        }
        /* RFC 5280 §4.2.1.3: a CA whose keyUsage leaves out keyCertSign signs no certificate (OpenSSL's ku_reject,
         * every library: row ca-no-certsign) */
        if (!anchor && c->has_key_usage && !(c->key_usage & IOTCA_KU_KEY_CERT_SIGN)) {
            iotca_model_fail(m, "a CA on the path may not sign certificates (keyUsage without keyCertSign)", p[k]);
            return false;
        }
        if (c->path_len < 0 || (anchor && !r->anchor_path_len)) continue;
        size_t below = 0; /* CA certificates between it and the leaf */
        for (size_t j = 1; j < k; j++) below += r->count_self_issued || !iotca_model_self_issued(m, p[j]);
        if (below > (size_t)c->path_len) {
            char what[128];
            snprintf(what, sizeof what, "pathLenConstraint %d exceeded (%zu CA certificate%s below it) in", c->path_len,
                     below, below == 1 ? "" : "s");
            iotca_model_fail(m, what, p[k]);
            return false;
        }
    }
    return true;
}
