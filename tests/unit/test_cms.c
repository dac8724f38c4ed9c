/* lib/issuer's certs-only CMS (cms.h): the certificates in the caller's order, no signer, no content; the
 * counts and certificates it refuses. openssl and certtool read the same bytes from EST's /cacerts in
 * tests/integration. */
#include <check.h>
#include <string.h>
#include <time.h>

#include "unit_run.h"
#include "iotca/cms.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
#define NOW ((time_t)1800000000)
#define DAY 86400L
#define YEAR (365L * DAY)
#include "fleet_fixture.h"

/* id-signedData, RFC 5652 §5.1: 1.2.840.113549.1.7.2 */
static const uint8_t SIGNED_DATA[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};

START_TEST(three_in_order) {
    made r1, r2, x, leaf;
    fixture_make(&r1, "CMS Root R1", NULL, (how){.ca = true, .path_len = -1});
    fixture_make(&r2, "CMS Root R2", NULL, (how){.ca = true, .path_len = -1});
    fixture_make(&x, "CMS Root R2", &r1, (how){.ca = true, .path_len = -1, .key_of = &r2});
    fixture_make(&leaf, "leaf", &r2, (how){.path_len = -1});
    iotca_slice certs[] = {iotca_buf_slice(&r1.der), iotca_buf_slice(&x.der), iotca_buf_slice(&r2.der),
                           iotca_buf_slice(&leaf.der)};
    iotca_buf der = {0};
    OK(iotca_cms_certs_only(certs, 4, &der));
    ck_assert_uint_eq(der.data[0], 0x30);
    ck_assert_msg(memmem(der.data, 24, SIGNED_DATA, sizeof SIGNED_DATA) != NULL, "no id-signedData at the start");
    const uint8_t *at = der.data;
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *p = memmem(at, der.len - (size_t)(at - der.data), certs[i].p, certs[i].len);
        ck_assert_msg(p != NULL, "certificate %zu missing or out of order", i + 1);
        at = p + certs[i].len;
    }
    /* after the certificates: no CRLs, and signerInfos an empty SET, the end of the message */
    ck_assert_uint_eq((size_t)(der.data + der.len - at), 2);
    ck_assert_uint_eq(at[0], 0x31);
    ck_assert_uint_eq(at[1], 0x00);
    iotca_buf_free(&der);
    unmake(&r1), unmake(&r2), unmake(&x), unmake(&leaf);
}
END_TEST

START_TEST(appends) {
    made r1;
    fixture_make(&r1, "CMS Root R1", NULL, (how){.ca = true, .path_len = -1});
    iotca_slice one = iotca_buf_slice(&r1.der);
    iotca_buf der = {0};
    OK(iotca_buf_append(&der, (const uint8_t *)"xy", 2));
    OK(iotca_cms_certs_only(&one, 1, &der));
    ck_assert(memcmp(der.data, "xy", 2) == 0 && der.data[2] == 0x30);
    ck_assert(memmem(der.data, der.len, one.p, one.len) != NULL);
    iotca_buf_free(&der);
    unmake(&r1);
}
END_TEST

START_TEST(refusals) {
    made r1;
    fixture_make(&r1, "CMS Root R1", NULL, (how){.ca = true, .path_len = -1});
    iotca_slice certs[IOTCA_CMS_MAX_CERTS + 1];
    for (size_t i = 0; i <= IOTCA_CMS_MAX_CERTS; i++) certs[i] = iotca_buf_slice(&r1.der);
    iotca_buf der = {0};
    ck_assert_int_eq(iotca_cms_certs_only(certs, 0, &der), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_cms_certs_only(certs, IOTCA_CMS_MAX_CERTS + 1, &der), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_cms_certs_only(NULL, 1, &der), IOTCA_E_USAGE);
    /* a second "certificate" that is not one: refused, named by its place */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    certs[1] = iotca_slice_of(junk, sizeof junk);
    ck_assert_int_eq(iotca_cms_certs_only(certs, 2, &der), IOTCA_E_PARSE);
    ck_assert_msg(strstr(iotca_error_detail(), "certificate 2") != NULL, "%s", iotca_error_detail());
    certs[1] = iotca_slice_of(junk, 0);
    ck_assert_int_eq(iotca_cms_certs_only(certs, 2, &der), IOTCA_E_PARSE);
    ck_assert_uint_eq(der.len, 0); /* nothing appended on a refusal */
    iotca_buf_free(&der);
    unmake(&r1);
}
END_TEST

int main(void) {
    Suite *s = suite_create("cms");
    TCase *tc = tcase_create("certs-only");
    tcase_add_test(tc, three_in_order);
    tcase_add_test(tc, appends);
    tcase_add_test(tc, refusals);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
