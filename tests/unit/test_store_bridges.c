/* Unit tests for lib/store's bridge certificates (schema 0020, bridges.c): a bridge row only for a recorded
 * certificate of its issuer, once; its fields checked; listed with the certificate's profile and status until
 * its notAfter, oldest first. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit_run.h"
#include "store_fixture.h"

static int64_t issuer;
static const uint8_t cert_der[] = {0x30, 0x06, 0x02, 0x01, 0x02, 0x00, 0xff, 0x7f};

static void setup(void) {
    store_fixture_open("bridges");
    issuer = store_fixture_issuer("int1");
}

static void teardown(void) { store_fixture_close(); }

/* A recorded certificate of the issuer, with serial and notAfter. */
static void certificate(const char *serial, const char *profile, time_t not_after) {
    OK(iotca_store_serial_reserve(s, serial, issuer, T0));
    iotca_cert_rec c = {0};
    snprintf(c.serial, sizeof c.serial, "%s", serial);
    c.issuer_id = issuer;
    snprintf(c.profile, sizeof c.profile, "%s", profile);
    snprintf(c.subject, sizeof c.subject, "CN=updates.example.com");
    c.der = iotca_buf_borrow(cert_der, sizeof cert_der);
    c.not_before = T0;
    c.not_after = not_after;
    c.created_at = T0;
    OK(iotca_store_cert_add(s, &c));
}

static iotca_bridge_rec bridge(const char *serial, const char *justification, time_t not_after, time_t created) {
    iotca_bridge_rec b = {0};
    snprintf(b.serial, sizeof b.serial, "%s", serial);
    b.issuer_id = issuer;
    snprintf(b.justification, sizeof b.justification, "%s", justification);
    snprintf(b.actor, sizeof b.actor, "token:0123456789abcdef");
    b.not_after = not_after;
    b.created_at = created;
    return b;
}

START_TEST(bridges_recorded_and_listed_until_they_expire) {
    certificate("40aa01", "firmware-endpoint", T0 + 3 * 86400);
    certificate("40aa02", "firmware-endpoint", T0 + 86400);
    certificate("40aa03", "other", T0 + 2 * 86400);
    iotca_bridge_rec b1 = bridge("40aa01", "devices pinned int1", T0 + 3 * 86400, T0 + 5);
    iotca_bridge_rec b2 = bridge("40aa02", "second endpoint", T0 + 86400, T0 + 1);
    OK(iotca_store_bridge_add(s, &b1));
    OK(iotca_store_bridge_add(s, &b2));
    OK(iotca_store_cert_revoke(s, "40aa02", 4, T0 + 10));
    iotca_bridge_rec *list = NULL;
    size_t n = 0;
    OK(iotca_store_bridge_list(s, T0 + 100, &list, &n));
    ck_assert_uint_eq(n, 2); /* 40aa03 is a certificate, not a bridge */
    ck_assert_str_eq(list[0].serial, "40aa02"); /* oldest first */
    ck_assert(list[0].revoked);
    ck_assert_str_eq(list[1].serial, "40aa01");
    ck_assert(!list[1].revoked);
    ck_assert_str_eq(list[1].justification, "devices pinned int1");
    ck_assert_str_eq(list[1].actor, "token:0123456789abcdef");
    ck_assert_str_eq(list[1].profile, "firmware-endpoint");
    ck_assert_int_eq(list[1].issuer_id, issuer);
    ck_assert_int_eq(list[1].not_after, T0 + 3 * 86400);
    ck_assert_int_eq(list[1].created_at, T0 + 5);
    free(list);
    /* at 40aa02's notAfter it is gone from the list; at 40aa01's, the list is empty */
    OK(iotca_store_bridge_list(s, T0 + 86400, &list, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].serial, "40aa01");
    free(list);
    OK(iotca_store_bridge_list(s, T0 + 3 * 86400, &list, &n));
    ck_assert_uint_eq(n, 0);
    free(list);
}
END_TEST

START_TEST(bridge_refusals) {
    certificate("40bb01", "firmware-endpoint", T0 + 86400);
    iotca_bridge_rec b = bridge("40bb01", "why", T0 + 86400, T0);
    OK(iotca_store_bridge_add(s, &b));
    REFUSED(iotca_store_bridge_add(s, &b), IOTCA_E_POLICY, "is a bridge already");
    iotca_bridge_rec none = bridge("40bb02", "why", T0 + 86400, T0); /* no such certificate */
    REFUSED(iotca_store_bridge_add(s, &none), IOTCA_E_POLICY, "no such certificate");
    iotca_bridge_rec other = b;
    snprintf(other.serial, sizeof other.serial, "40bb03");
    certificate("40bb03", "firmware-endpoint", T0 + 86400);
    other.issuer_id = issuer + 1; /* another issuer's */
    REFUSED(iotca_store_bridge_add(s, &other), IOTCA_E_POLICY, "no such certificate of issuer");
    iotca_bridge_rec empty = bridge("40bb03", "", T0 + 86400, T0);
    REFUSED(iotca_store_bridge_add(s, &empty), IOTCA_E_USAGE, "justification must be 1 to 200 bytes");
    iotca_bridge_rec noactor = bridge("40bb03", "why", T0 + 86400, T0);
    noactor.actor[0] = 0;
    REFUSED(iotca_store_bridge_add(s, &noactor), IOTCA_E_USAGE, "actor");
    iotca_bridge_rec unterminated = bridge("40bb03", "why", T0 + 86400, T0);
    memset(unterminated.justification, 'x', sizeof unterminated.justification);
    REFUSED(iotca_store_bridge_add(s, &unterminated), IOTCA_E_USAGE, "justification");
    iotca_bridge_rec badserial = bridge("not-hex", "why", T0 + 86400, T0);
    ck_assert_int_eq(iotca_store_bridge_add(s, &badserial), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_bridge_add(NULL, &b), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_bridge_list(s, T0, NULL, NULL), IOTCA_E_USAGE);
    iotca_bridge_rec *list = NULL;
    size_t n = 0;
    OK(iotca_store_bridge_list(s, T0, &list, &n));
    ck_assert_uint_eq(n, 1); /* only the first */
    free(list);
}
END_TEST

int main(void) {
    Suite *su = suite_create("store_bridges");
    TCase *tc = tcase_create("bridges");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bridges_recorded_and_listed_until_they_expire);
    tcase_add_test(tc, bridge_refusals);
    suite_add_tcase(su, tc);
    return unit_run(su);
}
