/* Unit tests for server/log: the access-log line writer (log_line) produces one JSON object per line, ASCII
 * only, with every client-supplied string escaped, long values cut and overflowing fields reported; a thread
 * that holds its lines (log_hold) writes them, in order, only when it flushes or its buffer fills. */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* ---- holding lines back (log_hold / log_flush / log_release) ---------------------------------------- */

/* Bytes written to stderr so far (a capture()'d temporary file). */
static long written(void) {
    struct stat st;
    ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
    return (long)st.st_size;
}

static void line_n(const char *msg, int n) {
    log_line l;
    log_line_begin(&l, "info", msg);
    log_line_int(&l, "n", n);
    log_line_emit(&l);
}

/* Checks out holds exactly count lines, each a JSON object, whose "n" fields are 0..count-1 in order. */
static void lines_in_order(const char *out, int count) {
    const char *p = out;
    for (int i = 0; i < count; i++) {
        const char *nl = strchr(p, '\n');
        ck_assert_msg(nl != NULL, "line %d of %d missing", i, count);
        json_error_t e;
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &e);
        ck_assert_msg(o != NULL, "line %d is not JSON: %s", i, e.text);
        ck_assert_int_eq(json_integer_value(json_object_get(o, "n")), i);
        json_decref(o);
        p = nl + 1;
    }
    ck_assert_str_eq(p, "");
}

static void held_until_flushed(void *arg) {
    (void)arg;
    ck_assert(log_hold());
    ck_assert(log_hold()); /* again: harmless */
    line_n("held", 0);
    log_event("info", "held", json_pack("{s:i}", "n", 1)); /* log_event's lines are held in the same order */
    line_n("held", 2);
    ck_assert_int_eq(written(), 0);
    log_flush();
    long after = written();
    ck_assert_int_gt(after, 0);
    log_flush(); /* nothing held: nothing written */
    ck_assert_int_eq(written(), after);
    line_n("held", 3);
    ck_assert_int_eq(written(), after);
    log_release(); /* flushes, then each line goes out at once */
    long released = written();
    ck_assert_int_gt(released, after);
    line_n("at once", 4);
    ck_assert_int_gt(written(), released);
}

START_TEST(held_lines_are_written_when_flushed_in_order) {
    char *out = capture(held_until_flushed, NULL);
    lines_in_order(out, 5);
    free(out);
}
END_TEST

static void fills_the_buffer(void *arg) {
    int *count = arg;
    ck_assert(log_hold());
    /* lines of about 100 bytes until one no longer fits: the ones before are written, it stays held */
    long before = 0;
    int i = 0;
    for (; written() == 0; i++) {
        ck_assert_int_lt(i, LOG_HOLD_MAX); /* some line must have overflowed the buffer */
        line_n("filling the buffer of held lines", i);
    }
    before = written();
    ck_assert_int_le(before, LOG_HOLD_MAX); /* one write of at most LOG_HOLD_MAX bytes */
    ck_assert_int_gt(before, LOG_HOLD_MAX - 200);
    log_release();
    ck_assert_int_gt(written(), before); /* the last line, held until now */
    *count = i;
}

START_TEST(a_full_buffer_is_written_before_the_next_line) {
    int count = 0;
    char *out = capture(fills_the_buffer, &count);
    lines_in_order(out, count);
    free(out);
}
END_TEST

static void long_event_line(void *arg) {
    (void)arg;
    ck_assert(log_hold());
    line_n("held", 0);
    char *big = malloc(LOG_HOLD_MAX + 100);
    memset(big, 'x', LOG_HOLD_MAX + 99);
    big[LOG_HOLD_MAX + 99] = 0;
    /* longer than the buffer: what was held goes first, then this line, at once */
    log_event("warn", "big", json_pack("{s:i, s:s}", "n", 1, "detail", big));
    free(big);
    ck_assert_int_gt(written(), LOG_HOLD_MAX);
    line_n("held", 2);
    log_release();
}

START_TEST(a_line_longer_than_the_buffer_goes_out_after_the_held_ones) {
    char *out = capture(long_event_line, NULL);
    lines_in_order(out, 3);
    free(out);
}
END_TEST

static void *other_thread_logs(void *arg) {
    (void)arg;
    line_n("other thread", 1);
    return NULL;
}

static void hold_is_per_thread(void *arg) {
    (void)arg;
    ck_assert(log_hold());
    line_n("this thread", 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread_logs, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    long other = written();
    ck_assert_int_gt(other, 0); /* the other thread does not hold: its line is out, this one's is not */
    log_release();
    ck_assert_int_gt(written(), other);
}

START_TEST(holding_is_per_thread) {
    char *out = capture(hold_is_per_thread, NULL);
    /* the other thread's line (n 1) first, then this thread's held one (n 0) */
    const char *nl = strchr(out, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_ptr_nonnull(strstr(out, "\"msg\":\"other thread\""));
    ck_assert(strstr(out, "\"msg\":\"other thread\"") < nl);
    ck_assert_ptr_nonnull(strstr(nl, "\"msg\":\"this thread\""));
    free(out);
}
END_TEST

/* One line, then (once the clock has moved to the next second, which it sets in *turned) another. */
static void two_lines(void *arg) {
    time_t *turned = arg;
    time_t first = time(NULL);
    line_n("first", 0);
    while ((*turned = time(NULL)) == first) nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    line_n("second", 1);
}

/* The timestamp: RFC 3339 UTC with milliseconds, and the current time. Its date and time of day are
 * formatted once a second and reused, so the second line, written in a later second than the first, must
 * not carry the first one's. */
START_TEST(timestamps_are_current_utc) {
    time_t t0 = time(NULL), turned = 0;
    char *out = capture(two_lines, &turned);
    time_t t1 = time(NULL);
    const char *p = out;
    for (int i = 0; i < 2; i++) {
        const char *nl = strchr(p, '\n');
        ck_assert_ptr_nonnull(nl);
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, NULL);
        ck_assert_ptr_nonnull(o);
        const char *ts = json_string_value(json_object_get(o, "ts"));
        ck_assert_ptr_nonnull(ts);
        struct tm tm = {0};
        int ms = -1;
        char z = 0;
        ck_assert_int_eq(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                                &tm.tm_min, &tm.tm_sec, &ms, &z),
                         8);
        ck_assert_uint_eq(strlen(ts), 24);
        ck_assert_int_eq(z, 'Z');
        ck_assert(ms >= 0 && ms <= 999);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t at = timegm(&tm);
        time_t from = i == 0 ? t0 : turned;
        ck_assert_msg(at >= from && at <= t1, "line %d: ts %s outside [%lld, %lld]", i, ts, (long long)from, (long long)t1);
        json_decref(o);
        p = nl + 1;
    }
    free(out);
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
    tcase_add_test(tc, timestamps_are_current_utc);
    suite_add_tcase(s, tc);
    TCase *held = tcase_create("held lines");
    tcase_add_test(held, held_lines_are_written_when_flushed_in_order);
    tcase_add_test(held, a_full_buffer_is_written_before_the_next_line);
    tcase_add_test(held, a_line_longer_than_the_buffer_goes_out_after_the_held_ones);
    tcase_add_test(held, holding_is_per_thread);
    suite_add_tcase(s, held);
    int status = unit_run(s);
    return status;
}
