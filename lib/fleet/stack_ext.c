/* Which critical extensions each modelled TLS stack processes (RFC 5280 §4.2: a critical extension a validator
 * does not process fails it), and where each stack looks for them: the one table behind the fleet check
 * (check.c) and the trust-store lint (lint.c), kept apart from the path models it feeds. */
#include <stdio.h>
#include <string.h>

#include "iotca/der.h"
#include "iotca/fleet.h"
#include "iotca/oid.h"
#include "stack_ext.h"

#define ST(s) (1u << (s))
#define OPENSSL3 ST(IOTCA_STACK_OPENSSL)
#define OPENSSL102 ST(IOTCA_STACK_OPENSSL102)
#define MBEDTLS ST(IOTCA_STACK_MBEDTLS)
#define WOLFSSL ST(IOTCA_STACK_WOLFSSL)
#define BEARSSL ST(IOTCA_STACK_BEARSSL)
#define GNUTLS ST(IOTCA_STACK_GNUTLS)
#define EVERY_STACK (OPENSSL3 | OPENSSL102 | MBEDTLS | WOLFSSL | BEARSSL | GNUTLS)

/* ---- critical extensions (RFC 5280 §4.2: a critical extension a validator does not process fails it) ----
 * The table lint.c reads too (stack_ext.h): a finding of `iotca lint` and a failure of `iotca fleet check` come
 * from the same rows. */

static const uint8_t OID_SKI[] = {0x55, 0x1d, 0x0e}, OID_AKI[] = {0x55, 0x1d, 0x23}, OID_SAN[] = {0x55, 0x1d, 0x11}, OID_BC[] = {0x55, 0x1d, 0x13}, OID_NC[] = {0x55, 0x1d, 0x1e},
                     OID_CRL_DP[] = {0x55, 0x1d, 0x1f}, OID_POLICIES[] = {0x55, 0x1d, 0x20},
                     OID_POLICY_MAPPINGS[] = {0x55, 0x1d, 0x21}, OID_POLICY_CONSTRAINTS[] = {0x55, 0x1d, 0x24},
                     OID_INHIBIT_ANY[] = {0x55, 0x1d, 0x36}, OID_ANY_POLICY[] = {0x55, 0x1d, 0x20, 0x00},
                     OID_SIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x0b},
                     OID_NS_CERT_TYPE[] = {0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x01, 0x01};

typedef struct ext_rule {
    const uint8_t *oid;
    size_t len;
    const char *name;
    unsigned stacks; /* the stacks that process (or knowingly ignore) it when it is critical */
} ext_rule;

#define RULE(oid, name, stacks) {oid, sizeof oid, name, stacks}

/* Seen with the real libraries (an intermediate carrying the one critical extension, the rest as usual), except
 * for openssl102: OpenSSL 1.0.2's supported list (v3_purp.c) lacks cRLDistributionPoints and ocspNoCheck, which
 * 1.1.0 and 3.0 added. GnuTLS 3.7 (lib/x509/supported_exts.gperf) processes the key identifiers, keyUsage, the
 * alternative names, basicConstraints, nameConstraints, cRLDistributionPoints, extKeyUsage, authorityInfoAccess,
 * proxyCertInfo, TLS features, certificatePolicies and inhibitAnyPolicy, and refuses any other critical one;
 * certtool --verify refused policyConstraints, subjectInfoAccess, ocspNoCheck and nsCertType, and accepted the rest
 * of this table. wolfSSL 5.5.4's parser refuses a certificate with a critical extension it cannot process
 * (policyMappings, a private OID; also a critical subjectKeyIdentifier or authorityKeyIdentifier): the fleet check
 * reads certificates with iotca's own reader (iotca_cert_parse_lenient), which records wolfSSL's refusal. */
static const ext_rule EXT_RULES[] = {
    RULE(OID_BC, "basicConstraints", EVERY_STACK),
    RULE(IOTCA_OID_EXT_KEY_USAGE, "keyUsage", EVERY_STACK),
    RULE(OID_SAN, "subjectAltName", EVERY_STACK),
    RULE(IOTCA_OID_EXT_EKU, "extKeyUsage", OPENSSL3 | OPENSSL102 | MBEDTLS | WOLFSSL | GNUTLS),
    RULE(OID_NC, "nameConstraints", OPENSSL3 | OPENSSL102 | WOLFSSL | GNUTLS),
    RULE(OID_POLICIES, "certificatePolicies", EVERY_STACK), /* mbedTLS: anyPolicy only, see only_any_policy */
    RULE(OID_CRL_DP, "cRLDistributionPoints", OPENSSL3 | WOLFSSL | BEARSSL | GNUTLS),
    RULE(OID_POLICY_CONSTRAINTS, "policyConstraints", OPENSSL3 | OPENSSL102 | WOLFSSL),
    RULE(OID_INHIBIT_ANY, "inhibitAnyPolicy", OPENSSL3 | OPENSSL102 | WOLFSSL | GNUTLS),
    RULE(OID_POLICY_MAPPINGS, "policyMappings", OPENSSL3 | OPENSSL102),
    RULE(IOTCA_OID_EXT_AIA, "authorityInfoAccess", WOLFSSL | BEARSSL | GNUTLS),
    RULE(OID_SIA, "subjectInfoAccess", WOLFSSL | BEARSSL),
    RULE(IOTCA_OID_EXT_OCSP_NOCHECK, "ocspNoCheck", OPENSSL3 | WOLFSSL),
    RULE(OID_NS_CERT_TYPE, "nsCertType", OPENSSL3 | OPENSSL102 | MBEDTLS | WOLFSSL),
    /* RFC 5280 §4.2.1.1, §4.2.1.2: MUST be non-critical; rows ski-critical, aki-critical */
    RULE(OID_SKI, "subjectKeyIdentifier", BEARSSL | GNUTLS),
    RULE(OID_AKI, "authorityKeyIdentifier", BEARSSL | GNUTLS),
};

/* Indexed by iotca_stack. anchor: OpenSSL checks the extensions of the anchor it builds to like any other
 * certificate; mbedTLS cannot load an anchor it cannot parse; GnuTLS checks every issuer's, the anchor's included
 * (a root with a critical policyConstraints or subjectInfoAccess failed certtool --verify, one with a critical
 * authorityInfoAccess passed). wolfSSL also parses what it loads, but processes
 * everything iotca could parse (see above), so there is nothing to check. BearSSL's anchors are a DN and a key
 * (`brssl ta`): the device never sees the anchor's extensions. every_presented: mbedTLS parses the whole
 * Certificate message before it verifies anything; the others look at the certificates on the path they build. */
static const iotca_stack_ext_scope SCOPES[] = {
    [IOTCA_STACK_OPENSSL] = {"OpenSSL 3", true, false},
    [IOTCA_STACK_OPENSSL102] = {"OpenSSL 1.0.2", true, false},
    [IOTCA_STACK_MBEDTLS] = {"mbedTLS 2.28", true, true},
    [IOTCA_STACK_WOLFSSL] = {"wolfSSL 5.5.4", false, false},
    [IOTCA_STACK_BEARSSL] = {"BearSSL 0.6", false, false},
    [IOTCA_STACK_GNUTLS] = {"GnuTLS 3.7", true, false},
};

const iotca_stack_ext_scope *iotca_fleet_ext_scope(iotca_stack stack) {
    static const iotca_stack_ext_scope none = {"an unknown stack", false, false};
    return (unsigned)stack < sizeof SCOPES / sizeof SCOPES[0] ? &SCOPES[stack] : &none;
}

/* mbedTLS 2.28 parses a critical certificatePolicies only if every policy in it is anyPolicy
 * (MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE otherwise). */
static bool only_any_policy(iotca_slice value) {
    iotca_tlv seq, info, oid;
    if (iotca_der_single(value, IOTCA_DER_SEQUENCE, &seq) != IOTCA_OK) return false;
    for (iotca_slice in = seq.val; in.len;) {
        if (iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &info) != IOTCA_OK) return false;
        iotca_slice p = info.val;
        if (iotca_der_expect(&p, IOTCA_DER_OID, &oid) != IOTCA_OK || !IOTCA_OID_IS(oid.val, OID_ANY_POLICY)) return false;
    }
    return true;
}

const char *iotca_fleet_unprocessed_critical(iotca_stack stack, const iotca_cert *c) {
    iotca_tlv tbs, t;
    bool has;
    if ((unsigned)stack >= sizeof SCOPES / sizeof SCOPES[0]) return NULL; /* no model, nothing known */
    if (iotca_der_single(iotca_cert_get(c)->tbs, IOTCA_DER_SEQUENCE, &tbs) != IOTCA_OK) return "malformed";
    iotca_slice in = tbs.val;
    /* version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, issuer and subject unique IDs */
    if (iotca_der_optional(&in, IOTCA_DER_CTX_CONS(0), &t, &has) != IOTCA_OK) return "malformed";
    for (int i = 0; i < 6; i++)
        if (iotca_der_next(&in, &t) != IOTCA_OK) return "malformed";
    if (iotca_der_optional(&in, IOTCA_DER_CTX(1), &t, &has) != IOTCA_OK ||
        iotca_der_optional(&in, IOTCA_DER_CTX(2), &t, &has) != IOTCA_OK ||
        iotca_der_optional(&in, IOTCA_DER_CTX_CONS(3), &t, &has) != IOTCA_OK)
        return "malformed";
    if (!has) return NULL;
    iotca_tlv exts;
    if (iotca_der_single(t.val, IOTCA_DER_SEQUENCE, &exts) != IOTCA_OK) return "malformed";
    for (iotca_slice e = exts.val; e.len;) {
        iotca_tlv ext, oid, crit, val;
        bool critical;
        if (iotca_der_expect(&e, IOTCA_DER_SEQUENCE, &ext) != IOTCA_OK) return "malformed";
        iotca_slice x = ext.val;
        if (iotca_der_expect(&x, IOTCA_DER_OID, &oid) != IOTCA_OK ||
            iotca_der_optional(&x, IOTCA_DER_BOOLEAN, &crit, &critical) != IOTCA_OK ||
            iotca_der_expect(&x, IOTCA_DER_OCTET_STRING, &val) != IOTCA_OK)
            return "malformed";
        if (!critical || crit.val.len != 1 || crit.val.p[0] == 0) continue;
        const ext_rule *r = NULL;
        for (size_t i = 0; i < sizeof EXT_RULES / sizeof EXT_RULES[0] && !r; i++)
            if (oid.val.len == EXT_RULES[i].len && memcmp(oid.val.p, EXT_RULES[i].oid, EXT_RULES[i].len) == 0)
                r = &EXT_RULES[i];
        if (r == NULL) {
            /* wolfSSL refuses a critical extension it cannot process when it parses the certificate */
            if (stack == IOTCA_STACK_WOLFSSL && iotca_cert_get(c)->wolfssl_refusal == NULL) continue;
            return "unrecognised";
        }
        if (!(r->stacks & ST(stack))) return r->name;
        if (stack == IOTCA_STACK_MBEDTLS && r->oid == OID_POLICIES && !only_any_policy(val.val))
            return "certificatePolicies (other than anyPolicy)";
    }
    return NULL;
}

bool iotca_fleet_stack_known(iotca_stack stack) { return (unsigned)stack < sizeof SCOPES / sizeof SCOPES[0]; }
