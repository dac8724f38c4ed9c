/* The leaf lint: a second, independent reading of a leaf's TBSCertificate, checked against its issuer and
 * against what policy decided, before any key signs it (STYLE.md's issuance cycle).
 *
 * Boulder lints a twin of the certificate signed by a throwaway key, because its linter takes only signed
 * certificates. iotca's lint reads the TBS itself with the strict reader (cert_tbs_read), so no throwaway
 * signature is needed; what the issuer key later signs is those very bytes (iotca_cert_sign_tbs checks the
 * signed certificate's TBS against them). The builder (cert_build.c) and this reader share no code, so a
 * builder mistake shows up here as a refusal, not as a certificate. */
#include <stdio.h>
#include <string.h>

#include "cert_int.h"
#include "iotca/x509.h"

/* A refusal: IOTCA_E_INTERNAL (the CA built something it must not sign; nothing the requester did) naming the
 * rule as "lint: rule <id>: <what>". */
#define LINT_ENSURE(cond, rule, ...) IOTCA_ENSURE(cond, IOTCA_E_INTERNAL, "lint: rule " rule ": " __VA_ARGS__)

/* The SAN the TBS carries against the names the decision holds, kind by kind and in order (the builder writes
 * DNS names, then IP addresses, then URIs, each in the decision's order). RFC 5280 §4.2.1.6. */
static iotca_rc lint_san(const iotca_cert_info *l, const iotca_cert_spec *d) {
    if (d->n_dns + d->n_ips + d->n_uris == 0) {
        LINT_ENSURE(l->san.len == 0, "san", "unexpected SAN: the decision holds no names");
        return IOTCA_OK;
    }
    LINT_ENSURE(l->san.len > 0, "san", "SAN differs from the decision: the TBS has none");
    iotca_names n;
    iotca_rc rc = iotca_names_parse(l->san, &n);
    LINT_ENSURE(rc == IOTCA_OK, "san", "SAN differs from the decision: unreadable (%s)", iotca_error_detail());
    LINT_ENSURE(n.n_dns == d->n_dns && n.n_ips == d->n_ips && n.n_uris == d->n_uris && n.n_other == 0, "san",
                "SAN differs from the decision: %zu DNS, %zu IP, %zu URI, %zu other names instead of %zu, %zu, %zu",
                n.n_dns, n.n_ips, n.n_uris, n.n_other, d->n_dns, d->n_ips, d->n_uris);
    for (size_t i = 0; i < n.n_dns; i++)
        LINT_ENSURE(strcmp(n.dns[i], d->dns[i]) == 0, "san", "SAN differs from the decision: DNS name %zu", i + 1);
    for (size_t i = 0; i < n.n_ips; i++)
        LINT_ENSURE(n.ips[i].len == d->ips[i].len && memcmp(n.ips[i].addr, d->ips[i].addr, n.ips[i].len) == 0, "san",
                    "SAN differs from the decision: IP address %zu", i + 1);
    for (size_t i = 0; i < n.n_uris; i++)
        LINT_ENSURE(strcmp(n.uris[i], d->uris[i]) == 0, "san", "SAN differs from the decision: URI %zu", i + 1);
    return IOTCA_OK;
}

iotca_rc iotca_lint_leaf(iotca_slice tbs, const iotca_cert *issuer, const iotca_cert_spec *decided) {
    IOTCA_ENSURE(issuer != NULL && decided != NULL, IOTCA_E_USAGE, "iotca_lint_leaf: NULL argument");
    iotca_cert_info leaf;
    memset(&leaf, 0, sizeof leaf);
    iotca_rc rc = cert_tbs_read(tbs, &leaf);
    LINT_ENSURE(rc == IOTCA_OK, "parse", "the TBS does not read back: %s", iotca_error_detail());
    const iotca_cert_info *l = &leaf, *i = iotca_cert_get(issuer);
    /* RFC 5280 §4.2.1.9: cA only in CA certificates; §4.2.1.3: keyCertSign and cRLSign only with cA */
    LINT_ENSURE(!l->is_ca && !(l->key_usage & (IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN)), "ca",
                "leaf would be a CA");
    /* SPEC §3: a leaf's notAfter never exceeds its issuer's (RFC 5280 §6.1.3 (a)(2): a path is valid only
     * while every certificate on it is) */
    LINT_ENSURE(l->not_after <= i->not_after, "outlives_issuer", "leaf outlives its issuer");
    /* RFC 5280 §4.1.2.5: the validity period runs from notBefore to notAfter */
    LINT_ENSURE(l->not_before < l->not_after, "validity", "empty validity");
    /* RFC 5280 §4.1.2.4 and §6.1.3 (a)(4): the issuer field is the issuer's subject (byte for byte: BearSSL
     * and ESP-IDF compare with memcmp, SPEC §3) */
    LINT_ENSURE(iotca_slice_eq(l->issuer, i->subject), "issuer_name", "issuer name mismatch");
    /* RFC 5280 §4.2.1.1: the keyIdentifier is the issuer's subjectKeyIdentifier */
    LINT_ENSURE(iotca_slice_eq(l->akid, i->skid), "akid", "AKID does not match issuer SKID");
    /* RFC 5280 §4.1.2.2 and SPEC §3: the drawn serial, at least 64 bits of it */
    LINT_ENSURE(iotca_slice_eq(l->serial, decided->serial) && l->serial.len >= 8, "serial",
                "serial mismatch or under 64 bits");
    /* RFC 5280 §4.2: a relying party must reject a certificate with a critical extension it does not know */
    LINT_ENSURE(l->n_unknown_critical == 0, "critical", "unknown critical extension");
    /* RFC 5280 §4.2.1.12: the purposes the profile grants, no more and no fewer */
    LINT_ENSURE(l->eku == decided->eku && l->has_eku == (decided->eku != 0), "eku", "EKU differs from the profile");
    return lint_san(l, decided);
}
