/* Unit tests for lib/store's rehearsals (schema 0021, rehearsals.c): leaves stored apart from the inventory, their
 * serials reserved in their issuer's space (atomically with the leaf, alone or inside a group commit), listed
 * newest first without DER, pruned once expired; results checked, the latest per (trust profile, scenario) listed,
 * and whether a scenario passed for an issuer's chain. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit_run.h"
#include "store_fixture.h"

static int64_t issuer;
static const uint8_t leaf_der[] = {0x30, 0x06, 0x02, 0x01, 0x07, 0x00, 0xff, 0x7f};

static void setup(void) {
    store_fixture_open("rehearsals");
    issuer = store_fixture_issuer("int1");
}

static void teardown(void) { store_fixture_close(); }

/* A leaf valid from T0 to not_after, made at `created`, with a borrowed DER. */
static iotca_rehearsal_leaf_rec leaf(const char *serial, const char *scenario, int64_t issuer_id, time_t not_after,
                                     time_t created) {
    iotca_rehearsal_leaf_rec l = {0};
    snprintf(l.serial, sizeof l.serial, "%s", serial);
    snprintf(l.scenario, sizeof l.scenario, "%s", scenario);
    l.issuer_id = issuer_id;
    l.not_before = T0;
    l.not_after = not_after;
    l.created_at = created;
    l.der = iotca_buf_borrow(leaf_der, sizeof leaf_der);
    return l;
}

static size_t leaf_count(time_t now) {
    iotca_rehearsal_leaf_rec *list = NULL;
    size_t n = 0;
    OK(iotca_store_rehearsal_leaf_list(s, now, &list, &n));
    free(list);
    return n;
}

/* Whether serial has a row in the serials table (iotca_store_serial_intent_get: "no serial" when not). */
static bool reserved(const char *serial) {
    iotca_serial_intent in;
    bool has = false;
    iotca_rc rc = iotca_store_serial_intent_get(s, serial, &in, &has);
    ck_assert_msg(rc == IOTCA_OK || strstr(iotca_error_detail(), "no serial"), "%s", iotca_error_detail());
    return rc == IOTCA_OK;
}

static iotca_rehearsal_result_rec result(const char *profile, const char *scenario, int64_t issuer_id, bool passed) {
    iotca_rehearsal_result_rec r = {0};
    snprintf(r.scenario, sizeof r.scenario, "%s", scenario);
    snprintf(r.trust_profile, sizeof r.trust_profile, "%s", profile);
    r.issuer_id = issuer_id;
    snprintf(r.serial, sizeof r.serial, "5e01");
    r.accepted = passed;
    r.passed = passed;
    snprintf(r.source, sizeof r.source, "report");
    snprintf(r.actor, sizeof r.actor, "token:0123456789abcdef");
    snprintf(r.note, sizeof r.note, "bench unit 7");
    r.at = T0;
    return r;
}

START_TEST(leaves_listed_newest_first_without_der) {
    iotca_rehearsal_leaf_rec a = leaf("7e01", "current", issuer, T0 + 3600, T0 + 1);
    iotca_rehearsal_leaf_rec b = leaf("7e02", "expired-leaf", 0, T0 + 60, T0 + 3);
    iotca_rehearsal_leaf_rec c = leaf("7e03", "next", issuer, T0 + 7200, T0 + 2);
    iotca_rehearsal_leaf_rec d = leaf("7e04", "change", 0, T0 + 7200, T0 + 2); /* same second as c: the greater serial first */
    OK(iotca_store_rehearsal_leaf_add(s, &a));
    OK(iotca_store_rehearsal_leaf_add(s, &b));
    OK(iotca_store_rehearsal_leaf_add(s, &c));
    OK(iotca_store_rehearsal_leaf_add(s, &d));
    iotca_rehearsal_leaf_rec *list = NULL;
    size_t n = 0;
    OK(iotca_store_rehearsal_leaf_list(s, 0, &list, &n)); /* now 0: all */
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(list[0].serial, "7e02");
    ck_assert_str_eq(list[1].serial, "7e04");
    ck_assert_str_eq(list[2].serial, "7e03");
    ck_assert_str_eq(list[3].serial, "7e01");
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(list[i].der.len, 0); /* lists carry no DER */
        ck_assert_ptr_null(list[i].der.data);
    }
    ck_assert_str_eq(list[2].scenario, "next");
    ck_assert_int_eq(list[2].issuer_id, issuer);
    ck_assert_int_eq(list[2].not_before, T0);
    ck_assert_int_eq(list[2].not_after, T0 + 7200);
    ck_assert_int_eq(list[2].created_at, T0 + 2);
    ck_assert_int_eq(list[1].issuer_id, 0);
    free(list);
    /* only those whose notAfter is after now */
    OK(iotca_store_rehearsal_leaf_list(s, T0 + 60, &list, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(list[0].serial, "7e04");
    free(list);
    OK(iotca_store_rehearsal_leaf_list(s, T0 + 3600, &list, &n));
    ck_assert_uint_eq(n, 2);
    free(list);
    OK(iotca_store_rehearsal_leaf_list(s, T0 + 7200, &list, &n));
    ck_assert_uint_eq(n, 0);
    free(list);
}
END_TEST

START_TEST(leaf_serials_reserved_in_the_issuers_space) {
    /* a leaf of an issuer reserves its serial: issuance may not draw it again */
    iotca_rehearsal_leaf_rec a = leaf("7f01", "current", issuer, T0 + 3600, T0);
    OK(iotca_store_rehearsal_leaf_add(s, &a));
    ck_assert(reserved("7f01"));
    REFUSED(iotca_store_serial_reserve(s, "7f01", issuer, T0), IOTCA_E_POLICY, "serial 7f01 already used");
    /* a serial an issuance reserved is refused to a leaf, and nothing is stored */
    OK(iotca_store_serial_reserve(s, "7f02", issuer, T0));
    iotca_rehearsal_leaf_rec b = leaf("7f02", "next", issuer, T0 + 3600, T0);
    REFUSED(iotca_store_rehearsal_leaf_add(s, &b), IOTCA_E_POLICY, "serial 7f02 already used");
    /* so is a previous leaf's */
    iotca_rehearsal_leaf_rec again = leaf("7f01", "next", issuer, T0 + 3600, T0);
    REFUSED(iotca_store_rehearsal_leaf_add(s, &again), IOTCA_E_POLICY, "serial 7f01 already used");
    ck_assert_uint_eq(leaf_count(0), 1);
    /* the lab hierarchy (issuer 0) reserves nothing */
    iotca_rehearsal_leaf_rec lab = leaf("7f03", "expired-leaf", 0, T0 + 3600, T0);
    OK(iotca_store_rehearsal_leaf_add(s, &lab));
    ck_assert(!reserved("7f03"));
    /* a leaf of an issuer whose serial a lab leaf holds: the reservation made first is undone with it */
    iotca_rehearsal_leaf_rec clash = leaf("7f03", "change", issuer, T0 + 3600, T0);
    REFUSED(iotca_store_rehearsal_leaf_add(s, &clash), IOTCA_E_POLICY, "serial 7f03 already used");
    ck_assert(!reserved("7f03"));
    /* an issuer that does not exist reserves nothing and stores nothing */
    iotca_rehearsal_leaf_rec stranger = leaf("7f04", "current", issuer + 10, T0 + 3600, T0);
    REFUSED(iotca_store_rehearsal_leaf_add(s, &stranger), IOTCA_E_USAGE, "no issuer");
    ck_assert(!reserved("7f04"));
    ck_assert_uint_eq(leaf_count(0), 2);
}
END_TEST

/* Inside a group commit (a transaction already open): a failing leaf undoes its own reservation only. */
static iotca_rc leaves_in_group(iotca_store *st, void *arg) {
    (void)arg;
    iotca_rehearsal_leaf_rec clash = leaf("7a01", "change", issuer, T0 + 3600, T0); /* a lab leaf holds 7a01 */
    ck_assert_int_eq(iotca_store_rehearsal_leaf_add(st, &clash), IOTCA_E_POLICY);
    iotca_rehearsal_leaf_rec fine = leaf("7a02", "next", issuer, T0 + 3600, T0);
    return iotca_store_rehearsal_leaf_add(st, &fine);
}

START_TEST(leaf_add_joins_an_open_transaction) {
    iotca_rehearsal_leaf_rec lab = leaf("7a01", "current", 0, T0 + 3600, T0);
    OK(iotca_store_rehearsal_leaf_add(s, &lab));
    iotca_store_group *g = NULL;
    OK(iotca_store_group_new(NULL, &g));
    OK(iotca_store_group_write(g, s, leaves_in_group, NULL));
    iotca_store_group_free(g);
    ck_assert(!reserved("7a01"));
    ck_assert(reserved("7a02"));
    ck_assert_uint_eq(leaf_count(0), 2);
}
END_TEST

START_TEST(leaves_are_not_certificates) {
    iotca_rehearsal_leaf_rec a = leaf("7b01", "current", issuer, T0 + 3600, T0);
    iotca_rehearsal_leaf_rec b = leaf("7b02", "expired-leaf", 0, T0 + 3600, T0);
    OK(iotca_store_rehearsal_leaf_add(s, &a));
    OK(iotca_store_rehearsal_leaf_add(s, &b));
    iotca_cert_filter f = {.profile = NULL, .status = -1, .expires_before = 0, .after = NULL, .limit = 1000};
    iotca_cert_rec *certs = NULL;
    size_t n = 99;
    OK(iotca_store_cert_list(s, &f, &certs, &n));
    ck_assert_uint_eq(n, 0);
    free(certs);
    iotca_cert_rec c = {0};
    ck_assert_int_ne(iotca_store_cert_get(s, "7b01", &c), IOTCA_OK);
    iotca_cert_rec_free(&c);
}
END_TEST

START_TEST(prune_deletes_expired_leaves_and_keeps_their_serials) {
    iotca_rehearsal_leaf_rec old = leaf("7c01", "current", issuer, T0 + 10, T0);
    iotca_rehearsal_leaf_rec edge = leaf("7c02", "next", 0, T0 + 50, T0);
    iotca_rehearsal_leaf_rec live = leaf("7c03", "change", issuer, T0 + 100, T0);
    OK(iotca_store_rehearsal_leaf_add(s, &old));
    OK(iotca_store_rehearsal_leaf_add(s, &edge));
    OK(iotca_store_rehearsal_leaf_add(s, &live));
    size_t deleted = 99;
    OK(iotca_store_rehearsal_leaf_prune(s, T0 + 50, &deleted));
    ck_assert_uint_eq(deleted, 1); /* 7c02's notAfter is not before T0 + 50 */
    iotca_rehearsal_leaf_rec *list = NULL;
    size_t n = 0;
    OK(iotca_store_rehearsal_leaf_list(s, 0, &list, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert(strcmp(list[0].serial, "7c01") != 0 && strcmp(list[1].serial, "7c01") != 0);
    free(list);
    /* the pruned leaf's serial stays reserved: never again, not even for another leaf */
    ck_assert(reserved("7c01"));
    REFUSED(iotca_store_rehearsal_leaf_add(s, &old), IOTCA_E_POLICY, "serial 7c01 already used");
    OK(iotca_store_rehearsal_leaf_prune(s, T0 + 1000, NULL)); /* deleted may be NULL */
    ck_assert_uint_eq(leaf_count(0), 0);
    OK(iotca_store_rehearsal_leaf_prune(s, T0 + 1000, &deleted));
    ck_assert_uint_eq(deleted, 0);
    ck_assert_int_eq(iotca_store_rehearsal_leaf_prune(NULL, T0, &deleted), IOTCA_E_USAGE);
}
END_TEST

START_TEST(leaf_refusals) {
    iotca_rehearsal_leaf_rec l = leaf("not-hex", "current", issuer, T0 + 3600, T0);
    REFUSED(iotca_store_rehearsal_leaf_add(s, &l), IOTCA_E_USAGE, "hex");
    l = leaf("7d01", "current", issuer, T0 + 3600, T0);
    memset(l.serial, 'a', sizeof l.serial); /* not terminated */
    REFUSED(iotca_store_rehearsal_leaf_add(s, &l), IOTCA_E_USAGE, "serial");
    l = leaf("7d01", "", issuer, T0 + 3600, T0);
    REFUSED(iotca_store_rehearsal_leaf_add(s, &l), IOTCA_E_USAGE, "scenario must be 1 to 47 bytes");
    l = leaf("7d01", "current", issuer, T0 + 3600, T0);
    memset(l.scenario, 'x', sizeof l.scenario); /* oversized */
    REFUSED(iotca_store_rehearsal_leaf_add(s, &l), IOTCA_E_USAGE, "scenario");
    l = leaf("7d01", "current", issuer, T0 + 3600, T0);
    l.der = (iotca_buf){0};
    REFUSED(iotca_store_rehearsal_leaf_add(s, &l), IOTCA_E_USAGE, "no DER");
    l = leaf("7d01", "current", issuer, T0 - 1, T0);
    REFUSED(iotca_store_rehearsal_leaf_add(s, &l), IOTCA_E_USAGE, "notAfter is before notBefore");
    l = leaf("7d01", "current", -1, T0 + 3600, T0);
    REFUSED(iotca_store_rehearsal_leaf_add(s, &l), IOTCA_E_USAGE, "issuer");
    l = leaf("7d01", "current", issuer, T0 + 3600, T0);
    ck_assert_int_eq(iotca_store_rehearsal_leaf_add(NULL, &l), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_rehearsal_leaf_add(s, NULL), IOTCA_E_USAGE);
    size_t n = 0;
    iotca_rehearsal_leaf_rec *list = NULL;
    ck_assert_int_eq(iotca_store_rehearsal_leaf_list(s, 0, NULL, &n), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_rehearsal_leaf_list(s, 0, &list, NULL), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_rehearsal_leaf_list(NULL, 0, &list, &n), IOTCA_E_USAGE);
    /* nothing was stored, nothing reserved */
    ck_assert_uint_eq(leaf_count(0), 0);
    ck_assert(!reserved("7d01"));
    /* a leaf valid for one second only (notAfter == notBefore) is a leaf */
    l = leaf("7d01", "current", issuer, T0, T0);
    OK(iotca_store_rehearsal_leaf_add(s, &l));
}
END_TEST

START_TEST(leaf_rec_free_releases_der) {
    iotca_rehearsal_leaf_rec l = {0};
    OK(iotca_buf_append(&l.der, leaf_der, sizeof leaf_der));
    snprintf(l.serial, sizeof l.serial, "7d02");
    iotca_rehearsal_leaf_rec_free(&l);
    ck_assert_ptr_null(l.der.data);
    ck_assert_uint_eq(l.der.len, 0);
    ck_assert_str_eq(l.serial, "");
    iotca_rehearsal_leaf_rec_free(NULL);
}
END_TEST

START_TEST(result_refusals) {
    iotca_rehearsal_result_rec r = result("", "current", issuer, true);
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "trust profile must be 1 to 63 bytes");
    r = result("esp32-fleet", "current", issuer, true);
    memset(r.trust_profile, 'p', sizeof r.trust_profile);
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "trust profile");
    r = result("esp32-fleet", "", issuer, true);
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "scenario must be 1 to 47 bytes");
    r = result("esp32-fleet", "current", issuer, true);
    memset(r.scenario, 's', sizeof r.scenario);
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "scenario");
    r = result("esp32-fleet", "current", issuer, true);
    snprintf(r.source, sizeof r.source, "rumour");
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "source must be \"report\" or \"handshake\"");
    r.source[0] = 0;
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "source");
    memset(r.source, 'r', sizeof r.source);
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "source");
    r = result("esp32-fleet", "current", issuer, true);
    r.actor[0] = 0;
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "actor must be 1 to 63 bytes");
    r = result("esp32-fleet", "current", issuer, true);
    memset(r.actor, 'a', sizeof r.actor);
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "actor");
    r = result("esp32-fleet", "current", issuer, true);
    memset(r.note, 'n', sizeof r.note);
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "note is longer than 200 bytes");
    r = result("esp32-fleet", "current", issuer, true);
    snprintf(r.serial, sizeof r.serial, "XYZ");
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "hex");
    r = result("esp32-fleet", "current", -1, true);
    REFUSED(iotca_store_rehearsal_result_add(s, &r), IOTCA_E_USAGE, "issuer");
    r = result("esp32-fleet", "current", issuer, true);
    ck_assert_int_eq(iotca_store_rehearsal_result_add(NULL, &r), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_rehearsal_result_add(s, NULL), IOTCA_E_USAGE);
    iotca_rehearsal_result_rec *list = NULL;
    size_t n = 0;
    ck_assert_int_eq(iotca_store_rehearsal_result_latest(s, NULL, &n), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_rehearsal_result_latest(NULL, &list, &n), IOTCA_E_USAGE);
    bool passed = true;
    ck_assert_int_eq(iotca_store_rehearsal_passed(s, NULL, "esp32-fleet", issuer, &passed), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_rehearsal_passed(s, "current", NULL, issuer, &passed), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_rehearsal_passed(s, "current", "esp32-fleet", issuer, NULL), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_rehearsal_passed(NULL, "current", "esp32-fleet", issuer, &passed), IOTCA_E_USAGE);
    /* nothing was recorded; a result at the limits, with no serial known, is */
    OK(iotca_store_rehearsal_result_latest(s, &list, &n));
    ck_assert_uint_eq(n, 0);
    free(list);
    r = result("esp32-fleet", "current", issuer, true);
    memset(r.note, 'n', sizeof r.note - 1);
    r.serial[0] = 0;
    snprintf(r.source, sizeof r.source, "handshake");
    OK(iotca_store_rehearsal_result_add(s, &r));
    ck_assert_int_gt(r.id, 0);
    OK(iotca_store_rehearsal_result_latest(s, &list, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(strlen(list[0].note), 200);
    ck_assert_str_eq(list[0].serial, "");
    ck_assert_str_eq(list[0].source, "handshake");
    free(list);
}
END_TEST

START_TEST(latest_result_per_profile_and_scenario) {
    iotca_rehearsal_result_rec r1 = result("zephyr-lte", "next", issuer, false);
    iotca_rehearsal_result_rec r2 = result("esp32-fleet", "next", issuer, true);
    iotca_rehearsal_result_rec r3 = result("esp32-fleet", "current", issuer, true);
    iotca_rehearsal_result_rec r4 = result("zephyr-lte", "next", issuer + 1, true); /* the latest of its pair */
    iotca_rehearsal_result_rec r5 = result("esp32-fleet", "expired-leaf", 0, true);
    r5.accepted = false; /* refusing an expired leaf is the pass */
    snprintf(r5.source, sizeof r5.source, "handshake");
    snprintf(r5.serial, sizeof r5.serial, "5e05");
    r5.at = T0 + 50;
    iotca_rehearsal_result_rec r6 = result("esp32-fleet", "next", issuer, false);
    r6.at = T0 - 100; /* the latest by id, whatever its time */
    iotca_rehearsal_result_rec *all[] = {&r1, &r2, &r3, &r4, &r5, &r6};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) OK(iotca_store_rehearsal_result_add(s, all[i]));
    ck_assert_int_lt(r1.id, r2.id);
    ck_assert_int_lt(r5.id, r6.id);
    iotca_rehearsal_result_rec *list = NULL;
    size_t n = 0;
    OK(iotca_store_rehearsal_result_latest(s, &list, &n));
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(list[0].trust_profile, "esp32-fleet");
    ck_assert_str_eq(list[0].scenario, "current");
    ck_assert_int_eq(list[0].id, r3.id);
    ck_assert_str_eq(list[1].scenario, "expired-leaf");
    ck_assert_int_eq(list[1].id, r5.id);
    ck_assert(!list[1].accepted);
    ck_assert(list[1].passed);
    ck_assert_int_eq(list[1].issuer_id, 0);
    ck_assert_str_eq(list[1].serial, "5e05");
    ck_assert_str_eq(list[1].source, "handshake");
    ck_assert_str_eq(list[1].actor, "token:0123456789abcdef");
    ck_assert_str_eq(list[1].note, "bench unit 7");
    ck_assert_int_eq(list[1].at, T0 + 50);
    ck_assert_str_eq(list[2].scenario, "next");
    ck_assert_int_eq(list[2].id, r6.id);
    ck_assert(!list[2].passed);
    ck_assert_str_eq(list[3].trust_profile, "zephyr-lte");
    ck_assert_int_eq(list[3].id, r4.id);
    ck_assert_int_eq(list[3].issuer_id, issuer + 1);
    free(list);
}
END_TEST

START_TEST(passed_is_the_latest_result_of_an_issuers_chain) {
    bool passed = true;
    OK(iotca_store_rehearsal_passed(s, "next", "esp32-fleet", issuer, &passed));
    ck_assert(!passed); /* none: not passed */
    iotca_rehearsal_result_rec ok1 = result("esp32-fleet", "next", issuer, true);
    OK(iotca_store_rehearsal_result_add(s, &ok1));
    OK(iotca_store_rehearsal_passed(s, "next", "esp32-fleet", issuer, &passed));
    ck_assert(passed);
    /* another issuer's chain, another profile, another scenario: each its own */
    OK(iotca_store_rehearsal_passed(s, "next", "esp32-fleet", issuer + 1, &passed));
    ck_assert(!passed);
    OK(iotca_store_rehearsal_passed(s, "next", "zephyr-lte", issuer, &passed));
    ck_assert(!passed);
    OK(iotca_store_rehearsal_passed(s, "current", "esp32-fleet", issuer, &passed));
    ck_assert(!passed);
    iotca_rehearsal_result_rec other = result("esp32-fleet", "next", issuer + 1, false);
    OK(iotca_store_rehearsal_result_add(s, &other));
    OK(iotca_store_rehearsal_passed(s, "next", "esp32-fleet", issuer, &passed));
    ck_assert(passed); /* the other issuer's failure is not this chain's */
    /* a failure after the pass: the latest counts */
    iotca_rehearsal_result_rec failed = result("esp32-fleet", "next", issuer, false);
    failed.at = T0 + 10;
    OK(iotca_store_rehearsal_result_add(s, &failed));
    OK(iotca_store_rehearsal_passed(s, "next", "esp32-fleet", issuer, &passed));
    ck_assert(!passed);
    iotca_rehearsal_result_rec again = result("esp32-fleet", "next", issuer, true);
    OK(iotca_store_rehearsal_result_add(s, &again));
    OK(iotca_store_rehearsal_passed(s, "next", "esp32-fleet", issuer, &passed));
    ck_assert(passed);
    /* a name that could not have been recorded is a usage error, not "not passed" */
    char long_name[80];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    REFUSED(iotca_store_rehearsal_passed(s, long_name, "esp32-fleet", issuer, &passed), IOTCA_E_USAGE, "scenario");
    REFUSED(iotca_store_rehearsal_passed(s, "next", long_name, issuer, &passed), IOTCA_E_USAGE, "trust profile");
}
END_TEST

int main(void) {
    Suite *su = suite_create("store_rehearsals");
    TCase *leaves = tcase_create("leaves");
    tcase_add_checked_fixture(leaves, setup, teardown);
    tcase_add_test(leaves, leaves_listed_newest_first_without_der);
    tcase_add_test(leaves, leaf_serials_reserved_in_the_issuers_space);
    tcase_add_test(leaves, leaf_add_joins_an_open_transaction);
    tcase_add_test(leaves, leaves_are_not_certificates);
    tcase_add_test(leaves, prune_deletes_expired_leaves_and_keeps_their_serials);
    tcase_add_test(leaves, leaf_refusals);
    tcase_add_test(leaves, leaf_rec_free_releases_der);
    suite_add_tcase(su, leaves);
    TCase *results = tcase_create("results");
    tcase_add_checked_fixture(results, setup, teardown);
    tcase_add_test(results, result_refusals);
    tcase_add_test(results, latest_result_per_profile_and_scenario);
    tcase_add_test(results, passed_is_the_latest_result_of_an_issuers_chain);
    suite_add_tcase(su, results);
    return unit_run(su);
}
