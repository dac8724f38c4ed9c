/* ACME tls-alpn-01 (RFC 8737): a TLS handshake to the name's address with ALPN "acme-tls/1" and SNI the name, and
 * the certificate it presents checked: the name its one DNS subjectAltName, and a critical acmeIdentifier extension
 * (id-pe-acmeIdentifier, 1.3.6.1.5.5.7.1.31) holding SHA-256 of the key authorization. TLS with GnuTLS, the library
 * libmicrohttpd already brings into iotcad; the certificate read with lib/core's DER reader. */
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "iotca/der.h"
#include "iotca/key.h"
#include "validate_int.h"

static const uint8_t OID_ACME_IDENTIFIER[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f}; /* 1.3.6.1.5.5.7.1.31 */
static const uint8_t OID_SAN[] = {0x55, 0x1d, 0x11};

/* A TCP connection to addr:port within timeout_ms, or -1. */
static int connect_to(const uint8_t *addr, size_t len, unsigned port, unsigned timeout_ms) {
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    if (len == 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        memcpy(&a->sin_addr, addr, 4);
        sl = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        memcpy(&a->sin6_addr, addr, 16);
        sl = sizeof *a;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (long)(timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The extensions of a certificate's TBS (the [3] EXPLICIT SEQUENCE), or IOTCA_E_PARSE. */
static iotca_rc extensions(iotca_slice der, iotca_slice *exts) {
    iotca_tlv cert, tbs, t;
    bool has;
    IOTCA_GUARD(iotca_der_single(der, IOTCA_DER_SEQUENCE, &cert));
    iotca_slice c = cert.val;
    IOTCA_GUARD(iotca_der_expect(&c, IOTCA_DER_SEQUENCE, &tbs));
    iotca_slice in = tbs.val;
    IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_CTX_CONS(0), &t, &has)); /* version */
    for (int i = 0; i < 6; i++) IOTCA_GUARD(iotca_der_next(&in, &t));    /* serial .. subjectPublicKeyInfo */
    IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_CTX(1), &t, &has));
    IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_CTX(2), &t, &has));
    IOTCA_GUARD(iotca_der_optional(&in, IOTCA_DER_CTX_CONS(3), &t, &has));
    IOTCA_ENSURE(has, IOTCA_E_PARSE, "no extensions");
    iotca_tlv seq;
    IOTCA_GUARD(iotca_der_single(t.val, IOTCA_DER_SEQUENCE, &seq));
    *exts = seq.val;
    return IOTCA_OK;
}

/* Checks the challenge certificate: exactly the name in its SAN, the critical acmeIdentifier with want's digest. */
static iotca_rc check_certificate(iotca_slice der, const char *name, const uint8_t want[32]) {
    iotca_slice exts;
    IOTCA_ENSURE(extensions(der, &exts) == IOTCA_OK, IOTCA_E_POLICY,
                 "incorrectResponse: the tls-alpn-01 certificate for %s has no readable extensions", name);
    bool id_ok = false, san_ok = false;
    while (exts.len) {
        iotca_tlv ext, oid, crit, val;
        bool critical;
        IOTCA_ENSURE(iotca_der_expect(&exts, IOTCA_DER_SEQUENCE, &ext) == IOTCA_OK, IOTCA_E_POLICY,
                     "incorrectResponse: a malformed extension in the tls-alpn-01 certificate");
        iotca_slice x = ext.val;
        if (iotca_der_expect(&x, IOTCA_DER_OID, &oid) != IOTCA_OK ||
            iotca_der_optional(&x, IOTCA_DER_BOOLEAN, &crit, &critical) != IOTCA_OK ||
            iotca_der_expect(&x, IOTCA_DER_OCTET_STRING, &val) != IOTCA_OK)
            IOTCA_BAIL(IOTCA_E_POLICY, "incorrectResponse: a malformed extension in the tls-alpn-01 certificate");
        iotca_tlv inner;
        if (oid.val.len == sizeof OID_ACME_IDENTIFIER && memcmp(oid.val.p, OID_ACME_IDENTIFIER, oid.val.len) == 0) {
            /* RFC 8737 §3: critical, extnValue an OCTET STRING of the 32-byte SHA-256 */
            id_ok = critical && crit.val.len == 1 && crit.val.p[0] == 0xff &&
                    iotca_der_single(val.val, IOTCA_DER_OCTET_STRING, &inner) == IOTCA_OK && inner.val.len == 32 &&
                    memcmp(inner.val.p, want, 32) == 0;
        } else if (oid.val.len == sizeof OID_SAN && memcmp(oid.val.p, OID_SAN, oid.val.len) == 0) {
            iotca_names n;
            san_ok = iotca_names_parse(val.val, &n) == IOTCA_OK && n.n_dns == 1 && n.n_ips == 0 && n.n_uris == 0 &&
                     n.n_other == 0 && strcasecmp(n.dns[0], name) == 0;
        }
    }
    IOTCA_ENSURE(san_ok, IOTCA_E_POLICY, "incorrectResponse: the tls-alpn-01 certificate does not name %s alone", name);
    IOTCA_ENSURE(id_ok, IOTCA_E_POLICY, "incorrectResponse: the tls-alpn-01 certificate's acmeIdentifier is missing, "
                                        "not critical, or not the key authorization's digest");
    return IOTCA_OK;
}

/* One handshake with ALPN acme-tls/1 on fd under the priority string prio; the peer's first certificate into *cert
 * (DER). *ku_violation: GnuTLS refused the certificate's keyUsage for the key exchange. */
static iotca_rc handshake(int fd, const char *name, const char *prio, iotca_buf *cert, bool *ku_violation) {
    gnutls_session_t s;
    gnutls_certificate_credentials_t cred;
    IOTCA_ENSURE(gnutls_certificate_allocate_credentials(&cred) == 0, IOTCA_E_POLICY, "tls: no TLS credentials");
    iotca_rc rc = IOTCA_OK;
    if (gnutls_init(&s, GNUTLS_CLIENT) != 0) {
        gnutls_certificate_free_credentials(cred);
        IOTCA_BAIL(IOTCA_E_POLICY, "tls: no TLS session");
    }
    gnutls_datum_t alpn = {(unsigned char *)"acme-tls/1", 10};
    if (gnutls_priority_set_direct(s, prio, NULL) != 0) gnutls_set_default_priority(s);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_server_name_set(s, GNUTLS_NAME_DNS, name, strlen(name));
    gnutls_alpn_set_protocols(s, &alpn, 1, GNUTLS_ALPN_MANDATORY);
    gnutls_transport_set_int(s, fd);
    gnutls_handshake_set_timeout(s, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
    int e;
    do e = gnutls_handshake(s);
    while (e < 0 && gnutls_error_is_fatal(e) == 0);
    gnutls_datum_t proto;
    unsigned n = 0;
    const gnutls_datum_t *peers = e == 0 ? gnutls_certificate_get_peers(s, &n) : NULL;
    *ku_violation = e == GNUTLS_E_KEY_USAGE_VIOLATION;
    if (e < 0) rc = iotca_error_set(IOTCA_E_POLICY, "tls: the handshake with %s failed: %s", name, gnutls_strerror(e));
    else if (gnutls_alpn_get_selected_protocol(s, &proto) != 0 || proto.size != 10 || memcmp(proto.data, "acme-tls/1", 10))
        rc = iotca_error_set(IOTCA_E_POLICY, "tls: %s did not choose ALPN acme-tls/1", name);
    else if (peers == NULL || n == 0) rc = iotca_error_set(IOTCA_E_POLICY, "tls: %s presented no certificate", name);
    else rc = iotca_buf_append(cert, peers[0].data, peers[0].size);
    if (e == 0) gnutls_bye(s, GNUTLS_SHUT_WR);
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(cred);
    return rc;
}

iotca_rc validate_tls_alpn01(const iotca_validate_config *cfg, const uint8_t *addr, size_t len, const char *ip,
                             const char *name, const char *key_authorization) {
    unsigned port = cfg->tls_port ? cfg->tls_port : 443, timeout = cfg->timeout_ms ? cfg->timeout_ms : 10000;
    /* The challenge certificate is self-made and checked below, never trusted, so its keyUsage is no reason to
     * refuse the handshake; GnuTLS 3.7 still refuses one that allows no signature (lego's: keyEncipherment only)
     * for an ECDHE exchange, so a second handshake offers TLS 1.2's RSA key exchange, which that key usage fits. */
    static const char *const prios[] = {"NORMAL:%DEBUG_ALLOW_KEY_USAGE_VIOLATIONS", "NORMAL:-VERS-TLS1.3:-KX-ALL:+RSA"};
    iotca_buf cert = {0};
    iotca_rc rc = IOTCA_OK;
    bool ku = true;
    for (size_t i = 0; i < 2 && ku; i++) {
        int fd = connect_to(addr, len, port, timeout);
        IOTCA_ENSURE(fd >= 0, IOTCA_E_POLICY, "connection: %s (%s) port %u: cannot connect", name, ip, port);
        iotca_buf_free(&cert);
        rc = handshake(fd, name, prios[i], &cert, &ku);
        close(fd);
    }
    uint8_t want[32];
    iotca_sha256(iotca_slice_of(key_authorization, strlen(key_authorization)), want);
    if (rc == IOTCA_OK) rc = check_certificate(iotca_buf_slice(&cert), name, want);
    iotca_buf_free(&cert);
    return rc;
}
