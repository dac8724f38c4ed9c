/* An EST device on GnuTLS that binds its request to its TLS connection (RFC
 * 7030 §3.5): it makes a P-256 key and a CSR whose challengePassword is the
 * base64 of the connection's channel binding (tls-unique over TLS 1.2,
 * tls-exporter over TLS 1.3, RFC 9266), and posts it to simpleenroll with HTTP
 * Basic, or to simplereenroll with a client certificate, on that same
 * connection. tests/integration/test_est_binding.sh drives it.
 *
 *   est-binding-gnutls HOST PORT CAFILE PATH MODE TLS CN URI CREDS|CERT:KEY
 *     PATH  e.g. /.well-known/est/device/simpleenroll
 *     MODE  bind: this connection's binding; other: the binding of an earlier
 * connection (a request replayed onto another channel); flip: this binding with
 * one bit changed; none: no challengePassword TLS   1.2 or 1.3 CREDS
 * user:secret for Basic, or CERT:KEY (PEM files) for a client certificate
 *
 * Prints the binding's name and size, then the HTTP answer, on stdout; the new
 * key (PEM) goes to the file $EST_KEY_OUT when set. Exits 0 when an answer
 * came, 1 on any local or TLS failure (the reason on stderr). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

static int fail(const char *what, int rc) {
    fprintf(stderr, "est-binding-gnutls: %s: %s\n", what, rc < 0 ? gnutls_strerror(rc) : "failed");
    return 1;
}

typedef struct conn {
    int fd;
    gnutls_session_t s;
    gnutls_certificate_credentials_t cred;
} conn;

static int dial(conn *c, const char *host, const char *port, const char *cafile, const char *tls, const char *creds) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0) return fail("getaddrinfo", 0);
    c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
    int rc = c->fd >= 0 ? connect(c->fd, ai->ai_addr, ai->ai_addrlen) : -1;
    freeaddrinfo(ai);
    if (rc != 0) return fail("connect", 0);
    if ((rc = gnutls_certificate_allocate_credentials(&c->cred)) < 0) return fail("credentials", rc);
    if ((rc = gnutls_certificate_set_x509_trust_file(c->cred, cafile, GNUTLS_X509_FMT_PEM)) <= 0)
        return fail("trust file", rc);
    const char *colon = strchr(creds, ':');
    if (strstr(creds, ".pem:") != NULL && colon != NULL) { /* CERT:KEY */
        char cert[512];
        snprintf(cert, sizeof cert, "%.*s", (int)(colon - creds), creds);
        if ((rc = gnutls_certificate_set_x509_key_file(c->cred, cert, colon + 1, GNUTLS_X509_FMT_PEM)) < 0)
            return fail("client certificate", rc);
    }
    const char *prio = strcmp(tls, "1.2") == 0 ? "NORMAL:-VERS-ALL:+VERS-TLS1.2" : "NORMAL:-VERS-ALL:+VERS-TLS1.3";
    if ((rc = gnutls_init(&c->s, GNUTLS_CLIENT)) < 0 || (rc = gnutls_priority_set_direct(c->s, prio, NULL)) < 0 ||
        (rc = gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, c->cred)) < 0)
        return fail("session", rc);
    gnutls_session_set_verify_cert(c->s, host, 0);
    gnutls_transport_set_int(c->s, c->fd);
    do rc = gnutls_handshake(c->s);
    while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
    return rc < 0 ? fail("handshake", rc) : 0;
}

static void hang_up(conn *c) {
    gnutls_bye(c->s, GNUTLS_SHUT_WR);
    gnutls_deinit(c->s);
    gnutls_certificate_free_credentials(c->cred);
    close(c->fd);
}

static int binding(conn *c, gnutls_datum_t *cb, const char **kind) {
    int v13 = gnutls_protocol_get_version(c->s) == GNUTLS_TLS1_3;
    *kind = v13 ? "tls-exporter" : "tls-unique";
    int rc = gnutls_session_channel_binding(c->s, v13 ? GNUTLS_CB_TLS_EXPORTER : GNUTLS_CB_TLS_UNIQUE, cb);
    return rc < 0 ? fail("channel binding", rc) : 0;
}

/* A P-256 CSR for CN and the URI SAN, with challengePassword when password is
 * not NULL; base64 DER into b64. */
static int make_csr(const char *cn, const char *uri, const char *password, gnutls_datum_t *b64) {
    gnutls_x509_privkey_t key;
    gnutls_x509_crq_t crq;
    gnutls_datum_t der = {0};
    int rc = gnutls_x509_privkey_init(&key);
    if (rc >= 0)
        rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    if (rc >= 0) rc = gnutls_x509_crq_init(&crq);
    if (rc < 0) return fail("key", rc);
    const char *key_out = getenv("EST_KEY_OUT");
    if (key_out != NULL) {
        gnutls_datum_t pem = {0};
        FILE *f = NULL;
        if ((rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem)) >= 0) {
            umask(077);
            f = fopen(key_out, "w");
        }
        int written = f != NULL && fwrite(pem.data, 1, pem.size, f) == pem.size;
        if (f != NULL && fclose(f) != 0) written = 0;
        gnutls_free(pem.data);
        if (!written) return fail("EST_KEY_OUT", rc);
    }
    rc = gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn));
    if (rc >= 0)
        rc = gnutls_x509_crq_set_subject_alt_name(crq, GNUTLS_SAN_URI, uri, (unsigned)strlen(uri), GNUTLS_FSAN_SET);
    if (rc >= 0) rc = gnutls_x509_crq_set_key(crq, key);
    if (rc >= 0 && password) rc = gnutls_x509_crq_set_challenge_password(crq, password);
    if (rc >= 0) rc = gnutls_x509_crq_sign2(crq, key, GNUTLS_DIG_SHA256, 0);
    if (rc >= 0) rc = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der);
    if (rc >= 0) rc = gnutls_base64_encode2(&der, b64);
    gnutls_free(der.data);
    gnutls_x509_crq_deinit(crq);
    gnutls_x509_privkey_deinit(key);
    return rc < 0 ? fail("CSR", rc) : 0;
}

static int post(conn *c, const char *host, const char *path, const char *creds, const gnutls_datum_t *csr) {
    char head[1024], auth[600] = "";
    if (strstr(creds, ".pem:") == NULL) {
        gnutls_datum_t in = {(unsigned char *)creds, (unsigned)strlen(creds)}, out = {0};
        if (gnutls_base64_encode2(&in, &out) < 0) return fail("base64", 0);
        snprintf(auth, sizeof auth, "Authorization: Basic %.*s\r\n", (int)out.size, out.data);
        gnutls_free(out.data);
    }
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: "
                     "application/pkcs10\r\nContent-Length: %u\r\n"
                     "Connection: close\r\n\r\n",
                     path, host, auth, csr->size);
    if (gnutls_record_send(c->s, head, (size_t)n) != n) return fail("send", 0);
    if (gnutls_record_send(c->s, csr->data, csr->size) != (ssize_t)csr->size) return fail("send", 0);
    char buf[4096];
    ssize_t got;
    while ((got = gnutls_record_recv(c->s, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)got, stdout);
    return got < 0 && got != GNUTLS_E_PREMATURE_TERMINATION ? fail("receive", (int)got) : 0;
}

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: est-binding-gnutls HOST PORT CAFILE PATH "
                        "bind|other|flip|none 1.2|1.3 CN URI "
                        "USER:SECRET|CERT.pem:KEY\n");
        return 2;
    }
    const char *host = argv[1], *port = argv[2], *ca = argv[3], *path = argv[4], *mode = argv[5], *tls = argv[6];
    const char *cn = argv[7], *uri = argv[8], *creds = argv[9];
    conn c = {0}, earlier = {0};
    gnutls_datum_t cb = {0}, csr = {0};
    const char *kind;
    if (strcmp(mode, "other") == 0) { /* the binding of a connection that is gone
                                         by the time the CSR is sent */
        if (dial(&earlier, host, port, ca, tls, creds) || binding(&earlier, &cb, &kind)) return 1;
        hang_up(&earlier);
    }
    if (dial(&c, host, port, ca, tls, creds)) return 1;
    if (cb.data == NULL && binding(&c, &cb, &kind)) return 1;
    if (strcmp(mode, "flip") == 0) cb.data[cb.size / 2] ^= 0x01;
    gnutls_datum_t pw = {0};
    if (strcmp(mode, "none") != 0 && gnutls_base64_encode2(&cb, &pw) < 0) return fail("base64", 0);
    char password[256];
    snprintf(password, sizeof password, "%.*s", (int)pw.size, pw.data);
    printf("binding: %s (%u bytes)\n", kind, cb.size);
    fflush(stdout);
    int rc = make_csr(cn, uri, pw.data ? password : NULL, &csr) || post(&c, host, path, creds, &csr);
    hang_up(&c);
    gnutls_free(cb.data);
    gnutls_free(pw.data);
    gnutls_free(csr.data);
    return rc;
}
