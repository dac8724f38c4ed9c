/* The dashboard's rendering (lib/ui): HTML and URL escaping, the iotca_html formatter, and the weekly counts
 * chart read back for its columns, titles and escaping (the timeline: test_ui_timeline.c). */
#include "ui_fixture.h"
#include "unit_run.h"

/* ---- escaping ---- */

START_TEST(escape_specials) {
    char *s = escaped("a&b<c>d\"e'f &amp;");
    ck_assert_str_eq(s, "a&amp;b&lt;c&gt;d&quot;e&#39;f &amp;amp;");
    free(s);
    s = escaped("plain text, nothing to do");
    ck_assert_str_eq(s, "plain text, nothing to do");
    free(s);
    s = escaped("");
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(escape_controls) {
    char *s = escaped("a\x01"
                      "b\tc\nd\re\x7f"
                      "f\x1b");
    ck_assert_str_eq(s, "a" FFFD "b\tc\nd" FFFD "e" FFFD "f" FFFD);
    free(s);
}
END_TEST

START_TEST(escape_invalid_utf8) {
    static const char *const cases[][2] = {
        {"x\x80y", "x" FFFD "y"},                  /* a lone continuation byte */
        {"\xE6\x97", FFFD FFFD},                   /* a sequence cut short at the end */
        {"\xE6\x97<", FFFD FFFD "&lt;"},           /* ... and before ASCII, which survives */
        {"\xC0\xAF", FFFD FFFD},                   /* overlong '/' */
        {"\xE0\x80\xAF", FFFD FFFD FFFD},          /* overlong, three bytes */
        {"\xF0\x80\x80\xAF", FFFD FFFD FFFD FFFD}, /* overlong, four bytes */
        {"\xED\xA0\x80", FFFD FFFD FFFD},          /* a UTF-16 surrogate (U+D800) */
        {"\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD}, /* past U+10FFFF */
        {"\xFF\xFE", FFFD FFFD},                   /* never in UTF-8 */
        {"\xC3", FFFD},                            /* a lead byte alone */
        {"\xE6\x97\xA5\x80", "\xE6\x97\xA5" FFFD}, /* a good character, then a stray byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = escaped(cases[i][0]);
        ck_assert_msg(strcmp(s, cases[i][1]) == 0, "case %zu", i);
        free(s);
    }
}
END_TEST

START_TEST(escape_valid_utf8) {
    /* é, 日本, an emoji, and the edges: U+D7FF (before the surrogates), U+FFFF, U+10FFFF, U+0080 */
    const char *text = "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 \xED\x9F\xBF \xEF\xBF\xBF "
                       "\xF4\x8F\xBF\xBF \xC2\x80";
    char *s = escaped(text);
    ck_assert_str_eq(s, text);
    free(s);
}
END_TEST

START_TEST(escape_null_and_append) {
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_buf_append_str(&b, "<p>"), IOTCA_OK);
    ck_assert_int_eq(iotca_html_escape(&b, NULL), IOTCA_OK);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_int_eq(iotca_html_escape(&b, "x<"), IOTCA_OK);
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    ck_assert_str_eq((char *)b.data, "<p>x&lt;"); /* appended, not replaced */
    ck_assert_int_eq(iotca_url_escape(&b, NULL), IOTCA_OK);
    ck_assert_uint_eq(b.len, 8);
    iotca_buf_free(&b);
}
END_TEST

START_TEST(url_escape) {
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_url_escape(&b, "a b/c&d%e?f=g#h+i\"<'"), IOTCA_OK);
    ck_assert_int_eq(iotca_url_escape(&b, "|AZaz09-._~|"), IOTCA_OK);
    ck_assert_int_eq(iotca_url_escape(&b, "\xC3\xA9\xE6\x97\xA5\xFF"), IOTCA_OK);
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    ck_assert_str_eq((char *)b.data, "a%20b%2Fc%26d%25e%3Ff%3Dg%23h%2Bi%22%3C%27"
                                     "%7CAZaz09-._~%7C"
                                     "%C3%A9%E6%97%A5%FF");
    iotca_buf_free(&b);
}
END_TEST

/* ---- iotca_html ---- */

START_TEST(html_conversions) {
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_html(&b, "<a href=\"/ui/issuers/%u\" title=\"%s\">%H</a>|%d|%ld|%lld|%zu|%%|%T|%D|[%s]",
                                "ACME CA/1 é", "x\"y<z>", "<b>bold</b>", -42, 123456789L, -9000000000LL,
                                (size_t)18446744073709551615ULL, (time_t)1700000000, (time_t)1700000000, NULL),
                     IOTCA_OK);
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    ck_assert_str_eq((char *)b.data, "<a href=\"/ui/issuers/ACME%20CA%2F1%20%C3%A9\" title=\"x&quot;y&lt;z&gt;\">"
                                     "<b>bold</b></a>|-42|123456789|-9000000000|18446744073709551615|%|"
                                     "2023-11-14|2023-11-14 22:13 UTC|[]");
    iotca_buf_free(&b);
}
END_TEST

START_TEST(html_dates) {
    iotca_buf b = {0};
    ck_assert_int_eq(
        iotca_html(&b, "%T/%D/%T/%D/%T", (time_t)0, (time_t)0, day(2024, 2, 29), day(2024, 2, 29) + 59, (time_t)-86400),
        IOTCA_OK);
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    ck_assert_str_eq((char *)b.data, "never/never/2024-02-29/2024-02-29 00:00 UTC/1969-12-31");
    /* UTC whatever the local zone */
    setenv("TZ", "Pacific/Kiritimati", 1); /* UTC+14: local dates there are a day ahead */
    tzset();
    iotca_buf_clear(&b);
    ck_assert_int_eq(iotca_html(&b, "%T %D", (time_t)1700000000, (time_t)1700000000), IOTCA_OK);
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    ck_assert_str_eq((char *)b.data, "2023-11-14 2023-11-14 22:13 UTC");
    unsetenv("TZ");
    tzset();
    iotca_buf_free(&b);
}
END_TEST

START_TEST(html_refuses_unknown) {
    static const char *const bad[] = {"%x", "%5s", "%", "%l", "%lu", "%.3s", "%-d", "%llu", "%c", "%f", "%S", "%z"};
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_buf_append_str(&b, "keep"), IOTCA_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(iotca_html(&b, bad[i], 1) == IOTCA_E_USAGE, "accepted %s", bad[i]);
        ck_assert_uint_eq(b.len, 4);
    }
    /* a good conversion before the bad one is taken back too: nothing half-written */
    ck_assert_int_eq(iotca_html(&b, "<b>%s</b>%d %x", "text", 5, 1), IOTCA_E_USAGE);
    ck_assert_uint_eq(b.len, 4);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "%x"));
    ck_assert_int_eq(iotca_html(NULL, "x"), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_html(&b, NULL), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    ck_assert_str_eq((char *)b.data, "keep");
    iotca_buf_free(&b);
}
END_TEST

/* ---- the counts chart ---- */

static char *render_counts(const iotca_count_week *w, size_t n) {
    iotca_buf b = {0};
    ck_assert_msg(iotca_counts_svg(w, n, &b) == IOTCA_OK, "%s", iotca_error_detail());
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    return (char *)b.data;
}

START_TEST(counts_empty) {
    char *svg = render_counts(NULL, 0);
    well_formed(svg);
    ck_assert_int_eq(count(svg, ">nothing yet</text>"), 1);
    ck_assert_int_eq(count(svg, "<rect"), 0);
    ck_assert_ptr_nonnull(strstr(svg, "aria-labelledby=\"iotca-counts-title\""));
    ck_assert_ptr_nonnull(strstr(svg, "<title id=\"iotca-counts-title\">"));
    free(svg);
}
END_TEST

START_TEST(counts_columns) {
    /* out of order on purpose: drawn by week */
    iotca_count_week w[] = {
        {day(2025, 1, 20), 14, 0, 1},
        {day(2025, 1, 6), 7, 2, 0},
        {day(2025, 1, 13), 0, 3, 1},
    };
    char *svg = render_counts(w, 3);
    well_formed(svg);
    ck_assert_int_eq(count(svg, "<rect class=\"issued\""), 3);
    ck_assert_int_eq(count(svg, "<rect class=\"refused\""), 3);
    ck_assert_int_eq(count(svg, "<rect class=\"revoked\""), 3);
    const char *i14 = elem_with(svg, "<rect", "<title>14 issued in the week of 2025-01-20</title>");
    const char *i7 = elem_with(svg, "<rect", "<title>7 issued in the week of 2025-01-06</title>");
    const char *i0 = elem_with(svg, "<rect", "<title>0 issued in the week of 2025-01-13</title>");
    const char *f2 = elem_with(svg, "<rect", "<title>2 refused in the week of 2025-01-06</title>");
    const char *r1 = elem_with(svg, "<rect", "<title>1 revoked in the week of 2025-01-20</title>");
    ck_assert_ptr_nonnull(strstr(svg, "<title>0 revoked in the week of 2025-01-06</title>"));
    ck_assert_int_eq(strncmp(i14, "<rect class=\"issued\"", 20), 0);
    ck_assert_int_eq(strncmp(f2, "<rect class=\"refused\"", 21), 0);
    ck_assert_int_eq(strncmp(r1, "<rect class=\"revoked\"", 21), 0);
    /* heights in proportion, all on one baseline */
    ck_assert_double_eq_tol(attr(i14, "height"), 2 * attr(i7, "height"), 0.11);
    ck_assert_double_eq_tol(attr(f2, "height") * 7, attr(i7, "height") * 2, 0.5);
    ck_assert_double_eq(attr(i0, "height"), 0);
    ck_assert_double_eq_tol(attr(i14, "y") + attr(i14, "height"), attr(i7, "y") + attr(i7, "height"), 0.11);
    ck_assert_double_eq_tol(attr(i0, "y"), attr(i7, "y") + attr(i7, "height"), 0.11);
    /* x by week, a week's three columns side by side */
    ck_assert(attr(i7, "x") < attr(i0, "x") && attr(i0, "x") < attr(i14, "x"));
    ck_assert(attr(i7, "x") < attr(f2, "x"));
    ck_assert_double_eq_tol(attr(i7, "x") + attr(i7, "width"), attr(f2, "x"), 0.11);
    /* the y axis: max 14 in steps of 5 up to 15 */
    for (int v = 0; v <= 15; v += 5) {
        char label[32];
        snprintf(label, sizeof label, ">%d</text>", v);
        ck_assert_msg(count(svg, label) == 1, "no y label %d", v);
    }
    ck_assert_int_eq(count(svg, ">20</text>"), 0);
    ck_assert_int_eq(count(svg, "<line class=\"grid\""), 4);
    /* the top gridline is the height a count of 15 reaches */
    const char *grid = strstr(svg, "<line class=\"grid\"");
    double base = attr(grid, "y1"), top = base;
    for (const char *g = grid; g; g = strstr(g + 1, "<line class=\"grid\"")) top = attr(g, "y1");
    ck_assert_double_eq_tol((base - top) * 14 / 15, attr(i14, "height"), 0.15);
    /* dates under the columns, the first week labelled; a legend of the three */
    ck_assert_ptr_nonnull(strstr(svg, ">2025-01-06</text>"));
    ck_assert_int_eq(count(svg, "<g class=\"legend\">"), 3);
    ck_assert_ptr_nonnull(strstr(svg, ">issued</text></g>"));
    ck_assert_ptr_nonnull(strstr(svg, ">refused</text></g>"));
    ck_assert_ptr_nonnull(strstr(svg, ">revoked</text></g>"));
    char *again = render_counts(w, 3);
    ck_assert_str_eq(svg, again);
    free(svg), free(again);
}
END_TEST

START_TEST(counts_edges) {
    iotca_count_week zero[] = {{day(2025, 1, 6), 0, 0, 0}};
    char *svg = render_counts(zero, 1); /* all zero: an axis to 1, no division by zero */
    well_formed(svg);
    ck_assert_int_eq(count(svg, "height=\"0\""), 3);
    ck_assert_int_eq(count(svg, ">1</text>"), 1);
    free(svg);
    iotca_count_week big[] = {{(time_t)LLONG_MAX, ULONG_MAX, 1, 0}, {(time_t)LLONG_MAX, 2, ULONG_MAX, 3}};
    svg = render_counts(big, 2);
    well_formed(svg);
    ck_assert_int_eq(count(svg, "<rect class=\"issued\""), 2);
    free(svg);
    /* a sparse year: 52 weeks wide, labels kept apart */
    iotca_count_week sparse[] = {{day(2025, 1, 6), 1, 0, 0}, {day(2025, 1, 13), 1, 0, 0}, {day(2026, 1, 5), 5, 0, 0}};
    svg = render_counts(sparse, 3);
    ck_assert_int_eq(count(svg, "class=\"week-label\""), 2); /* the second week is too close to the first */
    const char *a = elem_with(svg, "<rect", "<title>1 issued in the week of 2025-01-06");
    const char *b = elem_with(svg, "<rect", "<title>1 issued in the week of 2025-01-13");
    const char *c = elem_with(svg, "<rect", "<title>5 issued in the week of 2026-01-05");
    ck_assert_double_eq_tol((attr(c, "x") - attr(a, "x")) / (attr(b, "x") - attr(a, "x")), 52, 0.5);
    free(svg);
}
END_TEST

START_TEST(counts_usage) {
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_buf_append_str(&b, "x"), IOTCA_OK);
    ck_assert_int_eq(iotca_counts_svg(NULL, 1, &b), IOTCA_E_USAGE);
    iotca_count_week w = {day(2025, 1, 6), 1, 2, 3};
    ck_assert_int_eq(iotca_counts_svg(&w, 100001, &b), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_counts_svg(&w, 1, NULL), IOTCA_E_USAGE);
    ck_assert_uint_eq(b.len, 1);
    ck_assert_int_eq(iotca_counts_svg(&w, 1, &b), IOTCA_OK);
    ck_assert(b.len > 500);
    iotca_buf_free(&b);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ui");
    TCase *html = tcase_create("html");
    tcase_add_test(html, escape_specials);
    tcase_add_test(html, escape_controls);
    tcase_add_test(html, escape_invalid_utf8);
    tcase_add_test(html, escape_valid_utf8);
    tcase_add_test(html, escape_null_and_append);
    tcase_add_test(html, url_escape);
    tcase_add_test(html, html_conversions);
    tcase_add_test(html, html_dates);
    tcase_add_test(html, html_refuses_unknown);
    suite_add_tcase(s, html);
    TCase *counts = tcase_create("counts");
    tcase_add_test(counts, counts_empty);
    tcase_add_test(counts, counts_columns);
    tcase_add_test(counts, counts_edges);
    tcase_add_test(counts, counts_usage);
    suite_add_tcase(s, counts);
    return unit_run(s);
}
