/* An EST device on mbedTLS 2.28 (Debian's libmbedtls), for tests/integration/test_est.sh: re-enrolls over TLS
 * the way a device's firmware would, authenticating with its current certificate as the TLS client certificate.
 *   est-reenroll-mbedtls HOST PORT SERVER_CA CLIENT_CERT CLIENT_KEY CSR_DER PATH
 * POSTs base64(CSR_DER) as application/pkcs10 to PATH, checks the server against SERVER_CA (name HOST), and
 * writes the HTTP status line to stderr and the response body to stdout. Exit 0 on HTTP 200, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

static int fail(const char *what, int rc) {
    char e[160];
    mbedtls_strerror(rc, e, sizeof e);
    fprintf(stderr, "est-reenroll-mbedtls: %s: %s (-0x%04x)\n", what, e, (unsigned)-rc);
    return 1;
}

static int write_all(mbedtls_ssl_context *ssl, const unsigned char *p, size_t n) {
    while (n > 0) {
        int w = mbedtls_ssl_write(ssl, p, n);
        if (w == MBEDTLS_ERR_SSL_WANT_WRITE || w == MBEDTLS_ERR_SSL_WANT_READ) continue;
        if (w < 0) return w;
        p += w, n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: est-reenroll-mbedtls HOST PORT SERVER_CA CLIENT_CERT CLIENT_KEY CSR_DER PATH\n");
        return 2;
    }
    static unsigned char csr[8192], b64[12000], req[14000], resp[65536];
    FILE *f = fopen(argv[6], "rb");
    if (!f) return fail("open CSR", -1);
    size_t csr_n = fread(csr, 1, sizeof csr, f), b64_n = 0;
    fclose(f);
    if (mbedtls_base64_encode(b64, sizeof b64, &b64_n, csr, csr_n) != 0) return fail("base64", -1);
    int req_n = snprintf((char *)req, sizeof req,
                         "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/pkcs10\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         argv[7], argv[1], argv[2], b64_n, (const char *)b64);

    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca, own;
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_net_init(&net), mbedtls_ssl_init(&ssl), mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca), mbedtls_x509_crt_init(&own), mbedtls_pk_init(&key);
    mbedtls_entropy_init(&entropy), mbedtls_ctr_drbg_init(&drbg);
    int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0);
    if (rc) return fail("seed", rc);
    if ((rc = mbedtls_x509_crt_parse_file(&ca, argv[3]))) return fail("server CA", rc);
    if ((rc = mbedtls_x509_crt_parse_file(&own, argv[4]))) return fail("client certificate", rc);
    if ((rc = mbedtls_pk_parse_keyfile(&key, argv[5], NULL))) return fail("client key", rc);
    if ((rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT)))
        return fail("config", rc);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    /* the device's own certificate, even an expired one: a client does not judge its own */
    if ((rc = mbedtls_ssl_conf_own_cert(&conf, &own, &key))) return fail("own certificate", rc);
    if ((rc = mbedtls_ssl_setup(&ssl, &conf))) return fail("setup", rc);
    if ((rc = mbedtls_ssl_set_hostname(&ssl, argv[1]))) return fail("hostname", rc);
    if ((rc = mbedtls_net_connect(&net, argv[1], argv[2], MBEDTLS_NET_PROTO_TCP))) return fail("connect", rc);
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
    while ((rc = mbedtls_ssl_handshake(&ssl)) != 0)
        if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) return fail("handshake", rc);
    if ((rc = write_all(&ssl, req, (size_t)req_n))) return fail("write", rc);
    size_t got = 0;
    for (;;) {
        rc = mbedtls_ssl_read(&ssl, resp + got, sizeof resp - 1 - got);
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == 0) break;
        if (rc < 0) return fail("read", rc);
        got += (size_t)rc;
        if (got == sizeof resp - 1) break;
    }
    resp[got] = 0;
    mbedtls_ssl_close_notify(&ssl);
    char *eol = strstr((char *)resp, "\r\n"), *body = strstr((char *)resp, "\r\n\r\n");
    if (!eol || !body) return fail("no HTTP response", -1);
    fprintf(stderr, "%.*s\n", (int)(eol - (char *)resp), (const char *)resp);
    fputs(body + 4, stdout);
    int ok = strncmp((char *)resp, "HTTP/1.1 200 ", 13) == 0;
    mbedtls_net_free(&net), mbedtls_ssl_free(&ssl), mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca), mbedtls_x509_crt_free(&own), mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg), mbedtls_entropy_free(&entropy);
    return ok ? 0 : 1;
}
