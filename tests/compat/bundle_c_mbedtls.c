/* Consumer of the "c" bundle: loads every anchor of the generated header with mbedTLS and verifies a chain the daemon issued.
 *
 * Compiled by tests/integration/test_bundles.sh against the header the daemon served in that run:
 *   cc -I DIR bundle_c_mbedtls.c -lmbedx509 -lmbedcrypto   (DIR holds iotca_trust_anchors.h)
 * Usage: bundle-c-mbedtls LEAF.pem CHAIN.pem
 * Exit: 0 the chain verifies to an anchor, 1 it does not, 2 usage or I/O, 3 a certificate does not parse. */
#include <stdio.h>

#include <mbedtls/error.h>
#include <mbedtls/x509_crt.h>

#include "iotca_trust_anchors.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s LEAF.pem CHAIN.pem\n", argv[0]);
        return 2;
    }
    mbedtls_x509_crt anchors, chain;
    mbedtls_x509_crt_init(&anchors);
    mbedtls_x509_crt_init(&chain);
    char err[256];
    int rc = 3, ret;
    for (size_t i = 0; i < IOTCA_TRUST_ANCHOR_COUNT; i++) {
        ret = mbedtls_x509_crt_parse_der(&anchors, iotca_trust_anchors[i].der, iotca_trust_anchors[i].len);
        if (ret != 0) {
            mbedtls_strerror(ret, err, sizeof err);
            printf("mbedtls: anchor %zu does not parse: %s\n", i + 1, err);
            goto out;
        }
    }
    /* the leaf first, then the intermediates the server sends */
    if ((ret = mbedtls_x509_crt_parse_file(&chain, argv[1])) != 0 ||
        (ret = mbedtls_x509_crt_parse_file(&chain, argv[2])) != 0) {
        mbedtls_strerror(ret, err, sizeof err);
        printf("mbedtls: chain does not parse: %s\n", err);
        goto out;
    }
    uint32_t flags = 0;
    ret = mbedtls_x509_crt_verify(&chain, &anchors, NULL, NULL, &flags, NULL, NULL);
    if (ret == 0) {
        printf("mbedtls: loaded %d anchors with mbedtls_x509_crt_parse_der; chain verified\n", IOTCA_TRUST_ANCHOR_COUNT);
        rc = 0;
    } else {
        char info[512];
        mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        printf("mbedtls: chain rejected (flags 0x%08x): %s", (unsigned)flags, info);
        rc = 1;
    }
out:
    mbedtls_x509_crt_free(&anchors);
    mbedtls_x509_crt_free(&chain);
    return rc;
}
