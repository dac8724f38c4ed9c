/* Unit tests for lib/fleet's path building (issue 20): the served leaf is judged like every certificate, a path
 * is built from it over the store and the served set, and every stack holds the path to its basic constraints
 * (the CA bit, pathLenConstraint, the longest path it takes). test_stack_agreement.sh holds the same rules
 * against the real libraries. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit_run.h"
#include "iotca/fleet.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
#define NOW ((time_t)1800000000)
#define DAY 86400L
#define YEAR (365L * DAY)
#define N_STACKS (IOTCA_STACK_GNUTLS + 1)
#define S(m) iotca_buf_slice(&(m).der)

#include "fleet_fixture.h"

static const how ROOT = {.ca = true, .path_len = -1}, ISSUER = {.ca = true, .path_len = 0}, LEAF = {.path_len = -1};

/* The first failure's reason (NULL if the chain holds throughout) of a check from NOW to `until`. */
static const char *check(const iotca_slice *store, size_t ns, const iotca_served *sched, iotca_stack st, time_t until,
                         iotca_check_report *rep) {
    OK(iotca_fleet_check(store, ns, sched, 1, st, NOW, until, rep));
    for (size_t i = 0; i < rep->n; i++)
        if (!rep->points[i].ok) return rep->points[i].reason;
    return NULL;
}

static const char *name(int st) { return iotca_stack_name((iotca_stack)st); }

/* The first second a certificate ending at not_after is refused (RFC 5280 §4.1.2.5; OpenSSL one second early). */
static time_t refused_from(int st, time_t not_after) {
    return st == IOTCA_STACK_OPENSSL || st == IOTCA_STACK_OPENSSL102 ? not_after : not_after + 1;
}

/* An expired leaf, a leaf not yet valid: every stack refuses them, from the very second, and the report's dates
 * include the leaf's (point 4: before, the leaf was not judged at all and both passed). */
START_TEST(the_leaf_is_judged_on_every_date) {
    made r1, r2, ca, leaf, early;
    fixture_make(&r1, "Root R1", NULL, ROOT);
    fixture_make(&r2, "Root R2", NULL, ROOT);
    fixture_make(&ca, "Issuing CA", &r1, ISSUER);
    how lh = LEAF, eh = LEAF;
    lh.not_after = NOW + 90 * DAY;
    eh.not_before = NOW + 30 * DAY;
    fixture_make(&leaf, "device-1", &ca, lh);
    fixture_make(&early, "device-2", &ca, eh);
    iotca_slice store[] = {S(r1), S(r2)}, cas[] = {S(ca)};
    iotca_check_report rep;
    for (int st = 0; st < N_STACKS; st++) {
        iotca_served sched[] = {{NOW, cas, 1, S(leaf)}};
        const char *why = check(store, 2, sched, (iotca_stack)st, NOW + YEAR, &rep);
        ck_assert_msg(why && strstr(why, "device-1"), "%s: %s", name(st), why ? why : "ok");
        ck_assert_msg(rep.first_failure == refused_from(st, NOW + 90 * DAY), "%s: first failure %ld", name(st),
                      (long)rep.first_failure);
        ck_assert_msg(rep.points[0].ok, "%s refuses a valid leaf: %s", name(st), rep.points[0].reason);
        iotca_served later[] = {{NOW, cas, 1, S(early)}};
        why = check(store, 2, later, (iotca_stack)st, NOW + YEAR, &rep);
        ck_assert_msg(rep.first_failure == NOW && why && strstr(why, "not yet valid") && strstr(why, "device-2"),
                      "%s: %s", name(st), why ? why : "ok");
        ck_assert_msg(rep.n >= 2 && rep.points[1].at == NOW + 30 * DAY && rep.points[1].ok, "%s: fine once valid",
                      name(st));
    }
    made *all[] = {&r1, &r2, &ca, &leaf, &early};
    for (size_t i = 0; i < 5; i++) unmake(all[i]);
}
END_TEST

/* Without a leaf the path starts at a stand-in for the issuing CA's next leaf: the same verdicts as with a valid
 * leaf of that CA, on a chain that holds and on one that breaks (the intermediate expires). */
START_TEST(the_stand_in_leaf_judges_as_a_real_one) {
    made r1, r2, ca, leaf;
    fixture_make(&r1, "Root R1", NULL, ROOT);
    fixture_make(&r2, "Root R2", NULL, ROOT);
    how ih = ISSUER;
    ih.not_after = NOW + 2 * YEAR;
    fixture_make(&ca, "Issuing CA", &r1, ih);
    fixture_make(&leaf, "device-1", &ca, LEAF); /* outlives its issuer: the issuer's end decides */
    iotca_slice store[] = {S(r1), S(r2)}, cas[] = {S(ca)};
    iotca_check_report rep;
    for (int st = 0; st < N_STACKS; st++) {
        iotca_served with[] = {{NOW, cas, 1, S(leaf)}}, without[] = {{NOW, cas, 1, {0}}};
        check(store, 2, with, (iotca_stack)st, NOW + 3 * YEAR, &rep);
        time_t a = rep.first_failure;
        check(store, 2, without, (iotca_stack)st, NOW + 3 * YEAR, &rep);
        ck_assert_msg(a == rep.first_failure && a == refused_from(st, NOW + 2 * YEAR), "%s: %ld and %ld", name(st),
                      (long)a, (long)rep.first_failure);
    }
    made *all[] = {&r1, &r2, &ca, &leaf};
    for (size_t i = 0; i < 4; i++) unmake(all[i]);
}
END_TEST

/* A served "intermediate" that is no CA (basicConstraints without CA:TRUE) cannot issue: every stack refuses the
 * path through it (point 1: before, every model said ok). */
START_TEST(an_intermediate_without_the_ca_bit_fails_every_stack) {
    made r1, r2, notca, leaf;
    fixture_make(&r1, "Root R1", NULL, ROOT);
    fixture_make(&r2, "Root R2", NULL, ROOT);
    how nh = LEAF;
    fixture_make(&notca, "Not a CA", &r1, nh);
    fixture_make(&leaf, "device-1", &notca, LEAF);
    iotca_slice store[] = {S(r1), S(r2)}, cas[] = {S(notca)};
    iotca_check_report rep;
    for (int st = 0; st < N_STACKS; st++) {
        iotca_served sched[] = {{NOW, cas, 1, S(leaf)}}, stand_in[] = {{NOW, cas, 1, {0}}};
        const char *why = check(store, 2, sched, (iotca_stack)st, NOW + YEAR, &rep);
        ck_assert_msg(why != NULL && rep.first_failure == NOW, "%s: ok through a non-CA", name(st));
        why = check(store, 2, stand_in, (iotca_stack)st, NOW + YEAR, &rep);
        ck_assert_msg(why != NULL && rep.first_failure == NOW, "%s (no leaf): ok through a non-CA", name(st));
    }
    made *all[] = {&r1, &r2, &notca, &leaf};
    for (size_t i = 0; i < 4; i++) unmake(all[i]);
}
END_TEST

/* Check every stack at NOW on one served entry; broken: the stacks (1 << stack) expected to refuse. */
static void expect_stacks(const iotca_slice *store, size_t ns, const iotca_slice *cas, size_t n, iotca_slice leaf,
                          unsigned broken, const char *what, const char *case_name) {
    iotca_check_report rep;
    for (int st = 0; st < N_STACKS; st++) {
        iotca_served sched[] = {{NOW, cas, n, leaf}};
        const char *why = check(store, ns, sched, (iotca_stack)st, NOW + DAY, &rep);
        bool breaks = (broken >> st) & 1;
        ck_assert_msg(breaks == (why != NULL), "%s, %s: %s", case_name, name(st), why ? why : "ok");
        if (why && what) ck_assert_msg(strstr(why, what) != NULL, "%s, %s: %s", case_name, name(st), why);
    }
}

#define ALL ((1u << N_STACKS) - 1)
#define ST(s) (1u << IOTCA_STACK_##s)

/* A CA below an issuer with pathLen 0: every stack refuses (point 1), with the leaf or its stand-in. A root with
 * pathLen 0 above two CAs: only the stacks that read the anchor's pathLen refuse (OpenSSL 3, mbedTLS, GnuTLS;
 * BearSSL's anchors are a name and a key, wolfSSL and OpenSSL 1.0.2 do not look). */
START_TEST(path_length_constraints) {
    made r1, r2, a, b, leaf, rp, ra, rb, rleaf;
    fixture_make(&r1, "Root R1", NULL, ROOT);
    fixture_make(&r2, "Root R2", NULL, ROOT);
    fixture_make(&a, "Issuer pathLen 0", &r1, ISSUER);
    how any = ROOT, pl0 = ROOT;
    pl0.path_len = 0;
    fixture_make(&b, "CA under it", &a, any);
    fixture_make(&leaf, "device-1", &b, LEAF);
    iotca_slice store[] = {S(r1), S(r2)}, cas[] = {S(b), S(a)};
    expect_stacks(store, 2, cas, 2, S(leaf), ALL, "pathLenConstraint 0 exceeded", "pathLen 0, with the leaf");
    expect_stacks(store, 2, cas, 2, (iotca_slice){0}, ALL, "pathLenConstraint 0 exceeded", "pathLen 0, stand-in");
    fixture_make(&rp, "Root pathLen 0", NULL, pl0);
    fixture_make(&ra, "CA A", &rp, any);
    fixture_make(&rb, "CA B", &ra, any);
    fixture_make(&rleaf, "device-2", &rb, LEAF);
    iotca_slice store2[] = {S(rp), S(r2)}, cas2[] = {S(rb), S(ra)};
    expect_stacks(store2, 2, cas2, 2, S(rleaf), ST(OPENSSL) | ST(MBEDTLS) | ST(GNUTLS), "Root pathLen 0",
                  "the root's own pathLen");
    made *all[] = {&r1, &r2, &a, &b, &leaf, &rp, &ra, &rb, &rleaf};
    for (size_t i = 0; i < 9; i++) unmake(all[i]);
}
END_TEST

/* Point 3 (a): the store holds the intermediate (and its root), the server sends the leaf and the root only: every
 * stack finds the stored intermediate (before, the root was taken as the leaf's issuer: "no path"). */
START_TEST(the_path_is_built_over_the_store) {
    made r1, r2, ca, leaf;
    fixture_make(&r1, "Root R1", NULL, ROOT);
    fixture_make(&r2, "Root R2", NULL, ROOT);
    fixture_make(&ca, "Issuing CA", &r1, ISSUER);
    fixture_make(&leaf, "device-1", &ca, LEAF);
    iotca_slice store[] = {S(ca), S(r1), S(r2)}, sent[] = {S(r1)};
    expect_stacks(store, 3, sent, 1, S(leaf), 0, NULL, "intermediate stored, root sent");
    made *all[] = {&r1, &r2, &ca, &leaf};
    for (size_t i = 0; i < 4; i++) unmake(all[i]);
}
END_TEST

/* Point 6: a chain of 9 CAs under R1 (11 certificates with the leaf and the root) is checked; mbedTLS 2.28 takes 8
 * intermediates at most and wolfSSL keeps 9 of the certificates sent, so both refuse; the rest accept. 8 CAs pass
 * everywhere (mbedTLS's limit is exactly 8). 16 CAs and the leaf are one more than a GnuTLS TLS client takes. */
START_TEST(long_chains) {
    enum { N = 16 };
    made r1, r2, ca[N], leaf9, leaf8, leaf16;
    fixture_make(&r1, "Root R1", NULL, ROOT);
    fixture_make(&r2, "Root R2", NULL, ROOT);
    how any = ROOT;
    for (int i = 0; i < N; i++) {
        char cn[16];
        snprintf(cn, sizeof cn, "CA %d", i + 1);
        fixture_make(&ca[i], cn, i ? &ca[i - 1] : &r1, any);
    }
    fixture_make(&leaf9, "device-9", &ca[8], LEAF);
    fixture_make(&leaf8, "device-8", &ca[7], LEAF);
    fixture_make(&leaf16, "device-16", &ca[N - 1], LEAF);
    iotca_slice store[] = {S(r1), S(r2)}, sent[N];
    for (int i = 0; i < N; i++) sent[i] = S(ca[N - 1 - i]); /* the issuing CA first, then up */
    expect_stacks(store, 2, sent + N - 9, 9, S(leaf9), ST(MBEDTLS) | ST(WOLFSSL), NULL, "9 intermediates");
    expect_stacks(store, 2, sent + N - 8, 8, S(leaf8), 0, NULL, "8 intermediates");
    expect_stacks(store, 2, sent, N, S(leaf16), ST(MBEDTLS) | ST(WOLFSSL) | ST(GNUTLS), NULL, "16 intermediates");
    made *all[] = {&r1, &r2, &leaf9, &leaf8, &leaf16};
    for (size_t i = 0; i < 5; i++) unmake(all[i]);
    for (int i = 0; i < N; i++) unmake(&ca[i]);
}
END_TEST

int main(void) {
    Suite *s = suite_create("fleet_path");
    TCase *tc = tcase_create("path");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, the_leaf_is_judged_on_every_date);
    tcase_add_test(tc, the_stand_in_leaf_judges_as_a_real_one);
    tcase_add_test(tc, an_intermediate_without_the_ca_bit_fails_every_stack);
    tcase_add_test(tc, path_length_constraints);
    tcase_add_test(tc, the_path_is_built_over_the_store);
    tcase_add_test(tc, long_chains);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
