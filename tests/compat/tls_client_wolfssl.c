/* tls-client-wolfssl: a device on wolfSSL (the iotca_wolfssl build) that connects to a TLS endpoint and GETs a path. */
/*
 * Usage: tls-client-wolfssl CAFILE HOST PORT SERVERNAME [PATH]
 *   CAFILE      the device trust store (PEM), loaded with wolfSSL_CTX_load_verify_locations as firmware does.
 *               A pinned intermediate needs no load flag or verify option: every CA certificate loaded becomes a
 *               signer, and the leaf it issued verifies against it. The intermediate the server also sends, whose
 *               issuer the device does not have, is set aside rather than fatal: the library is built with
 *               WOLFSSL_ALT_CERT_CHAINS (--enable-altcertchains; the SP build and Debian's package both are), and
 *               wolfSSL_is_peer_alt_cert_chain() is 1 after such a handshake. (A wolfSSL built without it is
 *               not what this client tests.)
 *   HOST PORT   the TCP endpoint (e.g. 127.0.0.1 4433)
 *   SERVERNAME  sent as SNI (wolfSSL_UseSNI), checked against the certificate's names (wolfSSL_check_domain_name)
 *   PATH        default "/": after the handshake sends GET PATH HTTP/1.0 and reads the reply (64 KiB, 5 s)
 * Prints "ok: STATUS_LINE; body: FIRST_BODY_LINE" or "fail: REASON" (wolfSSL's error and, from the verify
 * callback, the depth, subject and code of the certificate it refused). Exit 0 ok, 1 handshake/verification
 * failure or no reply, 2 usage, connect or set-up error. Every socket operation waits at most 10 s
 * (SO_RCVTIMEO/SO_SNDTIMEO, and a reader of its own: see io_recv). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>

enum { EXIT_ACCEPTED = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2 };

#define IO_TIMEOUT_MS 10000
#define REPLY_TIMEOUT_MS 5000
#define REPLY_MAX (64 * 1024)

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_timeouts(int fd, long long ms) {
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* A TCP connection with the timeouts set first: on Linux SO_SNDTIMEO bounds connect() too. -1 with a message. */
static int tcp_connect(const char *host, const char *port) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res), fd = -1;
    if (gai != 0) fprintf(stderr, "tls-client-wolfssl: %s port %s: %s\n", host, port, gai_strerror(gai));
    for (struct addrinfo *a = gai == 0 ? res : NULL; a != NULL && fd < 0; a = a->ai_next) {
        if ((fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol)) < 0) continue;
        set_timeouts(fd, IO_TIMEOUT_MS);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        perror("tls-client-wolfssl: connect");
        close(fd);
        fd = -1;
    }
    if (gai == 0) freeaddrinfo(res);
    return fd;
}

/* Prints "ok: STATUS LINE; body: ITS FIRST LINE" from an HTTP reply (the body part only when there is one). */
static void print_ok(char *reply) {
    char *body = strstr(reply, "\r\n\r\n");
    if (body != NULL) {
        body += 4;
        body[strcspn(body, "\r\n")] = '\0';
    }
    reply[strcspn(reply, "\r\n")] = '\0';
    printf("ok: %s%s%s\n", reply, body && *body ? "; body: " : "", body && *body ? body : "");
}

static int valid_port(const char *s) {
    char *end = NULL;
    long p = strtol(s, &end, 10);
    return end != s && *end == '\0' && p > 0 && p <= 65535;
}

/* wolfSSL's own socket reader turns a timed-out recv (EAGAIN under SO_RCVTIMEO) into WANT_READ, and the
 * handshake on a blocking socket read again: a silent server held it 112 s (strace: 11 reads, 10 s apart).
 * This reader ends the operation at the first timeout, and says so. */
static int timed_out;

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx) {
    (void)ssl;
    ssize_t n = recv(*(int *)ctx, buf, (size_t)sz, 0); /* no signal handlers here: no EINTR */
    if (n > 0) return (int)n;
    if (n == 0) return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        timed_out = 1;
        return WOLFSSL_CBIO_ERR_TIMEOUT;
    }
    return errno == ECONNRESET ? WOLFSSL_CBIO_ERR_CONN_RST : WOLFSSL_CBIO_ERR_GENERAL;
}

/* The first certificate the client refused, as the verify callback saw it (same as stack_verify_wolfssl.c). */
static char refused[512];

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store) {
    if (!preverify && refused[0] == 0) {
        char subject[256] = "?";
        WOLFSSL_X509 *cur = wolfSSL_X509_STORE_CTX_get_current_cert(store);
        if (cur) wolfSSL_X509_NAME_oneline(wolfSSL_X509_get_subject_name(cur), subject, sizeof subject);
        int err = wolfSSL_X509_STORE_CTX_get_error(store);
        const char *text = wolfSSL_X509_verify_cert_error_string(err);
        if (text == NULL || strstr(text, "unknown error")) text = "verify error"; /* wolfSSL names few codes */
        snprintf(refused, sizeof refused, "depth %d %s: %s (%d)", wolfSSL_X509_STORE_CTX_get_error_depth(store),
                 subject, text, err);
    }
    return preverify; /* wolfSSL's own verdict, unchanged */
}

static void error_text(int err, char *out, size_t n) {
    char text[96];
    wolfSSL_ERR_error_string_n((unsigned long)err, text, sizeof text);
    snprintf(out, n, "%.95s (%d)", text, err);
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: tls-client-wolfssl CAFILE HOST PORT SERVERNAME [PATH]\n"
                        "  exit 0 ok, 1 handshake or verification failed, 2 usage or connect error\n");
        return EXIT_USAGE;
    }
    const char *cafile = argv[1], *host = argv[2], *port = argv[3], *name = argv[4];
    const char *path = argc == 6 ? argv[5] : "/";
    if (!valid_port(port)) {
        fprintf(stderr, "tls-client-wolfssl: PORT must be a number from 1 to 65535, not '%s'\n", port);
        return EXIT_USAGE;
    }
    static char reply[REPLY_MAX + 1];
    char req[2048], e[160];
    int req_n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, name);
    if (req_n < 0 || (size_t)req_n >= sizeof req) {
        fprintf(stderr, "tls-client-wolfssl: PATH and SERVERNAME are too long\n");
        return EXIT_USAGE;
    }

    int code = EXIT_USAGE, fd = -1;
    wolfSSL_Init();
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
    WOLFSSL *ssl = NULL;
    if (ctx == NULL) goto out;
    int lr = wolfSSL_CTX_load_verify_locations(ctx, cafile, NULL);
    if (lr != WOLFSSL_SUCCESS) {
        /* a missing file and one with nothing loadable both return WOLFSSL_FAILURE (0), with no error queued */
        if (lr < 0) error_text(lr, e, sizeof e);
        else snprintf(e, sizeof e, "unreadable, or no certificate wolfSSL can load (%d)", lr);
        fprintf(stderr, "tls-client-wolfssl: cannot load the trust store %s: %s\n", cafile, e);
        goto out;
    }
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, verify_cb);
    wolfSSL_CTX_SetIORecv(ctx, io_recv);
    ssl = wolfSSL_new(ctx);
    if (ssl == NULL) goto out;
    if (wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, name, (unsigned short)strlen(name)) != WOLFSSL_SUCCESS ||
        wolfSSL_check_domain_name(ssl, name) != WOLFSSL_SUCCESS) {
        fprintf(stderr, "tls-client-wolfssl: cannot set the server name %s\n", name);
        goto out;
    }
    if ((fd = tcp_connect(host, port)) < 0) goto out;
    wolfSSL_set_fd(ssl, fd);
    wolfSSL_SetIOReadCtx(ssl, &fd); /* after set_fd, which points the read context at its own copy */

    int ret = wolfSSL_connect(ssl);
    if (ret != WOLFSSL_SUCCESS) {
        error_text(wolfSSL_get_error(ssl, ret), e, sizeof e);
        printf("fail: handshake: %s%s%s%s\n", e, refused[0] ? "; " : "", refused,
               timed_out ? "; no answer within 10 s" : "");
        code = EXIT_REJECTED;
        goto out;
    }
    int w = wolfSSL_write(ssl, req, req_n); /* all or an error: partial writes are not enabled */
    if (w != req_n) {
        error_text(wolfSSL_get_error(ssl, w), e, sizeof e);
        printf("fail: sending the request: %s\n", e);
        code = EXIT_REJECTED;
        goto out;
    }

    /* the reply: until the server closes, 64 KiB, or 5 s in all (each read waits only what is left of them) */
    size_t got = 0;
    long long deadline = now_ms() + REPLY_TIMEOUT_MS;
    int read_err = 0;
    while (got < REPLY_MAX) {
        long long left = deadline - now_ms();
        if (left <= 0) break;
        set_timeouts(fd, left);
        int n = wolfSSL_read(ssl, reply + got, (int)(REPLY_MAX - got));
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        int err = wolfSSL_get_error(ssl, n);
        if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) continue;
        /* ZERO_RETURN: the server's close_notify; a timeout: the 5 s are over */
        if (err != WOLFSSL_ERROR_ZERO_RETURN && !timed_out) read_err = err;
        break;
    }
    reply[got] = '\0';
    if (got == 0) {
        if (read_err) error_text(read_err, e, sizeof e);
        printf("fail: no reply to GET %s%s%s%s\n", path, read_err ? ": " : "", read_err ? e : "",
               timed_out ? " within 5 s" : "");
        code = EXIT_REJECTED;
        goto out;
    }
    print_ok(reply);
    code = EXIT_ACCEPTED;
    wolfSSL_shutdown(ssl);
out:
    wolfSSL_free(ssl);
    if (fd >= 0) close(fd);
    wolfSSL_CTX_free(ctx);
    wolfSSL_Cleanup();
    return code;
}
