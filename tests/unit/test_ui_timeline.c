/* The dashboard's expiry timeline (lib/ui, iotca_timeline_svg) read back: its today and 30/60/180-day lines,
 * bars cut at the window's edges, cross-sign ends and activations, escaped labels, the weekly leaf band, usage
 * errors, and the same bytes for the same input. */
#include "ui_fixture.h"
#include "unit_run.h"

/* ---- the timeline ---- */

/* Four years from 2024-06-15, today 2025-06-15; bars of every kind, cut at both edges, one wholly before. */
#define NOW day(2025, 6, 15)
enum { N_BARS = 8 };
static void fixture(iotca_timeline *t, iotca_tl_bar bars[N_BARS]) {
    const iotca_tl_bar b[N_BARS] = {
        {IOTCA_TL_ROOT, "Edge to edge", NULL, NULL, day(2024, 6, 15), day(2028, 6, 15), 0},
        {IOTCA_TL_ROOT, "ACME Root R1", NULL, NULL, day(2025, 1, 1), day(2050, 1, 1), 0},
        {IOTCA_TL_CROSS, "R2 by R1", NULL, NULL, day(2023, 1, 1), day(2026, 1, 1), 0},
        {IOTCA_TL_ISSUER, "Issuing CA 2025", "active", "devices", day(2025, 1, 1), day(2027, 1, 1), day(2025, 1, 10)},
        {IOTCA_TL_ISSUER, "Issuing CA 2026", "staged", "devices", day(2025, 12, 1), day(2028, 1, 1), day(2026, 1, 5)},
        {IOTCA_TL_ISSUER, "Next", "pending", "servers", day(2025, 7, 1), day(2026, 7, 1), 0},
        {IOTCA_TL_ISSUER, "Odd", "we\"ird", "servers", day(2025, 3, 1), day(2025, 9, 1), 0},
        {IOTCA_TL_ROOT, "Old root", NULL, NULL, day(2000, 1, 1), day(2010, 1, 1), 0},
    };
    memcpy(bars, b, sizeof b);
    *t = (iotca_timeline){NOW, day(2024, 6, 15), day(2028, 6, 15), bars, N_BARS, NULL, 0};
}

/* The timeline as a C string (the caller frees); rendering must succeed. */
static char *render(const iotca_timeline *t) {
    iotca_buf b = {0};
    ck_assert_msg(iotca_timeline_svg(t, &b) == IOTCA_OK, "%s", iotca_error_detail());
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    return (char *)b.data;
}

START_TEST(timeline_lines) {
    iotca_timeline t;
    iotca_tl_bar bars[N_BARS];
    fixture(&t, bars);
    char *svg = render(&t);
    well_formed(svg);
    /* the edge-to-edge bar spans the plot: x(t) is linear between its ends */
    const char *edge = elem_with(svg, "<rect", "<title>Edge to edge (root)");
    double x0 = attr(edge, "x"), x1 = x0 + attr(edge, "width");
    ck_assert(x0 > 150 && x1 > x0 + 500 && x1 <= 960); /* labels to its left, most of the width for time */
    static const struct {
        const char *line, *label;
        int days;
    } lines[] = {{"<line class=\"today\"", ">today</text>", 0},
                 {"<line class=\"due-30\"", ">30 d</text>", 30},
                 {"<line class=\"due-60\"", ">60 d</text>", 60},
                 {"<line class=\"due-180\"", ">180 d</text>", 180}};
    double prev = 0;
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(count(svg, lines[i].line), 1);
        ck_assert_int_eq(count(svg, lines[i].label), 1);
        const char *l = strstr(svg, lines[i].line);
        double want = x0 + (x1 - x0) * (double)(NOW + lines[i].days * DAY - t.start) / (double)(t.end - t.start);
        ck_assert_double_eq_tol(attr(l, "x1"), want, 0.11);
        ck_assert_double_eq(attr(l, "x1"), attr(l, "x2")); /* vertical */
        ck_assert(attr(l, "y2") > attr(l, "y1") + 200);    /* across the rows */
        ck_assert(attr(l, "x1") > prev);
        prev = attr(l, "x1");
    }
    ck_assert_ptr_nonnull(strstr(svg, "<title>today: 2025-06-15</title>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>30 days from today: 2025-07-15</title>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>180 days from today: 2025-12-12</title>"));
    /* four years: a tick a year, labelled by the year, in UTC */
    for (int y = 2025; y <= 2028; y++) {
        char label[32];
        snprintf(label, sizeof label, ">%d</text>", y);
        ck_assert_msg(count(svg, label) == 1, "no tick label %d", y);
    }
    ck_assert_int_eq(count(svg, "<line class=\"tick\""), 4);
    const char *tick = strstr(svg, "<line class=\"tick\"");
    double want = x0 + (x1 - x0) * (double)(day(2025, 1, 1) - t.start) / (double)(t.end - t.start);
    ck_assert_double_eq_tol(attr(tick, "x1"), want, 0.11);
    free(svg);
}
END_TEST

START_TEST(timeline_lines_outside) {
    iotca_timeline t;
    iotca_tl_bar bars[N_BARS];
    fixture(&t, bars);
    t.start = NOW - 100 * DAY, t.end = NOW + 45 * DAY; /* today and 30 d only; a window of months */
    char *svg = render(&t);
    well_formed(svg);
    ck_assert_int_eq(count(svg, "<line class=\"today\""), 1);
    ck_assert_int_eq(count(svg, "<line class=\"due-30\""), 1);
    ck_assert_int_eq(count(svg, "due-60"), 0);
    ck_assert_int_eq(count(svg, "due-180"), 0);
    ck_assert_int_eq(count(svg, ">180 d<"), 0);
    ck_assert_ptr_nonnull(strstr(svg, ">2025-04</text>")); /* month ticks */
    ck_assert_ptr_nonnull(strstr(svg, ">2025-07</text>"));
    free(svg);
    t.start = NOW + DAY, t.end = NOW + 100 * DAY; /* today has passed out of the window */
    svg = render(&t);
    ck_assert_int_eq(count(svg, "class=\"today\""), 0);
    ck_assert_int_eq(count(svg, "<line class=\"due-30\""), 1);
    ck_assert_int_eq(count(svg, "<line class=\"due-60\""), 1);
    ck_assert_int_eq(count(svg, "due-180"), 0);
    free(svg);
}
END_TEST

START_TEST(timeline_bars) {
    iotca_timeline t;
    iotca_tl_bar bars[N_BARS];
    fixture(&t, bars);
    char *svg = render(&t);
    const char *edge = elem_with(svg, "<rect", "<title>Edge to edge (root)");
    double left = attr(edge, "x"), right = left + attr(edge, "width");
    ck_assert_int_eq(count(svg, "class=\"bar "), 7); /* every bar but the one wholly before the window */
    /* a root cut at the window's end: its rect stops at the edge, a chevron says it goes on */
    const char *root = elem_with(svg, "<rect", "<title>ACME Root R1 (root): 2025-01-01 to 2050-01-01</title>");
    ck_assert_int_eq(strncmp(root, "<rect class=\"bar root\"", 22), 0);
    ck_assert_double_eq_tol(attr(root, "x") + attr(root, "width"), right, 0.11);
    const char *after = elem_with(svg, "<polygon", "<title>ACME Root R1 runs past this window (2050-01-01)</title>");
    ck_assert_int_eq(strncmp(after, "<polygon class=\"cut cut-after\"", 30), 0);
    ck_assert(attr(after, "points") > right); /* right of the plot */
    /* the cross-certificate: cut at the start, its end marked where the bar ends */
    const char *cross = elem_with(svg, "<rect", "<title>R2 by R1 (cross-certificate): 2023-01-01 to 2026-01-01");
    ck_assert_int_eq(strncmp(cross, "<rect class=\"bar cross\"", 23), 0);
    ck_assert_double_eq_tol(attr(cross, "x"), left, 0.11);
    ck_assert_ptr_nonnull(strstr(svg, "<title>R2 by R1 begins before this window (2023-01-01)</title>"));
    const char *end = elem_with(svg, "<polygon", "<title>cross-sign ends 2026-01-01</title>");
    ck_assert_int_eq(strncmp(end, "<polygon class=\"cross-end\"", 26), 0);
    ck_assert_double_eq_tol(attr(end, "points"), attr(cross, "x") + attr(cross, "width"), 0.11);
    ck_assert_int_eq(count(svg, "class=\"cross-end\""), 1);
    /* activations: one past, one scheduled */
    const char *past = elem_with(svg, "<polygon", "<title>Issuing CA 2025 activated 2025-01-10</title>");
    const char *next = elem_with(svg, "<polygon", "<title>Issuing CA 2026 activates 2026-01-05</title>");
    ck_assert_int_eq(strncmp(past, "<polygon class=\"activation\"", 27), 0);
    ck_assert_int_eq(strncmp(next, "<polygon class=\"activation\"", 27), 0);
    ck_assert_int_eq(count(svg, "class=\"activation\""), 2);
    double want = left + (right - left) * (double)(day(2026, 1, 5) - t.start) / (double)(t.end - t.start);
    ck_assert_double_eq_tol(attr(next, "points"), want - 5, 0.11); /* the triangle's left corner */
    /* issuer states as classes, each its own fill; a pending issuer only outlined */
    const char *active = elem_with(svg, "<rect", "<title>Issuing CA 2025 (issuer, active): 2025-01-01 to 2027-01-01");
    const char *staged = elem_with(svg, "<rect", "<title>Issuing CA 2026 (issuer, staged)");
    const char *pending = elem_with(svg, "<rect", "<title>Next (issuer, pending)");
    ck_assert_int_eq(strncmp(active, "<rect class=\"bar issuer active\"", 31), 0);
    ck_assert_int_eq(strncmp(staged, "<rect class=\"bar issuer staged\"", 31), 0);
    ck_assert_int_eq(strncmp(pending, "<rect class=\"bar issuer pending\"", 32), 0);
    ck_assert_ptr_nonnull(strstr(pending, "fill=\"none\" stroke="));
    ck_assert_int_ne(strncmp(strstr(active, "fill="), strstr(staged, "fill="), 15), 0);
    /* a state this version does not know: the plain class, its text escaped in the title */
    const char *odd = elem_with(svg, "<rect", "<title>Odd (issuer, we&quot;ird)");
    ck_assert_int_eq(strncmp(odd, "<rect class=\"bar issuer\" ", 25), 0);
    /* the bar wholly before the window: its label and a chevron, no rect */
    ck_assert_ptr_null(strstr(svg, "Old root (root)"));
    ck_assert_ptr_nonnull(strstr(svg, ">Old root</text>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>Old root begins before this window (2000-01-01)</title>"));
    ck_assert_int_eq(count(svg, "cut-before"), 2);
    ck_assert_int_eq(count(svg, "cut-after"), 1);
    /* group headings: one per run of a group */
    ck_assert_int_eq(count(svg, "<text class=\"group\""), 2);
    ck_assert_int_eq(count(svg, ">devices</text>"), 1);
    ck_assert_int_eq(count(svg, ">servers</text>"), 1);
    /* rows in the order given */
    ck_assert(strstr(svg, ">Edge to edge</text>") < strstr(svg, ">ACME Root R1</text>"));
    ck_assert(strstr(svg, ">Odd</text>") < strstr(svg, ">Old root</text>"));
    free(svg);
}
END_TEST

START_TEST(timeline_escapes) {
    iotca_timeline t;
    iotca_tl_bar bars[N_BARS];
    fixture(&t, bars);
    bars[1].label = "<script>alert(1)</script>";
    bars[3].group = "<b onmouseover=x>g</b>";
    bars[4].group = bars[3].group;
    bars[5].label = "An issuing CA whose name is far too long for the gutter \xE6\x97\xA5\xE6\x9C\xAC";
    iotca_tl_week weeks[] = {{"<img src=x onerror=alert(1)>", NOW + 7 * DAY, 3}, {"a&b", NOW, 2}};
    t.weeks = weeks, t.n_weeks = 2;
    char *svg = render(&t);
    well_formed(svg); /* among others: no "<script", no "style=" */
    ck_assert_ptr_nonnull(strstr(svg, ">&lt;script&gt;alert(1)&lt;/script&gt;</text>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>&lt;script&gt;alert(1)&lt;/script&gt; (root)"));
    ck_assert_ptr_nonnull(strstr(svg, ">&lt;b onmouseover=x&gt;g&lt;/b&gt;</text>"));
    ck_assert_ptr_null(strstr(svg, "<b"));
    ck_assert_ptr_null(strstr(svg, "<img"));
    ck_assert_ptr_nonnull(strstr(svg, "of profile &lt;img src=x onerror=alert(1)&gt; expire"));
    ck_assert_ptr_nonnull(strstr(svg, ">a&amp;b</text>")); /* in the legend */
    /* the long label: cut with an ellipsis in the gutter, whole in its <title> */
    ck_assert_ptr_nonnull(
        strstr(svg, "<title>An issuing CA whose name is far too long for the gutter \xE6\x97\xA5\xE6\x9C\xAC</title>"
                    "An issuing CA whose name is\xE2\x80\xA6</text>"));
    free(svg);
}
END_TEST

/* The segment of the leaf band whose <title> says text. */
static const char *segment(const char *svg, const char *text) {
    const char *r = elem_with(svg, "<rect", text);
    ck_assert_int_eq(strncmp(r, "<rect class=\"leaf-week\"", 23), 0);
    return r;
}

START_TEST(timeline_leaves) {
    time_t w1 = day(2025, 6, 9), w2 = day(2025, 6, 16), w3 = day(2025, 6, 23);
    iotca_tl_week weeks[] = {
        {"A", w1, 5},
        {"B", w1, 3},
        {"A", w2, 12},
        {"A", w3, 2},
        {"A", w3, 4},               /* the same week and profile twice: summed */
        {"A", day(2029, 1, 1), 99}, /* after the window */
        {"B", day(2024, 1, 1), 77}, /* before it */
        {"C", w2, 0},               /* nothing to draw */
        {"B", day(2024, 6, 12), 1}, /* a week that began before the window but ends in it */
    };
    iotca_timeline t = {NOW, day(2024, 6, 15), day(2028, 6, 15), NULL, 0, weeks, sizeof weeks / sizeof weeks[0]};
    char *svg = render(&t);
    well_formed(svg);
    ck_assert_int_eq(count(svg, "class=\"leaf-week\""), 5);
    const char *a1 = segment(svg, "<title>5 leaves of profile A expire in the week of 2025-06-09</title>");
    const char *b1 = segment(svg, "<title>3 leaves of profile B expire in the week of 2025-06-09</title>");
    const char *a2 = segment(svg, "<title>12 leaves of profile A expire in the week of 2025-06-16</title>");
    const char *a3 = segment(svg, "<title>6 leaves of profile A expire in the week of 2025-06-23</title>");
    const char *edge = segment(svg, "<title>1 leaf of profile B expires in the week of 2024-06-12</title>");
    ck_assert_int_eq(count(svg, "99 leaves"), 0);
    ck_assert_int_eq(count(svg, "77 leaves"), 0);
    ck_assert_int_eq(count(svg, "profile C"), 0);
    /* heights in proportion to the counts, the largest week the tallest */
    ck_assert_double_eq_tol(attr(a2, "height") / attr(a1, "height"), 12.0 / 5, 0.02);
    ck_assert_double_eq_tol(attr(a3, "height") / attr(a1, "height"), 6.0 / 5, 0.02);
    ck_assert(attr(a2, "height") > attr(a3, "height"));
    /* stacked: B on top of A in its week; same x, all on one baseline */
    ck_assert_double_eq(attr(a1, "x"), attr(b1, "x"));
    ck_assert_double_eq_tol(attr(b1, "y") + attr(b1, "height"), attr(a1, "y"), 0.11);
    ck_assert_double_eq_tol(attr(a1, "y") + attr(a1, "height"), attr(a2, "y") + attr(a2, "height"), 0.11);
    /* one week apart on the scale: a week's width is the step between two weeks */
    ck_assert_double_eq_tol(attr(a2, "x") - attr(a1, "x"), attr(a1, "width"), 0.11);
    ck_assert(attr(a1, "width") >= 1);
    /* the week cut by the window's start begins at the plot's left, narrower than a week */
    ck_assert(attr(edge, "x") < attr(a1, "x"));
    ck_assert(attr(edge, "width") < attr(a1, "width"));
    /* colours by first appearance: A and B differ; the legend names each drawn profile once */
    ck_assert_int_ne(strncmp(strstr(a1, "fill="), strstr(b1, "fill="), 15), 0);
    ck_assert_int_eq(count(svg, "<g class=\"legend\">"), 2);
    ck_assert_ptr_nonnull(strstr(svg, ">A</text></g>"));
    ck_assert_ptr_nonnull(strstr(svg, ">B</text></g>"));
    ck_assert_ptr_null(strstr(svg, ">C</text></g>"));
    ck_assert(strstr(svg, ">A</text></g>") < strstr(svg, ">B</text></g>"));
    ck_assert_int_eq(count(svg, "no leaf expires"), 0);
    free(svg);
}
END_TEST

START_TEST(timeline_no_leaves) {
    iotca_timeline t;
    iotca_tl_bar bars[N_BARS];
    fixture(&t, bars);
    char *svg = render(&t); /* no weeks at all */
    ck_assert_int_eq(count(svg, ">no leaf expires in this window</text>"), 1);
    ck_assert_int_eq(count(svg, "leaf-week"), 0);
    ck_assert_int_eq(count(svg, "class=\"legend\""), 0);
    free(svg);
    iotca_tl_week outside[] = {{"A", day(2030, 1, 7), 4}, {"A", day(2020, 1, 6), 4}};
    t.weeks = outside, t.n_weeks = 2; /* weeks, but none in the window */
    svg = render(&t);
    well_formed(svg);
    ck_assert_int_eq(count(svg, ">no leaf expires in this window</text>"), 1);
    ck_assert_int_eq(count(svg, "leaf-week"), 0);
    free(svg);
}
END_TEST

START_TEST(timeline_usage) {
    iotca_timeline t;
    iotca_tl_bar bars[N_BARS];
    fixture(&t, bars);
    iotca_buf b = {0};
    ck_assert_int_eq(iotca_buf_append_str(&b, "<p>"), IOTCA_OK);
    iotca_timeline bad = t;
    bad.end = bad.start;
    ck_assert_int_eq(iotca_timeline_svg(&bad, &b), IOTCA_E_USAGE);
    bad.end = bad.start - 1;
    ck_assert_int_eq(iotca_timeline_svg(&bad, &b), IOTCA_E_USAGE);
    bars[6].to = bars[6].from - 1; /* a bar ending before it starts */
    ck_assert_int_eq(iotca_timeline_svg(&t, &b), IOTCA_E_USAGE);
    ck_assert_ptr_nonnull(strstr(iotca_error_detail(), "Odd"));
    bars[6].to = bars[6].from; /* a bar of one instant is fine */
    bad = t, bad.bars = NULL;
    ck_assert_int_eq(iotca_timeline_svg(&bad, &b), IOTCA_E_USAGE);
    bad = t, bad.n_weeks = 1; /* weeks NULL */
    ck_assert_int_eq(iotca_timeline_svg(&bad, &b), IOTCA_E_USAGE);
    bad = t, bad.n_bars = 10001; /* refused before any row is read */
    ck_assert_int_eq(iotca_timeline_svg(&bad, &b), IOTCA_E_USAGE);
    iotca_tl_week w = {"A", NOW, 1};
    bad = t, bad.weeks = &w, bad.n_weeks = 100001;
    ck_assert_int_eq(iotca_timeline_svg(&bad, &b), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_timeline_svg(NULL, &b), IOTCA_E_USAGE);
    ck_assert_int_eq(iotca_timeline_svg(&t, NULL), IOTCA_E_USAGE);
    ck_assert_uint_eq(b.len, 3); /* nothing appended by any refusal */
    ck_assert_int_eq(iotca_timeline_svg(&t, &b), IOTCA_OK);
    ck_assert_int_eq(iotca_buf_cstr(&b), IOTCA_OK);
    ck_assert_int_eq(strncmp((char *)b.data, "<p><svg ", 8), 0); /* appended after what was there */
    iotca_buf_free(&b);
}
END_TEST

START_TEST(timeline_deterministic) {
    iotca_timeline t;
    iotca_tl_bar bars[N_BARS];
    fixture(&t, bars);
    iotca_tl_week weeks[] = {{"B", NOW + 14 * DAY, 7}, {"A", NOW, 3}, {"B", NOW, 1}, {"C", NOW + 7 * DAY, 2}};
    t.weeks = weeks, t.n_weeks = 4;
    char *one = render(&t), *two = render(&t);
    ck_assert_str_eq(one, two);
    setenv("TZ", "America/St_Johns", 1); /* UTC-3:30: local midnights are not UTC's */
    tzset();
    char *three = render(&t);
    unsetenv("TZ");
    tzset();
    ck_assert_str_eq(one, three);
    /* the title and viewBox: the height grows with the rows */
    ck_assert_ptr_nonnull(strstr(one, "<title id=\"iotca-timeline-title\">Expiry timeline from 2024-06-15 to "
                                      "2028-06-15: 8 certificates"));
    const char *vb = strstr(one, "viewBox=\"0 0 960 ");
    ck_assert_ptr_nonnull(vb);
    double h8 = strtod(vb + 17, NULL);
    t.n_bars = 2;
    char *four = render(&t);
    double h2 = strtod(strstr(four, "viewBox=\"0 0 960 ") + 17, NULL);
    ck_assert(h8 > h2 + 6 * 20);
    free(one), free(two), free(three), free(four);
}
END_TEST

/* Whatever times come in (the store's, or a caller's mistake), the picture holds numbers and nothing fails. */
START_TEST(timeline_extreme_times) {
    iotca_tl_bar bars[] = {
        {IOTCA_TL_ROOT, "forever", NULL, NULL, (time_t)LLONG_MIN, (time_t)LLONG_MAX, (time_t)LLONG_MAX},
        {IOTCA_TL_CROSS, "epoch", NULL, NULL, 0, 1, 0},
        {IOTCA_TL_ISSUER, NULL, NULL, NULL, 5, 5, 5},
    };
    iotca_tl_week weeks[] = {
        {NULL, (time_t)LLONG_MAX, 1}, {"x", (time_t)LLONG_MIN, ULONG_MAX}, {"y", -2, ULONG_MAX}, {"y", -2, ULONG_MAX}};
    iotca_timeline wide = {(time_t)LLONG_MAX, (time_t)LLONG_MIN, (time_t)LLONG_MAX, bars, 3, weeks, 4};
    char *svg = render(&wide);
    well_formed(svg);
    ck_assert_int_eq(count(svg, "class=\"today\""), 1); /* today at the window's very end */
    ck_assert_int_eq(count(svg, "due-30"), 0);          /* past time_t's end: not in the window */
    free(svg);
    iotca_timeline tiny = {0, -1, 1, bars, 3, weeks, 4}; /* a window of two seconds */
    svg = render(&tiny);
    well_formed(svg);
    ck_assert_int_eq(count(svg, "class=\"leaf-week\""), 1); /* y's week, its two entries summed (held at the max) */
    ck_assert_int_eq(count(svg, "class=\"tick\""), 1);      /* 1970-01-01 00:00 is inside it */
    ck_assert_int_eq(count(svg, ">1970-01</text>"), 1);
    free(svg);
}
END_TEST

/* The limits are accepted at the bound: 10,000 rows and 100,000 weeks (most outside the window, with 2,000
 * profiles, so the legend is cut short). */
START_TEST(timeline_at_limits) {
    enum { NB = 10000, NW = 100000 };
    iotca_tl_bar *bars = calloc(NB, sizeof *bars);
    iotca_tl_week *weeks = calloc(NW, sizeof *weeks);
    static char names[2000][8];
    for (size_t i = 0; i < 2000; i++) snprintf(names[i], sizeof names[i], "p%zu", i);
    for (size_t i = 0; i < NB; i++)
        bars[i] = (iotca_tl_bar){IOTCA_TL_ISSUER, "CA", "active", i % 2 ? "g1" : "g2", NOW, NOW + DAY, 0};
    for (size_t i = 0; i < NW; i++)
        weeks[i] = (iotca_tl_week){names[i % 2000], i < 3000 ? NOW : day(2040, 1, 2), 1 + i % 3};
    iotca_timeline t = {NOW, NOW - 30 * DAY, NOW + 60 * DAY, bars, NB, weeks, NW};
    char *svg = render(&t);
    ck_assert_int_eq(count(svg, "class=\"bar issuer active\""), NB);
    ck_assert_int_eq(count(svg, "class=\"leaf-week\""), 2000); /* one per profile in the one week */
    ck_assert_int_eq(count(svg, "<g class=\"legend\">"), 60);
    ck_assert_ptr_nonnull(strstr(svg, ">and 1940 more</text>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>4 leaves of profile p0 expire in the week of 2025-06-15</title>"));
    free(svg);
    free(bars);
    free(weeks);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ui_timeline");
    TCase *tl = tcase_create("timeline");
    tcase_set_timeout(tl, 120); /* the limits case under valgrind */
    tcase_add_test(tl, timeline_lines);
    tcase_add_test(tl, timeline_lines_outside);
    tcase_add_test(tl, timeline_bars);
    tcase_add_test(tl, timeline_escapes);
    tcase_add_test(tl, timeline_leaves);
    tcase_add_test(tl, timeline_no_leaves);
    tcase_add_test(tl, timeline_usage);
    tcase_add_test(tl, timeline_deterministic);
    tcase_add_test(tl, timeline_extreme_times);
    tcase_add_test(tl, timeline_at_limits);
    suite_add_tcase(s, tl);
    return unit_run(s);
}
