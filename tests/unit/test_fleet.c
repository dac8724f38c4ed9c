/* Unit tests for lib/fleet: every trust-store lint rule fires when it should and stays quiet otherwise, the fleet
 * check models each stack, and the two agree on critical extensions. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit_run.h"
#include "iotca/der.h"
#include "iotca/fleet.h"

#define OK(x) ck_assert_msg((x) == IOTCA_OK, "%s: %s", #x, iotca_error_detail())
#define NOW ((time_t)1800000000)
#define YEAR (365L * 86400)
#define N_STACKS (IOTCA_STACK_GNUTLS + 1)

#include "fleet_fixture.h"

/* A certificate named cn for key_of's key (NULL: a new key), signed by `by` (NULL: self-signed), valid from
 * not_before until not_after. Issuing CAs get pathLen 0, as iotca-root makes them; roots and their
 * cross-certificates none (cmd_init.c). */
static void make_dated(made *m, const char *cn, const made *key_of, const made *by, bool ca, time_t not_before,
                       time_t not_after, iotca_nc_mode nc) {
    how h = {.ca = ca, .path_len = ca && by && strstr(cn, "Root") == NULL ? 0 : -1, .not_before = not_before,
             .not_after = not_after, .key_of = key_of, .nc = nc};
    fixture_make(m, cn, by, h);
}

/* The same, valid from a year ago. */
static void make_with(made *m, const char *cn, const made *key_of, const made *by, bool ca, time_t not_after,
                      iotca_nc_mode nc) {
    make_dated(m, cn, key_of, by, ca, NOW - YEAR, not_after, nc);
}

static void make(made *m, const char *cn, const made *by, bool ca, time_t not_after, iotca_nc_mode nc) {
    make_with(m, cn, NULL, by, ca, not_after, nc);
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
    OK(iotca_stack_parse("gnutls", &st));
    ck_assert_int_eq(st, IOTCA_STACK_GNUTLS);
    ck_assert_str_eq(iotca_stack_name(IOTCA_STACK_GNUTLS), "gnutls");
    ck_assert_str_eq(iotca_stack_name((iotca_stack)N_STACKS), "unknown");
    ck_assert_int_eq(iotca_stack_parse("schannel", &st), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "bearssl or gnutls"));
    ck_assert_int_eq(iotca_stack_parse(NULL, &st), IOTCA_E_USAGE);
}
END_TEST

/* ---- fleet check ---- */

static const char *check(const iotca_slice *store, size_t ns, const iotca_served *sched, size_t nsched, iotca_stack st,
                         time_t until, iotca_check_report *rep) {
    OK(iotca_fleet_check(store, ns, sched, nsched, st, NOW, until, rep));
    for (size_t i = 0; i < rep->n; i++)
        if (!rep->points[i].ok) return rep->points[i].reason;
    return NULL;
}

/* The first second a certificate expiring at not_after is refused: OpenSSL counts notAfter itself as past, the
 * other stacks accept through it (RFC 5280 §4.1.2.5: the validity period includes notAfter). */
static time_t breaks_at(iotca_stack st, time_t not_after) {
    return st == IOTCA_STACK_OPENSSL || st == IOTCA_STACK_OPENSSL102 ? not_after : not_after + 1;
}

/* An issuer expiring at E, judged at E and at E + 1 (issue 20, point 2): at E only the OpenSSL models refuse;
 * every report names the first second each stack refuses. */
START_TEST(not_after_is_inclusive_except_for_openssl) {
    made i;
    const time_t end = NOW + 2 * YEAR;
    make(&i, "Issuing CA ending", &r1, true, end, IOTCA_NC_NONE);
    iotca_slice store[] = {S(r1)}, chain[] = {S(i)};
    iotca_check_report rep;
    for (int st = 0; st < N_STACKS; st++) {
        const char *name = iotca_stack_name((iotca_stack)st);
        bool openssl = st == IOTCA_STACK_OPENSSL || st == IOTCA_STACK_OPENSSL102;
        iotca_served at_end[] = {{end, chain, 1, {0}}}; /* evaluated from exactly notAfter on */
        OK(iotca_fleet_check(store, 1, at_end, 1, (iotca_stack)st, end, end + YEAR, &rep));
        ck_assert_uint_gt(rep.n, 0);
        ck_assert_int_eq(rep.points[0].at, end);
        ck_assert_msg(rep.points[0].ok == !openssl, "%s at notAfter: %s", name, rep.points[0].reason);
        ck_assert_msg(rep.first_failure == breaks_at((iotca_stack)st, end), "%s: first failure %ld, notAfter %ld", name,
                      (long)rep.first_failure, (long)end);
        iotca_served after[] = {{end + 1, chain, 1, {0}}};
        OK(iotca_fleet_check(store, 1, after, 1, (iotca_stack)st, end + 1, end + YEAR, &rep));
        ck_assert_msg(!rep.points[0].ok, "%s a second after notAfter: ok", name);
        ck_assert_ptr_nonnull(strstr(rep.points[0].reason, "Issuing CA ending"));
    }
    unmake(&i);
}
END_TEST

START_TEST(incident_a_pinned_intermediate) {
    made i2;
    make(&i2, "Issuing CA 2", &r1, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice store[] = {S(inter)}, c1[] = {S(inter)}, c2[] = {S(i2)};
    iotca_served sched[] = {{NOW - YEAR, c1, 1, {0}}, {NOW + YEAR, c2, 1, {0}}};
    iotca_check_report rep;
    /* mbedTLS accepts a pinned intermediate... until the rotation */
    const char *why = check(store, 1, sched, 2, IOTCA_STACK_MBEDTLS, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW + YEAR);
    ck_assert_ptr_nonnull(why);
    ck_assert(rep.points[0].ok);
    /* OpenSSL never accepts it (no partial chains by default) */
    check(store, 1, sched, 2, IOTCA_STACK_OPENSSL, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW);
    unmake(&i2);
}
END_TEST

START_TEST(incident_b_two_roots_three_rotations) {
    made i2, i3;
    make(&i2, "Issuing CA 2", &r1, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    make(&i3, "Issuing CA 3", &r2, true, NOW + 5 * YEAR, IOTCA_NC_NONE);
    iotca_slice store[] = {S(r1), S(r2)}, c1[] = {S(inter)}, c2[] = {S(i2)}, c3[] = {S(i3)};
    iotca_served sched[] = {{NOW - YEAR, c1, 1, {0}}, {NOW + YEAR, c2, 1, {0}}, {NOW + 2 * YEAR, c3, 1, {0}}};
    for (int st = 0; st < N_STACKS; st++) {
        iotca_check_report rep;
        const char *why = check(store, 2, sched, 3, (iotca_stack)st, NOW + 3 * YEAR, &rep);
        ck_assert_msg(why == NULL, "%s: %s", iotca_stack_name((iotca_stack)st), why ? why : "");
        ck_assert_int_eq(rep.first_failure, 0);
        ck_assert_uint_ge(rep.n, 3);
    }
    unmake(&i2);
    unmake(&i3);
}
END_TEST

START_TEST(incident_c_rollover_with_cross_sign) {
    /* new root R2; R1 cross-signs it until +2y; the device holds only R1 */
    made cross, i2;
    make_with(&cross, "Root R2", &r2, &r1, true, NOW + 2 * YEAR, IOTCA_NC_NONE);
    make(&i2, "Issuing CA under R2", &r2, true, NOW + 5 * YEAR, IOTCA_NC_NONE);
    iotca_slice store[] = {S(r1)}, chain[] = {S(i2), S(cross)};
    iotca_served sched[] = {{NOW - YEAR, chain, 2, {0}}};
    iotca_stack stacks[] = {IOTCA_STACK_OPENSSL, IOTCA_STACK_OPENSSL102, IOTCA_STACK_MBEDTLS, IOTCA_STACK_WOLFSSL,
                            IOTCA_STACK_BEARSSL, IOTCA_STACK_GNUTLS};
    for (size_t k = 0; k < sizeof stacks / sizeof stacks[0]; k++) {
        iotca_check_report rep;
        check(store, 1, sched, 1, stacks[k], NOW + 4 * YEAR, &rep);
        ck_assert_msg(rep.points[0].ok, "%s fails at once: %s", iotca_stack_name(stacks[k]), rep.points[0].reason);
        ck_assert_msg(rep.first_failure == breaks_at(stacks[k], NOW + 2 * YEAR), "%s: first failure %ld",
                      iotca_stack_name(stacks[k]),
                      (long)rep.first_failure); /* the report names the day the cross-sign ends */
    }
    unmake(&cross);
    unmake(&i2);
}
END_TEST

START_TEST(incident_d_expired_cross_signing_root) {
    /* devices hold the new root R2 and the old root, which expires in 2 years; the CA still serves a
     * cross-certificate of R2 by the old root, valid for 5 years (the Let's Encrypt / DST Root CA X3 shape) */
    made cross, i2;
    make_with(&cross, "Root R2", &r2, &old_root, true, NOW + 5 * YEAR, IOTCA_NC_NONE);
    make(&i2, "Issuing CA under R2", &r2, true, NOW + 5 * YEAR, IOTCA_NC_NONE);
    iotca_slice store[] = {S(r2), S(old_root)}, chain[] = {S(i2), S(cross)};
    iotca_served sched[] = {{NOW - YEAR, chain, 2, {0}}};
    iotca_check_report rep;
    ck_assert_ptr_null(check(store, 2, sched, 1, IOTCA_STACK_OPENSSL, NOW + 4 * YEAR, &rep));
    const char *why = check(store, 2, sched, 1, IOTCA_STACK_OPENSSL102, NOW + 4 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW + 2 * YEAR);
    ck_assert_ptr_nonnull(strstr(why, "expired root"));
    ck_assert_ptr_nonnull(strstr(why, "Old Root"));
    unmake(&cross);
    unmake(&i2);
}
END_TEST

START_TEST(bearssl_and_wolfssl_anchors_are_undated) {
    /* the old root expires in 2 years; an intermediate under it lives longer */
    made i_old, cross, i2;
    make(&i_old, "Issuing CA under Old Root", &old_root, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice store[] = {S(old_root), S(r1)}, chain[] = {S(i_old)};
    iotca_served sched[] = {{NOW - YEAR, chain, 1, {0}}};
    iotca_check_report rep;
    check(store, 2, sched, 1, IOTCA_STACK_OPENSSL, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW + 2 * YEAR);
    ck_assert_ptr_null(check(store, 2, sched, 1, IOTCA_STACK_BEARSSL, NOW + 3 * YEAR, &rep));
    /* Regression: wolfSSL 5.5.4 loads an expired root without complaint and never dates an anchor, so the
     * chain still validates (test_stack_agreement.sh, row root-expired); the model used to refuse it at load. */
    ck_assert_ptr_null(check(store, 2, sched, 1, IOTCA_STACK_WOLFSSL, NOW + 3 * YEAR, &rep));
    /* Regression: a presented cross-certificate whose signer nobody loaded is passed over by wolfSSL's
     * alternative chains (WOLFSSL_ALT_CERT_CHAINS, on in Debian's build); the model used to fail on it. */
    make_with(&cross, "Root R1", &r1, &r3, true, NOW + 5 * YEAR, IOTCA_NC_NONE);
    make(&i2, "Issuing CA 2", &r1, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice store2[] = {S(r1), S(r2)}, chain2[] = {S(i2), S(cross)};
    iotca_served sched2[] = {{NOW - YEAR, chain2, 2, {0}}};
    ck_assert_ptr_null(check(store2, 2, sched2, 1, IOTCA_STACK_WOLFSSL, NOW + YEAR, &rep));
    ck_assert_ptr_null(check(store2, 2, sched2, 1, IOTCA_STACK_OPENSSL, NOW + YEAR, &rep));
    unmake(&i_old);
    unmake(&cross);
    unmake(&i2);
}
END_TEST

START_TEST(wolfssl_alternative_chains) {
    /* R1 cross-signs R2 until +1y; the issuer is under R2 */
    made cross, i2;
    make_with(&cross, "Root R2", &r2, &r1, true, NOW + YEAR, IOTCA_NC_NONE);
    make(&i2, "Issuing CA under R2", &r2, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice only_r2[] = {S(r2)}, both[] = {S(r1), S(r2)}, only_r1[] = {S(r1)}, chain[] = {S(i2), S(cross)};
    iotca_served sched[] = {{NOW - YEAR, chain, 2, {0}}};
    iotca_check_report rep;
    /* nothing loaded signed the cross-certificate: passed over, before and after it expires */
    ck_assert_ptr_null(check(only_r2, 1, sched, 1, IOTCA_STACK_WOLFSSL, NOW + 3 * YEAR, &rep));
    /* R1 is loaded: the cross-certificate is verified, so once expired it breaks the handshake, although the
     * issuer chains to R2 without it (rows cross-expired-new and cross-exp-new-only of the agreement test) */
    const char *why = check(both, 2, sched, 1, IOTCA_STACK_WOLFSSL, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW + YEAR + 1); /* the second after notAfter */
    ck_assert_ptr_nonnull(strstr(why, "a presented certificate has expired: CN=Root R2"));
    ck_assert_ptr_null(check(both, 2, sched, 1, IOTCA_STACK_OPENSSL, NOW + 3 * YEAR, &rep));
    /* only R1: the issuing CA verifies through the cross-certificate, until it expires */
    check(only_r1, 1, sched, 1, IOTCA_STACK_WOLFSSL, NOW + 3 * YEAR, &rep);
    ck_assert(rep.points[0].ok);
    ck_assert_int_eq(rep.first_failure, NOW + YEAR + 1);
    unmake(&cross);
    unmake(&i2);
}
END_TEST

START_TEST(openssl102_alternative_chains) {
    /* Regression: OpenSSL 1.0.2 (from 1.0.2b) retries a chain that ends on no trusted root without the untrusted
     * certificates at its top; the model used to stop at "no trusted root" */
    made cross, i2;
    make_with(&cross, "Root R2", &r2, &r1, true, NOW + YEAR, IOTCA_NC_NONE);
    make(&i2, "Issuing CA under R2", &r2, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice only_r2[] = {S(r2)}, both[] = {S(r1), S(r2)}, chain[] = {S(i2), S(cross)};
    iotca_served sched[] = {{NOW - YEAR, chain, 2, {0}}};
    iotca_check_report rep;
    ck_assert_ptr_null(check(only_r2, 1, sched, 1, IOTCA_STACK_OPENSSL102, NOW + 3 * YEAR, &rep));
    /* with R1 trusted the chain through the cross-certificate is complete, so no retry: its expiry breaks it */
    const char *why = check(both, 2, sched, 1, IOTCA_STACK_OPENSSL102, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW + YEAR);
    ck_assert_ptr_nonnull(strstr(why, "builds through an expired certificate: CN=Root R2"));
    unmake(&cross);
    unmake(&i2);
}
END_TEST

START_TEST(expired_anchor_ends_the_search_for_openssl_and_mbedtls) {
    /* Regression: a new root that expires in 1 year, cross-signed by R1 for 5; devices hold both. OpenSSL 3 and
     * mbedTLS take the expired new root from the store and fail; they do not fall back to the cross-certificate
     * (row new-root-expired of the agreement test). The model used to try the cross-certificate for OpenSSL.
     * GnuTLS never meets the expired root: it follows the served chain up to R1. */
    made nr, cross, inr;
    make(&nr, "New Root", NULL, true, NOW + YEAR, IOTCA_NC_NONE);
    make_with(&cross, "New Root", &nr, &r1, true, NOW + 5 * YEAR, IOTCA_NC_NONE);
    make(&inr, "Issuing CA under New Root", &nr, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice store[] = {S(nr), S(r1)}, only_new[] = {S(nr)}, chain[] = {S(inr), S(cross)};
    iotca_served sched[] = {{NOW - YEAR, chain, 2, {0}}};
    iotca_check_report rep;
    for (int st = 0; st < N_STACKS; st++) {
        const char *why = check(store, 2, sched, 1, (iotca_stack)st, NOW + 3 * YEAR, &rep);
        bool breaks = st == IOTCA_STACK_OPENSSL || st == IOTCA_STACK_MBEDTLS;
        ck_assert_msg(breaks == (why != NULL), "%s: %s", iotca_stack_name((iotca_stack)st), why ? why : "ok");
        if (breaks) {
            ck_assert_int_eq(rep.first_failure, breaks_at((iotca_stack)st, NOW + YEAR));
            ck_assert_ptr_nonnull(strstr(why, "the trust anchor has expired: CN=New Root"));
        }
    }
    /* GnuTLS without R1: the cross-certificate's signer is unknown; the retry under its own name finds the
     * new root, which must be in date */
    const char *why = check(only_new, 1, sched, 1, IOTCA_STACK_GNUTLS, NOW + 3 * YEAR, &rep);
    ck_assert(rep.points[0].ok);
    ck_assert_int_eq(rep.first_failure, NOW + YEAR + 1);
    ck_assert_str_eq(why, "the trust anchor has expired: CN=New Root");
    unmake(&nr);
    unmake(&cross);
    unmake(&inr);
}
END_TEST

START_TEST(mbedtls_takes_a_renewal_in_date) {
    /* the issuing CA (to +3y) and its renewal from R1 (same name and key, to +6y) */
    made renewal, early;
    make_with(&renewal, "Issuing CA 1", &inter, &r1, true, NOW + 6 * YEAR, IOTCA_NC_NONE);
    /* Regression: sent after the issuing CA, the renewal carries the chain once the issuing CA has expired for
     * OpenSSL 3 and mbedTLS, which take the first presented issuer in date (row renewal-sent-after); the model used
     * to fail at the issuing CA's end. OpenSSL 1.0.2 and BearSSL take the first in order, wolfSSL and GnuTLS judge
     * the expired copy too. Sent first (row renewal-sent-first), it fails only wolfSSL. */
    iotca_slice roots[] = {S(r1), S(r2)}, after[] = {S(inter), S(renewal)}, first[] = {S(renewal), S(inter)};
    iotca_served s_after[] = {{NOW - YEAR, after, 2, {0}}}, s_first[] = {{NOW - YEAR, first, 2, {0}}};
    iotca_check_report rep;
    for (int st = 0; st < N_STACKS; st++) {
        const char *name = iotca_stack_name((iotca_stack)st), *why;
        why = check(roots, 2, s_after, 1, (iotca_stack)st, NOW + 5 * YEAR, &rep);
        bool ok = st == IOTCA_STACK_OPENSSL || st == IOTCA_STACK_MBEDTLS;
        ck_assert_msg(ok == (why == NULL), "sent after, %s: %s", name, why ? why : "ok");
        if (!ok)
            ck_assert_msg(rep.first_failure == breaks_at((iotca_stack)st, NOW + 3 * YEAR),
                          "sent after, %s: breaks at the wrong date", name);
        why = check(roots, 2, s_first, 1, (iotca_stack)st, NOW + 5 * YEAR, &rep);
        ck_assert_msg((st != IOTCA_STACK_WOLFSSL) == (why == NULL), "sent first, %s: %s", name, why ? why : "ok");
    }
    /* stored before it is valid (from +1y): mbedTLS takes a stored CA out of date only when none with the name and
     * key is in date (x509_crt_find_parent_in's fallback; rows renewal-early-only and renewal-early-int) */
    make_dated(&early, "Issuing CA 1", &inter, &r1, true, NOW + YEAR, NOW + 6 * YEAR, IOTCA_NC_NONE);
    iotca_slice early_only[] = {S(early)}, early_and_inter[] = {S(early), S(inter)}, chain[] = {S(inter)};
    iotca_served sched[] = {{NOW - YEAR, chain, 1, {0}}};
    const char *why = check(early_only, 1, sched, 1, IOTCA_STACK_MBEDTLS, NOW + 5 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW);
    ck_assert_str_eq(why, "the trust anchor is not yet valid: CN=Issuing CA 1");
    for (size_t i = 0; i < rep.n; i++) /* from +1y the renewal anchors, whatever the served copy's dates */
        ck_assert_msg(rep.points[i].ok == (rep.points[i].at >= NOW + YEAR), "point %zu: %s", i, rep.points[i].reason);
    ck_assert_ptr_null(check(early_and_inter, 2, sched, 1, IOTCA_STACK_MBEDTLS, NOW + 5 * YEAR, &rep));
    unmake(&renewal);
    unmake(&early);
}
END_TEST

START_TEST(bearssl_tries_every_anchor_with_the_name) {
    /* Regression: BearSSL 0.6 tries every anchor whose DN is the issuer's, not only the first (rows
     * same-dn-impostor-1st and dn-match-then-cross of the agreement test); the model used to stop at the first. */
    made impostor, cross, i2;
    make(&impostor, "Root R1", NULL, true, NOW + 25 * YEAR, IOTCA_NC_NONE); /* R1's name, another key */
    ck_assert(iotca_slice_eq(iotca_buf_slice(&impostor.name), iotca_buf_slice(&r1.name)));
    iotca_slice store[] = {S(impostor), S(r1)}, alone[] = {S(impostor)}, chain[] = {S(inter)};
    iotca_served sched[] = {{NOW - YEAR, chain, 1, {0}}};
    iotca_check_report rep;
    ck_assert_ptr_null(check(store, 2, sched, 1, IOTCA_STACK_BEARSSL, NOW + YEAR, &rep));
    const char *why = check(alone, 1, sched, 1, IOTCA_STACK_BEARSSL, NOW + YEAR, &rep);
    ck_assert_ptr_nonnull(strstr(why, "no anchor with the issuer's name verifies"));
    /* a name match that does not verify moves on up the chain: here to a cross-certificate R1 signed */
    made r2_impostor;
    make(&r2_impostor, "Root R2", NULL, true, NOW + 25 * YEAR, IOTCA_NC_NONE);
    make_with(&cross, "Root R2", &r2, &r1, true, NOW + 5 * YEAR, IOTCA_NC_NONE);
    make(&i2, "Issuing CA under R2", &r2, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice store2[] = {S(r2_impostor), S(r1)}, chain2[] = {S(i2), S(cross)};
    iotca_served sched2[] = {{NOW - YEAR, chain2, 2, {0}}};
    ck_assert_ptr_null(check(store2, 2, sched2, 1, IOTCA_STACK_BEARSSL, NOW + YEAR, &rep));
    unmake(&impostor);
    unmake(&r2_impostor);
    unmake(&cross);
    unmake(&i2);
}
END_TEST

/* Re-signs m (issued by `by`) with one extension made critical: the one with this OID, given the new value
 * (NULL: its current value). The extension is added if m has none with this OID. */
static void critical_ext(made *m, const made *by, const uint8_t *oid, size_t oid_len, const uint8_t *value,
                         size_t value_len) {
    iotca_tlv cert, tbs, alg, sig, t;
    OK(iotca_der_single(iotca_buf_slice(&m->der), IOTCA_DER_SEQUENCE, &cert));
    iotca_slice c = cert.val;
    OK(iotca_der_expect(&c, IOTCA_DER_SEQUENCE, &tbs));
    OK(iotca_der_expect(&c, IOTCA_DER_SEQUENCE, &alg));
    OK(iotca_der_expect(&c, IOTCA_DER_BIT_STRING, &sig));
    iotca_buf new_tbs = {0};
    iotca_der w;
    iotca_der_init(&w, &new_tbs);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_slice in = tbs.val;
    for (;;) { /* everything up to the extensions, as is */
        OK(iotca_der_next(&in, &t));
        if (t.tag == IOTCA_DER_CTX_CONS(3)) break;
        iotca_der_raw(&w, t.tlv.p, t.tlv.len);
    }
    iotca_tlv exts;
    OK(iotca_der_single(t.val, IOTCA_DER_SEQUENCE, &exts));
    iotca_der_begin(&w, IOTCA_DER_CTX_CONS(3));
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    for (iotca_slice e = exts.val; e.len;) {
        iotca_tlv ext, eoid, crit, val;
        bool has;
        OK(iotca_der_expect(&e, IOTCA_DER_SEQUENCE, &ext));
        iotca_slice x = ext.val;
        OK(iotca_der_expect(&x, IOTCA_DER_OID, &eoid));
        OK(iotca_der_optional(&x, IOTCA_DER_BOOLEAN, &crit, &has));
        OK(iotca_der_expect(&x, IOTCA_DER_OCTET_STRING, &val));
        if (eoid.val.len == oid_len && memcmp(eoid.val.p, oid, oid_len) == 0) {
            if (value == NULL) value = val.val.p, value_len = val.val.len;
            continue; /* written again below, critical */
        }
        iotca_der_raw(&w, ext.tlv.p, ext.tlv.len);
    }
    ck_assert_ptr_nonnull(value);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_oid(&w, oid, oid_len);
    iotca_der_bool(&w, 1);
    iotca_der_prim(&w, IOTCA_DER_OCTET_STRING, value, value_len);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    iotca_der_end(&w);
    OK(iotca_der_finish(&w));
    iotca_buf signature = {0}, out = {0};
    OK(iotca_key_sign(by->key, iotca_buf_slice(&new_tbs), &signature));
    iotca_der_init(&w, &out);
    iotca_der_begin(&w, IOTCA_DER_SEQUENCE);
    iotca_der_raw(&w, new_tbs.data, new_tbs.len);
    iotca_der_raw(&w, alg.tlv.p, alg.tlv.len);
    iotca_der_bits(&w, signature.data, signature.len);
    iotca_der_end(&w);
    OK(iotca_der_finish(&w));
    iotca_buf_free(&new_tbs);
    iotca_buf_free(&signature);
    iotca_buf_free(&m->der);
    m->der = out;
}

/* A CA under `by` that also carries (noncritical) extKeyUsage, authorityInfoAccess and cRLDistributionPoints. */
static void make_rich_ca(made *m, const char *cn, const made *by) {
    how h = {.ca = true, .path_len = 0, .not_before = NOW - YEAR, .not_after = NOW + 3 * YEAR, .eku = IOTCA_EKU_SERVER,
             .ca_issuers_url = "http://pki.example.com/r1.cer", .crl_url = "http://pki.example.com/r1.crl"};
    fixture_make(m, cn, by, h);
}

START_TEST(critical_extensions_per_stack) {
    /* Regression: which critical extension each real library processes, as the agreement test found them
     * (rows eku-critical, aia-critical, crldp-critical, policies-critical, anypolicy-critical,
     * policyconstr-crit). The model used to reject only what iotca does not parse, and only on mbedTLS and
     * BearSSL; OpenSSL refuses a critical authorityInfoAccess, BearSSL a critical extKeyUsage, mbedTLS a
     * critical authorityInfoAccess, cRLDistributionPoints or certificatePolicies other than anyPolicy. */
    static const uint8_t eku[] = {0x55, 0x1d, 0x25}, aia[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01},
                         crldp[] = {0x55, 0x1d, 0x1f}, policies[] = {0x55, 0x1d, 0x20}, pc[] = {0x55, 0x1d, 0x24},
                         /* SEQUENCE { PolicyInformation { 1.3.6.1.4.1.55555.1 } } */
        private_policy[] = {0x30, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x03, 0x01},
                         any_policy[] = {0x30, 0x08, 0x30, 0x06, 0x06, 0x04, 0x55, 0x1d, 0x20, 0x00},
                         require_explicit[] = {0x30, 0x03, 0x80, 0x01, 0x00};
    static const struct {
        const char *cn;
        const uint8_t *oid;
        size_t oid_len;
        const uint8_t *value;
        size_t value_len;
        const char *breaks; /* the stacks that refuse it, as "|name|name|" */
        const char *named;  /* what the reason names */
    } cases[] = {
        {"critical EKU", eku, sizeof eku, NULL, 0, "|bearssl|", "extKeyUsage"},
        {"critical AIA", aia, sizeof aia, NULL, 0, "|openssl|openssl102|mbedtls|", "authorityInfoAccess"},
        {"critical CRL DP", crldp, sizeof crldp, NULL, 0, "|openssl102|mbedtls|", "cRLDistributionPoints"},
        {"critical policies", policies, sizeof policies, private_policy, sizeof private_policy, "|mbedtls|",
         "other than anyPolicy"},
        {"critical anyPolicy", policies, sizeof policies, any_policy, sizeof any_policy, "||", ""},
        {"critical policyConstraints", pc, sizeof pc, require_explicit, sizeof require_explicit,
         "|mbedtls|bearssl|gnutls|", "policyConstraints"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        made ca;
        make_rich_ca(&ca, cases[i].cn, &r1);
        critical_ext(&ca, &r1, cases[i].oid, cases[i].oid_len, cases[i].value, cases[i].value_len);
        iotca_slice store[] = {S(r1), S(r2)}, chain[] = {S(ca)};
        iotca_served sched[] = {{NOW - YEAR, chain, 1, {0}}};
        for (int st = 0; st < N_STACKS; st++) {
            iotca_check_report rep;
            const char *name = iotca_stack_name((iotca_stack)st);
            char bar[32];
            snprintf(bar, sizeof bar, "|%s|", name);
            bool breaks = strstr(cases[i].breaks, bar) != NULL;
            const char *why = check(store, 2, sched, 1, (iotca_stack)st, NOW + YEAR, &rep);
            ck_assert_msg(breaks == (why != NULL), "%s on %s: %s", cases[i].cn, name, why ? why : "ok");
            if (why) ck_assert_msg(strstr(why, cases[i].named) && strstr(why, cases[i].cn), "%s on %s: %s",
                                   cases[i].cn, name, why);
        }
        unmake(&ca);
    }
}
END_TEST

START_TEST(mbedtls_parses_every_presented_certificate) {
    /* Regression: mbedTLS parses the whole Certificate message, so a CA the path does not even need, with a
     * critical nameConstraints, fails the handshake (row stray-nc-critical); the model used to look at the path. */
    iotca_slice store[] = {S(r1), S(r2)}, chain[] = {S(inter), S(inter_nc)};
    iotca_served sched[] = {{NOW - YEAR, chain, 2, {0}}};
    iotca_check_report rep;
    const char *why = check(store, 2, sched, 1, IOTCA_STACK_MBEDTLS, NOW + YEAR, &rep);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "nameConstraints extension in: CN=Issuing CA NC"));
    for (int st = 0; st < N_STACKS; st++)
        if (st != IOTCA_STACK_MBEDTLS)
            ck_assert_msg(check(store, 2, sched, 1, (iotca_stack)st, NOW + YEAR, &rep) == NULL, "%s: %s",
                          iotca_stack_name((iotca_stack)st), rep.points[0].reason);
}
END_TEST

START_TEST(critical_nc_breaks_mbedtls_check) {
    iotca_slice store[] = {S(r1), S(r2)}, chain[] = {S(inter_nc)};
    iotca_served sched[] = {{NOW - YEAR, chain, 1, {0}}};
    iotca_check_report rep;
    const char *why = check(store, 2, sched, 1, IOTCA_STACK_MBEDTLS, NOW + YEAR, &rep);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "nameConstraints"));
    ck_assert_ptr_null(check(store, 2, sched, 1, IOTCA_STACK_OPENSSL, NOW + YEAR, &rep));
    /* bad arguments */
    ck_assert_int_eq(iotca_fleet_check(store, 2, sched, 0, IOTCA_STACK_OPENSSL, NOW, NOW + YEAR, &rep), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_fleet_check(store, 2, sched, 1, IOTCA_STACK_OPENSSL, NOW, NOW - 1, &rep), IOTCA_E_USAGE);
    static const uint8_t junk[] = {0x30, 0x00};
    iotca_slice bad[] = {iotca_slice_of(junk, 2)};
    ck_assert_int_eq(iotca_fleet_check(bad, 1, sched, 1, IOTCA_STACK_OPENSSL, NOW, NOW + YEAR, &rep), IOTCA_E_PARSE);
}
END_TEST

/* ---- lint and fleet check: one table of critical extensions (lib/fleet/stack_ext.h) ---- */

#define URL_23                                                                                                       \
    'h', 't', 't', 'p', ':', '/', '/', 'p', 'k', 'i', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', '/'

/* The finding with this code, or NULL. */
static const iotca_finding *finding(const iotca_lint_report *r, const char *code) {
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->findings[i].code, code) == 0) return &r->findings[i];
    return NULL;
}

/* One critical extension, with a value that parses, and the stacks the table says refuse it. */
typedef struct crit_case {
    const char *kind;
    const uint8_t *oid;
    size_t oid_len;
    const uint8_t *value;
    size_t value_len;
    const char *breaks; /* "|name|name|" */
    const char *named;  /* what both the lint message and the check reason name */
} crit_case;

static const uint8_t O_EKU[] = {0x55, 0x1d, 0x25}, O_NC[] = {0x55, 0x1d, 0x1e}, O_SAN[] = {0x55, 0x1d, 0x11},
                     O_AIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01},
                     O_SIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x0b}, O_CRL_DP[] = {0x55, 0x1d, 0x1f},
                     O_POLICIES[] = {0x55, 0x1d, 0x20}, O_POLICY_CONSTRAINTS[] = {0x55, 0x1d, 0x24},
                     O_INHIBIT_ANY[] = {0x55, 0x1d, 0x36},
                     O_OCSP_NOCHECK[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x05},
                     O_NS_CERT_TYPE[] = {0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x01, 0x01},
                     /* SEQUENCE { serverAuth } */
    V_EKU[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01},
                     /* permitted dNSName example.com */
    V_NC[] = {0x30, 0x11, 0xa0, 0x0f, 0x30, 0x0d, 0x82, 0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'},
                     /* dNSName ca.example.com */
    V_SAN[] = {0x30, 0x10, 0x82, 0x0e, 'c', 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'},
                     /* caIssuers, caRepository; URI http://pki.example.com/ */
    V_AIA[] = {0x30, 0x25, 0x30, 0x23, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02, 0x86, 0x17, URL_23},
                     V_SIA[] = {0x30, 0x25, 0x30, 0x23, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05,
                                0x05, 0x07, 0x30, 0x05, 0x86, 0x17, URL_23},
                     /* DistributionPoint { fullName { URI } } */
    V_CRL_DP[] = {0x30, 0x1f, 0x30, 0x1d, 0xa0, 0x1b, 0xa0, 0x19, 0x86, 0x17, URL_23},
                     /* PolicyInformation { 1.3.6.1.4.1.55555.1 } */
    V_POLICY[] = {0x30, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x03, 0x01},
                     V_ANY_POLICY[] = {0x30, 0x08, 0x30, 0x06, 0x06, 0x04, 0x55, 0x1d, 0x20, 0x00},
                     V_REQUIRE_EXPLICIT[] = {0x30, 0x03, 0x80, 0x01, 0x00}, V_SKIP_CERTS[] = {0x02, 0x01, 0x00},
                     V_NULL[] = {0x05, 0x00}, V_SSL_CA[] = {0x03, 0x02, 0x02, 0x04};

#define CASE(kind, oid, value, breaks, named) {kind, oid, sizeof oid, value, sizeof value, breaks, named}

/* Every kind the table has a row for that iotca's (wolfSSL's) parser lets through. The verdicts of the first
 * eight are what the real libraries did in tests/integration/test_stack_agreement.sh; GnuTLS's, all twelve, are
 * what certtool --verify did with an intermediate carrying each. */
static const crit_case CRIT_CASES[] = {
    CASE("EKU", O_EKU, V_EKU, "|bearssl|", "extKeyUsage"),
    CASE("NC", O_NC, V_NC, "|mbedtls|bearssl|", "nameConstraints"),
    CASE("AIA", O_AIA, V_AIA, "|openssl|openssl102|mbedtls|", "authorityInfoAccess"),
    CASE("CRL DP", O_CRL_DP, V_CRL_DP, "|openssl102|mbedtls|", "cRLDistributionPoints"),
    CASE("policies", O_POLICIES, V_POLICY, "|mbedtls|", "certificatePolicies (other than anyPolicy)"),
    CASE("anyPolicy", O_POLICIES, V_ANY_POLICY, "||", "certificatePolicies"),
    CASE("policyConstraints", O_POLICY_CONSTRAINTS, V_REQUIRE_EXPLICIT, "|mbedtls|bearssl|gnutls|",
         "policyConstraints"),
    CASE("SAN", O_SAN, V_SAN, "||", "subjectAltName"),
    CASE("SIA", O_SIA, V_SIA, "|openssl|openssl102|mbedtls|gnutls|", "subjectInfoAccess"),
    CASE("inhibitAnyPolicy", O_INHIBIT_ANY, V_SKIP_CERTS, "|mbedtls|bearssl|", "inhibitAnyPolicy"),
    CASE("ocspNoCheck", O_OCSP_NOCHECK, V_NULL, "|openssl102|mbedtls|bearssl|gnutls|", "ocspNoCheck"),
    CASE("nsCertType", O_NS_CERT_TYPE, V_SSL_CA, "|bearssl|gnutls|", "nsCertType"),
};

static bool listed(const char *bars, iotca_stack st) {
    char bar[32];
    snprintf(bar, sizeof bar, "|%s|", iotca_stack_name(st));
    return strstr(bars, bar) != NULL;
}

/* Asserts that the lint (a chain.critical_ext about `subject`) and the fleet check (a failure at once) agree:
 * both or neither, and both name the extension. */
static void assert_agree(const crit_case *k, iotca_stack st, const iotca_slice *store, size_t ns,
                         const iotca_slice *chain, size_t nc, const char *subject, bool expect) {
    const char *name = iotca_stack_name(st);
    iotca_lint_report lint;
    iotca_check_report rep;
    OK(iotca_lint_trust_store(store, ns, chain, nc, st, NOW, 0, &lint));
    iotca_served sched[] = {{NOW - YEAR, chain, nc, {0}}};
    const char *why = check(store, ns, sched, 1, st, NOW + YEAR, &rep);
    const iotca_finding *f = finding(&lint, "chain.critical_ext");
    ck_assert_msg(expect == (why != NULL), "%s on %s, check: %s", k->kind, name, why ? why : "ok");
    ck_assert_msg(expect == (f != NULL), "%s on %s, lint: %s", k->kind, name, f ? f->message : "no finding");
    ck_assert_msg(lint.n == (f ? 1u : 0u), "%s on %s: %zu findings, first %s", k->kind, name, lint.n,
                  lint.n ? lint.findings[0].code : "");
    if (!expect) return;
    char critical[160];
    snprintf(critical, sizeof critical, "cannot process a critical %s extension", k->named);
    ck_assert_msg(strstr(why, critical) && strstr(why, subject), "%s on %s, check: %s", k->kind, name, why);
    ck_assert_msg(strstr(f->message, critical) && strncmp(f->message, name, strlen(name)) == 0, "%s on %s, lint: %s",
                  k->kind, name, f->message);
    ck_assert_int_eq(f->severity, IOTCA_LINT_ERROR);
    ck_assert_str_eq(f->subject, subject);
}

START_TEST(lint_and_check_agree_on_critical_extensions_in_served_cas) {
    /* Regression: the lint used its own rules (critical nameConstraints on mbedTLS and BearSSL; anything iotca
     * does not parse on every stack), so it flagged chains the fleet check passes and missed what it refuses. */
    for (size_t i = 0; i < sizeof CRIT_CASES / sizeof CRIT_CASES[0]; i++) {
        const crit_case *k = &CRIT_CASES[i];
        made ca;
        char cn[64], subject[80];
        snprintf(cn, sizeof cn, "Issuing CA critical %s", k->kind);
        snprintf(subject, sizeof subject, "CN=%s", cn);
        make_rich_ca(&ca, cn, &r1);
        critical_ext(&ca, &r1, k->oid, k->oid_len, k->value, k->value_len);
        iotca_slice store[] = {S(r1), S(r2)}, chain[] = {S(ca)};
        for (int st = 0; st < N_STACKS; st++)
            assert_agree(k, (iotca_stack)st, store, 2, chain, 1, subject, listed(k->breaks, (iotca_stack)st));
        unmake(&ca);
    }
}
END_TEST

START_TEST(lint_and_check_agree_on_critical_extensions_in_roots) {
    /* The root carries the critical extension. OpenSSL and GnuTLS check the anchor they build to like any
     * certificate and mbedTLS cannot load it; BearSSL's anchors are a name and a key, and wolfSSL processes all of
     * these. */
    for (size_t i = 0; i < sizeof CRIT_CASES / sizeof CRIT_CASES[0]; i++) {
        const crit_case *k = &CRIT_CASES[i];
        made root, ca;
        char cn[64], subject[80];
        snprintf(cn, sizeof cn, "Root critical %s", k->kind);
        snprintf(subject, sizeof subject, "CN=%s", cn);
        make(&root, cn, NULL, true, NOW + 25 * YEAR, IOTCA_NC_NONE);
        make(&ca, "Issuing CA under it", &root, true, NOW + 3 * YEAR, IOTCA_NC_NONE);
        critical_ext(&root, &root, k->oid, k->oid_len, k->value, k->value_len); /* same name and key: ca still chains */
        iotca_slice store[] = {S(root), S(r2)}, chain[] = {S(ca)};
        for (int st = 0; st < N_STACKS; st++) {
            bool anchor = st == IOTCA_STACK_OPENSSL || st == IOTCA_STACK_OPENSSL102 || st == IOTCA_STACK_MBEDTLS ||
                          st == IOTCA_STACK_GNUTLS;
            assert_agree(k, (iotca_stack)st, store, 2, chain, 1, subject, anchor && listed(k->breaks, (iotca_stack)st));
        }
        unmake(&root);
        unmake(&ca);
    }
}
END_TEST

START_TEST(lint_names_what_one_stack_cannot_process) {
    /* policyConstraints is not one iotca itself interprets (n_unknown_critical): the old lint called it "a
     * critical extension iotca does not know" on every stack. Now only the stacks that refuse it get the finding,
     * and it names the stack, the library and the extension. */
    made ca;
    make_rich_ca(&ca, "Issuing CA critical PC", &r1);
    critical_ext(&ca, &r1, O_POLICY_CONSTRAINTS, sizeof O_POLICY_CONSTRAINTS, V_REQUIRE_EXPLICIT,
                 sizeof V_REQUIRE_EXPLICIT);
    iotca_slice store[] = {S(r1), S(r2)}, chain[] = {S(ca)};
    iotca_lint_report rep;
    OK(iotca_lint_trust_store(store, 2, chain, 1, IOTCA_STACK_OPENSSL, NOW, 0, &rep));
    ck_assert_uint_eq(rep.n, 0);
    OK(iotca_lint_trust_store(store, 2, chain, 1, IOTCA_STACK_BEARSSL, NOW, 0, &rep));
    ck_assert_uint_eq(rep.n, 1);
    ck_assert_uint_eq(rep.errors, 1);
    ck_assert_str_eq(rep.findings[0].code, "chain.critical_ext");
    ck_assert_str_eq(rep.findings[0].subject, "CN=Issuing CA critical PC");
    ck_assert_str_eq(rep.findings[0].message, "bearssl: BearSSL 0.6 cannot process a critical policyConstraints "
                                              "extension: every path through this certificate fails");
    /* mbedTLS refuses it even in a CA the path does not need (the stray-nc-critical row, with policyConstraints) */
    iotca_slice stray[] = {S(inter), S(ca)};
    OK(iotca_lint_trust_store(store, 2, stray, 2, IOTCA_STACK_MBEDTLS, NOW, 0, &rep));
    ck_assert_uint_eq(rep.n, 1);
    ck_assert_str_eq(rep.findings[0].code, "chain.critical_ext");
    ck_assert_str_eq(rep.findings[0].subject, "CN=Issuing CA critical PC");
    ck_assert_str_eq(rep.findings[0].message,
                     "mbedtls: mbedTLS 2.28 cannot process a critical policyConstraints extension, and it parses every "
                     "certificate the server sends: the handshake fails whether or not the path needs this one");
    iotca_served sched[] = {{NOW - YEAR, stray, 2, {0}}};
    iotca_check_report chk;
    const char *why = check(store, 2, sched, 1, IOTCA_STACK_MBEDTLS, NOW + YEAR, &chk);
    ck_assert_ptr_nonnull(why);
    ck_assert_str_eq(why, "cannot process a critical policyConstraints extension in: CN=Issuing CA critical PC");
    unmake(&ca);
    /* mbedTLS and certificatePolicies: the finding says which policies it refuses */
    make_rich_ca(&ca, "Issuing CA private policy", &r1);
    critical_ext(&ca, &r1, O_POLICIES, sizeof O_POLICIES, V_POLICY, sizeof V_POLICY);
    chain[0] = S(ca);
    OK(iotca_lint_trust_store(store, 2, chain, 1, IOTCA_STACK_MBEDTLS, NOW, 0, &rep));
    ck_assert_uint_eq(rep.n, 1);
    ck_assert_ptr_nonnull(
        strstr(rep.findings[0].message, "a critical certificatePolicies (other than anyPolicy) extension"));
    /* a root: only for a stack that processes its anchor's extensions */
    made root;
    make(&root, "Root critical NC", NULL, true, NOW + 25 * YEAR, IOTCA_NC_NONE);
    critical_ext(&root, &root, O_NC, sizeof O_NC, V_NC, sizeof V_NC);
    iotca_slice roots[] = {S(root), S(r2)};
    OK(iotca_lint_trust_store(roots, 2, NULL, 0, IOTCA_STACK_MBEDTLS, NOW, 0, &rep));
    ck_assert_uint_eq(rep.n, 1);
    ck_assert_str_eq(rep.findings[0].subject, "CN=Root critical NC");
    ck_assert_str_eq(rep.findings[0].message,
                     "mbedtls: mbedTLS 2.28 cannot process a critical nameConstraints extension in this root: no path "
                     "ending at it validates");
    OK(iotca_lint_trust_store(roots, 2, NULL, 0, IOTCA_STACK_BEARSSL, NOW, 0, &rep));
    ck_assert_uint_eq(rep.n, 0);
    /* a stack out of range is a usage error, not a silent pass */
    ck_assert_int_eq(iotca_lint_trust_store(roots, 2, NULL, 0, (iotca_stack)7, NOW, 0, &rep), IOTCA_E_USAGE);
    iotca_served none[] = {{NOW - YEAR, roots, 1, {0}}};
    ck_assert_int_eq(iotca_fleet_check(roots, 2, none, 1, (iotca_stack)7, NOW, NOW + YEAR, &chk), IOTCA_E_USAGE);
    unmake(&ca);
    unmake(&root);
}
END_TEST

START_TEST(extensions_no_stack_parser_accepts) {
    /* A private critical OID, or a critical policyMappings: wolfSSL's parser refuses the certificate. The check and
     * the lint judge it per stack all the same (issue 20, point 5): every stack refuses the private OID (RFC 5280
     * §4.2), only the OpenSSLs process policyMappings, and wolfSSL fails where it cannot parse. */
    static const uint8_t private_oid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x03, 0x09},
                         mappings[] = {0x55, 0x1d, 0x21},
                         v_mappings[] = {0x30, 0x18, 0x30, 0x16, 0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2,
                                         0x03, 0x01, 0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x03, 0x02};
    const struct {
        const uint8_t *oid, *value;
        size_t oid_len, value_len;
        unsigned accepted_by; /* the stacks that process it, 1 << stack */
    } cases[] = {{private_oid, V_NULL, sizeof private_oid, sizeof V_NULL, 0},
                 {mappings, v_mappings, sizeof mappings, sizeof v_mappings,
                  1u << IOTCA_STACK_OPENSSL | 1u << IOTCA_STACK_OPENSSL102}};
    for (size_t i = 0; i < 2; i++) {
        made ca;
        make_rich_ca(&ca, "Issuing CA unparseable", &r1);
        critical_ext(&ca, &r1, cases[i].oid, cases[i].oid_len, cases[i].value, cases[i].value_len);
        iotca_slice store[] = {S(r1), S(r2)}, chain[] = {S(ca)};
        iotca_served sched[] = {{NOW - YEAR, chain, 1, {0}}};
        iotca_lint_report rep;
        iotca_check_report chk;
        iotca_cert *strict = NULL;
        ck_assert_int_eq(iotca_cert_parse(S(ca), &strict), IOTCA_E_PARSE); /* wolfSSL refuses it */
        for (int st = 0; st < N_STACKS; st++) {
            const char *name = iotca_stack_name((iotca_stack)st);
            bool accepted = (cases[i].accepted_by >> st) & 1;
            const char *why = check(store, 2, sched, 1, (iotca_stack)st, NOW + YEAR, &chk);
            ck_assert_msg(accepted == (why == NULL), "case %zu, %s: %s", i, name, why ? why : "ok");
            if (st == IOTCA_STACK_WOLFSSL) ck_assert_ptr_nonnull(strstr(why, "wolfSSL 5.5.4 cannot parse"));
            OK(iotca_lint_trust_store(store, 2, chain, 1, (iotca_stack)st, NOW, 0, &rep));
            ck_assert_msg(accepted == !has(&rep, "chain.critical_ext"), "case %zu, %s: lint", i, name);
        }
        unmake(&ca);
    }
}
END_TEST

/* ---- gnutls: what GnuTLS 3.7 does that the other models do not (each seen with certtool --verify) ---- */

START_TEST(gnutls_anchors_at_a_stored_name_and_key) {
    /* any stored certificate with the name and key of one on the path anchors it, self-signed or not: a pinned
     * intermediate (row store-pins-int), and a renewal of it with a later end, which keeps devices working after
     * the served one expires: only the stored certificate's dates count (certtool: a served issuer past its end
     * verified against a stored renewal with its name and key) */
    made renewal;
    make_with(&renewal, "Issuing CA 1", &inter, &r1, true, NOW + 6 * YEAR, IOTCA_NC_NONE);
    iotca_slice pinned[] = {S(inter)}, renewed[] = {S(renewal)}, chain[] = {S(inter)};
    iotca_served sched[] = {{NOW - YEAR, chain, 1, {0}}};
    iotca_check_report rep;
    const char *why = check(pinned, 1, sched, 1, IOTCA_STACK_GNUTLS, NOW + 5 * YEAR, &rep);
    ck_assert(rep.points[0].ok);
    ck_assert_int_eq(rep.first_failure, NOW + 3 * YEAR + 1); /* the pinned certificate itself expires */
    ck_assert_str_eq(why, "the trust anchor has expired: CN=Issuing CA 1");
    ck_assert_ptr_nonnull(check(pinned, 1, sched, 1, IOTCA_STACK_OPENSSL, NOW + 2 * YEAR, &rep));
    ck_assert_ptr_null(check(renewed, 1, sched, 1, IOTCA_STACK_GNUTLS, NOW + 5 * YEAR, &rep));
    /* a pinned intermediate does not end the search: the stored root it names is tried first, and a critical
     * extension GnuTLS cannot process there is final, not retried */
    made root, ca;
    make(&root, "Root critical PC", NULL, true, NOW + 25 * YEAR, IOTCA_NC_NONE);
    make(&ca, "Issuing CA under it", &root, true, NOW + 3 * YEAR, IOTCA_NC_NONE);
    critical_ext(&root, &root, O_POLICY_CONSTRAINTS, sizeof O_POLICY_CONSTRAINTS, V_REQUIRE_EXPLICIT,
                 sizeof V_REQUIRE_EXPLICIT);
    iotca_slice both[] = {S(ca), S(root)}, alone[] = {S(ca)}, chain2[] = {S(ca)};
    iotca_served sched2[] = {{NOW - YEAR, chain2, 1, {0}}};
    why = check(both, 2, sched2, 1, IOTCA_STACK_GNUTLS, NOW + YEAR, &rep);
    ck_assert_str_eq(why, "cannot process a critical policyConstraints extension in: CN=Root critical PC");
    ck_assert_ptr_null(check(alone, 1, sched2, 1, IOTCA_STACK_GNUTLS, NOW + YEAR, &rep));
    unmake(&renewal);
    unmake(&root);
    unmake(&ca);
}
END_TEST

START_TEST(gnutls_retries_under_the_tops_own_name) {
    /* R1 cross-signs R2 until +1y; the issuer is under R2. With both roots stored, the expired cross-certificate
     * is retried under its own name, where R2 has that name and key (row cross-expired-new; wolfSSL and OpenSSL
     * 1.0.2 fail there). With R1 alone the retry finds nothing, and the first verdict stands. */
    made cross, i2;
    make_with(&cross, "Root R2", &r2, &r1, true, NOW + YEAR, IOTCA_NC_NONE);
    make(&i2, "Issuing CA under R2", &r2, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice both[] = {S(r1), S(r2)}, only_r1[] = {S(r1)}, chain[] = {S(i2), S(cross)};
    iotca_served sched[] = {{NOW - YEAR, chain, 2, {0}}};
    iotca_check_report rep;
    ck_assert_ptr_null(check(both, 2, sched, 1, IOTCA_STACK_GNUTLS, NOW + 3 * YEAR, &rep));
    const char *why = check(only_r1, 1, sched, 1, IOTCA_STACK_GNUTLS, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW + YEAR + 1);
    ck_assert_str_eq(why, "an expired certificate on the path: CN=Root R2");
    /* a store pinning an issuer and its root, which expires first (row pinned-int-exp-root): the expired root is
     * retried under the issuer's own name, where the pinned issuer anchors; OpenSSL 3 fails with the root */
    made i_old;
    make(&i_old, "Issuing CA under Old Root", &old_root, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice pinned[] = {S(i_old), S(old_root)}, chain2[] = {S(i_old)};
    iotca_served sched2[] = {{NOW - YEAR, chain2, 1, {0}}};
    ck_assert_ptr_null(check(pinned, 2, sched2, 1, IOTCA_STACK_GNUTLS, NOW + 3 * YEAR, &rep));
    check(pinned, 2, sched2, 1, IOTCA_STACK_OPENSSL, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW + 2 * YEAR);
    /* the root alone: expired, nothing to retry with */
    iotca_slice root_only[] = {S(old_root)};
    why = check(root_only, 1, sched2, 1, IOTCA_STACK_GNUTLS, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW + 2 * YEAR + 1);
    ck_assert_str_eq(why, "the trust anchor has expired: CN=Old Root");
    unmake(&cross);
    unmake(&i2);
    unmake(&i_old);
}
END_TEST

START_TEST(gnutls_not_yet_valid_is_final) {
    /* a cross-certificate of R2 by R1 that becomes valid in a year, sent after the issuer under R2 (row
     * cross-not-yet-valid): GnuTLS follows it to R1 and, it not being valid yet, stops there, although R2 is
     * stored; only an expiry or an unknown signer is retried. OpenSSL 3 anchors the issuer at R2 at once. */
    made cross, i2;
    make_dated(&cross, "Root R2", &r2, &r1, true, NOW + YEAR, NOW + 5 * YEAR, IOTCA_NC_NONE);
    make(&i2, "Issuing CA under R2", &r2, true, NOW + 4 * YEAR, IOTCA_NC_NONE);
    iotca_slice both[] = {S(r1), S(r2)}, only_r2[] = {S(r2)}, chain[] = {S(i2), S(cross)};
    iotca_served sched[] = {{NOW - YEAR, chain, 2, {0}}};
    iotca_check_report rep;
    const char *why = check(both, 2, sched, 1, IOTCA_STACK_GNUTLS, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW);
    ck_assert_str_eq(why, "a certificate on the path is not yet valid: CN=Root R2");
    ck_assert_uint_ge(rep.n, 2);
    ck_assert(rep.points[1].at == NOW + YEAR && rep.points[1].ok); /* fine once it is valid */
    ck_assert_ptr_null(check(both, 2, sched, 1, IOTCA_STACK_OPENSSL, NOW + 3 * YEAR, &rep));
    /* R1 not stored: the signer is unknown, so the retry under R2's name anchors it */
    ck_assert_ptr_null(check(only_r2, 1, sched, 1, IOTCA_STACK_GNUTLS, NOW + 3 * YEAR, &rep));
    /* the order the server sends them in matters: each certificate's issuer is the first served one naming it,
     * so R2 itself sent before the cross-certificate ends the path at R2 (dropped, then stored) */
    iotca_slice root_first[] = {S(i2), S(r2), S(cross)}, cross_first[] = {S(i2), S(cross), S(r2)};
    iotca_served s1[] = {{NOW - YEAR, root_first, 3, {0}}}, s2[] = {{NOW - YEAR, cross_first, 3, {0}}};
    ck_assert_ptr_null(check(both, 2, s1, 1, IOTCA_STACK_GNUTLS, NOW + 3 * YEAR, &rep));
    why = check(both, 2, s2, 1, IOTCA_STACK_GNUTLS, NOW + 3 * YEAR, &rep);
    ck_assert_int_eq(rep.first_failure, NOW);
    ck_assert_str_eq(why, "a certificate on the path is not yet valid: CN=Root R2");
    unmake(&cross);
    unmake(&i2);
}
END_TEST

int main(void) {
    Suite *s = suite_create("fleet");
    TCase *tc = tcase_create("lint");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, two_roots_are_clean);
    tcase_add_test(tc, pinned_intermediate_and_leaf);
    tcase_add_test(tc, single_root);
    tcase_add_test(tc, root_expiring_before_end_of_life);
    tcase_add_test(tc, critical_name_constraints_per_stack);
    tcase_add_test(tc, served_chain_without_anchor);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, incident_a_pinned_intermediate);
    tcase_add_test(tc, not_after_is_inclusive_except_for_openssl);
    tcase_add_test(tc, incident_b_two_roots_three_rotations);
    tcase_add_test(tc, incident_c_rollover_with_cross_sign);
    tcase_add_test(tc, incident_d_expired_cross_signing_root);
    tcase_add_test(tc, bearssl_and_wolfssl_anchors_are_undated);
    tcase_add_test(tc, wolfssl_alternative_chains);
    tcase_add_test(tc, openssl102_alternative_chains);
    tcase_add_test(tc, expired_anchor_ends_the_search_for_openssl_and_mbedtls);
    tcase_add_test(tc, mbedtls_takes_a_renewal_in_date);
    tcase_add_test(tc, bearssl_tries_every_anchor_with_the_name);
    tcase_add_test(tc, critical_extensions_per_stack);
    tcase_add_test(tc, mbedtls_parses_every_presented_certificate);
    tcase_add_test(tc, critical_nc_breaks_mbedtls_check);
    tcase_add_test(tc, lint_and_check_agree_on_critical_extensions_in_served_cas);
    tcase_add_test(tc, lint_and_check_agree_on_critical_extensions_in_roots);
    tcase_add_test(tc, lint_names_what_one_stack_cannot_process);
    tcase_add_test(tc, extensions_no_stack_parser_accepts);
    tcase_add_test(tc, gnutls_anchors_at_a_stored_name_and_key);
    tcase_add_test(tc, gnutls_retries_under_the_tops_own_name);
    tcase_add_test(tc, gnutls_not_yet_valid_is_final);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    return status;
}
