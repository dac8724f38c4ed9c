/* Key pairs on a PKCS#11 token (issue 26): generated there (sensitive, not extractable), found by CKA_ID and
 * checked against a certificate's key, destroyed; each an iotca_key that signs on the token. */
#include <stdlib.h>
#include <string.h>

#include "token_int.h"

static const uint8_t P256_PARAMS[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t P384_PARAMS[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

/* The public point of the object h (CKA_EC_POINT: a DER OCTET STRING around the X9.63 point), into pt. */
static iotca_rc ec_point(iotca_token *t, token_lane *l, CK_OBJECT_HANDLE h, uint8_t *pt, size_t cap, size_t *n) {
    uint8_t der[160];
    CK_ATTRIBUTE a = {CKA_EC_POINT, der, sizeof der};
    CK_RV rv = t->dev.func->C_GetAttributeValue(l->session, h, &a, 1);
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_UNAVAILABLE, "PKCS#11: cannot read the public key (CK_RV 0x%lx)",
                 (unsigned long)rv);
    /* short-form length: a P-384 point is 97 bytes */
    IOTCA_ENSURE(a.ulValueLen >= 3 && der[0] == 0x04 && der[1] == a.ulValueLen - 2 && der[1] <= cap, IOTCA_E_PARSE,
                 "PKCS#11: the token's EC point is not an OCTET STRING iotca reads");
    memcpy(pt, der + 2, der[1]);
    *n = der[1];
    return IOTCA_OK;
}

/* A key of type whose private half is on t with id, its public point pt: signs through the token's device. */
static iotca_rc token_key_new(iotca_token *t, iotca_key_type type, iotca_slice id, const uint8_t *pt, size_t n,
                              iotca_key **out) {
    iotca_key *k = calloc(1, sizeof *k);
    IOTCA_ENSURE(k != NULL, IOTCA_E_INTERNAL, "out of memory");
    k->type = type;
    k->on_token = true;
    /* the lanes in turn: the CA's copies of one key sign on different sessions */
    int r = wc_ecc_init_id(&k->u.ecc, (unsigned char *)id.p, (int)id.len, NULL, token_next_dev(t));
    if (r == 0) {
        r = wc_ecc_import_x963_ex(pt, (word32)n, &k->u.ecc,
                                  type == IOTCA_KEY_ECDSA_P256 ? ECC_SECP256R1 : ECC_SECP384R1);
        if (r != 0) wc_ecc_free(&k->u.ecc);
    }
    if (r != 0) {
        free(k);
        IOTCA_BAIL(IOTCA_E_CRYPTO, "PKCS#11: cannot make the key: %s", wc_GetErrorString(r));
    }
    *out = k;
    return IOTCA_OK;
}

static iotca_rc check_id(iotca_slice id) {
    IOTCA_ENSURE(id.p != NULL && id.len >= 1 && id.len <= IOTCA_TOKEN_ID_MAX, IOTCA_E_USAGE,
                 "a PKCS#11 key id is 1 to %d bytes", IOTCA_TOKEN_ID_MAX);
    return IOTCA_OK;
}

iotca_rc iotca_token_generate(iotca_token *t, iotca_key_type type, iotca_slice id, const char *label, iotca_key **out) {
    IOTCA_ENSURE(t != NULL && out != NULL, IOTCA_E_USAGE, "iotca_token_generate: NULL argument");
    IOTCA_ENSURE(type == IOTCA_KEY_ECDSA_P256 || type == IOTCA_KEY_ECDSA_P384, IOTCA_E_USAGE,
                 "keys on a PKCS#11 token are ecdsa-p256 or ecdsa-p384, not %s", iotca_key_type_name(type));
    IOTCA_GUARD(check_id(id));
    const char *lab = label ? label : "iotca";
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    const uint8_t *params = type == IOTCA_KEY_ECDSA_P256 ? P256_PARAMS : P384_PARAMS;
    CK_ULONG plen = type == IOTCA_KEY_ECDSA_P256 ? sizeof P256_PARAMS : sizeof P384_PARAMS;
    /* token objects; the private half sensitive, never extractable, for signing alone (PKCS#11 v2.40 §4.9) */
    CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &yes, 1},
                          {CKA_PRIVATE, &no, 1},
                          {CKA_VERIFY, &yes, 1},
                          {CKA_ENCRYPT, &no, 1},
                          {CKA_WRAP, &no, 1},
                          {CKA_EC_PARAMS, (void *)params, plen},
                          {CKA_ID, (void *)id.p, id.len},
                          {CKA_LABEL, (void *)lab, strlen(lab)}};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, 1},
                           {CKA_PRIVATE, &yes, 1},
                           {CKA_SENSITIVE, &yes, 1},
                           {CKA_EXTRACTABLE, &no, 1},
                           {CKA_SIGN, &yes, 1},
                           {CKA_DERIVE, &no, 1},
                           {CKA_DECRYPT, &no, 1},
                           {CKA_UNWRAP, &no, 1},
                           {CKA_ID, (void *)id.p, id.len},
                           {CKA_LABEL, (void *)lab, strlen(lab)}};
    CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
    uint8_t pt[133];
    size_t n = 0;
    token_lane *l = NULL;
    IOTCA_GUARD(token_begin(t, &l));
    CK_RV rv = t->dev.func->C_GenerateKeyPair(l->session, &mech, pub, sizeof pub / sizeof pub[0], priv,
                                              sizeof priv / sizeof priv[0], &hpub, &hpriv);
    iotca_rc rc =
        rv == CKR_OK ? ec_point(t, l, hpub, pt, sizeof pt, &n)
                     : iotca_error_set(IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' did not generate the key (CK_RV 0x%lx)",
                                       t->label, (unsigned long)rv);
    if (rc != IOTCA_OK && rv == CKR_OK) { /* no half-made key left behind */
        (void)t->dev.func->C_DestroyObject(l->session, hpriv);
        (void)t->dev.func->C_DestroyObject(l->session, hpub);
    }
    token_end(t, l, rv != CKR_OK); /* a token that failed is opened again at the next use */
    IOTCA_GUARD(rc);
    return token_key_new(t, type, id, pt, n, out);
}

/* The one object of class cls with CKA_ID id, on lane l (token_begin): *found false when there is none; *failed
 * when the token did not answer. */
static iotca_rc find_object(iotca_token *t, token_lane *l, CK_OBJECT_CLASS cls, iotca_slice id, CK_OBJECT_HANDLE *h,
                            bool *found, bool *failed) {
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, (void *)id.p, id.len}};
    CK_FUNCTION_LIST *f = t->dev.func;
    CK_RV rv = f->C_FindObjectsInit(l->session, tmpl, 2);
    *failed = rv != CKR_OK;
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' does not answer (CK_RV 0x%lx)", t->label,
                 (unsigned long)rv);
    CK_ULONG n = 0;
    rv = f->C_FindObjects(l->session, h, 1, &n);
    (void)f->C_FindObjectsFinal(l->session);
    *failed = rv != CKR_OK;
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' does not answer (CK_RV 0x%lx)", t->label,
                 (unsigned long)rv);
    *found = n == 1;
    return IOTCA_OK;
}

static void hex(iotca_slice id, char *out, size_t cap) {
    size_t k = 0;
    for (size_t i = 0; i < id.len && k + 3 <= cap; i++, k += 2) snprintf(out + k, 3, "%02x", id.p[i]);
    out[k < cap ? k : cap - 1] = '\0';
}

iotca_rc iotca_token_key(iotca_token *t, iotca_slice id, iotca_slice spki, iotca_key **out) {
    IOTCA_ENSURE(t != NULL && out != NULL, IOTCA_E_USAGE, "iotca_token_key: NULL argument");
    IOTCA_GUARD(check_id(id));
    iotca_key_type type;
    IOTCA_GUARD(iotca_spki_key_type(spki, &type));
    IOTCA_ENSURE(type == IOTCA_KEY_ECDSA_P256 || type == IOTCA_KEY_ECDSA_P384, IOTCA_E_POLICY,
                 "keys on a PKCS#11 token are ecdsa-p256 or ecdsa-p384, not %s", iotca_key_type_name(type));
    /* the point the certificate names, from its SubjectPublicKeyInfo */
    ecc_key pubk;
    uint8_t want[133] = {0}, have[133] = {0};
    word32 wn = sizeof want, idx = 0;
    IOTCA_ENSURE(wc_ecc_init(&pubk) == 0, IOTCA_E_CRYPTO, "key init failed");
    int r = wc_EccPublicKeyDecode(spki.p, &idx, &pubk, (word32)spki.len);
    if (r == 0) r = wc_ecc_export_x963(&pubk, want, &wn);
    wc_ecc_free(&pubk);
    IOTCA_ENSURE(r == 0, IOTCA_E_PARSE, "the public key does not decode: %s", wc_GetErrorString(r));
    char idhex[2 * IOTCA_TOKEN_ID_MAX + 1];
    hex(id, idhex, sizeof idhex);
    CK_OBJECT_HANDLE hpriv = 0, hpub = 0;
    bool has_priv = false, has_pub = false;
    size_t hn = 0;
    token_lane *l = NULL;
    bool failed = false;
    IOTCA_GUARD(token_begin(t, &l));
    iotca_rc rc = find_object(t, l, CKO_PRIVATE_KEY, id, &hpriv, &has_priv, &failed);
    if (rc == IOTCA_OK && has_priv) rc = find_object(t, l, CKO_PUBLIC_KEY, id, &hpub, &has_pub, &failed);
    if (rc == IOTCA_OK && has_pub) rc = ec_point(t, l, hpub, have, sizeof have, &hn);
    token_end(t, l, failed);
    IOTCA_GUARD(rc);
    IOTCA_ENSURE(has_priv, IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' holds no private key with id %s", t->label, idhex);
    /* a token without the public object still signs; with one, it must be the certificate's key */
    IOTCA_ENSURE(!has_pub || (hn == wn && memcmp(have, want, wn) == 0), IOTCA_E_CRYPTO,
                 "the key with id %s on PKCS#11 token '%s' is not the certificate's key", idhex, t->label);
    return token_key_new(t, type, id, want, wn, out);
}

iotca_rc iotca_token_destroy(iotca_token *t, iotca_slice id) {
    IOTCA_ENSURE(t != NULL, IOTCA_E_USAGE, "iotca_token_destroy: NULL token");
    IOTCA_GUARD(check_id(id));
    token_lane *l = NULL;
    bool failed = false;
    IOTCA_GUARD(token_begin(t, &l));
    iotca_rc rc = IOTCA_OK;
    for (int i = 0; i < 2 && rc == IOTCA_OK; i++) {
        CK_OBJECT_HANDLE h = 0;
        bool found = false;
        rc = find_object(t, l, i == 0 ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY, id, &h, &found, &failed);
        if (rc == IOTCA_OK && found && t->dev.func->C_DestroyObject(l->session, h) != CKR_OK)
            rc = iotca_error_set(IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' did not destroy a key", t->label);
    }
    token_end(t, l, failed);
    return rc;
}
