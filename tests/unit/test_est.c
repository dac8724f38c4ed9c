/* EST's pure parts (ca_est.h): enrollment secret hashes (salted, checked in constant time, their form), the
 * application/pkcs10 body's base64 and HTTP Basic credentials, each with what it refuses. The endpoints
 * themselves: tests/integration/test_est.sh. */
#include <check.h>
#include <string.h>

#include "unit_run.h"
#include "iotca/ca_est.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
#define S(str) iotca_slice_of(str, strlen(str))

START_TEST(secret_hash_round_trip) {
    char h1[IOTCA_EST_HASH_MAX], h2[IOTCA_EST_HASH_MAX];
    OK(iotca_est_secret_hash(S("correct horse battery"), 10000, h1));
    OK(iotca_est_secret_hash(S("correct horse battery"), 10000, h2));
    ck_assert_str_ne(h1, h2); /* salted */
    ck_assert_int_eq(strncmp(h1, "pbkdf2-sha256$10000$", 20), 0);
    OK(iotca_est_hash_check_form(h1));
    ck_assert(iotca_est_secret_matches(S("correct horse battery"), h1));
    ck_assert(iotca_est_secret_matches(S("correct horse battery"), h2));
    ck_assert(!iotca_est_secret_matches(S("correct horse batterY"), h1));
    ck_assert(!iotca_est_secret_matches(S(""), h1));
    /* one hex digit of the hash changed: no match */
    size_t n = strlen(h1);
    h1[n - 1] = h1[n - 1] == '0' ? '1' : '0';
    ck_assert(!iotca_est_secret_matches(S("correct horse battery"), h1));
}
END_TEST

START_TEST(secret_hash_refusals) {
    char h[IOTCA_EST_HASH_MAX];
    ck_assert_int_eq(iotca_est_secret_hash(S("short"), 10000, h), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_est_secret_hash(S("long enough secret"), 9999, h), IOTCA_E_USAGE);
    static const char *const bad[] = {
        "",
        "hunter2hunter2",
        "pbkdf2-sha1$100000$000102030405060708090a0b0c0d0e0f$00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "pbkdf2-sha256$999$000102030405060708090a0b0c0d0e0f$00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "pbkdf2-sha256$100000$0001020304050607$00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "pbkdf2-sha256$100000$000102030405060708090a0b0c0d0e0f$00112233",
        "pbkdf2-sha256$100000$000102030405060708090a0b0c0d0e0g$00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "pbkdf2-sha256$x$000102030405060708090a0b0c0d0e0f$00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(iotca_est_hash_check_form(bad[i]) == IOTCA_E_PARSE, "accepted: %s", bad[i]);
        ck_assert(!iotca_est_secret_matches(S("anything at all"), bad[i]));
    }
    ck_assert(!iotca_est_secret_matches(S("anything at all"), NULL));
}
END_TEST

START_TEST(body) {
    iotca_buf der = {0};
    /* base64 of 30 03 02 01 05 with line breaks and spaces where RFC 8951 allows them */
    OK(iotca_est_body_decode(S("MAM\r\nCAQU= \n"), &der));
    ck_assert_uint_eq(der.len, 5);
    ck_assert_uint_eq(der.data[0], 0x30);
    iotca_buf_free(&der);
    ck_assert_int_eq(iotca_est_body_decode(S("MAM*CAQU="), &der), IOTCA_E_PARSE);
    iotca_buf_free(&der);
    ck_assert_int_eq(iotca_est_body_decode(S("aGVsbG8="), &der), IOTCA_E_PARSE); /* "hello" */
    ck_assert_msg(strstr(iotca_error_detail(), "PKCS#10") != NULL, "%s", iotca_error_detail());
    iotca_buf_free(&der);
    ck_assert_int_eq(iotca_est_body_decode(S(""), &der), IOTCA_E_PARSE);
    iotca_buf_free(&der);
    ck_assert_int_eq(iotca_est_body_decode(S("MA=M"), &der), IOTCA_E_PARSE); /* data after padding */
    iotca_buf_free(&der);
}
END_TEST

START_TEST(basic) {
    iotca_buf cred = {.secret = true};
    iotca_slice user, pass;
    OK(iotca_est_basic_parse("Basic ZGV2OnMzY3I6ZXQ=", &cred, &user, &pass)); /* dev:s3cr:et */
    ck_assert(user.len == 3 && memcmp(user.p, "dev", 3) == 0);
    ck_assert(pass.len == 7 && memcmp(pass.p, "s3cr:et", 7) == 0); /* only the first colon splits */
    iotca_buf_free(&cred);
    OK(iotca_est_basic_parse("basic ZGV2Og==", &cred, &user, &pass)); /* the scheme in any case; "dev:" */
    ck_assert_uint_eq(pass.len, 0);
    iotca_buf_free(&cred);
    static const char *const bad[] = {"Bearer ZGV2OnM=", "Basic", "Basic ZGV2", "Basic ***", "ZGV2OnM="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(iotca_est_basic_parse(bad[i], &cred, &user, &pass) == IOTCA_E_PARSE, "accepted %s", bad[i]);
        iotca_buf_free(&cred);
    }
    ck_assert_int_eq(iotca_est_basic_parse(NULL, &cred, &user, &pass), IOTCA_E_PARSE);
    char big[2100];
    memcpy(big, "Basic ", 6);
    memset(big + 6, 'A', sizeof big - 7);
    big[sizeof big - 1] = 0;
    ck_assert_int_eq(iotca_est_basic_parse(big, &cred, &user, &pass), IOTCA_E_PARSE);
    iotca_buf_free(&cred);
}
END_TEST

int main(void) {
    Suite *s = suite_create("est");
    TCase *tc = tcase_create("est");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, secret_hash_round_trip);
    tcase_add_test(tc, secret_hash_refusals);
    tcase_add_test(tc, body);
    tcase_add_test(tc, basic);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
