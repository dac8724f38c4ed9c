/* tls-client-mbedtls: a device on mbedTLS 2.28 (Debian's libmbedtls) that connects to a TLS endpoint, GETs a path. */
/*
 * Usage: tls-client-mbedtls CAFILE HOST PORT SERVERNAME [PATH]
 *   CAFILE      the device trust store (PEM). Every certificate in it is an anchor, a pinned intermediate too:
 *               mbedTLS looks for a parent among the trusted certificates first and stops there.
 *   HOST PORT   the TCP endpoint (e.g. 127.0.0.1 4433)
 *   SERVERNAME  sent as SNI and checked against the server certificate's names (mbedtls_ssl_set_hostname)
 *   PATH        default "/": after the handshake sends GET PATH HTTP/1.0 and reads the reply (64 KiB, 5 s)
 * Prints "ok: STATUS_LINE; body: FIRST_BODY_LINE" or "fail: REASON" (mbedTLS's error and, when the chain or the
 * name was refused, its verify flags). Exit 0 ok, 1 handshake/verification failure or no reply, 2 usage, connect
 * or set-up error.
 * Every socket read waits at most 10 s (mbedtls_net_recv_timeout), so a test never hangs; the connect is
 * mbedtls_net_connect's, bounded by the system only (the tests connect over loopback, answered at once). */
#include <stdio.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "tls_client_common.h"

static void error_text(int rc, char *out, size_t n) {
    char e[160];
    mbedtls_strerror(rc, e, sizeof e);
    snprintf(out, n, "%s (-0x%04x)", e, (unsigned)-rc);
}

/* The handshake's failure: for a refused chain or name, mbedTLS's verify flags say which check failed. */
static void report_handshake(mbedtls_ssl_context *ssl, int rc) {
    char e[200];
    error_text(rc, e, sizeof e);
    uint32_t flags = mbedtls_ssl_get_verify_result(ssl);
    if (rc != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || flags == 0 || flags == (uint32_t)-1) {
        printf("fail: handshake: %s\n", e);
        return;
    }
    char info[1024] = "";
    mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
    for (char *c = info; *c; c++) /* verify_info ends every reason with a newline; keep one line */
        if (*c == '\n') *c = (c[1] ? ';' : '\0');
    printf("fail: handshake: %s; verify flags 0x%08x: %s\n", e, (unsigned)flags, info);
}

/* What read_some reads with, and what it saw: the error that ended the reads, or a read timed out. */
typedef struct reader {
    mbedtls_ssl_context *ssl;
    mbedtls_ssl_config *conf;
    int read_err, timed_out;
} reader;

/* One read of the reply for read_reply (a reply_read_fn; ctx is a reader), waiting at most left_ms. */
static int read_some(void *ctx, char *buf, size_t len, long long left_ms) {
    reader *r = ctx;
    /* ssl holds a pointer to conf, so the shorter timeout applies to the next read */
    mbedtls_ssl_conf_read_timeout(r->conf, (uint32_t)left_ms);
    int rc = mbedtls_ssl_read(r->ssl, (unsigned char *)buf, len);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return 0;
    r->timed_out = rc == MBEDTLS_ERR_SSL_TIMEOUT;
    if (r->timed_out || rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return -1;
    if (rc < 0) r->read_err = rc;
    return rc < 0 ? -1 : rc;
}

int main(int argc, char **argv) {
    tls_client_args a;
    if (parse_args("tls-client-mbedtls", argc, argv, &a) != 0) return EXIT_USAGE;
    static char reply[REPLY_MAX + 1];

    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_net_init(&net), mbedtls_ssl_init(&ssl), mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca), mbedtls_entropy_init(&entropy), mbedtls_ctr_drbg_init(&drbg);
    int code = EXIT_USAGE, rc;
    char e[200];

    if ((rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0)) != 0) {
        error_text(rc, e, sizeof e);
        fprintf(stderr, "tls-client-mbedtls: seeding the DRBG: %s\n", e);
        goto out;
    }
    /* as firmware does: a negative return is fatal, certificates that do not parse are skipped (a positive count) */
    rc = mbedtls_x509_crt_parse_file(&ca, a.cafile);
    if (rc < 0 || ca.raw.len == 0) {
        error_text(rc < 0 ? rc : MBEDTLS_ERR_X509_INVALID_FORMAT, e, sizeof e);
        fprintf(stderr, "tls-client-mbedtls: cannot load the trust store %s: %s\n", a.cafile, e);
        goto out;
    }
    if ((rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
        error_text(rc, e, sizeof e);
        fprintf(stderr, "tls-client-mbedtls: config: %s\n", e);
        goto out;
    }
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_read_timeout(&conf, IO_TIMEOUT_MS);
    if ((rc = mbedtls_ssl_setup(&ssl, &conf)) != 0 || (rc = mbedtls_ssl_set_hostname(&ssl, a.name)) != 0) {
        error_text(rc, e, sizeof e);
        fprintf(stderr, "tls-client-mbedtls: setup: %s\n", e);
        goto out;
    }
    if ((rc = mbedtls_net_connect(&net, a.host, a.port, MBEDTLS_NET_PROTO_TCP)) != 0) {
        error_text(rc, e, sizeof e);
        fprintf(stderr, "tls-client-mbedtls: connect to %s port %s: %s\n", a.host, a.port, e);
        goto out;
    }
    /* recv_timeout waits in select(), bounded by the read timeout; the recv callback would block for ever */
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);

    while ((rc = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        report_handshake(&ssl, rc);
        code = EXIT_REJECTED;
        goto out;
    }
    for (int sent = 0; sent < a.req_n;) {
        rc = mbedtls_ssl_write(&ssl, (const unsigned char *)a.req + sent, (size_t)(a.req_n - sent));
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (rc < 0) {
            error_text(rc, e, sizeof e);
            printf("fail: sending the request: %s\n", e);
            code = EXIT_REJECTED;
            goto out;
        }
        sent += rc;
    }

    /* the reply: until the server closes, 64 KiB, or 5 s in all */
    reader r = {.ssl = &ssl, .conf = &conf};
    int deadline_passed;
    if (read_reply(reply, read_some, &r, &deadline_passed) == 0) {
        if (r.read_err) error_text(r.read_err, e, sizeof e);
        print_no_reply(a.path, r.read_err ? e : NULL, deadline_passed || r.timed_out);
        code = EXIT_REJECTED;
        goto out;
    }
    print_ok(reply);
    code = EXIT_ACCEPTED;
    mbedtls_ssl_close_notify(&ssl);
out:
    mbedtls_net_free(&net), mbedtls_ssl_free(&ssl), mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca), mbedtls_ctr_drbg_free(&drbg), mbedtls_entropy_free(&entropy);
    return code;
}
