/* Keys: generation, PKCS#8 in/out, SPKI, sign and verify, all through wolfCrypt. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/der.h"
#include "iotca/key.h"
#include "iotca/oid.h"
#include "iotca/token.h"
#include "key_int.h"
#include "wolf.h"

static _Thread_local WC_RNG rng_;
static _Thread_local int rng_ready_;
static _Thread_local int tracked_;
static pthread_key_t thread_end_key_;
static pthread_once_t thread_end_once_ = PTHREAD_ONCE_INIT;

static void on_thread_exit(void *unused) {
    (void)unused;
    iotca_crypto_thread_end();
}

static void make_thread_end_key(void) { (void)pthread_key_create(&thread_end_key_, on_thread_exit); }

void iotca_crypto_thread_track(void) {
    if (tracked_) return;
    pthread_once(&thread_end_once_, make_thread_end_key);
    /* any non-NULL value makes the destructor run when the thread exits (not for the main thread, which
     * calls iotca_crypto_thread_end itself, as iotca_ca_close does) */
    tracked_ = pthread_setspecific(thread_end_key_, &tracked_) == 0;
}

WC_RNG *iotca_wolf_rng(void) {
    iotca_crypto_thread_track();
    if (!rng_ready_) {
        if (wc_InitRng(&rng_) != 0) return NULL;
        rng_ready_ = 1;
    }
    return &rng_;
}

void iotca_crypto_thread_end(void) {
    if (rng_ready_) {
        wc_FreeRng(&rng_);
        rng_ready_ = 0;
    }
#ifdef FP_ECC
    wc_ecc_fp_free(); /* FP_ECC caches per thread and frees only on request */
#endif
}

void iotca_crypto_thread_trim(void) {
#ifdef FP_ECC
    wc_ecc_fp_free();
#endif
}

iotca_rc iotca_random(uint8_t *out, size_t n) {
    WC_RNG *rng = iotca_wolf_rng();
    IOTCA_ENSURE(rng != NULL, IOTCA_E_CRYPTO, "random number generator unavailable");
    IOTCA_ENSURE(wc_RNG_GenerateBlock(rng, out, (word32)n) == 0, IOTCA_E_CRYPTO, "random generation failed");
    return IOTCA_OK;
}

void iotca_sha256(iotca_slice d, uint8_t out[32]) { wc_Sha256Hash(d.p, (word32)d.len, out); }
void iotca_sha1(iotca_slice d, uint8_t out[20]) { wc_ShaHash(d.p, (word32)d.len, out); }

static const struct {
    const char *name;
    iotca_key_type type;
} key_names[] = {
    {"ecdsa-p256", IOTCA_KEY_ECDSA_P256}, {"ecdsa-p384", IOTCA_KEY_ECDSA_P384}, {"rsa-3072", IOTCA_KEY_RSA_3072},
    {"rsa-4096", IOTCA_KEY_RSA_4096},     {"ed25519", IOTCA_KEY_ED25519},
};

iotca_rc iotca_key_type_parse(const char *name, iotca_key_type *out) {
    for (size_t i = 0; name && i < sizeof key_names / sizeof key_names[0]; i++)
        if (strcmp(name, key_names[i].name) == 0) {
            *out = key_names[i].type;
            return IOTCA_OK;
        }
    IOTCA_BAIL(IOTCA_E_USAGE, "unknown key type '%s' (use ecdsa-p256, ecdsa-p384, rsa-3072, rsa-4096 or ed25519)",
               name ? name : "");
}

const char *iotca_key_type_name(iotca_key_type t) {
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
        if (key_names[i].type == t) return key_names[i].name;
    return "unknown";
}

iotca_key_type iotca_key_get_type(const iotca_key *k) { return k->type; }

static bool is_ec(iotca_key_type t) { return t == IOTCA_KEY_ECDSA_P256 || t == IOTCA_KEY_ECDSA_P384; }
static bool is_rsa(iotca_key_type t) { return t == IOTCA_KEY_RSA_3072 || t == IOTCA_KEY_RSA_4096; }

void iotca_key_free(iotca_key *k) {
    if (k == NULL) return;
    if (is_ec(k->type)) wc_ecc_free(&k->u.ecc);
    else if (is_rsa(k->type)) wc_FreeRsaKey(&k->u.rsa);
    else wc_ed25519_free(&k->u.ed);
    iotca_wipe(k, sizeof *k);
    free(k);
}

static iotca_rc key_new(iotca_key_type t, iotca_key **out) {
    iotca_key *k = calloc(1, sizeof *k);
    IOTCA_ENSURE(k != NULL, IOTCA_E_INTERNAL, "out of memory");
    k->type = t;
    int r = is_ec(t) ? wc_ecc_init(&k->u.ecc) : is_rsa(t) ? wc_InitRsaKey(&k->u.rsa, NULL) : wc_ed25519_init(&k->u.ed);
    if (r != 0) {
        free(k);
        IOTCA_BAIL(IOTCA_E_CRYPTO, "key init failed: %s", wc_GetErrorString(r));
    }
    *out = k;
    return IOTCA_OK;
}

iotca_rc iotca_key_generate(iotca_key_type t, iotca_key **out) {
    WC_RNG *rng = iotca_wolf_rng();
    IOTCA_ENSURE(rng != NULL, IOTCA_E_CRYPTO, "random number generator unavailable");
    iotca_key *k = NULL;
    IOTCA_GUARD(key_new(t, &k));
    int r;
    switch (t) {
    case IOTCA_KEY_ECDSA_P256: r = wc_ecc_make_key_ex(rng, 32, &k->u.ecc, ECC_SECP256R1); break;
    case IOTCA_KEY_ECDSA_P384: r = wc_ecc_make_key_ex(rng, 48, &k->u.ecc, ECC_SECP384R1); break;
    case IOTCA_KEY_RSA_3072: r = wc_MakeRsaKey(&k->u.rsa, 3072, WC_RSA_EXPONENT, rng); break;
    case IOTCA_KEY_RSA_4096: r = wc_MakeRsaKey(&k->u.rsa, 4096, WC_RSA_EXPONENT, rng); break;
    default: r = wc_ed25519_make_key(rng, ED25519_KEY_SIZE, &k->u.ed); break;
    }
    if (r != 0) {
        iotca_key_free(k);
        IOTCA_BAIL(IOTCA_E_CRYPTO, "key generation failed: %s", wc_GetErrorString(r));
    }
    *out = k;
    return IOTCA_OK;
}

/* Runs a wolfSSL DER export into a secret stack buffer and appends it. */
#define EXPORT_MAX 4096

iotca_rc iotca_key_to_pkcs8(const iotca_key *k, iotca_buf *out) {
    IOTCA_ENSURE(!k->on_token, IOTCA_E_USAGE, "the key is on a PKCS#11 token and cannot be extracted");
    uint8_t inner[EXPORT_MAX];
    int n;
    iotca_key *m = (iotca_key *)k; /* wolfSSL's export functions are not const-correct */
    if (k->type == IOTCA_KEY_ED25519) {
        /* wolfSSL writes Ed25519 private keys directly as RFC 8410 PKCS#8 */
        n = wc_Ed25519PrivateKeyToDer(&m->u.ed, inner, sizeof inner);
        IOTCA_ENSURE(n > 0, IOTCA_E_CRYPTO, "Ed25519 export failed: %s", wc_GetErrorString(n));
        iotca_rc rc = iotca_buf_append(out, inner, (size_t)n);
        iotca_wipe(inner, sizeof inner);
        return rc;
    }
    n = is_ec(k->type) ? wc_EccKeyToDer(&m->u.ecc, inner, sizeof inner) : wc_RsaKeyToDer(&m->u.rsa, inner, sizeof inner);
    IOTCA_ENSURE(n > 0, IOTCA_E_CRYPTO, "key export failed: %s", wc_GetErrorString(n));
    /* RFC 5208 PrivateKeyInfo around the SEC1 (RFC 5915) or PKCS#1 key */
    iotca_der w;
    iotca_der_init(&w, out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_int(&w, 0);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    if (is_ec(k->type)) {
        iotca_der_oid(&w, IOTCA_OID_EC_PUBLIC_KEY, sizeof IOTCA_OID_EC_PUBLIC_KEY);
        if (k->type == IOTCA_KEY_ECDSA_P256) iotca_der_oid(&w, IOTCA_OID_P256, sizeof IOTCA_OID_P256);
        else iotca_der_oid(&w, IOTCA_OID_P384, sizeof IOTCA_OID_P384);
    } else {
        iotca_der_oid(&w, IOTCA_OID_RSA, sizeof IOTCA_OID_RSA);
        iotca_der_null(&w);
    }
    iotca_der_end(&w);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, inner, (size_t)n);
    iotca_der_end(&w);
    iotca_wipe(inner, sizeof inner);
    return iotca_der_finish(&w);
}

iotca_rc iotca_key_from_pkcs8(iotca_slice der, iotca_key **out) {
    iotca_tlv seq, ver, alg, oid, priv;
    IOTCA_GUARD(iotca_der_single(der, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_INTEGER, &ver));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &alg));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_OCTET_STRING, &priv));
    iotca_slice a = alg.val;
    IOTCA_GUARD(iotca_der_expect(&a, IOTCA_DER_OID, &oid));
    iotca_key_type t;
    iotca_key *k = NULL;
    iotca_rc rc = IOTCA_OK;
    int r;
    word32 idx = 0;
    if (IOTCA_OID_IS(oid.val, IOTCA_OID_EC_PUBLIC_KEY)) {
        iotca_tlv curve;
        IOTCA_GUARD(iotca_der_expect(&a, IOTCA_DER_OID, &curve));
        if (IOTCA_OID_IS(curve.val, IOTCA_OID_P256)) t = IOTCA_KEY_ECDSA_P256;
        else if (IOTCA_OID_IS(curve.val, IOTCA_OID_P384)) t = IOTCA_KEY_ECDSA_P384;
        else IOTCA_BAIL(IOTCA_E_POLICY, "unsupported elliptic curve (iotca uses P-256 and P-384)");
        IOTCA_GUARD(key_new(t, &k));
        /* the SEC1 key may omit its curve; give wolfSSL the whole PKCS#8 */
        r = wc_EccPrivateKeyDecode(der.p, &idx, &k->u.ecc, (word32)der.len);
        IOTCA_CHECK(r == 0, IOTCA_E_PARSE, "malformed EC private key: %s", wc_GetErrorString(r));
        IOTCA_CHECK(wc_ecc_get_curve_id(k->u.ecc.idx) == (t == IOTCA_KEY_ECDSA_P256 ? ECC_SECP256R1 : ECC_SECP384R1),
                    IOTCA_E_PARSE, "EC private key curve does not match its algorithm");
        if (k->u.ecc.type == ECC_PRIVATEKEY_ONLY) {
            r = wc_ecc_make_pub(&k->u.ecc, NULL);
            IOTCA_CHECK(r == 0, IOTCA_E_CRYPTO, "cannot derive EC public key: %s", wc_GetErrorString(r));
            k->u.ecc.type = ECC_PRIVATEKEY;
        }
    } else if (IOTCA_OID_IS(oid.val, IOTCA_OID_RSA)) {
        IOTCA_GUARD(key_new(IOTCA_KEY_RSA_3072, &k));
        r = wc_RsaPrivateKeyDecode(priv.val.p, &idx, &k->u.rsa, (word32)priv.val.len);
        IOTCA_CHECK(r == 0, IOTCA_E_PARSE, "malformed RSA private key: %s", wc_GetErrorString(r));
        int bits = wc_RsaEncryptSize(&k->u.rsa) * 8;
        IOTCA_CHECK(bits == 3072 || bits == 4096, IOTCA_E_POLICY, "RSA-%d is not supported (use 3072 or 4096 bits)",
                    bits);
        k->type = bits == 3072 ? IOTCA_KEY_RSA_3072 : IOTCA_KEY_RSA_4096;
    } else if (IOTCA_OID_IS(oid.val, IOTCA_OID_ED25519)) {
        IOTCA_GUARD(key_new(IOTCA_KEY_ED25519, &k));
        r = wc_Ed25519PrivateKeyDecode(der.p, &idx, &k->u.ed, (word32)der.len);
        IOTCA_CHECK(r == 0, IOTCA_E_PARSE, "malformed Ed25519 private key: %s", wc_GetErrorString(r));
        if (!k->u.ed.pubKeySet) {
            uint8_t pub[ED25519_PUB_KEY_SIZE];
            r = wc_ed25519_make_public(&k->u.ed, pub, sizeof pub);
            IOTCA_CHECK(r == 0, IOTCA_E_CRYPTO, "cannot derive Ed25519 public key");
            r = wc_ed25519_import_private_key(k->u.ed.k, ED25519_KEY_SIZE, pub, sizeof pub, &k->u.ed);
            IOTCA_CHECK(r == 0, IOTCA_E_CRYPTO, "cannot load Ed25519 key");
        }
    } else {
        IOTCA_BAIL(IOTCA_E_POLICY, "unsupported private key algorithm");
    }
    *out = k;
    return IOTCA_OK;
out:
    iotca_key_free(k);
    return rc;
}

iotca_rc iotca_key_spki(const iotca_key *k, iotca_buf *out) {
    uint8_t tmp[EXPORT_MAX];
    iotca_key *m = (iotca_key *)k;
    int n = is_ec(k->type)    ? wc_EccPublicKeyToDer(&m->u.ecc, tmp, sizeof tmp, 1)
            : is_rsa(k->type) ? wc_RsaKeyToPublicDer(&m->u.rsa, tmp, sizeof tmp)
                              : wc_Ed25519PublicKeyToDer(&m->u.ed, tmp, sizeof tmp, 1);
    IOTCA_ENSURE(n > 0, IOTCA_E_CRYPTO, "public key export failed: %s", wc_GetErrorString(n));
    return iotca_buf_append(out, tmp, (size_t)n);
}

bool iotca_key_matches_spki(const iotca_key *k, iotca_slice spki) {
    iotca_buf mine = {0};
    bool eq = iotca_key_spki(k, &mine) == IOTCA_OK && iotca_slice_eq(iotca_buf_slice(&mine), spki);
    iotca_buf_free(&mine);
    return eq;
}

static void algid(iotca_der *w, const uint8_t *oid, size_t n, bool null_params) {
    iotca_der_begin(w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(w, oid, n);
    if (null_params) iotca_der_null(w); /* RFC 4055 §5: NULL for RSA; absent for ECDSA (RFC 5758 §3.2) */
    iotca_der_end(w);
}

iotca_rc iotca_key_sigalg(const iotca_key *k, iotca_buf *out) {
    iotca_der w;
    iotca_der_init(&w, out);
    switch (k->type) {
    case IOTCA_KEY_ECDSA_P256: algid(&w, IOTCA_OID_ECDSA_SHA256, sizeof IOTCA_OID_ECDSA_SHA256, false); break;
    case IOTCA_KEY_ECDSA_P384: algid(&w, IOTCA_OID_ECDSA_SHA384, sizeof IOTCA_OID_ECDSA_SHA384, false); break;
    case IOTCA_KEY_ED25519: algid(&w, IOTCA_OID_ED25519, sizeof IOTCA_OID_ED25519, false); break;
    default: algid(&w, IOTCA_OID_RSA_SHA256, sizeof IOTCA_OID_RSA_SHA256, true); break;
    }
    return iotca_der_finish(&w);
}

size_t iotca_key_digest_len(const iotca_key *k) {
    if (k->type == IOTCA_KEY_ECDSA_P384) return WC_SHA384_DIGEST_SIZE;
    return is_ec(k->type) || is_rsa(k->type) ? WC_SHA256_DIGEST_SIZE : 0;
}

iotca_rc iotca_key_sign_digest(const iotca_key *k, const uint8_t *digest, size_t n, iotca_buf *sig) {
    size_t want = iotca_key_digest_len(k);
    IOTCA_ENSURE(want != 0, IOTCA_E_USAGE, "%s keys sign whole messages, not digests", iotca_key_type_name(k->type));
    IOTCA_ENSURE(n == want, IOTCA_E_USAGE, "a %s signature needs a %zu-byte digest, not %zu bytes",
                 iotca_key_type_name(k->type), want, n);
    WC_RNG *rng = iotca_wolf_rng();
    IOTCA_ENSURE(rng != NULL, IOTCA_E_CRYPTO, "random number generator unavailable");
    iotca_key *m = (iotca_key *)k;
    uint8_t out[1024];
    word32 outlen = sizeof out;
    int r;
    if (is_ec(k->type)) {
        r = wc_ecc_sign_hash(digest, (word32)n, out, &outlen, rng, &m->u.ecc);
    } else {
        uint8_t digestinfo[64]; /* PKCS#1 v1.5 DigestInfo (RFC 8017 §9.2) */
        word32 dl = wc_EncodeSignature(digestinfo, digest, (word32)n, SHA256h);
        r = wc_RsaSSL_Sign(digestinfo, dl, out, outlen, &m->u.rsa, rng);
        if (r > 0) {
            outlen = (word32)r;
            r = 0;
        }
    }
    /* a token that fails (removed, logged out, refusing) is a service outage, not a bad request: 503 */
    IOTCA_ENSURE(r == 0 || !k->on_token, IOTCA_E_UNAVAILABLE, "the PKCS#11 token did not sign: %s",
                 wc_GetErrorString(r));
    IOTCA_ENSURE(r == 0, IOTCA_E_CRYPTO, "signing failed: %s", wc_GetErrorString(r));
    return iotca_buf_append(sig, out, outlen);
}

bool iotca_key_on_token(const iotca_key *k) { return k != NULL && k->on_token; }

iotca_rc iotca_key_sign(const iotca_key *k, iotca_slice msg, iotca_buf *sig) {
    size_t hl = iotca_key_digest_len(k);
    if (hl != 0) {
        uint8_t hash[WC_SHA384_DIGEST_SIZE];
        enum wc_HashType h = hl == WC_SHA384_DIGEST_SIZE ? WC_HASH_TYPE_SHA384 : WC_HASH_TYPE_SHA256;
        IOTCA_ENSURE(wc_Hash(h, msg.p, (word32)msg.len, hash, (word32)hl) == 0, IOTCA_E_CRYPTO, "hashing failed");
        return iotca_key_sign_digest(k, hash, hl, sig);
    }
    uint8_t out[ED25519_SIG_SIZE];
    word32 outlen = sizeof out;
    int r = wc_ed25519_sign_msg(msg.p, (word32)msg.len, out, &outlen, &((iotca_key *)k)->u.ed);
    IOTCA_ENSURE(r == 0, IOTCA_E_CRYPTO, "signing failed: %s", wc_GetErrorString(r));
    return iotca_buf_append(sig, out, outlen);
}

/* Splits a SubjectPublicKeyInfo into algorithm OID, curve OID (EC only) and key bits. */
static iotca_rc spki_split(iotca_slice spki, iotca_slice *alg, iotca_slice *curve, iotca_slice *bits) {
    iotca_tlv seq, a, o, p, k;
    bool has_params;
    IOTCA_GUARD(iotca_der_single(spki, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_SEQUENCE, &a));
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_BIT_STRING, &k));
    IOTCA_ENSURE(in.len == 0, IOTCA_E_PARSE, "trailing data in SubjectPublicKeyInfo");
    iotca_slice ai = a.val;
    IOTCA_GUARD(iotca_der_expect(&ai, IOTCA_DER_OID, &o));
    IOTCA_GUARD(iotca_der_optional(&ai, IOTCA_DER_OID, &p, &has_params));
    IOTCA_ENSURE(k.val.len >= 2 && k.val.p[0] == 0, IOTCA_E_PARSE, "malformed public key bits");
    *alg = o.val;
    *curve = has_params ? p.val : iotca_slice_of(NULL, 0);
    *bits = iotca_slice_of(k.val.p + 1, k.val.len - 1);
    return IOTCA_OK;
}

iotca_rc iotca_spki_key_type(iotca_slice spki, iotca_key_type *out) {
    iotca_slice alg = {0}, curve = {0}, bits = {0};
    IOTCA_GUARD(spki_split(spki, &alg, &curve, &bits));
    if (IOTCA_OID_IS(alg, IOTCA_OID_EC_PUBLIC_KEY)) {
        if (IOTCA_OID_IS(curve, IOTCA_OID_P256)) *out = IOTCA_KEY_ECDSA_P256;
        else if (IOTCA_OID_IS(curve, IOTCA_OID_P384)) *out = IOTCA_KEY_ECDSA_P384;
        else IOTCA_BAIL(IOTCA_E_POLICY, "unsupported elliptic curve (iotca accepts P-256 and P-384)");
        return IOTCA_OK;
    }
    if (IOTCA_OID_IS(alg, IOTCA_OID_ED25519)) {
        IOTCA_ENSURE(bits.len == 32, IOTCA_E_PARSE, "Ed25519 public key must be 32 bytes");
        *out = IOTCA_KEY_ED25519;
        return IOTCA_OK;
    }
    IOTCA_ENSURE(IOTCA_OID_IS(alg, IOTCA_OID_RSA), IOTCA_E_POLICY, "unsupported public key algorithm");
    RsaKey rsa;
    word32 idx = 0;
    IOTCA_ENSURE(wc_InitRsaKey(&rsa, NULL) == 0, IOTCA_E_CRYPTO, "RSA init failed");
    int r = wc_RsaPublicKeyDecode(spki.p, &idx, &rsa, (word32)spki.len);
    int nbits = r == 0 ? wc_RsaEncryptSize(&rsa) * 8 : 0;
    wc_FreeRsaKey(&rsa);
    IOTCA_ENSURE(r == 0, IOTCA_E_PARSE, "malformed RSA public key");
    IOTCA_ENSURE(nbits == 3072 || nbits == 4096, IOTCA_E_POLICY, "RSA-%d keys are not accepted (use 3072 or 4096)",
                 nbits);
    *out = nbits == 3072 ? IOTCA_KEY_RSA_3072 : IOTCA_KEY_RSA_4096;
    return IOTCA_OK;
}

static iotca_rc verify_ec(iotca_slice spki, enum wc_HashType h, iotca_slice msg, iotca_slice sig) {
    ecc_key key;
    uint8_t hash[WC_MAX_DIGEST_SIZE];
    word32 idx = 0, hl = (word32)wc_HashGetDigestSize(h);
    int res = 0;
    IOTCA_ENSURE(wc_ecc_init(&key) == 0, IOTCA_E_CRYPTO, "EC init failed");
    int r = wc_EccPublicKeyDecode(spki.p, &idx, &key, (word32)spki.len);
    if (r != 0) {
        wc_ecc_free(&key);
        IOTCA_BAIL(IOTCA_E_PARSE, "malformed EC public key: %s", wc_GetErrorString(r));
    }
    r = wc_Hash(h, msg.p, (word32)msg.len, hash, hl);
    if (r == 0) r = wc_ecc_verify_hash(sig.p, (word32)sig.len, hash, hl, &res, &key);
    wc_ecc_free(&key);
    IOTCA_ENSURE(r == 0 && res == 1, IOTCA_E_CRYPTO, "signature does not verify");
    return IOTCA_OK;
}

static iotca_rc verify_rsa(iotca_slice spki, enum wc_HashType h, iotca_slice msg, iotca_slice sig) {
    RsaKey key;
    uint8_t hash[WC_MAX_DIGEST_SIZE], expect[128], sigcopy[1024], *dec = NULL;
    word32 idx = 0, hl = (word32)wc_HashGetDigestSize(h);
    IOTCA_ENSURE(sig.len <= sizeof sigcopy, IOTCA_E_PARSE, "RSA signature too long");
    IOTCA_ENSURE(wc_InitRsaKey(&key, NULL) == 0, IOTCA_E_CRYPTO, "RSA init failed");
    int r = wc_RsaPublicKeyDecode(spki.p, &idx, &key, (word32)spki.len);
    if (r != 0) {
        wc_FreeRsaKey(&key);
        IOTCA_BAIL(IOTCA_E_PARSE, "malformed RSA public key: %s", wc_GetErrorString(r));
    }
    memcpy(sigcopy, sig.p, sig.len);
    int n = wc_RsaSSL_VerifyInline(sigcopy, (word32)sig.len, &dec, &key);
    wc_FreeRsaKey(&key);
    IOTCA_ENSURE(n > 0, IOTCA_E_CRYPTO, "signature does not verify");
    r = wc_Hash(h, msg.p, (word32)msg.len, hash, hl);
    word32 el = wc_EncodeSignature(expect, hash, hl, wc_GetCTC_HashOID(h));
    IOTCA_ENSURE(r == 0 && (word32)n == el && iotca_ct_equal(dec, expect, el), IOTCA_E_CRYPTO,
                 "signature does not verify");
    return IOTCA_OK;
}

static iotca_rc verify_ed25519(iotca_slice bits, iotca_slice msg, iotca_slice sig) {
    ed25519_key key;
    int res = 0;
    IOTCA_ENSURE(bits.len == ED25519_PUB_KEY_SIZE, IOTCA_E_PARSE, "Ed25519 public key must be 32 bytes");
    IOTCA_ENSURE(wc_ed25519_init(&key) == 0, IOTCA_E_CRYPTO, "Ed25519 init failed");
    int r = wc_ed25519_import_public(bits.p, (word32)bits.len, &key);
    if (r == 0) r = wc_ed25519_verify_msg(sig.p, (word32)sig.len, msg.p, (word32)msg.len, &res, &key);
    wc_ed25519_free(&key);
    IOTCA_ENSURE(r == 0 && res == 1, IOTCA_E_CRYPTO, "signature does not verify");
    return IOTCA_OK;
}

iotca_rc iotca_verify(iotca_slice spki, iotca_slice algid_der, iotca_slice msg, iotca_slice sig) {
    iotca_crypto_thread_track(); /* verification fills the thread's FP_ECC cache */
    iotca_slice kalg = {0}, curve = {0}, bits = {0};
    iotca_tlv seq, oid;
    IOTCA_GUARD(spki_split(spki, &kalg, &curve, &bits));
    IOTCA_GUARD(iotca_der_single(algid_der, IOTCA_DER_SEQUENCE, &seq));
    iotca_slice in = seq.val;
    IOTCA_GUARD(iotca_der_expect(&in, IOTCA_DER_OID, &oid));
    bool ec = IOTCA_OID_IS(kalg, IOTCA_OID_EC_PUBLIC_KEY), rsa = IOTCA_OID_IS(kalg, IOTCA_OID_RSA),
         ed = IOTCA_OID_IS(kalg, IOTCA_OID_ED25519);
    if (IOTCA_OID_IS(oid.val, IOTCA_OID_ECDSA_SHA256) && ec) return verify_ec(spki, WC_HASH_TYPE_SHA256, msg, sig);
    if (IOTCA_OID_IS(oid.val, IOTCA_OID_ECDSA_SHA384) && ec) return verify_ec(spki, WC_HASH_TYPE_SHA384, msg, sig);
    if (IOTCA_OID_IS(oid.val, IOTCA_OID_RSA_SHA256) && rsa) return verify_rsa(spki, WC_HASH_TYPE_SHA256, msg, sig);
    if (IOTCA_OID_IS(oid.val, IOTCA_OID_RSA_SHA384) && rsa) return verify_rsa(spki, WC_HASH_TYPE_SHA384, msg, sig);
    if (IOTCA_OID_IS(oid.val, IOTCA_OID_ED25519) && ed) return verify_ed25519(bits, msg, sig);
    IOTCA_BAIL(IOTCA_E_POLICY, "unsupported signature algorithm or one that does not match the key");
}
