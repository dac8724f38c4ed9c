/* Unit tests for lib/store's records through its API alone: the issuer lifecycle's refused transitions, trust
 * profiles (read, replace, delete), certificates (recorded only on their issuer's reservation, their fields
 * checked, read back whole, renewals, revoked once, listed with filters and pages) and API tokens. Nothing here
 * reads the database behind the store's back, so these run on SQLite and again on PostgreSQL (issue 25):
 * tests/unit/store_fixture.h opens the database IOTCA_TEST_PG_URL names when set (unit_store_records_pg,
 * through tests/unit/with_pg.sh), else a fresh SQLite file. Moved from test_store.c, which keeps the tests
 * that need SQLite itself (migrations, WAL and checkpoints, locking, read-only files) or a row the API does not
 * show (issuer events, the serials table as a whole). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_run.h"
#include "store_fixture.h"

#define DAY ((time_t)86400)

#include "store_helpers.h"

#define ck_assert_detail_has(needle)                                                                           \
    ck_assert_msg(strstr(iotca_error_detail(), (needle)) != NULL, "detail '%s' lacks '%s'", iotca_error_detail(), \
                  (needle))

/* Each test starts on a migrated database of its own (s). */
static void setup(void) { store_fixture_open("records"); }

static void teardown(void) { store_fixture_close(); }

/* A second connection to the test's database (store_fixture_db), as test_store.c's raw one: it sees what the
 * store committed, not what its own handle might hold in a transaction left open. */
static iotca_store *other_open(void) {
    iotca_store *o = NULL;
    ck_assert_msg(iotca_store_open(store_fixture_db(), false, 2000, &o) == IOTCA_OK, "%s", iotca_error_detail());
    return o;
}

/* How many certificates the database holds with status -1 (any), 0 (valid) or 1 (revoked): what test_store.c
 * counts with SQL of its own, here as iotca_store_cert_list lists them on a second connection with no other
 * filter (every row; fewer than its limit of 1000, so none is left out). */
static size_t cert_count(int status) {
    iotca_store *o = other_open();
    iotca_cert_filter f = {.status = status, .limit = 1000};
    iotca_cert_rec *v = NULL;
    size_t n = 0;
    ck_assert_msg(iotca_store_cert_list(o, &f, &v, &n) == IOTCA_OK, "%s", iotca_error_detail());
    ck_assert_uint_lt(n, 1000);
    for (size_t i = 0; i < n; i++) iotca_cert_rec_free(&v[i]);
    free(v);
    iotca_store_close(o);
    return n;
}

static size_t cert_total(void) { return cert_count(-1); }

/* How many trust profiles the database holds (iotca_store_trust_profile_list lists every row), read on a second
 * connection. */
static size_t trust_profile_total(void) {
    iotca_store *o = other_open();
    iotca_trust_profile_rec *v = NULL;
    size_t n = 0;
    ck_assert_msg(iotca_store_trust_profile_list(o, &v, &n) == IOTCA_OK, "%s", iotca_error_detail());
    for (size_t i = 0; i < n; i++) iotca_trust_profile_rec_free(&v[i]);
    free(v);
    iotca_store_close(o);
    return n;
}

/* ---- issuers ---- */

START_TEST(transition_outside_lifecycle_refused) {
    int64_t a = add_issuer(s, "a", "fleet");
    ck_assert_int_eq(iotca_store_issuer_transition(s, a, IOTCA_ISSUER_PENDING, IOTCA_ISSUER_RETIRED, T0),
                     IOTCA_E_POLICY);
    ck_assert_detail_has("pending");
    ck_assert_detail_has("retired");
    /* pending -> staged needs the certificate: issuer_stage only */
    ck_assert_int_eq(iotca_store_issuer_transition(s, a, IOTCA_ISSUER_PENDING, IOTCA_ISSUER_STAGED, T0),
                     IOTCA_E_POLICY);
    ck_assert_int_eq(iotca_store_issuer_transition(s, a, IOTCA_ISSUER_PENDING, IOTCA_ISSUER_ACTIVE, T0),
                     IOTCA_E_POLICY);
    ck_assert_int_eq(state_of(s, a), IOTCA_ISSUER_PENDING);
    stage(s, a);
    ck_assert_int_eq(iotca_store_issuer_transition(s, a, IOTCA_ISSUER_STAGED, IOTCA_ISSUER_RETIRED, T0),
                     IOTCA_E_POLICY);
    ck_assert_int_eq(iotca_store_issuer_transition(s, a, IOTCA_ISSUER_STAGED, IOTCA_ISSUER_ACTIVE, T0), IOTCA_OK);
    ck_assert_int_eq(iotca_store_issuer_transition(s, a, IOTCA_ISSUER_ACTIVE, IOTCA_ISSUER_STAGED, T0),
                     IOTCA_E_POLICY); /* never backwards */
    ck_assert_int_eq(iotca_store_issuer_transition(s, a, IOTCA_ISSUER_ACTIVE, (iotca_issuer_state)42, T0),
                     IOTCA_E_POLICY);
    ck_assert_int_eq(state_of(s, a), IOTCA_ISSUER_ACTIVE);
}
END_TEST

/* ---- trust profiles ---- */

static void trust_rec(iotca_trust_profile_rec *r, const char *name, const char *pem, const char *stack) {
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->stack, sizeof r->stack, "%s", stack);
    r->until = T0 + 86400;
    r->created_at = T0;
    r->pem = iotca_buf_borrow((const uint8_t *)pem, strlen(pem));
}

/* Issue 19, point 8: a trust profile read, replaced (id and created_at kept) and deleted by name. */
START_TEST(trust_profile_get_replace_delete) {
    iotca_trust_profile_rec r, got = {0};
    bool found = true;
    trust_rec(&r, "fleet-a", "PEM-A", "openssl");
    ck_assert_int_eq(iotca_store_trust_profile_add(s, &r), IOTCA_OK);
    int64_t id = r.id;
    ck_assert_int_eq(iotca_store_trust_profile_get(s, "nosuch", &got, &found), IOTCA_OK);
    ck_assert(!found);
    ck_assert_int_eq(iotca_store_trust_profile_get(s, "fleet-a", &got, &found), IOTCA_OK);
    ck_assert(found);
    ck_assert_int_eq(got.id, id);
    ck_assert_str_eq(got.stack, "openssl");
    ck_assert_int_eq(got.pem.len, 5);
    trust_rec(&r, "fleet-a", "PEM-BB", "mbedtls");
    r.created_at = T0 + 99;
    ck_assert_int_eq(iotca_store_trust_profile_replace(s, &r, &found), IOTCA_OK);
    ck_assert(found);
    ck_assert_int_eq(r.id, id);
    ck_assert_int_eq(r.created_at, T0); /* from the row, not the request */
    ck_assert_int_eq(iotca_store_trust_profile_get(s, "fleet-a", &got, &found), IOTCA_OK);
    ck_assert_str_eq(got.stack, "mbedtls");
    ck_assert_int_eq(got.pem.len, 6);
    ck_assert_int_eq(got.created_at, T0);
    trust_rec(&r, "nosuch", "PEM", "openssl");
    ck_assert_int_eq(iotca_store_trust_profile_replace(s, &r, &found), IOTCA_OK);
    ck_assert(!found);
    ck_assert_int_eq(trust_profile_total(), 1); /* PUT does not create */
    r.pem = iotca_buf_borrow((const uint8_t *)"", 0);
    ck_assert_int_eq(iotca_store_trust_profile_replace(s, &r, &found), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_store_trust_profile_delete(s, "nosuch", &found), IOTCA_OK);
    ck_assert(!found);
    ck_assert_int_eq(iotca_store_trust_profile_delete(s, "fleet-a", &found), IOTCA_OK);
    ck_assert(found);
    ck_assert_int_eq(trust_profile_total(), 0);
    ck_assert_int_eq(iotca_store_trust_profile_delete(s, "fleet-a", &found), IOTCA_OK);
    ck_assert(!found);
    iotca_trust_profile_rec_free(&got);
}
END_TEST

/* ---- certificates ---- */

START_TEST(cert_add_needs_reservation) {
    int64_t a = add_issuer(s, "a", "fleet");
    int64_t b = add_issuer(s, "b", "fleet");
    iotca_cert_rec c;
    make_cert(&c, "beef01", a, "sensor", T0 + 1000);
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_POLICY);
    ck_assert_detail_has("never reserved");
    ck_assert_int_eq(cert_total(), 0);
    /* reserved, but for another issuer */
    ck_assert_int_eq(iotca_store_serial_reserve(s, "beef01", b, T0), IOTCA_OK);
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_POLICY);
    ck_assert_detail_has("reserved for issuer");
    ck_assert_int_eq(cert_total(), 0);
    c.issuer_id = b;
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_OK);
    ck_assert_int_eq(cert_total(), 1);
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_POLICY); /* recorded once */
    ck_assert_detail_has("already recorded");
    ck_assert_int_eq(cert_total(), 1);
}
END_TEST

START_TEST(cert_add_validates_fields) {
    int64_t a = add_issuer(s, "a", "fleet");
    ck_assert_int_eq(iotca_store_serial_reserve(s, "01", a, T0), IOTCA_OK);
    iotca_cert_rec c;
    make_cert(&c, "01", a, "sensor", T0 + 1000);
    memset(c.profile, 'p', sizeof c.profile);
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_USAGE);
    make_cert(&c, "01", a, "sensor", T0 + 1000);
    memset(c.subject, 's', sizeof c.subject);
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_USAGE);
    make_cert(&c, "01", a, "sensor", T0 + 1000);
    memset(c.serial, 'a', sizeof c.serial);
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_USAGE);
    make_cert(&c, "01", a, "sensor", T0 + 1000);
    c.der = iotca_buf_borrow(NULL, 0);
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_USAGE);
    make_cert(&c, "01", a, "sensor", T0 - 1);
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_USAGE);
    make_cert(&c, "01", a, "sensor", T0 + 1000);
    c.revoked = true;
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_USAGE);
    ck_assert_int_eq(cert_total(), 0);
}
END_TEST

START_TEST(cert_roundtrip) {
    int64_t a = add_issuer(s, "a", "fleet");
    iotca_cert_rec c;
    make_cert(&c, "00c0ffee", a, "thermostat", T0 + 90 * 86400);
    char subject[256];
    memset(subject, 'x', 255); /* the longest subject that fits */
    subject[255] = 0;
    memcpy(c.subject, subject, sizeof subject);
    uint8_t der[700];
    for (size_t i = 0; i < sizeof der; i++) der[i] = (uint8_t)(i * 7 + 3); /* includes NUL bytes */
    c.der = iotca_buf_borrow(der, sizeof der);
    ck_assert_int_eq(iotca_store_serial_reserve(s, "00c0ffee", a, T0), IOTCA_OK);
    ck_assert_msg(iotca_store_cert_add(s, &c) == IOTCA_OK, "%s", iotca_error_detail());

    iotca_cert_rec g = {0};
    ck_assert_int_eq(iotca_store_cert_get(s, "00c0ffee", &g), IOTCA_OK);
    ck_assert_str_eq(g.serial, "00c0ffee");
    ck_assert_int_eq(g.issuer_id, a);
    ck_assert_str_eq(g.profile, "thermostat");
    ck_assert_str_eq(g.subject, subject);
    ck_assert_uint_eq(g.der.len, sizeof der);
    ck_assert_mem_eq(g.der.data, der, sizeof der);
    ck_assert_int_eq(g.not_before, T0);
    ck_assert_int_eq(g.not_after, T0 + 90 * 86400);
    ck_assert_int_eq(g.created_at, T0 + 1);
    ck_assert(!g.revoked);
    ck_assert_int_eq(g.revoked_at, 0);
    ck_assert_int_eq(g.reason, 0);
    iotca_cert_rec_free(&g);

    ck_assert_int_eq(iotca_store_cert_get(s, "00c0fffe", &g), IOTCA_E_USAGE);
    ck_assert_detail_has("no certificate with serial 00c0fffe");
    ck_assert_uint_eq(g.der.len, 0);
}
END_TEST

/* Schema 0018: a renewal records the serial it renews; a lookup finds the latest successor from the
 * predecessor; a list shows renews; a renews that is not a recorded serial is refused, nothing recorded. */
START_TEST(cert_renews_roundtrip) {
    int64_t a = add_issuer(s, "a", "fleet");
    issue(s, "aa01", a, "thermostat", T0 + 90 * DAY);
    iotca_cert_rec c;
    for (int i = 2; i <= 3; i++) { /* two successors of aa01, the second one later */
        char serial[8];
        snprintf(serial, sizeof serial, "aa0%d", i);
        make_cert(&c, serial, a, "thermostat", T0 + 90 * DAY);
        c.created_at = T0 + 10 * i;
        snprintf(c.renews, sizeof c.renews, "aa01");
        ck_assert_int_eq(iotca_store_serial_reserve(s, serial, a, T0), IOTCA_OK);
        ck_assert_msg(iotca_store_cert_add(s, &c) == IOTCA_OK, "%s", iotca_error_detail());
    }
    iotca_cert_rec g = {0};
    ck_assert_int_eq(iotca_store_cert_get(s, "aa03", &g), IOTCA_OK);
    ck_assert_str_eq(g.renews, "aa01");
    ck_assert_str_eq(g.renewed_by, "");
    ck_assert_int_eq(iotca_store_cert_get(s, "aa01", &g), IOTCA_OK);
    ck_assert_str_eq(g.renews, "");
    ck_assert_str_eq(g.renewed_by, "aa03");
    iotca_cert_rec_free(&g);
    iotca_cert_filter f = {.status = -1, .limit = 10};
    iotca_cert_rec *list = NULL;
    size_t n = 0;
    ck_assert_int_eq(iotca_store_cert_list(s, &f, &list, &n), IOTCA_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(list[0].renews, "");
    ck_assert_str_eq(list[1].renews, "aa01");
    for (size_t i = 0; i < n; i++) iotca_cert_rec_free(&list[i]);
    free(list);
    /* renewing what is not recorded, or is not a serial */
    make_cert(&c, "aa04", a, "thermostat", T0 + 90 * DAY);
    snprintf(c.renews, sizeof c.renews, "ffff");
    ck_assert_int_eq(iotca_store_serial_reserve(s, "aa04", a, T0), IOTCA_OK);
    ck_assert_int_ne(iotca_store_cert_add(s, &c), IOTCA_OK);
    snprintf(c.renews, sizeof c.renews, "not hex");
    ck_assert_int_eq(iotca_store_cert_add(s, &c), IOTCA_E_USAGE);
    ck_assert_int_eq(cert_total(), 3);
}
END_TEST

START_TEST(cert_revoke_once) {
    int64_t a = add_issuer(s, "a", "fleet");
    issue(s, "0a", a, "sensor", T0 + 1000);
    issue(s, "0b", a, "sensor", T0 + 1000);
    ck_assert_int_eq(iotca_store_cert_revoke(s, "0a", 1, T0 + 500), IOTCA_OK);
    iotca_cert_rec g = {0};
    ck_assert_int_eq(iotca_store_cert_get(s, "0a", &g), IOTCA_OK);
    ck_assert(g.revoked);
    ck_assert_int_eq(g.revoked_at, T0 + 500);
    ck_assert_int_eq(g.reason, 1);
    ck_assert_int_eq(iotca_store_cert_get(s, "0b", &g), IOTCA_OK);
    ck_assert(!g.revoked);
    iotca_cert_rec_free(&g);

    ck_assert_int_eq(iotca_store_cert_revoke(s, "0a", 4, T0 + 600), IOTCA_E_POLICY);
    ck_assert_detail_has("already revoked");
    ck_assert_int_eq(iotca_store_cert_get(s, "0a", &g), IOTCA_OK);
    ck_assert_int_eq(g.revoked_at, T0 + 500); /* the first revocation stands */
    ck_assert_int_eq(g.reason, 1);
    iotca_cert_rec_free(&g);
    ck_assert_int_eq(iotca_store_cert_revoke(s, "0c", 1, T0), IOTCA_E_USAGE);
    ck_assert_detail_has("no certificate");
    ck_assert_int_eq(iotca_store_cert_revoke(s, "0b", 7, T0), IOTCA_E_USAGE); /* not a CRLReason */
    ck_assert_int_eq(iotca_store_cert_revoke(s, "0b", -1, T0), IOTCA_E_USAGE);

    ck_assert_int_eq(cert_total(), 2);
    ck_assert_int_eq(cert_count(1), 1); /* revoked */
}
END_TEST

static size_t list_count(iotca_store *s, const iotca_cert_filter *f, const char *first) {
    iotca_cert_rec *v = NULL;
    size_t n = 99;
    ck_assert_msg(iotca_store_cert_list(s, f, &v, &n) == IOTCA_OK, "%s", iotca_error_detail());
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(v[i].der.len, 0); /* DER bodies are not loaded */
        if (i > 0) ck_assert_int_lt(strcmp(v[i - 1].serial, v[i].serial), 0);
    }
    if (first != NULL) {
        ck_assert_uint_gt(n, 0);
        ck_assert_str_eq(v[0].serial, first);
    }
    for (size_t i = 0; i < n; i++) iotca_cert_rec_free(&v[i]);
    free(v);
    return n;
}

START_TEST(cert_list_filters) {
    int64_t a = add_issuer(s, "a", "fleet");
    /* 10 sensors expiring at T0+1000+i, 5 gateways expiring at T0+5000 */
    for (int i = 0; i < 10; i++) {
        char serial[8];
        snprintf(serial, sizeof serial, "1%02x", i);
        issue(s, serial, a, "sensor", T0 + 1000 + i);
    }
    for (int i = 0; i < 5; i++) {
        char serial[8];
        snprintf(serial, sizeof serial, "2%02x", i);
        issue(s, serial, a, "gateway", T0 + 5000);
    }
    ck_assert_int_eq(iotca_store_cert_revoke(s, "101", 1, T0), IOTCA_OK);
    ck_assert_int_eq(iotca_store_cert_revoke(s, "202", 4, T0), IOTCA_OK);

    iotca_cert_filter f = {.status = -1, .limit = 100};
    ck_assert_uint_eq(list_count(s, &f, "100"), 15);
    f.profile = "gateway";
    ck_assert_uint_eq(list_count(s, &f, "200"), 5);
    f.profile = "nobody";
    ck_assert_uint_eq(list_count(s, &f, NULL), 0);
    f.profile = NULL;
    f.status = 1;
    ck_assert_uint_eq(list_count(s, &f, "101"), 2);
    f.status = 0;
    ck_assert_uint_eq(list_count(s, &f, "100"), 13);
    f.profile = "sensor";
    ck_assert_uint_eq(list_count(s, &f, "100"), 9);
    f.profile = NULL;
    f.status = -1;
    f.expires_before = T0 + 1005; /* strictly before: 100..104 */
    ck_assert_uint_eq(list_count(s, &f, "100"), 5);
    f.expires_before = 0;
    f.after = "109";
    ck_assert_uint_eq(list_count(s, &f, "200"), 5);
    /* all four at once */
    f.profile = "sensor";
    f.status = 0;
    f.expires_before = T0 + 1008;
    f.after = "101";
    ck_assert_uint_eq(list_count(s, &f, "102"), 6); /* 102..107 */

    /* a revoked entry carries its revocation */
    iotca_cert_filter fr = {.status = 1, .limit = 1};
    iotca_cert_rec *v = NULL;
    size_t n = 0;
    ck_assert_int_eq(iotca_store_cert_list(s, &fr, &v, &n), IOTCA_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0].serial, "101");
    ck_assert(v[0].revoked);
    ck_assert_int_eq(v[0].reason, 1);
    ck_assert_str_eq(v[0].profile, "sensor");
    ck_assert_int_eq(v[0].not_after, T0 + 1001);
    ck_assert_int_eq(v[0].issuer_id, a);
    iotca_cert_rec_free(&v[0]);
    free(v);

    iotca_cert_filter bad = {.status = -1, .limit = 0};
    v = (iotca_cert_rec *)&bad;
    ck_assert_int_eq(iotca_store_cert_list(s, &bad, &v, &n), IOTCA_E_USAGE);
    ck_assert_ptr_null(v);
    bad.limit = 1001;
    ck_assert_int_eq(iotca_store_cert_list(s, &bad, &v, &n), IOTCA_E_USAGE);
    bad.limit = 1000;
    ck_assert_int_eq(list_count(s, &bad, "100"), 15);
    bad.status = 2;
    ck_assert_int_eq(iotca_store_cert_list(s, &bad, &v, &n), IOTCA_E_USAGE);
}
END_TEST

START_TEST(cert_list_paging) {
    int64_t a = add_issuer(s, "a", "fleet");
    /* inserted out of order; serial order is text order */
    for (int i = 24; i >= 0; i--) {
        char serial[8];
        snprintf(serial, sizeof serial, "%04x", i * 97 % 25 + 0x100);
        issue(s, serial, a, "sensor", T0 + 1000);
    }
    char seen[25][41];
    size_t total = 0;
    char cursor[41] = "";
    size_t pages[4] = {0};
    int page = 0;
    for (;;) {
        iotca_cert_filter f = {.status = -1, .limit = 10, .after = cursor[0] ? cursor : NULL};
        iotca_cert_rec *v = NULL;
        size_t n = 0;
        ck_assert_int_eq(iotca_store_cert_list(s, &f, &v, &n), IOTCA_OK);
        ck_assert_int_lt(page, 4);
        pages[page++] = n;
        for (size_t i = 0; i < n; i++) {
            if (total > 0) ck_assert_int_lt(strcmp(seen[total - 1], v[i].serial), 0);
            ck_assert_uint_lt(total, 25);
            memcpy(seen[total++], v[i].serial, 41);
        }
        if (n > 0) memcpy(cursor, v[n - 1].serial, 41);
        for (size_t i = 0; i < n; i++) iotca_cert_rec_free(&v[i]);
        free(v);
        if (n < 10) break;
    }
    ck_assert_int_eq(page, 3);
    ck_assert_uint_eq(pages[0], 10);
    ck_assert_uint_eq(pages[1], 10);
    ck_assert_uint_eq(pages[2], 5);
    ck_assert_uint_eq(total, 25);
    ck_assert_str_eq(seen[0], "0100");
    ck_assert_str_eq(seen[24], "0118");
}
END_TEST

/* ---- tokens ---- */

START_TEST(token_roundtrip) {
    iotca_token_rec k = {.created_at = T0};
    snprintf(k.id, sizeof k.id, "0123456789abcdef0123456789abcdef");
    for (int i = 0; i < 32; i++) k.hash[i] = (uint8_t)(255 - i * 3);
    snprintf(k.role, sizeof k.role, "provisioner");
    snprintf(k.profiles, sizeof k.profiles, "sensor,gateway");
    ck_assert_msg(iotca_store_token_add(s, &k) == IOTCA_OK, "%s", iotca_error_detail());

    iotca_token_rec g;
    memset(&g, 0x55, sizeof g);
    ck_assert_int_eq(iotca_store_token_get(s, k.id, &g), IOTCA_OK);
    ck_assert_str_eq(g.id, k.id);
    ck_assert_mem_eq(g.hash, k.hash, 32);
    ck_assert_str_eq(g.role, "provisioner");
    ck_assert_str_eq(g.profiles, "sensor,gateway");
    ck_assert_int_eq(g.created_at, T0);

    ck_assert_int_eq(iotca_store_token_add(s, &k), IOTCA_E_POLICY);
    ck_assert_detail_has("already exists");
    ck_assert_int_eq(iotca_store_token_get(s, "nope", &g), IOTCA_E_USAGE);
    ck_assert_detail_has("no such token");
    ck_assert_int_eq(iotca_store_token_get(s, "0123456789abcdef0123456789abcdef0", &g), IOTCA_E_USAGE);

    iotca_token_rec admin = {.created_at = T0};
    snprintf(admin.id, sizeof admin.id, "admin1");
    snprintf(admin.role, sizeof admin.role, "root");
    ck_assert_int_eq(iotca_store_token_add(s, &admin), IOTCA_E_USAGE);
    snprintf(admin.role, sizeof admin.role, "admin");
    memset(admin.profiles, 'p', sizeof admin.profiles);
    ck_assert_int_eq(iotca_store_token_add(s, &admin), IOTCA_E_USAGE);
    admin.profiles[0] = 0; /* "" means every profile */
    ck_assert_int_eq(iotca_store_token_add(s, &admin), IOTCA_OK);
    ck_assert_int_eq(iotca_store_token_get(s, "admin1", &g), IOTCA_OK);
    ck_assert_str_eq(g.profiles, "");
    ck_assert_str_eq(g.role, "admin");
}
END_TEST

int main(void) {
    Suite *su = suite_create("store_records");
    TCase *tc = tcase_create("records");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, transition_outside_lifecycle_refused);
    tcase_add_test(tc, trust_profile_get_replace_delete);
    tcase_add_test(tc, cert_add_needs_reservation);
    tcase_add_test(tc, cert_add_validates_fields);
    tcase_add_test(tc, cert_roundtrip);
    tcase_add_test(tc, cert_renews_roundtrip);
    tcase_add_test(tc, cert_revoke_once);
    tcase_add_test(tc, cert_list_filters);
    tcase_add_test(tc, cert_list_paging);
    tcase_add_test(tc, token_roundtrip);
    suite_add_tcase(su, tc);
    return unit_run(su);
}
