/* Private to lib/acme: the public-key form JWKs and SPKIs meet in, and the flattened JWS reader JWS and EAB share. */
#ifndef IOTCA_ACME_INT_H
#define IOTCA_ACME_INT_H

#include <jansson.h>

#include "iotca/jws.h"

/* The account key types ACME accepts here (RFC 7518 §6.2, §6.3; RFC 8037 §2). */
typedef enum acme_key_type { ACME_KEY_P256, ACME_KEY_P384, ACME_KEY_RSA, ACME_KEY_ED25519 } acme_key_type;

/* A public key as its JWK members hold it: EC x and y (full coordinate length), RSA n and e (unsigned
 * big-endian, no leading zero octet: RFC 7518 §6.3.1.1), Ed25519 x (y empty). */
typedef struct acme_pubkey {
    acme_key_type type;
    iotca_buf x;
    iotca_buf y;
} acme_pubkey;

/* Reads a public JWK object (a member outside RFC 7638's required set is ignored; a private one is
 * IOTCA_E_PARSE). IOTCA_E_POLICY "badPublicKey" for a well-formed key iotca does not take. */
iotca_rc acme_pubkey_from_jwk(const json_t *jwk, acme_pubkey *out);
/* Reads a DER SubjectPublicKeyInfo of one of the types above (the same size rules). */
iotca_rc acme_pubkey_from_spki(iotca_slice spki, acme_pubkey *out);
/* Appends the key's DER SubjectPublicKeyInfo (RFC 5480, RFC 3279 §2.3.1, RFC 8410 §4). */
iotca_rc acme_pubkey_spki(const acme_pubkey *k, iotca_buf *out);
/* Appends the canonical JWK of RFC 7638 §3.2, NUL-terminated. */
iotca_rc acme_pubkey_jwk_json(const acme_pubkey *k, iotca_buf *out);
void acme_pubkey_free(acme_pubkey *k);

/* A flattened JWS (RFC 7515 §7.2.2) split into its parts: exactly the members protected, payload and
 * signature, all strings; the protected header decoded and parsed as a JSON object. */
typedef struct acme_flat {
    json_t *root;            /* the whole object (owns the strings below) */
    json_t *header;          /* the decoded protected header, an object */
    const char *payload_b64; /* the payload as sent (points into root) */
    size_t payload_b64_len;
    iotca_buf signing_input; /* protected "." payload (RFC 7515 §5.1 step 8) */
    iotca_buf signature;     /* decoded */
} acme_flat;

/* Parses text as a flattened JWS; `what` names it in every error detail ("JWS", "externalAccountBinding"). */
iotca_rc acme_flat_parse(iotca_slice text, const char *what, acme_flat *out);
void acme_flat_free(acme_flat *f);
/* Parses text as one JSON object (repeated member names refused, nothing after it). */
iotca_rc acme_json_object(iotca_slice text, const char *what, json_t **out);
/* Copies header string member `name` into dst (cap bytes with the NUL). Absent: "" if optional, else
 * IOTCA_E_PARSE; not a string, empty, or too long: IOTCA_E_PARSE. */
iotca_rc acme_header_string(const json_t *hdr, const char *name, bool required, char *dst, size_t cap,
                            const char *what);

#endif
