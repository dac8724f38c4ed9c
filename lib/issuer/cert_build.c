/* TBSCertificate encoding (RFC 5280 §4.1) and signing: every extension iotca emits, including the
 * nameConstraints and AIA that wolfSSL 5.5.4 cannot encode. */
#include <string.h>

#include "iotca/der.h"
#include "iotca/oid.h"
#include "iotca/x509.h"

iotca_rc iotca_serial_random(uint8_t out[IOTCA_SERIAL_LEN]) {
    IOTCA_GUARD(iotca_random(out, IOTCA_SERIAL_LEN));
    out[0] &= 0x7f; /* positive (RFC 5280 §4.1.2.2) */
    if (out[0] == 0) out[0] = 0x01; /* keep exactly 16 octets */
    return IOTCA_OK;
}

iotca_rc iotca_serial_ordered(int64_t ms_since_epoch, uint8_t out[IOTCA_SERIAL_LEN]) {
    IOTCA_ENSURE(ms_since_epoch >= 0 && ms_since_epoch < ((int64_t)1 << 46), IOTCA_E_USAGE,
                 "serial: time outside 1970-4200");
    IOTCA_GUARD(iotca_random(out + 6, IOTCA_SERIAL_LEN - 6));
    uint64_t v = (uint64_t)ms_since_epoch | ((uint64_t)0x40 << 40); /* 0x40: positive, first octet non-zero */
    for (int i = 5; i >= 0; i--, v >>= 8) out[i] = (uint8_t)v;
    return IOTCA_OK;
}

iotca_rc iotca_skid_from_spki(iotca_slice spki, uint8_t out[20]) {
    iotca_tlv seq, alg, bits;
    IOTCA_GUARD(iotca_der_single(spki, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_BIT_STRING, &bits));
    IOTCA_ENSURE(bits.val.len >= 2, IOTCA_E_PARSE, "empty public key");
    iotca_sha1(iotca_slice_of(bits.val.p + 1, bits.val.len - 1), out);
    return IOTCA_OK;
}

/* DNS names and URLs go into IA5String: 7-bit, no spaces or controls. */
static iotca_rc check_ia5(const char *s, const char *what) {
    IOTCA_ENSURE(s && *s, IOTCA_E_USAGE, "empty %s", what);
    IOTCA_ENSURE(strlen(s) <= 1024, IOTCA_E_USAGE, "%s longer than 1024 bytes", what);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        IOTCA_ENSURE(*p > 0x20 && *p < 0x7f, IOTCA_E_USAGE, "%s '%.40s' has a character outside 7-bit ASCII", what, s);
    return IOTCA_OK;
}

static void ext_begin(iotca_der *w, const uint8_t *oid, size_t n, bool critical) {
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(w, oid, n);
    if (critical) iotca_der_bool(w, 1); /* DEFAULT FALSE is omitted in DER */
    iotca_der_begin(w, IOTCA_DER_OCTET_STRING);
}

static void ext_end(iotca_der *w) {
    iotca_der_end(w);
    iotca_der_end(w);
}

static void uri_name(iotca_der *w, const char *uri) {
    iotca_der_prim(w, IOTCA_DER_CTX(6), uri, strlen(uri)); /* uniformResourceIdentifier [6] IA5String */
}

static void access_description(iotca_der *w, const uint8_t *method, size_t n, const char *uri) {
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(w, method, n);
    uri_name(w, uri);
    iotca_der_end(w);
}

/* RFC 5280 §4.2.1.10: a dNSName constraint matches the name and every name
 * below it; the leading dot some tools accept is not part of the syntax. */
static const char *dns_constraint(const char *d) { return d[0] == '.' ? d + 1 : d; }

static iotca_rc check_spec(const iotca_cert_spec *s) {
    IOTCA_ENSURE(s->serial.len >= 1 && s->serial.len <= 20 && !(s->serial.p[0] & 0x80), IOTCA_E_USAGE,
                 "serial must be a positive integer of 1-20 octets (RFC 5280 §4.1.2.2)");
    IOTCA_ENSURE(s->issuer.len > 0 && s->subject.len > 0 && s->spki.len > 0, IOTCA_E_USAGE,
                 "issuer, subject and public key are required");
    IOTCA_ENSURE(s->not_after > s->not_before, IOTCA_E_USAGE, "notAfter must be after notBefore");
    IOTCA_ENSURE(s->n_dns <= IOTCA_SPEC_MAX_NAMES && s->n_ips <= IOTCA_SPEC_MAX_NAMES &&
                     s->n_uris <= IOTCA_SPEC_MAX_NAMES && s->n_permit_dns <= IOTCA_SPEC_MAX_NAMES &&
                     s->n_permit_ip <= IOTCA_SPEC_MAX_NAMES,
                 IOTCA_E_USAGE, "too many names (at most %d of each kind)", IOTCA_SPEC_MAX_NAMES);
    for (size_t i = 0; i < s->n_dns; i++) IOTCA_GUARD(check_ia5(s->dns[i], "DNS name"));
    for (size_t i = 0; i < s->n_uris; i++) IOTCA_GUARD(check_ia5(s->uris[i], "URI"));
    for (size_t i = 0; i < s->n_permit_dns; i++) {
        IOTCA_GUARD(check_ia5(s->permit_dns[i], "DNS constraint"));
        IOTCA_ENSURE(*dns_constraint(s->permit_dns[i]), IOTCA_E_USAGE, "empty DNS constraint");
    }
    IOTCA_ENSURE(s->nc_mode != IOTCA_NC_NONE || (s->n_permit_dns == 0 && s->n_permit_ip == 0), IOTCA_E_USAGE,
                 "permitted subtrees given but name constraints set to none");
    IOTCA_ENSURE(s->nc_mode == IOTCA_NC_NONE || s->n_permit_dns + s->n_permit_ip > 0, IOTCA_E_USAGE,
                 "name constraints need at least one permitted DNS name or IP range (RFC 5280 §4.2.1.10)");
    if (s->ocsp_url) IOTCA_GUARD(check_ia5(s->ocsp_url, "OCSP URL"));
    if (s->ca_issuers_url) IOTCA_GUARD(check_ia5(s->ca_issuers_url, "caIssuers URL"));
    if (s->crl_url) IOTCA_GUARD(check_ia5(s->crl_url, "CRL URL"));
    return IOTCA_OK;
}

static void write_extensions(iotca_der *w, const iotca_cert_spec *s, const uint8_t *skid, size_t skid_len) {
    iotca_der_begin(w, IOTCA_DER_CTX_CONS(3));
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);

    /* §4.2.1.9: critical in CA certificates; we mark it critical always */
    ext_begin(w, IOTCA_OID_EXT_BASIC_CONSTRAINTS, sizeof IOTCA_OID_EXT_BASIC_CONSTRAINTS, true);
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    if (s->is_ca) {
        iotca_der_bool(w, 1);
        if (s->path_len >= 0) iotca_der_int(w, s->path_len);
    }
    iotca_der_end(w);
    ext_end(w);

    if (s->key_usage) { /* §4.2.1.3: SHOULD be critical */
        ext_begin(w, IOTCA_OID_EXT_KEY_USAGE, sizeof IOTCA_OID_EXT_KEY_USAGE, true);
        iotca_der_named_bits(w, s->key_usage, 9);
        ext_end(w);
    }

    if (s->eku) {
        static const struct {
            unsigned bit;
            const uint8_t *oid;
            size_t len;
        } ekus[] = {{IOTCA_EKU_SERVER, IOTCA_OID_KP_SERVER_AUTH, sizeof IOTCA_OID_KP_SERVER_AUTH},
                    {IOTCA_EKU_CLIENT, IOTCA_OID_KP_CLIENT_AUTH, sizeof IOTCA_OID_KP_CLIENT_AUTH},
                    {IOTCA_EKU_CODE_SIGNING, IOTCA_OID_KP_CODE_SIGNING, sizeof IOTCA_OID_KP_CODE_SIGNING},
                    {IOTCA_EKU_OCSP_SIGNING, IOTCA_OID_KP_OCSP_SIGNING, sizeof IOTCA_OID_KP_OCSP_SIGNING}};
        ext_begin(w, IOTCA_OID_EXT_EKU, sizeof IOTCA_OID_EXT_EKU, false);
        iotca_der_begin(w, IOTCA_DER_SEQUENCE);
        for (size_t i = 0; i < sizeof ekus / sizeof ekus[0]; i++)
            if (s->eku & ekus[i].bit) iotca_der_oid(w, ekus[i].oid, ekus[i].len);
        iotca_der_end(w);
        ext_end(w);
    }

    ext_begin(w, IOTCA_OID_EXT_SKID, sizeof IOTCA_OID_EXT_SKID, false);
    iotca_der_prim(w, IOTCA_DER_OCTET_STRING, skid, skid_len);
    ext_end(w);

    if (s->issuer_skid.len) { /* §4.2.1.1: keyIdentifier [0] IMPLICIT */
        ext_begin(w, IOTCA_OID_EXT_AKID, sizeof IOTCA_OID_EXT_AKID, false);
        iotca_der_begin(w, IOTCA_DER_SEQUENCE);
        iotca_der_prim(w, IOTCA_DER_CTX(0), s->issuer_skid.p, s->issuer_skid.len);
        iotca_der_end(w);
        ext_end(w);
    }

    if (s->n_dns + s->n_ips + s->n_uris) { /* §4.2.1.6; critical only with an empty subject */
        ext_begin(w, IOTCA_OID_EXT_SAN, sizeof IOTCA_OID_EXT_SAN, false);
        iotca_der_begin(w, IOTCA_DER_SEQUENCE);
        for (size_t i = 0; i < s->n_dns; i++) iotca_der_prim(w, IOTCA_DER_CTX(2), s->dns[i], strlen(s->dns[i]));
        for (size_t i = 0; i < s->n_ips; i++) iotca_der_prim(w, IOTCA_DER_CTX(7), s->ips[i].addr, s->ips[i].len);
        for (size_t i = 0; i < s->n_uris; i++) uri_name(w, s->uris[i]);
        iotca_der_end(w);
        ext_end(w);
    }

    if (s->nc_mode != IOTCA_NC_NONE) { /* §4.2.1.10 */
        ext_begin(w, IOTCA_OID_EXT_NAME_CONSTRAINTS, sizeof IOTCA_OID_EXT_NAME_CONSTRAINTS,
                  s->nc_mode == IOTCA_NC_CRITICAL);
        iotca_der_begin(w, IOTCA_DER_SEQUENCE);
        iotca_der_begin(w, IOTCA_DER_CTX_CONS(0)); /* permittedSubtrees */
        for (size_t i = 0; i < s->n_permit_dns; i++) {
            const char *d = dns_constraint(s->permit_dns[i]);
            iotca_der_begin(w, IOTCA_DER_SEQUENCE);
            iotca_der_prim(w, IOTCA_DER_CTX(2), d, strlen(d));
            iotca_der_end(w);
        }
        for (size_t i = 0; i < s->n_permit_ip; i++) {
            uint8_t am[32];
            memcpy(am, s->permit_ip[i].addr, s->permit_ip[i].len);
            memcpy(am + s->permit_ip[i].len, s->permit_ip[i].mask, s->permit_ip[i].len);
            iotca_der_begin(w, IOTCA_DER_SEQUENCE);
            iotca_der_prim(w, IOTCA_DER_CTX(7), am, 2 * s->permit_ip[i].len);
            iotca_der_end(w);
        }
        iotca_der_end(w);
        iotca_der_end(w);
        ext_end(w);
    }

    if (s->ocsp_url || s->ca_issuers_url) { /* §4.2.2.1 */
        ext_begin(w, IOTCA_OID_EXT_AIA, sizeof IOTCA_OID_EXT_AIA, false);
        iotca_der_begin(w, IOTCA_DER_SEQUENCE);
        if (s->ocsp_url) access_description(w, IOTCA_OID_AD_OCSP, sizeof IOTCA_OID_AD_OCSP, s->ocsp_url);
        if (s->ca_issuers_url)
            access_description(w, IOTCA_OID_AD_CA_ISSUERS, sizeof IOTCA_OID_AD_CA_ISSUERS, s->ca_issuers_url);
        iotca_der_end(w);
        ext_end(w);
    }

    if (s->crl_url) { /* §4.2.1.13: distributionPoint [0] { fullName [0] { URI } } */
        ext_begin(w, IOTCA_OID_EXT_CRL_DP, sizeof IOTCA_OID_EXT_CRL_DP, false);
        iotca_der_begin(w, IOTCA_DER_SEQUENCE);
        iotca_der_begin(w, IOTCA_DER_SEQUENCE);
        iotca_der_begin(w, IOTCA_DER_CTX_CONS(0));
        iotca_der_begin(w, IOTCA_DER_CTX_CONS(0));
        uri_name(w, s->crl_url);
        iotca_der_end(w);
        iotca_der_end(w);
        iotca_der_end(w);
        iotca_der_end(w);
        ext_end(w);
    }

    if (s->ocsp_nocheck) { /* RFC 6960 §4.2.2.2.1 */
        ext_begin(w, IOTCA_OID_EXT_OCSP_NOCHECK, sizeof IOTCA_OID_EXT_OCSP_NOCHECK, false);
        iotca_der_null(w);
        ext_end(w);
    }

    iotca_der_end(w);
    iotca_der_end(w);
}

iotca_rc iotca_cert_tbs(const iotca_cert_spec *s, iotca_slice sigalg, iotca_buf *tbs) {
    IOTCA_GUARD(check_spec(s));
    uint8_t skid[20];
    iotca_slice kid = s->skid;
    if (kid.len == 0) {
        IOTCA_GUARD(iotca_skid_from_spki(s->spki, skid));
        kid = iotca_slice_of(skid, sizeof skid);
    }
    iotca_der w;
    iotca_der_init(&w, tbs);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_begin(&w, IOTCA_DER_CTX_CONS(0));
    iotca_der_int(&w, 2); /* v3 */
    iotca_der_end(&w);
    iotca_der_uint(&w, s->serial.p, s->serial.len);
    iotca_der_raw(&w, sigalg.p, sigalg.len);
    iotca_der_raw(&w, s->issuer.p, s->issuer.len);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_time(&w, s->not_before);
    iotca_der_time(&w, s->not_after);
    iotca_der_end(&w);
    iotca_der_raw(&w, s->subject.p, s->subject.len);
    iotca_der_raw(&w, s->spki.p, s->spki.len);
    write_extensions(&w, s, kid.p, kid.len);
    iotca_der_end(&w);
    return iotca_der_finish(&w);
}

iotca_rc iotca_cert_sign_tbs(iotca_slice tbs, const iotca_key *signer, iotca_buf *out) {
    iotca_rc rc = IOTCA_OK;
    iotca_buf alg = {0}, sig = {0}, cert = {0}, signer_spki = {0};
    iotca_cert *parsed = NULL;
    IOTCA_TRY(iotca_key_sigalg(signer, &alg));
    IOTCA_TRY(iotca_key_sign(signer, tbs, &sig));
    iotca_der w;
    iotca_der_init(&w, &cert);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* RFC 5280 §4.1.1 */
    iotca_der_raw(&w, tbs.p, tbs.len);
    iotca_der_raw(&w, alg.data, alg.len);
    iotca_der_bits(&w, sig.data, sig.len);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));
    /* re-parse (the strict reader and wolfSSL's; the parse also holds the TBS's signature field to the
     * signer's algorithm) and verify what we are about to hand out (STYLE.md issuance path) */
    IOTCA_TRY(iotca_cert_parse(iotca_buf_slice(&cert), &parsed));
    const iotca_cert_info *ci = iotca_cert_get(parsed);
    IOTCA_CHECK(iotca_slice_eq(ci->tbs, tbs), IOTCA_E_INTERNAL,
                "the signed certificate's TBS differs from the one given");
    IOTCA_TRY(iotca_key_spki(signer, &signer_spki));
    IOTCA_TRY(iotca_verify(iotca_buf_slice(&signer_spki), ci->sigalg, ci->tbs, ci->sig));
    IOTCA_TRY(iotca_buf_append(out, cert.data, cert.len));
out:
    iotca_cert_free(parsed);
    iotca_buf_free(&alg);
    iotca_buf_free(&sig);
    iotca_buf_free(&cert);
    iotca_buf_free(&signer_spki);
    return rc;
}

iotca_rc iotca_cert_sign(const iotca_cert_spec *spec, const iotca_key *signer, iotca_buf *out) {
    iotca_buf alg = {0}, tbs = {0};
    iotca_rc rc = iotca_key_sigalg(signer, &alg);
    if (rc == IOTCA_OK) rc = iotca_cert_tbs(spec, iotca_buf_slice(&alg), &tbs);
    if (rc == IOTCA_OK) rc = iotca_cert_sign_tbs(iotca_buf_slice(&tbs), signer, out);
    iotca_buf_free(&alg);
    iotca_buf_free(&tbs);
    return rc;
}
