/* HMAC (RFC 2104) with SHA-256, -384 and -512 through wolfCrypt, for ACME External Account Binding (RFC 8555 §7.3.4). */
#include "iotca/key.h"
#include "wolf.h"
#include <wolfssl/wolfcrypt/hmac.h>

static iotca_rc hmac(int type, iotca_slice key, iotca_slice msg, uint8_t *out) {
    static const uint8_t empty[1];
    Hmac h;
    IOTCA_ENSURE(key.len <= 0xffffffffu && msg.len <= 0xffffffffu, IOTCA_E_USAGE, "HMAC input too long");
    IOTCA_ENSURE(wc_HmacInit(&h, NULL, INVALID_DEVID) == 0, IOTCA_E_CRYPTO, "HMAC init failed");
    /* RFC 2104 §2 allows any key length, the empty one included */
    int r = wc_HmacSetKey(&h, type, key.len ? key.p : empty, (word32)key.len);
    if (r == 0 && msg.len > 0) r = wc_HmacUpdate(&h, msg.p, (word32)msg.len);
    if (r == 0) r = wc_HmacFinal(&h, out);
    wc_HmacFree(&h);
    iotca_wipe(&h, sizeof h); /* the padded key stays in the context */
    IOTCA_ENSURE(r == 0, IOTCA_E_CRYPTO, "HMAC failed: %s", wc_GetErrorString(r));
    return IOTCA_OK;
}

iotca_rc iotca_hmac_sha256(iotca_slice key, iotca_slice msg, uint8_t out[32]) { return hmac(WC_SHA256, key, msg, out); }
iotca_rc iotca_hmac_sha384(iotca_slice key, iotca_slice msg, uint8_t out[48]) { return hmac(WC_SHA384, key, msg, out); }
iotca_rc iotca_hmac_sha512(iotca_slice key, iotca_slice msg, uint8_t out[64]) { return hmac(WC_SHA512, key, msg, out); }
