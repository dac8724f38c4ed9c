/* The state one stack model works on at one instant, and the helpers every path walker shares (model.c): what a
 * certificate says, whether one signed another, whether the stack takes it as in date. Private to lib/fleet. */
#ifndef IOTCA_FLEET_MODEL_H
#define IOTCA_FLEET_MODEL_H

#include "iotca/fleet.h"

/* The longest path (leaf and anchor included) a walker builds; each stack's own limit is below it (model.c). */
#define IOTCA_MODEL_MAX_PATH 24

/* One stack's view of one instant. The path walkers start at `leaf`: the leaf the server sends, or, where the
 * caller gave none (a schedule of CA chains: preflight, the daemon's fleet check), a stand-in for the leaf the
 * issuing CA served[0] will sign: named as served[0]'s child (its issuer and key identifier), verified by
 * served[0]'s key, never out of date and with no extensions. The stand-in is no certificate: every question
 * about a certificate goes through the helpers below, which know it. */
typedef struct model {
    iotca_stack stack;
    time_t at;
    iotca_cert **store;
    size_t n_store;
    iotca_cert **served; /* the CA certificates the server sends, in its order */
    size_t n_served;
    const iotca_cert *leaf; /* the served leaf, or IOTCA_MODEL_STAND_IN */
    iotca_cert_info stand_in;
    char why[384];
} model;

/* The stand-in leaf's identity: an address no certificate has. */
extern const char iotca_model_stand_in_tag;
#define IOTCA_MODEL_STAND_IN ((const iotca_cert *)(const void *)&iotca_model_stand_in_tag)

/* Sets m->leaf to leaf, or (NULL) to the stand-in for served[0]'s next leaf. */
void iotca_model_set_leaf(model *m, const iotca_cert *leaf);

/* What c says (the stand-in's made-up fields for the stand-in). */
const iotca_cert_info *iotca_model_info(const model *m, const iotca_cert *c);
/* child's issuer name is parent's subject and parent's key verifies child's signature. */
bool iotca_model_issued_by(const model *m, const iotca_cert *child, const iotca_cert *parent);
bool iotca_model_same(const model *m, const iotca_cert *a, const iotca_cert *b);
bool iotca_model_self_signed(const model *m, const iotca_cert *c);
/* Self-issued (RFC 5280 §3.2: issuer and subject names equal), whatever the key. */
bool iotca_model_self_issued(const model *m, const iotca_cert *c);
bool iotca_model_same_name_and_key(const model *m, const iotca_cert *a, const iotca_cert *b);
/* In date at t for m's stack: notBefore <= t, and t before notAfter (OpenSSL) or not after it (the rest). */
bool iotca_model_dated(const model *m, const iotca_cert *c, time_t t);
bool iotca_model_past_not_after(const model *m, const iotca_cert *c, time_t t);
/* Whether the stack still accepts a certificate at its notAfter second. */
bool iotca_model_through_not_after(iotca_stack stack);

/* Records why the path fails: "what: subject of c". */
void iotca_model_fail(model *m, const char *what, const iotca_cert *c);
/* Can the stack process every critical extension of c? (false with m->why set) */
bool iotca_model_parseable(model *m, const iotca_cert *c);
/* The same for an anchor: only stacks that look at their anchors' extensions. */
bool iotca_model_anchor_parseable(model *m, const iotca_cert *a);
/* Checks c's validity at m->at: false with why set ("what ... expired/not yet valid: subject"). */
bool iotca_model_in_date(model *m, const iotca_cert *c, const char *role);

/* RFC 5280 §4.2.1.9 and §6.1.4 (k, l, m) as the stack applies them, on a path leaf first (p[0]) up to the
 * certificate it anchored at (p[n - 1], a stored one): every certificate above the leaf must be a CA (the
 * anchor too, where the stack requires it), and none may have more non-self-issued CA certificates below it
 * than its pathLenConstraint allows (self-issued ones counted where the stack counts them). Only p[0..n_checked)
 * are looked at (OpenSSL 1.0.2 checks the untrusted part only; the rest pass n). The path may not be longer than
 * the stack's limit. False with m->why set. */
bool iotca_model_constraints(model *m, const iotca_cert *const *p, size_t n, size_t n_checked);
/* May a be the parent of child, for a stack that picks its parents by the CA bit (mbedTLS 2.28's
 * x509_crt_check_parent: a v3 parent must be a CA, and may sign certificates if it has a keyUsage)? */
bool iotca_model_can_sign(const model *m, const iotca_cert *a);

/* The walkers, one per way of building a path (walk.c, walk_gnutls.c): true if the stack accepts the path from
 * m->leaf at m->at, else false with m->why set. */
bool iotca_walk_trusted_first(model *m);  /* openssl, mbedtls */
bool iotca_walk_untrusted_first(model *m); /* openssl102 */
bool iotca_walk_alt_chains(model *m);      /* wolfssl */
bool iotca_walk_in_order(model *m);        /* bearssl */
bool iotca_walk_by_name(model *m);         /* gnutls */

#endif
