/* The EST service (RFC 7030; SPEC §10; issue 22): what server/est/ asks of the CA beyond the issuance cycle:
 * the certs-only CMS /cacerts serves, and the per-profile enrollment secrets, kept in the config only as a
 * salted PBKDF2 hash and checked in constant time. */
#ifndef IOTCA_CA_EST_H
#define IOTCA_CA_EST_H

#include "iotca/ca.h"

/* The trust anchors a device should hold (RFC 7030 §4.1.3): every configured root and, while it is valid at
 * now, every configured cross-certificate (a root rollover's NewWithOld, RFC 4210 §4.4), as a certs-only CMS
 * SignedData (DER, appended to der). */
iotca_rc iotca_ca_est_cacerts(iotca_ca *ca, time_t now, iotca_buf *der);

/* Every certificate cacerts holds at some time: the roots, then every configured cross-certificate whatever
 * its dates (DER pointing into ca, valid while it is open), at most max into out; the count. For fleet check's
 * devices that refresh their trust store from cacerts (iotca_fleet_check_refreshing). */
size_t iotca_ca_est_anchors(const iotca_ca *ca, iotca_slice *out, size_t max);

/* simplereenroll (§4.2.2): a successor of the certificate the device authenticated with (client_der, the TLS
 * client certificate), for csr (its subject and names must stay; the key may change), through iotca_ca_renew.
 * The certificate must be one this CA recorded (the same bytes), not revoked, issued under profile, and
 * unexpired at now, or expired for at most grace seconds (SPEC §10's offline devices: *in_grace is then set and
 * the audit action gets ".grace"). Refusals, IOTCA_E_POLICY, name the rule: "not issued by this CA", "revoked",
 * "issued under profile X", "expired D days ago, past the profile's grace of G days"; the rest as
 * iotca_ca_renew's. */
iotca_rc iotca_ca_est_reenroll(iotca_ca *ca, iotca_slice client_der, const char *profile, long grace, time_t now,
                               iotca_slice csr, const iotca_issue_audit *audit, iotca_issued *out, bool *in_grace);

/* serverkeygen (§4.4), for devices that cannot make keys: a new key of the profile's first allowed type is made
 * here, a CSR for it built with the subject and names of csr (whose own signature must verify: it proves the
 * request was made for this device), and issued through the audited cycle as any enrollment. The key as
 * unencrypted PKCS#8 DER into pkcs8 (a secret buffer the caller frees; the TLS channel protects it, §4.4.2).
 * Errors as iotca_ca_issue_audited's; IOTCA_E_PARSE a CSR that does not parse or verify. */
iotca_rc iotca_ca_est_serverkeygen(iotca_ca *ca, iotca_slice csr, const char *profile, const iotca_issue_audit *audit,
                                   iotca_issued *out, iotca_buf *pkcs8);

/* A bootstrap client certificate (SPEC §10: e.g. the factory's device identity) for simpleenroll: client_der must
 * be signed by one of the n CA certificates cas (DER; as configured, not this CA's roots) and valid at now. Its
 * subject (RFC 4514-ish text) into subject. IOTCA_E_POLICY naming why not ("not issued by a bootstrap CA",
 * "expired", "not yet valid"); IOTCA_E_PARSE a certificate that does not parse. */
iotca_rc iotca_est_bootstrap_check(iotca_slice client_der, const iotca_slice *cas, size_t n, time_t now,
                                   char subject[128]);

/* An application/pkcs10 body (§4.2.1): base64 (whitespace anywhere, RFC 8951 §3.1) of a DER SEQUENCE,
 * decoded into der. IOTCA_E_PARSE naming what is wrong; the CSR itself is judged by the issuance. */
iotca_rc iotca_est_body_decode(iotca_slice body, iotca_buf *der);
/* The credentials of an Authorization header's value "Basic B64" (RFC 7617): decoded into cred (a secret
 * buffer the caller frees), *user and *pass pointing into it. IOTCA_E_PARSE another scheme, bad base64, no
 * ':' or over 2048 characters. */
iotca_rc iotca_est_basic_parse(const char *value, iotca_buf *cred, iotca_slice *user, iotca_slice *pass);

/* The TLS channel binding of RFC 7030 §3.5: a CSR whose challengePassword is present must carry the base64 of
 * binding, the connection's own (tls-unique over TLS 1.2, tls-exporter over TLS 1.3 as RFC 9266 defines it; kind
 * names it in refusals; binding.len 0: the connection has none). Without one: refused when required, else
 * IOTCA_OK. IOTCA_E_POLICY naming the rule ("does not match this connection's tls-exporter", "the profile
 * requires ..."); IOTCA_E_PARSE a CSR that does not parse or verify. The comparison is constant-time. */
iotca_rc iotca_est_channel_binding_check(iotca_slice csr, iotca_slice binding, const char *kind, bool required);

#define IOTCA_EST_SECRET_ITERATIONS 100000
#define IOTCA_EST_HASH_MAX 160
/* An enrollment secret's stored form, "pbkdf2-sha256$ITERATIONS$SALT$HASH" (salt 16 random bytes and the
 * 32-byte PBKDF2-HMAC-SHA256 in hex), into out (IOTCA_EST_HASH_MAX bytes). IOTCA_E_USAGE a secret under 12 or
 * over 1024 bytes, or iterations under 10,000. */
iotca_rc iotca_est_secret_hash(iotca_slice secret, unsigned iterations, char out[IOTCA_EST_HASH_MAX]);
/* Whether hash is in that form (for the config): IOTCA_E_PARSE naming what is wrong. */
iotca_rc iotca_est_hash_check_form(const char *hash);
/* Whether secret is the one hash was made from (the comparison in constant time); false for a hash not in
 * that form. */
bool iotca_est_secret_matches(iotca_slice secret, const char *hash);

#endif
