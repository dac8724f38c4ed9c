/* Unit tests for renewal (lib/ca/renew.c through the issuance cycle of issue.c) and for what an issuance says
 * it did: a successor with the same key or a CSR's, the same subject, names and profile, recorded as renewing
 * its predecessor; refusals of a revoked or unknown certificate and of a CSR asking for other names, with
 * nothing recorded; the profile's rules and the TBS lint applied again; asked and granted TTLs; known
 * profiles named. */
#include "unit_run.h"
#include "iotca/pem.h"

#include "ca_fixture.h"
#include "ca_internal.h" /* the test seam (iotca_ca.tbs_hook): a renewal's TBS goes through the lint */

/* A fresh key's CSR for subject CN=cn and the DNS names given, PEM; its SubjectPublicKeyInfo in *spki. */
static void make_csr(const char *cn, const char *const *dns, size_t n, iotca_buf *pem, iotca_buf *spki) {
    iotca_key *k = NULL;
    iotca_buf subject = {0}, der = {0};
    iotca_names *names = calloc(1, sizeof *names);
    ck_assert_ptr_nonnull(names);
    for (size_t i = 0; i < n; i++) snprintf(names->dns[names->n_dns++], sizeof names->dns[0], "%s", dns[i]);
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &k));
    OK(iotca_name_build(NULL, NULL, NULL, cn, &subject));
    OK(iotca_csr_build_names(k, iotca_buf_slice(&subject), names, &der));
    OK(iotca_pem_encode("CERTIFICATE REQUEST", der.data, der.len, pem));
    if (spki) OK(iotca_key_spki(k, spki));
    iotca_key_free(k);
    iotca_buf_free(&subject);
    iotca_buf_free(&der);
    free(names);
}

/* The certificate of an issuance, parsed (the caller frees it). */
static iotca_cert *leaf_of(const iotca_issued *is) {
    iotca_buf der = {0};
    iotca_cert *c = NULL;
    OK(iotca_pem_or_der(iotca_buf_slice(&is->cert_pem), "CERTIFICATE", &der));
    OK(iotca_cert_parse(iotca_buf_slice(&der), &c));
    iotca_buf_free(&der);
    return c;
}

/* How many certificates are recorded. */
static size_t recorded(fixture *f) {
    iotca_cert_filter all = {.status = -1, .limit = 1000};
    iotca_cert_rec *list = NULL;
    size_t n = 0;
    OK(iotca_ca_cert_list(f->ca, &all, &list, &n));
    for (size_t i = 0; i < n; i++) iotca_cert_rec_free(&list[i]);
    free(list);
    return n;
}

/* Issues the first certificate: CN a.example.com, DNS a.example.com and b.example.com. */
static void first(fixture *f, iotca_issued *out, iotca_buf *spki) {
    static const char *const dns[] = {"a.example.com", "b.example.com"};
    iotca_buf pem = {0};
    make_csr("a.example.com", dns, 2, &pem, spki);
    OK(iotca_ca_issue(f->ca, iotca_buf_slice(&pem), "fw", 10 * DAY, out));
    iotca_buf_free(&pem);
}

START_TEST(same_key) {
    fixture f;
    setup(&f);
    iotca_issued one, two;
    iotca_buf spki = {0};
    first(&f, &one, &spki);
    OK(iotca_ca_renew(f.ca, one.serial, iotca_slice_of("", 0), 0, NULL, &two));
    ck_assert_str_ne(two.serial, one.serial);
    ck_assert_str_eq(two.renews, one.serial);
    iotca_cert *a = leaf_of(&one), *b = leaf_of(&two);
    const iotca_cert_info *ai = iotca_cert_get(a), *bi = iotca_cert_get(b);
    ck_assert(iotca_slice_eq(ai->spki, bi->spki));       /* the same key */
    ck_assert(iotca_slice_eq(ai->subject, bi->subject)); /* the same subject, byte for byte */
    ck_assert(iotca_slice_eq(ai->san, bi->san));         /* the same names */
    ck_assert_uint_eq(bi->eku, ai->eku);
    OK(iotca_cert_verify_signed_by(b, f.issuer_cert));
    /* the profile's default this time, not the first one's 10 days */
    ck_assert_int_eq(two.ttl_asked, 30 * DAY);
    ck_assert_int_eq(two.ttl_granted, 30 * DAY);
    ck_assert(!two.capped_by_issuer);
    /* recorded as renewing it, and found from either side */
    iotca_cert_rec rec = {0};
    OK(iotca_ca_cert_get(f.ca, two.serial, &rec));
    ck_assert_str_eq(rec.renews, one.serial);
    ck_assert_str_eq(rec.profile, "fw");
    OK(iotca_ca_cert_get(f.ca, one.serial, &rec));
    ck_assert_str_eq(rec.renewed_by, two.serial);
    ck_assert_str_eq(rec.renews, "");
    iotca_cert_rec_free(&rec);
    iotca_cert_free(a);
    iotca_cert_free(b);
    iotca_issued_free(&one);
    iotca_issued_free(&two);
    iotca_buf_free(&spki);
    teardown(&f);
}
END_TEST

START_TEST(new_key_from_a_csr) {
    fixture f;
    setup(&f);
    iotca_issued one, two;
    iotca_buf spki = {0}, spki2 = {0}, pem = {0};
    first(&f, &one, &spki);
    static const char *const reordered[] = {"B.example.com", "a.example.com"}; /* any order, DNS without case */
    make_csr("a.example.com", reordered, 2, &pem, &spki2);
    OK(iotca_ca_renew(f.ca, one.serial, iotca_buf_slice(&pem), 5 * DAY, NULL, &two));
    iotca_cert *b = leaf_of(&two);
    ck_assert(iotca_slice_eq(iotca_cert_get(b)->spki, iotca_buf_slice(&spki2))); /* the CSR's key */
    ck_assert_int_eq(two.ttl_asked, 5 * DAY);
    ck_assert_str_eq(two.renews, one.serial);
    iotca_cert_free(b);
    iotca_issued_free(&one);
    iotca_issued_free(&two);
    iotca_buf_free(&spki);
    iotca_buf_free(&spki2);
    iotca_buf_free(&pem);
    teardown(&f);
}
END_TEST

/* A renewal refused with category rc and a detail holding want; nothing more is recorded. */
static void renew_refused(fixture *f, const char *serial, iotca_slice csr, long ttl, iotca_rc rc, const char *want) {
    size_t before = recorded(f);
    iotca_issued out;
    iotca_rc got = iotca_ca_renew(f->ca, serial, csr, ttl, NULL, &out);
    ck_assert_msg(got == rc, "expected %s, got %s: %s", iotca_rc_name(rc), iotca_rc_name(got), iotca_error_detail());
    ck_assert_msg(strstr(iotca_error_detail(), want) != NULL, "'%s' does not say '%s'", iotca_error_detail(), want);
    ck_assert_uint_eq(recorded(f), before);
}

START_TEST(refusals) {
    fixture f;
    setup(&f);
    iotca_issued one;
    iotca_buf spki = {0}, pem = {0};
    first(&f, &one, &spki);
    /* a CSR asking for another name, one name fewer, or another subject */
    static const char *const other[] = {"a.example.com", "c.example.com"}, *const fewer[] = {"a.example.com"};
    make_csr("a.example.com", other, 2, &pem, NULL);
    renew_refused(&f, one.serial, iotca_buf_slice(&pem), 0, IOTCA_E_USAGE, "asks for DNS:c.example.com");
    iotca_buf_clear(&pem);
    make_csr("a.example.com", fewer, 1, &pem, NULL);
    renew_refused(&f, one.serial, iotca_buf_slice(&pem), 0, IOTCA_E_USAGE, "lacks DNS:b.example.com");
    iotca_buf_clear(&pem);
    static const char *const same[] = {"a.example.com", "b.example.com"};
    make_csr("b.example.com", same, 2, &pem, NULL);
    renew_refused(&f, one.serial, iotca_buf_slice(&pem), 0, IOTCA_E_USAGE, "keeps its subject");
    /* the profile's rules as for any issuance, the TTL said in days */
    renew_refused(&f, one.serial, iotca_slice_of("", 0), 31 * DAY, IOTCA_E_POLICY,
                  "TTL of 31 days exceeds the maximum of 30 days");
    /* a malformed CSR is a parse error, not a renewal with the old key */
    renew_refused(&f, one.serial, iotca_slice_of("junk", 4), 0, IOTCA_E_PARSE, "");
    /* unknown, then revoked */
    renew_refused(&f, "0123456789abcdef", iotca_slice_of("", 0), 0, IOTCA_E_USAGE, "no certificate with serial");
    OK(iotca_ca_cert_revoke(f.ca, one.serial, IOTCA_REASON_KEY_COMPROMISE, NULL));
    renew_refused(&f, one.serial, iotca_slice_of("", 0), 0, IOTCA_E_POLICY, "is revoked");
    iotca_issued_free(&one);
    iotca_buf_free(&spki);
    iotca_buf_free(&pem);
    teardown(&f);
}
END_TEST

/* The TBS hook: rebuilds the TBS with another first DNS name, as a builder mistake would (the fixture's root
 * key has the issuer key's type, so the same signature algorithm). */
static int hook_calls;
static iotca_rc other_name(void *arg, const iotca_cert_spec *spec, iotca_buf *tbs) {
    fixture *f = arg;
    hook_calls++;
    iotca_cert_spec copy = *spec;
    copy.dns[0] = "evil.example.com";
    iotca_buf alg = {0}, rebuilt = {0};
    iotca_rc rc = iotca_key_sigalg(f->root_key, &alg);
    if (rc == IOTCA_OK) rc = iotca_cert_tbs(&copy, iotca_buf_slice(&alg), &rebuilt);
    iotca_buf_free(&alg);
    if (rc != IOTCA_OK) {
        iotca_buf_free(&rebuilt);
        return rc;
    }
    iotca_buf_free(tbs);
    *tbs = rebuilt;
    return IOTCA_OK;
}

START_TEST(renewal_is_linted) {
    fixture f;
    setup(&f);
    iotca_issued one, two;
    iotca_buf spki = {0};
    first(&f, &one, &spki);
    f.ca->tbs_hook = other_name;
    f.ca->tbs_hook_arg = &f;
    iotca_ca_stats before, after;
    iotca_ca_stats_get(f.ca, &before);
    renew_refused(&f, one.serial, iotca_slice_of("", 0), 0, IOTCA_E_INTERNAL, "lint: rule san:");
    ck_assert_int_eq(hook_calls, 1); /* built and linted as any issuance, and refused before signing */
    iotca_ca_stats_get(f.ca, &after);
    ck_assert_uint_eq(after.refused, before.refused + 1);
    ck_assert_uint_eq(after.issued, before.issued);
    f.ca->tbs_hook = NULL;
    OK(iotca_ca_renew(f.ca, one.serial, iotca_slice_of("", 0), 0, NULL, &two));
    iotca_issued_free(&one);
    iotca_issued_free(&two);
    iotca_buf_free(&spki);
    teardown(&f);
}
END_TEST

START_TEST(unknown_profile_names_the_known_ones) {
    fixture f;
    setup(&f);
    iotca_buf pem = {0};
    static const char *const dns[] = {"a.example.com"};
    make_csr("a.example.com", dns, 1, &pem, NULL);
    iotca_issued out;
    ck_assert_int_eq(iotca_ca_issue(f.ca, iotca_buf_slice(&pem), "firmware", 0, &out), IOTCA_E_USAGE);
    ck_assert_msg(strstr(iotca_error_detail(), "unknown profile 'firmware' (known profiles: fw)") != NULL, "%s",
                  iotca_error_detail());
    char names[64];
    ck_assert_str_eq(iotca_ca_profile_names(f.ca, NULL, names, sizeof names), "fw");
    ck_assert_str_eq(iotca_ca_profile_names(f.ca, "device,other", names, sizeof names), "none");
    ck_assert_str_eq(iotca_ca_profile_names(f.ca, "device,fw", names, sizeof names), "fw");
    iotca_buf_free(&pem);
    teardown(&f);
}
END_TEST

int main(void) {
    Suite *s = suite_create("renew");
    TCase *tc = tcase_create("renew");
    tcase_set_timeout(tc, 240); /* generous for valgrind */
    tcase_add_test(tc, same_key);
    tcase_add_test(tc, new_key_from_a_csr);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, renewal_is_linted);
    tcase_add_test(tc, unknown_profile_names_the_known_ones);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
