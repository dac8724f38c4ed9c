/* Unit tests for the dashboard's store reads (lib/store/stats.c, certs.c): weekly counts, cert_list's text filter.
 * iotca_store_weekly counts certificates issued (created_at), revoked (revoked_at), valid ones expiring per profile
 * (not_after) and refused issuances (4xx audit records of the issuing routes) in week buckets from `since`, and
 * refuses bad arguments; iotca_store_cert_list's text filter matches the subject in any case or the DER's bytes,
 * returns the DER with the rows, and combines with the other filters. Through the API alone, so it runs on SQLite
 * and again on PostgreSQL (unit_store_stats_pg, tests/unit/with_pg.sh). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"
#include "unit_run.h"

#define W ((time_t)604800)

static int64_t issuer;

static void setup(void) {
    store_fixture_open("stats");
    issuer = store_fixture_issuer("stats-issuer");
}

static void teardown(void) { store_fixture_close(); }

/* Reserves and records a certificate; der (NULL: placeholder bytes) is what the store keeps, unread. */
static void record(const char *serial, const char *profile, const char *subject, time_t created_at, time_t not_after,
                   const char *der) {
    static const char placeholder[] = "\x30\x06\x02\x01\x02\x00\xff\x7f";
    iotca_cert_rec c = {0};
    snprintf(c.serial, sizeof c.serial, "%s", serial);
    c.issuer_id = issuer;
    snprintf(c.profile, sizeof c.profile, "%s", profile);
    snprintf(c.subject, sizeof c.subject, "%s", subject);
    c.not_before = not_after - 90 * 86400;
    c.not_after = not_after;
    c.created_at = created_at;
    c.der = der ? iotca_buf_borrow((const uint8_t *)der, strlen(der))
                : iotca_buf_borrow((const uint8_t *)placeholder, sizeof placeholder - 1);
    OK(iotca_store_serial_reserve(s, serial, issuer, created_at));
    OK(iotca_store_cert_add(s, &c));
}

/* A plain certificate for the counts: serial, profile, created_at, not_after. */
static void cert(const char *serial, const char *profile, time_t created_at, time_t not_after) {
    char subject[64];
    snprintf(subject, sizeof subject, "CN=device-%s", serial);
    record(serial, profile, subject, created_at, not_after, NULL);
}

static void fake_hash(iotca_slice data, uint8_t out[32]) { /* the store needs a hash, not SHA-256 */
    memset(out, 0x5a, 32);
    for (size_t i = 0; i < data.len; i++) out[i % 32] = (uint8_t)(out[i % 32] * 31 + data.p[i]);
}

static void audit(time_t at, const char *action, const char *outcome) {
    iotca_audit_rec a = {.at = at};
    snprintf(a.actor, sizeof a.actor, "token:0123456789abcdef");
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.subject, sizeof a.subject, "%s", action + 5);
    snprintf(a.request_id, sizeof a.request_id, "req-%lld", (long long)at);
    snprintf(a.outcome, sizeof a.outcome, "%s", outcome);
    OK(iotca_store_audit_append(s, &a, fake_hash));
}

/* Audit records of refused issuance, as the dashboard asks for them (server/ui/counts.c): the issuing routes'
 * actions as LIKE patterns, a 4xx outcome. WEEKLY_IS takes REFUSED for them. */
static const char *const issuing[] = {"POST /v1/certificates",         "POST /v1/certificates/%/renew",
                                      "POST /v1/bridges",              "POST /.well-known/est/%enroll",
                                      "POST /acme/%/order/%/finalize", NULL};
#define REFUSED_4XX ((iotca_weekly)100)

/* The weekly counts as "week:profile:n" items joined by ' ' ("" for none), so one comparison shows them all. */
static void weekly(iotca_weekly what, time_t since, size_t weeks, char *text, size_t cap) {
    iotca_week_count *v = NULL;
    size_t n = 99;
    if (what == REFUSED_4XX) OK(iotca_store_weekly_audit(s, since, weeks, issuing, "4%", &v, &n));
    else OK(iotca_store_weekly(s, what, since, weeks, &v, &n));
    text[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(text);
        snprintf(text + used, cap - used, "%s%zu:%s:%lu", i ? " " : "", v[i].week, v[i].profile, v[i].n);
    }
    if (n == 0) ck_assert_ptr_null(v);
    free(v);
}

#define WEEKLY_IS(what, since, weeks, expected)                                                                        \
    do {                                                                                                               \
        char got_[512];                                                                                                \
        weekly(what, since, weeks, got_, sizeof got_);                                                                 \
        ck_assert_str_eq(got_, expected);                                                                              \
    } while (0)

/* ---- counts by week ---- */

START_TEST(issued_by_created_week) {
    time_t far = T0 + 400 * 86400;
    cert("01", "fw", T0, far);              /* week 0, its first second */
    cert("02", "fw", T0 + 2 * W, far);      /* week 2, its first second */
    cert("03", "cam", T0 + 3 * W - 1, far); /* week 2, its last second */
    cert("04", "fw", T0 + 4 * W - 1, far);  /* week 3, its last second */
    cert("05", "fw", T0 - 1, far);          /* before since */
    cert("06", "fw", T0 + 4 * W, far);      /* at since + 4 weeks: past the end */
    WEEKLY_IS(IOTCA_WEEKLY_ISSUED, T0, 4, "0::1 2::2 3::1");
    WEEKLY_IS(IOTCA_WEEKLY_ISSUED, T0, 5, "0::1 2::2 3::1 4::1");
    WEEKLY_IS(IOTCA_WEEKLY_ISSUED, T0 - W, 1, "0::1");          /* only the one a second before T0 */
    WEEKLY_IS(IOTCA_WEEKLY_ISSUED, T0 + W, 1, "");              /* week 1 had none */
    WEEKLY_IS(IOTCA_WEEKLY_ISSUED, T0 + 2 * W, 2, "0::2 1::1"); /* buckets count from since */
    /* a revocation does not move a certificate out of the week it was issued in */
    OK(iotca_store_cert_revoke(s, "02", 1, T0 + 2 * W + 10));
    WEEKLY_IS(IOTCA_WEEKLY_ISSUED, T0, 4, "0::1 2::2 3::1");
}
END_TEST

START_TEST(revoked_by_revocation_week) {
    time_t far = T0 + 400 * 86400;
    const char *serials[] = {"11", "12", "13", "14", "15", "16"};
    for (size_t i = 0; i < 6; i++) cert(serials[i], "fw", T0 - 10 * W, far);
    OK(iotca_store_cert_revoke(s, "11", 1, T0 + 10));      /* week 0 */
    OK(iotca_store_cert_revoke(s, "12", 4, T0 + W));       /* week 1, first second */
    OK(iotca_store_cert_revoke(s, "13", 0, T0 + W + 100)); /* week 1 */
    OK(iotca_store_cert_revoke(s, "14", 1, T0 - 5));       /* before since */
    OK(iotca_store_cert_revoke(s, "15", 1, T0 + 2 * W));   /* at the end: not counted */
    /* "16" stays valid */
    WEEKLY_IS(IOTCA_WEEKLY_REVOKED, T0, 2, "0::1 1::2");
    WEEKLY_IS(IOTCA_WEEKLY_REVOKED, T0, 3, "0::1 1::2 2::1");
    WEEKLY_IS(IOTCA_WEEKLY_ISSUED, T0, 3, ""); /* all were issued weeks before */
}
END_TEST

START_TEST(expiring_per_profile_valid_only) {
    cert("21", "fw", T0 - W, T0 + 100);       /* week 0, fw */
    cert("22", "cam", T0 - W, T0 + 200);      /* week 0, cam */
    cert("23", "fw", T0 - W, T0 + W + 1);     /* week 1, fw */
    cert("24", "fw", T0 - W, T0 + 2 * W - 1); /* week 1, fw */
    cert("25", "fw", T0 - W, T0 + W + 2);     /* week 1, fw, revoked: left out */
    cert("26", "cam", T0 - W, T0 + 5 * W);    /* after the two weeks */
    cert("27", "cam", T0 - W, T0 - 1);        /* expired before since */
    cert("28", "gw", T0 - W, T0 + W);         /* week 1, gw, first second */
    OK(iotca_store_cert_revoke(s, "25", 1, T0));
    WEEKLY_IS(IOTCA_WEEKLY_EXPIRING, T0, 2, "0:cam:1 0:fw:1 1:fw:2 1:gw:1");
    WEEKLY_IS(IOTCA_WEEKLY_EXPIRING, T0, 6, "0:cam:1 0:fw:1 1:fw:2 1:gw:1 5:cam:1");
    /* revoking one takes it out of its week; the profile's row goes when its count would be 0 */
    OK(iotca_store_cert_revoke(s, "28", 1, T0));
    WEEKLY_IS(IOTCA_WEEKLY_EXPIRING, T0, 2, "0:cam:1 0:fw:1 1:fw:2");
}
END_TEST

START_TEST(refused_issuance_requests) {
    /* counted: the issuing routes answered with a 4xx status */
    audit(T0 + 1, "POST /v1/certificates", "422");
    audit(T0 + 2, "POST /v1/certificates/0a1b2c/renew", "400");
    audit(T0 + W, "POST /.well-known/est/simpleenroll", "401");
    audit(T0 + W + 1, "POST /acme/p/order/1/finalize", "403");
    audit(T0 + 3 * W, "POST /v1/bridges", "422");
    audit(T0 + 3 * W + 2, "POST /.well-known/est/lab/simpleenroll", "400");
    /* not counted: successes, other routes, 5xx, outside the weeks */
    audit(T0 + 3, "POST /v1/certificates", "201");
    audit(T0 + 4, "POST /acme/p/order/1/finalize", "200");
    audit(T0 + 5, "POST /v1/issuers", "422");
    audit(T0 + 6, "POST /v1/tokens", "400");
    audit(T0 + 7, "POST /v1/certificates/0a1b2c/revoke", "422");
    audit(T0 + 9, "POST /acme/p/new-order", "400");
    audit(T0 + 10, "POST /acme/p/order/1", "403");
    audit(T0 + 8, "POST /v1/certificates", "503");
    audit(T0 - 1, "POST /v1/certificates", "422");
    audit(T0 + 4 * W, "POST /v1/certificates", "422");
    WEEKLY_IS(REFUSED_4XX, T0, 4, "0::2 1::2 3::2");
    WEEKLY_IS(REFUSED_4XX, T0, 5, "0::2 1::2 3::2 4::1");
    WEEKLY_IS(REFUSED_4XX, T0 - W, 1, "0::1");
    /* audit records are no certificates */
    WEEKLY_IS(IOTCA_WEEKLY_ISSUED, T0 - W, 10, "");
}
END_TEST

START_TEST(weekly_refusals) {
    iotca_week_count *v = (iotca_week_count *)&v; /* not NULL: a refusal sets it */
    size_t n = 7;
    REFUSED(iotca_store_weekly(s, IOTCA_WEEKLY_ISSUED, T0, 0, &v, &n), IOTCA_E_USAGE, "weeks must be 1 to 5000");
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(n, 0);
    REFUSED(iotca_store_weekly(s, IOTCA_WEEKLY_ISSUED, T0, 5001, &v, &n), IOTCA_E_USAGE, "not 5001");
    REFUSED(iotca_store_weekly(s, (iotca_weekly)4, T0, 4, &v, &n), IOTCA_E_USAGE, "unknown weekly count 4");
    REFUSED(iotca_store_weekly(s, (iotca_weekly)-1, T0, 4, &v, &n), IOTCA_E_USAGE, "unknown weekly count -1");
    REFUSED(iotca_store_weekly(s, IOTCA_WEEKLY_REVOKED, -1, 4, &v, &n), IOTCA_E_USAGE, "before 1970");
    REFUSED(iotca_store_weekly(NULL, IOTCA_WEEKLY_ISSUED, T0, 4, &v, &n), IOTCA_E_USAGE, "NULL argument");
    REFUSED(iotca_store_weekly(s, IOTCA_WEEKLY_ISSUED, T0, 4, NULL, &n), IOTCA_E_USAGE, "NULL argument");
    REFUSED(iotca_store_weekly(s, IOTCA_WEEKLY_ISSUED, T0, 4, &v, NULL), IOTCA_E_USAGE, "NULL argument");
    /* the bounds themselves are taken; since 0 is 1970's first week */
    cert("31", "fw", 5, T0);
    OK(iotca_store_weekly(s, IOTCA_WEEKLY_ISSUED, 0, 5000, &v, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(v[0].week, 0);
    ck_assert_uint_eq(v[0].n, 1);
    free(v);
    WEEKLY_IS(IOTCA_WEEKLY_EXPIRING, T0, 1, "0:fw:1");
    /* audit counts: the same window rules, and 1 to 8 action patterns with an outcome */
    static const char *const none[] = {NULL};
    static const char *const nine[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", NULL};
    static const char *const eight[] = {"a", "b", "c", "d", "e", "f", "g", "POST /v1/certificates", NULL};
    REFUSED(iotca_store_weekly_audit(s, T0, 4, none, "4%", &v, &n), IOTCA_E_USAGE, "1 to 8 action patterns, not 0");
    REFUSED(iotca_store_weekly_audit(s, T0, 4, NULL, "4%", &v, &n), IOTCA_E_USAGE, "not 0");
    REFUSED(iotca_store_weekly_audit(s, T0, 4, nine, "4%", &v, &n), IOTCA_E_USAGE, "not 9");
    REFUSED(iotca_store_weekly_audit(s, T0, 4, issuing, NULL, &v, &n), IOTCA_E_USAGE, "need an outcome");
    REFUSED(iotca_store_weekly_audit(s, T0, 0, issuing, "4%", &v, &n), IOTCA_E_USAGE, "weeks must be 1 to 5000");
    REFUSED(iotca_store_weekly_audit(s, -1, 4, issuing, "4%", &v, &n), IOTCA_E_USAGE, "before 1970");
    audit(T0 + 1, "POST /v1/certificates", "422");
    OK(iotca_store_weekly_audit(s, T0, 1, eight, "4%", &v, &n)); /* the eighth slot is read too */
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(v[0].n, 1);
    free(v);
}
END_TEST

/* ---- cert_list's text filter ---- */

/* Four certificates whose "DER" is text the store keeps unread: what a byte match finds. */
static void searchable(void) {
    record("0b01", "fw", "CN=Kitchen-Sensor", T0, T0 + 30 * 86400, "\x30\x82 dns kitchen-sensor.example.net");
    record("0b02", "cam", "CN=Door Camera", T0, T0 + 30 * 86400, "\x30\x82 dns door-cam.example.net");
    record("0b03", "fw", "CN=Garage Opener", T0, T0 + 30 * 86400, "\x30\x82 dns garage.example.org");
    record("0b04", "fw", "CN=kitchen light", T0, T0 + 90 * 86400, "\x30\x82 dns light-1.example.net");
    OK(iotca_store_cert_revoke(s, "0b03", 1, T0 + 5));
}

/* The serials cert_list returns for f, joined by ' '; each row's DER is checked against what was recorded when
 * with_der, else it must be absent. */
static void listed(const iotca_cert_filter *f, bool with_der, char *text, size_t cap) {
    iotca_cert_rec *v = NULL;
    size_t n = 99;
    OK(iotca_store_cert_list(s, f, &v, &n));
    text[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(text);
        snprintf(text + used, cap - used, "%s%s", i ? " " : "", v[i].serial);
        if (with_der) {
            iotca_cert_rec full = {0};
            OK(iotca_store_cert_get(s, v[i].serial, &full));
            ck_assert_uint_gt(v[i].der.len, 0);
            ck_assert_uint_eq(v[i].der.len, full.der.len);
            ck_assert_mem_eq(v[i].der.data, full.der.data, full.der.len);
            iotca_cert_rec_free(&full);
        } else {
            ck_assert_uint_eq(v[i].der.len, 0);
        }
        iotca_cert_rec_free(&v[i]);
    }
    free(v);
}

#define LISTED(f, expected)                                                                                            \
    do {                                                                                                               \
        char got_[256];                                                                                                \
        listed(&(f), (f).text != NULL, got_, sizeof got_);                                                             \
        ck_assert_str_eq(got_, expected);                                                                              \
    } while (0)

START_TEST(text_matches_subject_any_case_or_der_bytes) {
    searchable();
    iotca_cert_filter f = {.status = -1, .limit = 100};
    LISTED(f, "0b01 0b02 0b03 0b04"); /* no text: all, without DER */
    f.text = "kitchen-sensor";
    LISTED(f, "0b01"); /* "CN=Kitchen-Sensor" by a lower-case query */
    f.text = "KITCHEN";
    LISTED(f, "0b01 0b04"); /* the query's case does not matter either */
    f.text = "door camera";
    LISTED(f, "0b02");
    f.text = "door-cam.example";
    LISTED(f, "0b02"); /* only in the DER */
    f.text = "GARAGE.EXAMPLE.ORG";
    LISTED(f, "0b03"); /* in the DER, lowercased first */
    f.text = "example.net";
    LISTED(f, "0b01 0b02 0b04");
    f.text = "nowhere.example";
    LISTED(f, "");
    f.text = "%"; /* no pattern: a literal, found nowhere */
    LISTED(f, "");
    f.text = "_";
    LISTED(f, "");
}
END_TEST

START_TEST(text_folds_der_case_and_finds_addresses) {
    /* a DER with NUL bytes before the names (as every real one has), a DNS name in mixed case, the 4 bytes of
     * 10.1.2.3 and a backslash (PostgreSQL's escape form doubles it) */
    static const char der[] = "\x30\x00\x02\x00 dns Hub-Backup.Example.com ip \x0a\x01\x02\x03 uri a\\b";
    iotca_cert_rec c = {0};
    snprintf(c.serial, sizeof c.serial, "0c01");
    c.issuer_id = issuer;
    snprintf(c.profile, sizeof c.profile, "fw");
    snprintf(c.subject, sizeof c.subject, "CN=hub");
    c.not_before = T0;
    c.not_after = T0 + 86400;
    c.created_at = T0;
    c.der = iotca_buf_borrow((const uint8_t *)der, sizeof der - 1);
    OK(iotca_store_serial_reserve(s, c.serial, issuer, T0));
    OK(iotca_store_cert_add(s, &c));
    record("0c02", "fw", "CN=other", T0, T0 + 86400, "\x30\x82 dns other.example.com ip 10.1.2.3");
    iotca_cert_filter f = {.status = -1, .limit = 100, .text = "hub-backup.example"};
    LISTED(f, "0c01"); /* past the NUL bytes, whatever the case in the DER */
    f.text = "HUB-BACKUP";
    LISTED(f, "0c01");
    f.text = "10.1.2.3";
    LISTED(f, "0c01 0c02"); /* 0c01 by the address's 4 bytes, 0c02 by the text (the CA checks SANs after) */
    f.text = "10.1.2.4";
    LISTED(f, "");
    f.text = "a\\b";
    LISTED(f, "0c01"); /* a backslash matches itself */
    f.text = "a\\\\b";
    LISTED(f, "");
}
END_TEST

START_TEST(text_with_other_filters) {
    searchable();
    iotca_cert_filter f = {.status = -1, .limit = 100, .text = "example"};
    LISTED(f, "0b01 0b02 0b03 0b04");
    f.profile = "fw";
    LISTED(f, "0b01 0b03 0b04");
    f.status = 0;
    LISTED(f, "0b01 0b04");
    f.expires_before = T0 + 60 * 86400;
    LISTED(f, "0b01");
    f.profile = NULL;
    LISTED(f, "0b01 0b02");
    f.status = 1;
    LISTED(f, "0b03");
    f.status = -1;
    f.expires_before = 0;
    f.after = "0b01";
    LISTED(f, "0b02 0b03 0b04");
    f.limit = 2;
    LISTED(f, "0b02 0b03");
    f.after = "0b03";
    f.text = "example.net";
    LISTED(f, "0b04");
    f.after = NULL;
    f.limit = 1;
    f.text = "KITCHEN";
    LISTED(f, "0b01");
    f.profile = "cam";
    f.limit = 100;
    LISTED(f, ""); /* cam's one certificate is no kitchen */
}
END_TEST

START_TEST(text_length_refused) {
    searchable();
    char longest[130];
    memset(longest, 'a', sizeof longest);
    longest[128] = 0;
    iotca_cert_filter f = {.status = -1, .limit = 10, .text = longest};
    LISTED(f, ""); /* 128 bytes: taken */
    longest[128] = 'a';
    longest[129] = 0;
    iotca_cert_rec *v = (iotca_cert_rec *)&v;
    size_t n = 5;
    REFUSED(iotca_store_cert_list(s, &f, &v, &n), IOTCA_E_USAGE, "search text must be 1 to 128 bytes, not 129");
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(n, 0);
    f.text = "";
    REFUSED(iotca_store_cert_list(s, &f, &v, &n), IOTCA_E_USAGE, "search text must be 1 to 128 bytes, not 0");
    f.text = "x";
    f.limit = 0; /* the other checks still hold with a text */
    REFUSED(iotca_store_cert_list(s, &f, &v, &n), IOTCA_E_USAGE, "list limit");
}
END_TEST

int main(void) {
    Suite *suite = suite_create("store_stats");
    TCase *tc = tcase_create("weekly");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, issued_by_created_week);
    tcase_add_test(tc, revoked_by_revocation_week);
    tcase_add_test(tc, expiring_per_profile_valid_only);
    tcase_add_test(tc, refused_issuance_requests);
    tcase_add_test(tc, weekly_refusals);
    suite_add_tcase(suite, tc);
    TCase *tt = tcase_create("text");
    tcase_add_checked_fixture(tt, setup, teardown);
    tcase_set_timeout(tt, 60);
    tcase_add_test(tt, text_matches_subject_any_case_or_der_bytes);
    tcase_add_test(tt, text_folds_der_case_and_finds_addresses);
    tcase_add_test(tt, text_with_other_filters);
    tcase_add_test(tt, text_length_refused);
    suite_add_tcase(suite, tt);
    return unit_run(suite);
}
