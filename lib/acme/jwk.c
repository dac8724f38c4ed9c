/* JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2) to and from DER SubjectPublicKeyInfo, and RFC 7638 thumbprints. */
#include <string.h>

#include "acme_int.h"
#include "iotca/der.h"
#include "iotca/key.h"
#include "iotca/oid.h"

/* RSA account keys: certbot's default is 2048 bits; 4096 bounds the work a signature check costs. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 4096
#define RSA_MAX_E_LEN 8

void acme_pubkey_free(acme_pubkey *k) {
    iotca_buf_free(&k->x);
    iotca_buf_free(&k->y);
}

static size_t coord_len(acme_key_type t) { return t == ACME_KEY_P384 ? 48 : 32; }

static size_t bit_length(iotca_slice be) {
    if (be.len == 0) return 0;
    size_t bits = be.len * 8;
    for (uint8_t top = be.p[0]; !(top & 0x80) && bits > (be.len - 1) * 8; top = (uint8_t)(top << 1)) bits--;
    return bits;
}

/* The size and form rules every key meets, however it arrived (a JWK from a client or an SPKI from the store). */
static iotca_rc pubkey_check(const acme_pubkey *k) {
    iotca_slice x = iotca_buf_slice(&k->x), y = iotca_buf_slice(&k->y);
    switch (k->type) {
    case ACME_KEY_P256:
    case ACME_KEY_P384:
        /* RFC 7518 §6.2.1.2: x and y are the full coordinate size, leading zeros kept */
        IOTCA_ENSURE(x.len == coord_len(k->type) && y.len == coord_len(k->type), IOTCA_E_PARSE,
                     "EC key: x and y must be %zu bytes each (RFC 7518 §6.2.1.2), not %zu and %zu",
                     coord_len(k->type), x.len, y.len);
        return IOTCA_OK;
    case ACME_KEY_ED25519:
        IOTCA_ENSURE(x.len == 32 && y.len == 0, IOTCA_E_PARSE, "Ed25519 key: x must be 32 bytes (RFC 8037 §2), not %zu",
                     x.len);
        return IOTCA_OK;
    case ACME_KEY_RSA: break;
    }
    /* RFC 7518 §6.3.1.1: the minimum number of octets, so one key has one JWK and one thumbprint */
    IOTCA_ENSURE(x.len > 0 && x.p[0] != 0, IOTCA_E_PARSE, "RSA key: n has a leading zero octet (RFC 7518 §6.3.1.1)");
    IOTCA_ENSURE(y.len > 0 && y.p[0] != 0, IOTCA_E_PARSE, "RSA key: e has a leading zero octet (RFC 7518 §6.3.1.2)");
    size_t bits = bit_length(x);
    IOTCA_ENSURE(bits >= RSA_MIN_BITS && bits <= RSA_MAX_BITS, IOTCA_E_POLICY,
                 "badPublicKey: RSA-%zu account keys are not accepted (%d to %d bits)", bits, RSA_MIN_BITS,
                 RSA_MAX_BITS);
    IOTCA_ENSURE(y.len <= RSA_MAX_E_LEN && (y.p[y.len - 1] & 1) && !(y.len == 1 && y.p[0] == 1), IOTCA_E_POLICY,
                 "badPublicKey: RSA public exponent must be odd, above 1 and at most %d bytes", RSA_MAX_E_LEN);
    return IOTCA_OK;
}

/* ---- JWK in (RFC 7517 §4, RFC 7518 §6) ---- */

/* Decodes the base64url string member `name` of jwk into out. */
static iotca_rc jwk_bytes(const json_t *jwk, const char *name, iotca_buf *out) {
    const json_t *v = json_object_get(jwk, name);
    IOTCA_ENSURE(v != NULL, IOTCA_E_PARSE, "jwk: member \"%s\" is missing", name);
    IOTCA_ENSURE(json_is_string(v), IOTCA_E_PARSE, "jwk: member \"%s\" is not a string", name);
    iotca_rc rc = iotca_b64url_decode(json_string_value(v), json_string_length(v), out);
    if (rc != IOTCA_OK) IOTCA_BAIL(rc, "jwk: member \"%s\": %s", name, iotca_error_detail());
    return IOTCA_OK;
}

static iotca_rc jwk_name(const json_t *jwk, const char *name, const char **out) {
    const json_t *v = json_object_get(jwk, name);
    IOTCA_ENSURE(v != NULL, IOTCA_E_PARSE, "jwk: member \"%s\" is missing", name);
    IOTCA_ENSURE(json_is_string(v), IOTCA_E_PARSE, "jwk: member \"%s\" is not a string", name);
    *out = json_string_value(v);
    return IOTCA_OK;
}

/* The private members of RFC 7518 §6.2.2, §6.3.2, §6.4.1 and RFC 8037 §2: an account's jwk is its public key
 * only (RFC 8555 §6.2), and a client that sends its private key has already lost it. */
static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

iotca_rc acme_pubkey_from_jwk(const json_t *jwk, acme_pubkey *out) {
    memset(out, 0, sizeof *out);
    IOTCA_ENSURE(json_is_object(jwk), IOTCA_E_PARSE, "jwk is not a JSON object");
    for (size_t i = 0; i < sizeof private_members / sizeof private_members[0]; i++)
        IOTCA_ENSURE(json_object_get(jwk, private_members[i]) == NULL, IOTCA_E_PARSE,
                     "jwk carries the private member \"%s\": an account key's jwk must be public", private_members[i]);
    const char *kty = NULL, *crv = NULL;
    IOTCA_GUARD(jwk_name(jwk, "kty", &kty));
    iotca_rc rc = IOTCA_OK;
    if (strcmp(kty, "EC") == 0) {
        IOTCA_GUARD(jwk_name(jwk, "crv", &crv));
        if (strcmp(crv, "P-256") == 0) out->type = ACME_KEY_P256;
        else if (strcmp(crv, "P-384") == 0) out->type = ACME_KEY_P384;
        else IOTCA_BAIL(IOTCA_E_POLICY, "badPublicKey: EC curve \"%s\" is not accepted (P-256, P-384)", crv);
        IOTCA_TRY(jwk_bytes(jwk, "x", &out->x));
        IOTCA_TRY(jwk_bytes(jwk, "y", &out->y));
    } else if (strcmp(kty, "RSA") == 0) {
        out->type = ACME_KEY_RSA;
        IOTCA_TRY(jwk_bytes(jwk, "n", &out->x));
        IOTCA_TRY(jwk_bytes(jwk, "e", &out->y));
    } else if (strcmp(kty, "OKP") == 0) {
        IOTCA_GUARD(jwk_name(jwk, "crv", &crv));
        IOTCA_ENSURE(strcmp(crv, "Ed25519") == 0, IOTCA_E_POLICY,
                     "badPublicKey: OKP curve \"%s\" is not accepted (Ed25519)", crv);
        out->type = ACME_KEY_ED25519;
        IOTCA_TRY(jwk_bytes(jwk, "x", &out->x));
    } else {
        IOTCA_BAIL(IOTCA_E_POLICY, "badPublicKey: jwk kty \"%s\" is not accepted (EC, RSA, OKP)", kty);
    }
    IOTCA_TRY(pubkey_check(out));
out:
    if (rc != IOTCA_OK) acme_pubkey_free(out);
    return rc;
}

/* ---- JWK out: RFC 7638 §3.2's required members, lexicographic order, no whitespace ---- */

static iotca_rc member(iotca_buf *out, const char *name, iotca_slice bytes, const char *sep) {
    IOTCA_GUARD(iotca_buf_printf(out, "\"%s\":\"", name));
    IOTCA_GUARD(iotca_b64url_encode(bytes, out));
    return iotca_buf_printf(out, "\"%s", sep);
}

iotca_rc acme_pubkey_jwk_json(const acme_pubkey *k, iotca_buf *out) {
    iotca_slice x = iotca_buf_slice(&k->x), y = iotca_buf_slice(&k->y);
    switch (k->type) {
    case ACME_KEY_P256:
    case ACME_KEY_P384:
        IOTCA_GUARD(iotca_buf_printf(out, "{\"crv\":\"%s\",\"kty\":\"EC\",", k->type == ACME_KEY_P256 ? "P-256" : "P-384"));
        IOTCA_GUARD(member(out, "x", x, ","));
        IOTCA_GUARD(member(out, "y", y, "}"));
        break;
    case ACME_KEY_RSA:
        IOTCA_GUARD(iotca_buf_append_str(out, "{"));
        IOTCA_GUARD(member(out, "e", y, ",\"kty\":\"RSA\","));
        IOTCA_GUARD(member(out, "n", x, "}"));
        break;
    case ACME_KEY_ED25519:
        IOTCA_GUARD(iotca_buf_append_str(out, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\","));
        IOTCA_GUARD(member(out, "x", x, "}"));
        break;
    }
    return iotca_buf_cstr(out);
}

/* ---- SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) out and in ---- */

static void algid(iotca_der *w, const uint8_t *oid, size_t n, const uint8_t *curve, size_t cn, bool null) {
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(w, oid, n);
    if (curve) iotca_der_oid(w, curve, cn); /* RFC 5480 §2.1.1 namedCurve */
    if (null) iotca_der_null(w);            /* RFC 3279 §2.3.1: NULL parameters for rsaEncryption */
    iotca_der_end(w);
}

/* The subjectPublicKey bits: RSAPublicKey (RFC 3279 §2.3.1), the uncompressed EC point (SEC 1 §2.3.3), or the
 * 32 Ed25519 bytes (RFC 8410 §4). */
static iotca_rc key_bits(const acme_pubkey *k, iotca_buf *out) {
    if (k->type == ACME_KEY_ED25519) return iotca_buf_append(out, k->x.data, k->x.len);
    if (k->type != ACME_KEY_RSA) {
        IOTCA_GUARD(iotca_buf_append_byte(out, 0x04));
        IOTCA_GUARD(iotca_buf_append(out, k->x.data, k->x.len));
        return iotca_buf_append(out, k->y.data, k->y.len);
    }
    iotca_der w;
    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_uint(&w, k->x.data, k->x.len);
    iotca_der_uint(&w, k->y.data, k->y.len);
    iotca_der_end(&w);
    return iotca_der_finish(&w);
}

iotca_rc acme_pubkey_spki(const acme_pubkey *k, iotca_buf *out) {
    iotca_buf key = {0};
    iotca_rc rc = key_bits(k, &key);
    if (rc != IOTCA_OK) {
        iotca_buf_free(&key);
        return rc;
    }
    bool p256 = k->type == ACME_KEY_P256;
    iotca_der w;
    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    if (k->type == ACME_KEY_RSA) algid(&w, IOTCA_OID_RSA, sizeof IOTCA_OID_RSA, NULL, 0, true);
    else if (k->type == ACME_KEY_ED25519) algid(&w, IOTCA_OID_ED25519, sizeof IOTCA_OID_ED25519, NULL, 0, false);
    else
        algid(&w, IOTCA_OID_EC_PUBLIC_KEY, sizeof IOTCA_OID_EC_PUBLIC_KEY, p256 ? IOTCA_OID_P256 : IOTCA_OID_P384,
              p256 ? sizeof IOTCA_OID_P256 : sizeof IOTCA_OID_P384, false);
    iotca_der_bits(&w, key.data, key.len);
    iotca_der_end(&w);
    iotca_buf_free(&key);
    return iotca_der_finish(&w);
}

static iotca_rc spki_rsa(iotca_slice bits, acme_pubkey *out) {
    iotca_tlv seq, n, e;
    iotca_slice nm, em;
    IOTCA_GUARD(iotca_der_single(bits, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_INTEGER, &n));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_INTEGER, &e));
    IOTCA_ENSURE(in.len == 0, IOTCA_E_PARSE, "RSAPublicKey: trailing data");
    IOTCA_GUARD(iotca_der_int_magnitude(&n, &nm));
    IOTCA_GUARD(iotca_der_int_magnitude(&e, &em));
    out->type = ACME_KEY_RSA;
    IOTCA_GUARD(iotca_buf_append(&out->x, nm.p, nm.len));
    return iotca_buf_append(&out->y, em.p, em.len);
}

static iotca_rc spki_ec(iotca_slice curve, iotca_slice point, acme_pubkey *out) {
    if (IOTCA_OID_IS(curve, IOTCA_OID_P256)) out->type = ACME_KEY_P256;
    else if (IOTCA_OID_IS(curve, IOTCA_OID_P384)) out->type = ACME_KEY_P384;
    else IOTCA_BAIL(IOTCA_E_POLICY, "badPublicKey: EC curve not accepted (P-256, P-384)");
    size_t c = coord_len(out->type);
    IOTCA_ENSURE(point.len == 1 + 2 * c && point.p[0] == 0x04, IOTCA_E_PARSE,
                 "EC public key is not an uncompressed point of its curve");
    IOTCA_GUARD(iotca_buf_append(&out->x, point.p + 1, c));
    return iotca_buf_append(&out->y, point.p + 1 + c, c);
}

static iotca_rc spki_read(iotca_slice spki, acme_pubkey *out) {
    iotca_tlv seq, alg, bits, oid, param;
    bool has_param = false;
    IOTCA_GUARD(iotca_der_single(spki, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_BIT_STRING, &bits));
    IOTCA_ENSURE(in.len == 0, IOTCA_E_PARSE, "SubjectPublicKeyInfo: trailing data");
    IOTCA_ENSURE(bits.val.len >= 1 && bits.val.p[0] == 0, IOTCA_E_PARSE, "SubjectPublicKeyInfo: malformed key bits");
    iotca_slice key = iotca_slice_of(bits.val.p + 1, bits.val.len - 1), ai = alg.val;
    IOTCA_GUARD(iotca_der_expect(&ai, IOTCA_DER_OID, &oid));
    if (ai.len > 0) {
        IOTCA_GUARD(iotca_der_next(&ai, &param));
        has_param = true;
    }
    IOTCA_ENSURE(ai.len == 0, IOTCA_E_PARSE, "SubjectPublicKeyInfo: trailing algorithm parameters");
    if (IOTCA_OID_IS(oid.val, IOTCA_OID_EC_PUBLIC_KEY)) {
        IOTCA_ENSURE(has_param && param.tag == IOTCA_DER_OID, IOTCA_E_PARSE, "EC key without a named curve");
        return spki_ec(param.val, key, out);
    }
    if (IOTCA_OID_IS(oid.val, IOTCA_OID_RSA)) {
        IOTCA_ENSURE(has_param && param.tag == IOTCA_DER_NULL && param.val.len == 0, IOTCA_E_PARSE,
                     "rsaEncryption parameters must be NULL (RFC 3279 §2.3.1)");
        return spki_rsa(key, out);
    }
    IOTCA_ENSURE(IOTCA_OID_IS(oid.val, IOTCA_OID_ED25519), IOTCA_E_POLICY,
                 "badPublicKey: public key algorithm not accepted (EC, RSA, Ed25519)");
    IOTCA_ENSURE(!has_param, IOTCA_E_PARSE, "Ed25519 parameters must be absent (RFC 8410 §3)");
    out->type = ACME_KEY_ED25519;
    return iotca_buf_append(&out->x, key.p, key.len);
}

iotca_rc acme_pubkey_from_spki(iotca_slice spki, acme_pubkey *out) {
    memset(out, 0, sizeof *out);
    iotca_rc rc = spki_read(spki, out);
    if (rc == IOTCA_OK) rc = pubkey_check(out);
    if (rc != IOTCA_OK) acme_pubkey_free(out);
    return rc;
}

iotca_rc iotca_jwk_from_spki(iotca_slice spki, iotca_buf *jwk_json, uint8_t thumbprint[32]) {
    acme_pubkey k;
    IOTCA_GUARD(acme_pubkey_from_spki(spki, &k));
    size_t start = jwk_json->len;
    iotca_rc rc = acme_pubkey_jwk_json(&k, jwk_json);
    acme_pubkey_free(&k);
    IOTCA_GUARD(rc);
    iotca_sha256(iotca_slice_of(jwk_json->data + start, jwk_json->len - start), thumbprint); /* RFC 7638 §3.1 */
    return IOTCA_OK;
}

iotca_rc iotca_acme_key_authorization(const char *token, const uint8_t thumbprint[32], iotca_buf *out) {
    IOTCA_ENSURE(token != NULL && *token != '\0', IOTCA_E_USAGE, "key authorization: no token");
    IOTCA_GUARD(iotca_buf_append_str(out, token)); /* RFC 8555 §8.1: token || '.' || base64url(Thumbprint(accountKey)) */
    IOTCA_GUARD(iotca_buf_append_byte(out, '.'));
    return iotca_b64url_encode(iotca_slice_of(thumbprint, 32), out);
}
