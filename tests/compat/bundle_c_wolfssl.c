/* Consumer of the "c" bundle: loads every anchor of the generated header with wolfSSL and verifies a chain the daemon issued.
 *
 * Compiled by tests/integration/test_bundles.sh against the header the daemon served in that run:
 *   cc -I DIR bundle_c_wolfssl.c $(pkg-config --cflags --libs wolfssl)
 * Usage: bundle-c-wolfssl LEAF.pem INTERMEDIATE.pem
 * The anchors go through both loading paths firmware uses: wolfSSL_CTX_load_verify_buffer (a TLS context)
 * and wolfSSL_CertManagerLoadCABuffer; the intermediate is verified against them, then loaded as a CA, and
 * the leaf checked with wolfSSL_CertManagerVerifyBuffer.
 * Exit: 0 verified, 1 rejected, 2 usage or I/O, 3 an anchor was refused. */
#include <stdio.h>
#include <stdlib.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "iotca_trust_anchors.h"

static unsigned char *slurp(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    unsigned char *buf = malloc(1 << 20);
    *n = buf ? (long)fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s LEAF.pem INTERMEDIATE.pem\n", argv[0]);
        return 2;
    }
    long leaf_n = 0, int_n = 0;
    unsigned char *leaf = slurp(argv[1], &leaf_n), *inter = slurp(argv[2], &int_n);
    if (leaf == NULL || inter == NULL) {
        fprintf(stderr, "cannot read the chain files\n");
        return 2;
    }
    wolfSSL_Init();
    int rc = 3, r;
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfTLS_client_method());
    WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
    if (ctx == NULL || cm == NULL) goto out;
    for (size_t i = 0; i < IOTCA_TRUST_ANCHOR_COUNT; i++) {
        r = wolfSSL_CTX_load_verify_buffer(ctx, iotca_trust_anchors[i].der, (long)iotca_trust_anchors[i].len,
                                           WOLFSSL_FILETYPE_ASN1);
        if (r != WOLFSSL_SUCCESS) {
            printf("wolfssl: wolfSSL_CTX_load_verify_buffer refused anchor %zu: %s\n", i + 1, wolfSSL_ERR_reason_error_string(r));
            goto out;
        }
        r = wolfSSL_CertManagerLoadCABuffer(cm, iotca_trust_anchors[i].der, (long)iotca_trust_anchors[i].len,
                                            WOLFSSL_FILETYPE_ASN1);
        if (r != WOLFSSL_SUCCESS) {
            printf("wolfssl: wolfSSL_CertManagerLoadCABuffer refused anchor %zu: %s\n", i + 1, wolfSSL_ERR_reason_error_string(r));
            goto out;
        }
    }
    rc = 1;
    /* LoadCABuffer alone would not do: wolfSSL adds a CA whose signer it cannot find (its AKID names no
     * loaded key) without checking it. So the intermediate is first verified against the anchors. */
    r = wolfSSL_CertManagerVerifyBuffer(cm, inter, int_n, WOLFSSL_FILETYPE_PEM);
    if (r != WOLFSSL_SUCCESS) {
        printf("wolfssl: intermediate rejected: %s (%d)\n", wolfSSL_ERR_reason_error_string(r), r);
        goto out;
    }
    r = wolfSSL_CertManagerLoadCABuffer(cm, inter, int_n, WOLFSSL_FILETYPE_PEM);
    if (r != WOLFSSL_SUCCESS) {
        printf("wolfssl: intermediate not loaded: %s (%d)\n", wolfSSL_ERR_reason_error_string(r), r);
        goto out;
    }
    r = wolfSSL_CertManagerVerifyBuffer(cm, leaf, leaf_n, WOLFSSL_FILETYPE_PEM);
    if (r != WOLFSSL_SUCCESS) {
        printf("wolfssl: leaf rejected: %s (%d)\n", wolfSSL_ERR_reason_error_string(r), r);
        goto out;
    }
    printf("wolfssl: loaded %d anchors (CTX_load_verify_buffer and CertManagerLoadCABuffer); chain verified\n",
           IOTCA_TRUST_ANCHOR_COUNT);
    rc = 0;
out:
    wolfSSL_CertManagerFree(cm);
    wolfSSL_CTX_free(ctx);
    wolfSSL_Cleanup();
    free(leaf);
    free(inter);
    return rc;
}
