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

#if defined(IOTCA_WOLFSSL_SP_BUILD) && !defined(WOLFSSL_HAVE_SP_ECC)
#error "the SP build's headers were not the ones found: wolfssl/options.h has no WOLFSSL_HAVE_SP_ECC"
#endif
#ifdef IOTCA_WOLFSSL_DEBIAN_VERSION
static const char *const built_from = IOTCA_WOLFSSL_DEBIAN_VERSION; /* deploy/wolfssl-sp.sh's Debian source */
#else
static const char *const built_from = NULL; /* Debian's own library, updated by apt */
#endif

static char version[160];
static void fill(void) {
    if (built_from)
        snprintf(version, sizeof version, "wolfSSL %s (%s, built from Debian's %s)", wolfSSL_lib_version(), sp_ecc,
                 built_from);
    else
        snprintf(version, sizeof version, "wolfSSL %s (%s, Debian's library)", wolfSSL_lib_version(), sp_ecc);
}

const char *iotca_crypto_version(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fill);
    return version;
}

void iotca_crypto_info_get(iotca_crypto_info *out) {
    out->library = "wolfSSL";
    out->version = wolfSSL_lib_version();
#ifdef WOLFSSL_HAVE_SP_ECC
    out->sp = true;
#else
    out->sp = false;
#endif
    out->built_from = built_from;
}
