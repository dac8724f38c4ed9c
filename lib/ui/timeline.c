/* The expiry timeline (SPEC §13, issue 27): one SVG with a row per root, cross-certificate and issuer, the
 * today/30/60/180-day lines, and a band of the leaves expiring each week, stacked by profile. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "svg_int.h"

/* Past these the page would be megabytes nobody reads; the store's queries stay far below. */
#define MAX_BARS 10000
#define MAX_WEEKS 100000
#define MAX_LEGEND 60 /* profiles named in the legend; the rest are counted */

/* The layout, in viewBox units (the picture is UI_WIDTH wide and scales down on a phone). */
#define PLOT_X0 212.0 /* left of it, the gutter of labels and the marks of bars cut at the window's start */
#define PLOT_X1 936.0
#define MARK_TOP 22.0 /* the lines start under the axis labels; their own labels stagger below */
#define TOP 74.0      /* the first row */
#define ROW_H 22.0
#define HEAD_H 18.0 /* a group's heading row */
#define BAND_H 100.0
#define LABEL_POINTS 27 /* code points of a label drawn in the gutter at font-size 12, before the ellipsis */
#define LABEL_MAX 128   /* bytes: LABEL_POINTS four-byte code points, the ellipsis and room to spare */

/* s cut to at most max code points, with an ellipsis when cut, into out; true if it was cut. Cuts only before a
 * lead byte, so a valid sequence stays whole (a run of stray continuation bytes is cut at the buffer's end). */
static bool clip(const char *s, size_t max, char out[LABEL_MAX]) {
    size_t len = strlen(s), room = LABEL_MAX - 12, i = 0, points = 0;
    for (; i < len && i < room; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && points++ == max) break;
    bool cut = i < len;
    memcpy(out, s, i);
    memcpy(out + i, cut ? "\xE2\x80\xA6" : "", cut ? 4 : 1); /* U+2026 HORIZONTAL ELLIPSIS */
    return cut;
}

/* Code points in s, to guess a text's drawn width. */
static size_t points(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A text in the gutter: clipped to fit, the whole of it in a <title> when clipped. cls and weight are markup. */
static iotca_rc gutter_text(iotca_buf *b, const char *cls, const char *weight, double y, const char *s) {
    char shown[LABEL_MAX];
    bool cut = clip(s, LABEL_POINTS, shown);
    return iotca_html(b, "<text class=\"%H\" x=\"8\" y=\"%H\" font-size=\"12\" font-weight=\"%H\">%H%s%H%s</text>\n",
                      cls, ui_num(y).s, weight, cut ? "<title>" : "", cut ? s : NULL, cut ? "</title>" : "", shown);
}

/* ---- the axis and the lines ---- */

/* The months between ticks: whole years (1, 2, 5, 10, 20... of them, for at most ten ticks) when the window is
 * over two years long, else 1, 2 or 3 months (a window up to two years needs no more). */
static long long tick_months(const ui_scale *s) {
    double days = ((double)s->t1 - (double)s->t0) / UI_DAY;
    long long step = 1;
    if (days <= 2 * 365.25) {
        while (days / 30.44 / step > 10) step++;
        return step;
    }
    for (int k = 0; days / 365.25 / step > 10; k++) step = k % 3 == 1 ? step / 2 * 5 : step * 2;
    return step * 12;
}

/* A tick and its label ("2031", or "2026-04" when the ticks are months) at the first of each tick_months month
 * inside the window, in UTC. */
static iotca_rc axis(iotca_buf *b, const ui_scale *s, double y_end) {
    long long step = tick_months(s);
    struct tm tm;
    IOTCA_GUARD(iotca_buf_append_str(b, "<g class=\"axis\">\n"));
    if (gmtime_r(&s->t0, &tm) == NULL || tm.tm_year < 1 - 1900 || tm.tm_year > 9999 - 1900)
        return iotca_buf_append_str(b, "</g>\n"); /* a window beyond the years 1..9999: no calendar ticks */
    long long m = ((long long)(tm.tm_year + 1900) * 12 + tm.tm_mon + step - 1) / step * step; /* year * 12 + month */
    for (int i = 0; i < 64 && m / 12 <= 9999; i++, m += step) { /* ~11 turns; the bound guards the calendar */
        struct tm at = {.tm_year = (int)(m / 12 - 1900), .tm_mon = (int)(m % 12), .tm_mday = 1};
        time_t when = timegm(&at);
        if (when < s->t0) continue;
        if (when > s->t1) break;
        double x = ui_x(s, when);
        IOTCA_GUARD(iotca_html(b, "<line class=\"tick\" x1=\"%H\" y1=\"%H\" x2=\"%H\" y2=\"%H\" stroke=\"#e5e7eb\"/>\n",
                               ui_num(x).s, ui_num(MARK_TOP).s, ui_num(x).s, ui_num(y_end).s));
        if (x > PLOT_X1 - 36) continue; /* a label there would run off the picture */
        char label[32];                 /* digits and '-': markup as much as a coordinate is */
        if (step % 12 == 0)
            snprintf(label, sizeof label, "%lld", m / 12);
        else
            snprintf(label, sizeof label, "%lld-%02lld", m / 12, m % 12 + 1);
        IOTCA_GUARD(
            iotca_html(b, "<text class=\"tick-label\" x=\"%H\" y=\"16\" font-size=\"11\" fill=\"#374151\">%H</text>\n",
                       ui_num(x + 3).s, label));
    }
    return iotca_buf_append_str(b, "</g>\n");
}

/* The lines today, 30, 60 and 180 days on (each only when inside the window), from under the axis to the foot of
 * the leaf band; their labels step down so that lines a few pixels apart keep readable labels. */
static iotca_rc mark_lines(iotca_buf *b, const iotca_timeline *t, const ui_scale *s, double y_end) {
    static const struct {
        const char *cls, *label, *what, *colour, *dash;
        long long days;
    } marks[] = {
        {"today", "today", "today", "#dc2626", "", 0},
        {"due-30", "30 d", "30 days from today", "#ea580c", " stroke-dasharray=\"6 3\"", 30},
        {"due-60", "60 d", "60 days from today", "#d97706", " stroke-dasharray=\"6 3\"", 60},
        {"due-180", "180 d", "180 days from today", "#a16207", " stroke-dasharray=\"6 3\"", 180},
    };
    IOTCA_GUARD(iotca_buf_append_str(b, "<g class=\"lines\">\n"));
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        if ((long long)t->now > LLONG_MAX - marks[i].days * UI_DAY) continue; /* past time_t's end */
        time_t when = (time_t)((long long)t->now + marks[i].days * UI_DAY);
        if (when < t->start || when > t->end) continue;
        double x = ui_x(s, when), ly = 32 + 11 * (double)i;
        bool left = x > PLOT_X1 - 40; /* near the right edge the label goes to the line's left */
        IOTCA_GUARD(iotca_html(b,
                               "<line class=\"%H\" x1=\"%H\" y1=\"%H\" x2=\"%H\" y2=\"%H\" stroke=\"%H\" "
                               "stroke-width=\"1.5\"%H><title>%H: %T</title></line>\n"
                               "<text class=\"line-label\" x=\"%H\" y=\"%H\" font-size=\"10\" fill=\"%H\" "
                               "text-anchor=\"%H\">%H</text>\n",
                               marks[i].cls, ui_num(x).s, ui_num(MARK_TOP).s, ui_num(x).s, ui_num(y_end).s,
                               marks[i].colour, marks[i].dash, marks[i].what, when, ui_num(left ? x - 3 : x + 3).s,
                               ui_num(ly).s, marks[i].colour, left ? "end" : "start", marks[i].label));
    }
    return iotca_buf_append_str(b, "</g>\n");
}

/* ---- the rows ---- */

/* Whether bar i opens a group: an issuer whose group differs from the row above's. */
static bool heading_before(const iotca_timeline *t, size_t i) {
    const char *g = t->bars[i].group, *above = i > 0 ? t->bars[i - 1].group : NULL;
    return g != NULL && (above == NULL || strcmp(g, above) != 0);
}

/* How a bar looks: its class (markup) and fill. The states are lib/records' (iotca_issuer_state_name); a pending
 * issuer (key and CSR, awaiting the ceremony) and an abandoned one have no certificate, so only an outline. A
 * state this version does not know gets the plain class "issuer". */
typedef struct look {
    const char *cls, *fill, *extra;
} look;
static look bar_look(const iotca_tl_bar *bar) {
    static const struct {
        const char *state;
        look look;
    } states[] = {
        {"pending", {"issuer pending", "none", " stroke=\"#6b7280\" stroke-dasharray=\"4 2\""}},
        {"staged", {"issuer staged", "#2563eb", ""}},
        {"active", {"issuer active", "#16a34a", ""}},
        {"retiring", {"issuer retiring", "#ea580c", ""}},
        {"retired", {"issuer retired", "#9ca3af", ""}},
        {"abandoned", {"issuer abandoned", "none", " stroke=\"#9ca3af\" stroke-dasharray=\"1 2\""}},
    };
    if (bar->kind == IOTCA_TL_ROOT) return (look){"root", "#1f2937", ""};
    if (bar->kind == IOTCA_TL_CROSS) return (look){"cross", "#7c3aed", ""};
    for (size_t i = 0; bar->state && i < sizeof states / sizeof states[0]; i++)
        if (strcmp(bar->state, states[i].state) == 0) return states[i].look;
    return (look){"issuer", "#64748b", ""};
}

/* The markers on a row: chevrons where the bar runs past the window, the cross-sign end, the activation. */
static iotca_rc bar_marks(iotca_buf *b, const iotca_timeline *t, const ui_scale *s, const iotca_tl_bar *bar,
                          const char *name, double y) {
    static const char chevron[] = "<polygon class=\"%H\" points=\"%H,%H %H,%H %H,%H\" fill=\"#374151\">"
                                  "<title>%s %H this window (%T)</title></polygon>\n";
    if (bar->from < t->start)
        IOTCA_GUARD(iotca_html(b, chevron, "cut cut-before", ui_num(PLOT_X0 - 3).s, ui_num(y + 4).s,
                               ui_num(PLOT_X0 - 9).s, ui_num(y + 11).s, ui_num(PLOT_X0 - 3).s, ui_num(y + 18).s, name,
                               "begins before", bar->from));
    if (bar->to > t->end)
        IOTCA_GUARD(iotca_html(b, chevron, "cut cut-after", ui_num(PLOT_X1 + 3).s, ui_num(y + 4).s,
                               ui_num(PLOT_X1 + 9).s, ui_num(y + 11).s, ui_num(PLOT_X1 + 3).s, ui_num(y + 18).s, name,
                               "runs past", bar->to));
    if (bar->kind == IOTCA_TL_CROSS && bar->to >= t->start && bar->to <= t->end) {
        double x = ui_x(s, bar->to);
        IOTCA_GUARD(iotca_html(b,
                               "<polygon class=\"cross-end\" points=\"%H,%H %H,%H %H,%H %H,%H\" fill=\"#c026d3\" "
                               "stroke=\"#ffffff\"><title>cross-sign ends %T</title></polygon>\n",
                               ui_num(x).s, ui_num(y + 2).s, ui_num(x + 6).s, ui_num(y + 11).s, ui_num(x).s,
                               ui_num(y + 20).s, ui_num(x - 6).s, ui_num(y + 11).s, bar->to));
    }
    if (bar->active_at != 0 && bar->active_at >= t->start && bar->active_at <= t->end) {
        double x = ui_x(s, bar->active_at);
        IOTCA_GUARD(iotca_html(b,
                               "<polygon class=\"activation\" points=\"%H,%H %H,%H %H,%H\" fill=\"#0f766e\" "
                               "stroke=\"#ffffff\"><title>%s %H %T</title></polygon>\n",
                               ui_num(x - 5).s, ui_num(y).s, ui_num(x + 5).s, ui_num(y).s, ui_num(x).s, ui_num(y + 9).s,
                               name, bar->active_at > t->now ? "activates" : "activated", bar->active_at));
    }
    return IOTCA_OK;
}

/* One row at y: the label in the gutter, the bar over the part of [from, to] inside the window, its markers. */
static iotca_rc bar_row(iotca_buf *b, const iotca_timeline *t, const ui_scale *s, const iotca_tl_bar *bar, double y) {
    const char *name = bar->label ? bar->label : "";
    look lk = bar_look(bar);
    IOTCA_GUARD(gutter_text(b, "label", "normal", y + 15, name));
    time_t lo = bar->from > t->start ? bar->from : t->start, hi = bar->to < t->end ? bar->to : t->end;
    if (lo <= hi) { /* else the bar lies wholly before or after the window: only its chevron shows */
        double x = ui_x(s, lo), w = ui_maxd(1, ui_x(s, hi) - x);
        const char *kind = bar->kind == IOTCA_TL_ROOT    ? "root"
                           : bar->kind == IOTCA_TL_CROSS ? "cross-certificate"
                                                         : "issuer";
        bool state = bar->kind == IOTCA_TL_ISSUER && bar->state != NULL;
        IOTCA_GUARD(iotca_html(b,
                               "<rect class=\"bar %H\" x=\"%H\" y=\"%H\" width=\"%H\" height=\"14\" fill=\"%H\"%H>"
                               "<title>%s (%H%H%s): %T to %T</title></rect>\n",
                               lk.cls, ui_num(x).s, ui_num(y + 4).s, ui_num(w).s, lk.fill, lk.extra, name, kind,
                               state ? ", " : "", state ? bar->state : NULL, bar->from, bar->to));
    }
    return bar_marks(b, t, s, bar, name, y);
}

static double rows_height(const iotca_timeline *t) {
    double h = 0;
    for (size_t i = 0; i < t->n_bars; i++) h += ROW_H + (heading_before(t, i) ? HEAD_H : 0);
    return h;
}

static iotca_rc rows(iotca_buf *b, const iotca_timeline *t, const ui_scale *s) {
    double y = TOP;
    IOTCA_GUARD(iotca_buf_append_str(b, "<g class=\"rows\">\n"));
    for (size_t i = 0; i < t->n_bars; i++) {
        if (heading_before(t, i)) {
            IOTCA_GUARD(gutter_text(b, "group", "bold", y + 13, t->bars[i].group));
            y += HEAD_H;
        }
        IOTCA_GUARD(bar_row(b, t, s, &t->bars[i], y));
        y += ROW_H;
    }
    return iotca_buf_append_str(b, "</g>\n");
}

/* ---- the leaf band ---- */

/* iotca_html prints counts with %zu: lossless where unsigned long fits a size_t (LP64, ILP32, LLP64). */
_Static_assert(sizeof(size_t) >= sizeof(unsigned long), "counts are printed as size_t");

typedef struct prof_key {
    const char *name;
    size_t i;
} prof_key;

/* Leaves of one profile in one week (entries for the same pair summed). */
typedef struct seg {
    time_t week;
    size_t pid; /* the profile's rank by first appearance: its colour */
    size_t i;   /* the first entry of t->weeks behind it */
    unsigned long count;
} seg;

/* What the band draws, worked out before drawing: the segments of the weeks in the window, by week then profile. */
typedef struct leaf_plan {
    seg *segs;
    size_t n_segs;
    size_t *first; /* first[pid]: the entry of t->weeks where profile pid first appears */
    size_t n_prof;
    bool *shown;                  /* shown[pid]: the profile has a segment in the window (so the legend names it) */
    unsigned long long max_total; /* the largest weekly total in the window: the band's full height */
} leaf_plan;

static int by_name(const void *a, const void *b) {
    const prof_key *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int by_week(const void *a, const void *b) {
    const seg *x = a, *y = b;
    if (x->week != y->week) return x->week < y->week ? -1 : 1;
    if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static const char *profile_name(const iotca_tl_week *w) { return w->profile ? w->profile : ""; }

/* Numbers each profile by its first appearance in t->weeks (sorting by name, so a hundred thousand entries do not
 * cost n² comparisons): pid[i] for each entry, first[] and n_prof in lp. */
static iotca_rc number_profiles(const iotca_timeline *t, size_t *pid, leaf_plan *lp) {
    size_t n = t->n_weeks;
    prof_key *keys = malloc(n * sizeof *keys);
    IOTCA_ENSURE(keys != NULL, IOTCA_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) keys[i] = (prof_key){profile_name(&t->weeks[i]), i};
    qsort(keys, n, sizeof *keys, by_name);
    for (size_t k = 0, g = 0; k < n; k++) { /* g: the start of k's run of equal names, its first appearance */
        if (strcmp(keys[k].name, keys[g].name) != 0) g = k;
        pid[keys[k].i] = keys[g].i; /* for now, the index of the first appearance */
    }
    free(keys);
    for (size_t i = 0; i < n; i++) { /* first appearances in order get 0, 1, 2...; pid[pid[i]] is set by then */
        if (pid[i] == i) {
            lp->first[lp->n_prof] = i;
            pid[i] = lp->n_prof++;
        } else
            pid[i] = pid[pid[i]];
    }
    return IOTCA_OK;
}

static unsigned long long add_sat(unsigned long long a, unsigned long long b) {
    return a > ULLONG_MAX - b ? ULLONG_MAX : a + b;
}

/* Fills lp from t->weeks: the entries with leaves in a week overlapping the window, summed per week and profile. */
static iotca_rc leaf_plan_make(const iotca_timeline *t, leaf_plan *lp) {
    size_t n = t->n_weeks;
    if (n == 0) return IOTCA_OK;
    iotca_rc rc = IOTCA_OK;
    size_t *pid = malloc(n * sizeof *pid);
    lp->first = malloc(n * sizeof *lp->first);
    lp->segs = malloc(n * sizeof *lp->segs);
    lp->shown = calloc(n, sizeof *lp->shown);
    IOTCA_CHECK(pid && lp->first && lp->segs && lp->shown, IOTCA_E_INTERNAL, "out of memory");
    IOTCA_TRY(number_profiles(t, pid, lp));
    for (size_t i = 0; i < n; i++) {
        const iotca_tl_week *w = &t->weeks[i];
        if (w->count > 0 && w->week < t->end && ui_add(w->week, UI_WEEK) > t->start)
            lp->segs[lp->n_segs++] = (seg){w->week, pid[i], i, w->count};
    }
    qsort(lp->segs, lp->n_segs, sizeof *lp->segs, by_week);
    size_t m = 0; /* merge runs of the same week and profile */
    for (size_t k = 0; k < lp->n_segs; k++) {
        seg *last = m > 0 ? &lp->segs[m - 1] : NULL;
        if (last && last->week == lp->segs[k].week && last->pid == lp->segs[k].pid)
            last->count = last->count > ULONG_MAX - lp->segs[k].count ? ULONG_MAX : last->count + lp->segs[k].count;
        else
            lp->segs[m++] = lp->segs[k];
    }
    lp->n_segs = m;
    unsigned long long total = 0;
    for (size_t k = 0; k < m; k++) {
        total =
            k > 0 && lp->segs[k - 1].week == lp->segs[k].week ? add_sat(total, lp->segs[k].count) : lp->segs[k].count;
        if (total > lp->max_total) lp->max_total = total;
        lp->shown[lp->segs[k].pid] = true;
    }
out:
    free(pid);
    return rc;
}

static void leaf_plan_free(leaf_plan *lp) {
    free(lp->segs);
    free(lp->first);
    free(lp->shown);
}

/* The legend under the band: a swatch and the name of each profile in the window, in order of first appearance,
 * wrapping at the picture's width. Returns in *y the bottom of what it drew. */
static iotca_rc leaf_legend(iotca_buf *b, const iotca_timeline *t, const leaf_plan *lp, double *y) {
    double x = 8;
    size_t named = 0, more = 0;
    for (size_t p = 0; p < lp->n_prof; p++) {
        if (!lp->shown[p]) continue;
        if (named == MAX_LEGEND) {
            more++;
            continue;
        }
        char shown[LABEL_MAX];
        const char *name = profile_name(&t->weeks[lp->first[p]]);
        clip(*name ? name : "(no profile)", 24, shown);
        double w = 14 + 6.5 * (double)points(shown) + 16; /* a guess at the drawn width: no font metrics here */
        if (x > 8 && x + w > UI_WIDTH - 8) x = 8, *y += 16;
        IOTCA_GUARD(ui_legend(b, x, *y, ui_colour(p), shown));
        x += w;
        named++;
    }
    if (more) {
        if (x > UI_WIDTH - 160) x = 8, *y += 16;
        IOTCA_GUARD(iotca_html(b,
                               "<text class=\"legend-more\" x=\"%H\" y=\"%H\" font-size=\"11\">and %zu more</text>\n",
                               ui_num(x).s, ui_num(*y + 9).s, more));
    }
    *y += 10;
    return IOTCA_OK;
}

/* One stacked column per week from the plan, the tallest week filling the band, under a heading at top; returns in
 * *bottom the bottom of the band and its legend. */
static iotca_rc leaf_band(iotca_buf *b, const iotca_timeline *t, const ui_scale *s, const leaf_plan *lp, double top,
                          double *bottom) {
    double base = top + 22 + BAND_H;
    IOTCA_GUARD(iotca_html(b,
                           "<g class=\"leaves\">\n<text class=\"band-title\" x=\"8\" y=\"%H\" font-size=\"12\" "
                           "font-weight=\"bold\">Leaf expiries per week</text>\n",
                           ui_num(top + 14).s));
    if (lp->n_segs == 0) {
        *bottom = base + 8;
        return iotca_html(b,
                          "<text class=\"empty\" x=\"%H\" y=\"%H\" font-size=\"12\" fill=\"#6b7280\">no leaf expires "
                          "in this window</text>\n</g>\n",
                          ui_num(PLOT_X0).s, ui_num(top + 22 + BAND_H / 2).s);
    }
    IOTCA_GUARD(iotca_html(b,
                           "<text class=\"band-scale\" x=\"8\" y=\"%H\" font-size=\"11\" fill=\"#374151\">up to %zu "
                           "a week</text>\n<line class=\"baseline\" x1=\"%H\" y1=\"%H\" x2=\"%H\" y2=\"%H\" "
                           "stroke=\"#9ca3af\"/>\n",
                           ui_num(top + 36).s, (size_t)(lp->max_total > SIZE_MAX ? SIZE_MAX : lp->max_total),
                           ui_num(PLOT_X0).s, ui_num(base).s, ui_num(PLOT_X1).s, ui_num(base).s));
    double stacked = 0;
    for (size_t k = 0; k < lp->n_segs; k++) {
        const seg *g = &lp->segs[k];
        if (k == 0 || lp->segs[k - 1].week != g->week) stacked = 0;
        double x = ui_x(s, g->week > t->start ? g->week : t->start);
        double w = ui_maxd(1, ui_x(s, ui_add(g->week, UI_WEEK) < t->end ? ui_add(g->week, UI_WEEK) : t->end) - x);
        double h = ui_maxd(1, (double)g->count * BAND_H /
                                  (double)lp->max_total); /* max_total > 0: only counts > 0 make segments */
        const char *name = profile_name(&t->weeks[g->i]);
        IOTCA_GUARD(iotca_html(b,
                               "<rect class=\"leaf-week\" x=\"%H\" y=\"%H\" width=\"%H\" height=\"%H\" fill=\"%H\">"
                               "<title>%zu %H of profile %s %H in the week of %T</title></rect>\n",
                               ui_num(x).s, ui_num(base - stacked - h).s, ui_num(w).s, ui_num(h).s, ui_colour(g->pid),
                               (size_t)g->count, g->count == 1 ? "leaf" : "leaves", *name ? name : "(no profile)",
                               g->count == 1 ? "expires" : "expire", g->week));
        stacked += h;
    }
    *bottom = base + 12;
    IOTCA_GUARD(leaf_legend(b, t, lp, bottom));
    return iotca_buf_append_str(b, "</g>\n");
}

/* ---- the picture ---- */

/* The caller's mistakes, refused before anything is drawn. */
static iotca_rc timeline_check(const iotca_timeline *t, const iotca_buf *out) {
    IOTCA_ENSURE(t != NULL && out != NULL, IOTCA_E_USAGE, "timeline: no timeline or no buffer");
    IOTCA_ENSURE(t->start < t->end, IOTCA_E_USAGE, "timeline: the window must start before it ends");
    IOTCA_ENSURE(t->n_bars <= MAX_BARS, IOTCA_E_USAGE, "timeline: %zu rows, at most %d", t->n_bars, MAX_BARS);
    IOTCA_ENSURE(t->n_weeks <= MAX_WEEKS, IOTCA_E_USAGE, "timeline: %zu weeks, at most %d", t->n_weeks, MAX_WEEKS);
    IOTCA_ENSURE(t->bars != NULL || t->n_bars == 0, IOTCA_E_USAGE, "timeline: %zu rows but no array", t->n_bars);
    IOTCA_ENSURE(t->weeks != NULL || t->n_weeks == 0, IOTCA_E_USAGE, "timeline: %zu weeks but no array", t->n_weeks);
    for (size_t i = 0; i < t->n_bars; i++)
        IOTCA_ENSURE(t->bars[i].to >= t->bars[i].from, IOTCA_E_USAGE,
                     "timeline: row %zu ('%.64s') ends before it starts", i, t->bars[i].label ? t->bars[i].label : "");
    return IOTCA_OK;
}

iotca_rc iotca_timeline_svg(const iotca_timeline *t, iotca_buf *out) {
    IOTCA_GUARD(timeline_check(t, out));
    iotca_rc rc = IOTCA_OK;
    iotca_buf body = {0}, title = {0};
    leaf_plan lp = {0};
    ui_scale s = {t->start, t->end, PLOT_X0, PLOT_X1};
    double band_top = TOP + rows_height(t) + 8, bottom = 0;
    IOTCA_TRY(leaf_plan_make(t, &lp));
    /* in painting order: grid under the bars, the lines over bars and band */
    IOTCA_TRY(axis(&body, &s, band_top + 22 + BAND_H));
    IOTCA_TRY(rows(&body, t, &s));
    IOTCA_TRY(leaf_band(&body, t, &s, &lp, band_top, &bottom));
    IOTCA_TRY(mark_lines(&body, t, &s, band_top + 22 + BAND_H));
    IOTCA_TRY(iotca_html(&title, "Expiry timeline from %T to %T: %zu certificates, leaf expiries per week", t->start,
                         t->end, t->n_bars));
    IOTCA_TRY(iotca_buf_cstr(&title));
    IOTCA_TRY(ui_svg(out, "iotca-timeline", "iotca-timeline-title", (const char *)title.data, bottom + 8, &body));
out:
    leaf_plan_free(&lp);
    iotca_buf_free(&body);
    iotca_buf_free(&title);
    return rc;
}
