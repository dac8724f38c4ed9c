/* Private to lib/issuer: the wolfSSL headers in the order they must come, and the per-thread RNG. */
#ifndef IOTCA_ISSUER_WOLF_H
#define IOTCA_ISSUER_WOLF_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

/* The calling thread's DRBG, seeded on first use; NULL if seeding failed. */
WC_RNG *iotca_wolf_rng(void);
/* Makes this thread release its wolfSSL caches (RNG, FP_ECC points) when it exits, whoever created it: a
 * thread that only verified (lint, fleet check) used to leave its FP_ECC cache behind. Idempotent. */
void iotca_crypto_thread_track(void);

#endif
