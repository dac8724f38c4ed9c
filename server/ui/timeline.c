/* The timeline page (admin): roots, cross-signs and issuers over time with their activations, and the leaf
 * expiries of each week by profile, drawn on the server as one SVG (lib/ui), with today and the 30, 60 and
 * 180-day lines. ?years=N (1 to 30, default 3) sets how far ahead it looks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotca/ca_dashboard.h"
#include "ui.h"

#define DAY 86400L
#define WEEK (7 * DAY)
#define MAX_ANCHORS 32

/* The picture's rows: roots and cross-signs (named for both roots: a cross-certificate has the subject of the
 * root it certifies), then each issuer with a certificate (by group). */
static size_t bars_of(const iotca_ca_anchor *a, size_t na, const iotca_issuer_rec *is, size_t ni, iotca_tl_bar *bars,
                      char labels[][600]) {
    size_t n = 0;
    for (size_t i = 0; i < na; i++) {
        if (a[i].cross)
            snprintf(labels[i], sizeof labels[i], "%s cross-signed by %s", a[i].subject_cn, a[i].issuer_cn);
        else
            snprintf(labels[i], sizeof labels[i], "%s", a[i].subject_cn);
        bars[n++] = (iotca_tl_bar){.kind = a[i].cross ? IOTCA_TL_CROSS : IOTCA_TL_ROOT,
                                   .label = labels[i],
                                   .from = a[i].not_before,
                                   .to = a[i].not_after};
    }
    for (size_t i = 0; i < ni; i++) {
        if (is[i].cert.len == 0 || is[i].state == IOTCA_ISSUER_ABANDONED) continue;
        bars[n++] = (iotca_tl_bar){.kind = IOTCA_TL_ISSUER,
                                   .label = is[i].name,
                                   .state = iotca_issuer_state_name(is[i].state),
                                   .group = is[i].group,
                                   .from = is[i].not_before,
                                   .to = is[i].not_after,
                                   .active_at = is[i].activate_at};
    }
    return n;
}

void ui_timeline(request *r, const char *const *p, response *out) {
    (void)p;
    ui_ctx ctx;
    if (!ui_begin(r, out, IOTCA_ROLE_ADMIN, NULL, &ctx)) return;
    long years;
    if (!ui_query_number(r, out, &ctx, "years", 1, 30, 3, &years)) return;
    time_t now = time(NULL), start = now - 60 * DAY, end = now + years * 365 * DAY;
    time_t since = start - start % WEEK;
    iotca_ca_anchor anchors[MAX_ANCHORS];
    size_t na = 0, ni = 0, nw = 0;
    iotca_ca_anchors(r->srv->ca, anchors, MAX_ANCHORS, &na);
    iotca_issuer_rec *is = NULL;
    iotca_week_count *wk = NULL;
    iotca_tl_bar *bars = NULL;
    iotca_tl_week *weeks = NULL;
    char(*labels)[600] = NULL;
    iotca_buf b = {0}, svg = {0};
    ui_page_start(&b, &ctx, "Timeline", "/ui/timeline");
    iotca_html(&b,
               "<h1>Timeline</h1><p class=\"muted\">From %T to %T (<a href=\"/ui/timeline?years=1\">1 year</a>, "
               "<a href=\"/ui/timeline?years=3\">3 years</a>, <a href=\"/ui/timeline?years=10\">10 years</a>, "
               "<a href=\"/ui/timeline?years=30\">30 years</a>).</p><section id=\"timeline\">",
               start, end);
    if (iotca_ca_issuers(r->srv->ca, &is, &ni) != IOTCA_OK ||
        iotca_ca_weekly(r->srv->ca, IOTCA_WEEKLY_EXPIRING, since, (size_t)((end - since) / WEEK + 1), &wk, &nw) !=
            IOTCA_OK) {
        ui_unreadable(&b, r, "The issuers and leaf expiries");
        goto send;
    }
    bars = calloc(na + ni + 1, sizeof *bars);
    weeks = calloc(nw + 1, sizeof *weeks);
    labels = calloc(na + 1, sizeof *labels);
    if (bars == NULL || weeks == NULL || labels == NULL) {
        ui_unreadable(&b, r, "The timeline");
        goto send;
    }
    for (size_t i = 0; i < nw; i++)
        weeks[i] =
            (iotca_tl_week){.profile = wk[i].profile, .week = since + (time_t)wk[i].week * WEEK, .count = wk[i].n};
    iotca_timeline t = {.now = now,
                        .start = start,
                        .end = end,
                        .bars = bars,
                        .n_bars = bars_of(anchors, na, is, ni, bars, labels),
                        .weeks = weeks,
                        .n_weeks = nw};
    if (iotca_timeline_svg(&t, &svg) != IOTCA_OK || iotca_buf_cstr(&svg) != IOTCA_OK) {
        ui_unreadable(&b, r, "The timeline");
        goto send;
    }
    iotca_html(&b, "%H", (const char *)svg.data);
    unsigned long leaves = 0;
    for (size_t i = 0; i < nw; i++) leaves += wk[i].n;
    iotca_html(&b, "<p class=\"muted\" id=\"leaf-total\">%ld valid leaves expire in this window.</p>", (long)leaves);
send:
    iotca_html(&b, "</section>");
    ui_page_send(out, 200, &b);
    iotca_buf_free(&svg);
    free(bars);
    free(weeks);
    free(labels);
    free(wk);
    iotca_issuer_recs_free(is, ni);
}
