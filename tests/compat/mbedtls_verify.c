/* mbedtls-verify: verifies a PEM chain against a CA file the way mbedTLS 2.28 (an embedded TLS stack) does, for SPEC §3 compatibility tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/x509_crt.h>

/* Exit codes: 0 the chain verifies, 1 it parses but does not verify,
 * 2 usage or I/O error, 3 mbedTLS cannot parse a certificate. */
enum { EXIT_ACCEPTED = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2, EXIT_PARSE = 3 };

#define FILE_MAX (1024 * 1024)
#define PEM_END "-----END CERTIFICATE-----"

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
    int bad = ferror(f) || n > FILE_MAX;
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* mbedtls_x509_crt_parse_file only says how many certificates of a PEM file
 * failed (a positive count). To name the reason, parse the file's blocks one
 * at a time and report the first failure with its index. */
static void explain_partial_failure(const char *path) {
    size_t len = 0;
    char *text = read_text(path, &len);
    if (!text) {
        printf("parse error: some certificates could not be parsed (%s)\n", path);
        return;
    }
    int index = 0;
    char *p = text;
    for (;;) {
        char *begin = strstr(p, "-----BEGIN CERTIFICATE-----");
        if (!begin) break;
        char *end = strstr(begin, PEM_END);
        if (!end) break;
        end += strlen(PEM_END);
        char saved = *end;
        *end = '\0'; /* mbedTLS wants PEM NUL-terminated, with the NUL counted */
        mbedtls_x509_crt one;
        mbedtls_x509_crt_init(&one);
        int ret = mbedtls_x509_crt_parse(&one, (const unsigned char *)begin, (size_t)(end - begin) + 1);
        mbedtls_x509_crt_free(&one);
        *end = saved;
        if (ret != 0) {
            char err[256];
            mbedtls_strerror(ret, err, sizeof err);
            printf("parse error: %s (%s, certificate #%d)\n", err, path, index + 1);
            free(text);
            return;
        }
        index++;
        p = end;
    }
    printf("parse error: some certificates could not be parsed (%s)\n", path);
    free(text);
}

/* Parses every certificate of path into crt; prints and returns non-zero on any failure. */
static int load(mbedtls_x509_crt *crt, const char *path) {
    int ret = mbedtls_x509_crt_parse_file(crt, path);
    if (ret == 0) return 0;
    if (ret > 0) {
        explain_partial_failure(path);
        return ret;
    }
    char err[256];
    mbedtls_strerror(ret, err, sizeof err);
    printf("parse error: %s (%s)\n", err, path);
    return ret;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: mbedtls-verify CA_FILE CHAIN_FILE\n"
                        "  CHAIN_FILE is PEM: the leaf first, then its intermediates.\n"
                        "  exit 0 accepted, 1 rejected, 2 usage, 3 mbedTLS cannot parse a certificate\n");
        return EXIT_USAGE;
    }
    for (int i = 1; i <= 2; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return EXIT_USAGE;
        }
        fclose(f);
    }
    mbedtls_x509_crt ca, chain;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&chain);
    int code = EXIT_PARSE;
    /* The trust store as firmware loads it: mbedTLS's own sample clients (programs/ssl/ssl_client2.c) fail only on
     * a negative return and go on with the certificates that parsed, printing "ok (%d skipped)"; a certificate of
     * the store mbedTLS cannot parse is left out, not fatal. The chain is strict: the TLS client parses the whole
     * Certificate message and fails the handshake on any certificate it cannot parse. */
    int skipped = mbedtls_x509_crt_parse_file(&ca, argv[1]);
    if (skipped < 0 || ca.raw.len == 0) {
        load(&ca, argv[1]); /* says why */
        goto out;
    }
    if (load(&chain, argv[2]) != 0) goto out;

    uint32_t flags = 0;
    int ret = mbedtls_x509_crt_verify(&chain, &ca, NULL, NULL, &flags, NULL, NULL);
    char note[96] = "";
    if (skipped > 0) snprintf(note, sizeof note, " (%d trust store certificate(s) mbedTLS cannot parse skipped)", skipped);
    if (ret == 0) {
        printf("accepted%s\n", note);
        code = EXIT_ACCEPTED;
    } else {
        char info[1024] = "";
        if (flags) mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        else mbedtls_strerror(ret, info, sizeof info);
        /* verify_info ends every reason with a newline; keep one line */
        for (char *c = info; *c; c++)
            if (*c == '\n') *c = (c[1] ? ';' : '\0');
        printf("rejected: %s%s\n", info, note);
        code = EXIT_REJECTED;
    }
out:
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&chain);
    return code;
}
