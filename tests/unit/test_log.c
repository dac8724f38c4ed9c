/* Unit tests for server/log: the access-log line writer (log_line) produces one JSON object per line, ASCII
 * only, with every client-supplied string escaped, long values cut and overflowing fields reported. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit_run.h"
#include "log.h"

/* Runs fn with stderr sent to a temporary file; returns what was written (malloc'd). */
static char *capture(void (*fn)(void *), void *arg) {
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
    fn(arg);
    ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    long n = ftell(tmp);
    ck_assert_int_ge(n, 0);
    char *out = calloc(1, (size_t)n + 1);
    rewind(tmp);
    ck_assert_uint_eq(fread(out, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return out;
}

/* Exactly one line, a JSON object, nothing but printable ASCII before its newline. */
static json_t *one_object(const char *out) {
    size_t n = strlen(out);
    ck_assert_uint_gt(n, 2);
    ck_assert_int_eq(out[n - 1], '\n');
    ck_assert_ptr_eq(strchr(out, '\n'), out + n - 1);
    for (size_t i = 0; i + 1 < n; i++) ck_assert_msg(out[i] >= 0x20 && out[i] < 0x7f, "byte %zu is 0x%02x", i, (unsigned char)out[i]);
    json_error_t e;
    json_t *o = json_loads(out, 0, &e);
    ck_assert_msg(o != NULL && json_is_object(o), "not a JSON object (%s): %s", e.text, out);
    return o;
}

struct fields {
    const char *path, *error;
    long long status;
    double secs;
};

static void write_access(void *arg) {
    struct fields *f = arg;
    log_line l;
    log_line_begin(&l, "info", "request");
    log_line_str(&l, "path", f->path);
    log_line_int(&l, "status", f->status);
    log_line_num(&l, "seconds", f->secs);
    log_line_str(&l, "error", f->error);
    log_line_emit(&l);
}

START_TEST(fields_in_order_with_their_types) {
    struct fields f = {"/v1/certificates", NULL, 201, 0.0015};
    char *out = capture(write_access, &f);
    json_t *o = one_object(out);
    ck_assert_str_eq(json_string_value(json_object_get(o, "level")), "info");
    ck_assert_str_eq(json_string_value(json_object_get(o, "msg")), "request");
    ck_assert_str_eq(json_string_value(json_object_get(o, "path")), "/v1/certificates");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "status")), 201);
    ck_assert_double_eq_tol(json_real_value(json_object_get(o, "seconds")), 0.0015, 1e-9);
    ck_assert_ptr_null(json_object_get(o, "error")); /* a NULL value leaves the field out */
    ck_assert_ptr_null(json_object_get(o, "truncated"));
    const char *ts = json_string_value(json_object_get(o, "ts"));
    ck_assert_ptr_nonnull(ts);
    ck_assert_uint_eq(strlen(ts), 24); /* 2026-11-23T18:00:00.000Z */
    ck_assert_int_eq(ts[23], 'Z');
    /* the order the tests and operators grep for: ts, level, msg, then the fields as added */
    ck_assert(strstr(out, "\"ts\"") < strstr(out, "\"level\""));
    ck_assert(strstr(out, "\"msg\"") < strstr(out, "\"path\""));
    ck_assert(strstr(out, "\"status\":201") < strstr(out, "\"seconds\""));
    json_decref(o);
    free(out);
}
END_TEST

START_TEST(client_strings_are_escaped) {
    /* quote, backslash, control bytes, DEL, 2-, 3- and 4-byte UTF-8, and bytes that are not UTF-8 (a lone
     * continuation byte, an overlong '/', a UTF-8-encoded surrogate, a sequence cut short) */
    const char path[] = "/a\"b\\c\n\t\x01\x7f/\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x94\x92/\x80/\xc0\xaf/\xed\xa0\x80/\xe2\x82";
    struct fields f = {path, "bad \"thing\"", 400, 1.0};
    char *out = capture(write_access, &f);
    json_t *o = one_object(out);
    /* U+00E9, U+20AC and U+1F512 (as a surrogate pair) survive; every invalid byte is U+FFFD */
    ck_assert_str_eq(json_string_value(json_object_get(o, "path")),
                     "/a\"b\\c\n\t\x01\x7f/\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x94\x92/\xef\xbf\xbd/\xef\xbf\xbd\xef\xbf\xbd/"
                     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd/\xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_str_eq(json_string_value(json_object_get(o, "error")), "bad \"thing\"");
    ck_assert_ptr_nonnull(strstr(out, "\\ud83d\\udd12")); /* the surrogate pair, as written */
    json_decref(o);
    free(out);
}
END_TEST

START_TEST(long_values_are_cut) {
    char *path = malloc(5000);
    memset(path, 'p', 4999);
    path[4999] = 0;
    struct fields f = {path, NULL, 414, 0.0};
    char *out = capture(write_access, &f);
    json_t *o = one_object(out);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(o, "path"))), LOG_VALUE_MAX);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "status")), 414);
    json_decref(o);
    free(out);
    free(path);
}
END_TEST

static void write_many(void *arg) {
    (void)arg;
    /* each value escapes to 6 bytes a byte: 512 * 6 per field, so the third field no longer fits */
    char v[LOG_VALUE_MAX + 1];
    memset(v, 0x01, LOG_VALUE_MAX);
    v[LOG_VALUE_MAX] = 0;
    log_line l;
    log_line_begin(&l, "warn", "many");
    log_line_str(&l, "a", v);
    log_line_str(&l, "b", v);
    log_line_int(&l, "after", 7);
    log_line_emit(&l);
}

START_TEST(overflowing_fields_are_left_out_and_reported) {
    char *out = capture(write_many, NULL);
    ck_assert_uint_le(strlen(out), LOG_LINE_MAX);
    json_t *o = one_object(out);
    ck_assert_ptr_nonnull(json_object_get(o, "a"));
    ck_assert_ptr_null(json_object_get(o, "b")); /* would not fit whole: left out, not cut mid-escape */
    ck_assert_int_eq(json_integer_value(json_object_get(o, "after")), 7); /* a later small field still fits */
    ck_assert(json_is_true(json_object_get(o, "truncated")));
    json_decref(o);
    free(out);
}
END_TEST

START_TEST(non_finite_numbers_are_null) {
    struct fields f = {"/", NULL, 200, 0.0 / 0.0};
    char *out = capture(write_access, &f);
    json_t *o = one_object(out);
    ck_assert(json_is_null(json_object_get(o, "seconds")));
    json_decref(o);
    free(out);
}
END_TEST

START_TEST(levels_filter) {
    int warn;
    ck_assert(log_level_parse("warn", &warn));
    log_set_level(warn);
    ck_assert(!log_enabled("info"));
    ck_assert(log_enabled("warn"));
    ck_assert(log_enabled("error"));
    ck_assert(log_enabled("no-such-level")); /* an unknown level is never filtered out */
    log_set_level(0);
    ck_assert(log_enabled("info"));
}
END_TEST

int main(void) {
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log_line");
    tcase_add_test(tc, fields_in_order_with_their_types);
    tcase_add_test(tc, client_strings_are_escaped);
    tcase_add_test(tc, long_values_are_cut);
    tcase_add_test(tc, overflowing_fields_are_left_out_and_reported);
    tcase_add_test(tc, non_finite_numbers_are_null);
    tcase_add_test(tc, levels_filter);
    suite_add_tcase(s, tc);
    int status = unit_run(s);
    return status;
}
