/* Keys on a PKCS#11 token (issue 26): the module, the logged-in sessions (one a lane, so threads sign in
 * parallel), wolfSSL's crypto devices that sign on them, and finding the token again after it failed. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/clock.h"
#include "token_int.h"

/* PKCS#11 v2.40 §4.1 return values wolfSSL's pkcs11.h does not name */
#define P11_PIN_INCORRECT 0xA0UL
#define P11_PIN_LEN_RANGE 0xA2UL
#define P11_USER_ALREADY_LOGGED_IN 0x100UL
#define REOPEN_EVERY_MS 1000 /* while the token is away, one try a second (a request meanwhile gets 503 at once) */

static int next_dev_id = 0x10ca0000; /* one wolfSSL device per lane of each open token (atomic) */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = -1;

/* wolfCrypt_Init sets up the crypto device table (every entry free); nothing else in iotca needs it */
static void init_wolfcrypt(void) { init_rc = wolfCrypt_Init(); }

/* The slot holding the token labelled label (compared blank-padded, all 32 bytes, so "a" is not "a0"), or whose
 * serial number it is, by the slot IDs the module reports. wolfSSL 5.5.4's lookup by name
 * (Pkcs11Slot_FindByTokenName) asks for slots 0..n-1, which are not SoftHSM's IDs, and matches prefixes. */
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
            size_t k = P11_LABEL_LEN;
            while (k > 0 && ti.label[k - 1] == ' ') k--;
            memcpy(t->label, ti.label, k);
            t->label[k] = '\0';
        }
    }
    free(slots);
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_USAGE, "PKCS#11: cannot list the slots (CK_RV 0x%lx)", (unsigned long)rv);
    const char *what = by_serial ? "has serial number" : "is labelled";
    IOTCA_ENSURE(found > 0, IOTCA_E_USAGE, "PKCS#11: no token %s '%s'", what, label);
    IOTCA_ENSURE(found == 1, IOTCA_E_USAGE, "PKCS#11: %zu tokens %s '%s'", found, what, label);
    return IOTCA_OK;
}

/* A session for each lane on slot, logged in with the PIN once (a login holds for all of the application's
 * sessions, PKCS#11 v2.40 §5.6). Our own sessions and login: wolfSSL 5.5.4 would keep a pointer to the PIN and
 * wipe it in place at wc_Pkcs11Token_Final (a literal PIN would crash it), and it hides why a login failed. */
static iotca_rc start_sessions(iotca_token *t, CK_SLOT_ID slot) {
    CK_FUNCTION_LIST *f = t->dev.func;
    for (size_t i = 0; i < TOKEN_LANES; i++) {
        token_lane *l = &t->lanes[i];
        CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &l->session);
        IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_CRYPTO, "PKCS#11 token '%s': cannot open a session (CK_RV 0x%lx)", t->select,
                     (unsigned long)rv);
        l->tok.slotId = slot;
        l->tok.handle = l->session;
    }
    CK_RV rv = f->C_Login(t->lanes[0].session, CKU_USER, t->pin, (CK_ULONG)t->pin_len);
    IOTCA_ENSURE(rv == CKR_OK || rv == P11_USER_ALREADY_LOGGED_IN, IOTCA_E_CRYPTO,
                 "PKCS#11 token '%s': %s (CK_RV 0x%lx)", t->select,
                 rv == P11_PIN_INCORRECT || rv == P11_PIN_LEN_RANGE ? "the token refused the PIN" : "login failed",
                 (unsigned long)rv);
    t->logged_in = rv == CKR_OK;
    return IOTCA_OK;
}

static void close_sessions(iotca_token *t) {
    for (size_t i = 0; i < TOKEN_LANES; i++) {
        token_lane *l = &t->lanes[i];
        if (l->session) (void)t->dev.func->C_CloseSession(l->session); /* the last one logs out too */
        l->session = 0;
        l->tok.handle = 0;
    }
    t->logged_in = false;
}

/* With rw write-held: the module started again (C_Finalize, C_Initialize: a token that came back may be in a
 * new slot, and the old sessions are gone), the token found by its label or serial, new sessions logged in. */
static iotca_rc reopen(iotca_token *t) {
    CK_FUNCTION_LIST *f = t->dev.func;
    close_sessions(t);
    (void)f->C_Finalize(NULL);
    CK_C_INITIALIZE_ARGS args;
    memset(&args, 0, sizeof args);
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = f->C_Initialize(&args);
    IOTCA_ENSURE(rv == CKR_OK, IOTCA_E_UNAVAILABLE, "PKCS#11: C_Initialize failed (CK_RV 0x%lx)", (unsigned long)rv);
    CK_SLOT_ID slot = 0;
    iotca_rc rc = find_slot(t, t->select, t->by_serial, &slot);
    if (rc == IOTCA_OK) rc = start_sessions(t, slot);
    if (rc != IOTCA_OK) close_sessions(t);
    IOTCA_ENSURE(rc == IOTCA_OK, IOTCA_E_UNAVAILABLE, "%s", iotca_error_detail());
    return IOTCA_OK;
}

static void mark_broken(iotca_token *t) {
    pthread_mutex_lock(&t->state);
    t->broken = true;
    pthread_mutex_unlock(&t->state);
}

/* Whether the token may be used now: not broken, or reopened here (one try a REOPEN_EVERY_MS for the whole
 * process; when another thread reopened it meanwhile, that counts). false with the error detail set. */
static bool usable(iotca_token *t) {
    pthread_mutex_lock(&t->state);
    bool broken = t->broken;
    unsigned long gen = t->gen;
    pthread_mutex_unlock(&t->state);
    if (!broken) return true;
    pthread_rwlock_wrlock(&t->rw); /* every lane idle */
    pthread_mutex_lock(&t->state);
    bool ok = !t->broken || t->gen != gen, tried = false;
    if (!ok && iotca_mono_ms() >= t->retry_ms) {
        t->retry_ms = iotca_mono_ms() + REOPEN_EVERY_MS;
        tried = true;
        pthread_mutex_unlock(&t->state);
        ok = reopen(t) == IOTCA_OK;
        pthread_mutex_lock(&t->state);
        if (ok) {
            t->broken = false;
            t->gen++;
            t->reopened++;
        }
    }
    pthread_mutex_unlock(&t->state);
    pthread_rwlock_unlock(&t->rw);
    if (!ok && !tried)
        iotca_error_set(IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' is not answering (tried again every %d ms)", t->label,
                        REOPEN_EVERY_MS);
    else if (!ok) { /* reopen's detail says why: name the token around it */
        char why[400];
        snprintf(why, sizeof why, "%s", iotca_error_detail());
        iotca_error_set(IOTCA_E_UNAVAILABLE, "PKCS#11 token '%s' is not answering: %s", t->label, why);
    }
    return ok;
}

/* One operation on a lane: public-key operations of the keys made with its device id. wolfSSL 5.5.4 offers the
 * first registered device every one-shot hash and random block of the process (wc_Sha256Hash asks
 * wc_CryptoCb_GetDevIdAtIndex(0)): those stay in software, at once and without a lock. A call that fails marks
 * the token broken and is tried once more on the token opened again (a token that was away and is back: its
 * old sessions died with it); while it stays away, calls fail at once. */
static int lane_cb(int dev_id, wc_CryptoInfo *info, void *ctx) {
    if (info->algo_type != WC_ALGO_TYPE_PK) return CRYPTOCB_UNAVAILABLE;
    token_lane *l = ctx;
    iotca_token *t = l->t;
    int r = WC_HW_E;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!usable(t)) return WC_HW_E;
        pthread_rwlock_rdlock(&t->rw);
        pthread_mutex_lock(&l->mu);
        r = wc_Pkcs11_CryptoDevCb(dev_id, info, &l->tok);
        pthread_mutex_unlock(&l->mu);
        pthread_rwlock_unlock(&t->rw);
        if (r == 0 || r == CRYPTOCB_UNAVAILABLE) return r;
        mark_broken(t);
    }
    return r;
}

iotca_rc token_begin(iotca_token *t, token_lane **lane) {
    if (!usable(t)) return IOTCA_E_UNAVAILABLE; /* usable() set the detail */
    pthread_rwlock_rdlock(&t->rw);
    pthread_mutex_lock(&t->lanes[0].mu);
    *lane = &t->lanes[0];
    return IOTCA_OK;
}

void token_end(iotca_token *t, token_lane *lane, bool failed) {
    pthread_mutex_unlock(&lane->mu);
    pthread_rwlock_unlock(&t->rw);
    if (failed) mark_broken(t);
}

int token_next_dev(iotca_token *t) {
    unsigned i = __atomic_fetch_add(&t->next_lane, 1, __ATOMIC_RELAXED) % TOKEN_LANES;
    return t->lanes[i].dev_id;
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
    pthread_rwlock_init(&t->rw, NULL);
    pthread_mutex_init(&t->state, NULL);
    for (size_t i = 0; i < TOKEN_LANES; i++) {
        t->lanes[i].t = t;
        pthread_mutex_init(&t->lanes[i].mu, NULL);
    }
    snprintf(t->label, sizeof t->label, "%s", token_label); /* by serial: replaced by the label found */
    snprintf(t->select, sizeof t->select, "%s", token_label);
    t->by_serial = by_serial;
    memcpy(t->pin, pin.p, pin.len);
    t->pin_len = pin.len;
    iotca_rc rc = IOTCA_OK;
    CK_RV rv = CKR_OK;
    int r = wc_Pkcs11_Initialize_ex(&t->dev, module_path, NULL, &rv);
    IOTCA_CHECK(r == 0, IOTCA_E_USAGE, "PKCS#11 module %s: %s", module_path,
                r == BAD_PATH_ERROR ? "cannot be loaded"
                : rv != CKR_OK      ? "C_Initialize failed"
                                    : "not a PKCS#11 module");
    t->dev_ready = true;
    CK_SLOT_ID slot = 0;
    IOTCA_TRY(find_slot(t, token_label, by_serial, &slot));
    IOTCA_TRY(start_sessions(t, slot));
    for (size_t i = 0; i < TOKEN_LANES; i++) {
        token_lane *l = &t->lanes[i];
        IOTCA_CHECK(wc_Pkcs11Token_Init_NoLogin(&l->tok, &t->dev, (int)slot, NULL) == 0, IOTCA_E_INTERNAL,
                    "PKCS#11: wolfSSL refused the token");
        l->tok_ready = true;
        l->tok.handle = l->session; /* every wolfSSL operation of the lane runs on it, under its mu */
        l->dev_id = __atomic_fetch_add(&next_dev_id, 1, __ATOMIC_RELAXED);
        IOTCA_CHECK(wc_CryptoCb_RegisterDevice(l->dev_id, lane_cb, l) == 0, IOTCA_E_INTERNAL,
                    "PKCS#11: cannot register the token with wolfSSL (too many open tokens)");
        l->registered = true;
    }
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
    for (size_t i = 0; i < TOKEN_LANES; i++)
        if (t->lanes[i].registered) wc_CryptoCb_UnRegisterDevice(t->lanes[i].dev_id);
    if (t->logged_in) (void)t->dev.func->C_Logout(t->lanes[0].session);
    if (t->dev_ready) close_sessions(t);
    for (size_t i = 0; i < TOKEN_LANES; i++) {
        /* no PIN of its own to wipe (NoLogin); it closes the slot's sessions, ours are closed already */
        if (t->lanes[i].tok_ready && i == 0) wc_Pkcs11Token_Final(&t->lanes[i].tok);
        pthread_mutex_destroy(&t->lanes[i].mu);
    }
    if (t->dev_ready) wc_Pkcs11_Finalize(&t->dev);
    pthread_rwlock_destroy(&t->rw);
    pthread_mutex_destroy(&t->state);
    iotca_wipe(t, sizeof *t); /* the PIN's copy with it */
    free(t);
}

const char *iotca_token_label(const iotca_token *t) { return t->label; }

bool iotca_token_ok(iotca_token *t) {
    pthread_mutex_lock(&t->state);
    bool ok = !t->broken;
    pthread_mutex_unlock(&t->state);
    return ok;
}

unsigned long iotca_token_reopened(iotca_token *t) {
    pthread_mutex_lock(&t->state);
    unsigned long n = t->reopened;
    pthread_mutex_unlock(&t->state);
    return n;
}
