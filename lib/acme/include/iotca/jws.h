/* ACME's JSON Web Signatures (RFC 8555 §6.2; RFC 7515 flattened JSON serialization, RFC 7518 algorithms, RFC 7638
 * thumbprints, RFC 8037 Ed25519) and External Account Binding (RFC 8555 §7.3.4). */
#ifndef IOTCA_JWS_H
#define IOTCA_JWS_H

#include <stdbool.h>
#include <stdint.h>

#include "iotca/buf.h"

/* Error details: an IOTCA_E_POLICY refusal's detail starts with the ACME error type it stands for (RFC 8555
 * §6.7) and a colon: "badSignatureAlgorithm: ...", "badPublicKey: ..." (a well-formed key iotca does not
 * accept: another curve or kty, RSA outside 2048..4096 bits), "unauthorized: ...", "malformed: ...". An
 * IOTCA_E_PARSE refusal is always ACME's "malformed". */

typedef enum iotca_jws_alg { IOTCA_JWS_ES256, IOTCA_JWS_ES384, IOTCA_JWS_RS256, IOTCA_JWS_EDDSA } iotca_jws_alg;
#define IOTCA_JWS_MAX_BODY (64 * 1024) /* larger bodies are refused before parsing */
typedef struct iotca_jws {
    iotca_jws_alg alg;
    char url[1024];          /* protected "url" (required) */
    char nonce[256];         /* protected "nonce" ("" if absent; the server decides if it is required) */
    char kid[1024];          /* protected "kid" ("" when the header carries a jwk) */
    iotca_buf jwk_spki;      /* with jwk: its DER SubjectPublicKeyInfo; empty with kid */
    iotca_buf jwk_json;      /* with jwk: canonical JSON (RFC 7638 §3.2: required members only, lexicographic
                                order, no whitespace), NUL-terminated; empty with kid */
    uint8_t thumbprint[32];  /* with jwk: SHA-256 of jwk_json (RFC 7638) */
    iotca_buf payload;       /* decoded payload bytes; empty for POST-as-GET */
    bool post_as_get;        /* payload was the empty string (RFC 8555 §6.3) */
    iotca_buf signing_input; /* the ASCII bytes protected "." payload, as sent */
    iotca_buf signature;     /* decoded signature */
} iotca_jws;
/* Parses and checks the structure (not the signature): exactly the members protected, payload, signature; the
 * protected header a JSON object with alg (ES256, ES384, RS256, EdDSA: anything else, "none" and HS* included,
 * IOTCA_E_POLICY "badSignatureAlgorithm: ..."), exactly one of jwk and kid, url, optional nonce, no crit (or
 * IOTCA_E_PARSE). JWK: EC P-256/P-384 (kty, crv, x, y of the right lengths), RSA (n, e; 2048..4096-bit n), OKP
 * Ed25519 (x, 32 bytes); a private member ("d", "p", ...) is refused; the alg must fit the key (ES256 with P-256,
 * ES384 with P-384, RS256 with RSA, EdDSA with Ed25519) else IOTCA_E_POLICY badSignatureAlgorithm. base64url
 * without padding only (RFC 7515 §2); other characters, padding, or trailing garbage are IOTCA_E_PARSE. Bodies
 * over IOTCA_JWS_MAX_BODY are IOTCA_E_USAGE. Every refusal's detail names what was wrong.
 * JSON objects with a repeated member name are IOTCA_E_PARSE (RFC 7515 §5.2 step 4); other protected members
 * than those named are ignored (RFC 7515 §4). *out is overwritten; on failure it is left empty (freeing it
 * is harmless); on success the caller frees it with iotca_jws_free. */
iotca_rc iotca_jws_parse(iotca_slice body, iotca_jws *out);
/* Verifies the signature over signing_input with spki (the account's stored key, or jwk_spki): IOTCA_OK, or
 * IOTCA_E_CRYPTO "signature does not verify" (also for a signature of the wrong length), IOTCA_E_POLICY if the
 * key does not fit alg. */
iotca_rc iotca_jws_verify(const iotca_jws *j, iotca_slice spki);
void iotca_jws_free(iotca_jws *j);
/* base64url without padding (RFC 4648 §5), appended to out and NUL-terminated / decoded into out.
 * Decoding appends the bytes to out (not NUL-terminated); it refuses (IOTCA_E_PARSE, out unchanged) padding,
 * characters outside the alphabet, a length of 4n+1 and non-zero unused bits in the last character (so every
 * byte string has exactly one encoding, as RFC 7638 thumbprints need). */
iotca_rc iotca_b64url_encode(iotca_slice data, iotca_buf *out);
iotca_rc iotca_b64url_decode(const char *s, size_t len, iotca_buf *out);
/* The canonical JWK (as jwk_json above) and RFC 7638 thumbprint of a DER SubjectPublicKeyInfo (an account key
 * as the server stores it): the same bytes iotca_jws_parse produced from that key's jwk. jwk_json is
 * appended to and NUL-terminated. IOTCA_E_PARSE for malformed DER, IOTCA_E_POLICY "badPublicKey" for keys
 * the JWK reader would refuse. */
iotca_rc iotca_jwk_from_spki(iotca_slice spki, iotca_buf *jwk_json, uint8_t thumbprint[32]);
/* RFC 8555 §8.1 key authorization: token "." base64url(thumbprint), appended to out, NUL-terminated. */
iotca_rc iotca_acme_key_authorization(const char *token, const uint8_t thumbprint[32], iotca_buf *out);

/* External Account Binding (RFC 8555 §7.3.4): newAccount's payload member externalAccountBinding is a flattened
 * JWS, protected {alg: HS256, HS384 or HS512, kid: the EAB key id, url: the newAccount URL}, no nonce,
 * payload: the account's JWK. */
typedef struct iotca_eab {
    char kid[256];
    int hash_bits;           /* 256, 384 or 512 */
    iotca_buf signing_input;
    iotca_buf mac;
} iotca_eab;
/* Parses the externalAccountBinding JSON object (raw JSON text): alg, kid, url == `url`, no nonce, and a payload
 * that is the same JWK as account_jwk_json (compare as JSON objects, member order free). IOTCA_E_PARSE /
 * IOTCA_E_POLICY (unsupported alg: "badSignatureAlgorithm"; url mismatch "unauthorized"; payload not the
 * account key "malformed") with a detail. The payload is read as a JWK (the same rules as iotca_jws_parse) and
 * its canonical form compared, so members RFC 7638 leaves out (alg, use, kid) do not matter. Bodies over
 * IOTCA_JWS_MAX_BODY are IOTCA_E_USAGE. On success the caller frees *out with iotca_eab_free. */
iotca_rc iotca_eab_parse(iotca_slice eab_json, const char *url, iotca_slice account_jwk_json, iotca_eab *out);
/* Checks the MAC with the EAB key (raw bytes) in constant time: IOTCA_OK or IOTCA_E_CRYPTO. */
iotca_rc iotca_eab_verify(const iotca_eab *e, iotca_slice hmac_key);
void iotca_eab_free(iotca_eab *e);

/* The payload of keyChange's inner JWS (RFC 8555 §7.3.5): {"account": account_url, "oldKey": the JWK whose canonical
 * form (as jwk_json) is old_jwk_json}. IOTCA_E_PARSE "malformed: ...", IOTCA_E_POLICY "unauthorized: ...". */
iotca_rc iotca_acme_key_change_payload_check(iotca_slice payload, const char *account_url, const char *old_jwk_json);

#endif
