/* Encrypted PKCS#8 (RFC 5958 §3, PBES2 of RFC 8018 §6.2): our own DER, wolfCrypt's PBKDF2 and AES.
 * wolfSSL 5.5.4's wc_EncryptPKCS8Key emits an EncryptedPrivateKeyInfo that
 * OpenSSL rejects, so the structure is encoded here. */
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/pwdbased.h>

#include "iotca/der.h"
#include "iotca/key.h"
#include "iotca/oid.h"
#include "iotca/pem.h"
#include "wolf.h"

#define KDF_MAX_ITERATIONS 10000000u
#define SALT_LEN 16

static iotca_rc aes_cbc(bool enc, const uint8_t *key, size_t keylen, const uint8_t iv[16], const uint8_t *in,
                        size_t n, uint8_t *out) {
    Aes aes;
    IOTCA_ENSURE(wc_AesInit(&aes, NULL, INVALID_DEVID) == 0, IOTCA_E_CRYPTO, "AES init failed");
    int r = wc_AesSetKey(&aes, key, (word32)keylen, iv, enc ? AES_ENCRYPTION : AES_DECRYPTION);
    if (r == 0) r = enc ? wc_AesCbcEncrypt(&aes, out, in, (word32)n) : wc_AesCbcDecrypt(&aes, out, in, (word32)n);
    wc_AesFree(&aes);
    iotca_wipe(&aes, sizeof aes);
    IOTCA_ENSURE(r == 0, IOTCA_E_CRYPTO, "AES-CBC failed");
    return IOTCA_OK;
}

iotca_rc iotca_pbkdf2_sha256(iotca_slice pass, iotca_slice salt, unsigned iterations, uint8_t *out, size_t n) {
    if (iterations == 0) iterations = IOTCA_KDF_ITERATIONS;
    IOTCA_ENSURE(pass.len > 0 && n >= 1 && n <= 64 && iterations <= KDF_MAX_ITERATIONS && out, IOTCA_E_USAGE,
                 "PBKDF2: empty passphrase, or a size or round count out of range");
    IOTCA_ENSURE(wc_PBKDF2(out, pass.p, (int)pass.len, salt.p, (int)salt.len, (int)iterations, (int)n, WC_SHA256) == 0,
                 IOTCA_E_CRYPTO, "PBKDF2 failed");
    return IOTCA_OK;
}

iotca_rc iotca_key_encrypt_pem(const iotca_key *k, iotca_slice pass, unsigned iterations, iotca_buf *pem) {
    if (iterations == 0) iterations = IOTCA_KDF_ITERATIONS;
    IOTCA_ENSURE(pass.len > 0, IOTCA_E_USAGE, "empty passphrase");
    IOTCA_ENSURE(iterations <= KDF_MAX_ITERATIONS, IOTCA_E_USAGE, "too many KDF iterations");
    iotca_rc rc = IOTCA_OK;
    iotca_buf plain = {.secret = true}, ct = {0}, der = {0};
    uint8_t salt[SALT_LEN], iv[16], dk[32];
    IOTCA_TRY(iotca_key_to_pkcs8(k, &plain));
    size_t pad = 16 - plain.len % 16; /* PKCS#5 padding, RFC 8018 §6.1.1 */
    for (size_t i = 0; i < pad; i++) IOTCA_TRY(iotca_buf_append_byte(&plain, (uint8_t)pad));
    IOTCA_TRY(iotca_random(salt, sizeof salt));
    IOTCA_TRY(iotca_random(iv, sizeof iv));
    IOTCA_CHECK(wc_PBKDF2(dk, pass.p, (int)pass.len, salt, sizeof salt, (int)iterations, sizeof dk, WC_SHA256) == 0,
                IOTCA_E_CRYPTO, "PBKDF2 failed");
    IOTCA_TRY(iotca_buf_reserve(&ct, plain.len));
    IOTCA_TRY(aes_cbc(true, dk, sizeof dk, iv, plain.data, plain.len, ct.data));
    ct.len = plain.len;

    iotca_der w;
    iotca_der_init(&w, &der);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* EncryptedPrivateKeyInfo */
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* AlgorithmIdentifier */
    iotca_der_oid(&w, IOTCA_OID_PBES2, sizeof IOTCA_OID_PBES2);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* PBES2-params */
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* keyDerivationFunc */
    iotca_der_oid(&w, IOTCA_OID_PBKDF2, sizeof IOTCA_OID_PBKDF2);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* PBKDF2-params */
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, salt, sizeof salt);
    iotca_der_int(&w, iterations);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* prf */
    iotca_der_oid(&w, IOTCA_OID_HMAC_SHA256, sizeof IOTCA_OID_HMAC_SHA256);
    iotca_der_null(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE); /* encryptionScheme */
    iotca_der_oid(&w, IOTCA_OID_AES256_CBC, sizeof IOTCA_OID_AES256_CBC);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, iv, sizeof iv);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, ct.data, ct.len);
    iotca_der_end(&w);
    IOTCA_TRY(iotca_der_finish(&w));
    IOTCA_TRY(iotca_pem_encode("ENCRYPTED PRIVATE KEY", der.data, der.len, pem));
out:
    iotca_wipe(dk, sizeof dk);
    iotca_buf_free(&plain);
    iotca_buf_free(&ct);
    iotca_buf_free(&der);
    return rc;
}

/* The PBES2 parameters we accept, pulled out of the AlgorithmIdentifier. */
typedef struct pbes2 {
    iotca_slice salt, iv;
    uint64_t iterations;
    int hash;       /* WC_SHA or WC_SHA256 */
    size_t key_len; /* 16 or 32 */
} pbes2;

static iotca_rc parse_pbes2(iotca_slice alg, pbes2 *p) {
    iotca_tlv oid, params, kdf, kdf_oid, kdf_params, salt, iter, enc, enc_oid, iv, t;
    bool present;
    IOTCA_GUARD(iotca_der_expect(&alg, IOTCA_DER_OID, &oid));
    IOTCA_ENSURE(IOTCA_OID_IS(oid.val, IOTCA_OID_PBES2), IOTCA_E_POLICY,
                 "key file is not PBES2-encrypted (legacy PKCS#12 PBE is not supported)");
    IOTCA_GUARD(iotca_der_expect(&alg, IOTCA_DER_SEQUENCE, &params));
    iotca_slice ps = params.val;
    IOTCA_GUARD(iotca_der_expect(&ps, IOTCA_DER_SEQUENCE, &kdf));
    IOTCA_GUARD(iotca_der_expect(&ps, IOTCA_DER_SEQUENCE, &enc));
    iotca_slice ks = kdf.val;
    IOTCA_GUARD(iotca_der_expect(&ks, IOTCA_DER_OID, &kdf_oid));
    IOTCA_ENSURE(IOTCA_OID_IS(kdf_oid.val, IOTCA_OID_PBKDF2), IOTCA_E_POLICY, "key file KDF is not PBKDF2");
    IOTCA_GUARD(iotca_der_expect(&ks, IOTCA_DER_SEQUENCE, &kdf_params));
    iotca_slice kp = kdf_params.val;
    IOTCA_GUARD(iotca_der_expect(&kp, IOTCA_DER_OCTET_STRING, &salt));
    IOTCA_GUARD(iotca_der_expect(&kp, IOTCA_DER_INTEGER, &iter));
    IOTCA_GUARD(iotca_der_read_uint(&iter, &p->iterations));
    IOTCA_ENSURE(p->iterations >= 1 && p->iterations <= KDF_MAX_ITERATIONS, IOTCA_E_POLICY,
                 "key file KDF iteration count %llu out of range", (unsigned long long)p->iterations);
    IOTCA_GUARD(iotca_der_optional(&kp, IOTCA_DER_INTEGER, &t, &present)); /* keyLength, implied by cipher */
    p->hash = WC_SHA;                                                      /* RFC 8018 default prf */
    IOTCA_GUARD(iotca_der_optional(&kp, IOTCA_DER_SEQUENCE, &t, &present));
    if (present) {
        iotca_slice prf = t.val;
        iotca_tlv prf_oid;
        IOTCA_GUARD(iotca_der_expect(&prf, IOTCA_DER_OID, &prf_oid));
        IOTCA_ENSURE(IOTCA_OID_IS(prf_oid.val, IOTCA_OID_HMAC_SHA256), IOTCA_E_POLICY,
                     "key file PBKDF2 PRF is not HMAC-SHA256 or HMAC-SHA1");
        p->hash = WC_SHA256;
    }
    iotca_slice es = enc.val;
    IOTCA_GUARD(iotca_der_expect(&es, IOTCA_DER_OID, &enc_oid));
    static const uint8_t aes128[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02};
    if (IOTCA_OID_IS(enc_oid.val, IOTCA_OID_AES256_CBC)) p->key_len = 32;
    else if (IOTCA_OID_IS(enc_oid.val, aes128)) p->key_len = 16;
    else IOTCA_BAIL(IOTCA_E_POLICY, "key file cipher is not AES-CBC");
    IOTCA_GUARD(iotca_der_expect(&es, IOTCA_DER_OCTET_STRING, &iv));
    IOTCA_ENSURE(iv.val.len == 16, IOTCA_E_PARSE, "key file IV must be 16 bytes");
    p->salt = salt.val;
    p->iv = iv.val;
    return IOTCA_OK;
}

iotca_rc iotca_key_decrypt_pem(iotca_slice in, iotca_slice pass, iotca_key **out) {
    iotca_rc rc = IOTCA_OK;
    iotca_buf der = {0}, plain = {.secret = true};
    uint8_t dk[32];
    iotca_tlv seq, alg, data;
    pbes2 p;
    IOTCA_TRY(iotca_pem_or_der(in, "ENCRYPTED PRIVATE KEY", &der));
    IOTCA_TRY(iotca_der_single(iotca_buf_slice(&der), IOTCA_DER_SEQUENCE, &seq));
    iotca_slice s = seq.val;
    IOTCA_TRY(iotca_der_expect(&s, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_TRY(iotca_der_expect(&s, IOTCA_DER_OCTET_STRING, &data));
    IOTCA_TRY(parse_pbes2(alg.val, &p));
    IOTCA_CHECK(data.val.len > 0 && data.val.len % 16 == 0, IOTCA_E_PARSE, "key file ciphertext is not AES blocks");
    IOTCA_CHECK(wc_PBKDF2(dk, pass.p, (int)pass.len, p.salt.p, (int)p.salt.len, (int)p.iterations, (int)p.key_len,
                          p.hash) == 0,
                IOTCA_E_CRYPTO, "PBKDF2 failed");
    IOTCA_TRY(iotca_buf_reserve(&plain, data.val.len));
    IOTCA_TRY(aes_cbc(false, dk, p.key_len, p.iv.p, data.val.p, data.val.len, plain.data));
    plain.len = data.val.len;
    uint8_t pad = plain.data[plain.len - 1];
    bool pad_ok = pad >= 1 && pad <= 16;
    for (size_t i = 0; pad_ok && i < pad; i++) pad_ok = plain.data[plain.len - 1 - i] == pad;
    IOTCA_CHECK(pad_ok, IOTCA_E_CRYPTO, "wrong passphrase (the key file does not decrypt)");
    plain.len -= pad;
    if (iotca_key_from_pkcs8(iotca_buf_slice(&plain), out) != IOTCA_OK)
        rc = iotca_error_set(IOTCA_E_CRYPTO, "wrong passphrase (the key file does not decrypt)");
out:
    iotca_wipe(dk, sizeof dk);
    iotca_buf_free(&plain);
    iotca_buf_free(&der);
    return rc;
}
