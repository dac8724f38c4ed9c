/* How iotcad checks ACME challenges (RFC 8555 §8.3 http-01, §8.4 dns-01): names looked up with c-ares at the
 * resolvers the config names (or the system's), HTTP with libcurl to the address that lookup gave and nowhere else,
 * only to addresses the config allows, in bounded time and size. The one module of iotcad that makes outbound
 * connections (libcurl and c-ares belong to it alone in the daemon). */
#ifndef IOTCA_VALIDATE_H
#define IOTCA_VALIDATE_H

#include "iotca/acme_records.h"
#include "iotca/x509.h"

#define IOTCA_VALIDATE_MAX_RANGES 16
typedef struct iotca_validate_config {
    char resolvers[256];   /* c-ares servers "ip:port,ip:port" ("" = the system's, /etc/resolv.conf) */
    unsigned http_port;    /* where http-01 connects (RFC 8555: 80; test networks: any) */
    unsigned tls_port;     /* where tls-alpn-01 connects (RFC 8737: 443) */
    iotca_ip allowed[IOTCA_VALIDATE_MAX_RANGES]; /* the address ranges validation may reach; none: any address but */
    size_t n_allowed;                            /* loopback, link-local and unspecified ones */
    unsigned timeout_ms;   /* for each lookup and each connection (default 10000) */
} iotca_validate_config;

/* Checks one challenge (an iotca_acme_validator; ctx is a const iotca_validate_config *). http-01: GET
 * http://identifier:http_port/.well-known/acme-challenge/token to an allowed address identifier resolves to (A,
 * then AAAA), the body (at most 8 KiB, trailing whitespace ignored, no redirects followed) exactly the key
 * authorization. dns-01: a TXT record at _acme-challenge.identifier that is base64url(SHA-256(key authorization)).
 * IOTCA_OK, or IOTCA_E_POLICY with a detail starting with the ACME error type: "dns: ..." (no such name, no TXT,
 * the resolver failed), "rejectedIdentifier: ..." (only addresses the config does not allow), "connection: ..."
 * (refused, timed out, not HTTP 200), "incorrectResponse: ..." (another body or TXT value). tls-alpn-01 (RFC 8737):
 * a TLS handshake (GnuTLS) to tls_port with SNI the name and ALPN acme-tls/1, whose certificate names the name alone
 * and carries a critical acmeIdentifier with SHA-256 of the key authorization ("tls: ..." when the handshake
 * fails). */
iotca_rc iotca_validate_challenge(void *ctx, iotca_acme_challenge_type type, const char *identifier, const char *token,
                                  const char *key_authorization);

/* Whether addr (4 or 16 bytes) may be reached under cfg. */
bool iotca_validate_address_allowed(const iotca_validate_config *cfg, const uint8_t *addr, size_t len);

#endif
