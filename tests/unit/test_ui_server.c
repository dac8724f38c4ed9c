/* Unit tests for the dashboard's server side that needs no daemon: the session table (server/ui/sessions.c)
 * with its clock passed in, so idle and absolute expiry are tested without waiting, and the form and cookie
 * parsers (server/ui/form.c), good input and bad. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ui.h"
#include "unit_run.h"

/* Each test its own hour of the clock, days apart: without fork mode (valgrind) the table is shared, and each
 * test's sessions have ended by the next one's time */
#define DAY_OF(n) ((time_t)1800000000 + (time_t)(n)*86400 * 2)
#define TOKEN "iotca_0123456789abcdef_" /* a token's shape; the table does not check it */

static bool hex64(const char *s) { return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64; }

START_TEST(session_begins_and_is_used) {
    const time_t T0 = DAY_OF(0);
    char id[UI_ID_HEX + 1], id2[UI_ID_HEX + 1], token[UI_TOKEN_MAX], csrf[UI_ID_HEX + 1], csrf2[UI_ID_HEX + 1];
    ck_assert(ui_session_begin(TOKEN "aaaa", T0, id));
    ck_assert(ui_session_begin(TOKEN "bbbb", T0, id2));
    ck_assert(hex64(id) && hex64(id2));
    ck_assert_str_ne(id, id2);
    ck_assert(ui_session_use(id, T0 + 1, token, csrf));
    ck_assert_str_eq(token, TOKEN "aaaa");
    ck_assert(hex64(csrf));
    ck_assert_str_ne(csrf, id); /* the form token is no copy of the cookie */
    ck_assert(ui_session_use(id2, T0 + 1, token, csrf2));
    ck_assert_str_eq(token, TOKEN "bbbb");
    ck_assert_str_ne(csrf, csrf2);
    ck_assert_uint_eq(ui_session_count(T0 + 2), 2);
}
END_TEST

START_TEST(session_ends_when_idle) {
    const time_t T0 = DAY_OF(1);
    char id[UI_ID_HEX + 1], token[UI_TOKEN_MAX], csrf[UI_ID_HEX + 1];
    ck_assert(ui_session_begin(TOKEN "idle", T0, id));
    ck_assert(ui_session_use(id, T0 + UI_SESSION_IDLE - 1, token, csrf)); /* in time: the idle clock restarts */
    ck_assert(ui_session_use(id, T0 + 2 * UI_SESSION_IDLE - 2, token, csrf));
    ck_assert(!ui_session_use(id, T0 + 3 * UI_SESSION_IDLE - 2, token, csrf)); /* a whole idle period unused */
    ck_assert(!ui_session_use(id, T0 + 3 * UI_SESSION_IDLE - 1, token, csrf)); /* and it stays ended */
    ck_assert_uint_eq(ui_session_count(T0), 0);
}
END_TEST

START_TEST(session_ends_at_its_ttl_however_used) {
    const time_t T0 = DAY_OF(2);
    char id[UI_ID_HEX + 1], token[UI_TOKEN_MAX], csrf[UI_ID_HEX + 1];
    ck_assert(ui_session_begin(TOKEN "busy", T0, id));
    time_t t = T0;
    for (; t < T0 + UI_SESSION_TTL; t += UI_SESSION_IDLE / 2) ck_assert(ui_session_use(id, t, token, csrf));
    ck_assert(!ui_session_use(id, T0 + UI_SESSION_TTL, token, csrf));
}
END_TEST

START_TEST(session_ends_at_logout) {
    const time_t T0 = DAY_OF(3);
    char id[UI_ID_HEX + 1], other[UI_ID_HEX + 1], token[UI_TOKEN_MAX], csrf[UI_ID_HEX + 1];
    ck_assert(ui_session_begin(TOKEN "out", T0, id));
    ck_assert(ui_session_begin(TOKEN "stays", T0, other));
    ui_session_end(id);
    ck_assert(!ui_session_use(id, T0 + 1, token, csrf));
    ck_assert(ui_session_use(other, T0 + 1, token, csrf)); /* only that one */
    ui_session_end(id);                                    /* twice, unknown, malformed, NULL: nothing happens */
    ui_session_end("zz");
    ui_session_end(NULL);
    ck_assert_uint_eq(ui_session_count(T0 + 1), 1);
}
END_TEST

START_TEST(session_refuses_bad_ids_and_tokens) {
    const time_t T0 = DAY_OF(4);
    char id[UI_ID_HEX + 1], token[UI_TOKEN_MAX], csrf[UI_ID_HEX + 1], bad[UI_ID_HEX + 2];
    ck_assert(ui_session_begin(TOKEN "x", T0, id));
    ck_assert(!ui_session_use("", T0, token, csrf));
    ck_assert(!ui_session_use(NULL, T0, token, csrf));
    snprintf(bad, sizeof bad, "%.63s", id); /* one digit short */
    ck_assert(!ui_session_use(bad, T0, token, csrf));
    snprintf(bad, sizeof bad, "%s0", id); /* one digit more */
    ck_assert(!ui_session_use(bad, T0, token, csrf));
    snprintf(bad, sizeof bad, "%s", id);
    bad[10] = bad[10] == 'a' ? 'b' : 'a'; /* one digit changed */
    ck_assert(!ui_session_use(bad, T0, token, csrf));
    ck_assert(ui_session_use(id, T0, token, csrf));
    char long_token[UI_TOKEN_MAX + 1];
    memset(long_token, 'a', UI_TOKEN_MAX);
    long_token[UI_TOKEN_MAX] = 0;
    ck_assert(!ui_session_begin(long_token, T0, id));
    ck_assert(!ui_session_begin(NULL, T0, id));
}
END_TEST

START_TEST(session_table_is_bounded) {
    const time_t T0 = DAY_OF(5);
    char id[UI_ID_HEX + 1], first[UI_ID_HEX + 1], token[UI_TOKEN_MAX], csrf[UI_ID_HEX + 1];
    for (int i = 0; i < UI_SESSIONS; i++) ck_assert_msg(ui_session_begin(TOKEN "many", T0, i ? id : first), "%d", i);
    ck_assert_uint_eq(ui_session_count(T0), UI_SESSIONS);
    ck_assert(!ui_session_begin(TOKEN "one more", T0, id)); /* full: refused, nobody logged out for it */
    ck_assert(ui_session_use(first, T0 + 1, token, csrf));
    /* once the others have been idle long enough they end, and their slots are free again */
    ck_assert(ui_session_begin(TOKEN "later", T0 + UI_SESSION_IDLE, id));
    ck_assert_uint_eq(ui_session_count(T0 + UI_SESSION_IDLE), 2);
}
END_TEST

static ui_form parsed(const char *body) {
    ui_form f;
    const char *why = NULL;
    ck_assert_msg(ui_form_parse((const uint8_t *)body, strlen(body), &f, &why), "%s: %s", body, why);
    return f;
}

static void refused(const char *body, size_t len, const char *why_part) {
    ui_form f;
    const char *why = NULL;
    ck_assert_msg(!ui_form_parse((const uint8_t *)body, len, &f, &why), "accepted %s", body);
    ck_assert_msg(why && strstr(why, why_part), "%s: '%s' lacks '%s'", body, why ? why : "", why_part);
}

START_TEST(form_fields) {
    ui_form f = parsed("reason=keyCompromise&csrf=00ff&note=a+b%20c%2B%26");
    ck_assert_uint_eq(f.n, 3);
    ck_assert_str_eq(ui_form_get(&f, "reason"), "keyCompromise");
    ck_assert_str_eq(ui_form_get(&f, "csrf"), "00ff");
    ck_assert_str_eq(ui_form_get(&f, "note"), "a b c+&");
    ck_assert_ptr_null(ui_form_get(&f, "missing"));
    f = parsed("a=1&&b=&c&=x&a=2"); /* empty pairs skipped; a field without '=' is empty; the first a counts */
    ck_assert_uint_eq(f.n, 5);
    ck_assert_str_eq(ui_form_get(&f, "a"), "1");
    ck_assert_str_eq(ui_form_get(&f, "b"), "");
    ck_assert_str_eq(ui_form_get(&f, "c"), "");
    ck_assert_str_eq(ui_form_get(&f, ""), "x");
    f = parsed("");
    ck_assert_uint_eq(f.n, 0);
    f = parsed("t=%C3%A9%0A%09"); /* UTF-8 and line ends pass as they are */
    ck_assert_str_eq(ui_form_get(&f, "t"), "\xc3\xa9\n\t");
}
END_TEST

START_TEST(form_refusals) {
    refused("a=%4", 4, "truncated");
    refused("a=%", 3, "truncated");
    refused("a=%zz", 5, "two hex digits");
    refused("a=%00", 5, "control");
    refused("a=%01", 5, "control");
    refused("a=b\x01", 4, "control");
    refused("a=b\0c", 5, "control");
    refused("a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", 35, "too many");
    char big[1100];
    memset(big, 'v', sizeof big);
    memcpy(big, "v=", 2);
    refused(big, sizeof big, "too long"); /* a value of 1024 bytes or more */
    char name[40];
    snprintf(name, sizeof name, "%.32s=1", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
    refused(name, strlen(name), "too long"); /* a name of 32 bytes */
    static char huge[UI_FORM_MAX_BODY + 1];
    memset(huge, 'a', sizeof huge);
    refused(huge, sizeof huge, "too large");
}
END_TEST

START_TEST(cookies) {
    char v[65];
    ck_assert(ui_cookie_get("iotca_session=abc", "iotca_session", v, sizeof v));
    ck_assert_str_eq(v, "abc");
    ck_assert(ui_cookie_get("a=1; iotca_login=xyz;  iotca_session=def ; b=2", "iotca_session", v, sizeof v));
    ck_assert_str_eq(v, "def");
    ck_assert(ui_cookie_get("a=1; iotca_login=xyz", "iotca_login", v, sizeof v));
    ck_assert_str_eq(v, "xyz");
    ck_assert(!ui_cookie_get("xiotca_session=abc; iotca_sessionx=1", "iotca_session", v, sizeof v)); /* names whole */
    ck_assert(!ui_cookie_get("iotca_session", "iotca_session", v, sizeof v));
    ck_assert(!ui_cookie_get("", "iotca_session", v, sizeof v));
    ck_assert(!ui_cookie_get(NULL, "iotca_session", v, sizeof v));
    char longer[100];
    snprintf(longer, sizeof longer, "iotca_session=%065d", 0);
    ck_assert(!ui_cookie_get(longer, "iotca_session", v, sizeof v)); /* does not fit: refused, not cut */
    ck_assert(ui_cookie_get("iotca_session=", "iotca_session", v, sizeof v));
    ck_assert_str_eq(v, "");
}
END_TEST

int main(void) {
    Suite *s = suite_create("ui_server");
    TCase *t = tcase_create("sessions");
    tcase_add_test(t, session_begins_and_is_used);
    tcase_add_test(t, session_ends_when_idle);
    tcase_add_test(t, session_ends_at_its_ttl_however_used);
    tcase_add_test(t, session_ends_at_logout);
    tcase_add_test(t, session_refuses_bad_ids_and_tokens);
    tcase_add_test(t, session_table_is_bounded);
    suite_add_tcase(s, t);
    TCase *f = tcase_create("forms");
    tcase_add_test(f, form_fields);
    tcase_add_test(f, form_refusals);
    tcase_add_test(f, cookies);
    suite_add_tcase(s, f);
    return unit_run(s);
}
