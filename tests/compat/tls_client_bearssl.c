/* tls-client-bearssl: a device on BearSSL 0.6 (Debian's libbearssl) that connects to a TLS endpoint and GETs a path. */
/*
 * Usage: tls-client-bearssl CAFILE HOST PORT SERVERNAME [PATH]
 *   CAFILE      the device trust store (PEM): each certificate becomes an anchor as `brssl ta` makes one (subject
 *               DN, public key, BR_X509_TA_CA if a CA; code copied from stack_verify_bearssl.c). A pinned
 *               intermediate is an anchor like any other: the chain ends at the first certificate it issued.
 *   HOST PORT   the TCP endpoint (e.g. 127.0.0.1 4433)
 *   SERVERNAME  given to br_ssl_client_reset: sent as SNI and matched against the certificate's names
 *   PATH        default "/": after the handshake sends GET PATH HTTP/1.0 and reads the reply (64 KiB, 5 s)
 * The client is br_ssl_client_init_full (TLS 1.0-1.2, every suite, the system clock) over br_sslio on a socket.
 * Prints "ok: STATUS_LINE; body: FIRST_BODY_LINE" or "fail: REASON" with BearSSL's error name and code (the
 * X.509 engine's when the chain or the name was refused). Exit 0 ok, 1 handshake/verification failure or no
 * reply, 2 usage, connect or set-up error. Every socket operation waits at most 10 s (SO_RCVTIMEO/SO_SNDTIMEO). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bearssl.h>

#include "tls_client_common.h"

#define FILE_MAX (1024 * 1024)
#define MAX_CERTS 64

typedef struct bytes { unsigned char *p; size_t len; } bytes;

/* Appends to a buffer; a realloc per call is plenty for a trust store's few small certificates. */
static int bytes_add(bytes *b, const void *src, size_t len) {
    unsigned char *p = realloc(b->p, b->len + len + 1); /* +1: never a zero-size realloc */
    if (p == NULL) return -1;
    b->p = p;
    memcpy(b->p + b->len, src, len);
    b->len += len;
    return 0;
}

/* br_pem_decoder and br_x509_decoder deliver their output through callbacks. */
static void append_cb(void *ctx, const void *src, size_t len) {
    if (bytes_add(ctx, src, len) == 0) return;
    fprintf(stderr, "tls-client-bearssl: out of memory\n");
    exit(EXIT_USAGE);
}

/* The DER of every CERTIFICATE block of a PEM file, with BearSSL's own PEM decoder. Returns the count, -1 on error. */
static int load_pem(const char *path, bytes *out, int max) {
    FILE *f = fopen(path, "rb");
    unsigned char *text = f ? malloc(FILE_MAX + 1) : NULL;
    size_t len = text ? fread(text, 1, FILE_MAX + 1, f) : 0;
    int bad = f == NULL || text == NULL || ferror(f) || len > FILE_MAX;
    if (f) fclose(f);
    if (bad) {
        fprintf(stderr, "tls-client-bearssl: cannot read %s\n", path);
        free(text);
        return -1;
    }
    br_pem_decoder_context pc;
    br_pem_decoder_init(&pc);
    int n = 0, in_cert = 0, flushed = 0;
    const unsigned char *p = text;
    size_t left = len;
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
            fprintf(stderr, "tls-client-bearssl: %s: malformed PEM\n", path);
            free(text);
            return -1;
        default: break;
        }
    }
    free(text);
    return n;
}

/* A trust anchor from a certificate, as `brssl ta` builds one (stack_verify_bearssl.c's logic, except that the key
 * is not copied: it stays in the decoder context dc, which the caller keeps). 0, or the decoder's error code. */
static int make_anchor(const bytes *der, br_x509_trust_anchor *ta, bytes *dn, br_x509_decoder_context *dc) {
    br_x509_decoder_init(dc, append_cb, dn);
    br_x509_decoder_push(dc, der->p, der->len);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(dc);
    if (pk == NULL) return br_x509_decoder_last_error(dc);
    memset(ta, 0, sizeof *ta);
    ta->dn.data = dn->p;
    ta->dn.len = dn->len;
    ta->flags = br_x509_decoder_isCA(dc) ? BR_X509_TA_CA : 0;
    ta->pkey = *pk; /* its pointers are into dc's own buffer */
    return 0;
}

/* BearSSL's error codes by name: the X.509 engine's (32-63) and the SSL engine's a test may meet. */
static void err_text(int e, char *out, size_t n) {
    static const char *x509[] = {"INVALID_VALUE", "TRUNCATED", "EMPTY_CHAIN", "INNER_TRUNC", "BAD_TAG_CLASS",
        "BAD_TAG_VALUE", "INDEFINITE_LENGTH", "EXTRA_ELEMENT", "UNEXPECTED", "NOT_CONSTRUCTED", "NOT_PRIMITIVE",
        "PARTIAL_BYTE", "BAD_BOOLEAN", "OVERFLOW", "BAD_DN", "BAD_TIME", "UNSUPPORTED", "LIMIT_EXCEEDED",
        "WRONG_KEY_TYPE", "BAD_SIGNATURE", "TIME_UNKNOWN", "EXPIRED", "DN_MISMATCH", "BAD_SERVER_NAME",
        "CRITICAL_EXTENSION", "NOT_CA", "FORBIDDEN_KEY_USAGE", "WEAK_PUBLIC_KEY", "?", "NOT_TRUSTED"};
    static const char *ssl[] = {"OK", "BAD_PARAM", "BAD_STATE", "UNSUPPORTED_VERSION", "BAD_VERSION", "BAD_LENGTH",
        "TOO_LARGE", "BAD_MAC", "NO_RANDOM", "UNKNOWN_TYPE", "UNEXPECTED", "?", "BAD_CCS", "BAD_ALERT",
        "BAD_HANDSHAKE", "OVERSIZED_ID", "BAD_CIPHER_SUITE", "BAD_COMPRESSION", "BAD_FRAGLEN", "BAD_SECRENEG",
        "EXTRA_EXTENSION", "BAD_SNI", "BAD_HELLO_DONE", "LIMIT_EXCEEDED", "BAD_FINISHED", "RESUME_MISMATCH",
        "INVALID_ALGORITHM", "BAD_SIGNATURE", "WRONG_KEY_USAGE", "NO_CLIENT_AUTH", "?", "IO"};
    /* one name per code, "?" for the unassigned ones: an entry missing or added fails the build */
    _Static_assert(sizeof x509 / sizeof *x509 == BR_ERR_X509_NOT_TRUSTED - BR_ERR_X509_INVALID_VALUE + 1 &&
                       sizeof ssl / sizeof *ssl == BR_ERR_IO + 1, "one name per BearSSL error code");
    if (e >= BR_ERR_X509_INVALID_VALUE && e <= BR_ERR_X509_NOT_TRUSTED)
        snprintf(out, n, "BR_ERR_X509_%s (%d)", x509[e - BR_ERR_X509_INVALID_VALUE], e);
    else if (e >= 0 && e <= BR_ERR_IO) snprintf(out, n, "BR_ERR_%s (%d)", ssl[e], e);
    else if (e >= BR_ERR_RECV_FATAL_ALERT) /* 256 + the alert received, 512 + the alert sent */
        snprintf(out, n, "BR_ERR_%s_FATAL_ALERT + %d (%d)", e >= BR_ERR_SEND_FATAL_ALERT ? "SEND" : "RECV", e & 255, e);
    else snprintf(out, n, "BR_ERR_other (%d)", e);
}

/* br_sslio's transport: -1 (a timeout, an error or the peer's close) makes the engine fail with BR_ERR_IO;
 * timed_out tells the timeout apart. */
static int timed_out;

static int sock_read(void *ctx, unsigned char *buf, size_t len) {
    ssize_t n = recv(*(int *)ctx, buf, len, 0); /* no signal handlers here: no EINTR */
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) timed_out = 1;
    return n > 0 ? (int)n : -1;
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len) {
    ssize_t n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
    return n > 0 ? (int)n : -1;
}

/* What read_some reads with: the TLS stream and its socket. */
typedef struct reader {
    br_sslio_context *io;
    int fd;
} reader;

/* One read of the reply for read_reply (a reply_read_fn; ctx is a reader), waiting at most left_ms. */
static int read_some(void *ctx, char *buf, size_t len, long long left_ms) {
    reader *r = ctx;
    set_timeouts(r->fd, left_ms);
    int n = br_sslio_read(r->io, buf, len);
    return n > 0 ? n : -1; /* closed (BR_ERR_OK after close_notify), timed out or failed */
}

int main(int argc, char **argv) {
    tls_client_args a;
    if (parse_args("tls-client-bearssl", argc, argv, &a) != 0) return EXIT_USAGE;
    static char reply[REPLY_MAX + 1];
    char e[96];
    static bytes store[MAX_CERTS], dns[MAX_CERTS];
    static br_x509_decoder_context decoders[MAX_CERTS]; /* each holds its anchor's key */
    static br_x509_trust_anchor tas[MAX_CERTS];
    int ns = load_pem(a.cafile, store, MAX_CERTS);
    if (ns == 0) fprintf(stderr, "tls-client-bearssl: no certificate in %s\n", a.cafile);
    if (ns <= 0) return EXIT_USAGE;
    for (int i = 0; i < ns; i++) {
        int de = make_anchor(&store[i], &tas[i], &dns[i], &decoders[i]);
        if (de != 0) { /* a device could not have compiled this anchor into its firmware */
            err_text(de, e, sizeof e);
            fprintf(stderr, "tls-client-bearssl: trust store certificate #%d does not decode: %s\n", i + 1, e);
            return EXIT_USAGE;
        }
    }

    static br_ssl_client_context sc;
    static br_x509_minimal_context xc;
    static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
    br_ssl_client_init_full(&sc, &xc, tas, (size_t)ns);
    br_ssl_engine_set_buffer(&sc.eng, iobuf, sizeof iobuf, 1);
    if (!br_ssl_client_reset(&sc, a.name, 0)) { /* only a bad parameter makes the first reset fail */
        fprintf(stderr, "tls-client-bearssl: br_ssl_client_reset refused the server name %s\n", a.name);
        return EXIT_USAGE;
    }
    int fd = tcp_connect("tls-client-bearssl", a.host, a.port);
    if (fd < 0) return EXIT_USAGE;
    br_sslio_context io;
    br_sslio_init(&io, &sc.eng, sock_read, &fd, sock_write, &fd);

    int code = EXIT_REJECTED;
    /* br_sslio runs the handshake on the first write: a failure to send the request is a failed handshake
     * (or a connection lost right after it; the engine's error says which) */
    if (br_sslio_write_all(&io, a.req, (size_t)a.req_n) != 0 || br_sslio_flush(&io) != 0) {
        err_text(br_ssl_engine_last_error(&sc.eng), e, sizeof e);
        printf("fail: handshake: %s%s\n", e, timed_out ? "; no answer within 10 s" : "");
        goto out;
    }
    /* the reply: until the server closes, 64 KiB, or 5 s in all */
    reader r = {.io = &io, .fd = fd};
    if (read_reply(reply, read_some, &r, NULL) == 0) { /* sock_read's timed_out tells a timeout */
        err_text(br_ssl_engine_last_error(&sc.eng), e, sizeof e);
        printf("fail: no reply to GET %s%s: %s\n", a.path, timed_out ? " within 5 s" : "", e);
        goto out;
    }
    print_ok(reply);
    code = EXIT_ACCEPTED;
    br_sslio_close(&io);
out:
    close(fd); /* the anchors' buffers stay reachable from static storage until exit, as the engine used them */
    return code;
}
