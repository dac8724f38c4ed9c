/* ACME request JWS (RFC 8555 §6.2): structure checks, the account key it names or carries, and signature checks. */
#include <stdio.h>
#include <string.h>

#include "acme_int.h"
#include "iotca/der.h"
#include "iotca/key.h"
#include "iotca/oid.h"

/* The algorithms ACME servers accept (RFC 8555 §6.2: ES256 and EdDSA should be, RS256 must be) and the one key
 * type each fits. "none" and the MAC algorithms are never an account's (RFC 8555 §6.2). */
static const struct {
    const char *name;
    iotca_jws_alg alg;
    acme_key_type key;
    size_t sig_len; /* RFC 7518 §3.4: R || S, each the coordinate size; RFC 8032: 64; 0: the RSA modulus size */
} algs[] = {
    {"ES256", IOTCA_JWS_ES256, ACME_KEY_P256, 64},
    {"ES384", IOTCA_JWS_ES384, ACME_KEY_P384, 96},
    {"RS256", IOTCA_JWS_RS256, ACME_KEY_RSA, 0},
    {"EdDSA", IOTCA_JWS_EDDSA, ACME_KEY_ED25519, 64},
};
#define NALGS (sizeof algs / sizeof algs[0])

static size_t alg_index(iotca_jws_alg a) {
    for (size_t i = 0; i < NALGS; i++)
        if (algs[i].alg == a) return i;
    return 0;
}

static iotca_rc header_alg(const json_t *hdr, iotca_jws_alg *out) {
    char name[32];
    const json_t *v = json_object_get(hdr, "alg");
    IOTCA_ENSURE(v != NULL, IOTCA_E_PARSE, "JWS: protected header has no \"alg\"");
    IOTCA_ENSURE(json_is_string(v), IOTCA_E_PARSE, "JWS: protected \"alg\" is not a string");
    for (size_t i = 0; i < NALGS; i++)
        if (strcmp(json_string_value(v), algs[i].name) == 0) {
            *out = algs[i].alg;
            return IOTCA_OK;
        }
    snprintf(name, sizeof name, "%s", json_string_value(v));
    IOTCA_BAIL(IOTCA_E_POLICY, "badSignatureAlgorithm: JWS alg \"%s\" is not accepted (ES256, ES384, RS256, EdDSA)",
               name);
}

static iotca_rc alg_fits(iotca_jws_alg alg, acme_key_type key) {
    size_t i = alg_index(alg);
    static const char *const key_names[] = {"an EC P-256", "an EC P-384", "an RSA", "an Ed25519"};
    IOTCA_ENSURE(algs[i].key == key, IOTCA_E_POLICY, "badSignatureAlgorithm: JWS alg %s does not fit %s key",
                 algs[i].name, key_names[key]);
    return IOTCA_OK;
}

/* The account key: exactly one of jwk (newAccount, revokeCert by certificate key) and kid (RFC 8555 §6.2). */
static iotca_rc header_key(const json_t *hdr, iotca_jws *out) {
    const json_t *jwk = json_object_get(hdr, "jwk");
    bool has_kid = json_object_get(hdr, "kid") != NULL;
    IOTCA_ENSURE(!(jwk && has_kid), IOTCA_E_PARSE, "JWS: protected header has both \"jwk\" and \"kid\" (RFC 8555 §6.2)");
    IOTCA_ENSURE(jwk || has_kid, IOTCA_E_PARSE, "JWS: protected header has neither \"jwk\" nor \"kid\" (RFC 8555 §6.2)");
    if (has_kid) return acme_header_string(hdr, "kid", true, out->kid, sizeof out->kid, "JWS");
    acme_pubkey k;
    IOTCA_GUARD(acme_pubkey_from_jwk(jwk, &k));
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(alg_fits(out->alg, k.type));
    IOTCA_TRY(acme_pubkey_spki(&k, &out->jwk_spki));
    IOTCA_TRY(acme_pubkey_jwk_json(&k, &out->jwk_json));
    iotca_sha256(iotca_buf_slice(&out->jwk_json), out->thumbprint); /* RFC 7638 §3.1 */
out:
    acme_pubkey_free(&k);
    return rc;
}

static iotca_rc jws_header(const json_t *hdr, iotca_jws *out) {
    IOTCA_GUARD(header_alg(hdr, &out->alg)); /* first: an "alg":"none" request is refused as such */
    /* RFC 7515 §4.1.11: a crit names extensions the recipient must understand; ACME defines none */
    IOTCA_ENSURE(json_object_get(hdr, "crit") == NULL, IOTCA_E_PARSE,
                 "JWS: protected \"crit\" names extensions this server does not support (RFC 7515 §4.1.11)");
    IOTCA_GUARD(acme_header_string(hdr, "url", true, out->url, sizeof out->url, "JWS")); /* RFC 8555 §6.4 */
    IOTCA_GUARD(acme_header_string(hdr, "nonce", false, out->nonce, sizeof out->nonce, "JWS"));
    return header_key(hdr, out);
}

void iotca_jws_free(iotca_jws *j) {
    iotca_buf_free(&j->jwk_spki);
    iotca_buf_free(&j->jwk_json);
    iotca_buf_free(&j->payload);
    iotca_buf_free(&j->signing_input);
    iotca_buf_free(&j->signature);
    memset(j, 0, sizeof *j);
}

iotca_rc iotca_jws_parse(iotca_slice body, iotca_jws *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(body.p != NULL || body.len == 0, IOTCA_E_USAGE, "JWS: no body");
    IOTCA_ENSURE(body.len <= IOTCA_JWS_MAX_BODY, IOTCA_E_USAGE, "JWS: a body of %zu bytes is over the limit of %d",
                 body.len, IOTCA_JWS_MAX_BODY);
    acme_flat f;
    IOTCA_GUARD(acme_flat_parse(body, "JWS", &f));
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(jws_header(f.header, out));
    out->post_as_get = f.payload_b64_len == 0; /* RFC 8555 §6.3: POST-as-GET has the empty payload "" */
    rc = iotca_b64url_decode(f.payload_b64, f.payload_b64_len, &out->payload);
    IOTCA_CHECK(rc == IOTCA_OK, rc, "JWS: payload: %s", iotca_error_detail());
    out->signing_input = f.signing_input;
    out->signature = f.signature;
    memset(&f.signing_input, 0, sizeof f.signing_input);
    memset(&f.signature, 0, sizeof f.signature);
out:
    acme_flat_free(&f);
    if (rc != IOTCA_OK) iotca_jws_free(out);
    return rc;
}

/* RFC 7518 §3.4: the JWS form of an ECDSA signature is R || S, each n bytes; iotca_verify takes the DER
 * ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3). */
static iotca_rc ecdsa_der(iotca_slice rs, iotca_buf *out) {
    size_t n = rs.len / 2;
    iotca_der w;
    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_uint(&w, rs.p, n);
    iotca_der_uint(&w, rs.p + n, n);
    iotca_der_end(&w);
    return iotca_der_finish(&w);
}

/* The X.509 AlgorithmIdentifier of a JWS alg (RFC 5758 §3.2: no parameters for ECDSA; RFC 4055 §5: NULL for
 * RSA; RFC 8410 §3: none for Ed25519). */
static iotca_rc jws_algid(iotca_jws_alg alg, iotca_buf *out) {
    iotca_der w;
    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    switch (alg) {
    case IOTCA_JWS_ES256: iotca_der_oid(&w, IOTCA_OID_ECDSA_SHA256, sizeof IOTCA_OID_ECDSA_SHA256); break;
    case IOTCA_JWS_ES384: iotca_der_oid(&w, IOTCA_OID_ECDSA_SHA384, sizeof IOTCA_OID_ECDSA_SHA384); break;
    case IOTCA_JWS_RS256:
        iotca_der_oid(&w, IOTCA_OID_RSA_SHA256, sizeof IOTCA_OID_RSA_SHA256);
        iotca_der_null(&w);
        break;
    case IOTCA_JWS_EDDSA: iotca_der_oid(&w, IOTCA_OID_ED25519, sizeof IOTCA_OID_ED25519); break;
    }
    iotca_der_end(&w);
    return iotca_der_finish(&w);
}

iotca_rc iotca_jws_verify(const iotca_jws *j, iotca_slice spki) {
    acme_pubkey k;
    IOTCA_GUARD(acme_pubkey_from_spki(spki, &k));
    iotca_buf sig = {0}, algid = {0};
    iotca_rc rc = IOTCA_OK;
    IOTCA_TRY(alg_fits(j->alg, k.type));
    size_t want = algs[alg_index(j->alg)].sig_len;
    if (want == 0) want = k.x.len; /* RFC 7518 §3.3 / RFC 8017 §8.2.2: as long as the modulus */
    IOTCA_CHECK(j->signature.len == want, IOTCA_E_CRYPTO, "signature does not verify");
    if (j->alg == IOTCA_JWS_ES256 || j->alg == IOTCA_JWS_ES384) IOTCA_TRY(ecdsa_der(iotca_buf_slice(&j->signature), &sig));
    else IOTCA_TRY(iotca_buf_append(&sig, j->signature.data, j->signature.len));
    IOTCA_TRY(jws_algid(j->alg, &algid));
    IOTCA_TRY(iotca_verify(spki, iotca_buf_slice(&algid), iotca_buf_slice(&j->signing_input), iotca_buf_slice(&sig)));
out:
    acme_pubkey_free(&k);
    iotca_buf_free(&sig);
    iotca_buf_free(&algid);
    return rc;
}
