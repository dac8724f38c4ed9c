/* OCSP encoding (RFC 6960 §4): strict request parsing and BasicOCSPResponse building with our DER writer,
 * since wolfSSL 5.5.4 has no OCSP response builder. */
#include <string.h>

#include "iotca/der.h"
#include "iotca/ocsp.h"
#include "iotca/oid.h"
#include "wolf.h"

static const uint8_t OID_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t OID_SHA256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t OID_OCSP_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};

static iotca_rc parse_certid(iotca_slice in, iotca_ocsp_certid *out) {
    iotca_tlv alg, oid, nh, kh, serial;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_OCTET_STRING, &nh));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_OCTET_STRING, &kh));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_INTEGER, &serial));
    IOTCA_ENSURE(in.len == 0, IOTCA_E_PARSE, "trailing data in CertID");
    iotca_slice a = alg.val;
    IOTCA_GUARD(iotca_der_expect(&a, IOTCA_DER_OID, &oid));
    if (IOTCA_OID_IS(oid.val, OID_SHA1)) out->hash = IOTCA_OCSP_SHA1, out->hash_len = 20;
    else if (IOTCA_OID_IS(oid.val, OID_SHA256)) out->hash = IOTCA_OCSP_SHA256, out->hash_len = 32;
    else IOTCA_BAIL(IOTCA_E_POLICY, "CertID hash algorithm is not SHA-1 or SHA-256");
    IOTCA_ENSURE(nh.val.len == out->hash_len && kh.val.len == out->hash_len, IOTCA_E_PARSE,
                 "CertID hash lengths do not match the algorithm");
    memcpy(out->name_hash, nh.val.p, nh.val.len);
    memcpy(out->key_hash, kh.val.p, kh.val.len);
    iotca_slice mag;
    IOTCA_GUARD(iotca_der_int_magnitude(&serial, &mag));
    IOTCA_ENSURE(mag.len >= 1 && mag.len <= 20, IOTCA_E_PARSE, "serial number of %zu octets", mag.len);
    memcpy(out->serial, mag.p, mag.len);
    out->serial_len = mag.len;
    return IOTCA_OK;
}

iotca_rc iotca_ocsp_request_parse(iotca_slice der, iotca_ocsp_certid *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(der.len <= IOTCA_OCSP_MAX_REQUEST, IOTCA_E_PARSE, "OCSP request over %d bytes",
                 IOTCA_OCSP_MAX_REQUEST);
    iotca_tlv req, tbs, t, list, one, certid;
    bool has;
    IOTCA_GUARD(iotca_der_single(der, IOTCA_DER_SEQUENCE, &req));
    iotca_slice r = req.val;
    IOTCA_GUARD(iotca_der_expect(&r, IOTCA_DER_SEQUENCE, &tbs));
    IOTCA_GUARD(iotca_der_optional(&r, IOTCA_DER_CTX_CONS(0), &t, &has)); /* optionalSignature, ignored */
    IOTCA_ENSURE(r.len == 0, IOTCA_E_PARSE, "trailing data in OCSPRequest");
    iotca_slice b = tbs.val;
    IOTCA_GUARD(iotca_der_optional(&b, IOTCA_DER_CTX_CONS(0), &t, &has)); /* version */
    if (has) {
        iotca_tlv v;
        uint64_t ver;
        IOTCA_GUARD(iotca_der_single(t.val, IOTCA_DER_INTEGER, &v));
        IOTCA_GUARD(iotca_der_read_uint(&v, &ver));
        IOTCA_ENSURE(ver == 0, IOTCA_E_PARSE, "unknown OCSP request version");
    }
    IOTCA_GUARD(iotca_der_optional(&b, IOTCA_DER_CTX_CONS(1), &t, &has)); /* requestorName */
    IOTCA_GUARD(iotca_der_expect(&b, IOTCA_DER_SEQUENCE, &list));
    IOTCA_GUARD(iotca_der_optional(&b, IOTCA_DER_CTX_CONS(2), &t, &has)); /* requestExtensions (nonce) */
    IOTCA_ENSURE(b.len == 0, IOTCA_E_PARSE, "trailing data in TBSRequest");
    iotca_slice l = list.val;
    IOTCA_GUARD(iotca_der_expect(&l, IOTCA_DER_SEQUENCE, &one));
    IOTCA_ENSURE(l.len == 0, IOTCA_E_PARSE, "only one certificate per OCSP request is answered (RFC 5019 §2.1.1)");
    iotca_slice o = one.val;
    IOTCA_GUARD(iotca_der_expect(&o, IOTCA_DER_SEQUENCE, &certid));
    IOTCA_GUARD(iotca_der_optional(&o, IOTCA_DER_CTX_CONS(0), &t, &has)); /* singleRequestExtensions */
    IOTCA_ENSURE(o.len == 0, IOTCA_E_PARSE, "trailing data in Request");
    return parse_certid(certid.val, out);
}

/* The subjectPublicKey BIT STRING contents of a SubjectPublicKeyInfo. */
static iotca_rc spki_bits(iotca_slice spki, iotca_slice *bits) {
    iotca_tlv seq, alg, bs;
    IOTCA_GUARD(iotca_der_single(spki, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_BIT_STRING, &bs));
    IOTCA_ENSURE(bs.val.len >= 2, IOTCA_E_PARSE, "empty public key");
    *bits = iotca_slice_of(bs.val.p + 1, bs.val.len - 1);
    return IOTCA_OK;
}

static void hash(iotca_ocsp_hash h, iotca_slice d, uint8_t out[32]) {
    if (h == IOTCA_OCSP_SHA1) iotca_sha1(d, out);
    else iotca_sha256(d, out);
}

iotca_rc iotca_ocsp_issuer_hashes(const iotca_cert *issuer, iotca_ocsp_hash h, uint8_t name_hash[32],
                                  uint8_t key_hash[32], size_t *len) {
    const iotca_cert_info *ci = iotca_cert_get(issuer);
    iotca_slice bits;
    IOTCA_GUARD(spki_bits(ci->spki, &bits));
    hash(h, ci->subject, name_hash); /* RFC 6960 §4.1.1: the DER of the issuer's Name */
    hash(h, bits, key_hash);
    *len = h == IOTCA_OCSP_SHA1 ? 20 : 32;
    return IOTCA_OK;
}

iotca_rc iotca_ocsp_response_error(iotca_ocsp_status st, iotca_buf *out) {
    iotca_der w;
    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    uint8_t s = (uint8_t)st;
    iotca_der_prim(&w, IOTCA_DER_ENUMERATED, &s, 1);
    iotca_der_end(&w);
    return iotca_der_finish(&w);
}

static void write_certid(iotca_der *w, const iotca_ocsp_certid *c) {
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    if (c->hash == IOTCA_OCSP_SHA1) iotca_der_oid(w, OID_SHA1, sizeof OID_SHA1);
    else iotca_der_oid(w, OID_SHA256, sizeof OID_SHA256);
    iotca_der_null(w);
    iotca_der_end(w);
    iotca_der_prim(w, IOTCA_DER_OCTET_STRING, c->name_hash, c->hash_len);
    iotca_der_prim(w, IOTCA_DER_OCTET_STRING, c->key_hash, c->hash_len);
    iotca_der_uint(w, c->serial, c->serial_len);
    iotca_der_end(w);
}

iotca_rc iotca_ocsp_response_sign(const iotca_ocsp_answer *a, const iotca_cert *signer_cert,
                                  const iotca_key *signer_key, time_t produced_at, iotca_buf *out) {
    IOTCA_ENSURE(a->next_update > a->this_update, IOTCA_E_USAGE, "nextUpdate must follow thisUpdate");
    const iotca_cert_info *sc = iotca_cert_get(signer_cert);
    IOTCA_ENSURE(iotca_key_matches_spki(signer_key, sc->spki), IOTCA_E_USAGE, "signer key does not match its certificate");
    iotca_rc rc = IOTCA_OK;
    iotca_buf tbs = {0}, alg = {0}, sig = {0}, basic = {0};
    uint8_t kid[20];
    IOTCA_TRY(iotca_skid_from_spki(sc->spki, kid)); /* KeyHash: SHA-1 of the key bits */
    iotca_der w;
    iotca_der_init(&w, &tbs);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* ResponseData */
    iotca_der_begin(&w, IOTCA_DER_CTX_CONS(2)); /* responderID byKey */
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, kid, sizeof kid);
    iotca_der_end(&w);
    iotca_der_gtime(&w, produced_at);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* responses */
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* SingleResponse */
    write_certid(&w, a->certid);
    if (a->status == IOTCA_CERT_GOOD) {
        iotca_der_prim(&w, IOTCA_DER_CTX(0), NULL, 0);
    } else if (a->status == IOTCA_CERT_REVOKED) {
        iotca_der_begin(&w, IOTCA_DER_CTX_CONS(1));
        iotca_der_gtime(&w, a->revoked_at);
        if (a->reason > 0) { /* [0] EXPLICIT CRLReason; unspecified left out as in CRLs */
            uint8_t r = (uint8_t)a->reason;
            iotca_der_begin(&w, IOTCA_DER_CTX_CONS(0));
            iotca_der_prim(&w, IOTCA_DER_ENUMERATED, &r, 1);
            iotca_der_end(&w);
        }
        iotca_der_end(&w);
    } else {
        iotca_der_prim(&w, IOTCA_DER_CTX(2), NULL, 0);
    }
    iotca_der_gtime(&w, a->this_update);
    iotca_der_begin(&w, IOTCA_DER_CTX_CONS(0));
    iotca_der_gtime(&w, a->next_update);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));
    IOTCA_TRY(iotca_key_sigalg(signer_key, &alg));
    IOTCA_TRY(iotca_key_sign(signer_key, iotca_buf_slice(&tbs), &sig));

    iotca_der_init(&w, &basic);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* BasicOCSPResponse */
    iotca_der_raw(&w, tbs.data, tbs.len);
    iotca_der_raw(&w, alg.data, alg.len);
    iotca_der_bits(&w, sig.data, sig.len);
    iotca_der_begin(&w, IOTCA_DER_CTX_CONS(0)); /* certs: the responder, so clients can check the delegation */
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_raw(&w, sc->der.p, sc->der.len);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));

    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* OCSPResponse */
    uint8_t ok = IOTCA_OCSP_SUCCESSFUL;
    iotca_der_prim(&w, IOTCA_DER_ENUMERATED, &ok, 1);
    iotca_der_begin(&w, IOTCA_DER_CTX_CONS(0));
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(&w, OID_OCSP_BASIC, sizeof OID_OCSP_BASIC);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, basic.data, basic.len);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));
out:
    iotca_buf_free(&tbs);
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
    iotca_buf_free(&basic);
    return rc;
}
