/* What the unit tests of lib/ui share (test_ui.c, test_ui_timeline.c): dates, escaping, and reading an SVG
 * back: counting, finding an element by its <title>, an attribute's value, well-formedness. */
#ifndef IOTCA_TEST_UI_FIXTURE_H
#define IOTCA_TEST_UI_FIXTURE_H

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotca/ui.h"

#define DAY 86400
#define FFFD "\xEF\xBF\xBD"

static inline time_t day(int y, int m, int d) {
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    return timegm(&tm);
}

/* What iotca_html_escape makes of s, as a C string the caller frees. */
static inline char *escaped(const char *s) {
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_html_escape(&b, s), IOTCA_OK);
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    return (char *)b.data;
}

static inline size_t count(const char *s, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* The start of the last `tag` before the first occurrence of `inner` (an element found by its <title>). */
static inline const char *elem_with(const char *s, const char *tag, const char *inner) {
    const char *in = strstr(s, inner), *found = NULL;
    ck_assert_msg(in != NULL, "no '%s'", inner);
    for (const char *p = strstr(s, tag); p && p < in; p = strstr(p + 1, tag)) found = p;
    ck_assert_msg(found != NULL, "no %s before '%s'", tag, inner);
    return found;
}

/* The number that starts attribute name="..." of the element starting at elem. */
static inline double attr(const char *elem, const char *name) {
    char key[40];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *a = strstr(elem, key), *end = strchr(elem, '>');
    ck_assert_msg(a != NULL && a < end, "no %s in '%.60s'", name, elem);
    return strtod(a + strlen(key), NULL);
}

/* What every picture must be: one <svg>, balanced groups and texts, nothing a strict CSP would block. */
static inline void well_formed(const char *svg) {
    ck_assert_msg(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0, "starts %.40s", svg);
    ck_assert_int_eq(count(svg, "<svg"), 1);
    ck_assert_int_eq(count(svg, "</svg>"), 1);
    ck_assert_str_eq(svg + strlen(svg) - 7, "</svg>\n");
    ck_assert_int_eq(count(svg, "<g"), count(svg, "</g>"));
    ck_assert_int_eq(count(svg, "<text"), count(svg, "</text>"));
    ck_assert_int_eq(count(svg, "<title"), count(svg, "</title>"));
    ck_assert_int_eq(count(svg, "<"), count(svg, ">")); /* every '<' in a value was escaped */
    ck_assert_ptr_nonnull(strstr(svg, "width=\"100%\" role=\"img\" aria-labelledby="));
    ck_assert_ptr_null(strstr(svg, "style="));
    ck_assert_ptr_null(strstr(svg, "<style"));
    ck_assert_ptr_null(strstr(svg, "<script"));
    ck_assert_ptr_null(strstr(svg, "nan"));
    ck_assert_ptr_null(strstr(svg, "inf"));
}

#endif
