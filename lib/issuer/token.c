/* Keys on a PKCS#11 token (issue 26): the module, one logged-in session, key generation, and wolfSSL's crypto
 * device that signs there. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/clock.h"
#include "iotca/token.h"
#include "key_int.h"
#include "wolf.h"

#include <wolfssl/wolfcrypt/cryptocb.h>
#include <wolfssl/wolfcrypt/wc_pkcs11.h>

/* PKCS#11 v2.40 §4.1 return values wolfSSL's pkcs11.h does not name */
#define P11_PIN_INCORRECT 0xA0UL
#define P11_PIN_LEN_RANGE 0xA2UL
#define P11_USER_ALREADY_LOGGED_IN 0x100UL
#define P11_LABEL_LEN 32  /* CK_TOKEN_INFO.label: blank-padded, not NUL-terminated */
#define P11_SERIAL_LEN 16 /* CK_TOKEN_INFO.serialNumber, likewise */

struct iotca_token {
    Pkcs11Dev dev;
    Pkcs11Token tok; /* wolfSSL's view: our slot and our session (tok.handle), no PIN of its own */
    bool dev_ready, tok_ready, registered, logged_in;
    int dev_id;
    CK_SESSION_HANDLE session;
    /* wolfSSL 5.5.4's PKCS#11 layer takes no lock, and one session serves one call at a time */
    pthread_mutex_t mu;
    char label[P11_LABEL_LEN + 1];
    /* to find and log in to the token again when it failed (removed, restarted): how it was named, and the
     * PIN (wiped at close) */
    char select[P11_LABEL_LEN + 1];
    bool by_serial;
    uint8_t pin[256];
    size_t pin_len;
    /* under mu: the last operation failed, and when the next reopening may be tried (CLOCK_MONOTONIC ms) */
    bool broken, tried; /* tried: the last usable() tried to reopen it */
    int64_t retry_ms;
    unsigned long reopened; /* times the token was opened again after a failure */
};

static int next_dev_id = 0x10ca0000; /* one wolfSSL device per open token (atomic) */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = -1;

/* wolfCrypt_Init sets up the crypto device table (every entry free); nothing else in iotca needs it */
static void init_wolfcrypt(void) { init_rc = wolfCrypt_Init(); }

static iotca_rc reopen(iotca_token *t);

#define REOPEN_EVERY_MS 1000 /* while the token is away, one try a second (a request meanwhile gets 503 at once) */

/* Under mu: after a failure, the token found and logged in to again (at most one try a REOPEN_EVERY_MS). */
static bool usable(iotca_token *t) {
    t->tried = false;
    if (!t->broken) return true;
    if (iotca_mono_ms() < t->retry_ms) return false;
    t->tried = true; /* the detail says why it failed */
    t->retry_ms = iotca_mono_ms() + REOPEN_EVERY_MS;
    if (reopen(t) != IOTCA_OK) return false;
    t->broken = false;
    t->reopened++;
    return true;
}

/* Under mu: IOTCA_OK when the token can be used now (usable), else why not. */
static iotca_rc held(iotca_token *t) {
    if (usable(t)) return IOTCA_OK;
    if (t->tried)
        return iotca_error_set(IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' is not answering: %s", t->label,
                               iotca_error_detail());
    return iotca_error_set(IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' is not answering (tried again every %d ms)",
                           t->label, REOPEN_EVERY_MS);
}

/* Every wolfSSL call on the token, one at a time: the session is shared by every thread that signs. A call
 * that fails marks the token broken, and is tried once more on a token opened again (a token that was away and
 * is back: its old session died with it); while it stays away, calls fail at once. */
static int locked_cb(int dev_id, wc_CryptoInfo *info, void *ctx) {
    iotca_token *t = ctx;
    /* wolfSSL 5.5.4 offers the first registered device every one-shot hash and random block of the process
     * (wc_Sha256Hash asks wc_CryptoCb_GetDevIdAtIndex(0)): those stay in software, at once and without the
     * lock; only the public-key operations of keys made with this device's id come to the token */
    if (info->algo_type != WC_ALGO_TYPE_PK) return CRYPTOCB_UNAVAILABLE;
    pthread_mutex_lock(&t->mu);
    int r = usable(t) ? wc_Pkcs11_CryptoDevCb(dev_id, info, &t->tok) : WC_HW_E;
    if (r != 0 && r != CRYPTOCB_UNAVAILABLE && !t->broken) { /* CRYPTOCB_UNAVAILABLE: done in software */
        t->broken = true;
        t->retry_ms = 0;
        if (usable(t)) r = wc_Pkcs11_CryptoDevCb(dev_id, info, &t->tok);
        if (r != 0 && r != CRYPTOCB_UNAVAILABLE) t->broken = true;
    }
    pthread_mutex_unlock(&t->mu);
    return r;
}

/* The slot holding the token labelled label (compared blank-padded, all 32 bytes, so "a" is not "a0"), by the
 * slot IDs the module reports. wolfSSL 5.5.4's lookup by name (Pkcs11Slot_FindByTokenName) asks for slots 0..n-1,
 * which are not SoftHSM's IDs, and matches prefixes: hence this. */
static iotca_rc find_slot(iotca_token *t, const char *label, bool by_serial, CK_SLOT_ID *out) {
    CK_FUNCTION_LIST *f = t->dev.func;
    CK_ULONG n = 0;
    CK_RV rv = f->C_GetSlotList(CK_TRUE, NULL, &n);
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_USAGE, "PKCS#11: cannot list the slots (CK_RV 0x%lx)", (unsigned long)rv);
    IOTCA_ENSURE(n > 0, IOTCA_E_USAGE, "PKCS#11: the module has no token");
    CK_SLOT_ID *slots = calloc(n, sizeof *slots);
    IOTCA_ENSURE(slots != NULL, IOTCA_E_INTERNAL, "out of memory");
    rv = f->C_GetSlotList(CK_TRUE, slots, &n);
    char want[P11_LABEL_LEN]; /* the label (32 bytes) or the serial number (16), blank-padded */
    size_t wn = by_serial ? P11_SERIAL_LEN : P11_LABEL_LEN;
    memset(want, ' ', sizeof want);
    memcpy(want, label, strlen(label));
    size_t found = 0;
    for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++) {
        CK_TOKEN_INFO ti;
        if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK || memcmp(by_serial ? ti.serialNumber : ti.label, want, wn) != 0)
            continue;
        if (found++ == 0) {
            *out = slots[i];
            size_t n = P11_LABEL_LEN;
            while (n > 0 && ti.label[n - 1] == ' ') n--;
            memcpy(t->label, ti.label, n);
            t->label[n] = '\0';
        }
    }
    free(slots);
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_USAGE, "PKCS#11: cannot list the slots (CK_RV 0x%lx)", (unsigned long)rv);
    const char *what = by_serial ? "has serial number" : "is labelled";
    IOTCA_ENSURE(found > 0, IOTCA_E_USAGE, "PKCS#11: no token %s '%s'", what, label);
    IOTCA_ENSURE(found == 1, IOTCA_E_USAGE, "PKCS#11: %zu tokens %s '%s'", found, what, label);
    return IOTCA_OK;
}

/* A session on slot, logged in with the PIN. Our own session and login: wolfSSL 5.5.4 would keep a pointer to
 * the PIN and wipe it in place at wc_Pkcs11Token_Final (a literal PIN would crash it), and it hides why a login
 * failed. */
static iotca_rc start_session(iotca_token *t, CK_SLOT_ID slot) {
    CK_RV rv = t->dev.func->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &t->session);
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_CRYPTO, "PKCS#11 token '%s': cannot open a session (CK_RV 0x%lx)", t->select,
                 (unsigned long)rv);
    rv = t->dev.func->C_Login(t->session, CKU_USER, t->pin, (CK_ULONG)t->pin_len);
    if (rv != CKR_OK && rv != P11_USER_ALREADY_LOGGED_IN) {
        (void)t->dev.func->C_CloseSession(t->session);
        t->session = 0;
        IOTCA_BAIL(IOTCA_E_CRYPTO, "PKCS#11 token '%s': %s (CK_RV 0x%lx)", t->select,
                   rv == P11_PIN_INCORRECT || rv == P11_PIN_LEN_RANGE ? "the token refused the PIN" : "login failed",
                   (unsigned long)rv);
    }
    t->logged_in = rv == CKR_OK;
    return IOTCA_OK;
}

/* Under mu: the module started again (C_Finalize, C_Initialize: a token that came back may be in a new slot,
 * and its old session is gone), the token found by its label or serial, a new session logged in. */
static iotca_rc reopen(iotca_token *t) {
    CK_FUNCTION_LIST *f = t->dev.func;
    if (t->session) (void)f->C_CloseSession(t->session);
    t->session = 0;
    t->tok.handle = 0;
    (void)f->C_Finalize(NULL);
    CK_C_INITIALIZE_ARGS args;
    memset(&args, 0, sizeof args);
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = f->C_Initialize(&args);
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_UNAVAILABLE, "PKCS#11: C_Initialize failed (CK_RV 0x%lx)", (unsigned long)rv);
    CK_SLOT_ID slot = 0;
    iotca_rc rc = find_slot(t, t->select, t->by_serial, &slot);
    if (rc == IOTCA_OK) rc = start_session(t, slot);
    IOTCA_ENSURE(rc == IOTCA_OK, IOTCA_E_UNAVAILABLE, "%s", iotca_error_detail());
    t->tok.slotId = slot;
    t->tok.handle = t->session;
    return IOTCA_OK;
}

static iotca_rc open_token(const char *module_path, const char *token_label, bool by_serial, iotca_slice pin,
                           iotca_token **out) {
    IOTCA_ENSURE(module_path && *module_path && token_label && *token_label && out, IOTCA_E_USAGE,
                 "iotca_token_open: the module, the token and out are required");
    IOTCA_ENSURE(strlen(token_label) <= (by_serial ? P11_SERIAL_LEN : P11_LABEL_LEN), IOTCA_E_USAGE,
                 "a PKCS#11 token %s is at most %d bytes", by_serial ? "serial number" : "label",
                 by_serial ? P11_SERIAL_LEN : P11_LABEL_LEN);
    IOTCA_ENSURE(pin.len > 0 && pin.len <= 256, IOTCA_E_USAGE, "the token PIN must be 1 to 256 bytes");
    pthread_once(&init_once, init_wolfcrypt);
    IOTCA_ENSURE(init_rc == 0, IOTCA_E_INTERNAL, "wolfCrypt_Init failed: %s", wc_GetErrorString(init_rc));
    iotca_token *t = calloc(1, sizeof *t);
    IOTCA_ENSURE(t != NULL, IOTCA_E_INTERNAL, "out of memory");
    pthread_mutex_init(&t->mu, NULL);
    snprintf(t->label, sizeof t->label, "%s", token_label); /* by serial: replaced by the label below */
    iotca_rc rc = IOTCA_OK;
    CK_RV rv = CKR_OK;
    int r = wc_Pkcs11_Initialize_ex(&t->dev, module_path, NULL, &rv);
    IOTCA_CHECK(r == 0, IOTCA_E_USAGE, "PKCS#11 module %s: %s", module_path,
                r == BAD_PATH_ERROR ? "cannot be loaded"
                : rv != CKR_OK      ? "C_Initialize failed"
                                    : "not a PKCS#11 module");
    t->dev_ready = true;
    snprintf(t->select, sizeof t->select, "%s", token_label);
    t->by_serial = by_serial;
    memcpy(t->pin, pin.p, pin.len);
    t->pin_len = pin.len;
    CK_SLOT_ID slot = 0;
    IOTCA_TRY(find_slot(t, token_label, by_serial, &slot));
    IOTCA_TRY(start_session(t, slot));
    IOTCA_CHECK(wc_Pkcs11Token_Init_NoLogin(&t->tok, &t->dev, (int)slot, NULL) == 0, IOTCA_E_INTERNAL,
                "PKCS#11: wolfSSL refused the token");
    t->tok_ready = true;
    t->tok.handle = t->session; /* every wolfSSL operation runs on it, under mu */
    t->dev_id = __atomic_fetch_add(&next_dev_id, 1, __ATOMIC_RELAXED);
    IOTCA_CHECK(wc_CryptoCb_RegisterDevice(t->dev_id, locked_cb, t) == 0, IOTCA_E_INTERNAL,
                "PKCS#11: cannot register the token with wolfSSL");
    t->registered = true;
    *out = t;
    return IOTCA_OK;
out:
    iotca_token_close(t);
    return rc;
}

iotca_rc iotca_token_open(const char *module_path, const char *token_label, iotca_slice pin, iotca_token **out) {
    return open_token(module_path, token_label, false, pin, out);
}

iotca_rc iotca_token_open_serial(const char *module_path, const char *serial, iotca_slice pin, iotca_token **out) {
    return open_token(module_path, serial, true, pin, out);
}

void iotca_token_close(iotca_token *t) {
    if (t == NULL) return;
    if (t->registered) wc_CryptoCb_UnRegisterDevice(t->dev_id);
    if (t->logged_in) (void)t->dev.func->C_Logout(t->session);
    if (t->session) (void)t->dev.func->C_CloseSession(t->session);
    t->tok.handle = 0;
    if (t->tok_ready) wc_Pkcs11Token_Final(&t->tok); /* no PIN of its own to wipe (NoLogin) */
    if (t->dev_ready) wc_Pkcs11_Finalize(&t->dev);
    pthread_mutex_destroy(&t->mu);
    iotca_wipe(t, sizeof *t); /* the PIN's copy with it */
    free(t);
}

const char *iotca_token_label(const iotca_token *t) { return t->label; }

static const uint8_t P256_PARAMS[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t P384_PARAMS[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

/* The public point of the object h (CKA_EC_POINT: a DER OCTET STRING around the X9.63 point), into pt. */
static iotca_rc ec_point(iotca_token *t, CK_OBJECT_HANDLE h, uint8_t *pt, size_t cap, size_t *n) {
    uint8_t der[160];
    CK_ATTRIBUTE a = {CKA_EC_POINT, der, sizeof der};
    CK_RV rv = t->dev.func->C_GetAttributeValue(t->session, h, &a, 1);
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
    int r = wc_ecc_init_id(&k->u.ecc, (unsigned char *)id.p, (int)id.len, NULL, t->dev_id);
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
    pthread_mutex_lock(&t->mu);
    iotca_rc rc = held(t);
    CK_RV rv = rc == IOTCA_OK ? t->dev.func->C_GenerateKeyPair(t->session, &mech, pub, sizeof pub / sizeof pub[0],
                                                               priv, sizeof priv / sizeof priv[0], &hpub, &hpriv)
                              : CKR_OK;
    if (rc == IOTCA_OK)
        rc = rv == CKR_OK ? ec_point(t, hpub, pt, sizeof pt, &n)
                          : iotca_error_set(IOTCA_E_UNAVAILABLE,
                                            "PKCS#11 token '%s' did not generate the key (CK_RV 0x%lx)", t->label,
                                            (unsigned long)rv);
    if (rv != CKR_OK) t->broken = true; /* opened again at the next use */
    if (rc != IOTCA_OK && rv == CKR_OK && hpriv) { /* no half-made key left behind */
        (void)t->dev.func->C_DestroyObject(t->session, hpriv);
        (void)t->dev.func->C_DestroyObject(t->session, hpub);
    }
    pthread_mutex_unlock(&t->mu);
    IOTCA_GUARD(rc);
    return token_key_new(t, type, id, pt, n, out);
}

/* The one object of class cls with CKA_ID id on t (under mu): *found false when there is none. */
static iotca_rc find_object(iotca_token *t, CK_OBJECT_CLASS cls, iotca_slice id, CK_OBJECT_HANDLE *h, bool *found) {
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, (void *)id.p, id.len}};
    CK_FUNCTION_LIST *f = t->dev.func;
    IOTCA_GUARD(held(t));
    CK_RV rv = f->C_FindObjectsInit(t->session, tmpl, 2);
    t->broken = rv != CKR_OK; /* opened again at the next use */
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' does not answer (CK_RV 0x%lx)", t->label,
                 (unsigned long)rv);
    CK_ULONG n = 0;
    rv = f->C_FindObjects(t->session, h, 1, &n);
    (void)f->C_FindObjectsFinal(t->session);
    t->broken = rv != CKR_OK;
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
    pthread_mutex_lock(&t->mu);
    iotca_rc rc = find_object(t, CKO_PRIVATE_KEY, id, &hpriv, &has_priv);
    if (rc == IOTCA_OK && has_priv) rc = find_object(t, CKO_PUBLIC_KEY, id, &hpub, &has_pub);
    if (rc == IOTCA_OK && has_pub) rc = ec_point(t, hpub, have, sizeof have, &hn);
    pthread_mutex_unlock(&t->mu);
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
    iotca_rc rc = IOTCA_OK;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < 2 && rc == IOTCA_OK; i++) {
        CK_OBJECT_HANDLE h = 0;
        bool found = false;
        rc = find_object(t, i == 0 ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY, id, &h, &found);
        if (rc == IOTCA_OK && found && t->dev.func->C_DestroyObject(t->session, h) != CKR_OK)
            rc = iotca_error_set(IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' did not destroy a key", t->label);
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

bool iotca_token_ok(iotca_token *t) {
    pthread_mutex_lock(&t->mu);
    bool ok = !t->broken;
    pthread_mutex_unlock(&t->mu);
    return ok;
}

unsigned long iotca_token_reopened(iotca_token *t) {
    pthread_mutex_lock(&t->mu);
    unsigned long n = t->reopened;
    pthread_mutex_unlock(&t->mu);
    return n;
}
