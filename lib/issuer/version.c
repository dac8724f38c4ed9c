/* Which crypto library this build signs with, and whether its curve-specialised SP code is in (SPEC §14):
 * what `--version` prints, so an operator can tell a fast build from a generic one. */
#include <pthread.h>
#include <stdio.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "iotca/key.h"

/* SP ECC: wolfSSL's P-256/P-384 code (--enable-sp); the SP math library alone (WOLFSSL_SP_MATH_ALL, Debian's
 * default) is generic multi-precision code. */
#if defined(WOLFSSL_HAVE_SP_ECC) && defined(WOLFSSL_SP_X86_64_ASM)
static const char sp_ecc[] = "SP ECC with assembly";
#elif defined(WOLFSSL_HAVE_SP_ECC)
static const char sp_ecc[] = "SP ECC";
#else
static const char sp_ecc[] = "generic ECC, no SP";
#endif

static char version[96];
static void fill(void) { snprintf(version, sizeof version, "wolfSSL %s (%s)", wolfSSL_lib_version(), sp_ecc); }

const char *iotca_crypto_version(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fill);
    return version;
}
