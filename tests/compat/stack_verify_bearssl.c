/* stack-verify-bearssl: validates a served chain against a trust store exactly as BearSSL 0.6's X.509 engine does. */
/*
 * Usage: stack-verify-bearssl STORE.pem CHAIN.pem [UNIX_TIME]
 *   STORE.pem  the device trust store: every certificate becomes a br_x509_trust_anchor the way `brssl ta`
 *              (and iotca's bearssl bundle) makes one: its subject DN, its public key, BR_X509_TA_CA if it is a CA.
 *              An anchor carries no dates: BearSSL cannot check a trust anchor's validity.
 *   CHAIN.pem  the chain a TLS server sends, in TLS order: leaf first, then the CA certificates.
 *   UNIX_TIME  the validation time (default: the system clock); BearSSL takes it explicitly as days since
 *              0000-01-01 and seconds in the day (bearssl_x509.h, br_x509_minimal_set_time).
 * The chain is fed to br_x509_minimal (init_full: every hash, the default RSA and ECDSA verifiers) the way
 * br_ssl_client feeds the Certificate message, with no server name (the chain alone is judged).
 * Prints "ok" or "fail: NAME (CODE)" with BearSSL's end_chain code; exit 0 ok, 1 fail, 2 usage or I/O error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bearssl.h>

enum { EXIT_ACCEPTED = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2 };

#define FILE_MAX (1024 * 1024)
#define MAX_CERTS 64
#define DAYS_TO_UNIX_EPOCH 719528u /* 0000-01-01 to 1970-01-01, proleptic Gregorian */

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
} bytes;

static int bytes_add(bytes *b, const void *src, size_t len) {
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + len) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (p == NULL) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, len);
    b->len += len;
    return 0;
}

/* br_pem_decoder and br_x509_decoder deliver their output through callbacks. */
static void append_cb(void *ctx, const void *src, size_t len) {
    if (bytes_add(ctx, src, len) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(EXIT_USAGE);
    }
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    unsigned char *buf = malloc(FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
    int bad = ferror(f) || n > FILE_MAX;
    fclose(f);
    if (buf == NULL || bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* The DER of every CERTIFICATE block of a PEM file, with BearSSL's own PEM decoder. Returns the count, -1 on error. */
static int load_pem(const char *path, bytes *out, int max) {
    size_t len = 0;
    unsigned char *text = read_file(path, &len);
    if (text == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    br_pem_decoder_context pc;
    br_pem_decoder_init(&pc);
    int n = 0, in_cert = 0;
    const unsigned char *p = text;
    size_t left = len;
    int flushed = 0;
    for (;;) {
        if (left == 0) {
            if (flushed) break;
            p = (const unsigned char *)"\n"; /* ends a last line that has no newline */
            left = 1;
            flushed = 1;
        }
        size_t used = br_pem_decoder_push(&pc, p, left);
        p += used;
        left -= used;
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            in_cert = strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") == 0 && n < max;
            if (in_cert) out[n].len = 0;
            br_pem_decoder_setdest(&pc, in_cert ? append_cb : NULL, in_cert ? &out[n] : NULL);
            break;
        case BR_PEM_END_OBJ:
            if (in_cert) n++;
            in_cert = 0;
            break;
        case BR_PEM_ERROR:
            fprintf(stderr, "%s: malformed PEM\n", path);
            free(text);
            return -1;
        default: break;
        }
    }
    free(text);
    return n;
}

/* A trust anchor from a certificate, as `brssl ta` builds one. Returns 0, or the decoder's error code. */
static int make_anchor(const bytes *der, br_x509_trust_anchor *ta, bytes *dn, bytes *key) {
    br_x509_decoder_context dc;
    br_x509_decoder_init(&dc, append_cb, dn);
    br_x509_decoder_push(&dc, der->p, der->len);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    if (pk == NULL) return br_x509_decoder_last_error(&dc);
    memset(ta, 0, sizeof *ta);
    ta->dn.data = dn->p;
    ta->dn.len = dn->len;
    ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = pk->key_type;
    /* the decoder's key points into its own context: copy it */
    key->len = 0;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        if (bytes_add(key, pk->key.rsa.n, pk->key.rsa.nlen) || bytes_add(key, pk->key.rsa.e, pk->key.rsa.elen)) return -1;
        ta->pkey.key.rsa.n = key->p;
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        ta->pkey.key.rsa.e = key->p + pk->key.rsa.nlen;
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
    } else {
        if (bytes_add(key, pk->key.ec.q, pk->key.ec.qlen)) return -1;
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ta->pkey.key.ec.q = key->p;
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
    }
    return 0;
}

static const char *err_name(unsigned e) {
    static const struct {
        unsigned code;
        const char *name;
    } names[] = {
        {BR_ERR_X509_INVALID_VALUE, "BR_ERR_X509_INVALID_VALUE"},
        {BR_ERR_X509_TRUNCATED, "BR_ERR_X509_TRUNCATED"},
        {BR_ERR_X509_EMPTY_CHAIN, "BR_ERR_X509_EMPTY_CHAIN"},
        {BR_ERR_X509_UNEXPECTED, "BR_ERR_X509_UNEXPECTED"},
        {BR_ERR_X509_BAD_DN, "BR_ERR_X509_BAD_DN"},
        {BR_ERR_X509_BAD_TIME, "BR_ERR_X509_BAD_TIME"},
        {BR_ERR_X509_UNSUPPORTED, "BR_ERR_X509_UNSUPPORTED"},
        {BR_ERR_X509_LIMIT_EXCEEDED, "BR_ERR_X509_LIMIT_EXCEEDED"},
        {BR_ERR_X509_WRONG_KEY_TYPE, "BR_ERR_X509_WRONG_KEY_TYPE"},
        {BR_ERR_X509_BAD_SIGNATURE, "BR_ERR_X509_BAD_SIGNATURE"},
        {BR_ERR_X509_TIME_UNKNOWN, "BR_ERR_X509_TIME_UNKNOWN"},
        {BR_ERR_X509_EXPIRED, "BR_ERR_X509_EXPIRED"},
        {BR_ERR_X509_DN_MISMATCH, "BR_ERR_X509_DN_MISMATCH"},
        {BR_ERR_X509_BAD_SERVER_NAME, "BR_ERR_X509_BAD_SERVER_NAME"},
        {BR_ERR_X509_CRITICAL_EXTENSION, "BR_ERR_X509_CRITICAL_EXTENSION"},
        {BR_ERR_X509_NOT_CA, "BR_ERR_X509_NOT_CA"},
        {BR_ERR_X509_FORBIDDEN_KEY_USAGE, "BR_ERR_X509_FORBIDDEN_KEY_USAGE"},
        {BR_ERR_X509_WEAK_PUBLIC_KEY, "BR_ERR_X509_WEAK_PUBLIC_KEY"},
        {BR_ERR_X509_NOT_TRUSTED, "BR_ERR_X509_NOT_TRUSTED"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == e) return names[i].name;
    return "BR_ERR_other";
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: stack-verify-bearssl STORE.pem CHAIN.pem [UNIX_TIME]\n"
                        "  CHAIN.pem: leaf first, then its CA certificates. exit 0 ok, 1 fail, 2 usage\n");
        return EXIT_USAGE;
    }
    long long now = (long long)time(NULL);
    if (argc == 4) {
        char *end = NULL;
        now = strtoll(argv[3], &end, 10);
        if (end == argv[3] || *end || now < 0) {
            fprintf(stderr, "UNIX_TIME must be a non-negative number of seconds\n");
            return EXIT_USAGE;
        }
    }
    static bytes store[MAX_CERTS], chain[MAX_CERTS], dns[MAX_CERTS], keys[MAX_CERTS];
    static br_x509_trust_anchor tas[MAX_CERTS];
    int ns = load_pem(argv[1], store, MAX_CERTS), nc = load_pem(argv[2], chain, MAX_CERTS);
    if (ns < 0 || nc < 0) return EXIT_USAGE;
    if (ns == 0 || nc == 0) {
        fprintf(stderr, "no certificate in %s\n", ns == 0 ? argv[1] : argv[2]);
        return EXIT_USAGE;
    }
    for (int i = 0; i < ns; i++) {
        int e = make_anchor(&store[i], &tas[i], &dns[i], &keys[i]);
        if (e != 0) {
            /* a device could not have compiled this anchor into its firmware */
            printf("fail: trust store certificate #%d does not decode: %s (%d)\n", i + 1, err_name((unsigned)e), e);
            return EXIT_REJECTED;
        }
    }

    br_x509_minimal_context xc;
    br_x509_minimal_init_full(&xc, tas, (size_t)ns);
    br_x509_minimal_set_time(&xc, (uint32_t)(DAYS_TO_UNIX_EPOCH + now / 86400), (uint32_t)(now % 86400));
    const br_x509_class **x = &xc.vtable;
    (*x)->start_chain(x, NULL);
    for (int i = 0; i < nc; i++) {
        (*x)->start_cert(x, (uint32_t)chain[i].len);
        (*x)->append(x, chain[i].p, chain[i].len);
        (*x)->end_cert(x);
    }
    unsigned err = (*x)->end_chain(x);
    if (err == 0) printf("ok\n");
    else printf("fail: %s (%u)\n", err_name(err), err);
    for (int i = 0; i < MAX_CERTS; i++) {
        free(store[i].p);
        free(chain[i].p);
        free(dns[i].p);
        free(keys[i].p);
    }
    return err == 0 ? EXIT_ACCEPTED : EXIT_REJECTED;
}
