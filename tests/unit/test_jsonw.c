/* Unit tests of server/http/jsonw.c: the text it writes is the text Jansson's compact dump writes for the same
 * document (strings with every kind of escape, UTF-8, nesting, null, integers at their limits), and what JSON
 * cannot hold (malformed UTF-8, unbalanced or too deep nesting) is refused rather than written. */
#include <check.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "unit_run.h"
#include "jsonw.h"

/* The writer's text equals Jansson's compact dump of expect (which it consumes) and parses back. */
static void same_as_jansson(iotca_buf *b, json_t *expect) {
    char *want = json_dumps(expect, JSON_COMPACT);
    ck_assert_ptr_nonnull(want);
    ck_assert_str_eq((const char *)b->data, want);
    ck_assert_uint_eq(b->len, strlen(want));
    json_error_t e;
    json_t *back = json_loadb((const char *)b->data, b->len, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(back != NULL, "jsonw wrote text Jansson cannot read: %s", e.text);
    ck_assert(json_equal(back, expect));
    json_decref(back);
    json_decref(expect);
    free(want);
}

START_TEST(issuance_answer_matches_jansson) {
    static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB+zCCAaGgAwIBAgIQ/x==\n-----END CERTIFICATE-----\n";
    iotca_buf b = {0};
    jsonw w;
    jsonw_open(&w, &b);
    jsonw_str(&w, "serial", "4001936f3a2b");
    jsonw_str(&w, "certificate", pem);
    jsonw_time(&w, "not_before", 1796601600);
    jsonw_time(&w, "not_after", 0);
    jsonw_int(&w, "issuer", 3);
    jsonw_object(&w, "ttl");
    jsonw_int(&w, "asked", LLONG_MAX);
    jsonw_int(&w, "granted", LLONG_MIN);
    jsonw_str(&w, "capped_by", NULL);
    jsonw_end(&w);
    jsonw_array(&w, "warnings");
    jsonw_item(&w, "one");
    jsonw_item(&w, "two");
    jsonw_end(&w);
    jsonw_array(&w, "empty");
    jsonw_end(&w);
    jsonw_object(&w, "none");
    jsonw_end(&w);
    jsonw_bool(&w, "yes", true);
    jsonw_bool(&w, "no", false);
    jsonw_end(&w);
    ck_assert(jsonw_done(&w));
    json_t *expect = json_pack("{s:s, s:s, s:s, s:n, s:I, s:{s:I, s:I, s:n}, s:[s, s], s:[], s:{}, s:b, s:b}", "serial",
                               "4001936f3a2b", "certificate", pem, "not_before", "2026-12-07T00:00:00Z", "not_after",
                               "issuer", (json_int_t)3, "ttl", "asked", (json_int_t)LLONG_MAX, "granted",
                               (json_int_t)LLONG_MIN, "capped_by", "warnings", "one", "two", "empty", "none", "yes", 1,
                               "no", 0);
    same_as_jansson(&b, expect);
    iotca_buf_free(&b);
}
END_TEST

/* Every control character, the quote and the backslash escaped; '/', DEL and UTF-8 of 2, 3 and 4 octets kept. */
START_TEST(strings_escaped_as_jansson_does) {
    char s[64];
    size_t n = 0;
    for (int c = 1; c < 0x20; c++) s[n++] = (char)c;
    memcpy(s + n, "\"\\/\x7f", 4);
    n += 4;
    s[n] = 0;
    static const char utf8[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 <script>";
    iotca_buf b = {0};
    jsonw w;
    jsonw_open(&w, &b);
    jsonw_str(&w, "controls", s);
    jsonw_str(&w, "utf8", utf8);
    jsonw_str(&w, "k\"e\ny", "");
    jsonw_end(&w);
    ck_assert(jsonw_done(&w));
    same_as_jansson(&b, json_pack("{s:s, s:s, s:s}", "controls", s, "utf8", utf8, "k\"e\ny", ""));
    ck_assert_ptr_nonnull(strstr((const char *)b.data, "\\u001F"));
    ck_assert_ptr_nonnull(strstr((const char *)b.data, "\\n\\u000B\\f\\r"));
    iotca_buf_free(&b);
}
END_TEST

/* Malformed UTF-8 (a lone continuation, an overlong, a surrogate, past U+10FFFF, a cut sequence) is refused,
 * in a value and in a key, as Jansson refuses it. */
START_TEST(malformed_utf8_refused) {
    static const char *bad[] = {"a\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xf8\x88\x80\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_ptr_null(json_string(bad[i]));
        iotca_buf b = {0};
        jsonw w;
        jsonw_open(&w, &b);
        jsonw_str(&w, "v", bad[i]);
        jsonw_end(&w);
        ck_assert_msg(!jsonw_done(&w), "value %zu accepted", i);
        jsonw_open(&w, &b);
        jsonw_int(&w, bad[i], 1);
        jsonw_end(&w);
        ck_assert_msg(!jsonw_done(&w), "key %zu accepted", i);
        iotca_buf_free(&b);
    }
}
END_TEST

/* Unclosed, over-closed and too deep nesting, and a member written after the object closed, are refused. */
START_TEST(nesting_checked) {
    iotca_buf b = {0};
    jsonw w;
    jsonw_open(&w, &b);
    jsonw_object(&w, "open");
    jsonw_end(&w);
    ck_assert(!jsonw_done(&w));
    jsonw_open(&w, &b);
    jsonw_end(&w);
    jsonw_end(&w);
    ck_assert(!jsonw_done(&w));
    jsonw_open(&w, &b);
    jsonw_end(&w);
    jsonw_int(&w, "late", 1);
    ck_assert(!jsonw_done(&w));
    jsonw_open(&w, &b);
    for (int i = 0; i < JSONW_DEPTH; i++) jsonw_object(&w, "d");
    for (int i = 0; i < JSONW_DEPTH; i++) jsonw_end(&w);
    ck_assert(!jsonw_done(&w));
    /* the deepest nesting allowed is written and reads back */
    jsonw_open(&w, &b);
    for (int i = 1; i < JSONW_DEPTH; i++) jsonw_object(&w, "d");
    for (int i = 0; i < JSONW_DEPTH; i++) jsonw_end(&w);
    ck_assert(jsonw_done(&w));
    same_as_jansson(&b, json_pack("{s:{s:{s:{s:{s:{s:{s:{}}}}}}}}", "d", "d", "d", "d", "d", "d", "d"));
    iotca_buf_free(&b);
}
END_TEST

int main(void) {
    Suite *s = suite_create("jsonw");
    TCase *tc = tcase_create("jsonw");
    tcase_add_test(tc, issuance_answer_matches_jansson);
    tcase_add_test(tc, strings_escaped_as_jansson_does);
    tcase_add_test(tc, malformed_utf8_refused);
    tcase_add_test(tc, nesting_checked);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
