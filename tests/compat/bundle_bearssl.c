/* Consumer of the "bearssl" bundle: BearSSL's br_x509_minimal engine validates a chain against the generated TAs[].
 *
 * Compiled by tests/integration/test_bundles.sh against the header the daemon served in that run:
 *   cc -I DIR bundle_bearssl.c -lbearssl   (DIR holds iotca_bearssl_tas.h)
 * Usage: bundle-bearssl UNIX_TIME LEAF.der [INTERMEDIATE.der ...]   (the chain in TLS order, leaf first)
 * The validation time is explicit, as BearSSL takes it: days since January 1st, 0 AD (proleptic Gregorian)
 * and seconds in that day (bearssl_x509.h, br_x509_minimal_set_time).
 * Prints "bearssl: end_chain = CODE (NAME)"; exit 0 when CODE is BR_ERR_OK (0), 1 otherwise, 2 usage or I/O. */
#include <stdio.h>
#include <stdlib.h>

#include <bearssl.h>

#include "iotca_bearssl_tas.h"

/* Days from 0000-01-01 to 1970-01-01 in the proleptic Gregorian calendar. */
#define DAYS_TO_UNIX_EPOCH 719528u

static const char *err_name(int e) {
    switch (e) {
    case BR_ERR_OK: return "BR_ERR_OK";
    case BR_ERR_X509_EXPIRED: return "BR_ERR_X509_EXPIRED";
    case BR_ERR_X509_NOT_TRUSTED: return "BR_ERR_X509_NOT_TRUSTED";
    case BR_ERR_X509_BAD_SIGNATURE: return "BR_ERR_X509_BAD_SIGNATURE";
    case BR_ERR_X509_DN_MISMATCH: return "BR_ERR_X509_DN_MISMATCH";
    case BR_ERR_X509_CRITICAL_EXTENSION: return "BR_ERR_X509_CRITICAL_EXTENSION";
    case BR_ERR_X509_NOT_CA: return "BR_ERR_X509_NOT_CA";
    case BR_ERR_X509_UNSUPPORTED: return "BR_ERR_X509_UNSUPPORTED";
    case BR_ERR_X509_WEAK_PUBLIC_KEY: return "BR_ERR_X509_WEAK_PUBLIC_KEY";
    default: return "other";
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s UNIX_TIME LEAF.der [INTERMEDIATE.der ...]\n", argv[0]);
        return 2;
    }
    unsigned long long now = strtoull(argv[1], NULL, 10);
    br_x509_minimal_context xc;
    br_x509_minimal_init_full(&xc, TAs, TAs_NUM);
    br_x509_minimal_set_time(&xc, (uint32_t)(DAYS_TO_UNIX_EPOCH + now / 86400), (uint32_t)(now % 86400));
    const br_x509_class **x = &xc.vtable;
    (*x)->start_chain(x, NULL); /* no server name: the chain alone is judged */
    static unsigned char buf[1 << 16];
    for (int i = 2; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 2;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        (*x)->start_cert(x, (uint32_t)n);
        (*x)->append(x, buf, n);
        (*x)->end_cert(x);
    }
    int err = (int)(*x)->end_chain(x);
    printf("bearssl: %d trust anchors (TAs_NUM), end_chain = %d (%s)\n", (int)TAs_NUM, err, err_name(err));
    return err == BR_ERR_OK ? 0 : 1;
}
