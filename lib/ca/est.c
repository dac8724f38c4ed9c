/* EST's part of the CA (ca_est.h): the /cacerts bundle and the enrollment secrets' PBKDF2 hashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca_internal.h"
#include "iotca/ca_est.h"
#include "iotca/cms.h"
#include "iotca/pem.h"

iotca_rc iotca_ca_est_cacerts(iotca_ca *ca, time_t now, iotca_buf *der) {
    IOTCA_ENSURE(ca && der, IOTCA_E_USAGE, "iotca_ca_est_cacerts: NULL argument");
    iotca_slice certs[2 * CA_MAX_ROOTS];
    size_t n = 0;
    for (size_t i = 0; i < ca->n_roots; i++) certs[n++] = iotca_cert_get(ca->roots[i])->der;
    for (size_t i = 0; i < ca->n_cross; i++) {
        const iotca_cert_info *x = iotca_cert_get(ca->cross[i]);
        if (now >= x->not_before && now <= x->not_after) certs[n++] = x->der;
    }
    return iotca_cms_certs_only(certs, n, der);
}

size_t iotca_ca_est_anchors(const iotca_ca *ca, iotca_slice *out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < ca->n_roots && n < max; i++) out[n++] = iotca_cert_get(ca->roots[i])->der;
    for (size_t i = 0; i < ca->n_cross && n < max; i++) out[n++] = iotca_cert_get(ca->cross[i])->der;
    return n;
}

iotca_rc iotca_ca_est_reenroll(iotca_ca *ca, iotca_slice client_der, const char *profile, long grace, time_t now,
                               iotca_slice csr, const iotca_issue_audit *audit, iotca_issued *out, bool *in_grace) {
    IOTCA_ENSURE(ca && profile && audit && out && in_grace, IOTCA_E_USAGE, "iotca_ca_est_reenroll: NULL argument");
    *in_grace = false;
    iotca_cert *c = NULL;
    iotca_cert_rec rec = {0};
    char hex[41];
    iotca_rc rc = iotca_cert_parse(client_der, &c);
    if (rc == IOTCA_OK) rc = ca_serial_hex(iotca_cert_get(c)->serial, hex);
    if (rc == IOTCA_OK) rc = iotca_ca_cert_get(ca, hex, &rec);
    /* the very certificate this CA recorded: another CA's with the same serial is not it */
    if (rc == IOTCA_OK && !iotca_slice_eq(iotca_buf_slice(&rec.der), client_der)) rc = IOTCA_E_USAGE;
    if (rc == IOTCA_E_USAGE || rc == IOTCA_E_PARSE)
        rc = iotca_error_set(IOTCA_E_POLICY, "the client certificate was not issued by this CA");
    else if (rc == IOTCA_OK && rec.revoked)
        rc = iotca_error_set(IOTCA_E_POLICY, "the client certificate %s is revoked", hex);
    else if (rc == IOTCA_OK && strcmp(rec.profile, profile) != 0)
        rc = iotca_error_set(IOTCA_E_POLICY, "the client certificate was issued under profile %s, not %s",
                             rec.profile, profile);
    else if (rc == IOTCA_OK && now > rec.not_after && now - rec.not_after > grace)
        rc = iotca_error_set(IOTCA_E_POLICY, "the client certificate expired %lld days ago, past the profile's "
                                             "reenroll_grace of %ld days",
                             (long long)((now - rec.not_after) / 86400), grace / 86400);
    iotca_issue_audit a = *audit;
    char action[96];
    if (rc == IOTCA_OK && now > rec.not_after) { /* a device back from a shelf: renewed, and said so */
        *in_grace = true;
        snprintf(action, sizeof action, "%s.grace", audit->action);
        a.action = action;
    }
    if (rc == IOTCA_OK) rc = iotca_ca_renew(ca, hex, csr, 0, &a, out);
    iotca_cert_rec_free(&rec);
    iotca_cert_free(c);
    return rc;
}

iotca_rc iotca_ca_est_serverkeygen(iotca_ca *ca, iotca_slice csr, const char *profile, const iotca_issue_audit *audit,
                                   iotca_issued *out, iotca_buf *pkcs8) {
    IOTCA_ENSURE(ca && profile && audit && out && pkcs8, IOTCA_E_USAGE, "iotca_ca_est_serverkeygen: NULL argument");
    const iotca_profile *p = iotca_ca_profile(ca, profile);
    IOTCA_ENSURE(p != NULL, IOTCA_E_USAGE, "no profile %s", profile);
    iotca_key_type t = IOTCA_KEY_ECDSA_P256;
    while (t <= IOTCA_KEY_ED25519 && !(p->key_types & (1u << t))) t++;
    IOTCA_ENSURE(t <= IOTCA_KEY_ED25519, IOTCA_E_POLICY, "profile %s allows no key type", profile);
    iotca_csr *asked = NULL;
    iotca_key *key = NULL;
    iotca_names names;
    iotca_buf made = {0};
    iotca_rc rc = iotca_csr_parse(csr, &asked);
    if (rc == IOTCA_OK) rc = iotca_csr_names(asked, &names);
    if (rc == IOTCA_OK) rc = iotca_key_generate(t, &key);
    pkcs8->secret = true;
    /* the key's encoding before the issuance: no certificate is recorded for a key that cannot be handed over */
    if (rc == IOTCA_OK) rc = iotca_key_to_pkcs8(key, pkcs8);
    if (rc == IOTCA_OK) rc = iotca_csr_build_names(key, iotca_csr_get(asked)->subject, &names, &made);
    if (rc == IOTCA_OK) rc = iotca_ca_issue_audited(ca, iotca_buf_slice(&made), profile, 0, audit, out);
    if (rc != IOTCA_OK) iotca_buf_free(pkcs8);
    iotca_key_free(key);
    iotca_csr_free(asked);
    iotca_buf_free(&made);
    return rc;
}

iotca_rc iotca_est_bootstrap_check(iotca_slice client_der, const iotca_slice *cas, size_t n, time_t now,
                                   char subject[128]) {
    iotca_cert *c = NULL;
    IOTCA_GUARD(iotca_cert_parse(client_der, &c));
    const iotca_cert_info *ci = iotca_cert_get(c);
    bool signed_by_one = false;
    for (size_t i = 0; i < n && !signed_by_one; i++) {
        iotca_cert *ca = NULL;
        signed_by_one = iotca_cert_parse(cas[i], &ca) == IOTCA_OK && iotca_cert_verify_signed_by(c, ca) == IOTCA_OK;
        iotca_cert_free(ca);
    }
    iotca_rc rc = signed_by_one ? IOTCA_OK
                                : iotca_error_set(IOTCA_E_POLICY, "the client certificate was not issued by a "
                                                                  "bootstrap CA of this profile");
    if (rc == IOTCA_OK && now > ci->not_after)
        rc = iotca_error_set(IOTCA_E_POLICY, "the bootstrap certificate expired");
    if (rc == IOTCA_OK && now < ci->not_before)
        rc = iotca_error_set(IOTCA_E_POLICY, "the bootstrap certificate is not yet valid");
    iotca_buf s = {0};
    if (rc == IOTCA_OK && iotca_name_format(ci->subject, &s) == IOTCA_OK)
        snprintf(subject, 128, "%.*s", (int)s.len, (const char *)s.data);
    else if (rc == IOTCA_OK)
        snprintf(subject, 128, "?");
    iotca_buf_free(&s);
    iotca_cert_free(c);
    return rc;
}

iotca_rc iotca_est_channel_binding_check(iotca_slice csr, iotca_slice binding, const char *kind, bool required) {
    IOTCA_ENSURE(kind != NULL, IOTCA_E_USAGE, "iotca_est_channel_binding_check: NULL argument");
    iotca_csr *c = NULL;
    IOTCA_GUARD(iotca_csr_parse(csr, &c));
    const iotca_csr_info *ci = iotca_csr_get(c);
    iotca_buf sent = {0};
    iotca_rc rc = IOTCA_OK;
    if (!ci->has_challenge_password) {
        if (required)
            rc = iotca_error_set(IOTCA_E_POLICY, "the profile requires the TLS channel binding: the CSR's "
                                                 "challengePassword must be the base64 of this connection's %s "
                                                 "(RFC 7030 §3.5)",
                                 binding.len ? kind : "tls-unique or tls-exporter");
    } else if (binding.len == 0) {
        rc = iotca_error_set(IOTCA_E_POLICY, "the CSR carries a channel binding (challengePassword), but this "
                                             "connection has none to match it");
    } else if (iotca_base64_decode(ci->challenge_password, &sent) != IOTCA_OK || sent.len != binding.len ||
               !iotca_ct_equal(sent.data, binding.p, binding.len)) {
        rc = iotca_error_set(IOTCA_E_POLICY, "the CSR's challengePassword is not the base64 of this connection's "
                                             "%s (RFC 7030 §3.5): a request made on another TLS connection",
                             kind);
    }
    iotca_buf_free(&sent);
    iotca_csr_free(c);
    return rc;
}

iotca_rc iotca_est_body_decode(iotca_slice body, iotca_buf *der) {
    iotca_rc rc = iotca_base64_decode(body, der);
    IOTCA_ENSURE(rc == IOTCA_OK, IOTCA_E_PARSE, "the body is not base64: %s", iotca_error_detail());
    IOTCA_ENSURE(der->len > 0 && der->data[0] == 0x30, IOTCA_E_PARSE,
                 "the body is base64, but not of a DER PKCS#10 request");
    return IOTCA_OK;
}

iotca_rc iotca_est_basic_parse(const char *value, iotca_buf *cred, iotca_slice *user, iotca_slice *pass) {
    IOTCA_ENSURE(value && strncasecmp(value, "Basic ", 6) == 0 && strlen(value + 6) <= 2048, IOTCA_E_PARSE,
                 "an Authorization: Basic header with the profile's enrollment secret is required");
    const uint8_t *colon = NULL;
    if (iotca_base64_decode(iotca_slice_of(value + 6, strlen(value + 6)), cred) == IOTCA_OK)
        colon = memchr(cred->data, ':', cred->len);
    if (colon == NULL) return iotca_error_set(IOTCA_E_PARSE, "the Basic credentials are not base64 of user:secret");
    *user = iotca_slice_of(cred->data, (size_t)(colon - cred->data));
    *pass = iotca_slice_of(colon + 1, cred->len - user->len - 1);
    return IOTCA_OK;
}

/* The parts of "pbkdf2-sha256$ITER$SALTHEX$HASHHEX": false when it is not in that form. */
static bool split(const char *hash, unsigned *iter, iotca_buf *salt, iotca_buf *sum) {
    static const char pre[] = "pbkdf2-sha256$";
    if (hash == NULL || strncmp(hash, pre, sizeof pre - 1) != 0 || strlen(hash) >= IOTCA_EST_HASH_MAX) return false;
    const char *p = hash + sizeof pre - 1;
    char *end;
    unsigned long it = strtoul(p, &end, 10);
    if (end == p || *end != '$' || it < 10000 || it > 10000000) return false;
    const char *s = end + 1, *d = strchr(s, '$');
    if (d == NULL || d - s != 32 || strlen(d + 1) != 64) return false;
    char salt_hex[33];
    memcpy(salt_hex, s, 32);
    salt_hex[32] = 0;
    *iter = (unsigned)it;
    return iotca_hex_decode(salt_hex, salt) == IOTCA_OK && iotca_hex_decode(d + 1, sum) == IOTCA_OK &&
           salt->len == 16 && sum->len == 32;
}

iotca_rc iotca_est_secret_hash(iotca_slice secret, unsigned iterations, char out[IOTCA_EST_HASH_MAX]) {
    IOTCA_ENSURE(secret.len >= 12 && secret.len <= 1024, IOTCA_E_USAGE,
                 "an enrollment secret has 12 to 1024 bytes, not %zu", secret.len);
    IOTCA_ENSURE(iterations >= 10000 && iterations <= 10000000, IOTCA_E_USAGE, "PBKDF2 iterations: %u", iterations);
    uint8_t salt[16], sum[32];
    IOTCA_GUARD(iotca_random(salt, sizeof salt));
    IOTCA_GUARD(iotca_pbkdf2_sha256(secret, iotca_slice_of(salt, sizeof salt), iterations, sum, sizeof sum));
    iotca_buf hex = {0};
    iotca_rc rc = iotca_buf_printf(&hex, "pbkdf2-sha256$%u$", iterations);
    if (rc == IOTCA_OK) rc = iotca_hex_encode(salt, sizeof salt, &hex);
    if (rc == IOTCA_OK) rc = iotca_buf_append_byte(&hex, '$');
    if (rc == IOTCA_OK) rc = iotca_hex_encode(sum, sizeof sum, &hex);
    if (rc == IOTCA_OK) rc = iotca_buf_cstr(&hex);
    if (rc == IOTCA_OK) snprintf(out, IOTCA_EST_HASH_MAX, "%s", (const char *)hex.data);
    iotca_buf_free(&hex);
    iotca_wipe(sum, sizeof sum);
    return rc;
}

iotca_rc iotca_est_hash_check_form(const char *hash) {
    iotca_buf salt = {0}, sum = {0};
    unsigned iter;
    bool ok = split(hash, &iter, &salt, &sum);
    iotca_buf_free(&salt);
    iotca_buf_free(&sum);
    IOTCA_ENSURE(ok, IOTCA_E_PARSE,
                 "not an enrollment secret hash (pbkdf2-sha256$ITERATIONS$SALT$HASH, as iotcad est hash-secret "
                 "prints it)");
    return IOTCA_OK;
}

bool iotca_est_secret_matches(iotca_slice secret, const char *hash) {
    iotca_buf salt = {0}, sum = {0};
    unsigned iter = 0;
    uint8_t got[32];
    bool ok = split(hash, &iter, &salt, &sum) && secret.len <= 1024 &&
              iotca_pbkdf2_sha256(secret, iotca_buf_slice(&salt), iter, got, sizeof got) == IOTCA_OK &&
              iotca_ct_equal(got, sum.data, sizeof got);
    iotca_wipe(got, sizeof got);
    iotca_buf_free(&salt);
    iotca_buf_free(&sum);
    return ok;
}
