/* Profiles (SPEC §4): whether a request may be issued and exactly what goes into the certificate. No keys, no SQL. */
#ifndef IOTCA_POLICY_H
#define IOTCA_POLICY_H

#include "iotca/x509.h"

#define IOTCA_PROFILE_MAX_RULES 16

typedef enum iotca_subject_mode {
    IOTCA_SUBJECT_FROM_CSR, /* copy the CSR's subject DN byte for byte */
    IOTCA_SUBJECT_CN_ONLY,  /* rebuild a DN holding only the CSR's CN */
} iotca_subject_mode;

/* A named profile. Strings are owned by whoever built the profile (the
 * config loader) and must outlive it. */
typedef struct iotca_profile {
    const char *name;
    const char *issuer_group;
    unsigned key_types; /* bit (1u << iotca_key_type) per allowed type */
    long max_ttl;       /* seconds */
    long default_ttl;   /* seconds, <= max_ttl */
    unsigned eku;       /* IOTCA_EKU_* */
    unsigned key_usage; /* IOTCA_KU_* */
    const char *dns_suffixes[IOTCA_PROFILE_MAX_RULES]; /* "example.com" allows example.com and below */
    size_t n_dns_suffixes;
    bool allow_wildcards;
    iotca_ip ip_ranges[IOTCA_PROFILE_MAX_RULES];
    size_t n_ip_ranges;
    const char *uri_prefixes[IOTCA_PROFILE_MAX_RULES];
    size_t n_uri_prefixes;
    size_t max_names;           /* total SAN entries; 0 means IOTCA_SPEC_MAX_NAMES */
    bool require_san;           /* at least one SAN */
    bool cn_in_san;             /* the CN, if any, must equal one of the SANs (DNS or URI) */
    iotca_subject_mode subject; /* how the subject is formed */
    long bridge_max_ttl;        /* seconds; 0: no bridge certificates for this profile (issue 24) */
} iotca_profile;

/* Checks the profile itself (TTL order, non-empty name and group, key types,
 * sane rule lists). IOTCA_E_USAGE naming the field. */
iotca_rc iotca_profile_validate(const iotca_profile *p);
/* EST's CSR attributes for p (RFC 7030 §4.5.2, DER CsrAttrs appended to der): each key type it takes (id-ecPublicKey
 * with its curve, rsaEncryption with its size, id-Ed25519), the signature algorithm to sign the CSR with, and
 * extensionRequest when the profile requires subjectAltNames. */
iotca_rc iotca_profile_csrattrs(const iotca_profile *p, iotca_buf *der);

/* What a request asks for, taken from the CSR and the API call. A renewal names the certificate it renews:
 * with a CSR (a new key) the CSR is decided as any other; without one (csr NULL) the renewed certificate's
 * own subject, names and key are what is asked for again, under the same rules. */
typedef struct iotca_request {
    const iotca_csr *csr;       /* NULL only with renews */
    long ttl;                   /* seconds; 0 means the profile default */
    const iotca_cert *renews;   /* the certificate renewed, or NULL */
} iotca_request;

/* The policy's decision: what the certificate will say (the parts a profile
 * decides). Slices and strings point into req's CSR, names and the profile. */
typedef struct iotca_decision {
    iotca_buf subject; /* DER Name (owned) */
    iotca_names names;
    time_t not_before, not_after;
    unsigned eku, key_usage;
    /* what the request asked for and what it got, so a caller can say when a leaf was cut short: the TTL
     * asked (the request's, or the profile's default), the TTL granted (notAfter - now), and whether the
     * issuer's notAfter is what cut it (SPEC §3: a leaf never outlives its issuer) */
    long ttl_asked, ttl_granted;
    bool capped_by_issuer;
} iotca_decision;
void iotca_decision_free(iotca_decision *d);

/* Decides req under profile p at time now, with the issuer's notAfter as a
 * ceiling (a leaf never outlives its issuer). On refusal returns
 * IOTCA_E_POLICY with a detail of the form "profile P: rule R: why", naming
 * the rule broken (key_types, ttl, san.dns, san.wildcard, san.ip, san.uri,
 * san.count, san.required, san.other, subject.cn). */
iotca_rc iotca_policy_decide(const iotca_profile *p, const iotca_request *req, time_t now, time_t issuer_not_after,
                             iotca_decision *out);

/* Whether profile p allows these names (its SAN rules: count, DNS syntax and suffixes, wildcards, IP ranges, URI
 * prefixes), before any CSR exists: an ACME order's identifiers (RFC 8555 §7.4). IOTCA_E_POLICY "profile P:
 * rule R: why" as iotca_policy_decide says it. */
iotca_rc iotca_policy_check_names(const iotca_profile *p, const iotca_names *names);

/* Fills a certificate spec's policy-owned fields from a decision. */
void iotca_decision_apply(const iotca_decision *d, iotca_cert_spec *spec);

/* Parses a duration "90d", "12h", "30m", "3600s" or plain seconds.
 * IOTCA_E_USAGE on anything else or <= 0 or over 100 years. */
iotca_rc iotca_duration_parse(const char *s, long *seconds);
/* Writes a duration as people read TTLs: "90 days", "1 day", "2 days 12 hours", "36 minutes", "1 second"
 * (the largest units, at most two, the rest dropped when days are given). Returns out. */
#define IOTCA_DURATION_TEXT 96
const char *iotca_duration_format(long seconds, char out[IOTCA_DURATION_TEXT]);

#endif
