/* The counts over time: certificates issued, requests refused and certificates revoked each week, as grouped
 * columns in one SVG with a y axis of round numbers. */
#include <stdbool.h>
#include <stdlib.h>

#include "svg_int.h"

#define MAX_WEEKS 100000 /* as the timeline's: two thousand years of weeks is a caller's mistake */

/* The layout, in viewBox units. */
#define X0 60.0 /* left of it, the y axis's labels */
#define X1 940.0
#define TOP 36.0 /* the legend above it */
#define BASE 256.0
#define HEIGHT 290.0
#define LABEL_GAP 80.0 /* x labels ("2025-01-06", font-size 10) at least this far apart */

/* The three series: their class (which a page's stylesheet and the tests find them by), colour and legend name. */
static const struct {
    const char *cls, *fill;
} series[] = {{"issued", "#16a34a"}, {"refused", "#ea580c"}, {"revoked", "#dc2626"}};

static unsigned long count_of(const iotca_count_week *w, size_t j) {
    return j == 0 ? w->issued : j == 1 ? w->refused : w->revoked;
}

/* The y axis's step: the first of 1, 2, 5, 10, 20, 50... that needs at most five steps to pass max. */
static unsigned long long nice_step(unsigned long long max) {
    unsigned long long step = 1;
    for (int k = 0; step <= ULLONG_MAX / 10 && max > step * 5; k++) step = k % 3 == 1 ? step / 2 * 5 : step * 2;
    return step;
}

/* The gridlines and labels of the y axis, from 0 to top in steps of step (top a multiple of step, at least one). */
static iotca_rc y_axis(iotca_buf *b, unsigned long long step, unsigned long long steps) {
    IOTCA_GUARD(iotca_buf_append_str(b, "<g class=\"axis\">\n"));
    for (unsigned long long k = 0; k <= steps; k++) {
        double y = BASE - (double)k * (BASE - TOP) / (double)steps;
        char value[32]; /* digits only: markup as much as a coordinate is */
        snprintf(value, sizeof value, "%llu", k * step);
        IOTCA_GUARD(iotca_html(b,
                               "<line class=\"grid\" x1=\"%H\" y1=\"%H\" x2=\"%H\" y2=\"%H\" stroke=\"%H\"/>"
                               "<text class=\"tick-label\" x=\"%H\" y=\"%H\" font-size=\"10\" fill=\"#374151\" "
                               "text-anchor=\"end\">%H</text>\n",
                               ui_num(X0).s, ui_num(y).s, ui_num(X1).s, ui_num(y).s, k ? "#e5e7eb" : "#9ca3af",
                               ui_num(X0 - 6).s, ui_num(y + 3.5).s, value));
    }
    return iotca_buf_append_str(b, "</g>\n");
}

static int by_week(const void *a, const void *b) {
    const iotca_count_week *x = *(const iotca_count_week *const *)a, *y = *(const iotca_count_week *const *)b;
    if (x->week != y->week) return x->week < y->week ? -1 : 1;
    return (x > y) - (x < y); /* same week twice: in the caller's order, so the output stays the same */
}

/* One week's three columns at its slot on the scale, and its date under them when the last date is far enough
 * left (*label_x: the last one's x). */
static iotca_rc week_columns(iotca_buf *b, const iotca_count_week *w, const ui_scale *s, double top, double *label_x) {
    double slot = ui_x(s, w->week), width = ui_x(s, ui_add(w->week, UI_WEEK)) - slot;
    double col = ui_maxd(1, width * 0.8 / 3);
    for (size_t j = 0; j < 3; j++) {
        unsigned long n = count_of(w, j);
        double h = (double)n * (BASE - TOP) / top; /* top >= 1: never a division by zero */
        IOTCA_GUARD(iotca_html(b,
                               "<rect class=\"%H\" x=\"%H\" y=\"%H\" width=\"%H\" height=\"%H\" fill=\"%H\">"
                               "<title>%zu %H in the week of %T</title></rect>\n",
                               series[j].cls, ui_num(slot + width * 0.1 + (double)j * col).s, ui_num(BASE - h).s,
                               ui_num(col).s, ui_num(h).s, series[j].fill, (size_t)n, series[j].cls, w->week));
    }
    double cx = ui_mind(X1 - 30, ui_maxd(X0 + 30, slot + width / 2));
    if (cx - *label_x < LABEL_GAP) return IOTCA_OK;
    *label_x = cx;
    return iotca_html(b,
                      "<text class=\"week-label\" x=\"%H\" y=\"%H\" font-size=\"10\" fill=\"#374151\" "
                      "text-anchor=\"middle\">%T</text>\n",
                      ui_num(cx).s, ui_num(BASE + 14).s, w->week);
}

/* The columns of weeks (sorted by week) on a time scale from the first week to the end of the last, so a week
 * without an entry is a gap rather than hidden. */
static iotca_rc columns(iotca_buf *b, const iotca_count_week *const *sorted, size_t n) {
    unsigned long long max = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < 3; j++)
            if (count_of(sorted[i], j) > max) max = count_of(sorted[i], j);
    unsigned long long step = nice_step(max), steps = max / step + (max % step != 0);
    if (steps == 0) steps = 1; /* all zero: an axis from 0 to 1 */
    ui_scale s = {sorted[0]->week, ui_add(sorted[n - 1]->week, UI_WEEK), X0, X1};
    if (s.t1 <= s.t0) s.t0 = ui_add(s.t1, -UI_WEEK); /* the last week at time_t's very end */
    IOTCA_GUARD(y_axis(b, step, steps));
    IOTCA_GUARD(iotca_buf_append_str(b, "<g class=\"columns\">\n"));
    double label_x = -1e9;
    for (size_t i = 0; i < n; i++) IOTCA_GUARD(week_columns(b, sorted[i], &s, (double)steps * (double)step, &label_x));
    IOTCA_GUARD(iotca_buf_append_str(b, "</g>\n"));
    for (size_t j = 0; j < 3; j++) IOTCA_GUARD(ui_legend(b, X0 + 90 * (double)j, 10, series[j].fill, series[j].cls));
    return IOTCA_OK;
}

iotca_rc iotca_counts_svg(const iotca_count_week *weeks, size_t n, iotca_buf *out) {
    IOTCA_ENSURE(out != NULL, IOTCA_E_USAGE, "counts: no buffer");
    IOTCA_ENSURE(weeks != NULL || n == 0, IOTCA_E_USAGE, "counts: %zu weeks but no array", n);
    IOTCA_ENSURE(n <= MAX_WEEKS, IOTCA_E_USAGE, "counts: %zu weeks, at most %d", n, MAX_WEEKS);
    static const char title[] = "Certificates issued, requests refused and certificates revoked per week";
    iotca_rc rc = IOTCA_OK;
    iotca_buf body = {0};
    const iotca_count_week **sorted = NULL;
    if (n == 0) {
        IOTCA_TRY(iotca_buf_append_str(&body, "<text class=\"empty\" x=\"480\" y=\"44\" font-size=\"14\" "
                                              "fill=\"#6b7280\" text-anchor=\"middle\">nothing yet</text>\n"));
        IOTCA_TRY(ui_svg(out, "iotca-counts", "iotca-counts-title", title, 80, &body));
        goto out;
    }
    sorted = malloc(n * sizeof *sorted);
    IOTCA_CHECK(sorted != NULL, IOTCA_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) sorted[i] = &weeks[i];
    qsort(sorted, n, sizeof *sorted, by_week);
    IOTCA_TRY(columns(&body, sorted, n));
    IOTCA_TRY(ui_svg(out, "iotca-counts", "iotca-counts-title", title, HEIGHT, &body));
out:
    free(sorted);
    iotca_buf_free(&body);
    return rc;
}
