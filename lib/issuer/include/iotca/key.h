/* Private and public keys: generation, PKCS#8, SubjectPublicKeyInfo, signing and verification (wolfSSL underneath). */
#ifndef IOTCA_KEY_H
#define IOTCA_KEY_H

#include "iotca/buf.h"

typedef enum iotca_key_type {
    IOTCA_KEY_ECDSA_P256,
    IOTCA_KEY_ECDSA_P384,
    IOTCA_KEY_RSA_3072,
    IOTCA_KEY_RSA_4096,
    IOTCA_KEY_ED25519,
} iotca_key_type;

/* An opaque private key. Its memory is wiped when freed. */
typedef struct iotca_key iotca_key;

/* "ecdsa-p256", "ecdsa-p384", "rsa-3072", "rsa-4096", "ed25519".
 * IOTCA_E_USAGE naming the accepted values otherwise. */
iotca_rc iotca_key_type_parse(const char *name, iotca_key_type *out);
const char *iotca_key_type_name(iotca_key_type t);

/* Generates a fresh key from wolfSSL's CSPRNG. Caller frees *out. */
iotca_rc iotca_key_generate(iotca_key_type t, iotca_key **out);
/* Loads an unencrypted PKCS#8 PrivateKeyInfo (RFC 5208). IOTCA_E_PARSE on
 * malformed input, IOTCA_E_POLICY for key types or sizes iotca does not
 * support (e.g. RSA-2048, P-521). Caller frees *out. */
iotca_rc iotca_key_from_pkcs8(iotca_slice der, iotca_key **out);
/* Writes the unencrypted PKCS#8 DER; out should be a secret buffer. */
iotca_rc iotca_key_to_pkcs8(const iotca_key *k, iotca_buf *out);
/* Appends the SubjectPublicKeyInfo DER of the key. */
iotca_rc iotca_key_spki(const iotca_key *k, iotca_buf *out);
iotca_key_type iotca_key_get_type(const iotca_key *k);
/* Appends the DER AlgorithmIdentifier this key signs with (ecdsa-with-SHA256
 * for P-256, -SHA384 for P-384, sha256WithRSAEncryption, Ed25519). */
iotca_rc iotca_key_sigalg(const iotca_key *k, iotca_buf *out);
/* Signs msg with the key's algorithm; appends the signature (DER ECDSA-Sig-
 * Value, PKCS#1 v1.5 block, or 64-byte Ed25519) to sig. */
iotca_rc iotca_key_sign(const iotca_key *k, iotca_slice msg, iotca_buf *sig);
/* The length of the digest iotca_key_sign computes for this key: 32
 * (SHA-256: P-256, RSA) or 48 (SHA-384: P-384); 0 for Ed25519, which signs
 * whole messages (RFC 8032 PureEdDSA) and so cannot sign a digest. */
size_t iotca_key_digest_len(const iotca_key *k);
/* Signs a digest the caller computed incrementally (of iotca_key_digest_len
 * bytes, with the hash iotca_key_sign would use), so a large message never
 * has to be in memory; appends the same signature form as iotca_key_sign.
 * IOTCA_E_USAGE for Ed25519 or a digest of the wrong length. */
iotca_rc iotca_key_sign_digest(const iotca_key *k, const uint8_t *digest, size_t n, iotca_buf *sig);
/* True if the key's public half is exactly the given SPKI. */
bool iotca_key_matches_spki(const iotca_key *k, iotca_slice spki);
void iotca_key_free(iotca_key *k);

/* Verifies sig over msg with the public key in spki under the algorithm in
 * algid (DER AlgorithmIdentifier). IOTCA_E_CRYPTO "signature does not verify"
 * when it does not; IOTCA_E_POLICY for algorithms iotca does not accept;
 * IOTCA_E_PARSE for a malformed key. */
iotca_rc iotca_verify(iotca_slice spki, iotca_slice algid, iotca_slice msg, iotca_slice sig);
/* Describes the key in spki: type, and for *out_type the iotca type. */
iotca_rc iotca_spki_key_type(iotca_slice spki, iotca_key_type *out_type);

/* SHA-256 and SHA-1 of data. */
void iotca_sha256(iotca_slice data, uint8_t out[32]);
void iotca_sha1(iotca_slice data, uint8_t out[20]);
/* HMAC (RFC 2104) of msg under key (any length, empty included) with SHA-256, SHA-384 or SHA-512 (RFC 4231
 * vectors hold); for ACME External Account Binding (RFC 8555 §7.3.4). Compare MACs with iotca_ct_equal.
 * IOTCA_E_CRYPTO if wolfCrypt fails. */
iotca_rc iotca_hmac_sha256(iotca_slice key, iotca_slice msg, uint8_t out[32]);
iotca_rc iotca_hmac_sha384(iotca_slice key, iotca_slice msg, uint8_t out[48]);
iotca_rc iotca_hmac_sha512(iotca_slice key, iotca_slice msg, uint8_t out[64]);
/* Fills out with n bytes of CSPRNG output. */
iotca_rc iotca_random(uint8_t *out, size_t n);
/* Releases this thread's crypto state (its DRBG and wolfSSL's per-thread
 * fixed-point ECC cache). Call when a long-lived worker thread ends. */
void iotca_crypto_thread_end(void);
/* Frees this thread's fixed-point ECC tables (wolfSSL FP_ECC) but keeps its DRBG: for a thread that just
 * did occasional work and may now sit idle. Later operations rebuild the tables as needed. */
void iotca_crypto_thread_trim(void);

/* Encrypts the key into PEM "ENCRYPTED PRIVATE KEY" (PKCS#8 with PBES2:
 * PBKDF2-HMAC-SHA256 and AES-256-CBC, RFC 8018), which `openssl pkey
 * -passin` opens. iterations 0 means the default (IOTCA_KDF_ITERATIONS). */
#define IOTCA_KDF_ITERATIONS 310000
/* PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) of pass and salt with `iterations` rounds (0: IOTCA_KDF_ITERATIONS), n (1 to
 * 64) bytes into out: a key derived from the daemon's passphrase for secrets that are not private keys (the ACME
 * EAB keys). IOTCA_E_USAGE for an empty passphrase or out-of-range sizes. */
iotca_rc iotca_pbkdf2_sha256(iotca_slice pass, iotca_slice salt, unsigned iterations, uint8_t *out, size_t n);
iotca_rc iotca_key_encrypt_pem(const iotca_key *k, iotca_slice pass, unsigned iterations, iotca_buf *pem);
/* Opens a PEM or DER EncryptedPrivateKeyInfo with PBES2 (PBKDF2 with
 * HMAC-SHA1 or -SHA256; AES-128/256-CBC). A wrong passphrase is
 * IOTCA_E_CRYPTO "wrong passphrase". Iteration counts over 10,000,000 are
 * refused (a denial-of-service guard). */
iotca_rc iotca_key_decrypt_pem(iotca_slice in, iotca_slice pass, iotca_key **out);

/* The crypto library at run time and how its ECC was built, e.g. "wolfSSL 5.5.4 (generic ECC, no SP)" or
 * "... (SP ECC with assembly)"; a static string, for --version. */
const char *iotca_crypto_version(void);
typedef struct iotca_crypto_info {
    const char *library, *version; /* "wolfSSL", "5.5.4" */
    bool sp;                        /* its SP P-256/P-384 code is in */
    const char *built_from; /* the Debian source version of deploy/wolfssl-sp.sh's build; NULL: Debian's library */
} iotca_crypto_info;
/* The same, as fields (static strings), for the start-up log and /metrics. */
void iotca_crypto_info_get(iotca_crypto_info *out);

#endif
