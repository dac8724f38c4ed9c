/* Unit tests of the CA's rehearsals (lib/ca/rehearsal*.c, issue 24): the configuration's refusals, the scenarios
 * a refresh makes and when it makes their leaves again, the records it keeps out of the inventory, the reports'
 * refusals, and the tick holding a staged issuer until the required trust profiles passed `next`. */
#include "ca_fixture.h"
#include "iotca/ca_rehearsal.h"
#include "iotca/pem.h"
#include "unit_run.h"

static fixture F;
static void up(void) { setup(&F); }
static void down(void) { teardown(&F); }

static const char *const REQUIRE[] = {"fw"};

static void configure(const char *const *require, size_t n) {
    iotca_rehearsal_config rc = {.name = "bench.example.com", .ttl = 3600, .n_require = n};
    for (size_t i = 0; i < n; i++) rc.require[i] = require[i];
    OK(iotca_ca_rehearsal_configure(F.ca, &rc));
}

/* The scenario named name in a fresh copy of the list (freed by the caller with iotca_rehearsal_free). */
static bool find(const char *name, iotca_rehearsal *out) {
    iotca_rehearsal *list = NULL;
    size_t n = 0;
    OK(iotca_ca_rehearsals(F.ca, true, &list, &n));
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (!found && strcmp(list[i].name, name) == 0) {
            *out = list[i];
            found = true;
        } else {
            iotca_rehearsal_free(&list[i]);
        }
    }
    free(list);
    return found;
}

/* A second issuer, signed by the fixture's root, imported to activate at `at`; its id. */
static int64_t stage(time_t at) {
    int64_t id = 0;
    iotca_buf csr_pem = {0}, cert = {0};
    iotca_csr *csr = NULL;
    OK(iotca_ca_issuer_new(F.ca, NULL, NULL, &id, &csr_pem));
    OK(iotca_csr_parse(iotca_buf_slice(&csr_pem), &csr));
    sign_ca_cert(&F, iotca_cert_get(F.root)->subject, iotca_csr_get(csr)->subject, iotca_csr_get(csr)->spki, 0, &cert);
    OK(iotca_ca_issuer_import(F.ca, id, iotca_buf_slice(&cert), at));
    iotca_csr_free(csr);
    iotca_buf_free(&csr_pem);
    iotca_buf_free(&cert);
    return id;
}

START_TEST(config_refusals) {
    iotca_rehearsal_config rc = {.name = "bench.example.com", .ttl = 3600};
    OK(iotca_rehearsal_config_check(&rc));
    const char *bad_names[] = {"", "bench", "Bench.example.com", "-a.example.com", "a-.example.com", "a..example.com",
                               "a.example.com.", "a_b.example.com",
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        rc.name = bad_names[i];
        ck_assert_int_eq(iotca_rehearsal_config_check(&rc), IOTCA_E_USAGE);
    }
    rc.name = NULL;
    ck_assert_int_eq(iotca_rehearsal_config_check(&rc), IOTCA_E_USAGE);
    rc.name = "bench.example.com";
    rc.ttl = 299;
    ck_assert_int_eq(iotca_rehearsal_config_check(&rc), IOTCA_E_USAGE);
    rc.ttl = 86401;
    ck_assert_int_eq(iotca_rehearsal_config_check(&rc), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "leaf_ttl"));
    rc.ttl = 3600;
    rc.n_require = 1;
    rc.require[0] = "";
    ck_assert_int_eq(iotca_rehearsal_config_check(&rc), IOTCA_E_USAGE);
    rc.n_require = IOTCA_REHEARSAL_REQUIRE_MAX + 1;
    ck_assert_int_eq(iotca_rehearsal_config_check(&rc), IOTCA_E_USAGE);
    rc.n_require = 0;
    rc.group = "";
    ck_assert_int_eq(iotca_rehearsal_config_check(&rc), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_ca_rehearsal_configure(F.ca, NULL), IOTCA_E_USAGE);
    ck_assert(!iotca_ca_rehearsal_enabled(F.ca));
    configure(NULL, 0);
    ck_assert(iotca_ca_rehearsal_enabled(F.ca));
    rc.group = NULL;
    ck_assert_int_eq(iotca_ca_rehearsal_configure(F.ca, &rc), IOTCA_E_USAGE); /* twice */
}
END_TEST

START_TEST(off_does_nothing) {
    int changes = 0;
    OK(iotca_ca_rehearsal_refresh(F.ca, time(NULL), &changes));
    ck_assert_int_eq(changes, 0);
    iotca_rehearsal *list = NULL;
    size_t n = 1;
    OK(iotca_ca_rehearsals(F.ca, false, &list, &n));
    ck_assert_uint_eq(n, 0);
    iotca_buf pem = {0};
    ck_assert_int_eq(iotca_ca_rehearsal_lab_root(F.ca, &pem), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_ca_rehearsal_report(F.ca, "current", "fw", true, "report", "t", NULL, NULL), IOTCA_E_USAGE);
}
END_TEST

START_TEST(scenarios_and_leaves) {
    configure(NULL, 0);
    time_t now = time(NULL);
    int changes = 0;
    OK(iotca_ca_rehearsal_refresh(F.ca, now, &changes));
    ck_assert_int_eq(changes, 6); /* every fixed scenario but next: nothing is staged */
    iotca_rehearsal *list = NULL;
    size_t n = 0;
    OK(iotca_ca_rehearsals(F.ca, false, &list, &n));
    ck_assert_uint_eq(n, IOTCA_REHEARSAL_FIXED);
    const char *names[] = {"current", "next", "expired", "revoked", "wrong-root", "intermediate-missing",
                           "critical-name-constraints"};
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(list[i].name, names[i]);
        ck_assert_uint_eq(list[i].slot, i);
        ck_assert_uint_eq(list[i].key_pem.len, 0); /* not asked for */
        ck_assert(list[i].expect_accept == (i < 2));
        iotca_rehearsal_free(&list[i]);
    }
    free(list);
    iotca_rehearsal r = {0};
    ck_assert(find("next", &r));
    ck_assert(!r.available);
    ck_assert_ptr_nonnull(strstr(r.unavailable, "no staged issuer"));
    iotca_rehearsal_free(&r);
    bool found = true;
    OK(iotca_ca_rehearsal_slot(F.ca, 1, &r, &found)); /* the TLS endpoint's view: nothing to present */
    ck_assert(!found);
    OK(iotca_ca_rehearsal_slot(F.ca, IOTCA_REHEARSAL_MAX, &r, &found));
    ck_assert(!found);

    /* current: a leaf signed by the active issuer, then the issuer; its key; not in the inventory */
    ck_assert(find("current", &r));
    ck_assert(r.available);
    ck_assert_int_eq(r.issuer_id, F.issuer);
    ck_assert_uint_gt(r.key_pem.len, 0);
    ck_assert_uint_eq(r.ocsp_der.len, 0);
    iotca_slice in = iotca_buf_slice(&r.chain_pem);
    iotca_buf leaf = {0}, ca = {0};
    OK(iotca_pem_next(&in, "CERTIFICATE", &leaf, NULL));
    OK(iotca_pem_next(&in, "CERTIFICATE", &ca, NULL));
    iotca_cert *lc = NULL;
    OK(iotca_cert_parse(iotca_buf_slice(&leaf), &lc));
    OK(iotca_cert_verify_signed_by(lc, F.issuer_cert));
    ck_assert(iotca_slice_eq(iotca_buf_slice(&ca), iotca_cert_get(F.issuer_cert)->der));
    ck_assert_int_le(iotca_cert_get(lc)->not_after - iotca_cert_get(lc)->not_before, 3600 + 300);
    iotca_cert_free(lc);
    iotca_buf_free(&leaf);
    iotca_buf_free(&ca);
    iotca_cert_rec cr = {0};
    ck_assert_int_eq(iotca_store_cert_get(F.s, r.serial, &cr), IOTCA_E_USAGE);
    char first[41];
    snprintf(first, sizeof first, "%s", r.serial);
    iotca_rehearsal_free(&r);

    /* revoked staples an answer; intermediate-missing sends the leaf alone */
    ck_assert(find("revoked", &r));
    ck_assert_uint_gt(r.ocsp_der.len, 0);
    iotca_rehearsal_free(&r);
    ck_assert(find("intermediate-missing", &r));
    in = iotca_buf_slice(&r.chain_pem);
    OK(iotca_pem_next(&in, "CERTIFICATE", &leaf, NULL));
    ck_assert_int_ne(iotca_pem_next(&in, "CERTIFICATE", &ca, NULL), IOTCA_OK);
    iotca_buf_free(&leaf);
    iotca_buf_free(&ca);
    iotca_rehearsal_free(&r);
    ck_assert(find("expired", &r));
    ck_assert_int_lt(r.not_after, now);
    iotca_rehearsal_free(&r);

    /* the store holds every leaf (lab ones with issuer 0), and the CA issuer's serials are reserved */
    iotca_rehearsal_leaf_rec *leaves = NULL;
    size_t nl = 0;
    OK(iotca_store_rehearsal_leaf_list(F.s, 0, &leaves, &nl));
    ck_assert_uint_eq(nl, 6);
    free(leaves);
    ck_assert_int_eq(iotca_store_serial_reserve(F.s, first, F.issuer, now), IOTCA_E_POLICY);

    /* the same moment: nothing made again; past half the TTL: the in-date leaves are made again */
    changes = 0;
    OK(iotca_ca_rehearsal_refresh(F.ca, now, &changes));
    ck_assert_int_eq(changes, 0);
    OK(iotca_ca_rehearsal_refresh(F.ca, now + 1900, &changes));
    ck_assert_int_eq(changes, 5); /* every in-date leaf; the expired one stays until two TTLs after its end */
    ck_assert(find("current", &r));
    ck_assert_str_ne(r.serial, first);
    iotca_rehearsal_free(&r);
}
END_TEST

START_TEST(next_and_changes) {
    configure(NULL, 0);
    time_t now = time(NULL);
    int64_t second = stage(now + 10 * DAY), third = stage(now + 20 * DAY);
    OK(iotca_ca_rehearsal_refresh(F.ca, now, NULL));
    iotca_rehearsal r = {0};
    ck_assert(find("next", &r));
    ck_assert(r.available);
    ck_assert_int_eq(r.issuer_id, second);
    ck_assert_int_eq(r.at, now + 10 * DAY);
    iotca_rehearsal_free(&r);
    char name[48];
    snprintf(name, sizeof name, "activation-%lld", (long long)third);
    ck_assert(find(name, &r));
    ck_assert_uint_eq(r.slot, IOTCA_REHEARSAL_FIXED);
    ck_assert_int_eq(r.issuer_id, third);
    ck_assert(r.expect_accept);
    iotca_rehearsal_free(&r);
    bool found = false;
    OK(iotca_ca_rehearsal_slot(F.ca, IOTCA_REHEARSAL_FIXED, &r, &found));
    ck_assert(found);
    ck_assert_uint_gt(r.key_pem.len, 0);
    iotca_rehearsal_free(&r);
}
END_TEST

START_TEST(report_refusals) {
    configure(NULL, 0);
    OK(iotca_ca_rehearsal_refresh(F.ca, time(NULL), NULL));
    ck_assert_int_eq(iotca_ca_rehearsal_report(F.ca, "nonesuch", "fw", true, "report", "t", NULL, NULL), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "no rehearsal scenario"));
    ck_assert_int_eq(iotca_ca_rehearsal_report(F.ca, "current", "fw", true, "report", "t", NULL, NULL), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "no trust profile 'fw' is registered"));
    ck_assert_int_eq(iotca_ca_rehearsal_report(F.ca, "next", "fw", true, "report", "t", NULL, NULL), IOTCA_E_POLICY);
    ck_assert_int_eq(iotca_ca_rehearsal_report(F.ca, "current", "", true, "report", "t", NULL, NULL), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_ca_rehearsal_report(F.ca, "current", "a\nb", true, "report", "t", NULL, NULL), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_ca_rehearsal_report(F.ca, "current", "fw", true, "report", "t", "bell\a", NULL),
                     IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_ca_rehearsal_report(F.ca, NULL, "fw", true, "report", "t", NULL, NULL), IOTCA_E_USAGE);
}
END_TEST

/* The tick holds a staged issuer due now while a required trust profile has not passed `next` on it. */
START_TEST(gate_holds_activation) {
    configure(REQUIRE, 1);
    time_t now = time(NULL);
    int64_t second = stage(now + 60);
    char missing[256];
    OK(iotca_ca_rehearsal_missing(F.ca, second, missing, sizeof missing));
    ck_assert_str_eq(missing, "fw");
    int changes = 0;
    OK(iotca_ca_tick(F.ca, now + 120, &changes));
    iotca_issuer_rec rec = {0};
    OK(iotca_store_issuer_get(F.s, second, &rec));
    ck_assert_int_eq(rec.state, IOTCA_ISSUER_STAGED);
    iotca_issuer_rec_free(&rec);
    /* a pass about another issuer's chain, or a failure, does not open it */
    iotca_rehearsal_result_rec res = {.issuer_id = F.issuer, .accepted = true, .passed = true, .at = now};
    snprintf(res.scenario, sizeof res.scenario, "next");
    snprintf(res.trust_profile, sizeof res.trust_profile, "fw");
    snprintf(res.source, sizeof res.source, "report");
    snprintf(res.actor, sizeof res.actor, "unit");
    OK(iotca_store_rehearsal_result_add(F.s, &res));
    res.issuer_id = second;
    res.passed = false;
    OK(iotca_store_rehearsal_result_add(F.s, &res));
    OK(iotca_ca_rehearsal_missing(F.ca, second, missing, sizeof missing));
    ck_assert_str_eq(missing, "fw");
    res.passed = true;
    OK(iotca_store_rehearsal_result_add(F.s, &res));
    OK(iotca_ca_rehearsal_missing(F.ca, second, missing, sizeof missing));
    ck_assert_str_eq(missing, "");
    OK(iotca_ca_tick(F.ca, now + 120, &changes));
    OK(iotca_store_issuer_get(F.s, second, &rec));
    ck_assert_int_eq(rec.state, IOTCA_ISSUER_ACTIVE);
    iotca_issuer_rec_free(&rec);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("rehearsal");
    TCase *tc = tcase_create("rehearsal");
    tcase_add_checked_fixture(tc, up, down);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, config_refusals);
    tcase_add_test(tc, off_does_nothing);
    tcase_add_test(tc, scenarios_and_leaves);
    tcase_add_test(tc, next_and_changes);
    tcase_add_test(tc, report_refusals);
    tcase_add_test(tc, gate_holds_activation);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return unit_run(suite()); }
