/* Unit tests for lib/policy: every profile rule accepts what it should and refuses, by name, what it should not. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit_run.h"
#include "iotca/policy.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
#define NOW ((time_t)1800000000)
#define ISSUER_END (NOW + 400L * 86400)

static iotca_profile fw(void) {
    iotca_profile p = {0};
    p.name = "firmware-endpoint";
    p.issuer_group = "default";
    p.key_types = 1u << IOTCA_KEY_ECDSA_P256 | 1u << IOTCA_KEY_ED25519;
    p.max_ttl = 90 * 86400;
    p.default_ttl = 30 * 86400;
    p.eku = IOTCA_EKU_SERVER;
    p.dns_suffixes[p.n_dns_suffixes++] = "updates.example.com";
    p.uri_prefixes[p.n_uri_prefixes++] = "urn:dev:acme:";
    OK(iotca_ip_parse("10.0.0.0/8", &p.ip_ranges[p.n_ip_ranges++]));
    p.require_san = true;
    p.cn_in_san = true;
    return p;
}

/* A CSR for a fresh key of type t with subject CN=cn requesting the SANs in n, written as they are (the
 * bytes of each name are not checked: a requester may send anything). */
static iotca_csr *csr_names(iotca_key_type t, const char *cn, const iotca_names *n) {
    iotca_key *k;
    OK(iotca_key_generate(t, &k));
    iotca_buf name = {0}, der = {0};
    OK(iotca_name_build(NULL, "ACME", NULL, cn, &name));
    OK(iotca_csr_build_names(k, iotca_buf_slice(&name), n, &der));
    iotca_csr *c;
    OK(iotca_csr_parse(iotca_buf_slice(&der), &c));
    iotca_key_free(k);
    iotca_buf_free(&name);
    iotca_buf_free(&der);
    return c;
}

/* A CSR for a fresh key of type t with subject CN=cn and the given SANs. */
static iotca_csr *csr_for(iotca_key_type t, const char *cn, const char **dns, size_t nd, const char **ips, size_t ni,
                          const char **uris, size_t nu) {
    iotca_names n;
    memset(&n, 0, sizeof n);
    for (size_t i = 0; i < nd; i++) snprintf(n.dns[n.n_dns++], sizeof n.dns[0], "%s", dns[i]);
    for (size_t i = 0; i < ni; i++) OK(iotca_ip_parse(ips[i], &n.ips[n.n_ips++]));
    for (size_t i = 0; i < nu; i++) snprintf(n.uris[n.n_uris++], sizeof n.uris[0], "%s", uris[i]);
    return csr_names(t, cn, &n);
}

/* Decides and expects a refusal of the given category naming rule. */
static void refused_as(iotca_rc category, const iotca_profile *p, iotca_csr *c, long ttl, const char *rule) {
    iotca_request req = {c, ttl, NULL};
    iotca_decision d;
    iotca_rc rc = iotca_policy_decide(p, &req, NOW, ISSUER_END, &d);
    ck_assert_msg(rc == category, "expected refusal by %s, got %d (%s)", rule, rc, iotca_error_detail());
    char want[64];
    snprintf(want, sizeof want, "rule %s:", rule);
    ck_assert_msg(strstr(iotca_error_detail(), want) != NULL, "refusal '%s' does not name %s", iotca_error_detail(),
                  rule);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), p->name));
    iotca_csr_free(c);
}

/* Decides and expects a policy refusal naming rule. */
static void refused(const iotca_profile *p, iotca_csr *c, long ttl, const char *rule) {
    refused_as(IOTCA_E_POLICY, p, c, ttl, rule);
}

START_TEST(accepts_a_conforming_request) {
    iotca_profile p = fw();
    const char *dns[] = {"fw1.updates.example.com", "updates.example.com"}, *ips[] = {"10.1.2.3"},
               *uris[] = {"urn:dev:acme:fw1"};
    iotca_csr *c = csr_for(IOTCA_KEY_ECDSA_P256, "fw1.updates.example.com", dns, 2, ips, 1, uris, 1);
    iotca_request req = {c, 0, NULL};
    iotca_decision d;
    OK(iotca_policy_decide(&p, &req, NOW, ISSUER_END, &d));
    ck_assert_int_eq(d.not_after, NOW + 30 * 86400); /* default TTL */
    ck_assert_int_le(d.not_before, NOW);
    ck_assert_uint_eq(d.names.n_dns, 2);
    ck_assert_uint_eq(d.names.n_ips, 1);
    ck_assert_uint_eq(d.names.n_uris, 1);
    ck_assert_uint_eq(d.eku, IOTCA_EKU_SERVER);
    ck_assert_uint_eq(d.key_usage, IOTCA_KU_DIGITAL_SIGNATURE);
    ck_assert(iotca_slice_eq(iotca_buf_slice(&d.subject), iotca_csr_get(c)->subject)); /* from CSR, byte for byte */
    iotca_cert_spec s = {0};
    iotca_decision_apply(&d, &s);
    ck_assert(!s.is_ca);
    ck_assert_uint_eq(s.n_dns, 2);
    ck_assert_str_eq(s.dns[0], "fw1.updates.example.com");
    iotca_decision_free(&d);
    iotca_csr_free(c);
}
END_TEST

START_TEST(rule_key_types) {
    iotca_profile p = fw();
    const char *dns[] = {"a.updates.example.com"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P384, "a.updates.example.com", dns, 1, NULL, 0, NULL, 0), 0, "key_types");
}
END_TEST

START_TEST(rule_ttl) {
    iotca_profile p = fw();
    const char *dns[] = {"a.updates.example.com"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", dns, 1, NULL, 0, NULL, 0), 91 * 86400, "ttl");
    /* exactly the maximum is fine; the issuer's end caps the leaf */
    iotca_csr *c = csr_for(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", dns, 1, NULL, 0, NULL, 0);
    iotca_request req = {c, 90 * 86400, NULL};
    iotca_decision d;
    OK(iotca_policy_decide(&p, &req, NOW, NOW + 10 * 86400, &d));
    ck_assert_int_eq(d.not_after, NOW + 10 * 86400);
    /* and the decision says so: asked 90 days, granted 10, cut by the issuer */
    ck_assert(d.capped_by_issuer);
    ck_assert_int_eq(d.ttl_asked, 90 * 86400);
    ck_assert_int_eq(d.ttl_granted, 10 * 86400);
    iotca_decision_free(&d);
    OK(iotca_policy_decide(&p, &req, NOW, ISSUER_END, &d));
    ck_assert(!d.capped_by_issuer);
    ck_assert_int_eq(d.ttl_granted, 90 * 86400);
    iotca_decision_free(&d);
    /* an issuer already expired gives nothing */
    ck_assert_int_eq(iotca_policy_decide(&p, &req, NOW, NOW - 1, &d), IOTCA_E_POLICY);
    iotca_csr_free(c);
}
END_TEST

START_TEST(ttl_refusals_in_days) {
    iotca_profile p = fw();
    const char *dns[] = {"a.updates.example.com"};
    iotca_csr *c = csr_for(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", dns, 1, NULL, 0, NULL, 0);
    iotca_request req = {c, 400 * 86400, NULL};
    iotca_decision d;
    ck_assert_int_eq(iotca_policy_decide(&p, &req, NOW, ISSUER_END, &d), IOTCA_E_POLICY);
    ck_assert_msg(strstr(iotca_error_detail(), "TTL of 400 days exceeds the maximum of 90 days") != NULL, "%s",
                  iotca_error_detail());
    req.ttl = 90 * 86400 + 3600;
    ck_assert_int_eq(iotca_policy_decide(&p, &req, NOW, ISSUER_END, &d), IOTCA_E_POLICY);
    ck_assert_msg(strstr(iotca_error_detail(), "TTL of 90 days 1 hour exceeds") != NULL, "%s", iotca_error_detail());
    iotca_csr_free(c);
    /* neither a CSR nor a certificate to renew: nothing to decide */
    iotca_request none = {NULL, 0, NULL};
    ck_assert_int_eq(iotca_policy_decide(&p, &none, NOW, ISSUER_END, &d), IOTCA_E_USAGE);
}
END_TEST

START_TEST(durations_as_people_read_them) {
    char b[IOTCA_DURATION_TEXT];
    ck_assert_str_eq(iotca_duration_format(90 * 86400, b), "90 days");
    ck_assert_str_eq(iotca_duration_format(86400, b), "1 day");
    ck_assert_str_eq(iotca_duration_format(2 * 86400 + 12 * 3600 + 59, b), "2 days 12 hours");
    ck_assert_str_eq(iotca_duration_format(3600, b), "1 hour");
    ck_assert_str_eq(iotca_duration_format(36 * 60, b), "36 minutes");
    ck_assert_str_eq(iotca_duration_format(61, b), "1 minute 1 second");
    ck_assert_str_eq(iotca_duration_format(1, b), "1 second");
    ck_assert_str_eq(iotca_duration_format(0, b), "0 seconds");
    ck_assert_str_eq(iotca_duration_format(36525L * 86400, b), "36525 days");
}
END_TEST

START_TEST(rule_san_dns) {
    iotca_profile p = fw();
    const char *outside[] = {"evil.example.com"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "", outside, 1, NULL, 0, NULL, 0), 0, "san.dns");
    const char *suffix_trick[] = {"xupdates.example.com"}; /* not a subdomain, just a suffix */
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "", suffix_trick, 1, NULL, 0, NULL, 0), 0, "san.dns");
    const char *bad_syntax[] = {"a..updates.example.com"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "", bad_syntax, 1, NULL, 0, NULL, 0), 0, "san.dns");
    const char *underscore[] = {"a_b.updates.example.com"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "", underscore, 1, NULL, 0, NULL, 0), 0, "san.dns");
}
END_TEST

/* A requested name the SAN parser refuses for its bytes is refused under the rule of its kind, not as a
 * count: a DNS name with a control byte (0x01) or a non-ASCII one (UTF-8 'é', 0xC3 0xA9; RFC 5280 §4.2.1.6
 * wants the preferred name syntax, IDNs as A-labels), a URI with a control byte, an IP address of three
 * octets (a parse error, §4.2.1.6: four or sixteen). (More names of a kind than the parser holds stays
 * san.count: names_parse_limits.) */
START_TEST(rule_san_bad_bytes_named_by_kind) {
    iotca_profile p = fw();
    const char *ctl[] = {"a\x01.updates.example.com"}, *utf8[] = {"caf\xc3\xa9.updates.example.com"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "", ctl, 1, NULL, 0, NULL, 0), 0, "san.dns");
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "", utf8, 1, NULL, 0, NULL, 0), 0, "san.dns");
    const char *dns[] = {"a.updates.example.com"}, *uri[] = {"urn:dev:acme:\x01a"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", dns, 1, NULL, 0, uri, 1), 0, "san.uri");
    iotca_names n;
    memset(&n, 0, sizeof n);
    snprintf(n.dns[n.n_dns++], sizeof n.dns[0], "%s", dns[0]);
    n.ips[n.n_ips++] = (iotca_ip){.addr = {10, 1, 2}, .len = 3};
    refused_as(IOTCA_E_PARSE, &p, csr_names(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", &n), 0, "san.ip");
}
END_TEST

START_TEST(rule_san_wildcard) {
    iotca_profile p = fw();
    const char *wild[] = {"*.updates.example.com"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "", wild, 1, NULL, 0, NULL, 0), 0, "san.wildcard");
    p.allow_wildcards = true;
    p.cn_in_san = false;
    iotca_csr *c = csr_for(IOTCA_KEY_ECDSA_P256, "", wild, 1, NULL, 0, NULL, 0);
    iotca_request req = {c, 0, NULL};
    iotca_decision d;
    OK(iotca_policy_decide(&p, &req, NOW, ISSUER_END, &d));
    iotca_decision_free(&d);
    iotca_csr_free(c);
}
END_TEST

START_TEST(rule_san_ip_and_uri) {
    iotca_profile p = fw();
    const char *dns[] = {"a.updates.example.com"}, *ip[] = {"192.168.1.1"}, *v6[] = {"2001:db8::1"},
               *uri[] = {"urn:dev:other:1"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", dns, 1, ip, 1, NULL, 0), 0, "san.ip");
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", dns, 1, v6, 1, NULL, 0), 0, "san.ip");
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", dns, 1, NULL, 0, uri, 1), 0, "san.uri");
}
END_TEST

START_TEST(rule_san_required_and_count) {
    iotca_profile p = fw();
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", NULL, 0, NULL, 0, NULL, 0), 0, "san.required");
    p.max_names = 1;
    const char *two[] = {"a.updates.example.com", "b.updates.example.com"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "a.updates.example.com", two, 2, NULL, 0, NULL, 0), 0, "san.count");
}
END_TEST

START_TEST(rule_subject_cn) {
    iotca_profile p = fw();
    const char *dns[] = {"a.updates.example.com"};
    refused(&p, csr_for(IOTCA_KEY_ECDSA_P256, "b.updates.example.com", dns, 1, NULL, 0, NULL, 0), 0, "subject.cn");
    /* CN-only subject mode rebuilds a DN holding only the CN */
    p.subject = IOTCA_SUBJECT_CN_ONLY;
    p.cn_in_san = false;
    iotca_csr *c = csr_for(IOTCA_KEY_ECDSA_P256, "device-7", dns, 1, NULL, 0, NULL, 0);
    iotca_request req = {c, 0, NULL};
    iotca_decision d;
    OK(iotca_policy_decide(&p, &req, NOW, ISSUER_END, &d));
    iotca_buf f = {0};
    OK(iotca_name_format(iotca_buf_slice(&d.subject), &f));
    ck_assert_str_eq((char *)f.data, "CN=device-7"); /* O=ACME from the CSR dropped */
    iotca_buf_free(&f);
    iotca_decision_free(&d);
    iotca_csr_free(c);
    /* the CN may match a URI's last component (device ids) */
    p.subject = IOTCA_SUBJECT_FROM_CSR;
    p.cn_in_san = true;
    const char *uri[] = {"urn:dev:acme:device-7"};
    c = csr_for(IOTCA_KEY_ECDSA_P256, "device-7", NULL, 0, NULL, 0, uri, 1);
    req.csr = c;
    OK(iotca_policy_decide(&p, &req, NOW, ISSUER_END, &d));
    iotca_decision_free(&d);
    iotca_csr_free(c);
}
END_TEST

START_TEST(profile_validation) {
    iotca_profile p = fw();
    OK(iotca_profile_validate(&p));
    iotca_profile q = p;
    q.default_ttl = q.max_ttl + 1;
    ck_assert_int_eq(iotca_profile_validate(&q), IOTCA_E_USAGE);
    q = p;
    q.key_types = 0;
    ck_assert_int_eq(iotca_profile_validate(&q), IOTCA_E_USAGE);
    q = p;
    q.key_usage = IOTCA_KU_KEY_CERT_SIGN;
    ck_assert_int_eq(iotca_profile_validate(&q), IOTCA_E_USAGE);
    q = p;
    q.eku = 0;
    ck_assert_int_eq(iotca_profile_validate(&q), IOTCA_E_USAGE);
    q = p;
    q.issuer_group = "";
    ck_assert_int_eq(iotca_profile_validate(&q), IOTCA_E_USAGE);
}
END_TEST

START_TEST(durations) {
    long s;
    OK(iotca_duration_parse("90d", &s));
    ck_assert_int_eq(s, 90 * 86400);
    OK(iotca_duration_parse("12h", &s));
    ck_assert_int_eq(s, 12 * 3600);
    OK(iotca_duration_parse("3600", &s));
    ck_assert_int_eq(s, 3600);
    const char *bad[] = {"", "d", "0d", "-5d", "5w", "5dd", "1000000d", "ninety"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(iotca_duration_parse(bad[i], &s) == IOTCA_E_USAGE, "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(names_parse_limits) {
    /* a SAN with an embedded NUL or a space is refused, not truncated */
    static const uint8_t nul[] = {0x30, 0x07, 0x82, 0x05, 'a', 0x00, '.', 'i', 'o'};
    iotca_names n;
    ck_assert_int_eq(iotca_names_parse(iotca_slice_of(nul, sizeof nul), &n), IOTCA_E_POLICY);
    static const uint8_t empty[] = {0x30, 0x00};
    ck_assert_int_eq(iotca_names_parse(iotca_slice_of(empty, sizeof empty), &n), IOTCA_E_PARSE);
    static const uint8_t badip[] = {0x30, 0x05, 0x87, 0x03, 1, 2, 3};
    ck_assert_int_eq(iotca_names_parse(iotca_slice_of(badip, sizeof badip), &n), IOTCA_E_PARSE);
    static const uint8_t email[] = {0x30, 0x05, 0x81, 0x03, 'a', '@', 'b'};
    OK(iotca_names_parse(iotca_slice_of(email, sizeof email), &n));
    ck_assert_uint_eq(n.n_other, 1);
    ck_assert_int_eq(n.fault, IOTCA_NAMES_FAULT_NONE);
    /* what each refusal was for, so the policy can name its rule */
    ck_assert_int_eq(iotca_names_parse(iotca_slice_of(nul, sizeof nul), &n), IOTCA_E_POLICY);
    ck_assert_int_eq(n.fault, IOTCA_NAMES_FAULT_DNS);
    ck_assert_int_eq(iotca_names_parse(iotca_slice_of(badip, sizeof badip), &n), IOTCA_E_PARSE);
    ck_assert_int_eq(n.fault, IOTCA_NAMES_FAULT_IP);
    static const uint8_t uri[] = {0x30, 0x04, 0x86, 0x02, 'a', 0x7f};
    ck_assert_int_eq(iotca_names_parse(iotca_slice_of(uri, sizeof uri), &n), IOTCA_E_POLICY);
    ck_assert_int_eq(n.fault, IOTCA_NAMES_FAULT_URI);
    /* one DNS name more than a SAN may hold: a count refusal, under policy's san.count */
    uint8_t many[2 + 3 * (IOTCA_SPEC_MAX_NAMES + 1)] = {0x30, 3 * (IOTCA_SPEC_MAX_NAMES + 1)};
    for (int i = 0; i <= IOTCA_SPEC_MAX_NAMES; i++) memcpy(many + 2 + 3 * i, "\x82\x01" "a", 3);
    ck_assert_int_eq(iotca_names_parse(iotca_slice_of(many, sizeof many), &n), IOTCA_E_POLICY);
    ck_assert_int_eq(n.fault, IOTCA_NAMES_FAULT_COUNT);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "more than 32 DNS names"));
}
END_TEST

/* An ACME order's identifiers, judged before any CSR (iotca_policy_check_names): the profile's DNS suffixes,
 * wildcards and name count, each refusal naming its rule. */
START_TEST(names_checked_without_a_csr) {
    iotca_profile p = fw();
    iotca_names n = {0};
    snprintf(n.dns[n.n_dns++], sizeof n.dns[0], "fw1.updates.example.com");
    ck_assert_int_eq(iotca_policy_check_names(&p, &n), IOTCA_OK);
    snprintf(n.dns[n.n_dns++], sizeof n.dns[0], "evil.example.net");
    ck_assert_int_eq(iotca_policy_check_names(&p, &n), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "rule san.dns"));
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "evil.example.net"));
    n.n_dns = 1;
    snprintf(n.dns[0], sizeof n.dns[0], "*.updates.example.com");
    ck_assert_int_eq(iotca_policy_check_names(&p, &n), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "rule san.wildcard"));
    snprintf(n.dns[0], sizeof n.dns[0], "bad_name.updates.example.com");
    ck_assert_int_eq(iotca_policy_check_names(&p, &n), IOTCA_E_POLICY);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "not a valid DNS name"));
    ck_assert_int_eq(iotca_policy_check_names(NULL, &n), IOTCA_E_USAGE);
}
END_TEST

/* EST's csrattrs (RFC 7030 §4.5.2) from a profile: the exact DER for P-256 + Ed25519 with SANs required, and
 * for P-384 + RSA-3072 without; every item is an OID or an Attribute SEQUENCE. */
START_TEST(csrattrs_from_profile) {
    iotca_profile p = fw();
    iotca_buf der = {0};
    OK(iotca_profile_csrattrs(&p, &der));
    static const uint8_t want[] = {
        0x30, 0x31,                                                       /* CsrAttrs */
        0x30, 0x15, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, /* id-ecPublicKey */
        0x31, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, /* { prime256v1 } */
        0x06, 0x03, 0x2b, 0x65, 0x70,                                                 /* id-Ed25519 */
        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,                   /* ecdsa-with-SHA256 */
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};            /* extensionRequest */
    ck_assert_uint_eq(der.len, sizeof want);
    ck_assert_mem_eq(der.data, want, sizeof want);
    iotca_buf_free(&der);
    p.key_types = 1u << IOTCA_KEY_ECDSA_P384 | 1u << IOTCA_KEY_RSA_3072;
    p.require_san = false;
    OK(iotca_profile_csrattrs(&p, &der));
    static const uint8_t rsa[] = {0x30, 0x11, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
                                  0x31, 0x04, 0x02, 0x02, 0x0c, 0x00}; /* rsaEncryption { 3072 } */
    static const uint8_t p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
    ck_assert_ptr_nonnull(memmem(der.data, der.len, rsa, sizeof rsa));
    ck_assert_ptr_nonnull(memmem(der.data, der.len, p384, sizeof p384));
    static const uint8_t ext_req[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
    ck_assert_ptr_null(memmem(der.data, der.len, ext_req, sizeof ext_req));
    iotca_buf_free(&der);
    ck_assert_int_eq(iotca_profile_csrattrs(NULL, &der), IOTCA_E_USAGE);
}
END_TEST

int main(void) {
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, accepts_a_conforming_request);
    tcase_add_test(tc, names_checked_without_a_csr);
    tcase_add_test(tc, rule_key_types);
    tcase_add_test(tc, rule_ttl);
    tcase_add_test(tc, ttl_refusals_in_days);
    tcase_add_test(tc, durations_as_people_read_them);
    tcase_add_test(tc, rule_san_dns);
    tcase_add_test(tc, rule_san_bad_bytes_named_by_kind);
    tcase_add_test(tc, rule_san_wildcard);
    tcase_add_test(tc, rule_san_ip_and_uri);
    tcase_add_test(tc, rule_san_required_and_count);
    tcase_add_test(tc, rule_subject_cn);
    tcase_add_test(tc, profile_validation);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, names_parse_limits);
    tcase_add_test(tc, csrattrs_from_profile);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    return status;
}
