/* Unit tests for lib/fleet: every trust-store lint rule fires when it should and stays quiet otherwise. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iotca/fleet.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
#define NOW ((time_t)1800000000)
#define YEAR (365L * 86400)

typedef struct made {
    iotca_key *key;
    iotca_buf der, name;
    uint8_t skid[20];
} made;

/* A certificate named cn, signed by `by` (NULL: self-signed), valid until not_after. */
static void make(made *m, const char *cn, const made *by, bool ca, time_t not_after, iotca_nc_mode nc) {
    memset(m, 0, sizeof *m);
    OK(iotca_key_generate(IOTCA_KEY_ECDSA_P256, &m->key));
    OK(iotca_name_build(NULL, NULL, NULL, cn, &m->name));
    iotca_buf spki = {0};
    OK(iotca_key_spki(m->key, &spki));
    OK(iotca_skid_from_spki(iotca_buf_slice(&spki), m->skid));
    uint8_t serial[IOTCA_SERIAL_LEN];
    OK(iotca_serial_random(serial));
    iotca_cert_spec s = {0};
    s.serial = iotca_slice_of(serial, sizeof serial);
    s.subject = iotca_buf_slice(&m->name);
    s.issuer = by ? iotca_buf_slice(&by->name) : s.subject;
    s.spki = iotca_buf_slice(&spki);
    s.issuer_skid = iotca_slice_of(by ? by->skid : m->skid, 20);
    s.not_before = NOW - YEAR;
    s.not_after = not_after;
    s.is_ca = ca;
    s.path_len = ca && by ? 0 : -1;
    s.key_usage = ca ? IOTCA_KU_KEY_CERT_SIGN | IOTCA_KU_CRL_SIGN : IOTCA_KU_DIGITAL_SIGNATURE;
    s.nc_mode = nc;
    if (nc != IOTCA_NC_NONE) s.permit_dns[s.n_permit_dns++] = "example.com";
    OK(iotca_cert_sign(&s, by ? by->key : m->key, &m->der));
    iotca_buf_free(&spki);
}

static void unmake(made *m) {
    iotca_key_free(m->key);
    iotca_buf_free(&m->der);
    iotca_buf_free(&m->name);
}

static made r1, r2, r3, old_root, inter, inter_nc, inter_nc_soft, inter_r3, leaf;

static void setup(void) {
    make(&r1, "Root R1", NULL, true, NOW + 25 * YEAR, IOTCA_NC_NONE);
    make(&r2, "Root R2", NULL, true, NOW + 25 * YEAR, IOTCA_NC_NONE);
    make(&r3, "Root R3 (not on devices)", NULL, true, NOW + 25 * YEAR, IOTCA_NC_NONE);
    make(&old_root, "Old Root", NULL, true, NOW + 2 * YEAR, IOTCA_NC_NONE);
    make(&inter, "Issuing CA 1", &r1, true, NOW + 3 * YEAR, IOTCA_NC_NONE);
    make(&inter_nc, "Issuing CA NC", &r1, true, NOW + 3 * YEAR, IOTCA_NC_CRITICAL);
    make(&inter_nc_soft, "Issuing CA NC soft", &r1, true, NOW + 3 * YEAR, IOTCA_NC_NONCRITICAL);
    make(&inter_r3, "Issuing CA under R3", &r3, true, NOW + 3 * YEAR, IOTCA_NC_NONE);
    make(&leaf, "device-1", &inter, false, NOW + YEAR, IOTCA_NC_NONE);
}

static void teardown(void) {
    made *all[] = {&r1, &r2, &r3, &old_root, &inter, &inter_nc, &inter_nc_soft, &inter_r3, &leaf};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) unmake(all[i]);
}

static bool has(const iotca_lint_report *r, const char *code) {
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->findings[i].code, code) == 0) return true;
    return false;
}

#define S(m) iotca_buf_slice(&(m).der)

START_TEST(two_roots_are_clean) {
    iotca_slice store[] = {S(r1), S(r2)}, served[] = {S(inter)};
    iotca_lint_report rep;
    OK(iotca_lint_trust_store(store, 2, served, 1, IOTCA_STACK_MBEDTLS, NOW, NOW + 10 * YEAR, &rep));
    ck_assert_msg(rep.n == 0, "unexpected finding: %s %s", rep.n ? rep.findings[0].code : "", rep.n ? rep.findings[0].message : "");
}
END_TEST

START_TEST(pinned_intermediate_and_leaf) {
    iotca_slice store[] = {S(inter), S(leaf)};
    iotca_lint_report rep;
    OK(iotca_lint_trust_store(store, 2, NULL, 0, IOTCA_STACK_OPENSSL, NOW, 0, &rep));
    ck_assert_uint_eq(rep.errors, 2);
    ck_assert(has(&rep, "store.not_root"));
    ck_assert_ptr_nonnull(strstr(rep.findings[0].message, "breaks at the next rotation"));
    ck_assert_str_eq(rep.findings[0].subject, "CN=Issuing CA 1");
    ck_assert_ptr_nonnull(strstr(rep.findings[1].message, "leaf"));
    ck_assert(!has(&rep, "store.single_root")); /* no root at all is reported as not_root, not single */
}
END_TEST

START_TEST(single_root) {
    iotca_slice store[] = {S(r1)};
    iotca_lint_report rep;
    OK(iotca_lint_trust_store(store, 1, NULL, 0, IOTCA_STACK_OPENSSL, NOW, 0, &rep));
    ck_assert(has(&rep, "store.single_root"));
    ck_assert_uint_eq(rep.errors, 1);
}
END_TEST

START_TEST(root_expiring_before_end_of_life) {
    iotca_slice store[] = {S(r1), S(old_root)};
    iotca_lint_report rep;
    OK(iotca_lint_trust_store(store, 2, NULL, 0, IOTCA_STACK_OPENSSL, NOW, NOW + 5 * YEAR, &rep));
    ck_assert(has(&rep, "root.expires"));
    ck_assert_str_eq(rep.findings[0].subject, "CN=Old Root");
    /* an end of life before the root's expiry is fine */
    OK(iotca_lint_trust_store(store, 2, NULL, 0, IOTCA_STACK_OPENSSL, NOW, NOW + YEAR, &rep));
    ck_assert_uint_eq(rep.n, 0);
    /* and once the root has expired it is an error whatever the end of life */
    OK(iotca_lint_trust_store(store, 2, NULL, 0, IOTCA_STACK_OPENSSL, NOW + 3 * YEAR, 0, &rep));
    ck_assert(has(&rep, "root.expires"));
    ck_assert_ptr_nonnull(strstr(rep.findings[0].message, "expired"));
}
END_TEST

START_TEST(critical_name_constraints_per_stack) {
    iotca_slice store[] = {S(r1), S(r2)}, served[] = {S(inter_nc)}, soft[] = {S(inter_nc_soft)};
    iotca_lint_report rep;
    OK(iotca_lint_trust_store(store, 2, served, 1, IOTCA_STACK_MBEDTLS, NOW, 0, &rep));
    ck_assert(has(&rep, "chain.critical_ext"));
    ck_assert_ptr_nonnull(strstr(rep.findings[0].message, "mbedTLS"));
    OK(iotca_lint_trust_store(store, 2, served, 1, IOTCA_STACK_BEARSSL, NOW, 0, &rep));
    ck_assert(has(&rep, "chain.critical_ext"));
    OK(iotca_lint_trust_store(store, 2, served, 1, IOTCA_STACK_OPENSSL, NOW, 0, &rep));
    ck_assert_uint_eq(rep.n, 0); /* OpenSSL processes nameConstraints */
    OK(iotca_lint_trust_store(store, 2, soft, 1, IOTCA_STACK_MBEDTLS, NOW, 0, &rep));
    ck_assert_uint_eq(rep.n, 0); /* the embedded-safe choice of SPEC §3 */
}
END_TEST

START_TEST(served_chain_without_anchor) {
    iotca_slice store[] = {S(r1), S(r2)}, served[] = {S(inter_r3)};
    iotca_lint_report rep;
    OK(iotca_lint_trust_store(store, 2, served, 1, IOTCA_STACK_OPENSSL, NOW, 0, &rep));
    ck_assert(has(&rep, "chain.no_anchor"));
    ck_assert_str_eq(rep.findings[0].subject, "CN=Issuing CA under R3");
}
END_TEST

START_TEST(refusals) {
    iotca_lint_report rep;
    OK(iotca_lint_trust_store(NULL, 0, NULL, 0, IOTCA_STACK_OPENSSL, NOW, 0, &rep));
    ck_assert(has(&rep, "store.empty"));
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    iotca_slice bad[] = {iotca_slice_of(junk, sizeof junk)};
    ck_assert_int_eq(iotca_lint_trust_store(bad, 1, NULL, 0, IOTCA_STACK_OPENSSL, NOW, 0, &rep), IOTCA_E_PARSE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "trust store certificate 1"));
    iotca_stack st;
    OK(iotca_stack_parse("openssl102", &st));
    ck_assert_int_eq(st, IOTCA_STACK_OPENSSL102);
    ck_assert_str_eq(iotca_stack_name(IOTCA_STACK_BEARSSL), "bearssl");
    ck_assert_int_eq(iotca_stack_parse("gnutls", &st), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_stack_parse(NULL, &st), IOTCA_E_USAGE);
}
END_TEST

int main(void) {
    Suite *s = suite_create("fleet");
    TCase *tc = tcase_create("lint");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, two_roots_are_clean);
    tcase_add_test(tc, pinned_intermediate_and_leaf);
    tcase_add_test(tc, single_root);
    tcase_add_test(tc, root_expiring_before_end_of_life);
    tcase_add_test(tc, critical_name_constraints_per_stack);
    tcase_add_test(tc, served_chain_without_anchor);
    tcase_add_test(tc, refusals);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
