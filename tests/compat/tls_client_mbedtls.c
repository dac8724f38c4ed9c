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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

enum { EXIT_ACCEPTED = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2 };

#define IO_TIMEOUT_MS 10000u
#define REPLY_TIMEOUT_MS 5000
#define REPLY_MAX (64 * 1024)

static void error_text(int rc, char *out, size_t n) {
    char e[160];
    mbedtls_strerror(rc, e, sizeof e);
    snprintf(out, n, "%s (-0x%04x)", e, (unsigned)-rc);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: tls-client-mbedtls CAFILE HOST PORT SERVERNAME [PATH]\n"
                        "  exit 0 ok, 1 handshake or verification failed, 2 usage or connect error\n");
        return EXIT_USAGE;
    }
    const char *cafile = argv[1], *host = argv[2], *port = argv[3], *name = argv[4];
    const char *path = argc == 6 ? argv[5] : "/";
    if (!valid_port(port)) {
        fprintf(stderr, "tls-client-mbedtls: PORT must be a number from 1 to 65535, not '%s'\n", port);
        return EXIT_USAGE;
    }
    static unsigned char reply[REPLY_MAX + 1];
    char req[2048];
    int req_n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, name);
    if (req_n < 0 || (size_t)req_n >= sizeof req) {
        fprintf(stderr, "tls-client-mbedtls: PATH and SERVERNAME are too long\n");
        return EXIT_USAGE;
    }

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
    rc = mbedtls_x509_crt_parse_file(&ca, cafile);
    if (rc < 0 || ca.raw.len == 0) {
        error_text(rc < 0 ? rc : MBEDTLS_ERR_X509_INVALID_FORMAT, e, sizeof e);
        fprintf(stderr, "tls-client-mbedtls: cannot load the trust store %s: %s\n", cafile, e);
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
    if ((rc = mbedtls_ssl_setup(&ssl, &conf)) != 0 || (rc = mbedtls_ssl_set_hostname(&ssl, name)) != 0) {
        error_text(rc, e, sizeof e);
        fprintf(stderr, "tls-client-mbedtls: setup: %s\n", e);
        goto out;
    }
    if ((rc = mbedtls_net_connect(&net, host, port, MBEDTLS_NET_PROTO_TCP)) != 0) {
        error_text(rc, e, sizeof e);
        fprintf(stderr, "tls-client-mbedtls: connect to %s port %s: %s\n", host, port, e);
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
    for (int sent = 0; sent < req_n;) {
        rc = mbedtls_ssl_write(&ssl, (const unsigned char *)req + sent, (size_t)(req_n - sent));
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (rc < 0) {
            error_text(rc, e, sizeof e);
            printf("fail: sending the request: %s\n", e);
            code = EXIT_REJECTED;
            goto out;
        }
        sent += rc;
    }

    /* the reply: until the server closes, 64 KiB, or 5 s in all (each read waits only what is left of them) */
    size_t got = 0;
    long long deadline = now_ms() + REPLY_TIMEOUT_MS;
    int read_err = 0, timed_out = 0;
    while (got < REPLY_MAX) {
        long long left = deadline - now_ms();
        if ((timed_out = left <= 0)) break;
        /* ssl holds a pointer to conf, so the shorter timeout applies to the next read */
        mbedtls_ssl_conf_read_timeout(&conf, (uint32_t)left);
        rc = mbedtls_ssl_read(&ssl, reply + got, REPLY_MAX - got);
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if ((timed_out = rc == MBEDTLS_ERR_SSL_TIMEOUT) || rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) break;
        if (rc < 0) {
            read_err = rc;
            break;
        }
        got += (size_t)rc;
    }
    reply[got] = '\0';
    if (got == 0) {
        if (read_err) error_text(read_err, e, sizeof e);
        printf("fail: no reply to GET %s%s%s%s\n", path, read_err ? ": " : "", read_err ? e : "",
               timed_out ? " within 5 s" : "");
        code = EXIT_REJECTED;
        goto out;
    }
    print_ok((char *)reply);
    code = EXIT_ACCEPTED;
    mbedtls_ssl_close_notify(&ssl);
out:
    mbedtls_net_free(&net), mbedtls_ssl_free(&ssl), mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca), mbedtls_ctr_drbg_free(&drbg), mbedtls_entropy_free(&entropy);
    return code;
}
