/* EST's pure parts (ca_est.h): enrollment secret hashes (salted, checked in constant time, their form), the
 * application/pkcs10 body's base64, HTTP Basic credentials and the TLS channel binding in a CSR's
 * challengePassword (openssl-made CSRs in tests/data), each with what it refuses. The endpoints
 * themselves: tests/integration/test_est.sh. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "unit_run.h"
#include "iotca/ca_est.h"
#include "iotca/file.h"
#include "iotca/pem.h"
#include "iotca/x509.h"

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

/* A CSR from tests/data (PEM, as openssl req made it) into buf. */
static iotca_slice data_csr(const char *name, iotca_buf *buf) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", IOTCA_TEST_DATA, name);
    OK(iotca_file_read(path, 1 << 16, buf));
    return iotca_buf_slice(buf);
}

/* The three CSRs carry challengePassword "AAECAwQFBgcICQoL", the base64 of the bytes 00..0b, as a UTF8String, a
 * PrintableString and an IA5String; csr-p256.pem carries none. */
START_TEST(channel_binding) {
    uint8_t cb[12];
    for (size_t i = 0; i < sizeof cb; i++) cb[i] = (uint8_t)i;
    iotca_slice binding = iotca_slice_of(cb, sizeof cb), none = iotca_slice_of(cb, 0);
    iotca_buf utf8 = {0}, printable = {0}, ia5 = {0}, plain = {0};
    iotca_slice u = data_csr("csr-cb-utf8.pem", &utf8), p = data_csr("csr-cb-printable.pem", &printable);
    iotca_slice i5 = data_csr("csr-cb-ia5.pem", &ia5), n = data_csr("csr-p256.pem", &plain);
    iotca_csr *c = NULL;
    OK(iotca_csr_parse(u, &c));
    const iotca_csr_info *ci = iotca_csr_get(c);
    ck_assert(ci->has_challenge_password && ci->challenge_password.len == 16);
    ck_assert_int_eq(memcmp(ci->challenge_password.p, "AAECAwQFBgcICQoL", 16), 0);
    iotca_csr_free(c);
    /* the binding matches, whichever of the two string types carries it; required or not */
    OK(iotca_est_channel_binding_check(u, binding, "tls-unique", false));
    OK(iotca_est_channel_binding_check(u, binding, "tls-unique", true));
    OK(iotca_est_channel_binding_check(p, binding, "tls-unique", true));
    /* another connection's binding: one bit, a byte short, a byte more */
    cb[5] ^= 0x40;
    ck_assert_int_eq(iotca_est_channel_binding_check(u, binding, "tls-exporter", false), IOTCA_E_POLICY);
    ck_assert_msg(strstr(iotca_error_detail(), "tls-exporter") != NULL, "%s", iotca_error_detail());
    cb[5] ^= 0x40;
    ck_assert_int_eq(iotca_est_channel_binding_check(u, iotca_slice_of(cb, 11), "tls-unique", false), IOTCA_E_POLICY);
    uint8_t longer[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    ck_assert_int_eq(iotca_est_channel_binding_check(u, iotca_slice_of(longer, 13), "tls-unique", false),
                     IOTCA_E_POLICY);
    /* a binding sent where the connection has none (plain HTTP) */
    ck_assert_int_eq(iotca_est_channel_binding_check(u, none, "tls-unique", false), IOTCA_E_POLICY);
    /* no challengePassword: accepted unless the profile requires the binding */
    OK(iotca_est_channel_binding_check(n, binding, "tls-unique", false));
    ck_assert_int_eq(iotca_est_channel_binding_check(n, binding, "tls-unique", true), IOTCA_E_POLICY);
    ck_assert_msg(strstr(iotca_error_detail(), "requires") != NULL, "%s", iotca_error_detail());
    /* a challengePassword as IA5String is no DirectoryString: the CSR is refused as malformed */
    ck_assert_int_eq(iotca_csr_parse(i5, &c), IOTCA_E_PARSE);
    ck_assert_int_eq(iotca_est_channel_binding_check(i5, binding, "tls-unique", false), IOTCA_E_PARSE);
    /* the password changed after signing: the signature no longer verifies */
    iotca_buf der = {0};
    OK(iotca_pem_or_der(u, "CERTIFICATE REQUEST", &der));
    size_t at = 0;
    while (at + 16 <= der.len && memcmp(der.data + at, "AAECAwQFBgcICQoL", 16) != 0) at++;
    ck_assert_uint_lt(at + 16, der.len + 1);
    der.data[at] = 'B';
    ck_assert_int_eq(iotca_est_channel_binding_check(iotca_buf_slice(&der), binding, "tls-unique", false),
                     IOTCA_E_CRYPTO);
    iotca_buf_free(&der);
    iotca_buf_free(&utf8);
    iotca_buf_free(&printable);
    iotca_buf_free(&ia5);
    iotca_buf_free(&plain);
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
    tcase_add_test(tc, channel_binding);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
