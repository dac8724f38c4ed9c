/* What lib/ui's two pictures share: coordinates written without a locale, the time scale, the colour palette,
 * the <svg> frame and a legend entry. Internal to lib/ui. */
#ifndef IOTCA_UI_SVG_INT_H
#define IOTCA_UI_SVG_INT_H

#include <limits.h>
#include <stdio.h>

#include "iotca/ui.h"

#define UI_DAY 86400LL
#define UI_WEEK (7 * UI_DAY)
#define UI_WIDTH 960.0 /* the viewBox's width; the picture scales to its container (width="100%") */

/* A coordinate in tenths of a unit, as text: "12.5", "-3", "0". Not printf's %f, whose decimal point follows
 * LC_NUMERIC ("12,5" under a German locale would break the attribute). The struct lets a call site write
 * ui_num(x).s inside an iotca_html call: the temporary lives to the end of that full expression (C11 §6.2.4p8). */
typedef struct ui_num_text {
    char s[32];
} ui_num_text;
static inline ui_num_text ui_num(double v) {
    ui_num_text t;
    if (!(v > -1e12 && v < 1e12)) v = 0; /* NaN or absurd: nothing the data can produce once clamped */
    long long tenths = (long long)(v * 10 + (v < 0 ? -0.5 : 0.5)); /* rounded half away from zero; no libm */
    long long a = tenths < 0 ? -tenths : tenths;
    if (a % 10)
        snprintf(t.s, sizeof t.s, "%s%lld.%lld", tenths < 0 ? "-" : "", a / 10, a % 10);
    else
        snprintf(t.s, sizeof t.s, "%s%lld", tenths < 0 ? "-" : "", a / 10);
    return t;
}

/* A linear map from the times [t0, t1] (t0 < t1) onto the x coordinates [x0, x1]. In double arithmetic: t - t0
 * in time_t could overflow for a window the caller chose badly. */
typedef struct ui_scale {
    time_t t0, t1;
    double x0, x1;
} ui_scale;
static inline double ui_x(const ui_scale *s, time_t t) {
    return s->x0 + ((double)t - (double)s->t0) * (s->x1 - s->x0) / ((double)s->t1 - (double)s->t0);
}
static inline double ui_maxd(double a, double b) { return a > b ? a : b; }
static inline double ui_mind(double a, double b) { return a < b ? a : b; }

/* t + secs, held at the ends of time_t's range instead of overflowing. */
static inline time_t ui_add(time_t t, long long secs) {
    long long lt = (long long)t;
    if (secs > 0 && lt > LLONG_MAX - secs) return (time_t)LLONG_MAX;
    if (secs < 0 && lt < LLONG_MIN - secs) return (time_t)LLONG_MIN;
    return (time_t)(lt + secs);
}

/* The profile colours of the leaf band, in order of first appearance, repeating after ten; picked to stay apart
 * from each other and from the bar colours. */
static inline const char *ui_colour(size_t i) {
    static const char *const palette[] = {"#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2",
                                          "#ca8a04", "#db2777", "#4b5563", "#65a30d", "#b91c1c"};
    return palette[i % (sizeof palette / sizeof palette[0])];
}

/* Appends body wrapped in the <svg> element both pictures use: responsive (viewBox, width 100%), labelled by its
 * <title> for screen readers. cls names the picture for the page's stylesheet (which may give it a min-width in a
 * scrolling box, so a phone scrolls rather than shrinking the labels away); id names the title for
 * aria-labelledby, and is fixed: a page shows each picture once. title is markup (already escaped). */
static inline iotca_rc ui_svg(iotca_buf *out, const char *cls, const char *id, const char *title, double height,
                              const iotca_buf *body) {
    size_t len0 = out->len;
    iotca_rc rc =
        iotca_html(out,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"%H\" viewBox=\"0 0 %H %H\" width=\"100%%\" "
                   "role=\"img\" aria-labelledby=\"%s\" font-family=\"sans-serif\">"
                   "<title id=\"%s\">%H</title>\n",
                   cls, ui_num(UI_WIDTH).s, ui_num(height).s, id, id, title);
    if (rc == IOTCA_OK) rc = iotca_buf_append(out, body->data, body->len);
    if (rc == IOTCA_OK) rc = iotca_buf_append_str(out, "</svg>\n");
    if (rc != IOTCA_OK) out->len = len0;
    return rc;
}

/* A legend entry at (x, y) (its swatch's top left): a 10 x 10 swatch and the name; name is a value, escaped. */
static inline iotca_rc ui_legend(iotca_buf *b, double x, double y, const char *fill, const char *name) {
    return iotca_html(b,
                      "<g class=\"legend\"><rect x=\"%H\" y=\"%H\" width=\"10\" height=\"10\" fill=\"%H\"/>"
                      "<text x=\"%H\" y=\"%H\" font-size=\"11\">%s</text></g>\n",
                      ui_num(x).s, ui_num(y).s, fill, ui_num(x + 14).s, ui_num(y + 9).s, name);
}

#endif
