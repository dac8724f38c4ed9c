/* Certificate parsing: wolfSSL's parser must accept the certificate, then a strict reader slices out
 * the exact bytes iotca reuses (names, SPKI, key identifiers). */
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "iotca/der.h"
#include "iotca/oid.h"
#include "iotca/pem.h"
#include "iotca/x509.h"
#include "cert_int.h"
#include "wolf.h"

struct iotca_cert {
    iotca_buf der;
    iotca_cert_info info;
};

const iotca_cert_info *iotca_cert_get(const iotca_cert *c) { return &c->info; }

void iotca_cert_free(iotca_cert *c) {
    if (c == NULL) return;
    iotca_buf_free(&c->der);
    free(c);
}

/* NULL if wolfSSL's parser accepts der, else its reason (a static string). */
static const char *wolf_refusal(iotca_slice der) {
    DecodedCert dc;
    wc_InitDecodedCert(&dc, der.p, (word32)der.len, NULL);
    int r = wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL);
    wc_FreeDecodedCert(&dc);
    /* dates are judged by callers (an expired root is still a root to show) */
    return r == 0 || r == ASN_BEFORE_DATE_E || r == ASN_AFTER_DATE_E ? NULL : wc_GetErrorString(r);
}

static iotca_rc parse_eku(iotca_slice v, unsigned *bits) {
    iotca_tlv seq;
    IOTCA_GUARD(iotca_der_single(v, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    while (in.len) {
        iotca_tlv oid;
        IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_OID, &oid));
        if (IOTCA_OID_IS(oid.val, IOTCA_OID_KP_SERVER_AUTH)) *bits |= IOTCA_EKU_SERVER;
        else if (IOTCA_OID_IS(oid.val, IOTCA_OID_KP_CLIENT_AUTH)) *bits |= IOTCA_EKU_CLIENT;
        else if (IOTCA_OID_IS(oid.val, IOTCA_OID_KP_CODE_SIGNING)) *bits |= IOTCA_EKU_CODE_SIGNING;
        else if (IOTCA_OID_IS(oid.val, IOTCA_OID_KP_OCSP_SIGNING)) *bits |= IOTCA_EKU_OCSP_SIGNING;
    }
    return IOTCA_OK;
}

static iotca_rc parse_extension(iotca_cert_info *ci, iotca_slice oid, bool critical, iotca_slice v) {
    iotca_tlv t;
    if (IOTCA_OID_IS(oid, IOTCA_OID_EXT_BASIC_CONSTRAINTS)) {
        IOTCA_GUARD(iotca_der_single(v, IOTCA_DER_SEQUENCE, &t));
        iotca_slice in = t.val;
        iotca_tlv b, n;
        bool has_b, has_n;
        IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_BOOLEAN, &b, &has_b));
        IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_INTEGER, &n, &has_n));
        ci->has_basic_constraints = true;
        ci->is_ca = has_b && b.val.len == 1 && b.val.p[0] != 0;
        if (has_n) {
            uint64_t pl;
            IOTCA_GUARD(iotca_der_read_uint(&n, &pl));
            ci->path_len = pl > 255 ? 255 : (int)pl;
        }
    } else if (IOTCA_OID_IS(oid, IOTCA_OID_EXT_KEY_USAGE)) {
        IOTCA_GUARD(iotca_der_single(v, IOTCA_DER_BIT_STRING, &t));
        IOTCA_ENSURE(t.val.len >= 1 && t.val.len <= 3, IOTCA_E_PARSE, "malformed keyUsage");
        ci->has_key_usage = true;
        for (size_t i = 1; i < t.val.len; i++)
            for (int b = 0; b < 8; b++)
                if (t.val.p[i] & (0x80 >> b)) ci->key_usage |= 1u << ((i - 1) * 8 + (size_t)b);
    } else if (IOTCA_OID_IS(oid, IOTCA_OID_EXT_SKID)) {
        IOTCA_GUARD(iotca_der_single(v, IOTCA_DER_OCTET_STRING, &t));
        ci->skid = t.val;
    } else if (IOTCA_OID_IS(oid, IOTCA_OID_EXT_AKID)) {
        IOTCA_GUARD(iotca_der_single(v, IOTCA_DER_SEQUENCE, &t));
        iotca_slice in = t.val;
        iotca_tlv kid;
        bool has;
        IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_CTX(0), &kid, &has));
        if (has) ci->akid = kid.val;
    } else if (IOTCA_OID_IS(oid, IOTCA_OID_EXT_EKU)) {
        ci->has_eku = true;
        IOTCA_GUARD(parse_eku(v, &ci->eku));
    } else if (IOTCA_OID_IS(oid, IOTCA_OID_EXT_SAN)) {
        ci->san = v;
    } else if (IOTCA_OID_IS(oid, IOTCA_OID_EXT_NAME_CONSTRAINTS)) {
        ci->has_name_constraints = true;
        ci->name_constraints_critical = critical;
    } else if (IOTCA_OID_IS(oid, IOTCA_OID_EXT_AIA)) {
        ci->has_aia = true;
    } else if (IOTCA_OID_IS(oid, IOTCA_OID_EXT_CRL_DP)) {
        ci->has_crl_dp = true;
    } else if (critical && !IOTCA_OID_IS(oid, IOTCA_OID_EXT_CERT_POLICIES)) {
        ci->n_unknown_critical++;
    }
    return IOTCA_OK;
}

static iotca_rc parse_extensions(iotca_cert_info *ci, iotca_slice exts) {
    iotca_tlv seq;
    IOTCA_GUARD(iotca_der_single(exts, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val, seen[32];
    size_t n_seen = 0;
    while (in.len) {
        iotca_tlv ext, oid, crit, val;
        bool has_crit;
        IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &ext));
        iotca_slice e = ext.val;
        IOTCA_GUARD(iotca_der_expect(&e, IOTCA_DER_OID, &oid));
        IOTCA_GUARD(iotca_der_optional(&e, IOTCA_DER_BOOLEAN, &crit, &has_crit));
        IOTCA_GUARD(iotca_der_expect(&e, IOTCA_DER_OCTET_STRING, &val));
        IOTCA_ENSURE(e.len == 0, IOTCA_E_PARSE, "trailing data in an extension");
        IOTCA_ENSURE(!has_crit || (crit.val.len == 1 && (crit.val.p[0] == 0xff || crit.val.p[0] == 0)),
                     IOTCA_E_PARSE, "malformed critical flag");
        for (size_t i = 0; i < n_seen; i++) /* RFC 5280 §4.2: at most one instance */
            IOTCA_ENSURE(!iotca_slice_eq(seen[i], oid.val), IOTCA_E_PARSE, "duplicate extension");
        IOTCA_ENSURE(n_seen < 32, IOTCA_E_PARSE, "too many extensions");
        seen[n_seen++] = oid.val;
        IOTCA_GUARD(parse_extension(ci, oid.val, has_crit && crit.val.p[0] == 0xff, val.val));
    }
    return IOTCA_OK;
}

/* RFC 5280 §4.1.2: version (v3 only), serial, signature, issuer, validity, subject, subjectPublicKeyInfo,
 * the unique IDs (skipped) and the extensions. ci->sigalg is the TBS's own signature field here. */
iotca_rc cert_tbs_read(iotca_slice der, iotca_cert_info *ci) {
    iotca_tlv tbs, ver, serial, talg, issuer, validity, nb, na, subject, spki, t;
    bool has;
    IOTCA_GUARD(iotca_der_single(der, IOTCA_DER_SEQUENCE, &tbs));
    ci->tbs = tbs.tlv;
    iotca_slice in = tbs.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_CTX_CONS(0), &ver));
    IOTCA_ENSURE(ver.val.len == 3 && ver.val.p[2] == 2, IOTCA_E_PARSE, "only X.509 v3 certificates are accepted");
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_INTEGER, &serial));
    IOTCA_GUARD(iotca_der_int_magnitude(&serial, &ci->serial));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &talg));
    ci->sigalg = talg.tlv;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &issuer));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &validity));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &subject));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &spki));
    ci->issuer = issuer.tlv;
    ci->subject = subject.tlv;
    ci->spki = spki.tlv;
    iotca_slice v = validity.val;
    IOTCA_GUARD(iotca_der_next(&v, &nb));
    IOTCA_GUARD(iotca_der_next(&v, &na));
    IOTCA_GUARD(iotca_der_read_time(&nb, &ci->not_before));
    IOTCA_GUARD(iotca_der_read_time(&na, &ci->not_after));
    IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_CTX(1), &t, &has)); /* issuerUniqueID */
    IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_CTX(2), &t, &has)); /* subjectUniqueID */
    IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_CTX_CONS(3), &t, &has));
    ci->path_len = -1;
    if (has) IOTCA_GUARD(parse_extensions(ci, t.val));
    IOTCA_ENSURE(in.len == 0, IOTCA_E_PARSE, "trailing data in TBSCertificate");
    ci->key_type_supported = iotca_spki_key_type(ci->spki, &ci->key_type) == IOTCA_OK;
    return IOTCA_OK;
}

/* RFC 5280 §4.1.1: tbsCertificate, signatureAlgorithm, signatureValue; the first must name the second. */
static iotca_rc parse_cert(iotca_cert_info *ci) {
    iotca_tlv cert, tbs, alg, sig;
    IOTCA_GUARD(iotca_der_single(ci->der, IOTCA_DER_SEQUENCE, &cert));
    iotca_slice c = cert.val;
    IOTCA_GUARD(iotca_der_expect(&c, IOTCA_DER_SEQUENCE, &tbs));
    IOTCA_GUARD(iotca_der_expect(&c, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&c, IOTCA_DER_BIT_STRING, &sig));
    IOTCA_ENSURE(c.len == 0, IOTCA_E_PARSE, "trailing data in certificate");
    IOTCA_ENSURE(sig.val.len >= 2 && sig.val.p[0] == 0, IOTCA_E_PARSE, "malformed signature bits");
    IOTCA_GUARD(cert_tbs_read(tbs.tlv, ci));
    IOTCA_ENSURE(iotca_slice_eq(ci->sigalg, alg.tlv), IOTCA_E_PARSE, "inner and outer signature algorithms differ");
    ci->sig = iotca_slice_of(sig.val.p + 1, sig.val.len - 1);
    return IOTCA_OK;
}

iotca_rc iotca_cert_parse_lenient(iotca_slice in, iotca_cert **out) {
    iotca_cert *c = calloc(1, sizeof *c);
    IOTCA_ENSURE(c != NULL, IOTCA_E_INTERNAL, "out of memory");
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(iotca_pem_or_der(in, "CERTIFICATE", &c->der));
    c->info.der = iotca_buf_slice(&c->der);
    IOTCA_TRY(parse_cert(&c->info));
    c->info.wolfssl_refusal = wolf_refusal(c->info.der);
    *out = c;
    return IOTCA_OK;
out:
    iotca_cert_free(c);
    return rc;
}

iotca_rc iotca_cert_parse(iotca_slice in, iotca_cert **out) {
    iotca_cert *c = NULL;
    IOTCA_GUARD(iotca_cert_parse_lenient(in, &c));
    const char *refusal = c->info.wolfssl_refusal;
    if (refusal == NULL) {
        *out = c;
        return IOTCA_OK;
    }
    iotca_cert_free(c);
    return iotca_error_set(IOTCA_E_PARSE, "certificate rejected by wolfSSL: %s", refusal);
}

void iotca_cert_fingerprint(const iotca_cert *c, uint8_t out[32]) { iotca_sha256(c->info.der, out); }
void iotca_cert_spki_pin(const iotca_cert *c, uint8_t out[32]) { iotca_sha256(c->info.spki, out); }

iotca_rc iotca_cert_verify_signed_by(const iotca_cert *child, const iotca_cert *issuer) {
    IOTCA_ENSURE(iotca_slice_eq(child->info.issuer, issuer->info.subject), IOTCA_E_CRYPTO,
                 "issuer name does not match the signer's subject");
    return iotca_verify(issuer->info.spki, child->info.sigalg, child->info.tbs, child->info.sig);
}

bool iotca_cert_is_self_signed(const iotca_cert *c) {
    return iotca_cert_verify_signed_by(c, c) == IOTCA_OK;
}

iotca_rc iotca_chain_verify_wolfssl(const iotca_slice *anchors, size_t n_anchors, const iotca_slice *untrusted,
                                    size_t n_untrusted, iotca_slice leaf) {
    iotca_crypto_thread_track(); /* the certificate manager's verifications fill the FP_ECC cache */
    WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
    IOTCA_ENSURE(cm != NULL, IOTCA_E_INTERNAL, "wolfSSL certificate manager unavailable");
    iotca_rc rc = IOTCA_OK;
    int r;
    for (size_t i = 0; i < n_anchors; i++) {
        r = wolfSSL_CertManagerLoadCABuffer(cm, anchors[i].p, (long)anchors[i].len, WOLFSSL_FILETYPE_ASN1);
        IOTCA_CHECK(r == WOLFSSL_SUCCESS, IOTCA_E_CRYPTO, "trust anchor %zu rejected by wolfSSL: %s", i,
                    wc_GetErrorString(r));
    }
    /* intermediates are added root-most first; each must verify against what is loaded before it is. Loading
     * alone is not enough: wolfSSL takes a CA certificate whose signer it does not know as a new anchor
     * (a unit test holds an intermediate signed by a stranger's key to this) */
    for (size_t i = n_untrusted; i-- > 0;) {
        r = wolfSSL_CertManagerVerifyBuffer(cm, untrusted[i].p, (long)untrusted[i].len, WOLFSSL_FILETYPE_ASN1);
        if (r == WOLFSSL_SUCCESS)
            r = wolfSSL_CertManagerLoadCABuffer(cm, untrusted[i].p, (long)untrusted[i].len, WOLFSSL_FILETYPE_ASN1);
        IOTCA_CHECK(r == WOLFSSL_SUCCESS, IOTCA_E_CRYPTO, "intermediate %zu does not verify (wolfSSL): %s", i,
                    wc_GetErrorString(r));
    }
    r = wolfSSL_CertManagerVerifyBuffer(cm, leaf.p, (long)leaf.len, WOLFSSL_FILETYPE_ASN1);
    IOTCA_CHECK(r == WOLFSSL_SUCCESS, IOTCA_E_CRYPTO, "certificate does not verify (wolfSSL): %s",
                wc_GetErrorString(r));
out:
    wolfSSL_CertManagerFree(cm);
    return rc;
}
