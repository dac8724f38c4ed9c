/* Consumer of the "pem0" bundle: hands the bytes to mbedtls_x509_crt_parse exactly as firmware does (Zephyr, ESP-IDF).
 *
 * Usage: bundle-pem0-mbedtls BUNDLE.pem0 [--drop-nul] [LEAF.pem CHAIN.pem]
 * The whole file is passed with its length, the terminating NUL counted (mbedTLS treats a buffer as PEM only
 * when its last counted byte is NUL); --drop-nul passes one byte less, which mbedTLS must refuse. With
 * LEAF and CHAIN the parsed anchors then verify that chain.
 * Prints the number of certificates parsed; exit 0 parsed (and verified), 1 chain rejected, 2 usage or I/O,
 * 3 mbedtls_x509_crt_parse failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/x509_crt.h>

int main(int argc, char **argv) {
    int a = 1;
    if (argc < 2) {
        fprintf(stderr, "usage: %s BUNDLE.pem0 [--drop-nul] [LEAF.pem CHAIN.pem]\n", argv[0]);
        return 2;
    }
    const char *path = argv[a++];
    int drop = a < argc && strcmp(argv[a], "--drop-nul") == 0;
    if (drop) a++;
    if (argc - a != 0 && argc - a != 2) {
        fprintf(stderr, "usage: %s BUNDLE.pem0 [--drop-nul] [LEAF.pem CHAIN.pem]\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(path, "rb");
    unsigned char *buf = malloc(1 << 20);
    size_t n = f && buf ? fread(buf, 1, 1 << 20, f) : 0;
    if (f) fclose(f);
    if (n == 0) {
        fprintf(stderr, "cannot read %s\n", path);
        free(buf);
        return 2;
    }
    mbedtls_x509_crt anchors, chain;
    mbedtls_x509_crt_init(&anchors);
    mbedtls_x509_crt_init(&chain);
    int rc = 3;
    int ret = mbedtls_x509_crt_parse(&anchors, buf, drop ? n - 1 : n);
    if (ret != 0) {
        char err[256];
        mbedtls_strerror(ret, err, sizeof err);
        printf("mbedtls_x509_crt_parse(len %zu%s): -0x%04x %s\n", drop ? n - 1 : n, drop ? ", NUL not counted" : "",
               (unsigned)-ret, err);
        goto out;
    }
    int count = 0;
    for (const mbedtls_x509_crt *c = &anchors; c && c->raw.len; c = c->next) count++;
    printf("mbedtls_x509_crt_parse(len %zu, NUL counted): %d certificates\n", n, count);
    rc = 0;
    if (argc - a == 2) {
        uint32_t flags = 0;
        if (mbedtls_x509_crt_parse_file(&chain, argv[a]) != 0 || mbedtls_x509_crt_parse_file(&chain, argv[a + 1]) != 0) {
            printf("the chain does not parse\n");
            rc = 3;
        } else if (mbedtls_x509_crt_verify(&chain, &anchors, NULL, NULL, &flags, NULL, NULL) != 0) {
            char info[512];
            mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
            printf("chain rejected: %s", info);
            rc = 1;
        } else {
            printf("chain verified against the pem0 anchors\n");
        }
    }
out:
    mbedtls_x509_crt_free(&anchors);
    mbedtls_x509_crt_free(&chain);
    free(buf);
    return rc;
}
