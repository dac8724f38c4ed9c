/* Private to lib/issuer: what an iotca_key holds (key.c makes and uses keys; token.c makes keys that sign on a
 * PKCS#11 token). */
#ifndef IOTCA_ISSUER_KEY_INT_H
#define IOTCA_ISSUER_KEY_INT_H

#include "iotca/key.h"
#include "wolf.h"

struct iotca_key {
    iotca_key_type type;
    /* a key on a PKCS#11 token (token.c): u.ecc holds the public point, its CKA_ID and the token's wolfSSL
     * device id, so wolfSSL hands every signature to the token; no private bytes are in memory */
    bool on_token;
    union {
        ecc_key ecc;
        RsaKey rsa;
        ed25519_key ed;
    } u;
};

#endif
