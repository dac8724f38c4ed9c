/* Unit tests for lib/ca/keystore.c's reading of an issuer record's key_ref: the RFC 7512 PKCS#11 URI
 * "pkcs11:token=LABEL;id=%xx..." a key on a token is recorded by (issue 26), and its refusals. */
#include <check.h>
#include <string.h>

#include "ca_internal.h"
#include "unit_run.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())

static char label[33];
static uint8_t id[IOTCA_TOKEN_ID_MAX];
static size_t n;

static void refused(const char *uri, const char *why) {
    ck_assert_msg(ca_key_uri_parse(uri, label, id, &n) == IOTCA_E_PARSE, "%s was accepted", uri);
    ck_assert_msg(strstr(iotca_error_detail(), why), "%s: '%s' lacks '%s'", uri, iotca_error_detail(), why);
}

START_TEST(a_uri_gives_its_token_and_id) {
    OK(ca_key_uri_parse("pkcs11:token=iotca-ca;id=%01%A2%ff", label, id, &n));
    ck_assert_str_eq(label, "iotca-ca");
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(id[0], 0x01);
    ck_assert_int_eq(id[1], 0xa2);
    ck_assert_int_eq(id[2], 0xff);
    /* a label with reserved characters, percent-encoded; attributes in any order; others ignored */
    OK(ca_key_uri_parse("pkcs11:id=%10;object=iotca%20issuer;token=CA%20%3B%20one", label, id, &n));
    ck_assert_str_eq(label, "CA ; one");
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(id[0], 0x10);
    /* 32 bytes of label and of id: the most */
    char uri[256] = "pkcs11:token=abcdefghijabcdefghijabcdefghij12;id=";
    for (int i = 0; i < 32; i++) strcat(uri, "%7e");
    OK(ca_key_uri_parse(uri, label, id, &n));
    ck_assert_uint_eq(strlen(label), 32);
    ck_assert_uint_eq(n, 32);
}
END_TEST

START_TEST(malformed_uris_are_refused) {
    refused("/var/lib/iotca/keys/issuer-default-1.key", "not a PKCS#11 URI");
    refused("pkcs11:", "token and id are required");
    refused("pkcs11:token=iotca", "token and id are required");
    refused("pkcs11:id=%01", "token and id are required");
    refused("pkcs11:token=;id=%01", "bad token label");
    refused("pkcs11:token=a%00b;id=%01", "bad token label"); /* a NUL inside the label */
    refused("pkcs11:token=iotca;id=", "token and id are required");
    refused("pkcs11:token=iotca;id=%0", "cut short");
    refused("pkcs11:token=iotca;id=%", "cut short");
    refused("pkcs11:token=iotca;id=%G1", "not two hex digits");
    refused("pkcs11:token;id=%01", "without '='");
    refused("pkcs11:token=abcdefghijabcdefghijabcdefghij123;id=%01", "too long"); /* 33 bytes of label */
    char uri[256] = "pkcs11:token=t;id=";
    for (int i = 0; i < 33; i++) strcat(uri, "%01");
    refused(uri, "too long");
}
END_TEST

int main(void) {
    Suite *su = suite_create("keystore");
    TCase *tc = tcase_create("uri");
    tcase_add_test(tc, a_uri_gives_its_token_and_id);
    tcase_add_test(tc, malformed_uris_are_refused);
    suite_add_tcase(su, tc);
    return unit_run(su);
}
