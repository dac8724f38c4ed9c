/* Debian versions and dpkg's status file (lib/core/debversion.c): dpkg's ordering on the cases deb-version(7)
 * spells out, what is not a version, and the highest installed version of a package family. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "unit_run.h"
#include "iotca/debversion.h"

/* Each pair ascending: a < b. */
static const char *const ascending[][2] = {
    {"1.0~rc1", "1.0"},           {"1.0", "1.0+b1"},         {"1.0-1", "1.0-2"},
    {"5.5.4-2+deb12u3", "5.5.4-2+deb12u10"},                 {"5.5.4-2+deb12u3", "5.5.5-1"},
    {"2.0", "1:0.1"},             {"1.0", "1.0a"},           {"1.0~", "1.0"},
    {"1.0~~", "1.0~~a"},          {"1.0~~a", "1.0~"},        {"1.0a", "1.0+"},
    {"1.2.3", "1.10"},            {"9", "10"},               {"1.0-1~bpo1", "1.0-1"},
    {"5.5.4-2", "5.5.4-2+deb12u1"},
};

START_TEST(order) {
    for (size_t i = 0; i < sizeof ascending / sizeof ascending[0]; i++) {
        const char *a = ascending[i][0], *b = ascending[i][1];
        ck_assert_msg(iotca_debversion_valid(a) && iotca_debversion_valid(b), "%s / %s", a, b);
        ck_assert_msg(iotca_debversion_cmp(a, b) < 0, "%s < %s", a, b);
        ck_assert_msg(iotca_debversion_cmp(b, a) > 0, "%s > %s", b, a);
        ck_assert_msg(iotca_debversion_cmp(a, a) == 0, "%s = itself", a);
    }
    /* equal though spelled differently: leading zeros, epoch 0, an absent revision and "-0" */
    ck_assert_int_eq(iotca_debversion_cmp("1.01", "1.1"), 0);
    ck_assert_int_eq(iotca_debversion_cmp("0:1.0", "1.0"), 0);
    ck_assert_int_eq(iotca_debversion_cmp("2.0", "2.0-0"), 0);
}
END_TEST

START_TEST(invalid) {
    static const char *const bad[] = {"",     "a1.0",  ":1.0",   "1:",    "1.0-", "1.0 1", "x:1.0",
                                      "1_0",  "-1",    "1:a",    "1.0-a_b", "1.0-a:b", NULL};
    for (size_t i = 0; bad[i]; i++) ck_assert_msg(!iotca_debversion_valid(bad[i]), "accepted '%s'", bad[i]);
    ck_assert(!iotca_debversion_valid(NULL));
    char big[200];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ck_assert(!iotca_debversion_valid(big)); /* over IOTCA_DEBVERSION_MAX */
    ck_assert(iotca_debversion_valid("1:2.0:3-4")); /* ':' in the upstream part after an epoch */
    ck_assert(iotca_debversion_valid("2.0-1-2"));   /* the revision starts after the last '-' */
}
END_TEST

START_TEST(installed) {
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    memcpy(big, "Description: ", 13);
    big[sizeof big - 1] = 0;
    char status[8192];
    snprintf(status, sizeof status,
             "Package: libssl3\nStatus: install ok installed\nVersion: 9.9.9\n\n"
             "Package: libwolfssl35\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.5.4-2+deb12u3\n\n"
             "Package: libwolfssl-dev\nStatus: deinstall ok config-files\nVersion: 5.5.4-2+deb12u20\n\n"
             "Package: libwolfssl-dev\r\nVersion: 5.5.4-2+deb12u10\r\n%s\r\nStatus: install ok installed\r\n\r\n"
             "Package: libwolfssl-doc\nStatus: install ok installed\nVersion: not-a-version\n\n"
             "Package: libwolfssl-old\nStatus: install ok installed\nVersion: 5.5.4-2+deb12u4",
             big);
    char v[IOTCA_DEBVERSION_MAX];
    ck_assert(iotca_dpkg_installed(iotca_slice_of(status, strlen(status)), "libwolfssl", v));
    ck_assert_str_eq(v, "5.5.4-2+deb12u10"); /* CRLF lines and a 5,000-byte line in its stanza */
    ck_assert(iotca_dpkg_installed(iotca_slice_of(status, strlen(status)), "libssl", v));
    ck_assert_str_eq(v, "9.9.9");
    /* the last stanza without a newline counts; removed and unparseable ones do not */
    const char *tail = "Package: libwolfssl-x\nStatus: deinstall ok config-files\nVersion: 7.0\n\n"
                       "Package: libwolfssl35\nStatus: install ok installed\nVersion: 5.5.4-2";
    ck_assert(iotca_dpkg_installed(iotca_slice_of(tail, strlen(tail)), "libwolfssl", v));
    ck_assert_str_eq(v, "5.5.4-2");
    ck_assert(!iotca_dpkg_installed(iotca_slice_of(tail, strlen(tail)), "libgnutls", v));
    ck_assert(!iotca_dpkg_installed(iotca_slice_of("", 0), "libwolfssl", v));
    const char *stray = "\n\n\nVersion: 1.0\nStatus: install ok installed\n"; /* no Package */
    ck_assert(!iotca_dpkg_installed(iotca_slice_of(stray, strlen(stray)), "", v));
}
END_TEST

int main(void) {
    Suite *s = suite_create("debversion");
    TCase *tc = tcase_create("debversion");
    tcase_add_test(tc, order);
    tcase_add_test(tc, invalid);
    tcase_add_test(tc, installed);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
