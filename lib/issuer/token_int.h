/* Private to lib/issuer's PKCS#11 token files (token.c: the module, sessions and recovery; token_keys.c: key
 * pairs on the token). */
#ifndef IOTCA_ISSUER_TOKEN_INT_H
#define IOTCA_ISSUER_TOKEN_INT_H

#include <pthread.h>

#include "iotca/token.h"
#include "key_int.h"
#include "wolf.h"

#include <wolfssl/wolfcrypt/cryptocb.h>
#include <wolfssl/wolfcrypt/wc_pkcs11.h>

#define TOKEN_LANES 4     /* sessions signing in parallel: as many as the CA's copies of each issuer key */
#define P11_LABEL_LEN 32  /* CK_TOKEN_INFO.label: blank-padded, not NUL-terminated */
#define P11_SERIAL_LEN 16 /* CK_TOKEN_INFO.serialNumber, likewise */

/* One session and the wolfSSL crypto device that uses it: a key made for a lane signs on its session, one call
 * at a time (wolfSSL 5.5.4's PKCS#11 layer takes no lock). */
typedef struct token_lane {
    iotca_token *t;
    Pkcs11Token tok; /* wolfSSL's view: our slot and this session (tok.handle), no PIN of its own */
    CK_SESSION_HANDLE session;
    int dev_id;
    bool tok_ready, registered;
    pthread_mutex_t mu;
} token_lane;

struct iotca_token {
    Pkcs11Dev dev;
    bool dev_ready, logged_in;
    token_lane lanes[TOKEN_LANES];
    unsigned next_lane; /* round robin of the keys made (atomic) */
    /* readers: every operation on a lane; the writer: reopening the module after a failure */
    pthread_rwlock_t rw;
    char label[P11_LABEL_LEN + 1];
    /* to find and log in to the token again: how it was named, and the PIN (wiped at close) */
    char select[P11_LABEL_LEN + 1];
    bool by_serial;
    uint8_t pin[256];
    size_t pin_len;
    /* under state: an operation failed since the last reopening, when the next reopening may be tried
     * (CLOCK_MONOTONIC ms), how many succeeded */
    pthread_mutex_t state;
    bool broken;
    int64_t retry_ms;
    unsigned long reopened, gen;
};

/* An operation on lane 0 (key generation, lookups): IOTCA_OK with t->rw read-held and the lane locked, or
 * IOTCA_E_UNAVAILABLE while the token is away (tried again once a second). */
iotca_rc token_begin(iotca_token *t, token_lane **lane);
/* Ends it; failed: the token is marked broken (opened again at the next use). */
void token_end(iotca_token *t, token_lane *lane, bool failed);
/* The wolfSSL device id for the next key made (the lanes in turn). */
int token_next_dev(iotca_token *t);

#endif
