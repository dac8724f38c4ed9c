/* Unit tests for API tokens that expire, are revoked and remember their last use (lib/ca/tokens.c), the
 * parsers behind `iotcad token create --expires` and `iotcad audit show --since/--until` (iotca_time_parse,
 * iotca_ca_token_expiry_parse), and the audit trail as `audit show` reads it. */
#include "unit_run.h"
#include "iotca/timefmt.h"

#include "ca_fixture.h"

static bool parses(const char *s, time_t want) {
    time_t t = 0;
    return iotca_time_parse(s, &t) == IOTCA_OK && t == want;
}

START_TEST(time_parse_accepts_rfc3339) {
    ck_assert(parses("2030-01-31T12:00:00Z", 1896091200));
    ck_assert(parses("2030-01-31t12:00:00z", 1896091200));
    ck_assert(parses("2030-01-31T14:00:00+02:00", 1896091200)); /* RFC 3339 §5.6: local time and its offset */
    ck_assert(parses("2030-01-31T06:30:00-05:30", 1896091200));
    ck_assert(parses("2030-01-31T12:00:00.999Z", 1896091200)); /* fractions dropped */
    ck_assert(parses("2030-01-31", 1896048000));                  /* a date: midnight UTC */
    ck_assert(parses("1970-01-01T00:00:00Z", 0));
    ck_assert(parses("2028-02-29T00:00:00Z", 1835395200)); /* a leap day */
    ck_assert(parses("2000-02-29", 951782400));            /* divisible by 400: a leap year */
    char out[32];
    iotca_time_format(1896091200, out);
    ck_assert_str_eq(out, "2030-01-31T12:00:00Z");
}
END_TEST

START_TEST(time_parse_refuses_the_rest) {
    static const char *const bad[] = {"", "2030", "2030-1-31", "2030-01-31T12:00:00", "2030-01-31T12:00Z",
                                      "2030-01-31 12:00:00Z", "2030-13-01", "2030-00-10", "2030-01-32",
                                      "2029-02-29", "2100-02-29", "2030-04-31", "2030-01-31T24:00:00Z",
                                      "2030-01-31T12:60:00Z", "2030-01-31T12:00:60Z", "2030-01-31T12:00:00+24:00",
                                      "2030-01-31T12:00:00+0200", "2030-01-31T12:00:00.Z", "2030-01-31Tx",
                                      "2030-01-31T12:00:00Zjunk", "2030-01-31junk", "tomorrow", "+2030-01-31",
                                      "2030-01-31T12:00:00 Z", "90d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        time_t t = 42;
        ck_assert_msg(iotca_time_parse(bad[i], &t) == IOTCA_E_USAGE, "accepted '%s'", bad[i]);
        ck_assert_msg(t == 42, "'%s' changed the output", bad[i]);
        ck_assert_msg(strstr(iotca_error_detail(), "RFC 3339") || strstr(iotca_error_detail(), "empty"),
                      "'%s': %s", bad[i], iotca_error_detail());
    }
    time_t t;
    ck_assert_int_eq(iotca_time_parse(NULL, &t), IOTCA_E_USAGE);
}
END_TEST

START_TEST(expiry_parse) {
    time_t now = 1800000000, t = 0;
    OK(iotca_ca_token_expiry_parse("90d", now, &t));
    ck_assert_int_eq(t, now + 90 * DAY);
    OK(iotca_ca_token_expiry_parse("12h", now, &t));
    ck_assert_int_eq(t, now + 12 * 3600);
    OK(iotca_ca_token_expiry_parse("3600s", now, &t));
    ck_assert_int_eq(t, now + 3600);
    OK(iotca_ca_token_expiry_parse("2030-01-31T12:00:00Z", now, &t));
    ck_assert_int_eq(t, 1896091200);
    static const char *const bad[] = {"", "0d", "-5d", "90x", "90dd", "1.5d", "d", "99999999d",
                                      "2020-01-01T00:00:00Z", "2027-01-15T08:00:00Z" /* = now: not after it */,
                                      "2030-02-30", "next week"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 7;
        ck_assert_msg(iotca_ca_token_expiry_parse(bad[i], now, &t) == IOTCA_E_USAGE, "accepted '%s'", bad[i]);
        ck_assert_int_eq(t, 7);
    }
    ck_assert_int_eq(iotca_ca_token_expiry_parse(NULL, now, &t), IOTCA_E_USAGE);
}
END_TEST

/* The token's public id: "iotca_<id>_<secret>". */
static void id_of(const iotca_buf *tok, char id[17]) { snprintf(id, 17, "%.16s", (const char *)tok->data + 6); }

static const iotca_token_info *find(const iotca_token_info *list, size_t n, const char *id) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].id, id) == 0) return &list[i];
    return NULL;
}

START_TEST(revoked_token_refused) {
    fixture f;
    setup(&f);
    iotca_buf a = {.secret = true}, b = {.secret = true};
    OK(iotca_ca_token_create(f.ca, IOTCA_ROLE_PROVISIONER, "fw", 0, "local:test", &a));
    OK(iotca_ca_token_create(f.ca, IOTCA_ROLE_ADMIN, NULL, 0, "local:test", &b));
    char ida[17], idb[17], scope[1024];
    id_of(&a, ida);
    id_of(&b, idb);
    iotca_role role;
    OK(iotca_ca_token_check(f.ca, (const char *)a.data, &role, scope));
    ck_assert_int_eq(role, IOTCA_ROLE_PROVISIONER);
    ck_assert_str_eq(scope, "fw");
    time_t at = 0;
    OK(iotca_ca_token_revoke(f.ca, ida, "local:test", &at));
    ck_assert(at > 0);
    ck_assert_int_eq(iotca_ca_token_check(f.ca, (const char *)a.data, &role, scope), IOTCA_E_USAGE);
    ck_assert_int_eq(role, IOTCA_ROLE_NONE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "revoked"));
    ck_assert_ptr_null(strstr(iotca_error_detail(), (const char *)a.data + 23)); /* never the secret */
    OK(iotca_ca_token_check(f.ca, (const char *)b.data, &role, scope)); /* the other one still works */
    /* refusals change nothing */
    ck_assert_int_eq(iotca_ca_token_revoke(f.ca, ida, "local:test", NULL), IOTCA_E_POLICY);
    ck_assert_int_eq(iotca_ca_token_revoke(f.ca, "0000000000000000", "local:test", NULL), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "no token with id"));
    static const char *const bad[] = {"", "xyz", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "'; --"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(iotca_ca_token_revoke(f.ca, bad[i], "local:test", NULL), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_ca_token_revoke(f.ca, NULL, "local:test", NULL), IOTCA_E_USAGE);
    iotca_token_info *list = NULL;
    size_t n = 0;
    OK(iotca_ca_token_list(f.ca, &list, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(find(list, n, ida)->revoked_at, at);
    ck_assert_int_eq(find(list, n, idb)->revoked_at, 0);
    ck_assert_str_eq(find(list, n, ida)->profiles, "fw");
    ck_assert_str_eq(find(list, n, idb)->role, "admin");
    free(list);
    iotca_buf_free(&a);
    iotca_buf_free(&b);
    teardown(&f);
}
END_TEST

START_TEST(expired_token_refused) {
    fixture f;
    setup(&f);
    iotca_buf a = {.secret = true};
    ck_assert_int_eq(iotca_ca_token_create(f.ca, IOTCA_ROLE_ADMIN, NULL, time(NULL) - 1, NULL, &a), IOTCA_E_USAGE);
    /* 3 s ahead: the check right after must come before it even on a loaded machine (1 s was not enough under
     * ASan in a full run), then wait until it has passed */
    time_t expires = time(NULL) + 3;
    OK(iotca_ca_token_create(f.ca, IOTCA_ROLE_ADMIN, NULL, expires, NULL, &a));
    char scope[1024];
    iotca_role role;
    OK(iotca_ca_token_check(f.ca, (const char *)a.data, &role, scope));
    while (time(NULL) <= expires) sleep(1);
    ck_assert_int_eq(iotca_ca_token_check(f.ca, (const char *)a.data, &role, scope), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "expired"));
    ck_assert_int_eq(role, IOTCA_ROLE_NONE);
    iotca_buf_free(&a);
    teardown(&f);
}
END_TEST

/* A request remembers the use in memory; only the tick writes it. */
START_TEST(last_use_written_by_the_tick) {
    fixture f;
    setup(&f);
    iotca_buf a = {.secret = true}, b = {.secret = true};
    OK(iotca_ca_token_create(f.ca, IOTCA_ROLE_ADMIN, NULL, 0, NULL, &a));
    OK(iotca_ca_token_create(f.ca, IOTCA_ROLE_ADMIN, NULL, 0, NULL, &b));
    char ida[17], idb[17], scope[1024];
    id_of(&a, ida);
    id_of(&b, idb);
    iotca_role role;
    for (int i = 0; i < 100; i++) OK(iotca_ca_token_check(f.ca, (const char *)a.data, &role, scope));
    iotca_token_info *list = NULL;
    size_t n = 0;
    OK(iotca_ca_token_list(f.ca, &list, &n));
    ck_assert_int_eq(find(list, n, ida)->last_used_at, 0); /* not written by the checks */
    free(list);
    int changes;
    time_t before = time(NULL);
    OK(iotca_ca_tick(f.ca, time(NULL), &changes));
    OK(iotca_ca_token_list(f.ca, &list, &n));
    ck_assert_int_ge(find(list, n, ida)->last_used_at, before);
    ck_assert_int_eq(find(list, n, idb)->last_used_at, 0); /* never used */
    free(list);
    iotca_buf_free(&a);
    iotca_buf_free(&b);
    teardown(&f);
}
END_TEST

typedef struct seen {
    int create, revoke, broken;
} seen;

static void visit(void *ctx, const iotca_audit_rec *r, const char *broken) {
    seen *s = ctx;
    if (strcmp(r->action, "token.create") == 0 && strcmp(r->actor, "local:alice") == 0) s->create++;
    if (strcmp(r->action, "token.revoke") == 0 && strcmp(r->actor, "local:bob") == 0) s->revoke++;
    if (broken) s->broken++;
}

START_TEST(audit_show_reads_the_verified_trail) {
    fixture f;
    setup(&f);
    iotca_buf a = {.secret = true};
    OK(iotca_ca_token_create(f.ca, IOTCA_ROLE_ADMIN, NULL, time(NULL) + 90 * DAY, "local:alice", &a));
    char id[17];
    id_of(&a, id);
    OK(iotca_ca_token_revoke(f.ca, id, "local:bob", NULL));
    seen s = {0};
    iotca_audit_check chk;
    OK(iotca_ca_audit_show(f.ca, visit, &s, &chk));
    ck_assert(chk.ok);
    ck_assert_int_eq(s.create, 1);
    ck_assert_int_eq(s.revoke, 1);
    ck_assert_int_eq(s.broken, 0);
    iotca_audit_check v;
    OK(iotca_ca_audit_verify(f.ca, &v));
    ck_assert_int_eq(v.records, chk.records);
    ck_assert_str_eq(v.head, chk.head);
    iotca_buf_free(&a);
    teardown(&f);
}
END_TEST

int main(void) {
    Suite *s = suite_create("tokens");
    TCase *tc = tcase_create("tokens");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, time_parse_accepts_rfc3339);
    tcase_add_test(tc, time_parse_refuses_the_rest);
    tcase_add_test(tc, expiry_parse);
    tcase_add_test(tc, revoked_token_refused);
    tcase_add_test(tc, expired_token_refused);
    tcase_add_test(tc, last_use_written_by_the_tick);
    tcase_add_test(tc, audit_show_reads_the_verified_trail);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
