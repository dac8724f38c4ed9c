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
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>

#include "tls_client_common.h"

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

/* What read_some reads with, and the error that ended the reads (io_recv's timed_out says if one timed out). */
typedef struct reader {
    WOLFSSL *ssl;
    int fd, read_err;
} reader;

/* One read of the reply for read_reply (a reply_read_fn; ctx is a reader), waiting at most left_ms. */
static int read_some(void *ctx, char *buf, size_t len, long long left_ms) {
    reader *r = ctx;
    set_timeouts(r->fd, left_ms);
    int n = wolfSSL_read(r->ssl, buf, (int)len);
    if (n > 0) return n;
    int err = wolfSSL_get_error(r->ssl, n);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) return 0;
    /* ZERO_RETURN: the server's close_notify; a timeout: the 5 s are over */
    if (err != WOLFSSL_ERROR_ZERO_RETURN && !timed_out) r->read_err = err;
    return -1;
}

int main(int argc, char **argv) {
    tls_client_args a;
    if (parse_args("tls-client-wolfssl", argc, argv, &a) != 0) return EXIT_USAGE;
    static char reply[REPLY_MAX + 1];
    char e[160];

    int code = EXIT_USAGE, fd = -1;
    wolfSSL_Init();
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
    WOLFSSL *ssl = NULL;
    if (ctx == NULL) goto out;
    int lr = wolfSSL_CTX_load_verify_locations(ctx, a.cafile, NULL);
    if (lr != WOLFSSL_SUCCESS) {
        /* a missing file and one with nothing loadable both return WOLFSSL_FAILURE (0), with no error queued */
        if (lr < 0) error_text(lr, e, sizeof e);
        else snprintf(e, sizeof e, "unreadable, or no certificate wolfSSL can load (%d)", lr);
        fprintf(stderr, "tls-client-wolfssl: cannot load the trust store %s: %s\n", a.cafile, e);
        goto out;
    }
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, verify_cb);
    wolfSSL_CTX_SetIORecv(ctx, io_recv);
    ssl = wolfSSL_new(ctx);
    if (ssl == NULL) goto out;
    if (wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, a.name, (unsigned short)strlen(a.name)) != WOLFSSL_SUCCESS ||
        wolfSSL_check_domain_name(ssl, a.name) != WOLFSSL_SUCCESS) {
        fprintf(stderr, "tls-client-wolfssl: cannot set the server name %s\n", a.name);
        goto out;
    }
    if ((fd = tcp_connect("tls-client-wolfssl", a.host, a.port)) < 0) goto out;
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
    int w = wolfSSL_write(ssl, a.req, a.req_n); /* all or an error: partial writes are not enabled */
    if (w != a.req_n) {
        error_text(wolfSSL_get_error(ssl, w), e, sizeof e);
        printf("fail: sending the request: %s\n", e);
        code = EXIT_REJECTED;
        goto out;
    }

    /* the reply: until the server closes, 64 KiB, or 5 s in all */
    reader r = {.ssl = ssl, .fd = fd};
    if (read_reply(reply, read_some, &r, NULL) == 0) { /* io_recv's timed_out tells a timeout */
        if (r.read_err) error_text(r.read_err, e, sizeof e);
        print_no_reply(a.path, r.read_err ? e : NULL, timed_out);
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
