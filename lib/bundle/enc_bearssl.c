/* The "bearssl" bundle: br_x509_trust_anchor TAs[] / TAs_NUM laid out as BearSSL's `brssl ta` prints them. */
#include <stdio.h>
#include <string.h>

#include "bundle_int.h"
#include "iotca/der.h"
#include "iotca/oid.h"

/* The public key of a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) as BearSSL
 * wants it: for RSA the modulus and exponent without leading zeros (RFC 8017
 * §A.1.1 RSAPublicKey inside the BIT STRING), for EC the curve id and the
 * uncompressed point (RFC 5480 §2.2). */
typedef struct ta_key {
    bool rsa;
    iotca_slice n, e; /* RSA */
    const char *curve; /* EC: BR_EC_secp256r1 (23), BR_EC_secp384r1 (24) */
    iotca_slice q;
} ta_key;

static iotca_rc spki_key(iotca_slice spki, ta_key *k) {
    iotca_tlv seq, alg, oid, bits;
    IOTCA_GUARD(iotca_der_single(spki, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_BIT_STRING, &bits));
    IOTCA_ENSURE(in.len == 0, IOTCA_E_PARSE, "trailing data in SubjectPublicKeyInfo");
    IOTCA_ENSURE(bits.val.len >= 2 && bits.val.p[0] == 0, IOTCA_E_PARSE, "public key BIT STRING has unused bits");
    iotca_slice key = iotca_slice_of(bits.val.p + 1, bits.val.len - 1);
    iotca_slice a = alg.val;
    IOTCA_GUARD(iotca_der_expect(&a, IOTCA_DER_OID, &oid));
    memset(k, 0, sizeof *k);
    if (IOTCA_OID_IS(oid.val, IOTCA_OID_RSA)) {
        iotca_tlv pk, n, e;
        IOTCA_GUARD(iotca_der_single(key, IOTCA_DER_SEQUENCE, &pk));
        iotca_slice p = pk.val;
        IOTCA_GUARD(iotca_der_expect(&p, IOTCA_DER_INTEGER, &n));
        IOTCA_GUARD(iotca_der_expect(&p, IOTCA_DER_INTEGER, &e));
        IOTCA_ENSURE(p.len == 0, IOTCA_E_PARSE, "trailing data in RSAPublicKey");
        IOTCA_GUARD(iotca_der_int_magnitude(&n, &k->n));
        IOTCA_GUARD(iotca_der_int_magnitude(&e, &k->e));
        IOTCA_ENSURE(k->n.len > 0 && k->e.len > 0, IOTCA_E_PARSE, "RSA modulus or exponent is zero");
        k->rsa = true;
        return IOTCA_OK;
    }
    IOTCA_ENSURE(IOTCA_OID_IS(oid.val, IOTCA_OID_EC_PUBLIC_KEY), IOTCA_E_POLICY,
                 "BearSSL anchors are RSA or EC keys only");
    iotca_tlv curve;
    IOTCA_GUARD(iotca_der_expect(&a, IOTCA_DER_OID, &curve));
    size_t coord;
    if (IOTCA_OID_IS(curve.val, IOTCA_OID_P256)) k->curve = "BR_EC_secp256r1", coord = 32;
    else if (IOTCA_OID_IS(curve.val, IOTCA_OID_P384)) k->curve = "BR_EC_secp384r1", coord = 48;
    else IOTCA_BAIL(IOTCA_E_POLICY, "EC curve not supported in a BearSSL bundle (P-256 and P-384 are)");
    IOTCA_ENSURE(key.len == 1 + 2 * coord && key.p[0] == 0x04, IOTCA_E_PARSE,
                 "EC public key is not an uncompressed point of the curve's size");
    k->q = key;
    return IOTCA_OK;
}

static iotca_rc array(iotca_buf *out, const char *name, size_t ta, iotca_slice data) {
    IOTCA_GUARD(iotca_buf_printf(out, "\nstatic const unsigned char TA%zu_%s[] = {\n", ta, name));
    IOTCA_GUARD(bundle_c_bytes(out, data, "\t", 12, true));
    return iotca_buf_append_str(out, "};\n");
}

static iotca_rc anchor(iotca_buf *out, size_t ta, const ta_key *k) {
    IOTCA_GUARD(iotca_buf_printf(out,
                                 "\t{\n"
                                 "\t\t{ (unsigned char *)TA%zu_DN, sizeof TA%zu_DN },\n"
                                 "\t\tBR_X509_TA_CA,\n"
                                 "\t\t{\n",
                                 ta, ta));
    if (k->rsa)
        IOTCA_GUARD(iotca_buf_printf(out,
                                     "\t\t\tBR_KEYTYPE_RSA,\n"
                                     "\t\t\t{ .rsa = {\n"
                                     "\t\t\t\t(unsigned char *)TA%zu_RSA_N, sizeof TA%zu_RSA_N,\n"
                                     "\t\t\t\t(unsigned char *)TA%zu_RSA_E, sizeof TA%zu_RSA_E,\n"
                                     "\t\t\t} }\n",
                                     ta, ta, ta, ta));
    else
        IOTCA_GUARD(iotca_buf_printf(out,
                                     "\t\t\tBR_KEYTYPE_EC,\n"
                                     "\t\t\t{ .ec = {\n"
                                     "\t\t\t\t%s,\n"
                                     "\t\t\t\t(unsigned char *)TA%zu_EC_Q, sizeof TA%zu_EC_Q,\n"
                                     "\t\t\t} }\n",
                                     k->curve, ta, ta));
    return iotca_buf_append_str(out, "\t\t}\n\t}");
}

iotca_rc bundle_enc_bearssl(const iotca_bundle *b, iotca_buf *out) {
    size_t idx[IOTCA_BUNDLE_MAX_ROOTS], n;
    IOTCA_GUARD(bundle_anchors(b, "BearSSL", true, idx, &n));
    ta_key keys[IOTCA_BUNDLE_MAX_ROOTS];
    for (size_t t = 0; t < n; t++) {
        iotca_rc rc = spki_key(b->roots[idx[t]].spki, &keys[t]);
        IOTCA_ENSURE(rc == IOTCA_OK, rc, "root %s: %s", b->roots[idx[t]].subject,
                     rc == IOTCA_E_POLICY ? "BearSSL anchors are RSA, P-256 or P-384 keys" : "malformed public key");
    }
    IOTCA_GUARD(iotca_buf_printf(
        out,
        "/* BearSSL trust anchors: %zu root%s, as `brssl ta` prints them. Made by iotca (bundle format bearssl,\n"
        " * version %d); do not edit, regenerate with `iotca bundle --format bearssl`. Include <bearssl.h> first:\n"
        " *     br_x509_minimal_init_full(&xc, TAs, TAs_NUM);  or  br_ssl_client_init_full(&sc, &xc, TAs, TAs_NUM);\n"
        " * Each TAn_DN is the root's subject DN, byte for byte (BearSSL matches issuers by DN).\n",
        n, n == 1 ? "" : "s", IOTCA_BUNDLE_FORMAT_VERSION));
    for (size_t t = 0; t < n; t++) {
        const iotca_bundle_root *r = &b->roots[idx[t]];
        char na[32];
        bundle_time(r->not_after, na);
        IOTCA_GUARD(iotca_buf_printf(out, " *   TA%zu: ", t));
        IOTCA_GUARD(bundle_c_comment(r->subject, out));
        IOTCA_GUARD(iotca_buf_printf(out, "\n *        not after %s (BearSSL does not check anchor dates)\n *        SHA-256 ", na));
        IOTCA_GUARD(bundle_fp_colon(r->sha256, out));
        IOTCA_GUARD(iotca_buf_append_byte(out, '\n'));
    }
    IOTCA_GUARD(iotca_buf_append_str(out, " */\n#ifndef IOTCA_BEARSSL_TAS_H\n#define IOTCA_BEARSSL_TAS_H\n"));
    for (size_t t = 0; t < n; t++) {
        IOTCA_GUARD(array(out, "DN", t, b->roots[idx[t]].subject_der));
        if (keys[t].rsa) {
            IOTCA_GUARD(array(out, "RSA_N", t, keys[t].n));
            IOTCA_GUARD(array(out, "RSA_E", t, keys[t].e));
        } else {
            IOTCA_GUARD(array(out, "EC_Q", t, keys[t].q));
        }
    }
    IOTCA_GUARD(iotca_buf_printf(out, "\nstatic const br_x509_trust_anchor TAs[%zu] = {", n));
    for (size_t t = 0; t < n; t++) {
        IOTCA_GUARD(iotca_buf_append_str(out, t ? ",\n" : "\n"));
        IOTCA_GUARD(anchor(out, t, &keys[t]));
    }
    return iotca_buf_printf(out, "\n};\n\n#define TAs_NUM   %zu\n\n#endif /* IOTCA_BEARSSL_TAS_H */\n", n);
}
